"""Build and restore topic engines by name (the ``--engine`` choice)."""

from __future__ import annotations

from typing import Any

from workers.engine_config import EngineConfig
from workers.river_engine import SNAPSHOT_FORMAT as RIVER_FORMAT
from workers.river_engine import RiverStreamKMeansEngine
from workers.topic_engine import TopicTrackEngine
from workers.topic_types import TopicEngine

#: Engine names accepted by :func:`make_engine`; the first is the default.
ENGINE_NAMES = ("topictrack", "river-streamkmeans")


def make_engine(name: str = "topictrack", dim: int = 384, **params: Any) -> TopicEngine:
    """A fresh engine.

    Parameters
    ----------
    name:
        One of :data:`ENGINE_NAMES`: ``topictrack`` (ours) or ``river-streamkmeans``.
    dim:
        Embedding dimension of the model feeding it.
    params:
        :class:`~workers.engine_config.EngineConfig` fields for ``topictrack``;
        ``RiverStreamKMeansEngine`` arguments for the River backend. Unknown
        names raise ``ValueError`` listing the known ones.

    Returns
    -------
    TopicEngine
        A :class:`~workers.topic_engine.TopicTrackEngine` or a
        :class:`~workers.river_engine.RiverStreamKMeansEngine`.

    Examples
    --------
    >>> from workers import ENGINE_NAMES, make_engine
    >>> ENGINE_NAMES
    ('topictrack', 'river-streamkmeans')
    >>> make_engine("topictrack", dim=8, min_topic_size=3).config.min_topic_size
    3
    >>> make_engine("river-streamkmeans", dim=8, n_clusters=4).name
    'river-streamkmeans'
    >>> make_engine("kmeans")
    Traceback (most recent call last):
    ...
    ValueError: unknown engine 'kmeans'; choose one of topictrack, river-streamkmeans
    """
    if name == "topictrack":
        return TopicTrackEngine(dim, EngineConfig.from_dict(params))
    if name == "river-streamkmeans":
        known = {
            "n_clusters",
            "chunk_size",
            "halflife",
            "seed",
            "top_k",
            "temperature",
            "n_keywords",
        }
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(
                f"unknown river-streamkmeans setting(s) {unknown}; known: {sorted(known)}"
            )
        return RiverStreamKMeansEngine(dim, **params)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


def restore_engine(blob: bytes) -> TopicEngine:
    """Rebuild whichever engine wrote ``blob`` (see each engine's ``snapshot``).

    Parameters
    ----------
    blob:
        A ``snapshot()`` of an engine that :func:`make_engine` builds. River's
        snapshots and our drift detectors are pickled: only restore your own.

    Returns
    -------
    TopicEngine
        The engine, in the state it was in when the snapshot was taken.

    Examples
    --------
    >>> from workers import make_engine, restore_engine
    >>> for name in ("topictrack", "river-streamkmeans"):
    ...     engine = restore_engine(make_engine(name, dim=8).snapshot())
    ...     print(type(engine).__name__, engine.dim)
    TopicTrackEngine 8
    RiverStreamKMeansEngine 8
    """
    if blob.startswith(b"{") and RIVER_FORMAT.encode() in blob[:200]:
        return RiverStreamKMeansEngine.restore(blob)
    return TopicTrackEngine.restore(blob)
