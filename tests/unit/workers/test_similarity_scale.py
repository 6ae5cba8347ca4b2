"""The engine's thresholds follow the stream's similarity scale (workers.similarity_scale)."""

from __future__ import annotations

import numpy as np

from tests.unit.workers.synthetic import DIM, centres, posts
from workers import npz_blob
from workers.engine_config import EngineConfig
from workers.similarity_scale import SimilarityScale
from workers.topic_engine import TopicTrackEngine

T0 = 1_700_000_000.0


def loose_stream(n_topics: int = 8, per_topic: int = 120, noise: float = 0.07, seed: int = 3):
    """Topics whose posts sit at cosine ~0.35 of each other, as long forum posts do."""
    c = centres(n_topics, seed=seed)
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [posts(c[k], per_topic, seed=seed + k, noise=noise) for k in range(n_topics)]
    )
    order = rng.permutation(len(x))
    ts = T0 + 600.0 * np.arange(len(x))
    return x[order], ts, np.repeat(np.arange(n_topics), per_topic)[order]


def unassigned_share(config: EngineConfig) -> tuple[float, TopicTrackEngine]:
    x, ts, _ = loose_stream()
    eng = TopicTrackEngine(DIM, config)
    out = []
    for s in range(0, len(x), 4):
        out.append(eng.learn_many(x[s : s + 4], ts[s : s + 4], ["post"] * len(x[s : s + 4])))
    return float(np.mean(np.concatenate([r.topic_ids for r in out]) < 0)), eng


def test_a_stream_of_loosely_similar_posts_lowers_the_thresholds_and_gets_assigned() -> None:
    x, _, labels = loose_stream()
    same = x @ x.T
    assert np.median(same[labels[:, None] == labels[None, :]]) < 0.5  # loose, like 20 Newsgroups
    fixed, stuck = unassigned_share(EngineConfig(similarity_reference=0.0))
    assert fixed > 0.95 and stuck.table.next_id == 1  # at the tweets' thresholds: no topic
    scaled, eng = unassigned_share(EngineConfig())
    assert 0.5 <= eng.scale.factor < 0.8
    assert eng.table.next_id - 1 == 8 and scaled < 0.7  # every topic born


def test_tight_posts_keep_the_tuned_thresholds() -> None:
    scale = SimilarityScale(DIM, reference=0.62, floor=0.5)
    c = centres(4, seed=5)
    for k in range(200):
        scale.observe(posts(c[k % 4], 8, seed=k))  # tweets of a few events: tight
    assert scale.n_probes >= 32 and scale.factor == 1.0


def test_the_scale_survives_a_snapshot_and_a_format_2_snapshot_still_restores() -> None:
    _, eng = unassigned_share(EngineConfig())
    again = TopicTrackEngine.restore(eng.snapshot())
    assert again.scale.factor == eng.scale.factor and again.scale.n_seen == eng.scale.n_seen
    # Format 2 (before the scale): same layout without the part; it starts measuring afresh.
    meta, arrays = npz_blob.unpack(eng.snapshot(), "topictrack-engine/3")
    meta["format"] = "topictrack-engine/2"
    del meta["parts"]["scale"]
    del meta["config"]["similarity_reference"], meta["config"]["similarity_floor"]
    kept = {k: arrays[k] for k in arrays.files if k != "meta_json" and not k.startswith("scale_")}
    old = TopicTrackEngine.restore(npz_blob.pack(meta, kept))
    assert old.scale.n_seen == 0 and old.scale.factor == 1.0
    assert old.topics()[0].topic_id == eng.topics()[0].topic_id


def test_probes_do_not_alias_with_a_periodic_stream() -> None:
    """A stream feeding each topic 8 posts in a row (the throughput benchmark's warm-up):
    a fixed stride of 8 probed only first posts, which have no neighbours yet, and
    pinned the scale to its floor. Probed positions must cover every phase."""
    scale = SimilarityScale(DIM, reference=0.62, floor=0.5)
    probed: list[int] = []
    x = posts(centres(1, seed=8)[0], 7, seed=1)
    for _ in range(800):
        before = scale.n_probes
        scale.observe(x[:1])  # one post per batch, as a quiet live stream sends
        if scale.n_probes > before:
            probed.append((scale.n_seen - 1) % 8)
    counts = np.bincount(probed, minlength=8)
    assert len(probed) > 25 and (counts > 0).sum() >= 6, counts


def test_many_interleaved_tight_topics_keep_the_tuned_thresholds() -> None:
    """1,000 live topics leave about one post of each in the ring: the neighbours look far
    apart, but every post finds its topic, so the scale does not apply."""
    scale = SimilarityScale(DIM, reference=0.62, floor=0.5)
    c = centres(1000, seed=9)
    rng = np.random.default_rng(0)
    for s in range(40):
        scale.observe(np.stack([posts(c[k], 1, seed=s * 64 + j)[0]
                                for j, k in enumerate(rng.integers(0, 1000, 64))]))  # fmt: skip
        scale.note_unassigned(np.zeros(64, dtype=bool))
    assert scale.measured < 0.9 and scale.factor == 1.0
