"""Fixtures for the streamer unit tests: a tiny stand-in topic engine.

The stand-in (``tests/stand_in_engine.py``) honours the engine contract of
``workers.topic_types`` with a trivial greedy rule, so the track logic is
tested without the real engine.
"""

from __future__ import annotations

import pytest

from tests.stand_in_engine import StandInEngine, make_stand_in


@pytest.fixture
def stand_in_factories():
    """``(make_engine, restore_engine)`` for :class:`streamer.pipeline.tracker.Tracker`."""
    return make_stand_in, StandInEngine.restore
