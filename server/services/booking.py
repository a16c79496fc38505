"""Booking use-cases: free slots, booking, manage codes, cancel by reply, staff actions and the
availability editor. One short transaction each; texts go out after the commit."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain import permissions
from server.domain.booking import appointments, kinds, phones, slots
from server.domain.booking.appointments import Appointment, AppointmentState, CancelledBy
from server.domain.booking.availability import Availability, build_availability
from server.domain.booking.kinds import KindRules
from server.domain.booking.slots import BusyIndex, Counsellor, GroupSession, Slot, SlotQuery
from server.domain.conversations import Conversation, State
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.domain.permissions import Action, Ownership
from server.domain.reminders import TextPurpose, plan_reminders
from server.domain.staff import StaffUser
from server.domain.tokens import RESUME_ALPHABET, new_resume_code, normalise_resume_code, secret_hash
from server.services.contact_records import ContactRecorder
from server.services.events import AppointmentsChanged, EventBus
from server.services.ports.booking import Conversations, SlotOffer
from server.services.ports.clock import Clock
from server.services.ports.texts import OutboxEntry, TextView
from server.services.ports.unit_of_work import Repositories, Transactions
from server.services.reminders import TextService

REFERENCE_LENGTH = 6
MAX_OFFERED_SLOTS = 6
STAFF_RANGE = timedelta(days=62)


@dataclass(frozen=True)
class BookingPolicy:
    zone: ZoneInfo
    kinds: dict[str, KindRules]
    languages: tuple[str, ...]
    reminder_offsets: tuple[timedelta, ...]
    phone_region: str
    records: ContactRecorder = field(default_factory=ContactRecorder)


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    manage_code: str


@dataclass(frozen=True)
class StaffAppointment:
    appointment: Appointment
    counsellor_name: str
    texts: list[TextView]


@dataclass(frozen=True)
class Offer:
    kind: str
    slots: list[Slot]


def new_reference() -> str:
    return "".join(secrets.choice(RESUME_ALPHABET) for _ in range(REFERENCE_LENGTH))


def manage_hash(code: str) -> str:
    return secret_hash("manage:" + normalise_resume_code(code))


class BookingService:
    def __init__(
        self,
        uow: Transactions,
        clock: Clock,
        policy: BookingPolicy,
        texts: TextService,
        conversations: Conversations,
        events: EventBus,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self.texts = texts
        self.conversations = conversations
        self.events = events

    # ---- relatives

    def _query(self, kind: str, language: str, start: datetime, end: datetime) -> SlotQuery:
        if language not in self.policy.languages:
            raise InvalidInput(
                f"language must be one of {list(self.policy.languages)}", code="unsupported_language"
            )
        return SlotQuery(kinds.require_kind(self.policy.kinds, kind), language, start, end, self.clock())

    async def slots(self, kind: str, language: str, start: datetime, end: datetime) -> list[Slot]:
        slots.check_query_window(start, end)
        query = self._query(kind, language, start, end)
        found = await self._free_time(query)
        return slots.available_slots(query, self.policy.zone, *found) if found else []

    async def languages_with_slots(self, kind: str, start: datetime, end: datetime) -> list[str]:
        """The booking languages with at least one free slot of ``kind`` between start and end."""
        slots.check_query_window(start, end)
        query = self._query(kind, self.policy.languages[0], start, end)
        found = await self._free_time(query)
        if not found:
            return []
        return slots.languages_with_slots(query, self.policy.languages, self.policy.zone, *found)

    async def _free_time(
        self, query: SlotQuery
    ) -> tuple[list[Counsellor], BusyIndex, dict[datetime, GroupSession]] | None:
        """What slots are computed from, for the query's kind and window; None when notice and
        horizon leave nothing of the window."""
        first, last = query.bounds()
        if last <= first:
            return None
        async with self.uow.read() as repos:
            counsellors = await repos.booking.counsellors()
            busy = await repos.booking.busy(first - slots.BUSY_MARGIN, last + slots.BUSY_MARGIN)
            sessions = (
                await repos.booking.group_sessions(query.kind.name, first, last)
                if query.kind.is_group
                else {}
            )
        return counsellors, BusyIndex(busy), sessions

    async def book(
        self,
        kind: str,
        start: datetime,
        language: str,
        phone: str,
        conversation_token: str | None = None,
    ) -> Booked:
        e164 = phones.normalise_phone(phone, self.policy.phone_region)
        query = self._query(kind, language, start, start + timedelta(seconds=1))
        slots.check_bookable(query, self.policy.zone, start)
        conversation = preferred = None
        if conversation_token:
            conversation = await self.conversations.authenticate_relative(conversation_token)
            preferred = await self._offering_counsellor(conversation.id, kind, start)
        code = new_resume_code()
        now = query.now
        async with self.uow.write() as repos:
            counsellor_id = await self._take(repos, query, start, preferred)
            appointment = Appointment(
                id=str(uuid.uuid4()),
                reference=await self._unique_reference(repos),
                kind=query.kind.name,
                language=language,
                start=start,
                end=start + query.kind.duration,
                counsellor_id=counsellor_id,
                state=AppointmentState.BOOKED,
                created_at=now,
                conversation_id=conversation.id if conversation else None,
                interpreter_language=language if query.kind.interpreted(language) else None,
            )
            await repos.booking.insert_appointment(
                appointment, slots.occupied_until(query.kind, start), manage_hash(code), e164
            )
            await repos.booking.mark_assigned(counsellor_id)
            text_ids = await self._plan_texts(repos, appointment, TextPurpose.CONFIRMATION, now)
        await self._after_change(appointment, text_ids)
        return Booked(appointment, code)

    async def _take(
        self,
        repos: Repositories,
        query: SlotQuery,
        start: datetime,
        preferred: int | None,
        moving: str | None = None,
    ) -> int:
        """Choose and hold a counsellor (or a group seat) for ``start`` inside the transaction.
        ``moving`` is an appointment being rebooked: its own current time blocks nothing."""
        kind = query.kind
        counsellors = await repos.booking.counsellors()
        window = (start - slots.BUSY_MARGIN, start + slots.BUSY_MARGIN)
        busy = BusyIndex(await repos.booking.busy(*window, exclude=moving))
        if kind.is_group:
            session = (
                await repos.booking.group_sessions(kind.name, start, start + timedelta(seconds=1))
            ).get(start)
            if session is not None:
                host_id = slots.require_session_host(session, counsellors, query.language).id
            else:
                candidates = slots.free_counsellors(query, self.policy.zone, counsellors, busy, start)
                host_id = slots.pick_counsellor(candidates, preferred).id
            seated = await repos.booking.take_group_seat(kind.name, start, host_id, kind.seats)
            if seated is None:
                raise Conflict("the last seat has just been taken", code="slot_taken")
            return seated
        candidates = slots.free_counsellors(query, self.policy.zone, counsellors, busy, start)
        chosen = slots.pick_counsellor(candidates, preferred)
        await repos.booking.lock_counsellor(chosen.id)
        recheck = BusyIndex(await repos.booking.busy(*window, exclude=moving))
        if not recheck.is_free(chosen.id, start, slots.occupied_until(kind, start)):
            raise Conflict("this time has just been taken", code="slot_taken")
        return chosen.id

    async def _unique_reference(self, repos: Repositories) -> str:
        while True:
            reference = new_reference()
            if not await repos.booking.reference_taken(reference):
                return reference

    async def _plan_texts(
        self, repos: Repositories, appointment: Appointment, first: TextPurpose, now: datetime
    ) -> list[int]:
        """The text that goes out now, and one row per reminder still ahead. Returns the ids to
        send at once."""
        reminders = plan_reminders(appointment.start, self.policy.reminder_offsets, now)
        immediate = await repos.booking.add_texts(appointment.id, [(first, None, now)], now)
        await repos.booking.add_texts(
            appointment.id, [(TextPurpose.REMINDER, plan.offset, plan.due_at) for plan in reminders], now
        )
        return immediate

    async def _after_change(self, appointment: Appointment, text_ids: Sequence[int]) -> None:
        self.texts.dispatch_soon(text_ids)
        await self.events.publish(AppointmentsChanged((appointment.id,)))

    async def lookup(self, code: str) -> Appointment:
        async with self.uow.read() as repos:
            appointment = await repos.booking.by_manage_hash(manage_hash(code))
        if appointment is None:
            raise NotFound("no appointment has this manage code", code="unknown_manage_code")
        return appointment

    async def cancel_with_code(self, code: str) -> Appointment:
        now = self.clock()
        async with self.uow.write() as repos:
            appointment = appointments.require_manageable(
                await repos.booking.by_manage_hash(manage_hash(code)), now
            )
            cancelled, text_ids = await self._cancel(repos, appointment, CancelledBy.RELATIVE, now)
        await self._after_change(cancelled, text_ids)
        return cancelled

    async def _cancel(
        self, repos: Repositories, appointment: Appointment, by: CancelledBy, now: datetime
    ) -> tuple[Appointment, list[int]]:
        cancelled = appointments.cancel(appointment, now, by)
        if not await repos.booking.save(appointment, cancelled):
            raise Conflict("the appointment changed meanwhile", code="conflict")
        await repos.booking.withdraw_pending_reminders(appointment.id, now)
        kind = self.policy.kinds.get(appointment.kind)
        if kind is not None and kind.is_group:
            await repos.booking.release_group_seat(appointment.kind, appointment.start)
        text_ids = await repos.booking.add_texts(appointment.id, [(TextPurpose.CANCELLATION, None, now)], now)
        return cancelled, text_ids

    async def rebook(self, code: str, start: datetime) -> Booked:
        """Move an appointment to another free time. The old manage code stops working at once."""
        now = self.clock()
        new_code = new_resume_code()
        async with self.uow.write() as repos:
            appointment = appointments.require_manageable(
                await repos.booking.by_manage_hash(manage_hash(code)), now
            )
            query = self._query(appointment.kind, appointment.language, start, start + timedelta(seconds=1))
            slots.check_bookable(query, self.policy.zone, start)
            if query.kind.is_group:
                await repos.booking.release_group_seat(appointment.kind, appointment.start)
            counsellor_id = await self._take(repos, query, start, appointment.counsellor_id, appointment.id)
            moved = appointments.reschedule(
                appointment, start, start + query.kind.duration, counsellor_id, now
            )
            if not await repos.booking.save(
                appointment, moved, slots.occupied_until(query.kind, start), manage_hash(new_code)
            ):
                raise Conflict("the appointment changed meanwhile", code="conflict")
            await repos.booking.withdraw_pending_reminders(appointment.id, now)
            text_ids = await self._plan_texts(repos, moved, TextPurpose.CHANGE, now)
        await self._after_change(moved, text_ids)
        return Booked(moved, new_code)

    async def offer(self, conversation_token: str) -> Offer | None:
        """Times a counsellor offered in this relative's chat that are still free."""
        conversation = await self.conversations.authenticate_relative(conversation_token)
        async with self.uow.read() as repos:
            offer = await repos.booking.latest_offer(conversation.id)
        if offer is None or offer.kind not in self.policy.kinds:
            return None
        starts = sorted(datetime.fromisoformat(text) for text in offer.starts)
        if not starts:
            return None
        free = await self.slots(
            offer.kind, conversation.language, starts[0], starts[-1] + timedelta(seconds=1)
        )
        wanted = set(starts)
        return Offer(offer.kind, [slot for slot in free if slot.start in wanted])

    async def _offering_counsellor(self, conversation_id: str, kind: str, start: datetime) -> int | None:
        async with self.uow.read() as repos:
            offer: SlotOffer | None = await repos.booking.latest_offer(conversation_id)
        if offer is None or offer.kind != kind or start.astimezone(UTC).isoformat() not in offer.starts:
            return None
        return offer.counsellor_id

    # ---- replies by text

    async def cancel_by_phone(self, phone: str) -> Appointment | None:
        """Cancel the soonest upcoming appointment booked with this number; None if there is none."""
        now = self.clock()
        async with self.uow.write() as repos:
            upcoming = await repos.booking.upcoming_for_phone(phone, now)
            if not upcoming:
                return None
            cancelled, text_ids = await self._cancel(repos, upcoming[0], CancelledBy.SMS, now)
        await self._after_change(cancelled, text_ids)
        return cancelled

    async def opt_out(self, phone: str) -> None:
        """Record the opt-out and withdraw the number's pending texts in the same transaction."""
        now = self.clock()
        async with self.uow.write() as repos:
            changed = await repos.booking.opt_out(phone, now)
        if changed:
            await self.events.publish(AppointmentsChanged(tuple(changed)))

    async def opt_in(self, phone: str) -> None:
        """Lift the opt-out (the relative replied START, UNSTOP or YES; Twilio lifts its block too).
        Texts withdrawn at the opt-out stay withdrawn; new ones go out."""
        async with self.uow.write() as repos:
            await repos.booking.opt_in(phone)

    async def is_opted_out(self, phone: str) -> bool:
        async with self.uow.read() as repos:
            return await repos.booking.is_opted_out(phone)

    async def language_for_phone(self, phone: str) -> str | None:
        async with self.uow.read() as repos:
            return await repos.booking.language_for_phone(phone)

    async def first_delivery(self, message_id: str) -> bool:
        async with self.uow.write() as repos:
            return await repos.booking.first_delivery(message_id, self.clock())

    # ---- staff

    async def availability(self, user: StaffUser) -> Availability:
        _permit(user, Action.AVAILABILITY_READ)
        async with self.uow.read() as repos:
            return await repos.booking.availability(user.id)

    async def set_availability(
        self,
        user: StaffUser,
        languages: Sequence[str],
        weekly: Sequence[tuple[int, str, str]],
        exceptions: Sequence[tuple[str, bool, str | None, str | None]],
    ) -> Availability:
        """The editor's input (local times, Monday = 0), checked like the body it came in before
        the permission is asked."""
        availability = build_availability(languages, weekly, exceptions, self.policy.languages)
        _permit(user, Action.AVAILABILITY_EDIT)
        async with self.uow.write() as repos:
            await repos.booking.save_availability(user.id, availability, self.clock())
            return await repos.booking.availability(user.id)

    async def staff_appointments(
        self, reader: StaffUser, start: datetime, end: datetime
    ) -> list[StaffAppointment]:
        _permit(reader, Action.APPOINTMENT_LIST)
        slots.check_query_window(start, end)
        if end - start > STAFF_RANGE:
            raise InvalidInput(f"ask for at most {STAFF_RANGE.days} days at a time", code="range_too_long")
        async with self.uow.read() as repos:
            found = await repos.booking.between(start, end)
            return await self._views(repos, found)

    async def staff_appointments_by_id(self, ids: Sequence[str]) -> list[StaffAppointment]:
        async with self.uow.read() as repos:
            return await self._views(repos, await repos.booking.many(ids))

    async def _views(self, repos: Repositories, found: Sequence[Appointment]) -> list[StaffAppointment]:
        names = {user.id: user.display_name for user in await repos.staff.list_users()}
        texts = await repos.booking.texts_for([a.id for a in found])
        return [StaffAppointment(a, names.get(a.counsellor_id, ""), texts.get(a.id, [])) for a in found]

    async def _staff_get(
        self, repos: Repositories, appointment_id: str, actor: StaffUser, action: Action
    ) -> Appointment:
        """The appointment ``action`` is about, once the table allows it. A role that never may
        is refused before the id is looked up."""
        _permit_role(actor, action)
        appointment = await repos.booking.get(appointment_id)
        if appointment is None:
            raise NotFound("no such appointment")
        ownership = Ownership.OWN if appointment.counsellor_id == actor.id else Ownership.OTHER
        _permit(actor, action, ownership, not_yours=("this appointment is someone else's", "not_assigned"))
        return appointment

    async def staff_cancel(self, appointment_id: str, actor: StaffUser) -> Appointment:
        now = self.clock()
        async with self.uow.write() as repos:
            appointment = await self._staff_get(repos, appointment_id, actor, Action.APPOINTMENT_CANCEL)
            cancelled, text_ids = await self._cancel(repos, appointment, CancelledBy.STAFF, now)
            await repos.staff.audit(actor.id, "appointment.cancel", "appointment", appointment_id, now)
        await self._after_change(cancelled, text_ids)
        return cancelled

    async def record_outcome(self, appointment_id: str, actor: StaffUser, outcome: str) -> Appointment:
        now = self.clock()
        async with self.uow.write() as repos:
            appointment = await self._staff_get(repos, appointment_id, actor, Action.APPOINTMENT_OUTCOME)
            closed = appointments.record_outcome(appointment, outcome, now)
            if not await repos.booking.save(appointment, closed):
                raise Conflict("the appointment changed meanwhile", code="conflict")
            await self.policy.records.appointment_ended(repos, closed)
            await repos.staff.audit(
                actor.id, f"appointment.{closed.state.value}", "appointment", appointment_id, now
            )
        await self.events.publish(AppointmentsChanged((closed.id,)))
        return closed

    async def reveal_phone(self, appointment_id: str, actor: StaffUser) -> str:
        """The number, for the counsellor who calls; every reveal leaves an audit row."""
        now = self.clock()
        async with self.uow.write() as repos:
            await self._staff_get(repos, appointment_id, actor, Action.APPOINTMENT_PHONE)
            phone = await repos.booking.phone_of(appointment_id)
            if phone is None:
                raise NotFound("the number has been deleted", code="phone_deleted")
            await repos.staff.audit(actor.id, "appointment.phone_read", "appointment", appointment_id, now)
        return phone

    async def outbox(self, reader: StaffUser, limit: int) -> list[OutboxEntry]:
        _permit(reader, Action.SMS_OUTBOX_READ)
        now = self.clock()
        async with self.uow.write() as repos:
            await repos.staff.audit(reader.id, "sms_outbox.read", "sms_outbox", "all", now)
            return await repos.outbox.since(datetime.min.replace(tzinfo=now.tzinfo), min(max(limit, 1), 500))

    async def held_conversations(self, user: StaffUser) -> list[Conversation]:
        """The conversations the user may offer times in."""
        _permit(user, Action.SLOTS_OFFER_LIST)
        return await self._held(user)

    async def _held(self, user: StaffUser) -> list[Conversation]:
        return [conversation for conversation, _unread in await self.conversations.held_by(user.id)]

    async def offer_slots(
        self,
        conversation_id: str,
        actor: StaffUser,
        kind: str,
        starts: Sequence[datetime],
        message_for: Callable[[str], str],
    ) -> None:
        """Offer times inside a chat the counsellor holds; the relative books one from their page."""
        _permit_role(actor, Action.SLOTS_OFFER)
        held = {c.id: c for c in await self._held(actor)}
        holding = conversation_id in held and held[conversation_id].state is State.ACTIVE
        _permit(
            actor,
            Action.SLOTS_OFFER,
            Ownership.OWN if holding else Ownership.OTHER,
            not_yours=("you do not hold this conversation", "not_holder"),
        )
        kinds.require_kind(self.policy.kinds, kind)
        if not starts or len(starts) > MAX_OFFERED_SLOTS:
            raise InvalidInput(f"offer 1 to {MAX_OFFERED_SLOTS} times", code="invalid_request")
        now = self.clock()
        async with self.uow.write() as repos:
            await repos.booking.add_offer(conversation_id, actor.id, kind, starts, now)
        language = held[conversation_id].language
        await self.conversations.post_bot_message(conversation_id, message_for(language))


def _permit_role(user: StaffUser, action: Action) -> None:
    """Refuse a role that may never perform ``action``, whatever it is about."""
    if user.role not in permissions.roles_allowed(action):
        raise Forbidden(f"{user.role.value} may not {action.value}")


def _permit(
    user: StaffUser,
    action: Action,
    ownership: Ownership = Ownership.NONE,
    not_yours: tuple[str, str] = ("not allowed", "forbidden"),
) -> None:
    """The permission table decides; a refusal that owning the object would have lifted is told
    with ``not_yours`` (message, code)."""
    if permissions.allowed(user.role, action, ownership):
        return
    if ownership is Ownership.OTHER and permissions.allowed(user.role, action, Ownership.OWN):
        raise Forbidden(*not_yours)
    raise Forbidden(f"{user.role.value} may not {action.value}")
