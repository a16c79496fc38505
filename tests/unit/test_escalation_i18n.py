"""The escalation texts of the pages exist: every key the console and the relative page use is in
Swedish and English, and the relative-facing ones in Arabic."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from server.config.paths import web_dir
from server.domain.escalation import CONTACT_FIELDS, State
from server.domain.permissions import ESCALATION_ACTIONS, Action
from server.services import escalation as service

KEY = re.compile(r"""['"`](escalation\.(?:console|relative)\.[a-z_.]+[a-z_])['"`]""")
PAGES = {
    "console": sorted((web_dir() / "console" / "escalations").glob("*.js")),
    "relative": [web_dir() / "widget" / "escalation.js"],
}


@cache
def catalog(language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8")))


def lookup(language: str, key: str) -> Any:
    node: Any = catalog(language)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def literal_keys(page: str) -> set[str]:
    return {key for file in PAGES[page] for key in KEY.findall(file.read_text(encoding="utf-8"))}


def built_keys() -> set[str]:
    """Keys the console builds from values: states, audit actions, fields, alerts, filters."""
    # a socket connect is no read
    audited = [a.value for a in sorted(ESCALATION_ACTIONS) if a is not Action.ESCALATION_SUBSCRIBE]
    actions = [*audited, service.DEADLINE_MISSED, service.NOTIFIED, service.RELATIVE_STATUS_READ]
    return {
        *(f"escalation.console.states.{state.value}" for state in State),
        *(f"escalation.console.audit.actions.{action}" for action in actions),
        *(f"escalation.console.fields.contact.{field}" for field in CONTACT_FIELDS),
        *(f"escalation.console.fields.subject.{field}" for field in ("age_band", "relation")),
        *(
            f"escalation.console.alerts.{reason}"
            for reason in (service.ALERT_DEADLINE_MISSED, service.ALERT_IMMINENT_DANGER)
        ),
        *(f"escalation.console.filters.{name}" for name in ("awaiting_approval", "open", "all")),
        *(f"escalation.relative.status.{status}" for status in ("sent", "received", "closed")),
    }


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_key_is_in_swedish_and_english(language: str) -> None:
    keys = literal_keys("console") | literal_keys("relative") | built_keys()
    missing = sorted(key for key in keys if not isinstance(lookup(language, key), str))
    assert not missing


def test_the_relative_page_is_complete_in_arabic() -> None:
    keys = literal_keys("relative") | {k for k in built_keys() if k.startswith("escalation.relative.")}
    missing = sorted(key for key in keys if not isinstance(lookup("ar", key), str))
    assert not missing


def test_swedish_and_english_have_the_same_escalation_keys() -> None:
    def leaves(node: Any, prefix: str = "") -> set[str]:
        if isinstance(node, dict):
            return {leaf for key, value in node.items() for leaf in leaves(value, f"{prefix}.{key}")}
        return {prefix}

    assert leaves(catalog("sv")["escalation"]) == leaves(catalog("en")["escalation"])
