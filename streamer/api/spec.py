"""The ``/api/v1`` route table: every route, its typed parameters, its answer's schema.

:mod:`streamer.api.routes` mounts it and :mod:`streamer.api.openapi`
documents it, so what is parsed and what is documented are one declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamer.api import interest_payloads, payloads
from streamer.api.params import Param, limit_param, stream_param
from streamer.store.alert_queries import ALERT_KINDS

API = "/api/v1"

WINDOW = Param("window", "duration", "trending window", default="15m", low=60, high=7 * 86400)
BASELINE = Param(
    "baseline", "duration", "history before the window", default="24h", low=60, high=90 * 86400
)
MIN_SUPPORT = Param(
    "min_support", "int", "posts a topic needs in the window", default=5, low=1, high=1_000_000
)
TOPIC_ID = Param("topic_id", "int", "topic id", low=0, high=2**53)
#: The event schema's user_id: at most 256 characters.
USER_ID = Param("user_id", "str", "user id (as in events)", max_len=256, required=True)


@dataclass(frozen=True)
class Route:
    """One ``/api/v1`` route: what it takes, what it answers, who computes it."""

    method: str
    path: str
    summary: str
    #: Name of the answer's schema in the OpenAPI document.
    response: str
    params: tuple[Param, ...] = ()
    path_params: tuple[Param, ...] = ()
    #: A blocking payload ``(ctx, values) -> dict`` run in a thread, or a coroutine.
    payload: Callable[..., Any] | None = None
    #: Name of the request body's schema (POST routes).
    body: str | None = None
    #: Error statuses this route may answer besides 400.
    errors: tuple[int, ...] = ()


ROUTES: tuple[Route, ...] = (
    Route(
        "GET", "/streams", "streams and each one's event-time now", "Streams",
        payload=payloads.streams,
    ),
    Route(
        "GET", "/topics", "current topics, heaviest first, and the stories they form",
        "Topics",
        (stream_param(), limit_param(20, 1000),
         Param("story", "int", "only the topics of this story (a story_id)", low=1,
               high=2**53)),
        payload=payloads.topics,
    ),
    Route(
        "GET", "/topics/{topic_id}", "one topic: keywords, posts, lineage, keyword history",
        "TopicDetail", (stream_param("default"),), (TOPIC_ID,), payloads.topic,
        errors=(404,),
    ),
    Route(
        "GET", "/search", "topics whose keywords or label contain a word", "Search",
        (Param("q", "str", "word to look for", max_len=100, required=True), stream_param(),
         limit_param(20, 200)),
        payload=payloads.search,
    ),
    Route(
        "GET", "/trending", "trending topics in event time, with sparklines", "Trending",
        (stream_param("default"), WINDOW, BASELINE, MIN_SUPPORT, limit_param(10, 100),
         Param("spark", "duration", "sparkline span", default="1h", low=60, high=86400)),
        payload=payloads.trending, errors=(409,),
    ),
    Route(
        "GET", "/timeline", "per-minute counts of topics, window and baseline to shade",
        "Timeline",
        (stream_param("default"),
         Param("topics", "ids", "topic ids, comma-separated (default: the top trending)",
               high=20),
         WINDOW, BASELINE,
         Param("span", "duration", "minutes shown (default: window + baseline)",
               low=60, high=7 * 86400)),
        payload=payloads.timeline, errors=(409,),
    ),
    Route(
        "GET", "/alerts", "alerts, oldest first, and the feed cursor", "Alerts",
        (Param("since", "duration", "event time before the newest alert", low=1,
               high=3650 * 86400),
         stream_param(),
         Param("kind", "enum", "alert kind", choices=ALERT_KINDS),
         limit_param(1000, 10000)),
        payload=payloads.alerts,
    ),
    Route(
        "GET", "/alerts/events", "new alerts as server-sent events (resumes with Last-Event-ID)",
        "AlertEvents",
        (stream_param(), Param("kind", "enum", "alert kind", choices=ALERT_KINDS),
         Param("after", "str", "cursor to start after (the alerts list's cursor)",
               max_len=300),
         Param("timeout", "int", "seconds before the server ends the stream", default=300,
               low=1, high=3600)),
        errors=(409, 429),
    ),
    Route(
        "GET", "/users/{user_id}/interests", "a user's topics: share, weight, label, last time",
        "UserInterests", (stream_param("default"), limit_param(20, 32)), (USER_ID,),
        interest_payloads.interests, errors=(404, 409),
    ),
    Route(
        "GET", "/users/{user_id}/similar", "users with the most similar topic shares",
        "SimilarUsers", (stream_param("default"), limit_param(10, 100)), (USER_ID,),
        interest_payloads.similar, errors=(404, 409),
    ),
    Route(
        "GET", "/users/{user_id}/recommend", "topics ranked for a user, diverse, explained",
        "Recommendations", (stream_param("default"), limit_param(10, 50)), (USER_ID,),
        interest_payloads.recommend, errors=(409,),
    ),
    Route(
        "GET", "/topics/{topic_id}/audience", "the users most into a topic now", "Audience",
        (stream_param("default"), limit_param(20, 500)), (TOPIC_ID,),
        interest_payloads.audience, errors=(409,),
    ),
    Route("GET", "/stats", "this worker's counters", "Stats", payload=payloads.stats),
    Route(
        "GET", "/health", "pipeline health: lags, dead letters, webhook", "Health",
        (Param("dead_letters", "int", "newest dead letters shown", default=20, low=1,
               high=200),),
        payload=payloads.health,
    ),
    Route(
        "GET", "/hierarchy", "the live engine's topic tree", "Hierarchy",
        (stream_param("default"),), payload=payloads.hierarchy, errors=(404, 409),
    ),
    Route(
        "POST", "/assign", "top-k topics of texts, without learning", "Assign",
        payload=payloads.assign, body="AssignRequest", errors=(404, 409, 413),
    ),
    Route(
        "POST", "/events", "ingest events (JSON, array or NDJSON), validated as produce does",
        "Ingest", body="Events", errors=(409, 413),
    ),
)  # fmt: skip
