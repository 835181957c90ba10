# The two commands a newcomer runs: `make chat` and `make test`.
# Both create .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_MODEL := $(abspath ../shared/models/all-MiniLM-L6-v2/onnx)

# Use the shared offline model folder when it is there; elsewhere Chroma's own download.
ifneq ($(wildcard $(SHARED_MODEL)/model.onnx),)
export BOT_EMBEDDING_MODEL_DIR ?= $(SHARED_MODEL)
endif

.PHONY: chat test lint eval bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

chat: $(BIN)/.installed
	$(BIN)/python app.py

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

eval: $(BIN)/.installed
	$(BIN)/python -m bot eval

bench: $(BIN)/.installed
	$(BIN)/python -m bot bench
