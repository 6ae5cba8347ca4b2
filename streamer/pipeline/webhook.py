"""``--alert-webhook URL``: POST every alert as JSON, in the background.

The track stage only calls :meth:`WebhookSender.submit`, which never waits:
the alert goes into a bounded queue (when full it is dropped and counted),
and a few sender tasks on the event loop deliver it. Each delivery has a
timeout and is retried with exponential backoff on connection errors,
timeouts, 5xx, 408 and 429; other 4xx answers and any redirect (never followed,
so a receiver cannot point the worker at another host) are final. Every outcome is
counted (``webhook.*`` counters in ``/stats``) and failures are logged.

Delivery is at least once: after a crash the restarted tracker raises the
alerts its checkpoint did not cover again, with the same ``alert_id``
(receivers dedupe on it). Alerts still queued when the worker stops are not
delivered (they are in Kafka ``alerts`` and ClickHouse).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger(__name__)

#: Answers worth retrying besides 5xx: request timeout, rate limited.
RETRY_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class WebhookSettings:
    """Where and how hard to try."""

    url: str
    #: Seconds for one POST, connect to last byte.
    timeout_s: float = 5.0
    #: Tries per alert, the first included (then 0.5, 1, 2, 4 s apart).
    attempts: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    #: Alerts waiting for delivery; beyond this new ones are dropped (counted).
    queue_size: int = 1000
    #: Deliveries in flight at once, so one slow alert does not hold the rest.
    concurrency: int = 2

    def __post_init__(self) -> None:
        check_url(self.url)
        if self.timeout_s <= 0 or self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("webhook timeout must be > 0 and backoffs >= 0")
        if self.attempts < 1 or self.queue_size < 1 or self.concurrency < 1:
            raise ValueError("webhook attempts, queue_size and concurrency must be >= 1")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, else raise ``ValueError``."""
    bad = ValueError(f"webhook URL must be http(s)://host[:port]/path, got {url!r}")
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        raise bad
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise bad
    try:
        u.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise bad from None
    return url


class WebhookSender:
    """A bounded queue and sender tasks; ``submit`` from the event loop's thread."""

    def __init__(
        self, settings: WebhookSettings, bump: Callable[[str, int], None] | None = None
    ) -> None:
        self.settings = settings
        self.counts: Counter[str] = Counter()
        self._bump = bump
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(settings.queue_size)
        self._busy = 0

    def _count(self, name: str, n: int = 1) -> None:
        self.counts[name] += n
        if self._bump is not None:
            self._bump(f"webhook.{name}", n)

    def submit(self, alert: dict[str, Any]) -> bool:
        """Queue one alert for delivery; never waits. False when it was dropped."""
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            self._count("dropped")
            log.warning(
                "webhook: queue full (%d); dropped alert %s",
                self.settings.queue_size,
                alert.get("alert_id"),
            )
            return False
        self._count("queued")
        return True

    def stats(self) -> dict[str, Any]:
        """Counters plus what is waiting and in flight (``/stats``)."""
        return {
            "url": self.settings.url,
            **{k: self.counts[k] for k in ("queued", "sent", "retries", "failed", "dropped")},
            "waiting": self._queue.qsize(),
            "in_flight": self._busy,
        }

    async def run(self) -> None:
        """Deliver until cancelled (a Faust app task)."""
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            workers = [
                asyncio.ensure_future(self._work(session)) for _ in range(self.settings.concurrency)
            ]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in workers:
                    w.cancel()
                for w in workers:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await w

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight (at most ``timeout`` s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._queue.qsize() or self._busy:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _work(self, session: Any) -> None:
        while True:
            alert = await self._queue.get()
            self._busy += 1
            try:
                await self._deliver(session, alert)
            except Exception:  # a bug here must not end the sender
                log.exception("webhook: delivering alert %s failed", alert.get("alert_id"))
                self._count("failed")
            finally:
                self._busy -= 1
                self._queue.task_done()

    async def _deliver(self, session: Any, alert: dict[str, Any]) -> None:
        s = self.settings
        alert_id = str(alert.get("alert_id", ""))
        headers = {"User-Agent": "topictrack", "X-Topictrack-Alert-Id": alert_id}
        why = ""
        for attempt in range(1, s.attempts + 1):
            try:
                # Redirects are never followed: a receiver could otherwise point the
                # worker at any host (another service, a cloud metadata address).
                async with session.post(
                    s.url, json=alert, headers=headers, allow_redirects=False
                ) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        self._count("sent")
                        return
                    why = f"HTTP {resp.status}"
                    if 300 <= resp.status < 400:
                        where = resp.headers.get("Location", "?")
                        why += f" redirect to {where} (redirects are not followed)"
                    if resp.status < 500 and resp.status not in RETRY_STATUS:
                        break  # the receiver refuses this alert: retrying will not help
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if attempt < s.attempts:
                self._count("retries")
                log.info("webhook: alert %s: %s; retry %d", alert_id, why, attempt)
                await asyncio.sleep(s.delay(attempt))
        self._count("failed")
        log.warning(
            "webhook: gave up on alert %s after %d tr%s: %s",
            alert_id,
            attempt,
            "y" if attempt == 1 else "ies",
            why,
        )
