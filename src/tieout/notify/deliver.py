"""One message to one channel through apprise, retried with a doubling backoff; never raises."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    error: str | None


def channel_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def masked(url: str) -> str:
    """The URL as it may be stored and shown: apprise's privacy form (passwords and tokens masked)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://…"
    return str(plugin.url(privacy=True))


def deliver(url: str, title: str, body: str, *, retries: int, backoff: Decimal,
            sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Send `body` to `url`; try `retries` more times on failure, waiting backoff, 2×backoff, … between."""
    import apprise

    error: str | None = None
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        sender = apprise.Apprise()
        if not sender.add(url):
            return Delivery(False, attempts, "not a notification URL apprise understands")
        try:
            with apprise.LogCapture(level=apprise.logging.WARNING) as logs:
                ok = bool(sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
            said = [line for line in logs.getvalue().splitlines() if line.strip()]
        except Exception as e:  # a plugin bug must not take the run down with it
            ok, said = False, [f"{type(e).__name__}: {e}"]
        if ok:
            return Delivery(True, attempts, None)
        error = said[-1].split(" - ", 2)[-1] if said else "delivery failed"
        if attempt < retries:
            sleep(float(backoff) * 2 ** attempt)
    return Delivery(False, attempts, error)
