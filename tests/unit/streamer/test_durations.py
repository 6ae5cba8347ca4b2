"""Durations on the command line and in API parameters."""

from __future__ import annotations

import argparse

import pytest

from streamer.durations import duration_arg, format_duration, parse_duration


def test_durations():
    assert parse_duration("15m") == 900 and parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800 and parse_duration(" 90S ") == 90
    assert parse_duration("0.5h") == 1800 and parse_duration("1w") == 7 * 86400
    for bad, why in (("15", "unit is required"), ("15x", "bad duration"), ("", "empty")):
        with pytest.raises(ValueError, match=why):
            parse_duration(bad)
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0m")
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 90s"):
        duration_arg("m15")
    assert [format_duration(s) for s in (900, 5400, 86400, 61, 0)] == [
        "15m",
        "1h30m",
        "1d",
        "1m1s",
        "0s",
    ]
