"""How long the Messages API asks a client to wait before it retries, and a cap on it.

The SDK sleeps for whatever retry-after says, an hour if asked. `refuse_long_waits`
makes an HTTP response hook that tells the SDK not to retry, through the
`x-should-retry` header the SDK documents, when the wait is longer than a person
asking a question would sit through; the error then says how long to wait.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx2

MAX_RETRY_WAIT = 10.0  # seconds; a longer retry-after is reported rather than waited for


def sdk_wait(headers: Any) -> float | None:
    """The wait the SDK takes from these headers: retry-after-ms first, then retry-after
    as seconds or as a date."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(headers.get(name)) / scale
        except (TypeError, ValueError):
            continue
    when = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return None if when is None else email.utils.mktime_tz(when) - time.time()


def retry_after(headers: Any) -> float | None:
    """The wait to show a person: whole seconds read better than the SDK's milliseconds."""
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 1000.0)):
        try:
            return float(headers.get(name)) / scale
        except (TypeError, ValueError):
            continue
    return None


def refuse_long_waits(limit: float) -> Callable[[httpx2.Response], None]:
    """A response hook that stops the SDK retrying when asked to wait more than `limit` s."""

    def hook(response: httpx2.Response) -> None:
        wait = sdk_wait(response.headers)
        if wait is not None and wait > limit:
            response.headers["x-should-retry"] = "false"

    return hook
