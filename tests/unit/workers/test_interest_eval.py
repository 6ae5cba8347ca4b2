"""The interest yardsticks of ``topictrack eval``, on a synthetic stream with loyal users."""

from __future__ import annotations

import numpy as np

from tests.unit.workers.synthetic import centres, posts
from workers.engine_config import EngineConfig
from workers.evaluation import LabeledStream, chain_hooks, replay
from workers.interest_eval import InterestReplay
from workers.interests import InterestSettings
from workers.topic_engine import TopicTrackEngine


def loyal_stream(seed: int = 0) -> tuple[LabeledStream, np.ndarray]:
    """Six stories, 60 users who each post mostly (80 %) about one of them."""
    rng = np.random.default_rng(seed)
    n, k = 1200, 6
    home = rng.integers(0, k, 60)
    who = rng.integers(0, 60, n)
    story = np.where(rng.random(n) < 0.8, home[who], rng.integers(0, k, n))
    c = centres(k, seed)
    emb = np.concatenate([posts(c[s], 1, seed=i) for i, s in enumerate(story.tolist())])
    ts = np.arange(n) * 600.0
    stream = LabeledStream(
        ids=[f"d{i}" for i in range(n)],
        ts=ts,
        texts=[f"story {s} words" for s in story.tolist()],
        labels=[f"s{s}" for s in story.tolist()],
        file_order=np.arange(n),
        users=[f"u{u}" for u in who.tolist()],
    )
    return stream, emb


def test_profiles_beat_every_baseline_on_loyal_users() -> None:
    stream, emb = loyal_stream()
    engine = TopicTrackEngine(emb.shape[1], EngineConfig())
    hook = InterestReplay(
        stream.users,
        stream.labels,
        stream.ts,
        emb,
        stream.ids,
        InterestSettings(half_life_s=86400.0),
        sweep=[3600.0],
        engine=engine,
    )
    replay(
        engine,
        emb,
        stream,
        [t.split() for t in stream.texts],
        16,
        on_batch=chain_hooks(hook),
        progress=False,
    )
    out = hook.report()
    for key in (
        "predictions",
        "users",
        "recall_at_1",
        "recall_at_5",
        "mrr",
        "label_recall_at_1",
        "label_mrr",
    ):
        for prefix in (
            "interest_",
            "baseline_trending_",
            "baseline_last_topic_",
            "baseline_counts_",
        ):
            assert f"{prefix}{key}" in out, f"{prefix}{key}"
    assert out["interest_predictions"] > 1000 and out["interest_users"] == 60
    for base in ("baseline_trending_", "baseline_last_topic_"):
        assert out["interest_recall_at_1"] > out[f"{base}recall_at_1"], base
        assert out["interest_label_recall_at_1"] > out[f"{base}label_recall_at_1"], base
    # Loyal users: the profile finds the home story (0.8 of posts) most of the time.
    assert out["interest_label_recall_at_1"] > 0.7
    assert abs(out["reference_gold_profile_label_recall_at_1"] - 0.8) < 0.08
    assert "3600" in out["interest_sweep"]


def test_chain_hooks_calls_each_and_skips_none() -> None:
    seen: list[int] = []
    hook = chain_hooks(None, lambda s, e, r, p: seen.append(s), lambda s, e, r, p: seen.append(e))
    assert hook is not None
    hook(1, 2, None, np.zeros(0))
    assert seen == [1, 2] and chain_hooks(None) is None


def test_the_dense_vector_only_adds_hits_after_the_users_own_topics_at_beta_1() -> None:
    stream, emb = loyal_stream(seed=1)
    engine = TopicTrackEngine(emb.shape[1], EngineConfig())
    hook = InterestReplay(stream.users, stream.labels, stream.ts, emb, stream.ids, engine=engine)
    replay(engine, emb, stream, [t.split() for t in stream.texts], 16, on_batch=hook,
           progress=False)  # fmt: skip
    out = hook.report()
    assert set(out["interest_blend"]) == {"0", "0.1", "0.25", "0.5", "0.75", "1"}
    # At beta = 1 the nearest topics come after the user's own: they add hits below
    # (or for users whose posts all still wait for a topic), never take one away.
    own_then_near = out["interest_blend"]["1"]
    for key in ("recall_at_1", "recall_at_5", "mrr", "label_recall_at_1"):
        assert own_then_near[key] >= out[f"sparse_only_{key}"], key
    assert own_then_near["recall_at_5"] > out["sparse_only_recall_at_5"]
