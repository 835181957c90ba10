"""How the page is served: where it listens, who may use it, and how much at once.

`serve()` launches a Blocks page on GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (as
Settings read them; loopback by default), with Gradio's login when BOT_AUTH is set,
and answers BOT_CONCURRENCY questions side by side. `client_key` says who is
asking, for the per-client limits.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys

import gradio as gr

from ..errors import ConfigurationError
from ..settings import Settings, get_settings
from .style import CSS, theme


def client_key(request: gr.Request | None) -> str:
    """Who is asking, for the rate limit: the login name, else the client address."""
    if request is None:
        return "anonymous"
    if request.username:
        return f"user:{request.username}"
    if request.client is not None and request.client.host:
        return f"host:{request.client.host}"
    return f"session:{request.session_hash}"


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """BOT_AUTH as Gradio's (user, password); `Settings.check` has made sure it has both."""
    if auth is None:
        return None
    user, _, password = auth.partition(":")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """What to warn about before serving on `host`."""
    if is_loopback(host) or auth is not None:
        return None
    return (
        f"Warning: serving on {host}, reachable from other machines, with no login. "
        "Set BOT_AUTH=user:password to require one, or bind to 127.0.0.1."
    )


def check_bind(host: str, port: int) -> None:
    """Raise a `ConfigurationError` naming the setting to change if `host:port` cannot be
    listened on; Gradio would only say "Cannot find empty port", with a traceback."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ConfigurationError(
            f"GRADIO_SERVER_NAME={host} is not a name or address this machine can listen "
            "on: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
            setting="GRADIO_SERVER_NAME",
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"Port {port} on {host} is already in use (another copy of the app?): "
                    "stop it, or set GRADIO_SERVER_PORT to a free port.",
                    setting="GRADIO_SERVER_PORT",
                ) from None
            raise ConfigurationError(
                f"Cannot listen on {host}:{port} ({error.strerror}): set GRADIO_SERVER_NAME "
                "to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0.",
                setting="GRADIO_SERVER_NAME",
            ) from None


def serve(
    demo: gr.Blocks,
    settings: Settings | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> str:
    """Launch `demo` and print its address; returns the local URL.

    `host` and `port` default to GRADIO_SERVER_NAME / GRADIO_SERVER_PORT as Settings
    read them (127.0.0.1:7860). With `block=False` it returns once the server is up.
    """
    settings = settings or get_settings()
    host = host or settings.server_name
    port = port or settings.server_port
    auth = parse_auth(settings.auth)
    check_bind(host, port)
    # Uvicorn reads whose X-Forwarded-For to believe from this variable when Gradio builds
    # its server (Gradio has no parameter for it); uvicorn's own default trusts loopback,
    # so any local process could choose the address a rate limit counts.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(
        p.strip() for p in settings.trusted_proxies.split(",") if p.strip())
    if (warning := bind_warning(host, auth)) is not None:
        print(warning, file=sys.stderr, flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to ask your questions.",
        # Room for every concurrent answer, plus the page's small events.
        max_threads=max(40, 3 * settings.concurrency),
        prevent_thread_lock=True,
        quiet=True,
        footer_links=["api"],
        theme=theme(),
        css=CSS,
    )
    url = demo.local_url or f"http://{host}:{port}/"
    print(f"Chat is running at {url} (press Ctrl+C to stop)", flush=True)
    if block:
        demo.block_thread()
    return url
