"""Keyword tokenisation across scripts."""

from __future__ import annotations

from workers.tokenize import tokenize


def test_noise_numbers_and_stop_words_are_dropped_hashtags_kept() -> None:
    text = "RT @bob: #Terremoto in Emilia!! 5.9 magnitude, the 3rd http://t.co/x &amp; more"
    assert tokenize(text) == ["terremoto", "emilia", "magnitude"]


def test_scripts_with_and_without_spaces() -> None:
    assert tokenize("Москва горит") == ["москва", "горит"]
    assert tokenize("地震発生") == ["地震", "震発", "発生"]
    assert tokenize("lac-mégantic don't") == ["lac-mégantic"]


def test_empty_and_symbol_only_text() -> None:
    assert tokenize("") == []
    assert tokenize("!!! ??? 123") == []
