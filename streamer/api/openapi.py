"""The OpenAPI 3.1 document of ``/api/v1``, built from the route table.

Parameters and their bounds come from :data:`streamer.api.routes.ROUTES` (the
same :class:`~streamer.api.params.Param` objects that parse requests); the
answers' shapes are :data:`SCHEMAS`. Served at ``/api/v1/openapi.json``;
``tests/unit/streamer/api/test_openapi.py`` validates it and the API fuzz test
(``tests/integration/test_api_fuzz.py``) checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from streamer.api.ingest import MAX_BODY_BYTES, MAX_EVENTS
from streamer.api.payloads import MAX_ASSIGN_CHARS, MAX_ASSIGN_TEXTS, MAX_TOP_K
from streamer.api.spec import API, ROUTES, Route

INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
OPT_INT = {"type": ["integer", "null"]}
OPT_NUM = {"type": ["number", "null"]}
STRS = {"type": "array", "items": STR}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object schema with these required and optional properties (others allowed)."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def arr(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


NAMED = obj({"topic_id": INT, "label": STR, "keywords": STRS})
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": obj({"error": STR}),
    "Stream": obj(
        {"stream": STR, "events": INT, "last_ts": INT, "now_ts": INT},
        {"assigned": INT, "first_ts": INT, "unassigned_share": NUM},
    ),
    "Streams": obj({"streams": arr(ref("Stream")), "source": STR, "wall_ts": INT}),
    "Topic": obj(
        {"stream": STR, "topic_id": INT, "keywords": STRS, "label": STR},
        {
            "version": INT,
            "size": INT,
            "weight": OPT_NUM,
            "status": STR,
            "born_at": NUM,
            "updated_at": NUM,
            "merged_into": OPT_INT,
            "split_from": OPT_INT,
            "examples": STRS,
            "keyword_scores": arr(OPT_NUM),
            "story_id": INT,
        },
    ),
    "Story": obj(
        {"stream": STR, "story_id": INT, "topic_ids": arr(INT), "size": INT, "weight": NUM}, {}
    ),
    "Topics": obj({"topics": arr(ref("Topic")), "source": STR}, {"stories": arr(ref("Story"))}),
    "Search": obj({"q": STR, "topics": arr(ref("Topic")), "source": STR}),
    "TopicDetail": obj(
        {
            "topic": ref("Topic"),
            "history": arr(
                obj(
                    {"version": INT, "updated_at": INT, "size": INT, "keywords": STRS},
                    {"added": STRS, "removed": STRS},
                )
            ),
            "lineage": obj(
                {
                    "merged_into": {"oneOf": [NAMED, {"type": "null"}]},
                    "split_from": {"oneOf": [NAMED, {"type": "null"}]},
                    "merged_from": arr(NAMED),
                    "split_into": arr(NAMED),
                }
            ),
            "now_ts": OPT_INT,
            "source": STR,
        }
    ),
    "TrendRow": obj(
        {
            "topic_id": INT,
            "label": STR,
            "keywords": STRS,
            "window_count": INT,
            "baseline_count": INT,
            "expected": NUM,
            "growth": NUM,
            "score": NUM,
            "now_ts": INT,
        },
        {"spark": arr(INT)},
    ),
    "Trending": obj(
        {
            "trending": arr(ref("TrendRow")),
            "stream": STR,
            "window_s": INT,
            "baseline_s": INT,
            "now_ts": OPT_INT,
        }
    ),
    "Timeline": obj(
        {
            "stream": STR,
            "now_ts": OPT_INT,
            "window_s": INT,
            "baseline_s": INT,
            "minutes": arr(INT),
            "series": {"type": "object", "additionalProperties": arr(INT)},
            "topics": arr(NAMED),
        },
        {"window_from": INT, "baseline_from": INT},
    ),
    "Alert": obj(
        {
            "alert_id": STR,
            "stream": STR,
            "topic_id": INT,
            "kind": {"enum": ["new", "development", "burst"]},
            "score": NUM,
            "window_start": NUM,
            "window_end": NUM,
            "size": INT,
            "keywords": STRS,
            "label": STR,
            "created_at": NUM,
        },
        {"first_seen": NUM, "examples": STRS, "extra": {"type": "object"}, "story_id": INT},
    ),
    "Alerts": obj(
        {"alerts": arr(ref("Alert")), "source": STR, "cursor": {"type": ["string", "null"]}}
    ),
    "Stats": obj(
        {"agents": STRS, "counters": {"type": "object", "additionalProperties": INT}},
        {"streams": {"type": "object"}, "ready": {"type": "boolean"}, "uptime_s": NUM},
    ),
    "Health": obj(
        {
            "wall_ts": INT,
            "worker": {"type": ["object", "null"]},
            "store": {"type": ["object", "null"]},
            "streams": {"type": "object"},
        }
    ),
    "Hierarchy": obj({"stream": STR, "tree": {"type": "object"}}),
    "AssignRequest": {
        "type": "object",
        "required": ["texts"],
        "properties": {
            "texts": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ASSIGN_TEXTS,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_ASSIGN_CHARS},
            },
            "stream": {"type": "string", "minLength": 1, "maxLength": 200},
            "k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K},
        },
    },
    "Assign": obj(
        {
            "stream": STR,
            "results": arr(
                obj(
                    {
                        "text": STR,
                        "topic_id": INT,
                        "topics": arr(
                            obj(
                                {"topic_id": INT, "probability": NUM},
                                {"similarity": NUM, "label": STR, "keywords": STRS},
                            )
                        ),
                    }
                )
            ),
        }
    ),
    "Event": {
        "type": "object",
        "description": "schemas/event.schema.json: id, ts (epoch s or ISO-8601), text; "
        "optional stream, user_id, lang, source, meta",
        "required": ["id", "ts", "text"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "ts": {"oneOf": [NUM, {"type": "string", "minLength": 1}]},
            "text": {"type": "string", "minLength": 1},
            "stream": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
    "UserInterests": obj(
        {
            "stream": STR,
            "user_id": STR,
            "as_of": INT,
            "posts": INT,
            "topics": arr(
                obj(
                    {
                        "topic_id": INT,
                        "share": NUM,
                        "weight": NUM,
                        "label": STR,
                        "keywords": STRS,
                        "last_ts": INT,
                    },
                    {"status": STR},
                )
            ),
        },
        {"version": INT, "last_ts": INT, "mass": NUM, "keywords": STRS, "source": STR},
    ),
    "SimilarUsers": obj(
        {
            "stream": STR,
            "user_id": STR,
            "as_of": INT,
            "similar": arr(
                obj({"user_id": STR, "similarity": NUM, "shared_topics": arr(INT)}, {"posts": INT})
            ),
        }
    ),
    "Audience": obj(
        {
            "stream": STR,
            "topic_id": INT,
            "audience": arr(
                obj({"user_id": STR, "share": NUM, "weight": NUM}, {"posts": INT, "last_ts": INT})
            ),
        },
        {"label": STR, "keywords": STRS, "status": STR},
    ),
    "Recommendations": obj(
        {
            "stream": STR,
            "user_id": STR,
            "known_user": {"type": "boolean"},
            "items": arr(
                obj(
                    {"topic_id": INT, "score": NUM, "label": STR, "because": STRS},
                    {"personal": NUM, "trending": NUM, "keywords": STRS, "status": STR},
                )
            ),
        }
    ),
    "Ingest": obj(
        {
            "accepted": INT,
            "ids": STRS,
            "rejected": arr(obj({"reason": STR}, {"line": INT, "index": INT})),
        }
    ),
}

_STATUS_TEXT = {
    400: "bad parameter or body",
    401: "bearer token missing or wrong",
    404: "no such topic or user",
    409: "this process cannot answer that (no store, no live engine)",
    413: "body too large",
    429: "too many open alert feeds",
    503: "store unreachable",
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _operation(route: Route) -> dict[str, Any]:
    params = [p.openapi() for p in route.params]
    for p in route.path_params:
        spec = p.openapi()
        spec.update({"in": "path", "required": True})
        params.append(spec)
    ok: dict[str, Any] = {"description": "OK"}
    if route.response == "AlertEvents":
        ok["content"] = {"text/event-stream": {"schema": STR}}
        ok["description"] = (
            "`event: alert` messages, `data` an Alert as JSON, `id` the cursor to resume "
            "from (sent back as Last-Event-ID)"
        )
    else:
        ok["content"] = {"application/json": {"schema": ref(route.response)}}
    responses: dict[str, Any] = {"200": ok}
    for status in sorted({400, 401, 503, *route.errors}):
        responses[str(status)] = _error(status)
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": (route.method.lower() + route.path)
        .replace("/", "_")
        .replace("{", "")
        .replace("}", ""),
        "parameters": params,
        "responses": responses,
    }
    if route.body == "AssignRequest":
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref("AssignRequest")}},
        }
    elif route.body == "Events":
        op["requestBody"] = {
            "required": True,
            "description": f"at most {MAX_BODY_BYTES} bytes and {MAX_EVENTS} events",
            "content": {
                "application/json": {"schema": {"oneOf": [ref("Event"), arr(ref("Event"))]}},
                "application/x-ndjson": {"schema": STR},
            },
        }
    return op


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(API + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "topictrack API",
            "version": "1",
            "description": "Topics, trends, alerts and health of a topictrack pipeline. Times "
            "are epoch seconds; every window is in event time, anchored at the stream's "
            "newest minute (`now_ts`), never the wall clock. When the server was started "
            "with --api-token, send `Authorization: Bearer <token>`.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
