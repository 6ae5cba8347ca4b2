"""A bad ``user_id`` (too long, not a string) is dead-lettered by the embed stage with a reason."""

from __future__ import annotations

import asyncio
import json

from streamer.pipeline.agents.acks import Held
from streamer.pipeline.agents.embed import Job, _start, deliver
from streamer.pipeline.codec import decode_embedded
from tests.unit.streamer.pipeline.test_embed_stage import (
    FakeEvent,
    FakeModel,
    FakePipeline,
    _vectors_for,
)


class ReasonPipeline(FakePipeline):
    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []

    async def send_dead_letter(self, raw, reason, stage, event) -> asyncio.Future:
        self.reasons.append(reason)
        return await super().send_dead_letter(raw, reason, stage, event)


def test_bad_user_ids_go_to_dead_letter_with_the_reason():
    async def main() -> None:
        p = ReasonPipeline()
        p.gate.set()
        docs = [
            {"id": "e0", "ts": 1000, "text": "post number 0", "user_id": "u" * 257},
            {"id": "e1", "ts": 1001, "text": "post number 1", "user_id": 42},
            {"id": "e2", "ts": 1002, "text": "post number 2", "user_id": "ann"},
        ]
        events = [FakeEvent(i, json.dumps(d).encode()) for i, d in enumerate(docs)]

        async def model() -> FakeModel:
            return FakeModel()

        def submit(_model, texts):
            fut = asyncio.get_running_loop().create_future()
            fut.set_result(_vectors_for(texts))
            return fut

        job = await _start(p, events, Held(events), model, submit)
        queue: asyncio.Queue[Job] = asyncio.Queue()
        task = asyncio.ensure_future(deliver(p, queue))
        await queue.put(job)
        await asyncio.sleep(0.05)
        assert [kind for kind, _ in p.sent] == ["dead-letter", "dead-letter", "embedded"]
        assert p.reasons[0] == "user_id: longer than 256 characters", p.reasons
        assert "user_id" in p.reasons[1] and "not of type 'string'" in p.reasons[1]
        (batch,) = [decode_embedded(raw) for kind, raw in p.sent if kind == "embedded"]
        assert [e["user_id"] for e in batch.events] == ["ann"]
        task.cancel()

    asyncio.run(main())
