"""Who can reach the chat, and what they can cost: loopback unless told otherwise, a loud
warning for a public address without a login, a rate limit that keeps questions from
reaching Claude, and logs that keep lengths and timings but no question and no key.

Servers bound to 0.0.0.0 here are only ever reached through 127.0.0.1.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_process import AppProcess, free_port
from gradio_client import Client
from soak import ask
from stand_in import FAKE_KEY
from upstream import Upstream, error_reply

import bot
from bot.errors import AuthenticationError, ConfigurationError
from bot.presentation.server import serve
from bot.presentation.webapp import build_demo
from bot.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")
OFFLINE = {"BOT_BACKEND": "offline"}
WARNING = "Warning: serving on"


def listening_on(port: int) -> set[str]:
    """The local addresses with a socket listening on `port`, read from /proc (no traffic)."""
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / table
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # /proc writes each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(family, words))
    return found


@pytest.mark.slow
def test_by_default_the_app_listens_on_loopback_only_and_warns_of_nothing() -> None:
    with AppProcess(env=OFFLINE, host=None) as app:
        assert listening_on(app.port) == {"127.0.0.1"}
        assert "$5 billion" in ask(app.url, "How much is Amazon investing?", timeout=60)
    assert WARNING not in "".join(app.output)


@pytest.mark.slow
def test_a_public_bind_without_bot_auth_warns_loudly_and_names_the_fix() -> None:
    with AppProcess(env=OFFLINE, host="0.0.0.0") as app:
        assert listening_on(app.port) == {"0.0.0.0"}
    output = "".join(app.output)
    assert f"{WARNING} 0.0.0.0" in output and "BOT_AUTH=user:password" in output


@pytest.mark.slow
def test_a_public_bind_with_bot_auth_needs_a_login_and_does_not_warn() -> None:
    with AppProcess(env={**OFFLINE, "BOT_AUTH": "reader:s3cret-pass"}, host="0.0.0.0") as app:
        assert httpx.get(app.url + "config", timeout=10).status_code == 401
        client = Client(app.url, auth=("reader", "s3cret-pass"), verbose=False)
        assert "$5 billion" in client.predict("How much is Amazon investing?", api_name="/chat")
    output = "".join(app.output)
    assert WARNING not in output and "s3cret-pass" not in output


@pytest.fixture
def limited_app(claude_api: Upstream) -> Iterator[str]:
    """The chat in this process, Claude behind it, two questions a minute per client."""
    settings = Settings.from_env(rate_limit=2)
    demo = build_demo(settings)
    try:
        yield serve(demo, settings, port=free_port(), block=False)
    finally:
        demo.close()


def test_over_the_rate_limit_a_question_is_refused_clearly_and_never_reaches_claude(
    limited_app: str, claude_api: Upstream
) -> None:
    client = Client(limited_app, verbose=False)
    replies = [client.predict(f"How much is Amazon investing? ({n})", api_name="/chat")
               for n in range(3)]

    assert all("Sources (1)" in reply for reply in replies[:2])
    assert "You've asked 2 questions in the last minute" in replies[2]
    assert "Please wait" in replies[2]
    assert len(claude_api.requests) == 2  # the API budget paid for two questions, not three


def test_the_log_keeps_each_questions_length_and_timing_but_not_its_text_or_the_key(
    claude_api: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    question = "How much is Amazon investing, asks Zebediah Quartermaine?"
    claude_api.enqueue(error_reply(401, "authentication_error", f"bad key {FAKE_KEY}"))
    with caplog.at_level(logging.INFO):
        with pytest.raises(AuthenticationError):
            bot.answer(question, backend="claude")
        bot.answer(question, backend="claude")

    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(f"failed backend=claude question_chars={len(question)}" in line
               and "error=AuthenticationError" in line for line in lines)
    assert any(f"answered backend=claude question_chars={len(question)}" in line
               and "total_ms=" in line for line in lines)
    assert not [line for line in lines if "Zebediah" in line or FAKE_KEY in line]


def forwarded_clients_asking_twice(**changes: object) -> tuple[str, str]:
    """Two clients named only by X-Forwarded-For ask once each, then the first again, with a
    limit of one question a minute; the first client's second reply."""
    settings = Settings.from_env(backend="offline", rate_limit=1, **changes)
    demo = build_demo(settings)
    try:
        url = serve(demo, settings, port=free_port(), block=False)
        first, second = (Client(url, verbose=False, headers={"X-Forwarded-For": address})
                         for address in ("203.0.113.1", "203.0.113.2"))
        assert "$5 billion" in first.predict("How much is Amazon investing?", api_name="/chat")
        second_reply = second.predict("How much is Amazon investing?", api_name="/chat")
        again = first.predict("What are Trainium chips?", api_name="/chat")
    finally:
        demo.close()
    return second_reply, again


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate_limit() -> None:
    # nginx on the same machine (docs/deploying.md) connects from 127.0.0.1 and names the
    # real client in X-Forwarded-For; the documentation-range addresses are only strings.
    second, again = forwarded_clients_asking_twice(trusted_proxies="127.0.0.1,::1")
    assert "$5 billion" in second
    assert "You've asked 1 question in the last minute" in again


def test_x_forwarded_for_is_not_believed_from_a_proxy_nobody_named() -> None:
    second, again = forwarded_clients_asking_twice()
    # Both "clients" are the one loopback connection: the second is already over the limit.
    assert "You've asked 1 question in the last minute" in second
    assert "You've asked" in again


def test_bot_trusted_proxies_takes_addresses_and_networks_only() -> None:
    assert Settings.from_env({"BOT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1"})
    with pytest.raises(ConfigurationError, match="BOT_TRUSTED_PROXIES has 'nginx'"):
        Settings.from_env({"BOT_TRUSTED_PROXIES": "127.0.0.1,nginx"})
