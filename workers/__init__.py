"""topictrack's compute: the online topic engines, alerts and trends, with no Kafka in sight.

Plain classes with ``learn_many`` / ``predict_many`` style methods, testable
without a broker. The design of the engine and its defaults is in
``docs/engine.md``; the yardsticks ``topictrack eval`` reports are in
``docs/evaluation.md``.

Names are imported on first use (PEP 562), so ``import workers.trending``
stays light and ``from workers import TopicTrackEngine`` loads the engine
and river, never torch: the sentence embedder, the one part that needs a
model, stays at ``workers.embedding.Embedder``.

Examples
--------
Six posts saying the same thing become a topic:

>>> import numpy as np
>>> from workers import TopicTrackEngine
>>> rng = np.random.default_rng(0)
>>> story = rng.standard_normal(384)
>>> posts = story + 0.5 * rng.standard_normal((6, 384))  # posts near the story
>>> posts = (posts / np.linalg.norm(posts, axis=1, keepdims=True)).astype(np.float32)
>>> ts = 1_700_000_000.0 + 60.0 * np.arange(6)
>>> texts = [f"river flood warning {i}" for i in range(6)]
>>> engine = TopicTrackEngine(dim=384)
>>> result = engine.learn_many(posts, ts, texts)
>>> result.topic_ids.tolist()
[1, 1, 1, 1, 1, 1]
>>> [(event.kind, event.topic_id) for event in result.lineage]
[('born', 1)]
>>> engine.topic(1).keywords[:3]
['river', 'flood', 'warning']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.alerts import Alert, AlertDetector, AlertSettings
    from workers.engine_config import EngineConfig
    from workers.engines import ENGINE_NAMES, make_engine, restore_engine
    from workers.event_clock import EventClock, EventTimePolicy
    from workers.interests import InterestSettings, UserInterests
    from workers.river_engine import RiverStreamKMeansEngine
    from workers.topic_engine import TopicTrackEngine
    from workers.topic_types import (
        UNASSIGNED,
        BatchResult,
        LateAssignment,
        LineageEvent,
        TopicEngine,
        TopicView,
    )
    from workers.trending import TrendCounter, TrendSettings

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "TopicTrackEngine": "workers.topic_engine",
    "EngineConfig": "workers.engine_config",
    "BatchResult": "workers.topic_types",
    "TopicView": "workers.topic_types",
    "LateAssignment": "workers.topic_types",
    "LineageEvent": "workers.topic_types",
    "UNASSIGNED": "workers.topic_types",
    "TopicEngine": "workers.topic_types",
    "AlertDetector": "workers.alerts",
    "AlertSettings": "workers.alerts",
    "Alert": "workers.alerts",
    "TrendCounter": "workers.trending",
    "TrendSettings": "workers.trending",
    "make_engine": "workers.engines",
    "restore_engine": "workers.engines",
    "ENGINE_NAMES": "workers.engines",
    "RiverStreamKMeansEngine": "workers.river_engine",
    "EventClock": "workers.event_clock",
    "EventTimePolicy": "workers.event_clock",
    "UserInterests": "workers.interests",
    "InterestSettings": "workers.interests",
}

__all__ = [
    "ENGINE_NAMES",
    "UNASSIGNED",
    "Alert",
    "AlertDetector",
    "AlertSettings",
    "BatchResult",
    "EngineConfig",
    "EventClock",
    "EventTimePolicy",
    "InterestSettings",
    "LateAssignment",
    "LineageEvent",
    "RiverStreamKMeansEngine",
    "TopicEngine",
    "TopicTrackEngine",
    "TopicView",
    "TrendCounter",
    "TrendSettings",
    "UserInterests",
    "make_engine",
    "restore_engine",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # next time without this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
