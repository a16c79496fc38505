"""Which staff have a console open in this process, and the languages they speak: shown when
choosing a transfer target, and telling a waiting relative whether someone who speaks their
language is online (the ChatService's CounsellorsOnline port)."""

from __future__ import annotations

from collections.abc import Callable

from server.domain.staff import StaffUser


class Presence:
    def __init__(self) -> None:
        self._by_sid: dict[str, tuple[int, frozenset[str]]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._people_listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs whenever the set of languages online changes."""
        self._listeners.append(listener)

    def on_people_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs whenever who is online changes (the supervisors' live view)."""
        self._people_listeners.append(listener)

    def connected(self, user: StaffUser, sid: str) -> None:
        before, people = set(self.language_sets()), self.user_ids()
        self._by_sid[sid] = (user.id, frozenset(user.languages))
        self._changed(before, people)

    def disconnected(self, sid: str) -> None:
        before, people = set(self.language_sets()), self.user_ids()
        if self._by_sid.pop(sid, None) is not None:
            self._changed(before, people)

    def is_online(self, user_id: int) -> bool:
        return any(user == user_id for user, _ in self._by_sid.values())

    def user_ids(self) -> set[int]:
        return {user for user, _ in self._by_sid.values()}

    def language_sets(self) -> list[frozenset[str]]:
        return [languages for _, languages in self._by_sid.values()]

    def _changed(self, before: set[frozenset[str]], people: set[int]) -> None:
        if set(self.language_sets()) != before:
            for listener in self._listeners:
                listener()
        if self.user_ids() != people:
            for listener in self._people_listeners:
                listener()
