"""Danger-word matching and the duration format used in config."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.domain.durations import format_duration, parse_duration
from server.domain.risk import compile_danger_words, signals_danger

SWEDISH = ["självmord", "ta livet av", "vapen", "akut fara"]


@pytest.fixture
def swedish() -> re.Pattern[str] | None:
    return compile_danger_words(SWEDISH)


class TestDangerWords:
    @pytest.mark.parametrize(
        "text",
        [
            "Jag tror han planerar självmord",
            "SJÄLVMORD",
            "Självmord.",
            "han vill ta livet av sig",
            "hon har ett vapen!",
            "det är AKUT FARA nu",
        ],
    )
    def test_a_danger_word_anywhere_in_the_text_is_found(
        self, swedish: re.Pattern[str] | None, text: str
    ) -> None:
        assert signals_danger(text, swedish)

    @pytest.mark.parametrize(
        "text",
        [
            "Jag är orolig för min bror",
            "vapenvila i familjen",  # "vapen" only as part of a longer word
            "ta livet lugnt",
            "",
        ],
    )
    def test_ordinary_text_and_parts_of_words_are_not_danger(
        self, swedish: re.Pattern[str] | None, text: str
    ) -> None:
        assert not signals_danger(text, swedish)

    def test_compatibility_forms_are_normalised_before_matching(self) -> None:
        pattern = compile_danger_words(["bomb"])
        assert signals_danger("ｂｏｍｂ", pattern)  # full-width letters

    def test_words_in_config_are_normalised_too(self) -> None:
        pattern = compile_danger_words(["  KNIV  "])
        assert signals_danger("han bär en kniv", pattern)

    def test_arabic_words_match_whole(self) -> None:
        pattern = compile_danger_words(["انتحار", "سكين"])
        assert signals_danger("أخشى انتحار أخي", pattern)
        assert signals_danger("معه سكين", pattern)

    def test_the_longest_phrase_wins_over_a_shorter_one_it_contains(self) -> None:
        pattern = compile_danger_words(["fara", "akut fara"])
        assert pattern is not None
        match = pattern.search("det är akut fara")
        assert match is not None and match.group(0) == "akut fara"

    def test_regex_characters_in_words_are_literal(self) -> None:
        pattern = compile_danger_words(["a.b"])
        assert signals_danger("a.b", pattern)
        assert not signals_danger("axb", pattern)

    @pytest.mark.parametrize("words", [[], ["", "   "]])
    def test_no_words_means_no_pattern_and_nothing_signals(self, words: list[str]) -> None:
        pattern = compile_danger_words(words)
        assert pattern is None
        assert not signals_danger("självmord", pattern)


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("90s", timedelta(seconds=90)),
            ("2m", timedelta(minutes=2)),
            ("24h", timedelta(hours=24)),
            ("7d", timedelta(days=7)),
            (" 30 m ", timedelta(minutes=30)),
            ("0s", timedelta(0)),
        ],
    )
    def test_parse(self, text: str, expected: timedelta) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize("text", ["", "5", "1w", "-1m", "1.5h", "m5", "10 minutes", "2h30m"])
    def test_anything_else_is_refused_with_an_example(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"use e\.g\. 90s"):
            parse_duration(text)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (timedelta(days=7), "7d"),
            (timedelta(hours=10), "10h"),
            (timedelta(minutes=30), "30m"),
            (timedelta(seconds=90), "90s"),
            (timedelta(hours=25), "25h"),
            (timedelta(0), "0s"),
        ],
    )
    def test_format_uses_the_largest_whole_unit(self, value: timedelta, expected: str) -> None:
        assert format_duration(value) == expected

    @pytest.mark.parametrize("seconds", [1, 59, 60, 61, 3600, 5400, 86400, 180 * 86400])
    def test_format_and_parse_round_trip(self, seconds: int) -> None:
        value = timedelta(seconds=seconds)
        assert parse_duration(format_duration(value)) == value
