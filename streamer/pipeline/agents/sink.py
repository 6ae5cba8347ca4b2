"""``sink``: rows from the output topics into ClickHouse, in large batches.

Subscribes to ``assignments``, ``topic-updates``, ``alerts`` and
``dead-letter``; each ``take()`` round becomes one insert per table. Offsets
are acknowledged only after every insert of the round succeeded.

Failures never stop the stream: an unreachable server is retried with backoff
(the round stays unacked), and a batch the server rejects is split in halves
until the offending rows are found; those go to ``dead_letters`` with
stage ``sink``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from streamer.config import (
    TOPIC_ALERTS,
    TOPIC_ASSIGNMENTS,
    TOPIC_DEAD_LETTER,
    TOPIC_TOPIC_UPDATES,
    TOPIC_USER_INTERESTS,
)
from streamer.pipeline.agents.acks import Held, headers_of
from streamer.pipeline.codec import CodecError, dead_letter_row, decode_alert, decode_rows
from streamer.pipeline.context import Pipeline
from streamer.store import Store, StoreError, TransientStoreError
from streamer.validation import raw_text

log = logging.getLogger(__name__)

#: Kafka topic -> ClickHouse table.
TABLE_OF = {
    TOPIC_ASSIGNMENTS: "events",
    TOPIC_TOPIC_UPDATES: "topics",
    TOPIC_ALERTS: "alerts",
    TOPIC_DEAD_LETTER: "dead_letters",
    TOPIC_USER_INTERESTS: "user_interests",
}

#: Backoff between retries while the store is unreachable (seconds).
RETRY_DELAYS = (0.5, 1, 2, 5, 10, 30)

Source = tuple[str, int, int]  # topic, partition, offset


def rows_by_table(
    messages: Sequence[tuple[str, int, int, bytes, list[tuple[str, bytes]]]],
) -> tuple[dict[str, list[tuple[dict[str, Any], Source]]], list[dict[str, Any]]]:
    """Decode messages into rows per table, each with its source position.

    ``messages`` are ``(topic, partition, offset, value, headers)``. Returns
    ``({table: [(row, source)]}, dead_letter_rows)`` where the latter are
    messages that did not decode.
    """
    tables: dict[str, list[tuple[dict[str, Any], Source]]] = {}
    bad: list[dict[str, Any]] = []
    for topic, partition, offset, value, headers in messages:
        src = (topic, partition, offset)
        table = TABLE_OF.get(topic)
        if table is None:
            continue
        if table == "dead_letters":
            tables.setdefault(table, []).append((dead_letter_row(value, headers), src))
            continue
        try:
            # An alerts message is one alert object (schemas/alert.schema.json).
            rows = [decode_alert(value)] if table == "alerts" else decode_rows(value)
        except CodecError as exc:
            bad.append(_reject(f"sink: {exc}", value, src))
            continue
        tables.setdefault(table, []).extend((r, src) for r in rows)
    return tables, bad


def _reject(reason: str, raw: bytes | str, src: Source) -> dict[str, Any]:
    return {
        "reason": reason[:2000],
        "stage": "sink",
        "raw": raw_text(raw),
        "source_topic": src[0],
        "source_partition": src[1],
        "source_offset": src[2],
    }


def insert_resilient(
    store: Store, table: str, rows: list[tuple[dict[str, Any], Source]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Insert rows; isolate the ones the store rejects by bisection.

    Returns ``(inserted_rows, rejected_as_dead_letter_rows)``. A
    :class:`TransientStoreError` (store unreachable) propagates: the caller
    retries the whole round later, nothing is rejected for it.
    """
    if not rows:
        return [], []
    try:
        store.insert(table, [r for r, _ in rows])
        return [r for r, _ in rows], []
    except TransientStoreError:
        raise
    except (StoreError, ValueError, TypeError, OverflowError) as exc:
        if len(rows) == 1:
            row, src = rows[0]
            return [], [_reject(f"sink: {table}: {exc}", json.dumps(row, default=str), src)]
    mid = len(rows) // 2
    a, ra = insert_resilient(store, table, rows[:mid])
    b, rb = insert_resilient(store, table, rows[mid:])
    return a + b, ra + rb


def register(p: Pipeline) -> None:
    """Add the ``sink`` agent to the pipeline's app."""
    s = p.settings
    # The store's calls block (chdb runs in process); keep them off the loop.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-store")

    inflight: list[Future] = []

    def submit(fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        cf = pool.submit(fn, *args)
        inflight[:] = [cf]
        return asyncio.wrap_future(cf)

    async def sink(stream: Any) -> None:
        try:
            await _consume(stream)
        finally:
            # Cancelled mid-insert, the insert thread still runs: let it finish
            # before the store is closed under it.
            for cf in inflight:
                wait([cf], timeout=60)

    async def _consume(stream: Any) -> None:
        async for events in stream.take_events(s.sink_batch, within=s.sink_within):
            held = Held(events)
            started = time.monotonic()
            messages = [
                (
                    ev.message.topic,
                    ev.message.partition,
                    ev.message.offset,
                    ev.value,
                    headers_of(ev),
                )
                for ev in events
            ]
            while True:
                try:
                    await write_round(p, submit, messages)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Unexpected (a bug, not bad data: that is dead-lettered).
                    # Never drop the round: retry it, loudly, until it goes in.
                    log.exception("sink: round of %d messages failed; retrying", len(messages))
                    p.runtime.bump("sink.round_errors")
                    await asyncio.sleep(RETRY_DELAYS[-1])
            p.runtime.batch_seconds.labels("sink").observe(time.monotonic() - started)
            held.release()

    p.agent(p.topics.sink_channel(), name="sink")(sink)


async def write_round(
    p: Pipeline,
    submit: Callable[..., Any],
    messages: Sequence[tuple[str, int, int, bytes, list[tuple[str, bytes]]]],
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> None:
    """Insert one round; returns only when every row is stored or dead-lettered."""
    rt = p.runtime
    tables, bad = rows_by_table(messages)
    rt.bump("sink.received", sum(len(rows) for rows in tables.values()) + len(bad))
    # Topics before events: a reader that sees an event's topic id finds the topic.
    order = ["topics", "events", "alerts", "dead_letters", "user_interests"]
    pending = [(t, tables[t]) for t in order if t in tables]
    attempt = 0
    while pending:
        table, rows = pending[0]
        try:
            inserted, rejected = await submit(insert_resilient, p.store, table, rows)
        except TransientStoreError as exc:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            attempt += 1
            rt.bump("sink.retries")
            log.warning("sink: store unreachable (%s); retrying in %ss", exc, delay)
            await sleep(delay)
            continue
        attempt = 0
        pending.pop(0)
        if table == "events":
            late = sum(1 for r in inserted if int(r.get("version", 0)) >= 1)
            rt.bump("sink.events", len(inserted) - late)
            rt.bump("sink.late_events", late)
        else:
            rt.bump(f"sink.{table}", len(inserted))
        bad.extend(rejected)
    if bad:
        rt.bump("sink.rejected", len(bad))
        for row in bad:
            rt.dead_lettered("sink", row["reason"])
        while True:
            try:
                await submit(p.store.insert, "dead_letters", bad)
                rt.bump("sink.dead_letters", len(bad))
                break
            except TransientStoreError as exc:
                log.warning("sink: store unreachable (%s); retrying", exc)
                await sleep(RETRY_DELAYS[-1] if attempt > 5 else 1)
                attempt += 1
            except StoreError:
                log.exception("sink: cannot store %d dead letters; dropping them", len(bad))
                rt.bump("sink.lost", len(bad))
                break
