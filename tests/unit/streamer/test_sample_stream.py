from __future__ import annotations

import json
from collections import Counter

from streamer.sample_stream import MALFORMED, START_TS, STORIES, generate, lines
from streamer.validation import InvalidEvent, validate_bytes


def test_same_seed_same_stream_other_seed_differs():
    assert generate(3) == generate(3)
    assert generate(3) != generate(4)


def test_shape_of_the_stream():
    events = generate(7)
    assert 2500 <= len(events) <= 4000
    labels = Counter(e["label"] for e in events)
    assert len([s for s in labels if s != "chatter"]) >= 6
    # sorted by event time, unique ids
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    assert len({e["id"] for e in events}) == len(events)
    # stories start at different times
    first = {}
    for e in events:
        first.setdefault(e["label"], e["ts"])
    assert len({round((first[s.name] - START_TS) / 600) for s in STORIES}) >= 5


def test_one_story_bursts():
    events = generate(7)
    burst = next(s for s in STORIES if s.burst)
    at_h, minutes, _ = burst.burst
    lo, hi = START_TS + at_h * 3600, START_TS + at_h * 3600 + minutes * 60
    inside = sum(1 for e in events if e["label"] == burst.name and lo <= e["ts"] < hi)
    before = sum(1 for e in events if e["label"] == burst.name and lo - 3600 <= e["ts"] < lo)
    assert inside > 3 * before * (minutes / 60)


def test_every_generated_line_is_valid_and_malformed_ones_are_not():
    for raw in lines(7, scale=0.2):
        validate_bytes(raw)
        assert json.loads(raw)["stream"] == "default"
    rejected = 0
    for raw in MALFORMED:
        try:
            validate_bytes(raw)
        except InvalidEvent:
            rejected += 1
    assert rejected == len(MALFORMED)


def test_users_write_mostly_about_their_own_stories():
    events = [e for e in generate(7) if e["label"] != "chatter"]
    by_user: dict[str, Counter] = {}
    for e in events:
        by_user.setdefault(e["user_id"], Counter())[e["label"]] += 1
    active = [c for c in by_user.values() if sum(c.values()) >= 5]
    assert len(active) > 200
    top2 = [sum(n for _, n in c.most_common(2)) / sum(c.values()) for c in active]
    assert sum(top2) / len(top2) > 0.7  # uniform users would give about 2/8
    assert [e["user_id"] for e in generate(7)] == [e["user_id"] for e in generate(7)]
