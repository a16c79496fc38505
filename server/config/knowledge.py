"""Canned answers and danger words per language, from config/knowledge/<lang>.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from server.domain.risk import compile_danger_words


@dataclass(frozen=True)
class CannedAnswer:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class LanguageKnowledge:
    canned: tuple[CannedAnswer, ...]
    danger_pattern: re.Pattern[str] | None


class Knowledge:
    def __init__(self, directory: Path) -> None:
        self._by_language: dict[str, LanguageKnowledge] = {}
        self._combined: dict[str, re.Pattern[str] | None] = {}
        for path in sorted(directory.glob("*.toml")):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            canned = tuple(
                CannedAnswer(str(item["id"]), str(item["title"]), str(item["text"]))
                for item in data.get("canned", [])
            )
            self._by_language[path.stem] = LanguageKnowledge(
                canned, compile_danger_words(data.get("danger_words", []))
            )

    def canned(self, language: str) -> tuple[CannedAnswer, ...]:
        found = self._by_language.get(language)
        return found.canned if found else ()

    def danger_pattern(self, language: str) -> re.Pattern[str] | None:
        """Danger words of the language plus Swedish and English, which people mix in."""
        if language in self._combined:
            return self._combined[language]
        words = [
            self._by_language[code].danger_pattern
            for code in dict.fromkeys((language, "sv", "en"))
            if code in self._by_language
        ]
        combined = [pattern.pattern for pattern in words if pattern is not None]
        pattern = re.compile("|".join(combined)) if combined else None
        self._combined[language] = pattern
        return pattern
