"""One contract for every topic engine: ours, the River backend and the test stand-in.

Each check is a function that raises ``AssertionError`` when an engine breaks
the :class:`~workers.topic_types.TopicEngine` contract; the tests run every
check on every engine over synthetic streams whose births, merges, splits,
dormancy and wake-ups the topictrack engine is shown to go through. The last
tests run each check on a deliberately broken stand-in and expect it to
fail, so a check that stopped checking is noticed.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import pytest

from tests.stand_in_engine import StandInEngine
from tests.unit.workers.synthetic import DIM, centres, posts, texts_for, unit
from workers import UNASSIGNED, BatchResult, LineageEvent, TopicEngine, make_engine
from workers.topic_types import LineageKind

HOUR = 3600.0
T0 = 1_700_000_000.0

Factory = Callable[[], Any]


@dataclass
class Batch:
    x: np.ndarray
    ts: np.ndarray
    texts: list[str]
    doc_ids: list[str]
    terms: list[list[str]] | None = None

    def learn(self, engine: Any) -> BatchResult:
        return engine.learn_many(self.x, self.ts, self.texts, self.doc_ids, self.terms)


@dataclass
class Scenario:
    """A synthetic stream and the topictrack settings that make it eventful."""

    name: str
    batches: list[Batch]
    topictrack: dict[str, Any] = field(default_factory=dict)


def _batch(x: np.ndarray, t0: float, words: list[str], tag: str, spacing: float = 60.0) -> Batch:
    ts = t0 + spacing * np.arange(len(x))
    texts = texts_for(words, len(x), seed=len(tag))
    # Every other batch comes tokenised, as topictrack eval sends it.
    terms = [t.split() for t in texts] if len(tag) % 2 else None
    return Batch(x, ts, texts, [f"{tag}-{i}" for i in range(len(x))], terms)


def merge_scenario() -> Scenario:
    """Two sides of a story drift into one: two births, then a merge."""
    c, other = centres(2, seed=12)
    batches = []
    for k in range(12):
        s = 0.9 * (1 - k / 11)
        x = np.concatenate(
            [
                posts(unit(c + s * other), 8, seed=k, noise=0.03),
                posts(unit(c - s * other), 8, seed=100 + k, noise=0.03),
            ]
        )
        batches.append(_batch(x, T0 + 1200 * k, ["story", "sides"], f"m{k}"))
    batches.append(_batch(posts(c, 6, seed=999, noise=0.03), T0 + 1200 * 13, ["story"], "m-end"))
    params = {"assign_threshold": 0.6, "birth_threshold": 0.6, "half_life_s": 600.0}
    return Scenario("merge", batches, params)


def split_scenario() -> Scenario:
    """A new story grows inside an old topic until it splits off as a child."""
    c = centres(2, seed=21)
    old, new = c[0], unit(c[0] + 1.2 * c[1])
    batches = [_batch(posts(old, 25, seed=k), T0 + k * 600, ["old"], f"o{k}") for k in range(6)]
    batches += [
        _batch(posts(new, 25, seed=50 + k), T0 + 4000 + k * 600, ["new"], f"n{k}")
        for k in range(12)
    ]
    return Scenario("split", batches, {"assign_threshold": 0.3})


def dormancy_scenario() -> Scenario:
    """A story fades, wakes within the wake window, and after it returns as a new topic."""
    c = centres(3, seed=31)
    batches = [
        _batch(posts(c[0], 12), T0, ["storm"], "s1"),
        _batch(posts(c[1], 12, seed=4), T0 + 12 * HOUR, ["market"], "mk1"),
        _batch(posts(c[0], 8, seed=9), T0 + 13 * HOUR, ["storm"], "s2"),  # wakes
        _batch(posts(c[2], 8, seed=5), T0 + 40 * HOUR, ["rail"], "r1"),
        _batch(posts(c[0], 8, seed=10), T0 + 60 * HOUR, ["storm"], "s3"),  # a new topic
        _batch(centres(4, seed=33), T0 + 61 * HOUR, ["noise"], "x1"),  # nothing to join
    ]
    return Scenario("dormancy", batches, {"half_life_s": HOUR, "wake_window_s": 24 * HOUR})


def take_back_scenario() -> Scenario:
    """Posts one at a time: a story's opening joins an old topic, then is taken back."""
    a, b = centres(2, seed=95)
    first, later = unit(0.6 * a + 0.8 * b), unit(0.3 * a + 0.95 * b)
    batches = [_batch(posts(a, 20, seed=1), T0, ["market"], "old")]
    opening = posts(first, 3, seed=2)
    story = posts(later, 6, seed=3)
    t1 = T0 + HOUR
    batches += [_batch(opening[i : i + 1], t1 + 60 * i, ["open"], f"op{i}") for i in range(3)]
    batches += [
        _batch(story[i : i + 1], t1 + 600 + 60 * i, ["story"], f"story{i}") for i in range(6)
    ]
    return Scenario("take-back", batches)


SCENARIOS = [merge_scenario(), split_scenario(), dormancy_scenario(), take_back_scenario()]
ENGINES = ["topictrack", "river-streamkmeans", "stand-in"]


def factory(engine: str, scenario: Scenario) -> Factory:
    """A function building a fresh engine of that name for the scenario."""
    if engine == "topictrack":
        return lambda: make_engine("topictrack", DIM, **scenario.topictrack)
    if engine == "river-streamkmeans":
        return lambda: make_engine("river-streamkmeans", DIM, n_clusters=4, seed=1)
    return lambda: StandInEngine(dim=DIM, threshold=0.5, birth=3)


def restore(engine: Any) -> Any:
    """A twin of ``engine`` from its snapshot (every engine has ``restore``)."""
    return type(engine).restore(engine.snapshot())


# ---------------------------------------------------------------- checks
def _ids_in(res: BatchResult) -> set[int]:
    """Every topic id a result mentions."""
    ids = set(res.topic_ids.tolist()) | set(res.topk_ids.ravel().tolist()) | set(res.changed)
    ids |= {late.topic_id for late in res.late}
    ids |= {e.topic_id for e in res.lineage} | {e.other for e in res.lineage if e.other is not None}
    return ids - {UNASSIGNED}


def _view(engine: Any, topic_id: int) -> Any:
    """The engine's view of a topic it must have (an ``AssertionError`` if it has none)."""
    try:
        view = engine.topic(topic_id)
    except KeyError:
        raise AssertionError(f"the engine has no topic {topic_id}") from None
    assert view.topic_id == topic_id
    return view


def assert_same_result(a: BatchResult, b: BatchResult) -> None:
    np.testing.assert_array_equal(a.topic_ids, b.topic_ids)
    np.testing.assert_array_equal(a.similarity, b.similarity)
    np.testing.assert_array_equal(a.topk_ids, b.topk_ids)
    np.testing.assert_array_equal(a.topk_probs, b.topk_probs)
    assert [(x.topic_id, x.doc_ids) for x in a.late] == [(x.topic_id, x.doc_ids) for x in b.late]
    assert a.changed == b.changed
    assert a.lineage == b.lineage


def assert_same_topics(a: Any, b: Any) -> None:
    def views(engine: Any) -> list[tuple[Any, ...]]:
        return [
            (v.topic_id, v.size, v.status, v.keywords, v.weight, v.centroid.tolist(), v.version)
            for v in engine.topics(include_inactive=True)
        ]

    assert views(a) == views(b)
    assert a.stats() == b.stats()
    assert a.last_ts == b.last_ts


def _assert_shapes(res: BatchResult, n: int, k: int | None) -> int:
    """Shapes, dtypes and padding of one result; returns its top-k width."""
    assert res.topic_ids.shape == (n,) and res.topic_ids.dtype.kind == "i"
    assert res.similarity.shape == (n,) and res.similarity.dtype == np.float32
    assert res.topk_ids.ndim == 2 and res.topk_ids.shape[0] == n
    assert res.topk_ids.dtype.kind == "i" and res.topk_probs.dtype == np.float32
    assert res.topk_probs.shape == res.topk_ids.shape
    width = res.topk_ids.shape[1]
    assert k is None or width == k, "top-k width changed between batches"
    pad = res.topk_ids == UNASSIGNED
    assert (res.topk_probs[pad] == 0).all(), "padding has a probability"
    # A listed topic may have probability 0: topictrack lists a topic that had
    # faded by the post's own time with 0 (its score is -inf), not as padding.
    assert (res.topk_probs >= 0).all() and (res.topk_probs <= 1).all()
    # Padding only at the end of a row, listed topics distinct. (Neither the
    # order nor the assigned topic's place is common to the engines: topictrack
    # lists the assigned topic first unless it merged away in the batch, River
    # ranks by cosine to its centres, not by the distance it assigns with.)
    assert not (pad[:, :-1] & ~pad[:, 1:]).any(), "a listed topic after padding"
    for row, p in zip(res.topk_ids, pad, strict=True):
        assert len(set(row[~p].tolist())) == int((~p).sum()), "a topic listed twice"
    assert (res.topk_probs.sum(axis=1) <= 1 + 1e-5).all()
    return width


def check_result_shapes(make: Factory, batches: list[Batch]) -> None:
    """Every result has the documented shapes, and top-k padding is ``-1`` with 0 probability."""
    engine = make()
    empty = engine.predict_many(np.zeros((3, engine.dim), np.float32))  # no topic yet
    k = _assert_shapes(empty, 3, None)
    assert (empty.topk_ids == UNASSIGNED).all()
    nothing = engine.learn_many(np.zeros((0, engine.dim), np.float32), np.zeros(0), [])
    _assert_shapes(nothing, 0, k)
    for batch in batches:
        _assert_shapes(batch.learn(engine), len(batch.ts), k)
        _assert_shapes(engine.predict_many(batch.x), len(batch.ts), k)


def check_predict_changes_nothing(make: Factory, batches: list[Batch]) -> None:
    """``predict_many`` leaves the state as it was: same snapshot, same later results."""
    engine = make()
    half = len(batches) // 2
    for batch in batches[:half]:
        batch.learn(engine)
    before = engine.snapshot()
    twin = restore(engine)
    for batch in batches[half:]:
        engine.predict_many(batch.x)
    assert engine.snapshot() == before, "predict_many changed the snapshot"
    for batch in batches[half:]:
        assert_same_result(batch.learn(engine), batch.learn(twin))
    assert_same_topics(engine, twin)


def check_restored_twin(make: Factory, batches: list[Batch]) -> None:
    """A twin restored from a snapshot (at any point) gives the original's results."""
    engine = make()
    twin = restore(engine)  # even from an empty engine
    for batch in batches:
        assert_same_result(batch.learn(engine), batch.learn(twin))
        assert_same_topics(engine, twin)
        twin = restore(twin)  # a twin of the twin, after every batch
    assert_same_topics(engine, twin)


def check_ids_never_reused(make: Factory, batches: list[Batch]) -> None:
    """A topic id is born once, never before it was seen, and a merged-away id stays gone."""
    engine = make()
    seen: set[int] = set()
    born: set[int] = set()
    merged: set[int] = set()
    for batch in batches:
        res = batch.learn(engine)
        # Posts go where they went when processed: a topic merged at the end
        # of this batch may still be named; one merged before may not.
        assigned = set(res.topic_ids.tolist()) | {late.topic_id for late in res.late}
        gone = merged & assigned
        assert not gone, f"posts assigned to merged-away topic(s) {gone}"
        for e in res.lineage:
            if e.kind in ("born", "split"):
                assert e.topic_id not in seen | born, f"id {e.topic_id} born again"
                born.add(e.topic_id)
            if e.kind == "merged":
                merged.add(e.topic_id)
        seen |= _ids_in(res)
        for t in merged:
            assert _view(engine, t).status == "merged"
    for t in seen:
        assert _view(engine, t).topic_id == t


def check_lineage_names_existing_topics(make: Factory, batches: list[Batch]) -> None:
    """Every id a result names (lineage, assignments, late, changed) is a topic the engine has."""
    kinds = set(get_args(LineageKind))
    engine = make()
    for batch in batches:
        res = batch.learn(engine)
        for t in _ids_in(res):
            _view(engine, t)
        for e in res.lineage:
            assert isinstance(e, LineageEvent) and e.kind in kinds
            if e.kind in ("merged", "split"):
                assert e.other is not None and e.other != e.topic_id
            # An edge, once recorded, is what the topic's view says.
            view = _view(engine, e.topic_id)
            if e.kind == "merged":
                assert (view.status, view.merged_into) == ("merged", e.other)
            if e.kind == "split":
                assert view.split_from == e.other


def check_protocol(make: Factory, batches: Iterable[Batch] = ()) -> None:
    """The engine has every member of :class:`TopicEngine`, with the protocol's signatures."""
    engine = make()
    assert isinstance(engine, TopicEngine)
    for name, member in vars(TopicEngine).items():
        if name.startswith("_") or not callable(member):
            continue
        want = inspect.signature(member)
        got = inspect.signature(getattr(type(engine), name))
        shape = [(p.name, p.kind, p.default) for p in want.parameters.values()]
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == shape, name
    assert isinstance(type(engine).last_ts, property)
    assert isinstance(engine.dim, int)
    assert inspect.ismethod(type(engine).restore)  # a classmethod rebuilding from snapshot()


CHECKS = [
    check_protocol,
    check_result_shapes,
    check_predict_changes_nothing,
    check_restored_twin,
    check_ids_never_reused,
    check_lineage_names_existing_topics,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_contract(engine: str, scenario: Scenario, check: Callable[..., None]) -> None:
    check(factory(engine, scenario), scenario.batches)


def test_the_scenarios_take_topictrack_through_every_identity_change() -> None:
    """Else the id and lineage checks above would check nothing."""
    kinds: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        engine = factory("topictrack", scenario)()
        results = [batch.learn(engine) for batch in scenario.batches]
        kinds[scenario.name] = {e.kind for r in results for e in r.lineage}
        if scenario.name == "take-back":
            assert any(len(late.previous) for r in results for late in r.late)
    assert {"born", "merged"} <= kinds["merge"]
    assert "split" in kinds["split"]
    assert {"dormant", "woke"} <= kinds["dormancy"]
    assert len({e for k in kinds.values() for e in k}) >= 5


# ------------------------------------------------- the checks can fail
class PadsWithZero(StandInEngine):
    """Pads top-k with topic 0 (a real topic) instead of ``UNASSIGNED``."""

    def learn_many(self, *args: Any, **kwargs: Any) -> BatchResult:
        res = super().learn_many(*args, **kwargs)
        res.topk_ids[res.topk_ids == UNASSIGNED] = 0
        return res


class LearnsWhenPredicting(StandInEngine):
    def predict_many(self, embeddings: np.ndarray) -> BatchResult:
        n = len(embeddings)
        return self.learn_many(embeddings, np.full(n, self.last_ts), [""] * n)


class LosesTheBufferOnRestore(StandInEngine):
    def snapshot(self) -> bytes:
        return pickle.dumps({**self.__dict__, "buffer": []})


class RenumbersTopics(StandInEngine):
    """Reports internal topic ``t`` as ``t % 2``: a third topic reuses id 0."""

    def learn_many(self, *args: Any, **kwargs: Any) -> BatchResult:
        res = super().learn_many(*args, **kwargs)
        res.topic_ids = np.where(res.topic_ids >= 0, res.topic_ids % 2, res.topic_ids)
        res.lineage = [LineageEvent(e.kind, e.topic_id % 2, e.ts) for e in res.lineage]
        return res


class NamesAGhost(StandInEngine):
    def learn_many(self, *args: Any, **kwargs: Any) -> BatchResult:
        res = super().learn_many(*args, **kwargs)
        res.lineage.append(LineageEvent("merged", 0, 0.0, other=10**6))
        return res


class WithoutTerms(StandInEngine):
    """``learn_many`` as the stand-in had it before: no ``terms``."""

    def learn_many(self, embeddings, ts, texts, doc_ids=None) -> BatchResult:  # type: ignore[override]
        return super().learn_many(embeddings, ts, texts, doc_ids)


def _stream_with_three_births() -> list[Batch]:
    c = centres(3, seed=7)
    return [_batch(posts(c[i], 6, seed=i), T0 + HOUR * i, [f"w{i}"], f"b{i}") for i in range(3)]


@pytest.mark.parametrize(
    ("check", "broken"),
    [
        (check_result_shapes, PadsWithZero),
        (check_predict_changes_nothing, LearnsWhenPredicting),
        (check_restored_twin, LosesTheBufferOnRestore),
        (check_ids_never_reused, RenumbersTopics),
        (check_lineage_names_existing_topics, NamesAGhost),
        (check_protocol, WithoutTerms),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_each_check_catches_the_bug_it_names(check: Callable[..., None], broken: type) -> None:
    batches = _stream_with_three_births()
    # A buffered post at the end, so a lost buffer shows in the next batch's births.
    batches.insert(2, _batch(posts(centres(3, seed=7)[2], 2, seed=9), T0 + 1.5 * HOUR, ["w"], "w"))
    check(lambda: StandInEngine(dim=DIM, threshold=0.5, birth=3), batches)  # passes as it is
    with pytest.raises(AssertionError):
        check(lambda: broken(dim=DIM, threshold=0.5, birth=3), batches)
