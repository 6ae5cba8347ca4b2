"""Fixtures for the streamer unit tests: a tiny stand-in topic engine.

The stand-in (``tests/stand_in_engine.py``) honours the engine contract of
``workers.topic_types`` with a trivial greedy rule, so the track logic is
tested without the real engine.
"""

from __future__ import annotations

import pytest

from tests.stand_in_engine import StandInEngine, make_stand_in


def pytest_configure(config):
    # kafka-python 3.0.12 loads its protocol schemas with deprecated
    # importlib.resources calls: hundreds of warnings that are not ours.
    for msg in ("read_text is deprecated", "open_text is deprecated"):
        config.addinivalue_line("filterwarnings", f"ignore:{msg}:DeprecationWarning")


@pytest.fixture
def stand_in_factories():
    """``(make_engine, restore_engine)`` for :class:`streamer.pipeline.tracker.Tracker`."""
    return make_stand_in, StandInEngine.restore
