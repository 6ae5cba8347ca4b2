"""The embed stage's hand-off: outputs in order, input acked only once Kafka holds them."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import numpy as np

from streamer.pipeline.agents.acks import Held
from streamer.pipeline.agents.embed import Job, _start, deliver
from streamer.pipeline.codec import decode_embedded
from streamer.pipeline.runtime import Runtime


class FakeMessage:
    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset = "events", 0, offset
        self.refs = 1

    def incref(self) -> None:
        self.refs += 1


class FakeEvent:
    def __init__(self, offset: int, value: bytes) -> None:
        self.value, self.key = value, b"default"
        self.message = FakeMessage(offset)

    def ack(self) -> None:
        self.message.refs -= 1


def _events(n: int, start: int = 0, bad: tuple[int, ...] = ()) -> list[FakeEvent]:
    out = []
    for i in range(start, start + n):
        doc = {"id": f"e{i}", "ts": 1000 + i, "text": f"post number {i}"}
        out.append(FakeEvent(i, b"{broken" if i in bad else json.dumps(doc).encode()))
    return out


class FakePipeline:
    """What the stage uses of a Pipeline: counters, two topics, a delivery gate."""

    def __init__(self) -> None:
        self.runtime = Runtime(agents=frozenset({"embed"}))
        self.sent: list[tuple[str, bytes]] = []
        self.gate = asyncio.Event()  # Kafka "holds" a message once the gate opens
        self.tasks: list[asyncio.Task] = []
        self.topics = SimpleNamespace(embedded=SimpleNamespace(send=self._send_embedded))

    async def _delivery(self) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()

        async def later() -> None:
            await self.gate.wait()
            fut.set_result(None)

        self.tasks.append(asyncio.ensure_future(later()))
        return fut

    async def _send_embedded(self, key: bytes, value: bytes) -> asyncio.Future:
        self.sent.append(("embedded", value))
        return await self._delivery()

    async def send_dead_letter(self, raw, reason, stage, event) -> asyncio.Future:
        self.sent.append(("dead-letter", raw))
        return await self._delivery()


class FakeModel:
    dim = 4


def _vectors_for(texts: list[str]) -> np.ndarray:
    # A vector that names its text: row i's first component is the post number.
    return np.array([[float(t.split()[-1]), 0, 0, 1] for t in texts], dtype=np.float32)


async def _job(p: FakePipeline, events: list[FakeEvent], vectors: asyncio.Future | None = None):
    async def model() -> FakeModel:
        return FakeModel()

    def submit(_model, texts):
        fut = asyncio.get_running_loop().create_future()
        if vectors is None:
            fut.set_result(_vectors_for(texts))
        else:
            vectors.add_done_callback(lambda v: fut.set_result(_vectors_for(texts)))
        return fut

    return await _start(p, events, Held(events), model, submit)


def test_input_is_acked_only_after_kafka_holds_the_outputs():
    async def main() -> None:
        p = FakePipeline()
        events = _events(5, bad=(2,))
        for ev in events:
            ev.message.refs = 1  # Faust's own reference, dropped when take() moves on
        job = await _job(p, events)
        for ev in events:
            ev.ack()  # take() acks as soon as the body returns
        queue: asyncio.Queue[Job] = asyncio.Queue()
        task = asyncio.ensure_future(deliver(p, queue))
        await queue.put(job)
        await asyncio.sleep(0.05)
        assert [kind for kind, _ in p.sent] == ["dead-letter", "embedded"]
        assert all(ev.message.refs == 1 for ev in events), "acked before Kafka held the outputs"
        p.gate.set()
        await asyncio.sleep(0.05)
        assert all(ev.message.refs == 0 for ev in events)
        assert p.runtime.counters["embed.embedded"] == 4
        assert p.runtime.counters["embed.dead_lettered"] == 1
        task.cancel()

    asyncio.run(main())


def test_batches_are_forwarded_in_hand_off_order_even_if_a_later_one_is_ready_first():
    async def main() -> None:
        p = FakePipeline()
        p.gate.set()
        slow = asyncio.get_running_loop().create_future()
        first = await _job(p, _events(3, start=0), vectors=slow)
        second = await _job(p, _events(3, start=3))  # its vectors are ready at once
        queue: asyncio.Queue[Job] = asyncio.Queue()
        task = asyncio.ensure_future(deliver(p, queue))
        await queue.put(first)
        await queue.put(second)
        await asyncio.sleep(0.05)
        assert p.sent == []  # the second waits for the first
        slow.set_result(None)
        await asyncio.sleep(0.05)
        ids = [e["id"] for _, raw in p.sent for e in decode_embedded(raw).events]
        assert ids == ["e0", "e1", "e2", "e3", "e4", "e5"]
        for _, raw in p.sent:
            b = decode_embedded(raw)
            assert [int(v) for v in b.vectors[:, 0]] == [int(e["id"][1:]) for e in b.events]
        task.cancel()

    asyncio.run(main())


def test_a_batch_the_model_cannot_encode_is_dead_lettered_and_acked():
    async def main() -> None:
        p = FakePipeline()
        p.gate.set()
        broken = asyncio.get_running_loop().create_future()
        broken.set_exception(RuntimeError("model exploded"))

        async def model() -> FakeModel:
            return FakeModel()

        events = _events(3)
        job = await _start(p, events, Held(events), model, lambda m, t: broken)
        for ev in events:
            ev.ack()  # take()'s own ack
        queue: asyncio.Queue[Job] = asyncio.Queue()
        task = asyncio.ensure_future(deliver(p, queue))
        await queue.put(job)
        await asyncio.sleep(0.05)
        assert [kind for kind, _ in p.sent] == ["dead-letter"] * 3
        assert p.runtime.counters["embed.dead_lettered"] == 3
        assert all(ev.message.refs == 0 for ev in events)
        task.cancel()

    asyncio.run(main())
