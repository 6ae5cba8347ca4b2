"""How ``engine_v1.snapshot`` and ``engine_v1_next.json`` were written.

Run once at commit 289064a (the last engine writing ``topictrack-engine/1``)
from the repository root: ``python tests/unit/workers/data/make_engine_v1.py``.
The stream gives the snapshot born, merged, dormant and woken topics, kept
keywords and examples, drift detectors and posts waiting in the buffer; the
JSON holds the next batch and what that engine returned for it, so
``test_topic_engine.py`` checks that today's engine restores the old format
to the same results.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.unit.workers.synthetic import centres, posts, texts_for, unit
from workers.engine_config import EngineConfig
from workers.topic_engine import TopicTrackEngine

HERE = Path(__file__).parent
DIM = 16
T0 = 1_700_000_000.0
H = 3600.0


def main() -> None:
    cfg = EngineConfig(
        recent_capacity=128,
        buffer_size=64,
        half_life_s=H,
        wake_window_s=24 * H,
        assign_threshold=0.5,
        birth_threshold=0.6,
        min_topic_size=3,
        top_k=3,
    )
    eng = TopicTrackEngine(DIM, cfg)
    c = centres(5, seed=3, dim=DIM)

    def feed(x: np.ndarray, t0: float, words: list[str], tag: str, spacing: float = 60.0) -> None:
        ts = t0 + spacing * np.arange(len(x))
        texts = texts_for(words, len(x), seed=len(x))
        eng.learn_many(x, ts, texts, [f"{tag}-{i}" for i in range(len(x))])

    for k in range(4):
        feed(posts(c[0], 8, seed=k, noise=0.1), T0 + k * 600, ["flood", "river", "rain"], f"a{k}")
        feed(posts(c[1], 8, seed=10 + k, noise=0.1), T0 + k * 600 + 30, ["fire", "smoke"], f"b{k}")
    feed(posts(c[2], 10, seed=20, noise=0.1), T0 + 10 * H, ["quake", "tremor"], "c")
    feed(posts(c[0], 6, seed=21, noise=0.1), T0 + 12 * H, ["flood", "river"], "a-back")
    near_b = unit(c[1] + 0.3 * c[3])
    feed(posts(near_b, 8, seed=22, noise=0.1), T0 + 12.5 * H, ["fire", "ash"], "b2")
    for k in range(20):  # two sides of a story drifting into one: a merge
        s = 0.9 * (1 - k / 19)
        x = np.concatenate(
            [
                posts(unit(c[3] + s * c[4]), 6, seed=40 + k, noise=0.05),
                posts(unit(c[3] - s * c[4]), 6, seed=80 + k, noise=0.05),
            ]
        )
        feed(x, T0 + 13 * H + 1200 * k, ["market", "stocks"], f"m{k}", spacing=20.0)
    feed(posts(c[4], 2, seed=23, noise=0.1), T0 + 20 * H, ["storm"], "w")  # left waiting
    (HERE / "engine_v1.snapshot").write_bytes(eng.snapshot())

    x = np.concatenate(
        [
            posts(c[4], 3, seed=30, noise=0.1),
            posts(c[2], 4, seed=31, noise=0.1),
            posts(c[1], 3, seed=32, noise=0.1),
        ]
    )
    ts = T0 + 20.5 * H + 10 * np.arange(len(x))
    texts = texts_for(["storm", "wind", "quake", "fire"], len(x), seed=5)
    r = eng.learn_many(x, ts, texts, [f"n-{i}" for i in range(len(x))])
    views = [
        [v.topic_id, v.size, v.status, v.keywords, v.examples, v.version, v.merged_into, v.weight]
        for v in eng.topics(include_inactive=True)
    ]
    expected = {
        "note": "Written by the engine of commit 289064a (format topictrack-engine/1): "
        "the batch after engine_v1.snapshot and what that engine returned for it.",
        "topic_ids": r.topic_ids.tolist(),
        "similarity": r.similarity.tolist(),
        "topk_ids": r.topk_ids.tolist(),
        "topk_probs": r.topk_probs.tolist(),
        "late": [[late.doc_ids, late.topic_id] for late in r.late],
        "changed": r.changed,
        "lineage": [[e.kind, e.topic_id, e.other] for e in r.lineage],
        "views": views,
        "stats": eng.stats(),
        "texts": texts,
        "x": x.tolist(),
        "ts": ts.tolist(),
    }
    (HERE / "engine_v1_next.json").write_text(json.dumps(expected, indent=0))


if __name__ == "__main__":
    main()
