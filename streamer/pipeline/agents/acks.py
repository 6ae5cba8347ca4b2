"""Holding Kafka offsets until a batch's work is durable.

Faust's ``take()``/``take_events()`` ack a batch's events when the loop body
finishes *or is interrupted* (its ``finally`` acks on cancellation too), so a
shutdown in the middle of an insert would commit offsets of rows that never
reached ClickHouse. :class:`Held` takes one extra reference on each message
for the length of the work: Faust's own ack then only drops it to one, and the
offset becomes committable when :meth:`Held.release` drops the last one, after
the work succeeded. Never released (crash, cancel) means redelivered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Held:
    """An extra reference on each event's message until :meth:`release`."""

    def __init__(self, events: Iterable[Any] = ()) -> None:
        self.events: list[Any] = []
        self.add(events)

    def add(self, events: Iterable[Any]) -> None:
        for ev in events:
            ev.message.incref()
            self.events.append(ev)

    def release(self) -> int:
        """Drop our references (acking the events Faust already acked); return how many."""
        n = len(self.events)
        for ev in self.events:
            ev.ack()
        self.events.clear()
        return n

    def __len__(self) -> int:
        return len(self.events)


def headers_of(event: Any) -> list[tuple[str, bytes]]:
    """A Faust event's Kafka headers as ``(name, bytes)`` pairs."""
    raw = getattr(event.message, "headers", None) or getattr(event, "headers", None) or []
    if isinstance(raw, dict):
        raw = list(raw.items())
    return [(str(k), bytes(v) if v is not None else b"") for k, v in raw]
