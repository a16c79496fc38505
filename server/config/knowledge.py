"""The knowledge bank's import format (docs/knowledge.md): a directory such as config/knowledge/.

- ``<lang>.toml`` (sv, en, ar, so, fa, ti): ``danger_words = [...]`` and ``[[canned]]`` tables
  (``id``, ``title``, ``text``); the canned answers of all languages share their ids.
- ``articles.toml``: ``[[articles]]`` with ``key``, ``audience`` (internal|public), ``published``,
  ``perspectives`` and one ``[articles.text.<lang>]`` table (``title``, ``summary``, ``body``) per
  language.
- ``resources.toml``: ``[[resources]]`` with ``key``, ``published``, ``districts``,
  ``perspectives``, ``phone``, ``url``, ``address``, ``hours`` and ``[resources.text.<lang>]``.

The running server reads the bank, never these files: ``kinline knowledge import DIR`` (and the
first start of an empty database) loads them, ``kinline knowledge export DIR`` writes them back.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from server.domain.knowledge import LANGUAGES, Audience, Contact, Draft, Item, Kind, Text

DANGER_WORDS_KEY = "danger_words"
DANGER_WORDS_TITLE = "Danger words"


def _read(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _texts(tables: dict[str, Any]) -> tuple[Text, ...]:
    return tuple(
        Text(language, *(str(t.get(name, "")).strip() for name in ("title", "summary", "body")))
        for language, t in tables.items()
    )


def read_directory(directory: Path) -> list[tuple[Draft, bool]]:
    """Every item of the directory as (draft, published), in a stable order."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no such directory: {directory}")
    canned: dict[str, list[Text]] = {}
    danger: list[Text] = []
    for language in LANGUAGES:
        data = _read(directory / f"{language}.toml")
        words = [str(word) for word in data.get("danger_words", [])]
        if words:
            danger.append(Text(language, DANGER_WORDS_TITLE, "", "\n".join(words)))
        for answer in data.get("canned", []):
            canned.setdefault(str(answer["id"]), []).append(
                Text(language, str(answer["title"]), "", str(answer["text"]))
            )
    drafts: list[tuple[Draft, bool]] = []
    for article in _read(directory / "articles.toml").get("articles", []):
        drafts.append(
            (
                Draft(
                    Kind.ARTICLE,
                    key=str(article.get("key", "")),
                    audience=Audience(article.get("audience", Audience.INTERNAL.value)),
                    perspectives=tuple(article.get("perspectives", [])),
                    texts=_texts(article.get("text", {})),
                ),
                bool(article.get("published", False)),
            )
        )
    for resource in _read(directory / "resources.toml").get("resources", []):
        contact = Contact(
            str(resource.get("phone", "")),
            str(resource.get("url", "")),
            str(resource.get("address", "")),
            str(resource.get("hours", "")),
        )
        drafts.append(
            (
                Draft(
                    Kind.RESOURCE,
                    key=str(resource.get("key", "")),
                    perspectives=tuple(resource.get("perspectives", [])),
                    districts=tuple(resource.get("districts", ["all"])),
                    contact=contact,
                    texts=_texts(resource.get("text", {})),
                ),
                bool(resource.get("published", False)),
            )
        )
    drafts += [(Draft(Kind.CANNED, key=key, texts=tuple(texts)), True) for key, texts in canned.items()]
    if danger:
        drafts.append((Draft(Kind.DANGER_WORDS, key=DANGER_WORDS_KEY, texts=tuple(danger)), True))
    return drafts


def _toml(value: Any) -> str:
    """A TOML value: JSON's strings, booleans and arrays of strings are valid TOML."""
    return json.dumps(value, ensure_ascii=False)


def _text_tables(prefix: str, item: Item) -> list[str]:
    lines = []
    for language in item.languages:
        text = item.texts[language]
        lines += [
            f"[{prefix}.text.{language}]",
            f"title = {_toml(text.title)}",
            f"summary = {_toml(text.summary)}",
            f"body = {_toml(text.body)}",
        ]
    return lines


def _common(item: Item) -> list[str]:
    return [
        f"key = {_toml(item.key)}",
        f"published = {_toml(item.published)}",
        f"perspectives = {_toml(list(item.perspectives))}",
    ]


def write_directory(directory: Path, items: Iterable[Item]) -> list[Path]:
    """Write the items in the import format; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    items = list(items)
    written: list[Path] = []
    header = "# Exported by kinline knowledge export; load with kinline knowledge import.\n"
    articles, resources = [header], [header]
    for item in items:
        if item.kind is Kind.ARTICLE:
            articles += ["", "[[articles]]", *_common(item), f"audience = {_toml(item.audience.value)}"]
            articles += _text_tables("articles", item)
        elif item.kind is Kind.RESOURCE:
            contact = item.contact
            resources += ["", "[[resources]]", *_common(item), f"districts = {_toml(list(item.districts))}"]
            resources += [
                f"{name} = {_toml(value)}"
                for name, value in (
                    ("phone", contact.phone),
                    ("url", contact.url),
                    ("address", contact.address),
                    ("hours", contact.hours),
                )
            ]
            resources += _text_tables("resources", item)
    for name, lines in (("articles.toml", articles), ("resources.toml", resources)):
        path = directory / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    for language in LANGUAGES:
        lines = [header.rstrip("\n")]
        words = [
            word
            for item in items
            if item.kind is Kind.DANGER_WORDS and language in item.texts
            for word in item.texts[language].body.splitlines()
            if word.strip()
        ]
        lines.append(f"danger_words = {_toml(words)}")
        for item in items:
            if item.kind is Kind.CANNED and language in item.texts:
                text = item.texts[language]
                lines += ["", "[[canned]]", f"id = {_toml(item.key)}"]
                lines += [f"title = {_toml(text.title)}", f"text = {_toml(text.body)}"]
        path = directory / f"{language}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
