"""`kinline i18n check` (server/config/i18n_coverage.py) reports exactly the relative-facing keys,
canned answers and danger words that are missing, in the real catalogs and in copies with a known
gap. What is missing is computed independently in tests/support/i18n_copy.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import i18n_coverage
from server.config.paths import project_root
from tests.support import i18n_copy

GAP = "booking.errors.slot_taken"


def check(home: Path) -> i18n_coverage.Coverage:
    return i18n_coverage.check(home / "web" / "i18n", home / "config")


@pytest.fixture
def complete(tmp_path: Path) -> Path:
    return i18n_copy.complete_home(tmp_path / "home")


def test_the_contract_excludes_only_the_console() -> None:
    assert not i18n_coverage.relative_facing("console.login.title")
    assert not i18n_coverage.relative_facing("booking.console.schedule")
    assert not i18n_coverage.relative_facing("escalation.console.audit.when")
    for key in ("booking.errors.slot_taken", "escalation.relative.heading", "outcomes.other", "sms.help"):
        assert i18n_coverage.relative_facing(key), key
    assert i18n_coverage.section("booking.errors.slot_taken") == "booking.errors"
    assert i18n_coverage.section("booking.heading") == "booking"
    assert i18n_coverage.section("errors.forbidden") == "errors"


@pytest.mark.parametrize("language", i18n_copy.LANGUAGES)
def test_the_real_catalogs_report_exactly_what_is_missing(language: str) -> None:
    home = project_root()
    found = check(home).language(language)
    assert set(found.missing) == i18n_copy.missing_keys(home, language)
    assert {mismatch.key for mismatch in found.placeholders} == i18n_copy.wrong_names(home, language)
    assert set(found.canned_missing) == i18n_copy.missing_canned(home, language)
    assert (found.danger_words > 0) == bool(i18n_copy.knowledge(home, language).get("danger_words"))
    assert {key.split(".")[1] for key in found.notices_missing} == i18n_copy.missing_notices(home, language)
    assert found.total == len(i18n_copy.relative_keys(home))
    expected_complete = not (
        i18n_copy.missing_keys(home, language)
        or i18n_copy.wrong_names(home, language)
        or i18n_copy.missing_canned(home, language)
        or not i18n_copy.knowledge(home, language).get("danger_words")
        or i18n_copy.missing_notices(home, language)
    )
    assert found.complete == expected_complete


def test_a_complete_copy_passes(complete: Path) -> None:
    coverage = check(complete)
    gaps = {
        item.language: (item.missing, item.placeholders, item.canned_missing) for item in coverage.languages
    }
    assert coverage.complete, gaps
    assert [item.language for item in coverage.languages] == list(i18n_copy.LANGUAGES)
    assert i18n_coverage.format_report(coverage).endswith("complete")


def test_one_key_removed_from_somali_fails_naming_it(complete: Path) -> None:
    i18n_copy.remove_key(complete, "so", GAP)
    coverage = check(complete)
    assert not coverage.complete
    assert coverage.language("so").missing == [GAP]
    assert all(item.complete for item in coverage.languages if item.language != "so")
    total = len([key for key in i18n_copy.relative_keys(complete) if key.startswith("booking.errors.")])
    assert coverage.language("so").sections["booking.errors"] == (total - 1, total)
    report = i18n_coverage.format_report(coverage)
    assert f"so: gaps\n  missing keys (1):\n    {GAP}" in report
    assert report.endswith("gaps found")


def test_a_changed_placeholder_is_flagged(complete: Path) -> None:
    path = complete / "web" / "i18n" / "fa.json"
    text = path.read_text(encoding="utf-8")
    assert "{position}" in text
    path.write_text(text.replace("{position}", "{place}"), encoding="utf-8")
    found = check(complete).language("fa")
    assert not found.complete and found.missing == []
    assert {mismatch.key for mismatch in found.placeholders} == {"bot.waiting"}
    assert found.placeholders[0].expected == {"position"} and found.placeholders[0].found == {"place"}


def test_a_missing_canned_answer_and_no_danger_words_are_gaps(complete: Path) -> None:
    path = complete / "config" / "knowledge" / "ti.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(["danger_words = []", *(line for line in lines[1:] if 'id = "book"' not in line)]),
        encoding="utf-8",
    )
    # Without its id the last answer is no longer "book".
    found = check(complete).language("ti")
    assert found.canned_missing == ["book"] and found.danger_words == 0
    assert not found.complete
    report = i18n_coverage.format_report(check(complete))
    assert "canned answers missing: book" in report and "no danger words" in report


def test_a_missing_escalation_notice_is_a_gap_naming_it(complete: Path) -> None:
    i18n_copy.remove_notice(complete, "ti", "imminent_danger")
    found = check(complete).language("ti")
    assert found.notices_missing == ["escalation.toml kinds.imminent_danger.text.ti.relative_notice"]
    assert not found.complete
    assert all(item.complete for item in check(complete).languages if item.language != "ti")
    report = i18n_coverage.format_report(check(complete))
    assert "  missing escalation.toml kinds.imminent_danger.text.ti.relative_notice" in report


@pytest.mark.parametrize("language", i18n_copy.LANGUAGES)
def test_every_relative_facing_text_exists_in_every_language(language: str) -> None:
    """Everything a relative sees or receives exists in all six languages: a missing key, a changed
    placeholder, a missing canned answer or escalation notice, or no danger words fails here, never an
    English fallback."""
    home = project_root()
    assert i18n_copy.missing_keys(home, language) == set()
    assert i18n_copy.wrong_names(home, language) == set()
    assert i18n_copy.missing_canned(home, language) == set()
    assert i18n_copy.knowledge(home, language).get("danger_words")
    assert i18n_copy.missing_notices(home, language) == set()
    assert check(home).language(language).complete
