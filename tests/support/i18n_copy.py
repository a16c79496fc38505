"""A copy of web/i18n and config/knowledge in a temporary KINLINE_HOME, and what is missing from the
catalogs computed here on its own terms (not with server/config/i18n_coverage.py), so the tests of
`kinline i18n check` compare two independent answers.

The contract (docs/translations.md): every key of sv.json is relative-facing except those under the
top-level `console` object and those whose second segment is `console`."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

from server.config.paths import config_dir, web_dir

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
NAME = re.compile(r"\{(\w+)\}")


def leaves(node: dict[str, Any], path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            found |= leaves(value, (*path, key))
        else:
            found[(*path, key)] = value
    return found


def relative_keys(home: Path) -> dict[str, str]:
    """Dotted key -> Swedish text, for the keys a relative can see."""
    sv = json.loads((home / "web" / "i18n" / "sv.json").read_text(encoding="utf-8"))
    return {
        ".".join(path): value
        for path, value in leaves(sv).items()
        if path[0] != "console" and path[1:2] != ("console",)
    }


def catalog(home: Path, language: str) -> dict[str, Any]:
    path = home / "web" / "i18n" / f"{language}.json"
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def texts(home: Path, language: str) -> dict[str, Any]:
    return {".".join(path): value for path, value in leaves(catalog(home, language)).items()}


def missing_keys(home: Path, language: str) -> set[str]:
    have = texts(home, language)
    return {key for key in relative_keys(home) if not (isinstance(have.get(key), str) and have[key].strip())}


def wrong_names(home: Path, language: str) -> set[str]:
    """Keys whose {names} differ from Swedish; a form for one exact number may spell it out."""
    have = texts(home, language)
    wrong = set()
    for key, swedish in relative_keys(home).items():
        value = have.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        want, got = set(NAME.findall(swedish)), set(NAME.findall(value))
        spelled_out = key.endswith(("_zero", "_one", "_two")) and got == want - {"count"}
        if got != want and not spelled_out:
            wrong.add(key)
    return wrong


def knowledge(home: Path, language: str) -> dict[str, Any]:
    path = home / "config" / "knowledge" / f"{language}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def missing_canned(home: Path, language: str) -> set[str]:
    wanted = {item["id"] for item in knowledge(home, "sv")["canned"]}
    have = {item["id"] for item in knowledge(home, language).get("canned", []) if item.get("text")}
    return wanted - have


def missing_notices(home: Path, language: str) -> set[str]:
    """Escalation kinds of config/escalation.toml without a relative_notice in ``language``."""
    data = tomllib.loads((home / "config" / "escalation.toml").read_text(encoding="utf-8"))
    return {
        kind
        for kind, rule in data["kinds"].items()
        if not str(rule.get("text", {}).get(language, {}).get("relative_notice", "")).strip()
    }


def remove_notice(home: Path, language: str, kind: str) -> None:
    path = home / "config" / "escalation.toml"
    text = path.read_text(encoding="utf-8")
    block = re.compile(rf'\n\[kinds\.{kind}\.text\.{language}\]\nrelative_notice = "[^"\n]*"\n')
    assert block.search(text), f"no {language} notice for {kind} to remove"
    path.write_text(block.sub("\n", text), encoding="utf-8")


def copy_home(destination: Path) -> Path:
    """web/i18n, config/knowledge and config/escalation.toml as they are in the checkout."""
    shutil.copytree(web_dir() / "i18n", destination / "web" / "i18n")
    shutil.copytree(config_dir() / "knowledge", destination / "config" / "knowledge")
    shutil.copy(config_dir() / "escalation.toml", destination / "config" / "escalation.toml")
    return destination


def _set(node: dict[str, Any], key: str, value: str) -> None:
    *parents, last = key.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def complete_home(destination: Path) -> Path:
    """A copy where every gap (and every text with other {names} than Swedish) is filled with the
    English text, and every knowledge file has sv's canned answer ids and danger words."""
    home = copy_home(destination)
    english = texts(home, "en")
    english_knowledge = knowledge(home, "en")
    english_canned = {item["id"]: item for item in english_knowledge["canned"]}
    for language in LANGUAGES:
        data = catalog(home, language)
        for key in missing_keys(home, language) | wrong_names(home, language):
            _set(data, key, english[key])
        path = home / "web" / "i18n" / f"{language}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

        own = knowledge(home, language)
        own_canned = {item["id"]: item for item in own.get("canned", []) if item.get("text")}
        words = own.get("danger_words") or english_knowledge["danger_words"]
        lines = ["danger_words = [" + ", ".join(_toml_string(word) for word in words) + "]"]
        for item in knowledge(home, "sv")["canned"]:
            answer = own_canned.get(item["id"]) or english_canned.get(item["id"]) or item
            lines += [
                "",
                "[[canned]]",
                f"id = {_toml_string(answer['id'])}",
                f"title = {_toml_string(answer['title'])}",
                f"text = {_toml_string(answer['text'])}",
            ]
        (home / "config" / "knowledge" / f"{language}.toml").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return home


def remove_key(home: Path, language: str, key: str) -> None:
    data = catalog(home, language)
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node[part]
    del node[last]
    path = home / "web" / "i18n" / f"{language}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
