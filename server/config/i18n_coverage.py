"""How complete each language is for what a relative sees: the catalogs (web/i18n/<lang>.json,
against sv.json) and the canned answers and danger words (config/knowledge/<lang>.toml, against
sv.toml). `kinline i18n check` prints this report.

A key is relative-facing unless it is under the top-level `console` object or its second segment
is `console` (`booking.console.*`, `escalation.console.*`): the console may stay sv and en."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFERENCE = "sv"
LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
# Sections split one level further, so a gap in booking.errors is not hidden by booking's size.
SPLIT_SECTIONS = ("booking", "escalation")
PLURAL_EXACT = ("zero", "one", "two")
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def flatten(catalog: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> leaf value."""
    leaves: dict[str, Any] = {}
    for key, value in catalog.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves.update(flatten(value, f"{dotted}."))
        else:
            leaves[dotted] = value
    return leaves


def relative_facing(key: str) -> bool:
    parts = key.split(".")
    return parts[0] != "console" and (len(parts) < 2 or parts[1] != "console")


def section(key: str) -> str:
    parts = key.split(".")
    if parts[0] in SPLIT_SECTIONS and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0]


def placeholders(text: str) -> frozenset[str]:
    return frozenset(PLACEHOLDER.findall(text))


def placeholders_match(key: str, expected: frozenset[str], found: frozenset[str]) -> bool:
    """The same names; a plural form for an exact number (`_zero`, `_one`, `_two`) may spell the
    number out and leave `{count}` out ("دقيقة واحدة"), as plural rules allow."""
    if found == expected:
        return True
    exact_number = key.rsplit("_", 1)[-1] in PLURAL_EXACT
    return exact_number and found == expected - {"count"}


@dataclass(frozen=True)
class PlaceholderMismatch:
    key: str
    expected: frozenset[str]
    found: frozenset[str]


@dataclass
class LanguageCoverage:
    language: str
    total: int
    missing: list[str] = field(default_factory=list)
    placeholders: list[PlaceholderMismatch] = field(default_factory=list)
    # section -> (present, total)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)
    canned_missing: list[str] = field(default_factory=list)
    canned_total: int = 0
    danger_words: int = 0
    knowledge_file: bool = True
    notices_missing: list[str] = field(default_factory=list)
    notices_total: int = 0

    @property
    def complete(self) -> bool:
        return not (
            self.missing
            or self.placeholders
            or self.canned_missing
            or self.danger_words == 0
            or self.notices_missing
        )


@dataclass
class Coverage:
    languages: list[LanguageCoverage]

    @property
    def complete(self) -> bool:
        return all(language.complete for language in self.languages)

    def language(self, code: str) -> LanguageCoverage:
        return next(item for item in self.languages if item.language == code)


def catalog_coverage(reference: dict[str, Any], catalog: dict[str, Any], language: str) -> LanguageCoverage:
    """Which relative-facing keys of the reference catalog the catalog lacks or gets wrong."""
    wanted = {key: value for key, value in flatten(reference).items() if relative_facing(key)}
    have = flatten(catalog)
    result = LanguageCoverage(language, len(wanted))
    counts: dict[str, list[int]] = {}
    for key, source in wanted.items():
        count = counts.setdefault(section(key), [0, 0])
        count[1] += 1
        value = have.get(key)
        if not isinstance(value, str) or not value.strip():
            result.missing.append(key)
            continue
        count[0] += 1
        if isinstance(source, str) and not placeholders_match(key, placeholders(source), placeholders(value)):
            result.placeholders.append(PlaceholderMismatch(key, placeholders(source), placeholders(value)))
    result.sections = {name: (present, total) for name, (present, total) in counts.items()}
    return result


def add_knowledge(
    result: LanguageCoverage, reference: dict[str, Any], knowledge: dict[str, Any] | None
) -> None:
    """Canned answers with the reference's ids, and at least one danger word."""
    wanted = [str(item["id"]) for item in reference.get("canned", [])]
    result.canned_total = len(wanted)
    result.knowledge_file = knowledge is not None
    data = knowledge or {}
    have = {str(item.get("id")) for item in data.get("canned", []) if str(item.get("text", "")).strip()}
    result.canned_missing = [id_ for id_ in wanted if id_ not in have]
    result.danger_words = sum(1 for word in data.get("danger_words", []) if str(word).strip())


def add_escalation_notices(result: LanguageCoverage, escalation: dict[str, Any], language: str) -> None:
    """The notice each escalation kind posts into the relative's conversation, with Swedish's {names}."""
    kinds: dict[str, Any] = escalation.get("kinds", {})
    result.notices_total = len(kinds)
    for kind, rule in sorted(kinds.items()):
        texts = rule.get("text", {})
        source = str(texts.get(REFERENCE, {}).get("relative_notice", ""))
        notice = str(texts.get(language, {}).get("relative_notice", ""))
        key = f"escalation.toml kinds.{kind}.text.{language}.relative_notice"
        if not notice.strip():
            result.notices_missing.append(key)
        elif not placeholders_match(key, placeholders(source), placeholders(notice)):
            result.placeholders.append(PlaceholderMismatch(key, placeholders(source), placeholders(notice)))


def _read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}


def _read_toml(path: Path) -> dict[str, Any] | None:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def check(i18n_dir: Path, config: Path, languages: tuple[str, ...] = LANGUAGES) -> Coverage:
    """The catalogs in ``i18n_dir``; canned answers and danger words in ``config``/knowledge; the
    escalation notices in ``config``/escalation.toml."""
    reference = _read_json(i18n_dir / f"{REFERENCE}.json")
    knowledge_dir = config / "knowledge"
    reference_knowledge = _read_toml(knowledge_dir / f"{REFERENCE}.toml") or {}
    escalation = _read_toml(config / "escalation.toml") or {}
    results = []
    for language in languages:
        result = catalog_coverage(reference, _read_json(i18n_dir / f"{language}.json"), language)
        add_knowledge(result, reference_knowledge, _read_toml(knowledge_dir / f"{language}.toml"))
        add_escalation_notices(result, escalation, language)
        results.append(result)
    return Coverage(results)


def _percent(present: int, total: int) -> str:
    return f"{present * 100 // total}%" if total else "-"


def format_report(coverage: Coverage, limit: int = 25) -> str:
    """A table of sections by language, then each language's gaps (at most limit keys each)."""
    codes = [item.language for item in coverage.languages]
    names: list[str] = []
    for item in coverage.languages:
        names.extend(name for name in item.sections if name not in names)
    width = max([len("relative-facing keys"), *(len(name) for name in names)])
    lines = ["  ".join([f"{'relative-facing keys':<{width}}", *(f"{code:>9}" for code in codes)])]
    for item_name in names:
        cells = []
        for item in coverage.languages:
            present, total = item.sections.get(item_name, (0, 0))
            cells.append(f"{f'{present}/{total}' if present < total else 'ok':>9}")
        lines.append("  ".join([f"{item_name:<{width}}", *cells]))
    lines.append(
        "  ".join(
            [
                f"{'all':<{width}}",
                *(
                    f"{_percent(item.total - len(item.missing), item.total):>9}"
                    for item in coverage.languages
                ),
            ]
        )
    )
    lines.append(
        "  ".join(
            [
                f"{'canned answers':<{width}}",
                *(
                    f"{f'{item.canned_total - len(item.canned_missing)}/{item.canned_total}':>9}"
                    for item in coverage.languages
                ),
            ]
        )
    )
    lines.append(
        "  ".join([f"{'danger words':<{width}}", *(f"{item.danger_words:>9}" for item in coverage.languages)])
    )
    lines.append(
        "  ".join(
            [
                f"{'escalation notices':<{width}}",
                *(
                    f"{f'{item.notices_total - len(item.notices_missing)}/{item.notices_total}':>9}"
                    for item in coverage.languages
                ),
            ]
        )
    )
    for item in coverage.languages:
        if item.complete:
            continue
        lines.append("")
        lines.append(f"{item.language}: gaps")
        if item.missing:
            lines.append(f"  missing keys ({len(item.missing)}):")
            lines.extend(f"    {key}" for key in item.missing[:limit])
            if len(item.missing) > limit:
                lines.append(f"    ... and {len(item.missing) - limit} more")
        for mismatch in item.placeholders[:limit]:
            expected = " ".join(f"{{{name}}}" for name in sorted(mismatch.expected)) or "none"
            found = " ".join(f"{{{name}}}" for name in sorted(mismatch.found)) or "none"
            lines.append(f"  placeholders differ in {mismatch.key}: sv has {expected}, found {found}")
        if not item.knowledge_file:
            lines.append(f"  no config/knowledge/{item.language}.toml")
        if item.canned_missing:
            lines.append(f"  canned answers missing: {', '.join(item.canned_missing)}")
        if item.danger_words == 0:
            lines.append("  no danger words")
        lines.extend(f"  missing {key}" for key in item.notices_missing)
    lines.append("")
    lines.append("complete" if coverage.complete else "gaps found")
    return "\n".join(lines)
