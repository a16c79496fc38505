"""What the knowledge bank needs from storage (docs/knowledge.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from server.domain.knowledge import Draft, Item, Kind, Version


class KnowledgeRepository(Protocol):
    async def count(self) -> int:
        """Items of every kind."""
        ...

    async def add(self, draft: Draft, published: bool, user_id: int | None, now: datetime) -> int:
        """A new item with its texts (each its version 1); returns its id."""
        ...

    async def update(self, item_id: int, draft: Draft, user_id: int | None, now: datetime) -> bool:
        """Replace the item's own fields; each text in the draft that differs from the current one
        becomes its language's next version. False when there is no such item."""
        ...

    async def set_published(self, item_id: int, published: bool, now: datetime) -> bool: ...

    async def delete(self, item_id: int) -> bool: ...

    async def get(self, item_id: int) -> Item | None: ...

    async def items(self, kinds: Sequence[Kind], published_only: bool) -> list[Item]:
        """Items of the kinds, in id order."""
        ...

    async def search(self, words: Sequence[str], kinds: Sequence[Kind], published_only: bool) -> list[Item]:
        """Items with a text (any language) holding every word as a word or a word's start, best
        match first."""
        ...

    async def versions(self, item_id: int) -> list[Version]:
        """Every version of every language of the item, newest first."""
        ...
