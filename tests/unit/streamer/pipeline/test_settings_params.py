"""``--alert-params``, ``--event-time-params``, ``--interest-params``: settings fields,
checked with clear errors."""

from __future__ import annotations

import pytest

from streamer.config import ConfigError
from streamer.pipeline.params import alert_settings, event_time_policy, interest_settings
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


def test_event_time_params_are_checked_the_same_way():
    assert event_time_policy({"hold_wall_s": 5}).hold_wall_s == 5.0
    with pytest.raises(ConfigError, match=r"--event-time-params: unknown setting.*lateness"):
        event_time_policy({"lateness": 3})
    with pytest.raises(ConfigError, match="confirm_min must be an integer"):
        event_time_policy({"confirm_min": 1.5})
    with pytest.raises(ConfigError, match="confirm_min must be >= 1"):
        event_time_policy({"confirm_min": 0})


def test_interest_params_are_checked_the_same_way():
    assert interest_settings({"half_life_s": 86400}).half_life_s == 86400.0
    with pytest.raises(ConfigError, match=r"--interest-params: unknown setting.*half_life"):
        interest_settings({"half_life": 3})
    with pytest.raises(ConfigError, match="max_topics must be an integer"):
        interest_settings({"max_topics": 2.5})
    with pytest.raises(ConfigError, match="rank_beta must be in"):
        interest_settings({"rank_beta": 2})
