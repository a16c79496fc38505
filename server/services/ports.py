"""What services need from the outside world, passed in by create_app (or by tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from server.adapters.db.chat_store import ChatStore
    from server.adapters.db.staff_store import StaffStore

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Repositories(Protocol):
    chat: ChatStore
    staff: StaffStore


class UnitOfWork(Protocol):
    """``write()`` is one short transaction that commits on exit; ``read()`` only reads."""

    def write(self) -> AbstractAsyncContextManager[Repositories]: ...

    def read(self) -> AbstractAsyncContextManager[Repositories]: ...
