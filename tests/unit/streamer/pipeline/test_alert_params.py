"""``--alert-params``: AlertSettings fields, checked with clear errors."""

from __future__ import annotations

import pytest

from streamer.config import ConfigError
from streamer.pipeline.alert_params import alert_settings
from workers.alerts import AlertSettings


def test_alert_params_are_checked_with_clear_errors():
    assert alert_settings({}) == AlertSettings()
    s = alert_settings({"new_min_docs": 20.0, "burst_score": 8})
    assert s.new_min_docs == 20 and isinstance(s.new_min_docs, int) and s.burst_score == 8.0
    with pytest.raises(ConfigError, match=r"unknown setting.*new_min_dox.*known: .*new_min_docs"):
        alert_settings({"new_min_dox": 3})
    with pytest.raises(ConfigError, match="new_min_docs must be an integer"):
        alert_settings({"new_min_docs": 2.5})
    with pytest.raises(ConfigError, match="cooldown_s must be a number"):
        alert_settings({"cooldown_s": "1h"})
    with pytest.raises(ConfigError, match="must be a number"):
        alert_settings({"burst_score": True})
    with pytest.raises(ConfigError, match="hysteresis"):
        alert_settings({"burst_score": 1.0})
