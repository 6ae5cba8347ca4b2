"""A small hand-made store for the dashboard and Grafana query tests.

Two streams, topic snapshots with versions, a merge and a split, per-minute
counts through the real materialized view (topic 1 bursts in the last five
minutes), two alerts and four dead letters.
"""

from __future__ import annotations

from tests.alert_fixtures import make_alert

T0 = 1_363_000_000 - 1_363_000_000 % 60  # a minute in 2013: replayed, not live


def topic_row(tid: int, version: int, keywords: list[str], **kw) -> dict:
    return {
        "topic_id": tid,
        "stream": kw.pop("stream", "default"),
        "version": version,
        "born_at": T0,
        "updated_at": T0 + 60 * version,
        "size": 10 * version,
        "weight": float(version),
        "centroid": [0.0, 1.0],
        "keywords": keywords,
        "keyword_scores": [0.5 - 0.1 * i for i in range(len(keywords))],
        "label": " · ".join(keywords[:2]),
        "status": kw.pop("status", "active"),
        "merged_into": kw.pop("merged_into", None),
        "split_from": kw.pop("split_from", None),
        "examples": [f"post about {keywords[0]}"],
        **kw,
    }


def event(i: int, tid: int, minute: int, stream: str = "default") -> dict:
    return {
        "event_id": f"{stream}-{i}",
        "stream": stream,
        "ts": T0 + 60 * minute + 5,
        "text": f"text {i}",
        "topic_id": tid,
        "version": 0,
    }


def fill(store) -> None:
    store.insert_topics(
        [
            topic_row(1, 1, ["rail", "strike"]),
            topic_row(1, 2, ["rail", "strike"]),
            topic_row(1, 3, ["strike", "union", "rail"]),
            topic_row(2, 1, ["phone", "nova"]),
            topic_row(3, 1, ["rail", "delay"], status="merged", merged_into=1),
            topic_row(4, 1, ["union", "vote"], split_from=1),
            topic_row(9, 1, ["other", "stream"], stream="other"),
        ]
    )
    events = []
    i = 0
    for minute in range(30):
        for _ in range(2 if minute < 25 else 8):  # topic 1 bursts in the last 5 minutes
            events.append(event(i, 1, minute))
            i += 1
        events.append(event(i, 2, minute))
        i += 1
    events += [event(i + k, 3, 29) for k in range(3)]  # the merged child counts under 1
    events += [event(i + 10, -1, 29), event(i + 11, 9, 3, stream="other")]
    store.insert_events(events)
    store.insert_dead_letters(
        [
            {"reason": "not JSON: x", "stage": "validate", "raw": "{x", "source_topic": "events",
             "source_partition": 0, "source_offset": o}
            for o in range(3)
        ]
        + [{"reason": "text: '' is too short", "stage": "validate", "raw": "{}",
            "source_topic": "events", "source_partition": 0, "source_offset": 9}]
    )  # fmt: skip
    alerts = [make_alert(1, end=T0 + 600), make_alert(2, "burst", end=T0 + 1700)]
    alerts[0]["created_at"], alerts[1]["created_at"] = 1_800_000_000, 1_800_000_010
    store.insert_alerts(alerts)
    store.insert(
        "user_interests",
        [
            {"stream": "default", "user_id": u, "version": v, "as_of": T0 + 1700,
             "last_ts": T0 + 1700, "posts": 4, "mass": 2.0, "topic_ids": ids, "shares": shares,
             "weights": [2 * x for x in shares], "topic_last_ts": [T0] * len(ids),
             "keywords": ["rail"], "keyword_scores": [0.5], "vector": [0.0, 1.0]}
            for u, v, ids, shares in (("u1", 1, [1, 2], [0.75, 0.25]), ("u2", 2, [1], [1.0]))
        ],
    )  # fmt: skip
