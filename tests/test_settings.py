"""A malformed setting stops `faq-bot` (every command) and `python app.py` with one line,
`error: ...`, naming the setting and what it accepts: a non-zero exit, no traceback,
and never the value of a secret. Arguments given in code are checked the same way."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bot
from bot.answering import backend_class
from bot.errors import ConfigurationError, InvalidArgumentError
from bot.settings import BACKEND_NAMES, Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-value-7e1d"


def bad(name: str, value: str, accepts: str, **more: str) -> pytest.ParameterSet:
    return pytest.param({name: value, **more}, name, accepts, id=f"{name}={value!r}")


BAD_SETTINGS = [
    bad("BOT_AUTH", ":pw", "user:password"),
    bad("BOT_AUTH", "reader", "user:password"),
    bad("BOT_AUTH", "reader:", "user:password"),
    bad("GRADIO_SERVER_PORT", "abc", "whole number from 1 to 65535"),
    bad("GRADIO_SERVER_PORT", "99999", "whole number from 1 to 65535"),
    bad("CHROMA_PORT", "0", "whole number from 1 to 65535"),
    bad("BOT_TIMEOUT", "inf", "number from 0.1 to 3600"),
    bad("BOT_TIMEOUT", "nan", "number from 0.1 to 3600"),
    bad("BOT_TIMEOUT", "-1", "number from 0.1 to 3600"),
    bad("BOT_MAX_TOKENS", "1e3", "whole number from 16"),
    bad("BOT_MAX_RETRIES", "11", "whole number from 0 to 10"),
    bad("BOT_TOP_K", "0", "whole number from 1 to 50"),
    bad("BOT_MAX_QUESTION_CHARS", "lots", "whole number from 1"),
    bad("BOT_HISTORY_TOKENS", "-5", "whole number from 0"),
    bad("BOT_CONCURRENCY", "0", "whole number from 1"),
    bad("BOT_RATE_LIMIT", "1.5", "whole number from 0"),
    bad("CHROMA_SSL", "maybe", "true or false"),
    bad("BOT_BACKEND", "gpt", "auto, offline, claude, bedrock"),
    bad("BOT_MODEL", "claude sonnet", "without spaces"),
    bad("BOT_MODEL", "claude\x01", "control characters"),
    bad("ANTHROPIC_BASE_URL", "api.anthropic.com", "http:// or https:// URL"),
    bad("ANTHROPIC_BASE_URL", "http://", "with a host"),
    bad("ANTHROPIC_BASE_URL", "http://localhost:99999", "port from 1 to 65535"),
    bad("ANTHROPIC_BASE_URL", "https://api.anthropic .com", "http:// or https:// URL"),
    bad("ANTHROPIC_BEDROCK_BASE_URL", "bedrock.local", "http:// or https:// URL"),
    bad("ANTHROPIC_API_KEY", f"{SECRET} pasted twice", "no HTTP header can carry"),
    bad("ANTHROPIC_API_KEY", f"{SECRET}\u00e9", "non-ASCII"),
    bad("AWS_BEARER_TOKEN_BEDROCK", f"{SECRET}\x7f", "control character"),
    bad("CHROMA_AUTH_TOKEN", f"Bearer {SECRET}", "a space"),
    bad("CHROMA_AUTH_HEADER", "X-Api-Key", "Authorization, X-Chroma-Token"),
    bad("CHROMA_HOST", "http://localhost", "without http://"),
    bad("CHROMA_HOST", "localhost:8000", "CHROMA_PORT"),
    bad("AWS_REGION", "us east 1", "such as us-east-1"),
    bad("AWS_DEFAULT_REGION", "Frankfurt", "such as us-east-1"),
]


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder path that is a loop of symbolic links."""
    folder = tmp_path_factory.mktemp("loop")
    (folder / "a").symlink_to(folder / "b")
    (folder / "b").symlink_to(folder / "a")
    return folder / "a"


LOOPED = ["BOT_KNOWLEDGE_DIR", "BOT_DATA_DIR", "BOT_EMBEDDING_MODEL_DIR"]


def one_line_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env,name,accepts", BAD_SETTINGS)
def test_a_malformed_setting_is_refused_naming_it_and_what_it_accepts(
    env: dict[str, str], name: str, accepts: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)

    setting = "AWS_REGION" if name == "AWS_DEFAULT_REGION" else name
    assert caught.value.setting == setting and name in caught.value.message
    assert accepts in caught.value.message and SECRET not in caught.value.message


@pytest.mark.parametrize("env,name,accepts", BAD_SETTINGS)
def test_faq_bot_stops_with_one_line_for_a_malformed_setting(
    env: dict[str, str], name: str, accepts: str
) -> None:
    line = one_line_error(run(["-m", "bot", "ask", "How much is Amazon investing?"], env))

    assert name in line and accepts in line and SECRET not in line


@pytest.mark.parametrize("env,name,accepts", BAD_SETTINGS)
def test_app_py_stops_with_one_line_for_a_malformed_setting(
    env: dict[str, str], name: str, accepts: str
) -> None:
    line = one_line_error(run(["app.py"], env))

    assert name in line and accepts in line and SECRET not in line


@pytest.mark.parametrize("name", LOOPED)
@pytest.mark.parametrize("program", [["-m", "bot", "ask", "What happened?"], ["app.py"]],
                         ids=["faq-bot", "app.py"])
def test_a_folder_that_is_a_loop_of_symbolic_links_stops_with_one_line(
    loop: Path, name: str, program: list[str]
) -> None:
    line = one_line_error(run(program, {name: str(loop)}))

    assert name in line and "loop of symbolic links" in line
    assert str(loop) not in line  # server paths stay off anything a page could show


@pytest.mark.parametrize("command", [["index"], ["eval"], ["bench"], ["ask", "Why?"]])
def test_every_faq_bot_command_stops_at_a_malformed_setting_before_any_work(
    command: list[str],
) -> None:
    line = one_line_error(run(["-m", "bot", *command], {"BOT_TIMEOUT": "nan"}))

    assert "BOT_TIMEOUT" in line and "number from 0.1 to 3600" in line


@pytest.mark.parametrize("env", [
    {"CHROMA_HOST": "[::1]"}, {"CHROMA_HOST": "chroma.internal"},
    {"AWS_REGION": "eu-central-1"}, {"AWS_REGION": "us-gov-west-1"},
    {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080/proxy/"},
    {"ANTHROPIC_BEDROCK_BASE_URL": "https://bedrock-runtime.eu-central-1.amazonaws.com"},
    {"BOT_MODEL": "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.x-v1:0"},
    {"BOT_BACKEND": " Claude "}, {"BOT_TIMEOUT": "2.5"}, {"CHROMA_SSL": "yes"},
], ids=lambda env: ",".join(f"{k}={v}" for k, v in env.items()))
def test_well_formed_settings_are_taken_as_given(env: dict[str, str]) -> None:
    Settings.from_env(env)


def test_every_backend_name_settings_accept_has_a_backend_behind_it() -> None:
    for name in BACKEND_NAMES:
        if name != "auto":
            assert backend_class(name).name == name


@pytest.mark.parametrize("k", ["3", 2.5, True, 0, -1])
def test_retrieve_with_a_k_that_is_not_a_whole_number_of_one_or_more_is_an_invalid_argument(
    k: object,
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        bot.retrieve("How much is Amazon investing?", k=k)  # type: ignore[arg-type]

    assert caught.value.argument == "k" and repr(k) in caught.value.message


def test_app_py_stops_with_one_line_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
               "BOT_BACKEND": "offline", "BOT_DATA_DIR": str(tmp_path)}
        line = one_line_error(run(["app.py"], env))
    assert f"Port {port} on 127.0.0.1 is already in use" in line and "GRADIO_SERVER_PORT" in line


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1"])
def test_app_py_stops_with_one_line_for_an_address_it_cannot_listen_on(
    host: str, tmp_path: Path
) -> None:
    env = {"GRADIO_SERVER_NAME": host, "BOT_BACKEND": "offline", "BOT_DATA_DIR": str(tmp_path)}
    line = one_line_error(run(["app.py"], env))
    assert "GRADIO_SERVER_NAME" in line and "127.0.0.1" in line
