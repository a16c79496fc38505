"""An appointment and its states: booked, cancelled, attended, no-show."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from server.domain.errors import Conflict, InvalidInput, NotFound


class AppointmentState(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class CancelledBy(enum.StrEnum):
    RELATIVE = "relative"
    SMS = "sms"
    STAFF = "staff"


OUTCOMES = frozenset({AppointmentState.ATTENDED, AppointmentState.NO_SHOW})


@dataclass(frozen=True)
class Appointment:
    id: str
    reference: str
    kind: str
    language: str
    start: datetime
    end: datetime
    counsellor_id: int
    state: AppointmentState
    created_at: datetime
    conversation_id: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: CancelledBy | None = None
    version: int = 1
    has_phone: bool = True
    #: The language an interpreter translates from (the relative's), for a kind with an interpreter.
    interpreter_language: str | None = None


def require_manageable(appointment: Appointment | None, now: datetime) -> Appointment:
    """What a manage code may still change: a booked appointment that has not started."""
    if appointment is None:
        raise NotFound("no appointment has this manage code", code="unknown_manage_code")
    if appointment.state is AppointmentState.CANCELLED:
        raise Conflict("the appointment is already cancelled", code="already_cancelled")
    if appointment.state is not AppointmentState.BOOKED or appointment.start <= now:
        raise Conflict("the appointment has passed and can no longer be changed", code="appointment_past")
    return appointment


def cancel(appointment: Appointment, now: datetime, by: CancelledBy) -> Appointment:
    if appointment.state is AppointmentState.CANCELLED:
        raise Conflict("the appointment is already cancelled", code="already_cancelled")
    if appointment.state is not AppointmentState.BOOKED:
        raise Conflict("the appointment is already closed", code="appointment_closed")
    if by is not CancelledBy.STAFF and appointment.start <= now:
        raise Conflict("the appointment has passed and can no longer be changed", code="appointment_past")
    return replace(
        appointment,
        state=AppointmentState.CANCELLED,
        cancelled_at=now,
        cancelled_by=by,
        version=appointment.version + 1,
    )


def reschedule(
    appointment: Appointment, start: datetime, end: datetime, counsellor_id: int, now: datetime
) -> Appointment:
    require_manageable(appointment, now)
    if start == appointment.start:
        raise Conflict("the appointment is already at this time", code="same_time")
    return replace(
        appointment, start=start, end=end, counsellor_id=counsellor_id, version=appointment.version + 1
    )


def record_outcome(appointment: Appointment, outcome: str, now: datetime) -> Appointment:
    try:
        state = AppointmentState(outcome)
    except ValueError:
        state = None
    if state not in OUTCOMES:
        raise InvalidInput("outcome must be attended or no_show", code="unknown_outcome")
    assert state is not None
    if appointment.state is not AppointmentState.BOOKED:
        raise Conflict("only a booked appointment gets an outcome", code="appointment_closed")
    if appointment.start > now:
        raise Conflict("the appointment has not started yet", code="appointment_future")
    return replace(appointment, state=state, version=appointment.version + 1)
