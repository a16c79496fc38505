"""Server-side access to the same catalogs the pages use (web/i18n/<lang>.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FALLBACK = "en"


class Catalogs:
    def __init__(self, directory: Path) -> None:
        self._data: dict[str, dict[str, Any]] = {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.json"))
        }

    @property
    def languages(self) -> list[str]:
        return list(self._data)

    def text(self, language: str, key: str, **params: object) -> str:
        """The string for key in language, else English, else the key itself."""
        for code in (language, FALLBACK):
            node: Any = self._data.get(code, {})
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, str):
                return node.format(**params) if params else node
        return key
