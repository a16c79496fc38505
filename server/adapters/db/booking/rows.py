"""What the booking queries share: their connection and ciphers, and row shapes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher, PhoneIndex
from server.domain.booking.appointments import Appointment, AppointmentState, CancelledBy


def insert_ignoring_conflicts(connection: AsyncConnection, table: Table, **values: Any) -> Insert:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).values(**values).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-ignore for {dialect}")


def appointment_from_row(row: Any) -> Appointment:
    return Appointment(
        id=row.id,
        reference=row.reference,
        kind=row.kind,
        language=row.language,
        start=row.start_at,
        end=row.end_at,
        counsellor_id=row.counsellor_id,
        state=AppointmentState(row.state),
        created_at=row.created_at,
        conversation_id=row.conversation_id,
        cancelled_at=row.cancelled_at,
        cancelled_by=CancelledBy(row.cancelled_by) if row.cancelled_by else None,
        version=row.version,
        has_phone=row.phone is not None,
        interpreter_language=row.interpreter_language,
    )


class BookingTables:
    """The connection and ciphers every booking query uses."""

    def __init__(self, connection: AsyncConnection, cipher: FieldCipher, phone_index: PhoneIndex) -> None:
        self.connection = connection
        self.cipher = cipher
        self.phone_index = phone_index
