"""Drift detectors go into snapshots as plain data, and old pickles load only river's classes."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from workers.drift import DriftMonitor


def _feed(mon: DriftMonitor, sims: np.ndarray, topics: int = 3) -> list[list[int]]:
    out = []
    for k in range(0, len(sims), 10):
        chunk = sims[k : k + 10]
        out.append(mon.update(np.arange(len(chunk)) % topics + 1, chunk))
    return out


@pytest.mark.parametrize("kind", ["adwin", "page-hinkley"])
def test_a_restored_monitor_detects_exactly_what_the_original_does(kind):
    rng = np.random.default_rng(3)
    sims = np.r_[rng.normal(0.7, 0.03, 600), rng.normal(0.35, 0.03, 600)]
    mon = DriftMonitor(kind)
    _feed(mon, sims[:500])
    arrays, meta = mon.state()
    assert "pickle" not in arrays and all(a.dtype != object for a in arrays.values())
    twin = DriftMonitor(kind)
    twin.load(arrays, meta)
    a, b = _feed(mon, sims[500:]), _feed(twin, sims[500:])
    assert a == b and any(a), "the later shift must be detected, by both"


def test_an_old_pickle_is_read_but_only_with_rivers_classes():
    mon = DriftMonitor("adwin")
    _feed(mon, np.full(100, 0.6))
    legacy = {"pickle": np.frombuffer(pickle.dumps(mon.detectors), dtype=np.uint8)}
    old = DriftMonitor("adwin")
    old.load(legacy, {})
    assert sorted(old.detectors) == sorted(mon.detectors)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    evil = {"pickle": np.frombuffer(pickle.dumps({1: Evil()}), dtype=np.uint8)}
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        DriftMonitor("adwin").load(evil, {})
