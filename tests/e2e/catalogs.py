"""The catalogs of web/i18n as the browser tests read them, to expect the exact text a page shows."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from server.config.paths import web_dir


@cache
def catalog(language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8")))


def text(language: str, key: str) -> str:
    """The text at a dotted key, e.g. ``text("ar", "widget.end_button")``."""
    node: Any = catalog(language)
    for part in key.split("."):
        node = node[part]
    return str(node)
