"""The console's knowledge bank (web/console/knowledge/, docs/knowledge.md) has its words in Swedish
and English: every literal ``console.knowledge.*`` key its scripts and the console page name, the keys
it builds per kind of item, audience, contact field and panel entry, and words for every refusal code
the knowledge routes give (server/domain/knowledge.py)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from server.config.paths import project_root, web_dir

LITERAL_KEY = re.compile(r"""['"`](console\.knowledge\.[a-z_.]+[a-z_])['"`]""")
REFUSAL_CODE = re.compile(r"""code="([a-z_]+)\"""")
KINDS = ("articles", "resources", "canned", "danger")
PER_KIND = ("kinds", "new", "new_heading", "title", "summary", "body", "body_hint")


@cache
def catalog(language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8")))


def text(language: str, key: str) -> Any:
    node: Any = catalog(language)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def literal_keys() -> set[str]:
    sources = [*(web_dir() / "console" / "knowledge").glob("*.js"), web_dir() / "console" / "index.html"]
    return {key for path in sources for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}


def refusal_codes() -> set[str]:
    source = (project_root() / "server" / "domain" / "knowledge.py").read_text(encoding="utf-8")
    return set(REFUSAL_CODE.findall(source))


def expected_keys() -> set[str]:
    built = {f"console.knowledge.{group}.{kind}" for group in PER_KIND for kind in KINDS}
    built |= {f"console.knowledge.audience.{audience}" for audience in ("internal", "public")}
    built |= {f"console.knowledge.contact_fields.{field}" for field in ("phone", "url", "address", "hours")}
    built |= {
        f"console.knowledge.panel.kind.{kind}" for kind in ("resource", "article_internal", "article_public")
    }
    built |= {"console.knowledge.panel.found_one", "console.knowledge.panel.found_other"}
    errors = {f"console.knowledge.errors.{code}" for code in refusal_codes()}
    return literal_keys() - {"console.knowledge.panel.found"} | built | errors | {"console.views.knowledge"}


def test_the_scan_finds_the_views_words_and_the_domains_refusals() -> None:
    assert {"console.knowledge.heading", "console.knowledge.panel.send"} <= literal_keys()
    assert {"missing_title", "invalid_url", "invalid_phone", "invalid_key"} <= refusal_codes()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_knowledge_console_word_is_in_swedish_and_english(language: str) -> None:
    missing = sorted(key for key in expected_keys() if not isinstance(text(language, key), str))
    assert not missing
