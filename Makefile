# The two commands a newcomer runs: `make chat` and `make test`.
# Both create .venv on first use: chat installs what chatting needs, test adds the
# dev extra (test tools, a browser driver, the Bedrock client). pip prints its progress.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_MODEL := $(abspath ../shared/models/all-MiniLM-L6-v2/onnx)
CHROMA_MODEL := $(HOME)/.cache/chroma/onnx_models/all-MiniLM-L6-v2/onnx

.PHONY: chat test lint eval bench model

$(BIN)/python:
	@echo "==> Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --progress-bar on --upgrade pip

# Stamps: each records that its set of packages is installed for this pyproject.toml.
$(VENV)/.chat: pyproject.toml | $(BIN)/python
	@echo "==> Installing the chat bot and what it needs (first time: a few minutes)"
	$(BIN)/pip install --progress-bar on -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	@echo "==> Installing the chat bot with its dev extra (test tools, Playwright, Bedrock)"
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	@touch $@ $(VENV)/.chat

# Without internet Chroma cannot download the embedding model; where a copy sits
# beside the project (../shared), put it in Chroma's cache, where every entry point
# (chat, faq-bot, Python) looks, just as Chroma's own download would.
model:
	@if [ ! -e "$(CHROMA_MODEL)" ] && [ -f "$(SHARED_MODEL)/model.onnx" ]; then \
		echo "==> Linking the embedding model from $(SHARED_MODEL) into Chroma's cache"; \
		mkdir -p "$(dir $(CHROMA_MODEL))" && ln -s "$(SHARED_MODEL)" "$(CHROMA_MODEL)"; \
	fi

chat: $(VENV)/.chat model
	$(BIN)/python app.py

test: $(VENV)/.dev model
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

eval: $(VENV)/.chat model
	$(BIN)/faq-bot eval

bench: $(VENV)/.chat model
	$(BIN)/faq-bot bench
