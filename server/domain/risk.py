"""Signals of imminent danger in a relative's words. The bot only informs and raises priority."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

DANGER_REASON = "danger_words"


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def compile_danger_words(words: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any phrase at word boundaries; None when there are no words."""
    phrases = sorted({_normalise(word).strip() for word in words if word.strip()}, key=len, reverse=True)
    if not phrases:
        return None
    alternatives = "|".join(re.escape(phrase) for phrase in phrases)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def signals_danger(text: str, pattern: re.Pattern[str] | None) -> bool:
    return pattern is not None and pattern.search(_normalise(text)) is not None
