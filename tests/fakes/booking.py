"""Fakes of BookingStore and OutboxStore (server/adapters/db/booking_store.py) over ``Tables``.
Phone numbers are looked up by a stand-in for the keyed hash (``phone_hash``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from server.domain.booking.appointments import Appointment, AppointmentState
from server.domain.booking.availability import Availability
from server.domain.booking.slots import Busy, Counsellor, GroupSession
from server.domain.errors import NotFound
from server.domain.reminders import DueText, Outcome, TextPurpose, TextState
from server.domain.staff import CHAT_ROLES
from server.services.ports.booking import SlotOffer
from server.services.ports.texts import ClaimedText, OutboxEntry, TextView, UnresolvedText
from tests.fakes.tables import (
    AppointmentRow,
    BookingProfileRow,
    GroupSessionRow,
    OfferRow,
    OutboxRow,
    Tables,
    TextRow,
    UniqueViolation,
)


def phone_hash(e164: str) -> str:
    return f"phone-index:{e164}"


class FakeBookingRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    # ---- counsellors and availability

    async def counsellors(self) -> list[Counsellor]:
        found = []
        for user_id, profile in self.tables.booking_profiles.items():
            user = self.tables.staff[user_id].user
            if user.active and user.role in CHAT_ROLES:
                availability = replace(profile.availability, languages=tuple(user.languages))
                found.append(Counsellor(user_id, availability, profile.last_assignment))
        return found

    async def lock_counsellor(self, user_id: int) -> None:
        return None

    async def availability(self, user_id: int) -> Availability:
        row = self.tables.staff.get(user_id)
        if row is None:
            return Availability()
        profile = self.tables.booking_profiles.get(user_id)
        stored = profile.availability if profile else Availability()
        return replace(stored, languages=tuple(row.user.languages))

    async def save_availability(self, user_id: int, availability: Availability, now: datetime) -> None:
        row = self.tables.staff.get(user_id)
        if row is not None:
            self.tables.staff[user_id] = replace(
                row, user=replace(row.user, languages=list(availability.languages))
            )
        profile = self.tables.booking_profiles.get(user_id)
        hours = replace(availability, languages=())
        self.tables.booking_profiles[user_id] = (
            replace(profile, availability=hours, updated_at=now)
            if profile
            else BookingProfileRow(hours, last_assignment=0, updated_at=now)
        )

    async def mark_assigned(self, user_id: int) -> None:
        profile = self.tables.booking_profiles.get(user_id)
        if profile is None:
            return
        latest = max((p.last_assignment for p in self.tables.booking_profiles.values()), default=0)
        self.tables.booking_profiles[user_id] = replace(profile, last_assignment=latest + 1)

    async def busy(self, start: datetime, end: datetime, exclude: str | None = None) -> dict[int, list[Busy]]:
        result: dict[int, list[Busy]] = {}
        for row in self.tables.appointments.values():
            a = row.appointment
            if (
                a.state is AppointmentState.BOOKED
                and a.start < end
                and row.busy_until > start
                and a.id != exclude
            ):
                result.setdefault(a.counsellor_id, []).append(Busy(a.start, row.busy_until))
        return result

    # ---- group sessions

    async def group_sessions(self, kind: str, start: datetime, end: datetime) -> dict[datetime, GroupSession]:
        return {
            at: GroupSession(k, at, row.counsellor_id, row.seats_taken)
            for (k, at), row in self.tables.group_sessions.items()
            if k == kind and start <= at < end and row.seats_taken > 0
        }

    async def take_group_seat(self, kind: str, start: datetime, host_id: int, seats: int) -> int | None:
        key = (kind, start)
        row = self.tables.group_sessions.get(key) or GroupSessionRow(host_id, 0)
        if row.seats_taken == 0:
            row = replace(row, counsellor_id=host_id)
        self.tables.group_sessions[key] = row
        if row.seats_taken >= seats:
            return None
        self.tables.group_sessions[key] = replace(row, seats_taken=row.seats_taken + 1)
        return row.counsellor_id

    async def release_group_seat(self, kind: str, start: datetime) -> None:
        row = self.tables.group_sessions.get((kind, start))
        if row is not None and row.seats_taken > 0:
            self.tables.group_sessions[(kind, start)] = replace(row, seats_taken=row.seats_taken - 1)

    # ---- appointments

    def _rows(self, where: Callable[[AppointmentRow], bool]) -> list[AppointmentRow]:
        return [row for row in self.tables.appointments.values() if where(row)]

    @staticmethod
    def _read(row: AppointmentRow) -> Appointment:
        return replace(row.appointment, has_phone=row.phone is not None)

    async def insert_appointment(
        self, appointment: Appointment, busy_until: datetime, manage_hash: str, phone: str
    ) -> None:
        if (
            appointment.id in self.tables.appointments
            or self._rows(lambda r: r.appointment.reference == appointment.reference)
            or self._rows(lambda r: r.manage_hash == manage_hash)
        ):
            raise UniqueViolation("appointments")
        self.tables.appointments[appointment.id] = AppointmentRow(
            appointment, busy_until, manage_hash, phone, phone_hash(phone)
        )

    async def reference_taken(self, reference: str) -> bool:
        return bool(self._rows(lambda r: r.appointment.reference == reference))

    async def get(self, appointment_id: str) -> Appointment | None:
        row = self.tables.appointments.get(appointment_id)
        return self._read(row) if row else None

    async def by_manage_hash(self, manage_hash: str) -> Appointment | None:
        found = self._rows(lambda r: r.manage_hash == manage_hash)
        return self._read(found[0]) if found else None

    async def save(
        self,
        before: Appointment,
        after: Appointment,
        busy_until: datetime | None = None,
        manage_hash: str | None = None,
    ) -> bool:
        """Only while the stored version is ``before``'s, like the real conditional UPDATE."""
        row = self.tables.appointments.get(before.id)
        if row is None or row.appointment.version != before.version:
            return False
        changed = replace(
            row.appointment,
            state=after.state,
            start=after.start,
            end=after.end,
            counsellor_id=after.counsellor_id,
            cancelled_at=after.cancelled_at,
            cancelled_by=after.cancelled_by,
            version=after.version,
        )
        self.tables.appointments[before.id] = replace(
            row,
            appointment=changed,
            busy_until=busy_until if busy_until is not None else row.busy_until,
            manage_hash=manage_hash if manage_hash is not None else row.manage_hash,
        )
        return True

    async def between(self, start: datetime, end: datetime) -> list[Appointment]:
        found = self._rows(lambda r: r.appointment.start < end and r.appointment.end > start)
        return [
            self._read(r) for r in sorted(found, key=lambda r: (r.appointment.start, r.appointment.reference))
        ]

    async def many(self, ids: Iterable[str]) -> list[Appointment]:
        return [self._read(self.tables.appointments[i]) for i in set(ids) if i in self.tables.appointments]

    async def upcoming_for_phone(self, phone: str, now: datetime) -> list[Appointment]:
        found = self._rows(
            lambda r: (
                r.phone_hash == phone_hash(phone)
                and r.appointment.state is AppointmentState.BOOKED
                and r.appointment.start > now
            )
        )
        return [self._read(r) for r in sorted(found, key=lambda r: r.appointment.start)]

    async def language_for_phone(self, phone: str) -> str | None:
        found = self._rows(lambda r: r.phone_hash == phone_hash(phone))
        latest = max(found, key=lambda r: r.appointment.created_at, default=None)
        return latest.appointment.language if latest else None

    async def phone_of(self, appointment_id: str) -> str | None:
        row = self.tables.appointments.get(appointment_id)
        return row.phone if row else None

    # ---- texts

    def _update_texts(self, where: Callable[[TextRow], bool], **values: object) -> int:
        changed = 0
        for index, text in enumerate(self.tables.texts):
            if where(text):
                self.tables.texts[index] = replace(text, **values)  # type: ignore[arg-type]
                changed += 1
        return changed

    async def add_texts(
        self,
        appointment_id: str,
        texts: Sequence[tuple[TextPurpose, timedelta | None, datetime]],
        now: datetime,
    ) -> list[int]:
        if appointment_id not in self.tables.appointments:
            raise NotFound("foreign key: no such appointment")
        ids = []
        for purpose, offset, due_at in texts:
            text_id = self.tables.next_id("appointment_texts")
            offset_seconds = int(offset.total_seconds()) if offset is not None else None
            self.tables.texts.append(
                TextRow(text_id, appointment_id, purpose, offset_seconds, due_at, TextState.PENDING, now)
            )
            ids.append(text_id)
        return ids

    async def withdraw_pending_reminders(self, appointment_id: str, now: datetime) -> int:
        return self._update_texts(
            lambda t: (
                t.appointment_id == appointment_id
                and t.purpose is TextPurpose.REMINDER
                and t.state is TextState.PENDING
            ),
            state=TextState.WITHDRAWN,
            updated_at=now,
        )

    async def due_texts(self, now: datetime, limit: int, only: Sequence[int] | None = None) -> list[DueText]:
        due = [
            t
            for t in self.tables.texts
            if t.state is TextState.PENDING
            and t.due_at <= now
            and (t.retry_at is None or t.retry_at <= now)
            and (only is None or t.id in only)
        ]
        due.sort(key=lambda t: (t.due_at, t.id))
        result = []
        for t in due[:limit]:
            appointment = self.tables.appointments[t.appointment_id].appointment
            booked = appointment.state is AppointmentState.BOOKED
            result.append(DueText(t.id, t.appointment_id, t.purpose, t.due_at, appointment.start, booked))
        return result

    async def move_texts(
        self, ids: Sequence[int], from_state: TextState, to_state: TextState, now: datetime
    ) -> int:
        return self._update_texts(
            lambda t: t.id in ids and t.state is from_state, state=to_state, updated_at=now
        )

    async def claim(self, ids: Sequence[int], claim_id: str, now: datetime) -> int:
        claimed = 0
        for index, t in enumerate(self.tables.texts):
            if t.id in ids and t.state is TextState.PENDING:
                self.tables.texts[index] = replace(
                    t,
                    state=TextState.SENDING,
                    claim_id=claim_id,
                    claimed_at=now,
                    attempts=t.attempts + 1,
                    updated_at=now,
                )
                claimed += 1
        return claimed

    async def claimed(self, claim_id: str) -> list[ClaimedText]:
        result = []
        for t in sorted(self.tables.texts, key=lambda t: t.id):
            if t.claim_id != claim_id or t.state is not TextState.SENDING:
                continue
            row = self.tables.appointments[t.appointment_id]
            a = row.appointment
            opted_out = row.phone_hash is not None and row.phone_hash in self.tables.opt_outs
            result.append(
                ClaimedText(
                    t.id,
                    t.appointment_id,
                    t.purpose,
                    a.kind,
                    a.language,
                    a.start,
                    row.phone,
                    opted_out,
                    t.attempts,
                    t.throttled,
                )
            )
        return result

    async def store_bodies(self, bodies: Sequence[tuple[int, str]]) -> None:
        by_id = dict(bodies)
        for index, t in enumerate(self.tables.texts):
            if t.id in by_id:
                self.tables.texts[index] = replace(t, body=by_id[t.id])

    async def settle(
        self,
        outcomes: Sequence[Outcome],
        from_states: Sequence[TextState],
        now: datetime,
        claim_id: str | None = None,
    ) -> int:
        changed = 0
        for outcome in outcomes:
            for index, t in enumerate(self.tables.texts):
                if t.id != outcome.text_id or t.state not in from_states:
                    continue
                if claim_id is not None and t.claim_id != claim_id:
                    continue
                error = outcome.error_code[:32] if outcome.error_code else None
                self.tables.texts[index] = replace(
                    t,
                    state=outcome.state,
                    updated_at=now,
                    provider_id=t.provider_id if outcome.provider_id is None else outcome.provider_id,
                    error_code=t.error_code if error is None else error,
                    claim_id=None if outcome.state is TextState.PENDING else t.claim_id,
                )
                changed += 1
        return changed

    async def throttled(self, retries: Sequence[tuple[int, datetime]], claim_id: str, now: datetime) -> int:
        changed = 0
        for text_id, retry_at in retries:
            for index, t in enumerate(self.tables.texts):
                if t.id == text_id and t.state is TextState.SENDING and t.claim_id == claim_id:
                    self.tables.texts[index] = replace(
                        t,
                        state=TextState.PENDING,
                        retry_at=retry_at,
                        throttled=t.throttled + 1,
                        attempts=t.attempts - 1,
                        claim_id=None,
                        updated_at=now,
                    )
                    changed += 1
        return changed

    async def mark_stale_unknown(self, stale_before: datetime, now: datetime) -> int:
        return self._update_texts(
            lambda t: (
                t.state is TextState.SENDING and t.claimed_at is not None and t.claimed_at < stale_before
            ),
            state=TextState.UNKNOWN,
            error_code="interrupted",
            updated_at=now,
        )

    def _unresolved(self, t: TextRow) -> UnresolvedText:
        row = self.tables.appointments[t.appointment_id]
        return UnresolvedText(
            t.id,
            t.appointment_id,
            t.state,
            t.purpose,
            t.claim_id,
            t.claimed_at,  # type: ignore[arg-type]
            t.attempts,
            t.provider_id,
            row.phone,
            t.body,
            row.appointment.start,
        )

    async def unknown_texts(self, limit: int) -> list[UnresolvedText]:
        found = sorted(
            (t for t in self.tables.texts if t.state is TextState.UNKNOWN), key=lambda t: t.updated_at
        )
        return [self._unresolved(t) for t in found[:limit]]

    async def sent_awaiting_report(self, updated_before: datetime, limit: int) -> list[UnresolvedText]:
        found = sorted(
            (
                t
                for t in self.tables.texts
                if t.state is TextState.SENT
                and t.provider_id is not None
                and t.updated_at < updated_before
                and self.tables.appointments[t.appointment_id].appointment.end
                > updated_before - timedelta(days=1)
            ),
            key=lambda t: t.updated_at,
        )
        return [self._unresolved(t) for t in found[:limit]]

    async def touch_texts(self, ids: Sequence[int], now: datetime) -> None:
        self._update_texts(lambda t: t.id in ids, updated_at=now)

    async def text_for_report(
        self, provider_id: str, text_id: int | None
    ) -> tuple[int, str, TextState] | None:
        found = sorted(
            (
                t
                for t in self.tables.texts
                if t.provider_id == provider_id or (text_id is not None and t.id == text_id)
            ),
            key=lambda t: t.id,
        )
        return (found[0].id, found[0].appointment_id, found[0].state) if found else None

    async def report(
        self,
        text_id: int,
        before: TextState,
        after: TextState,
        provider_id: str,
        error: str | None,
        now: datetime,
    ) -> bool:
        return (
            self._update_texts(
                lambda t: t.id == text_id and t.state is before,
                state=after,
                provider_id=provider_id,
                error_code=error[:32] if error else None,
                updated_at=now,
            )
            == 1
        )

    async def texts_for(self, appointment_ids: Sequence[str]) -> dict[str, list[TextView]]:
        result: dict[str, list[TextView]] = {appointment_id: [] for appointment_id in appointment_ids}
        for t in sorted(self.tables.texts, key=lambda t: (t.due_at, t.id)):
            if t.appointment_id in result:
                result[t.appointment_id].append(
                    TextView(
                        t.id,
                        t.appointment_id,
                        t.purpose,
                        t.offset_seconds,
                        t.due_at,
                        t.state,
                        t.attempts,
                        t.error_code,
                        t.updated_at,
                    )
                )
        return result

    async def count_texts_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tables.texts:
            counts[t.state.value] = counts.get(t.state.value, 0) + 1
        return counts

    # ---- opt-outs and inbound replays

    async def opt_out(self, phone: str, now: datetime) -> list[str]:
        return await self._opt_out_hash(phone_hash(phone), now)

    async def opt_out_number_of(self, appointment_id: str, now: datetime) -> list[str]:
        row = self.tables.appointments.get(appointment_id)
        return await self._opt_out_hash(row.phone_hash, now) if row and row.phone_hash else []

    async def _opt_out_hash(self, hashed: str, now: datetime) -> list[str]:
        self.tables.opt_outs.setdefault(hashed, now)
        of_number = {a_id for a_id, row in self.tables.appointments.items() if row.phone_hash == hashed}
        changed = sorted(
            {
                t.appointment_id
                for t in self.tables.texts
                if t.appointment_id in of_number and t.state is TextState.PENDING
            }
        )
        self._update_texts(
            lambda t: t.appointment_id in of_number and t.state is TextState.PENDING,
            state=TextState.SUPPRESSED,
            error_code="opted_out",
            updated_at=now,
        )
        return changed

    async def opt_in(self, phone: str) -> bool:
        return self.tables.opt_outs.pop(phone_hash(phone), None) is not None

    async def is_opted_out(self, phone: str) -> bool:
        return phone_hash(phone) in self.tables.opt_outs

    async def first_delivery(self, message_id: str, now: datetime) -> bool:
        if message_id in self.tables.inbound_seen:
            return False
        self.tables.inbound_seen.add(message_id)
        return True

    # ---- retention

    async def forget_phones(self, ended_before: datetime) -> list[str]:
        ids = [
            a_id
            for a_id, row in self.tables.appointments.items()
            if row.appointment.end < ended_before and (row.phone is not None or row.phone_hash is not None)
        ]
        for a_id in ids:
            self.tables.appointments[a_id] = replace(
                self.tables.appointments[a_id], phone=None, phone_hash=None
            )
        self._update_texts(lambda t: t.appointment_id in ids, body=None)
        return ids

    # ---- offers made in a chat

    async def add_offer(
        self, conversation_id: str, counsellor_id: int, kind: str, starts: Sequence[datetime], now: datetime
    ) -> None:
        if conversation_id not in self.tables.conversations:
            raise NotFound("foreign key: no such conversation")
        texts = tuple(start.astimezone(UTC).isoformat() for start in starts)
        self.tables.offers.append(
            OfferRow(self.tables.next_id("slot_offers"), conversation_id, counsellor_id, kind, texts, now)
        )

    async def latest_offer(self, conversation_id: str) -> SlotOffer | None:
        found = [o for o in self.tables.offers if o.conversation_id == conversation_id]
        if not found:
            return None
        o = max(found, key=lambda offer: offer.id)
        return SlotOffer(o.id, o.conversation_id, o.counsellor_id, o.kind, list(o.starts), o.created_at)


class FakeOutboxRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add(self, provider_id: str, to: str, body: str, now: datetime) -> None:
        if any(row.provider_id == provider_id for row in self.tables.outbox):
            raise UniqueViolation("sms_outbox.provider_id")
        self.tables.outbox.append(OutboxRow(self.tables.next_id("sms_outbox"), provider_id, to, body, now))

    async def since(self, since: datetime, limit: int) -> list[OutboxEntry]:
        found = sorted(
            (r for r in self.tables.outbox if r.created_at >= since), key=lambda r: r.id, reverse=True
        )
        return [self._entry(r) for r in found[:limit]]

    async def by_provider_id(self, provider_id: str) -> OutboxEntry | None:
        found = [r for r in self.tables.outbox if r.provider_id == provider_id]
        return self._entry(found[0]) if found else None

    async def delete_before(self, cutoff: datetime) -> int:
        kept = [r for r in self.tables.outbox if r.created_at >= cutoff]
        deleted = len(self.tables.outbox) - len(kept)
        self.tables.outbox[:] = kept
        return deleted

    @staticmethod
    def _entry(row: OutboxRow) -> OutboxEntry:
        return OutboxEntry(row.id, row.provider_id, row.to, row.body, row.created_at)
