"""Free text as it is stored: no bidi overrides, embeddings or isolates, no NUL. Pure.

U+202A-U+202E (embeddings and overrides) and U+2066-U+2069 (isolates) can make text display in an
order other than the one it was written in ("abc\u202egpj.exe" shows as "abcexe.jpg"); NUL has no
place in text. Everything else, including U+200C/U+200D (Persian writing, emoji sequences) and the
marks U+200E/U+200F, is kept exactly as sent."""

from __future__ import annotations

import re

from server.domain.errors import InvalidInput

REMOVED = frozenset({"\x00", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))})
_REMOVED_TABLE = dict.fromkeys(map(ord, REMOVED))
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def clean_text(text: str) -> str:
    return text.translate(_REMOVED_TABLE)


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def ascii_integer(text: str, max_digits: int = 18) -> int | None:
    """A non-negative integer written in ASCII digits only, or None. ``str.isdigit`` alone also accepts
    "²" (which ``int`` refuses) and Arabic-Indic digits (which it takes), and any length."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def check_client_id(client_id: str) -> str:
    """A sender's message id is a UUID in its 36-character form (any case), kept as sent so a
    retry matches it."""
    if not _UUID.fullmatch(client_id):
        raise InvalidInput("client_id must be a UUID", code="invalid_client_id")
    return client_id
