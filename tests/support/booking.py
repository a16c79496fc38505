"""Wiring for booking tests: the booking and text services on a real database, as server/app.py
builds them, with a clock the test moves and an SMS gateway the test scripts.

``ScriptedGateway`` behaves like a provider: it keeps every text it accepted (so reconciliation
can find it), and ``script(...)`` makes the next sends fail, time out or lose their answer."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.config.i18n import Catalogs
from server.domain.booking.kinds import GroupSchedule, KindRules
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService
from server.services.booking import BookingPolicy, BookingService
from server.services.chat import ChatService
from server.services.events import AppointmentsChanged, Event, EventBus
from server.services.ports.sms import ProviderReport, SendReceipt, SmsOutcome
from server.services.reminders import TextPolicy, TextService

ZONE = ZoneInfo("Europe/Stockholm")
LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
PHONE = "+46701740605"
OTHER_PHONE = "+46701740606"
PASSWORD = "correct-horse-battery-staple"
CATALOGS = Catalogs(Path(__file__).resolve().parents[2] / "web" / "i18n")

KINDS = {
    "phone": KindRules("phone", timedelta(minutes=45), timedelta(minutes=15), min_notice=timedelta(hours=1)),
    "visit": KindRules("visit", timedelta(hours=1), timedelta(minutes=30), address="Exempelgatan 1"),
    "group": KindRules(
        "group", timedelta(hours=2), seats=3, schedule=GroupSchedule.parse([], ["thu 18:00"], [])
    ),
    "interpreter_call": KindRules(
        "interpreter_call",
        timedelta(hours=1),
        timedelta(minutes=15),
        interpreter=True,
        counsellor_languages=("sv", "en"),
    ),
}


@dataclass
class Sent:
    to: str
    body: str
    status_ref: str | None
    provider_id: str


@dataclass
class ScriptedGateway:
    """Outcomes for the next sends: "accept" (default), "refuse" (a 4xx), "lost" (accepted, the
    answer lost: UNKNOWN), "unknown" (not accepted, UNKNOWN), "hang" (never answers), "throttle" (429,
    Retry-After 5 s: THROTTLED), "opted_out" (Twilio's 21610)."""

    accepted: list[Sent] = field(default_factory=list)
    attempts: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    _script: deque[str] = field(default_factory=deque)
    searches: int = 0

    def script(self, *outcomes: str) -> None:
        self._script.extend(outcomes)

    def to(self, number: str) -> list[Sent]:
        return [s for s in self.accepted if s.to == number]

    async def send(self, to_e164: str, body: str, *, status_ref: str | None = None) -> SendReceipt:
        self.attempts += 1
        outcome = self._script.popleft() if self._script else "accept"
        if outcome == "hang":
            await asyncio.Event().wait()
        if outcome == "refuse":
            return SendReceipt(SmsOutcome.FAILED, None, "21211")
        if outcome == "unknown":
            return SendReceipt(SmsOutcome.UNKNOWN, None, "http_503")
        if outcome == "throttle":
            return SendReceipt(SmsOutcome.THROTTLED, None, "20429", retry_after=timedelta(seconds=5))
        if outcome == "opted_out":
            return SendReceipt(SmsOutcome.OPTED_OUT, None, "21610")
        sent = Sent(to_e164, body, status_ref, "SM" + secrets.token_hex(16))
        self.accepted.append(sent)
        self.statuses[sent.provider_id] = "queued"
        if outcome == "lost":
            return SendReceipt(SmsOutcome.UNKNOWN, None, "http_502")
        return SendReceipt(SmsOutcome.ACCEPTED, sent.provider_id, None, "queued")

    async def status(self, provider_id: str) -> ProviderReport | None:
        status = self.statuses.get(provider_id)
        return ProviderReport(provider_id, status) if status else None

    async def find(self, to_e164: str, body: str, since: datetime) -> ProviderReport | None:
        self.searches += 1
        for sent in reversed(self.accepted):
            if sent.to == to_e164 and sent.body == body:
                return ProviderReport(sent.provider_id, self.statuses[sent.provider_id])
        return None


@dataclass
class World:
    booking: BookingService
    texts: TextService
    gateway: ScriptedGateway
    uow: SqlUnitOfWork
    changed: list[str]


def text_policy(**changes: object) -> TextPolicy:
    values: dict[str, object] = {
        "zone": ZONE,
        "kinds": KINDS,
        "sender_name": "",
        "send_timeout": timedelta(seconds=2),
        "max_concurrent": 5,
        "reconcile_after": timedelta(minutes=2),
        "max_attempts": 3,
        "phone_retention": timedelta(days=30),
    }
    values.update(changes)
    return TextPolicy(**values)  # type: ignore[arg-type]


def build_world(
    database: Database,
    data_key: bytes,
    clock: object,
    chat: ChatService,
    gateway: ScriptedGateway | None = None,
    offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2)),
    **policy: object,
) -> World:
    uow = SqlUnitOfWork(database, DataCiphers.from_key(data_key))
    return services_on(uow, clock, chat, gateway, offsets, **policy)


def services_on(
    uow: object,
    clock: object,
    chat: ChatService,
    gateway: ScriptedGateway | None = None,
    offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2)),
    **policy: object,
) -> World:
    """The booking and text services on any unit of work with the booking repositories (the SQL
    one, or tests/fakes)."""
    gateway = gateway or ScriptedGateway()
    changed: list[str] = []

    async def record(event: Event) -> None:
        if isinstance(event, AppointmentsChanged):
            changed.extend(event.appointment_ids)

    events = EventBus()
    events.subscribe(record)
    texts = TextService(uow, gateway, clock, text_policy(**policy), CATALOGS.text, events)  # type: ignore[arg-type]
    booking = BookingService(
        uow,
        clock,  # type: ignore[arg-type]
        BookingPolicy(ZONE, KINDS, LANGUAGES, offsets, "SE"),
        texts,
        chat,
        events,
    )
    return World(booking, texts, gateway, uow, changed)  # type: ignore[arg-type]


async def add_counsellor(
    world: World,
    auth: AuthService,
    username: str,
    languages: tuple[str, ...] = ("sv",),
    weekly: tuple[tuple[int, str, str], ...] = tuple((day, "08:00", "20:00") for day in range(7)),
    role: Role = Role.COUNSELLOR,
) -> StaffUser:
    user_id = await auth.add_user(username, PASSWORD, role)
    async with auth.uow.read() as repos:
        user = await repos.staff.get_user(user_id)
    assert user is not None
    await world.booking.set_availability(user, languages, weekly, [])
    return user


def local(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    """A Stockholm wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


# ---- against a real server process (e2e) ----

#: Short kinds and offsets so that reminders fall due within seconds.
FAST_BOOKING_ENV = {
    "KINLINE_BOOKING__KINDS__PHONE__DURATION": "20s",
    "KINLINE_BOOKING__KINDS__PHONE__BUFFER": "0s",
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__KINDS__PHONE__HORIZON": "2d",
    "KINLINE_BOOKING__SWEEP_INTERVAL": "1s",
    "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
    "KINLINE_SMS__SEND_TIMEOUT": "2s",
    "KINLINE_SMS__RECONCILE_AFTER": "3s",
}
ALL_WEEK = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in range(7)]


async def eventually(probe, condition, timeout: float = 30.0, what: str = "condition"):
    """Poll an async probe until condition(result) holds; the probe's result is returned."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if condition(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}; last: {result!r}")
        await asyncio.sleep(0.1)


class BookingClient:
    """A staff session (for availability and the appointment list) and anonymous booking calls."""

    def __init__(self, staff_api, public_api) -> None:
        self.staff = staff_api
        self.public = public_api

    async def open_all_week(self, languages: tuple[str, ...] = ("sv", "en", "ar")) -> None:
        result = await self.staff.request(
            "PUT",
            "/api/me/availability",
            json={"languages": list(languages), "weekly": ALL_WEEK, "exceptions": []},
        )
        assert result.status == 200, result.body

    async def slots(self, kind: str = "phone", language: str = "sv", hours: float = 2) -> list[dict]:
        now = datetime.now(UTC)
        query = {
            "kind": kind,
            "language": language,
            "from": now.isoformat(),
            "to": (now + timedelta(hours=hours)).isoformat(),
        }
        result = await self.public.session.get("/api/slots", params=query)
        async with result:
            assert result.status == 200, await result.text()
            return list((await result.json())["slots"])

    async def next_start(self, lead_seconds: float, kind: str = "phone", language: str = "sv") -> str:
        earliest = datetime.now(UTC) + timedelta(seconds=lead_seconds)
        for slot in await self.slots(kind, language, hours=lead_seconds / 3600 + 4):
            if datetime.fromisoformat(slot["start"]) >= earliest:
                return str(slot["start"])
        raise AssertionError("no free slot")

    async def book(
        self, start: str, phone: str = PHONE, kind: str = "phone", language: str = "sv", **extra
    ) -> dict:
        result = await self.public.request(
            "POST",
            "/api/appointments",
            json={"kind": kind, "start": start, "language": language, "phone": phone, **extra},
        )
        assert result.status == 201, result.body
        return dict(result.body)

    async def appointments(self) -> list[dict]:
        now = datetime.now(UTC)
        result = await self.staff.session.get(
            "/api/staff/appointments",
            params={
                "from": (now - timedelta(days=1)).isoformat(),
                "to": (now + timedelta(days=3)).isoformat(),
            },
        )
        async with result:
            assert result.status == 200, await result.text()
            return list((await result.json())["appointments"])

    async def appointment(self, appointment_id: str) -> dict:
        return next(a for a in await self.appointments() if a["appointment_id"] == appointment_id)

    async def text_states(self, appointment_id: str) -> list[tuple[str, str]]:
        return [(t["purpose"], t["state"]) for t in (await self.appointment(appointment_id))["texts"]]
