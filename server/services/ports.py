"""What services need from the outside world, passed in by create_app (or by tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from server.adapters.db.chat_store import ChatStore
    from server.adapters.db.staff_store import StaffStore

Clock = Callable[[], datetime]
Result = TypeVar("Result")


def system_clock() -> datetime:
    return datetime.now(UTC)


class Repositories(Protocol):
    chat: ChatStore
    staff: StaffStore


class UnitOfWork(Protocol):
    """``write()`` is one short transaction that commits on exit; ``read()`` only reads."""

    def write(self) -> AbstractAsyncContextManager[Repositories]: ...

    def read(self) -> AbstractAsyncContextManager[Repositories]: ...

    async def grouped(self, work: Callable[[Repositories], Awaitable[Result]]) -> Result:
        """Like write(), but the transaction may be shared with concurrent callers (group commit).
        ``work`` must raise DomainErrors only before it writes."""
        ...


class SmsOutcome:
    """How a send attempt ended. ``UNKNOWN`` (timeout, 5xx) must be reconciled, never resent blindly."""

    ACCEPTED = "accepted"
    FAILED = "failed"
    UNKNOWN = "unknown"


class SmsReceipt(Protocol):
    @property
    def outcome(self) -> str: ...

    @property
    def provider_id(self) -> str | None: ...

    @property
    def error(self) -> str | None: ...


class SmsSender(Protocol):
    """Sends one text to an E.164 number. Implemented by the Twilio and outbox adapters."""

    async def send(self, to_e164: str, body: str) -> SmsReceipt: ...
