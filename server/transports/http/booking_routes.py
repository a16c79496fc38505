"""HTTP routes of booking: parse, call the booking service, shape the answer (docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.domain.booking.appointments import Appointment
from server.domain.booking.availability import availability_to_plain
from server.domain.errors import InvalidInput
from server.transports import wire
from server.transports.http.middlewares import parse_body, query_limit, rate_limit_key
from server.transports.http.staff_auth import require_staff

ICS_TITLE_KEY = "booking.ics_title"
DEFAULT_STAFF_SPAN = timedelta(days=7)


class BookAppointment(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    start: datetime
    language: str = Field(min_length=2, max_length=8)
    phone: str = Field(min_length=1, max_length=40)
    conversation_token: str | None = Field(default=None, max_length=128)


class ManageCode(BaseModel):
    manage_code: str = Field(min_length=1, max_length=64)


class Rebook(ManageCode):
    start: datetime


class ConversationToken(BaseModel):
    conversation_token: str = Field(min_length=1, max_length=128)


class WeeklyEntry(BaseModel):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^\d\d:\d\d$")
    end: str = Field(pattern=r"^\d\d:\d\d$")


class ExceptionEntry(BaseModel):
    date: str = Field(pattern=r"^\d{4}-\d\d-\d\d$")
    available: bool
    start: str | None = Field(default=None, pattern=r"^\d\d:\d\d$")
    end: str | None = Field(default=None, pattern=r"^\d\d:\d\d$")


class AvailabilityBody(BaseModel):
    languages: list[str] = Field(max_length=16)
    weekly: list[WeeklyEntry] = Field(max_length=100)
    exceptions: list[ExceptionEntry] = Field(default_factory=list, max_length=400)


class Outcome(BaseModel):
    outcome: Literal["attended", "no_show"]


class SlotOfferBody(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    starts: list[datetime] = Field(min_length=1, max_length=6)


# ---- shapes ----


def _relative_appointment(request: web.Request, a: Appointment) -> dict[str, Any]:
    kind = request.app[app_keys.BOOKING].policy.kinds.get(a.kind)
    return wire.relative_appointment(a, kind.address if kind else "")


def _time(request: web.Request, name: str, default: datetime | None = None) -> datetime:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise InvalidInput(f"{name} is required", code="invalid_time")
        return default
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 time", code="invalid_time") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} needs a UTC offset", code="invalid_time")
    return value


def mask_number(e164: str) -> str:
    """Enough to tell texts apart in the outbox, not enough to call anyone."""
    return f"{e164[:3]}…{e164[-2:]}" if len(e164) > 6 else "…"


def ics(request: web.Request, a: Appointment) -> str:
    """A calendar entry with a neutral title; nothing in it tells what the appointment is about."""
    language = a.language
    title = request.app[app_keys.CATALOGS].text(language, ICS_TITLE_KEY)
    kind = request.app[app_keys.BOOKING].policy.kinds.get(a.kind)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kinline//Booking//EN",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:{a.id}@kinline",
        f"DTSTAMP:{stamp(a.created_at)}",
        f"DTSTART:{stamp(a.start)}",
        f"DTEND:{stamp(a.end)}",
        f"SUMMARY:{escape(title)}",
        *([f"LOCATION:{escape(kind.address)}"] if kind and kind.address else []),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


# ---- relatives ----


async def booking_options(request: web.Request) -> web.Response:
    policy = request.app[app_keys.BOOKING].policy
    return web.json_response(
        {
            "timezone": policy.zone.key,
            "languages": list(policy.languages),
            "kinds": [
                {
                    "id": kind.name,
                    "duration_minutes": int(kind.duration.total_seconds() // 60),
                    "seats": kind.seats,
                    "address": kind.address,
                    "min_notice_seconds": int(kind.min_notice.total_seconds()),
                    "horizon_days": kind.horizon.days,
                    "interpreter": kind.interpreter,
                }
                for kind in policy.kinds.values()
            ],
        }
    )


async def list_slots(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "")
    language = request.query.get("language", "")
    start = _time(request, "from")
    end = _time(request, "to")
    await request.app[app_keys.SLOT_LIMITER].check(rate_limit_key(request))
    found = await request.app[app_keys.BOOKING].slots(kind, language, start, end)
    return web.json_response({"slots": [wire.slot(s) for s in found]})


async def slot_languages(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "")
    start = _time(request, "from")
    end = _time(request, "to")
    await request.app[app_keys.SLOT_LIMITER].check(rate_limit_key(request))
    found = await request.app[app_keys.BOOKING].languages_with_slots(kind, start, end)
    return web.json_response({"kind": kind, "languages": found})


async def book(request: web.Request) -> web.Response:
    body = await parse_body(request, BookAppointment)
    await request.app[app_keys.BOOKING_LIMITER].check(rate_limit_key(request))
    booked = await request.app[app_keys.BOOKING].book(
        body.kind, body.start, body.language, body.phone, body.conversation_token
    )
    a = booked.appointment
    return web.json_response(
        {
            "appointment_id": a.id,
            "reference": a.reference,
            "start": wire.iso(a.start),
            "end": wire.iso(a.end),
            "manage_code": booked.manage_code,
        },
        status=201,
    )


async def lookup(request: web.Request) -> web.Response:
    body = await parse_body(request, ManageCode)
    await request.app[app_keys.MANAGE_LIMITER].check(rate_limit_key(request))
    appointment = await request.app[app_keys.BOOKING].lookup(body.manage_code)
    return web.json_response({"appointment": _relative_appointment(request, appointment)})


async def cancel(request: web.Request) -> web.Response:
    body = await parse_body(request, ManageCode)
    await request.app[app_keys.MANAGE_LIMITER].check(rate_limit_key(request))
    cancelled = await request.app[app_keys.BOOKING].cancel_with_code(body.manage_code)
    return web.json_response({"appointment": _relative_appointment(request, cancelled)})


async def rebook(request: web.Request) -> web.Response:
    body = await parse_body(request, Rebook)
    await request.app[app_keys.MANAGE_LIMITER].check(rate_limit_key(request))
    booked = await request.app[app_keys.BOOKING].rebook(body.manage_code, body.start)
    return web.json_response(
        {"appointment": _relative_appointment(request, booked.appointment), "manage_code": booked.manage_code}
    )


async def calendar_file(request: web.Request) -> web.Response:
    body = await parse_body(request, ManageCode)
    await request.app[app_keys.MANAGE_LIMITER].check(rate_limit_key(request))
    appointment = await request.app[app_keys.BOOKING].lookup(body.manage_code)
    return web.Response(
        text=ics(request, appointment),
        content_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


async def chat_offer(request: web.Request) -> web.Response:
    body = await parse_body(request, ConversationToken)
    offer = await request.app[app_keys.BOOKING].offer(body.conversation_token)
    if offer is None:
        return web.json_response({"offer": None})
    return web.json_response({"offer": {"kind": offer.kind, "slots": [wire.slot(s) for s in offer.slots]}})


# ---- staff ----


async def get_availability(request: web.Request) -> web.Response:
    user = await require_staff(request)
    availability = await request.app[app_keys.BOOKING].availability(user)
    return web.json_response(availability_to_plain(availability))


async def put_availability(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, AvailabilityBody)
    stored = await request.app[app_keys.BOOKING].set_availability(
        user,
        body.languages,
        [(w.weekday, w.start, w.end) for w in body.weekly],
        [(e.date, e.available, e.start, e.end) for e in body.exceptions],
    )
    return web.json_response(availability_to_plain(stored))


async def staff_appointments(request: web.Request) -> web.Response:
    user = await require_staff(request)
    start = _time(request, "from", datetime.now().astimezone())
    end = _time(request, "to", start + DEFAULT_STAFF_SPAN)
    views = await request.app[app_keys.BOOKING].staff_appointments(user, start, end)
    return web.json_response({"appointments": [wire.staff_appointment(v) for v in views]})


async def staff_cancel(request: web.Request) -> web.Response:
    user = await require_staff(request)
    service = request.app[app_keys.BOOKING]
    cancelled = await service.staff_cancel(request.match_info["appointment_id"], user)
    (view,) = await service.staff_appointments_by_id([cancelled.id])
    return web.json_response({"appointment": wire.staff_appointment(view)})


async def staff_outcome(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, Outcome)
    service = request.app[app_keys.BOOKING]
    closed = await service.record_outcome(request.match_info["appointment_id"], user, body.outcome)
    (view,) = await service.staff_appointments_by_id([closed.id])
    return web.json_response({"appointment": wire.staff_appointment(view)})


async def staff_phone(request: web.Request) -> web.Response:
    user = await require_staff(request)
    phone = await request.app[app_keys.BOOKING].reveal_phone(request.match_info["appointment_id"], user)
    return web.json_response({"phone": phone})


async def sms_outbox(request: web.Request) -> web.Response:
    user = await require_staff(request)
    entries = await request.app[app_keys.BOOKING].outbox(user, query_limit(request, 100))
    return web.json_response(
        {
            "texts": [
                {
                    "id": e.id,
                    "provider_id": e.provider_id,
                    "to": mask_number(e.to),
                    "body": e.body,
                    "created_at": wire.iso(e.created_at),
                }
                for e in entries
            ]
        }
    )


async def offer_conversations(request: web.Request) -> web.Response:
    user = await require_staff(request)
    held = await request.app[app_keys.BOOKING].held_conversations(user)
    return web.json_response(
        {
            "conversations": [
                {"conversation_id": c.id, "language": c.language, "claimed_at": wire.iso(c.claimed_at)}
                for c in held
            ]
        }
    )


async def offer_slots(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, SlotOfferBody)
    catalogs = request.app[app_keys.CATALOGS]
    await request.app[app_keys.BOOKING].offer_slots(
        request.match_info["conversation_id"],
        user,
        body.kind,
        body.starts,
        lambda language: catalogs.text(language, "booking.offer_message"),
    )
    return web.json_response({"ok": True})


def add_booking_routes(app: web.Application) -> None:
    app.router.add_get("/api/booking/options", booking_options)
    app.router.add_get("/api/slots", list_slots)
    app.router.add_get("/api/slots/languages", slot_languages)
    app.router.add_post("/api/appointments", book)
    app.router.add_post("/api/appointments/lookup", lookup)
    app.router.add_post("/api/appointments/cancel", cancel)
    app.router.add_post("/api/appointments/rebook", rebook)
    app.router.add_post("/api/appointments/calendar", calendar_file)
    app.router.add_post("/api/appointments/offer", chat_offer)
    app.router.add_get("/api/me/availability", get_availability)
    app.router.add_put("/api/me/availability", put_availability)
    app.router.add_get("/api/staff/appointments", staff_appointments)
    app.router.add_post("/api/staff/appointments/{appointment_id}/cancel", staff_cancel)
    app.router.add_post("/api/staff/appointments/{appointment_id}/outcome", staff_outcome)
    app.router.add_get("/api/staff/appointments/{appointment_id}/phone", staff_phone)
    app.router.add_get("/api/staff/sms-outbox", sms_outbox)
    app.router.add_get("/api/staff/booking/conversations", offer_conversations)
    app.router.add_post("/api/staff/conversations/{conversation_id}/slot-offer", offer_slots)
