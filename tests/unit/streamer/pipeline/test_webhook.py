"""The alert webhook against a real local HTTP server (aiohttp on a free port)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from streamer.pipeline.webhook import WebhookSender, WebhookSettings, check_url


def alert(i: int) -> dict:
    return {"alert_id": f"id-{i}", "stream": "s", "topic_id": i, "kind": "new", "score": 1.5}


class Receiver:
    """An HTTP server answering each POST with the next status of ``script`` (then 200)."""

    def __init__(self, script: list[int] | None = None, hang: bool = False) -> None:
        self.script = list(script or [])
        self.hang = hang
        self.bodies: list[dict] = []
        self.hits = 0
        self.headers: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.hang:
            await asyncio.sleep(3600)
        self.headers.append(dict(request.headers))
        status = self.script.pop(0) if self.script else 200
        if status == 200:
            self.bodies.append(await request.json())
        return web.Response(status=status, text="ok" if status == 200 else "no")

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


class Redirector(Receiver):
    """Answers every POST with a 307 to ``target`` (which keeps the method and body)."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        raise web.HTTPTemporaryRedirect(self.target)


async def _with_sender(settings: WebhookSettings, body) -> WebhookSender:
    bumped: list[tuple[str, int]] = []
    sender = WebhookSender(settings, bump=lambda k, n: bumped.append((k, n)))
    task = asyncio.ensure_future(sender.run())
    try:
        await body(sender)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    sender.bumped = bumped
    return sender


def test_alerts_are_posted_as_json():
    async def main():
        rx = Receiver()
        async with rx as url:

            async def body(sender):
                for i in range(3):
                    assert sender.submit(alert(i))
                assert await sender.drain(5)

            sender = await _with_sender(WebhookSettings(url), body)
        assert sorted(b["alert_id"] for b in rx.bodies) == ["id-0", "id-1", "id-2"]
        assert rx.bodies[0] == alert(0) or alert(0) in rx.bodies
        assert {h["X-Topictrack-Alert-Id"] for h in rx.headers} == {"id-0", "id-1", "id-2"}
        assert rx.headers[0]["Content-Type"].startswith("application/json")
        assert sender.stats()["sent"] == 3 and sender.stats()["failed"] == 0
        assert ("webhook.sent", 1) in sender.bumped

    asyncio.run(main())


def test_a_500_is_retried_with_backoff():
    async def main():
        rx = Receiver(script=[500, 503])
        async with rx as url:

            async def body(sender):
                sender.submit(alert(1))
                assert await sender.drain(5)

            t0 = time.monotonic()
            sender = await _with_sender(WebhookSettings(url, backoff_s=0.1), body)
            waited = time.monotonic() - t0
        assert rx.hits == 3 and [b["alert_id"] for b in rx.bodies] == ["id-1"]
        s = sender.stats()
        assert s["sent"] == 1 and s["retries"] == 2 and s["failed"] == 0
        assert waited >= 0.1 + 0.2  # exponential: 0.1 s then 0.2 s

    asyncio.run(main())


def test_giving_up_is_counted_and_a_4xx_is_not_retried():
    async def main():
        rx = Receiver(script=[500, 500, 500, 400])
        async with rx as url:

            async def body(sender):
                sender.submit(alert(1))
                assert await sender.drain(5)
                sender.submit(alert(2))  # answered 400: final at once
                assert await sender.drain(5)

            settings = WebhookSettings(url, attempts=3, backoff_s=0.01)
            sender = await _with_sender(settings, body)
        s = sender.stats()
        assert rx.hits == 4 and rx.bodies == []
        assert s["failed"] == 2 and s["retries"] == 2 and s["sent"] == 0

    asyncio.run(main())


def test_a_redirect_to_another_host_is_never_followed():
    async def main():
        target = Receiver()
        async with target as target_url:
            redirector = Redirector(target_url)
            async with redirector as url:

                async def body(sender):
                    sender.submit(alert(1))
                    assert await sender.drain(5)

                sender = await _with_sender(WebhookSettings(url, attempts=3), body)
        assert redirector.hits == 1 and target.hits == 0
        assert sender.stats()["failed"] == 1 and sender.stats()["retries"] == 0

    asyncio.run(main())


def test_an_unreachable_webhook_gives_up():
    async def main():
        from streamer.kafka.broker import free_port

        url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there

        async def body(sender):
            sender.submit(alert(1))
            assert await sender.drain(5)

        sender = await _with_sender(WebhookSettings(url, attempts=2, backoff_s=0.01), body)
        assert sender.stats()["failed"] == 1 and sender.stats()["retries"] == 1

    asyncio.run(main())


def test_a_dead_webhook_never_slows_the_caller():
    """A receiver that never answers: submits stay instant, extras are dropped, the loop runs."""

    async def main():
        rx = Receiver(hang=True)
        async with rx as url:
            settings = WebhookSettings(
                url, timeout_s=0.3, attempts=2, backoff_s=0.05, queue_size=20
            )

            async def body(sender):
                # submit() is plain synchronous code: it never awaits the
                # receiver, so the caller cannot be held up by it, only the
                # bounded queue decides what is kept. (No wall-clock bound here:
                # speed is measured in benchmarks, and this machine is shared.)
                accepted = sum(sender.submit(alert(i)) for i in range(5000))
                assert accepted == 20
                assert sender.stats()["dropped"] == 4980
                # While a send waits on the dead receiver, the loop stays free: a
                # stand-in track stage ticks 20 times and the send is still in
                # flight (a send that blocked the loop would be over by then).
                for _ in range(20):
                    await asyncio.sleep(0.005)
                assert sender.stats()["in_flight"] >= 1

            sender = await _with_sender(settings, body)
            assert rx.hits >= 2
        assert sender.stats()["sent"] == 0

    asyncio.run(main())


def test_settings_are_checked():
    assert check_url("https://example.org/x") == "https://example.org/x"
    for bad in (
        "ftp://x/y",
        "example.org/hook",
        "http:///nohost",
        "http://h:99999/x",
        "http://h/a b",
        "http://h/\x00",
        "javascript:alert(1)",
    ):
        with pytest.raises(ValueError, match="webhook URL"):
            WebhookSettings(bad)
    with pytest.raises(ValueError):
        WebhookSettings("http://h/x", attempts=0)
    s = WebhookSettings("http://h/x", backoff_s=0.5, max_backoff_s=3)
    assert [s.delay(k) for k in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]
