"""Typed, bounded query parameters: one declaration parses and documents."""

from __future__ import annotations

import pytest

from streamer.api.params import BadRequest, Param, parse

WINDOW = Param("window", "duration", "w", default="15m", low=60, high=86400)
LIMIT = Param("limit", "int", "n", default=10, low=1, high=100)
IDS = Param("topics", "ids", "ids", high=3)
KIND = Param("kind", "enum", "k", choices=("new", "burst"))
Q = Param("q", "str", "q", max_len=5, required=True)


def test_values_parse_to_types_with_defaults():
    v = parse({"limit": "7", "topics": "3, 1,3"}, [WINDOW, LIMIT, IDS, KIND])
    assert v == {"window": 900.0, "limit": 7, "topics": [3, 1], "kind": None}
    assert parse({"window": "1h30m"}, [WINDOW])["window"] == 5400.0


@pytest.mark.parametrize(
    ("spec", "raw", "message"),
    [
        (LIMIT, "0", "at least 1"),
        (LIMIT, "101", "at most 100"),
        (LIMIT, "1e3", "integer"),
        (WINDOW, "30s", "at least 60s"),
        (WINDOW, "2d", "at most 86400s"),
        (WINDOW, "15", "bad duration"),
        (WINDOW, "0m", "longer than zero"),
        (IDS, "1,2,3,4", "at most 3"),
        (IDS, "1,x", "comma-separated"),
        (IDS, "-1", "between 0 and 2"),
        (KIND, "boom", "one of new, burst"),
        (Q, "toolong", "longer than 5"),
    ],
)
def test_bad_values_are_400_with_a_message(spec, raw, message):
    with pytest.raises(BadRequest, match=message):
        spec.parse(raw)


def test_required_parameters_and_their_openapi_bounds():
    with pytest.raises(BadRequest, match="q is required"):
        Q.parse(None)
    assert LIMIT.openapi()["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 10,
    }
    assert Q.openapi()["required"] is True and Q.openapi()["schema"]["minLength"] == 1
    assert KIND.openapi()["schema"]["enum"] == ["new", "burst"]
    assert "60s to 86400s" in WINDOW.openapi()["description"]
