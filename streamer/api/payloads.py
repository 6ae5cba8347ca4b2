"""What each ``/api/v1`` route answers, as plain functions of the context and typed values.

Read payloads are blocking (chdb runs in process) and run in a thread; the
ones that need the live engine are coroutines on the worker's loop. Each
answers from the freshest source this process has: the live engines of a
``track`` worker for current topics, the store for history and counts, and
:class:`~streamer.api.context.Unavailable` (409) when it has neither.
"""

from __future__ import annotations

import time
from typing import Any

from streamer.api.alert_feed import feed_for
from streamer.api.context import ApiContext, Unavailable
from streamer.api.params import BadRequest
from streamer.store import (
    Store,
    alert_queries,
    health_queries,
    stream_queries,
    timeline_queries,
    topic_queries,
    trending_queries,
)

#: Topics a timeline shows when none are chosen: the top trending ones.
DEFAULT_TIMELINE_TOPICS = 5
#: Most texts one ``POST /assign`` takes, and the longest text.
MAX_ASSIGN_TEXTS = 64
MAX_ASSIGN_CHARS = 5000
MAX_TOP_K = 10


class NotFound(KeyError):
    """No such topic (answered 404)."""


def _store(ctx: ApiContext, what: str) -> Store:
    if ctx.store is None:
        raise Unavailable(
            f"{what} needs the store: this process has none (ask a worker that runs "
            "sink, or `topictrack serve --store ...`)"
        )
    return ctx.store


def _live_streams(ctx: ApiContext) -> dict[str, dict[str, Any]]:
    if ctx.live is None:
        return {}
    return ctx.live.stats().get("streams", {})


def stream_now(ctx: ApiContext, stream: str) -> int | None:
    """The stream's event-time now: its newest minute (store), else the engine's."""
    if ctx.store is not None:
        return stream_queries.now_minute(ctx.store, stream)
    last = _live_streams(ctx).get(stream, {}).get("last_ts")
    return int(last) - int(last) % 60 if last else None


def streams(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    if ctx.store is not None:
        rows = stream_queries.streams(ctx.store)
        return {"streams": rows, "source": "store", "wall_ts": int(time.time())}
    out = []
    for s, info in sorted(_live_streams(ctx).items()):
        last = int(info.get("last_ts") or 0)
        eng = info.get("engine") or {}
        out.append(
            {
                "stream": s,
                "events": int(eng.get("docs", 0)),
                "last_ts": last,
                "now_ts": last - last % 60,
                "unassigned_share": float(eng.get("unassigned_share", 0.0)),
            }
        )
    return {"streams": out, "source": "engine", "wall_ts": int(time.time())}


def topics(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """The live engines' topics (``track``) or the store's latest snapshots, with their stories.

    ``story`` keeps one story's topics; ``stories`` groups the listed topics by story.
    """
    stream, limit, story = v["stream"], v["limit"], v.get("story")
    if "track" in ctx.agents and ctx.live is not None:
        out: list[dict[str, Any]] = []
        for s, items in sorted(ctx.live.topic_summaries().items()):
            if stream is None or s == stream:
                out.extend(t for t in items if story is None or t.get("story_id") == story)
        out.sort(key=lambda t: (-t["weight"], -t["size"], t["topic_id"]))
        out = out[:limit]
        return {"topics": out, "stories": story_groups(out), "source": "engine"}
    rows = (
        topic_queries.latest_topics(ctx.store, stream, limit, story=story)
        if ctx.store is not None
        else []
    )
    return {"topics": rows, "stories": story_groups(rows), "source": "store"}


def story_groups(topics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Topics grouped by story, heaviest story first: its id, topic ids (heaviest first), size.

    A row written before stories (``story_id`` -1 or missing) is a story of its own.
    """
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for t in topics:
        sid = int(t.get("story_id", -1))
        sid = int(t["topic_id"]) if sid < 0 else sid
        g = groups.setdefault(
            (str(t.get("stream", "")), sid),
            {
                "stream": t.get("stream", ""),
                "story_id": sid,
                "topic_ids": [],
                "size": 0,
                "weight": 0.0,
            },
        )
        g["topic_ids"].append(int(t["topic_id"]))
        g["size"] += int(t.get("size", 0))
        g["weight"] += float(t.get("weight") or 0.0)
    return sorted(groups.values(), key=lambda g: (-g["weight"], -g["size"], g["story_id"]))


def search(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Topics with a keyword or label containing ``q`` (any case)."""
    q = v["q"].strip().lower()
    if not q:
        raise BadRequest("q: give a word to look for")
    if ctx.store is not None:
        rows = topic_queries.latest_topics(ctx.store, v["stream"], v["limit"], contains=q)
        return {"q": q, "topics": rows, "source": "store"}
    found = []
    for s, items in sorted((ctx.live.topic_summaries() if ctx.live else {}).items()):
        if v["stream"] is None or s == v["stream"]:
            found.extend(
                t
                for t in items
                if q in str(t.get("label", "")).lower()
                or any(q in str(k).lower() for k in t.get("keywords", []))
            )
    return {"q": q, "topics": found[: v["limit"]], "source": "engine"}


def topic(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """One topic: newest snapshot, keyword history, lineage (store), or the live view."""
    stream, tid = v["stream"], v["topic_id"]
    if ctx.store is not None:
        row = topic_queries.topic_detail(ctx.store, stream, tid)
        if row is None:
            raise NotFound(f"no topic {tid} in stream {stream!r}")
        return {
            "topic": row,
            "history": topic_queries.keyword_history(ctx.store, stream, tid),
            "lineage": topic_queries.lineage(ctx.store, stream, row),
            "now_ts": stream_queries.now_minute(ctx.store, stream),
            "source": "store",
        }
    for t in (ctx.live.topic_summaries() if ctx.live else {}).get(stream, []):
        if t["topic_id"] == tid:
            into, parent = t.get("merged_into"), t.get("split_from")
            return {
                "topic": t,
                "history": [],
                "lineage": {
                    "merged_into": {"topic_id": into, "label": "", "keywords": []}
                    if into
                    else None,
                    "split_from": {"topic_id": parent, "label": "", "keywords": []}
                    if parent
                    else None,
                    "merged_from": [],
                    "split_into": [],
                },
                "now_ts": stream_now(ctx, stream),
                "source": "engine",
            }
    raise NotFound(f"no live topic {tid} in stream {stream!r} (this process has no store)")


def _check_windows(v: dict[str, Any]) -> None:
    try:
        trending_queries.check_trend_windows(v["window"], v["baseline"], v.get("min_support", 1))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def trending(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """The trending ranking, each row with a per-minute sparkline ending at now."""
    store = _store(ctx, "trending")
    _check_windows(v)
    stream = v["stream"]
    rows = trending_queries.trending(
        store, stream, v["window"], v["baseline"], v["min_support"], v["limit"]
    )
    now = rows[0]["now_ts"] if rows else stream_queries.now_minute(store, stream)
    if rows and now is not None:
        span = int(v["spark"])
        counts = timeline_queries.minute_counts(
            store, stream, [r["topic_id"] for r in rows], now - span, now
        )
        for r in rows:
            r["spark"] = timeline_queries.series(counts[r["topic_id"]], now - span, now)
    return {
        "trending": rows,
        "stream": stream,
        "window_s": int(v["window"]),
        "baseline_s": int(v["baseline"]),
        "min_support": v["min_support"],
        "now_ts": now,
    }


def timeline(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Per-minute counts of chosen topics (default: the top trending), with the
    trending window and baseline that end at the stream's now."""
    store = _store(ctx, "timelines")
    _check_windows(v)
    stream, window, baseline = v["stream"], int(v["window"]), int(v["baseline"])
    ids = list(v["topics"])
    if not ids:
        top = trending_queries.trending(store, stream, window, baseline, 1, DEFAULT_TIMELINE_TOPICS)
        ids = [r["topic_id"] for r in top]
    now = stream_queries.now_minute(store, stream)
    body: dict[str, Any] = {
        "stream": stream,
        "now_ts": now,
        "window_s": window,
        "baseline_s": baseline,
        "topics": [],
        "minutes": [],
        "series": {},
    }
    if now is None:
        return body
    span = int(v["span"]) if v["span"] else window + baseline
    since = now - span
    names = topic_queries.topic_names(store, stream, ids)
    body.update(timeline_queries.timeline(store, stream, ids, since, now))
    body["topics"] = [
        {"topic_id": t, "label": names.get(t, ("", []))[0], "keywords": names.get(t, ("", []))[1]}
        for t in ids
    ]
    body["window_from"] = now - window
    body["baseline_from"] = now - window - baseline
    return body


def alerts(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Alerts oldest first, and the feed's cursor to follow them from (``after``)."""
    since, stream, kind, limit = v["since"], v["stream"], v["kind"], v["limit"]
    try:
        cursor: str | None = feed_for(ctx.live, ctx.agents, ctx.store).cursor()
    except LookupError:
        cursor = None
    if ctx.store is not None:
        rows = alert_queries.alerts(ctx.store, since, stream, kind, limit)
        return {"alerts": rows, "source": "store", "cursor": cursor}
    live = ctx.live.recent_alerts() if ctx.live is not None else []
    rows = [
        a
        for a in live
        if (stream is None or a["stream"] == stream) and (kind is None or a["kind"] == kind)
    ]
    if since is not None and rows:
        newest = max(a["window_end"] for a in rows)
        rows = [a for a in rows if a["window_end"] >= newest - since]
    rows.sort(key=lambda a: (a["window_end"], a["created_at"], a["alert_id"]))
    return {"alerts": rows[-limit:], "source": "engine", "cursor": cursor}


def stats(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """The worker's own counters (cheap: no store query)."""
    body = ctx.live.stats() if ctx.live is not None else {}
    return {"agents": sorted(ctx.agents), "counters": {}, "streams": {}, **body}


def health(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    """Pipeline health: counters, lags per stream, dead letters by reason, the webhook."""
    worker = ctx.live.stats() if ctx.live is not None else None
    wall = time.time()
    body: dict[str, Any] = {"wall_ts": int(wall), "worker": worker, "store": None}
    lags: dict[str, Any] = {}
    for s, info in (worker or {}).get("streams", {}).items():
        last = info.get("last_ts")
        lags[s] = {"last_ts": last, "event_time_lag_s": wall - last if last else None}
    if ctx.store is not None:
        rows = stream_queries.streams(ctx.store)
        for r in rows:
            lags.setdefault(r["stream"], {"last_ts": r["last_ts"]})
            lags[r["stream"]]["event_time_lag_s"] = wall - r["last_ts"]
        body["store"] = {
            "url": ctx.store.url,
            "totals": topic_queries.totals(ctx.store),
            "streams": rows,
            "dead_letter_reasons": health_queries.dead_letter_reasons(ctx.store),
            "dead_letters": health_queries.recent_dead_letters(ctx.store, v["dead_letters"]),
        }
    body["streams"] = lags
    return body


async def hierarchy(ctx: ApiContext, v: dict[str, Any]) -> dict[str, Any]:
    if ctx.live is None or "track" not in ctx.agents:
        raise Unavailable("the topic tree needs a live engine: ask a worker that runs track")
    return {"stream": v["stream"], "tree": await ctx.live.hierarchy(v["stream"])}


def assign_request(body: Any) -> tuple[str, list[str], int]:
    """``{"texts": [...], "stream": "default", "k": 3}``, checked; BadRequest otherwise."""
    if not isinstance(body, dict):
        raise BadRequest('body must be a JSON object like {"texts": ["..."], "k": 3}')
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts:
        raise BadRequest("texts must be a non-empty array of strings")
    if len(texts) > MAX_ASSIGN_TEXTS:
        raise BadRequest(f"texts: at most {MAX_ASSIGN_TEXTS} per request")
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise BadRequest(f"texts[{i}] must be a non-blank string")
        if len(t) > MAX_ASSIGN_CHARS:
            raise BadRequest(f"texts[{i}] is longer than {MAX_ASSIGN_CHARS} characters")
    stream = body.get("stream", "default")
    if not isinstance(stream, str) or not 1 <= len(stream) <= 200:
        raise BadRequest("stream must be a string of 1 to 200 characters")
    k = body.get("k", 3)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K:
        raise BadRequest(f"k must be an integer from 1 to {MAX_TOP_K}")
    return stream, texts, k


async def assign(ctx: ApiContext, body: Any) -> dict[str, Any]:
    stream, texts, k = assign_request(body)
    if ctx.live is None or not {"embed", "track"} <= ctx.agents:
        raise Unavailable(
            "assign needs the model and a live engine: ask a worker that runs embed and "
            "track (`topictrack run`)"
        )
    return {"stream": stream, "results": await ctx.live.assign(stream, texts, k)}
