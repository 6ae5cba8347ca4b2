"""The engine factory and the River STREAMKMeans backend."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.workers.synthetic import DIM, centres, posts, texts_for
from workers.engines import make_engine, restore_engine
from workers.river_engine import RiverStreamKMeansEngine
from workers.topic_engine import TopicTrackEngine


def test_factory_builds_each_engine_and_rejects_unknowns() -> None:
    assert isinstance(make_engine("topictrack", DIM), TopicTrackEngine)
    assert isinstance(make_engine("river-streamkmeans", DIM, n_clusters=3), RiverStreamKMeansEngine)
    with pytest.raises(ValueError, match="unknown engine"):
        make_engine("kmeans")
    with pytest.raises(ValueError, match="unknown river-streamkmeans setting"):
        make_engine("river-streamkmeans", DIM, threshold=0.3)
    with pytest.raises(ValueError, match="unknown engine setting"):
        make_engine("topictrack", DIM, n_clusters=3)


def test_river_backend_fulfils_the_engine_contract_and_round_trips() -> None:
    eng = make_engine("river-streamkmeans", DIM, n_clusters=2, seed=1)
    c = centres(2, seed=5)
    x = np.concatenate([posts(c[0], 40), posts(c[1], 40, seed=2)])
    order = np.random.default_rng(0).permutation(80)
    x = x[order]
    texts = texts_for(["alpha", "beta"], 80)
    res = eng.learn_many(x[:60], np.arange(60.0), texts[:60])
    assert res.topk_ids.shape == (60, 2)
    assert np.allclose(res.topk_probs.sum(axis=1), 1.0, atol=1e-5)
    twin = restore_engine(eng.snapshot())
    a = eng.learn_many(x[60:], np.arange(60.0, 80.0), texts[60:])
    b = twin.learn_many(x[60:], np.arange(60.0, 80.0), texts[60:])
    np.testing.assert_array_equal(a.topic_ids, b.topic_ids)
    assert set(a.topic_ids.tolist()) <= {1, 2}
    assert (a.topk_ids[:, 0] >= 1).all()
    assert sum(v.size for v in eng.topics()) == 80
    assert all(v.keywords for v in eng.topics())
