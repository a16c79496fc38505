"""The audit tables' words exist in Swedish and English: the chat audit view's own keys, the column
and fallback words the shared table builds under each prefix, and a label for every action the chat
audits (read from server/services/chat.py, so a new audited action needs its label)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from server.config.paths import project_root, web_dir
from server.domain.permissions import Action

TABLE_WORDS = ("when", "who", "action", "system", "all", "empty")
VIEW_KEY = re.compile(r"""['"`](console\.audit\.[a-z_.]+[a-z_])['"`]""")
CHAT_AUDITED = re.compile(r'"([a-z_]+\.[a-z_]+)",\s*"conversation"')


@cache
def catalog(language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8")))


def text(language: str, key: str) -> Any:
    node: Any = catalog(language)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def chat_audited_actions() -> set[str]:
    source = (project_root() / "server" / "services" / "chat.py").read_text(encoding="utf-8")
    return {*CHAT_AUDITED.findall(source), Action.AUDIT_READ.value}


def expected_keys() -> set[str]:
    view = set(VIEW_KEY.findall((web_dir() / "console" / "audit.js").read_text(encoding="utf-8")))
    tables = {
        f"{prefix}.{word}"
        for prefix, object_column in (
            ("console.audit", "conversation"),
            ("escalation.console.audit", "escalation"),
        )
        for word in (*TABLE_WORDS, object_column)
    }
    actions = {f"console.audit.actions.{action}" for action in chat_audited_actions()}
    return view | tables | actions | {"console.views.audit"}


def test_the_chat_audits_the_actions_the_view_labels() -> None:
    assert chat_audited_actions() >= {"conversation.read", "conversation.claim", "note.add", "audit.read"}


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_audit_word_is_in_swedish_and_english(language: str) -> None:
    missing = sorted(key for key in expected_keys() if not isinstance(text(language, key), str))
    assert not missing
