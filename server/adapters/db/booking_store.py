"""Availability, appointments, their texts, opt-outs and the SMS outbox in SQL.

Phone numbers are encrypted like message text; a keyed hash of the number (never the number) is
what lookups by number use. Texts are claimed with one conditional UPDATE before they are sent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Insert,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher, PhoneIndex
from server.adapters.db.tables import (
    appointment_texts,
    appointments,
    booking_profiles,
    group_sessions,
    slot_offers,
    sms_inbound_seen,
    sms_opt_outs,
    sms_outbox,
    staff_users,
)
from server.domain.booking import (
    Appointment,
    AppointmentState,
    Availability,
    Busy,
    CancelledBy,
    Counsellor,
    GroupSession,
    availability_from_plain,
    availability_to_plain,
)
from server.domain.reminders import DueText, Outcome, TextPurpose, TextState
from server.domain.staff import CHAT_ROLES
from server.services.ports.booking import SlotOffer
from server.services.ports.texts import ClaimedText, OutboxEntry, TextView, UnresolvedText


def _insert_ignoring_conflicts(connection: AsyncConnection, table: Table, **values: Any) -> Insert:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).values(**values).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-ignore for {dialect}")


def _appointment(row: Any) -> Appointment:
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
    )


class BookingStore:
    def __init__(self, connection: AsyncConnection, cipher: FieldCipher, phone_index: PhoneIndex) -> None:
        self.connection = connection
        self.cipher = cipher
        self.phone_index = phone_index

    # ---- counsellors and availability

    def _counsellor_query(self) -> Any:
        return (
            select(
                staff_users.c.id,
                staff_users.c.languages,
                booking_profiles.c.weekly,
                booking_profiles.c.exceptions,
                booking_profiles.c.last_assignment,
            )
            .join(booking_profiles, booking_profiles.c.user_id == staff_users.c.id)
            .where(staff_users.c.active.is_(True), staff_users.c.role.in_([r.value for r in CHAT_ROLES]))
        )

    async def counsellors(self) -> list[Counsellor]:
        rows = (await self.connection.execute(self._counsellor_query())).all()
        return [
            Counsellor(
                row.id,
                availability_from_plain(row.languages, row.weekly, row.exceptions),
                row.last_assignment,
            )
            for row in rows
        ]

    async def lock_counsellor(self, user_id: int) -> None:
        """Serialise bookings for one counsellor (a row lock on PostgreSQL; SQLite has one writer)."""
        await self.connection.execute(
            select(booking_profiles.c.user_id).where(booking_profiles.c.user_id == user_id).with_for_update()
        )

    async def availability(self, user_id: int) -> Availability:
        row = (
            await self.connection.execute(
                select(staff_users.c.languages, booking_profiles.c.weekly, booking_profiles.c.exceptions)
                .select_from(staff_users)
                .outerjoin(booking_profiles, booking_profiles.c.user_id == staff_users.c.id)
                .where(staff_users.c.id == user_id)
            )
        ).first()
        if row is None:
            return Availability()
        return availability_from_plain(row.languages, row.weekly, row.exceptions)

    async def save_availability(self, user_id: int, availability: Availability, now: datetime) -> None:
        stored = availability_to_plain(availability)
        await self.connection.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(languages=stored["languages"])
        )
        changed = await self.connection.execute(
            update(booking_profiles)
            .where(booking_profiles.c.user_id == user_id)
            .values(weekly=stored["weekly"], exceptions=stored["exceptions"], updated_at=now)
        )
        if changed.rowcount == 0:
            await self.connection.execute(
                insert(booking_profiles).values(
                    user_id=user_id,
                    weekly=stored["weekly"],
                    exceptions=stored["exceptions"],
                    last_assignment=0,
                    updated_at=now,
                )
            )

    async def mark_assigned(self, user_id: int) -> None:
        """Give the counsellor the next number in the round robin."""
        latest = select(func.coalesce(func.max(booking_profiles.c.last_assignment), 0)).scalar_subquery()
        await self.connection.execute(
            update(booking_profiles)
            .where(booking_profiles.c.user_id == user_id)
            .values(last_assignment=latest + 1)
        )

    async def busy(self, start: datetime, end: datetime, exclude: str | None = None) -> dict[int, list[Busy]]:
        query = select(
            appointments.c.counsellor_id, appointments.c.start_at, appointments.c.busy_until
        ).where(
            appointments.c.state == AppointmentState.BOOKED.value,
            appointments.c.start_at < end,
            appointments.c.busy_until > start,
        )
        if exclude is not None:
            query = query.where(appointments.c.id != exclude)
        result: dict[int, list[Busy]] = {}
        for row in (await self.connection.execute(query)).all():
            result.setdefault(row.counsellor_id, []).append(Busy(row.start_at, row.busy_until))
        return result

    # ---- group sessions

    async def group_sessions(self, kind: str, start: datetime, end: datetime) -> dict[datetime, GroupSession]:
        rows = (
            await self.connection.execute(
                select(group_sessions).where(
                    group_sessions.c.kind == kind,
                    group_sessions.c.start_at >= start,
                    group_sessions.c.start_at < end,
                    group_sessions.c.seats_taken > 0,
                )
            )
        ).all()
        return {
            row.start_at: GroupSession(row.kind, row.start_at, row.counsellor_id, row.seats_taken)
            for row in rows
        }

    async def take_group_seat(self, kind: str, start: datetime, host_id: int, seats: int) -> int | None:
        """One seat with one conditional UPDATE; the session (and its host) is created by the first
        booking. Returns the host's id, or None when the session is full."""
        await self.connection.execute(
            _insert_ignoring_conflicts(
                self.connection,
                group_sessions,
                kind=kind,
                start_at=start,
                counsellor_id=host_id,
                seats_taken=0,
            )
        )
        await self.connection.execute(
            update(group_sessions)
            .where(
                group_sessions.c.kind == kind,
                group_sessions.c.start_at == start,
                group_sessions.c.seats_taken == 0,
            )
            .values(counsellor_id=host_id)
        )
        row = (
            await self.connection.execute(
                update(group_sessions)
                .where(
                    group_sessions.c.kind == kind,
                    group_sessions.c.start_at == start,
                    group_sessions.c.seats_taken < seats,
                )
                .values(seats_taken=group_sessions.c.seats_taken + 1)
                .returning(group_sessions.c.counsellor_id)
            )
        ).first()
        return int(row.counsellor_id) if row else None

    async def release_group_seat(self, kind: str, start: datetime) -> None:
        await self.connection.execute(
            update(group_sessions)
            .where(
                group_sessions.c.kind == kind,
                group_sessions.c.start_at == start,
                group_sessions.c.seats_taken > 0,
            )
            .values(seats_taken=group_sessions.c.seats_taken - 1)
        )

    # ---- appointments

    async def insert_appointment(
        self, appointment: Appointment, busy_until: datetime, manage_hash: str, phone: str
    ) -> None:
        await self.connection.execute(
            insert(appointments).values(
                id=appointment.id,
                reference=appointment.reference,
                kind=appointment.kind,
                language=appointment.language,
                start_at=appointment.start,
                end_at=appointment.end,
                busy_until=busy_until,
                counsellor_id=appointment.counsellor_id,
                state=appointment.state.value,
                manage_hash=manage_hash,
                phone=self.cipher.encrypt(phone),
                phone_hash=self.phone_index(phone),
                conversation_id=appointment.conversation_id,
                created_at=appointment.created_at,
                version=appointment.version,
            )
        )

    async def reference_taken(self, reference: str) -> bool:
        row = (
            await self.connection.execute(
                select(appointments.c.id).where(appointments.c.reference == reference)
            )
        ).first()
        return row is not None

    async def get(self, appointment_id: str) -> Appointment | None:
        row = (
            await self.connection.execute(select(appointments).where(appointments.c.id == appointment_id))
        ).first()
        return _appointment(row) if row else None

    async def by_manage_hash(self, manage_hash: str) -> Appointment | None:
        row = (
            await self.connection.execute(
                select(appointments).where(appointments.c.manage_hash == manage_hash)
            )
        ).first()
        return _appointment(row) if row else None

    async def save(
        self,
        before: Appointment,
        after: Appointment,
        busy_until: datetime | None = None,
        manage_hash: str | None = None,
    ) -> bool:
        """Write a change only if nobody else changed the appointment since ``before`` was read."""
        values: dict[str, Any] = {
            "state": after.state.value,
            "start_at": after.start,
            "end_at": after.end,
            "counsellor_id": after.counsellor_id,
            "cancelled_at": after.cancelled_at,
            "cancelled_by": after.cancelled_by.value if after.cancelled_by else None,
            "version": after.version,
        }
        if busy_until is not None:
            values["busy_until"] = busy_until
        if manage_hash is not None:
            values["manage_hash"] = manage_hash
        result = await self.connection.execute(
            update(appointments)
            .where(appointments.c.id == before.id, appointments.c.version == before.version)
            .values(**values)
        )
        return result.rowcount == 1

    async def between(self, start: datetime, end: datetime) -> list[Appointment]:
        rows = (
            await self.connection.execute(
                select(appointments)
                .where(appointments.c.start_at < end, appointments.c.end_at > start)
                .order_by(appointments.c.start_at, appointments.c.reference)
            )
        ).all()
        return [_appointment(row) for row in rows]

    async def many(self, ids: Iterable[str]) -> list[Appointment]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = (
            await self.connection.execute(select(appointments).where(appointments.c.id.in_(wanted)))
        ).all()
        return [_appointment(row) for row in rows]

    async def upcoming_for_phone(self, phone: str, now: datetime) -> list[Appointment]:
        rows = (
            await self.connection.execute(
                select(appointments)
                .where(
                    appointments.c.phone_hash == self.phone_index(phone),
                    appointments.c.state == AppointmentState.BOOKED.value,
                    appointments.c.start_at > now,
                )
                .order_by(appointments.c.start_at)
            )
        ).all()
        return [_appointment(row) for row in rows]

    async def language_for_phone(self, phone: str) -> str | None:
        row = (
            await self.connection.execute(
                select(appointments.c.language)
                .where(appointments.c.phone_hash == self.phone_index(phone))
                .order_by(appointments.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return str(row.language) if row else None

    async def phone_of(self, appointment_id: str) -> str | None:
        stored = (
            await self.connection.execute(
                select(appointments.c.phone).where(appointments.c.id == appointment_id)
            )
        ).scalar_one_or_none()
        return self.cipher.decrypt(stored) if stored else None

    # ---- texts

    async def add_texts(
        self,
        appointment_id: str,
        texts: Sequence[tuple[TextPurpose, timedelta | None, datetime]],
        now: datetime,
    ) -> list[int]:
        ids = []
        for purpose, offset, due_at in texts:
            ids.append(
                int(
                    (
                        await self.connection.execute(
                            insert(appointment_texts)
                            .values(
                                appointment_id=appointment_id,
                                purpose=purpose.value,
                                offset_seconds=int(offset.total_seconds()) if offset is not None else None,
                                due_at=due_at,
                                state=TextState.PENDING.value,
                                attempts=0,
                                updated_at=now,
                            )
                            .returning(appointment_texts.c.id)
                        )
                    ).scalar_one()
                )
            )
        return ids

    async def withdraw_pending_reminders(self, appointment_id: str, now: datetime) -> int:
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.appointment_id == appointment_id,
                appointment_texts.c.purpose == TextPurpose.REMINDER.value,
                appointment_texts.c.state == TextState.PENDING.value,
            )
            .values(state=TextState.WITHDRAWN.value, updated_at=now)
        )
        return int(result.rowcount)

    async def due_texts(self, now: datetime, limit: int, only: Sequence[int] | None = None) -> list[DueText]:
        query = (
            select(
                appointment_texts.c.id,
                appointment_texts.c.appointment_id,
                appointment_texts.c.purpose,
                appointment_texts.c.due_at,
                appointments.c.start_at,
                appointments.c.state,
            )
            .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
            .where(
                appointment_texts.c.state == TextState.PENDING.value,
                appointment_texts.c.due_at <= now,
                or_(appointment_texts.c.retry_at.is_(None), appointment_texts.c.retry_at <= now),
            )
            .order_by(appointment_texts.c.due_at, appointment_texts.c.id)
            .limit(limit)
        )
        if only is not None:
            query = query.where(appointment_texts.c.id.in_(list(only)))
        rows = (await self.connection.execute(query)).all()
        return [
            DueText(
                id=row.id,
                appointment_id=row.appointment_id,
                purpose=TextPurpose(row.purpose),
                due_at=row.due_at,
                appointment_start=row.start_at,
                appointment_booked=row.state == AppointmentState.BOOKED.value,
            )
            for row in rows
        ]

    async def move_texts(
        self, ids: Sequence[int], from_state: TextState, to_state: TextState, now: datetime
    ) -> int:
        if not ids:
            return 0
        result = await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id.in_(list(ids)), appointment_texts.c.state == from_state.value)
            .values(state=to_state.value, updated_at=now)
        )
        return int(result.rowcount)

    async def claim(self, ids: Sequence[int], claim_id: str, now: datetime) -> int:
        """The one conditional UPDATE that makes a text ours to send: only rows still pending move,
        so a second sweeper (another process, or this one after a restart) claims nothing twice."""
        if not ids:
            return 0
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.id.in_(list(ids)), appointment_texts.c.state == TextState.PENDING.value
            )
            .values(
                state=TextState.SENDING.value,
                claim_id=claim_id,
                claimed_at=now,
                attempts=appointment_texts.c.attempts + 1,
                updated_at=now,
            )
        )
        return int(result.rowcount)

    async def claimed(self, claim_id: str) -> list[ClaimedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts.c.id,
                    appointment_texts.c.appointment_id,
                    appointment_texts.c.purpose,
                    appointment_texts.c.attempts,
                    appointment_texts.c.throttled,
                    appointments.c.kind,
                    appointments.c.language,
                    appointments.c.start_at,
                    appointments.c.phone,
                    sms_opt_outs.c.phone_hash.label("opted_out"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .outerjoin(sms_opt_outs, sms_opt_outs.c.phone_hash == appointments.c.phone_hash)
                .where(
                    appointment_texts.c.claim_id == claim_id,
                    appointment_texts.c.state == TextState.SENDING.value,
                )
                .order_by(appointment_texts.c.id)
            )
        ).all()
        return [
            ClaimedText(
                id=row.id,
                appointment_id=row.appointment_id,
                purpose=TextPurpose(row.purpose),
                kind=row.kind,
                language=row.language,
                start=row.start_at,
                phone=self.cipher.decrypt(row.phone) if row.phone else None,
                opted_out=row.opted_out is not None,
                attempts=row.attempts,
                throttled=row.throttled,
            )
            for row in rows
        ]

    async def store_bodies(self, bodies: Sequence[tuple[int, str]]) -> None:
        """Keep what is about to be sent (encrypted), so a send with an unknown outcome can be
        looked for at the provider. One statement for the whole batch."""
        if not bodies:
            return
        await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id == bindparam("text_id"))
            .values(body=bindparam("encrypted")),
            [{"text_id": text_id, "encrypted": self.cipher.encrypt(body)} for text_id, body in bodies],
        )

    async def settle(
        self,
        outcomes: Sequence[Outcome],
        from_states: Sequence[TextState],
        now: datetime,
        claim_id: str | None = None,
    ) -> int:
        """Record outcomes for texts still in one of ``from_states`` (and, for a sender, still under
        its own claim); a text that meanwhile moved on, say by a delivery report, keeps its state.
        A missing provider id or error code keeps the stored one. One statement for the batch."""
        if not outcomes:
            return 0
        texts = appointment_texts.c
        condition = and_(
            texts.id == bindparam("text_id"), or_(*(texts.state == s.value for s in from_states))
        )
        if claim_id is not None:
            condition = and_(condition, texts.claim_id == claim_id)
        new_state: BindParameter[str] = bindparam("new_state")
        statement = (
            update(appointment_texts)
            .where(condition)
            .values(
                state=new_state,
                updated_at=now,
                provider_id=func.coalesce(bindparam("provider_id"), texts.provider_id),
                error_code=func.coalesce(bindparam("error_code"), texts.error_code),
                claim_id=case((new_state == TextState.PENDING.value, None), else_=texts.claim_id),
            )
        )
        result = await self.connection.execute(
            statement,
            [
                {
                    "text_id": outcome.text_id,
                    "new_state": outcome.state.value,
                    "provider_id": outcome.provider_id,
                    "error_code": outcome.error_code[:32] if outcome.error_code else None,
                }
                for outcome in outcomes
            ],
        )
        return int(result.rowcount)

    async def throttled(self, retries: Sequence[tuple[int, datetime]], claim_id: str, now: datetime) -> int:
        """Put texts the provider throttled (never processed) back to pending until ``retry_at``; the
        claim's attempt is given back, so throttling never uses up the attempts for unknown outcomes."""
        if not retries:
            return 0
        texts = appointment_texts.c
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                texts.id == bindparam("text_id"),
                texts.state == TextState.SENDING.value,
                texts.claim_id == claim_id,
            )
            .values(
                state=TextState.PENDING.value,
                retry_at=bindparam("retry"),
                throttled=texts.throttled + 1,
                attempts=texts.attempts - 1,
                claim_id=None,
                updated_at=now,
            ),
            [{"text_id": text_id, "retry": retry_at} for text_id, retry_at in retries],
        )
        return int(result.rowcount)

    async def mark_stale_unknown(self, stale_before: datetime, now: datetime) -> int:
        """A text claimed long ago and still 'sending' was interrupted (a crash, a kill): its outcome
        is unknown and it will be reconciled, never simply sent again."""
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.state == TextState.SENDING.value,
                appointment_texts.c.claimed_at < stale_before,
            )
            .values(state=TextState.UNKNOWN.value, error_code="interrupted", updated_at=now)
        )
        return int(result.rowcount)

    async def unknown_texts(self, limit: int) -> list[UnresolvedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts,
                    appointments.c.phone,
                    appointments.c.start_at.label("appointment_start"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .where(appointment_texts.c.state == TextState.UNKNOWN.value)
                .order_by(appointment_texts.c.updated_at)
                .limit(limit)
            )
        ).all()
        return [self._unresolved(row) for row in rows]

    async def sent_awaiting_report(self, updated_before: datetime, limit: int) -> list[UnresolvedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts,
                    appointments.c.phone,
                    appointments.c.start_at.label("appointment_start"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .where(
                    appointment_texts.c.state == TextState.SENT.value,
                    appointment_texts.c.provider_id.is_not(None),
                    appointment_texts.c.updated_at < updated_before,
                    appointments.c.end_at > updated_before - timedelta(days=1),
                )
                .order_by(appointment_texts.c.updated_at)
                .limit(limit)
            )
        ).all()
        return [self._unresolved(row) for row in rows]

    def _unresolved(self, row: Any) -> UnresolvedText:
        return UnresolvedText(
            id=row.id,
            appointment_id=row.appointment_id,
            state=TextState(row.state),
            purpose=TextPurpose(row.purpose),
            claim_id=row.claim_id,
            claimed_at=row.claimed_at,
            attempts=row.attempts,
            provider_id=row.provider_id,
            phone=self.cipher.decrypt(row.phone) if row.phone else None,
            body=self.cipher.decrypt(row.body) if row.body else None,
            appointment_start=row.appointment_start,
        )

    async def touch_texts(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self.connection.execute(
                update(appointment_texts).where(appointment_texts.c.id.in_(list(ids))).values(updated_at=now)
            )

    async def text_for_report(
        self, provider_id: str, text_id: int | None
    ) -> tuple[int, str, TextState] | None:
        """The text a delivery report is about: by the provider's id, or by our id in the callback URL
        (a send whose answer was lost has no provider id stored yet)."""
        condition = appointment_texts.c.provider_id == provider_id
        if text_id is not None:
            condition = or_(condition, appointment_texts.c.id == text_id)
        row = (
            await self.connection.execute(
                select(appointment_texts.c.id, appointment_texts.c.appointment_id, appointment_texts.c.state)
                .where(condition)
                .order_by(appointment_texts.c.id)
                .limit(1)
            )
        ).first()
        return (row.id, row.appointment_id, TextState(row.state)) if row else None

    async def report(
        self,
        text_id: int,
        before: TextState,
        after: TextState,
        provider_id: str,
        error: str | None,
        now: datetime,
    ) -> bool:
        result = await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id == text_id, appointment_texts.c.state == before.value)
            .values(
                state=after.value,
                provider_id=provider_id,
                error_code=error[:32] if error else None,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    async def texts_for(self, appointment_ids: Sequence[str]) -> dict[str, list[TextView]]:
        result: dict[str, list[TextView]] = {appointment_id: [] for appointment_id in appointment_ids}
        if not appointment_ids:
            return result
        rows = (
            await self.connection.execute(
                select(appointment_texts)
                .where(appointment_texts.c.appointment_id.in_(list(appointment_ids)))
                .order_by(appointment_texts.c.due_at, appointment_texts.c.id)
            )
        ).all()
        for row in rows:
            result[row.appointment_id].append(
                TextView(
                    id=row.id,
                    appointment_id=row.appointment_id,
                    purpose=TextPurpose(row.purpose),
                    offset_seconds=row.offset_seconds,
                    due_at=row.due_at,
                    state=TextState(row.state),
                    attempts=row.attempts,
                    error_code=row.error_code,
                    updated_at=row.updated_at,
                )
            )
        return result

    async def count_texts_by_state(self) -> dict[str, int]:
        rows = (
            await self.connection.execute(
                select(appointment_texts.c.state, func.count()).group_by(appointment_texts.c.state)
            )
        ).all()
        return {row[0]: row[1] for row in rows}

    # ---- opt-outs and inbound replays

    async def opt_out(self, phone: str, now: datetime) -> list[str]:
        return await self._opt_out_hash(self.phone_index(phone), now)

    async def opt_out_number_of(self, appointment_id: str, now: datetime) -> list[str]:
        """Opt out the number an appointment was booked with (the provider says it opted out)."""
        phone_hash = (
            await self.connection.execute(
                select(appointments.c.phone_hash).where(appointments.c.id == appointment_id)
            )
        ).scalar_one_or_none()
        return await self._opt_out_hash(phone_hash, now) if phone_hash else []

    async def _opt_out_hash(self, phone_hash: str, now: datetime) -> list[str]:
        """Record the opt-out and withdraw every pending text to the number at once (``suppressed``,
        ``opted_out``); returns the appointments whose texts changed."""
        await self.connection.execute(
            _insert_ignoring_conflicts(self.connection, sms_opt_outs, phone_hash=phone_hash, created_at=now)
        )
        of_number = select(appointments.c.id).where(appointments.c.phone_hash == phone_hash)
        pending = and_(
            appointment_texts.c.appointment_id.in_(of_number),
            appointment_texts.c.state == TextState.PENDING.value,
        )
        changed = list(
            (
                await self.connection.execute(
                    select(appointment_texts.c.appointment_id).where(pending).distinct()
                )
            )
            .scalars()
            .all()
        )
        if changed:
            await self.connection.execute(
                update(appointment_texts)
                .where(pending)
                .values(state=TextState.SUPPRESSED.value, error_code="opted_out", updated_at=now)
            )
        return changed

    async def opt_in(self, phone: str) -> bool:
        result = await self.connection.execute(
            delete(sms_opt_outs).where(sms_opt_outs.c.phone_hash == self.phone_index(phone))
        )
        return result.rowcount == 1

    async def is_opted_out(self, phone: str) -> bool:
        row = (
            await self.connection.execute(
                select(sms_opt_outs.c.phone_hash).where(sms_opt_outs.c.phone_hash == self.phone_index(phone))
            )
        ).first()
        return row is not None

    async def first_delivery(self, message_id: str, now: datetime) -> bool:
        """True the first time an inbound message id is seen; a replayed webhook gets False. The
        hashes are kept for good: a reply acts on the number's next appointment, whenever that is,
        so no window after which a signed replay is harmless exists."""
        digest = hashlib.sha256(message_id.encode()).hexdigest()
        result = await self.connection.execute(
            _insert_ignoring_conflicts(
                self.connection, sms_inbound_seen, message_hash=digest, received_at=now
            )
        )
        return result.rowcount == 1

    # ---- retention

    async def forget_phones(self, ended_before: datetime) -> list[str]:
        """Delete phone numbers (and the texts' bodies) of appointments that ended before the cutoff."""
        ids = list(
            (
                await self.connection.execute(
                    select(appointments.c.id).where(
                        appointments.c.end_at < ended_before,
                        or_(appointments.c.phone.is_not(None), appointments.c.phone_hash.is_not(None)),
                    )
                )
            )
            .scalars()
            .all()
        )
        if ids:
            await self.connection.execute(
                update(appointments).where(appointments.c.id.in_(ids)).values(phone=None, phone_hash=None)
            )
            await self.connection.execute(
                update(appointment_texts).where(appointment_texts.c.appointment_id.in_(ids)).values(body=None)
            )
        return ids

    # ---- offers made in a chat

    async def add_offer(
        self, conversation_id: str, counsellor_id: int, kind: str, starts: Sequence[datetime], now: datetime
    ) -> None:
        await self.connection.execute(
            insert(slot_offers).values(
                conversation_id=conversation_id,
                counsellor_id=counsellor_id,
                kind=kind,
                starts=[start.astimezone(UTC).isoformat() for start in starts],
                created_at=now,
            )
        )

    async def latest_offer(self, conversation_id: str) -> SlotOffer | None:
        row = (
            await self.connection.execute(
                select(slot_offers)
                .where(slot_offers.c.conversation_id == conversation_id)
                .order_by(slot_offers.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return SlotOffer(
            row.id, row.conversation_id, row.counsellor_id, row.kind, list(row.starts), row.created_at
        )


class OutboxStore:
    """Texts the embedded outbox 'sent': kept encrypted, shown to admins, deleted by retention."""

    def __init__(self, connection: AsyncConnection, cipher: FieldCipher) -> None:
        self.connection = connection
        self.cipher = cipher

    async def add(self, provider_id: str, to: str, body: str, now: datetime) -> None:
        await self.connection.execute(
            insert(sms_outbox).values(
                provider_id=provider_id,
                to_phone=self.cipher.encrypt(to),
                body=self.cipher.encrypt(body),
                created_at=now,
            )
        )

    async def since(self, since: datetime, limit: int) -> list[OutboxEntry]:
        rows = (
            await self.connection.execute(
                select(sms_outbox)
                .where(sms_outbox.c.created_at >= since)
                .order_by(sms_outbox.c.id.desc())
                .limit(limit)
            )
        ).all()
        return [self._entry(row) for row in rows]

    async def by_provider_id(self, provider_id: str) -> OutboxEntry | None:
        row = (
            await self.connection.execute(select(sms_outbox).where(sms_outbox.c.provider_id == provider_id))
        ).first()
        return self._entry(row) if row else None

    async def delete_before(self, cutoff: datetime) -> int:
        result = await self.connection.execute(delete(sms_outbox).where(sms_outbox.c.created_at < cutoff))
        return int(result.rowcount)

    def _entry(self, row: Any) -> OutboxEntry:
        return OutboxEntry(
            row.id,
            row.provider_id,
            self.cipher.decrypt(row.to_phone),
            self.cipher.decrypt(row.body),
            row.created_at,
        )
