"""What one client address (only ever its keyed hash) holds in this process: its waiting
conversations, and which of them holds danger-word priority. Kept in memory and never stored:
the database stays the truth about each conversation, this only remembers whose it was."""

from __future__ import annotations

from collections.abc import Collection


class AddressBook:
    def __init__(self) -> None:
        self._waiting: dict[str, set[str]] = {}
        self._key_of: dict[str, str] = {}
        self._priority: dict[str, str] = {}

    def waiting_of(self, key: str) -> set[str]:
        return set(self._waiting.get(key, ()))

    def add(self, key: str, conversation_id: str) -> None:
        self._waiting.setdefault(key, set()).add(conversation_id)
        self._key_of[conversation_id] = key

    def key_of(self, conversation_id: str) -> str | None:
        return self._key_of.get(conversation_id)

    def forget(self, conversation_id: str) -> None:
        """The conversation no longer waits (claimed, closed, or never created)."""
        key = self._key_of.pop(conversation_id, None)
        if key is None:
            return
        ids = self._waiting.get(key)
        if ids is not None:
            ids.discard(conversation_id)
            if not ids:
                del self._waiting[key]
        if self._priority.get(key) == conversation_id:
            del self._priority[key]

    def keep_only(self, still_waiting: Collection[str]) -> None:
        """Forget every conversation not in ``still_waiting``."""
        for conversation_id in [c for c in self._key_of if c not in still_waiting]:
            self.forget(conversation_id)

    def priority_holder(self, key: str) -> str | None:
        return self._priority.get(key)

    def hold_priority(self, key: str, conversation_id: str) -> None:
        self._priority[key] = conversation_id

    def release_priority(self, key: str, conversation_id: str) -> None:
        if self._priority.get(key) == conversation_id:
            del self._priority[key]
