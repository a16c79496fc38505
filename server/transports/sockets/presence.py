"""Which staff have a console open in this process; shown when choosing a transfer target."""

from __future__ import annotations


class Presence:
    def __init__(self) -> None:
        self._user_by_sid: dict[str, int] = {}

    def connected(self, user_id: int, sid: str) -> None:
        self._user_by_sid[sid] = user_id

    def disconnected(self, sid: str) -> None:
        self._user_by_sid.pop(sid, None)

    def is_online(self, user_id: int) -> bool:
        return user_id in self._user_by_sid.values()
