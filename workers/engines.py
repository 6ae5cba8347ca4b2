"""Build and restore topic engines by name (the ``--clusterer`` / ``--engine`` choice)."""

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
        ``topictrack`` (ours) or ``river-streamkmeans``.
    dim:
        Embedding dimension of the model feeding it.
    params:
        :class:`~workers.engine_config.EngineConfig` fields for ``topictrack``;
        ``RiverStreamKMeansEngine`` arguments for the River backend. Unknown
        names raise ``ValueError`` listing the known ones.
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
    """Rebuild whichever engine wrote ``blob`` (see each engine's ``snapshot``)."""
    if blob.startswith(b"{") and RIVER_FORMAT.encode() in blob[:200]:
        return RiverStreamKMeansEngine.restore(blob)
    return TopicTrackEngine.restore(blob)
