"""Contact records from every source through the real server (issue 12, "Done when"): chats closed
by a counsellor, appointments of the phone, visit and group kinds that end (attended or no-show,
recorded by a supervisor), and escalations of three kinds that run to closure (drafted, approved
where the kind needs it, acknowledged and closed with feedback by the route's social services
user). The retention purge runs; then ``GET /api/stats`` and ``kinline report`` agree with each
other and with what the test did (every count right or suppressed, ``min_cell`` 2), and no record
or weekly count holds an id, a phone number, a staff member, a time finer than the week or text."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.statistics.buckets import BUCKETS
from server.domain.statistics.records import MILIEUS, PERSPECTIVES, Channel, Survey
from tests.e2e.escalation_helpers import CONTACT_CANARY, FEEDBACK_CANARY, Member, Team, draft_body
from tests.e2e.test_statistics_records import purge
from tests.support.booking import ALL_WEEK, eventually
from tests.support.clients import Api, CounsellorSocket, Harness
from tests.support.server import ServerProcess

MIN_CELL = 2
YEAR = datetime.now(UTC).year
FROM, TO = f"{YEAR - 1}-W01", f"{YEAR + 1}-W52"
ZONE = ZoneInfo("Europe/Stockholm")
ROUTE = "spanga-tensta"  # statistics.route: the district of chats and appointments
ON_CALL = "+46701740605"  # the shipped on-call number of spanga-tensta (config/escalation.toml)
PHONES = [f"+4670174071{i}" for i in range(10)]
QUERIES = [
    ("channel",),
    ("escalation_kind",),
    ("outcome",),
    ("channel", "outcome"),
    ("district", "escalation_kind"),
]
ACCOUNTS = [
    ("cora", "counsellor", None),
    ("dan", "counsellor", None),
    ("sam", "supervisor", None),
    ("st-liaison", "social_services", "spanga-tensta"),
    ("rk-liaison", "social_services", "rinkeby-kista"),
]
# Every value a record may hold, per column: closed lists only (no id, number, time or text).
TOPICS = {"worried_about_someone", "leaving_myself", "affected", "professional", "none"}
OUTCOMES = {"supported", "referred", "attended", "no_show", "escalation_closed"}
VOCABULARY: dict[str, set[Any]] = {
    "route": {"spanga-tensta", "rinkeby-kista"},
    "language": {"sv", "en", "ar", "so", "fa", "ti"},
    "topic": TOPICS,
    "perspective": set(PERSPECTIVES),
    "milieu": {None, *MILIEUS},
    "outcome": OUTCOMES,
    "duration_bucket": set(BUCKETS),
    "channel": {channel.value for channel in Channel},
    "escalation_kind": {None, "child_concern", "imminent_danger", "consent_referral"},
    "came_back": {0, 1},
    "survey": {None, *(answer.value for answer in Survey)},
}
WEEK = re.compile(r"^\d{4}-W\d{2}$")


def group_session() -> tuple[datetime, dict[str, str]]:
    """A group session on the first whole local minute at least 45 s ahead (sessions are minutes),
    and short phone and visit times (5 s, every 5 s, no notice) so that all of them start soon."""
    local_start = (datetime.now(UTC) + timedelta(seconds=45)).astimezone(ZONE).replace(
        second=0, microsecond=0
    ) + timedelta(minutes=1)
    env = {
        "KINLINE_STATISTICS__MIN_CELL": str(MIN_CELL),
        "KINLINE_CHAT__COUNSELLOR_CAPACITY": "10",
        "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
        "KINLINE_BOOKING__KINDS__GROUP__SESSIONS": json.dumps([local_start.strftime("%Y-%m-%d %H:%M")]),
        "KINLINE_BOOKING__KINDS__GROUP__MONTHLY": "[]",
        "KINLINE_BOOKING__KINDS__GROUP__SEATS": "4",
        "KINLINE_BOOKING__KINDS__GROUP__DURATION": "5s",
        "KINLINE_BOOKING__KINDS__GROUP__BUFFER": "0s",
        "KINLINE_BOOKING__KINDS__GROUP__MIN_NOTICE": "0s",
    }
    for kind in ("PHONE", "VISIT"):
        env |= {
            f"KINLINE_BOOKING__KINDS__{kind}__DURATION": "5s",
            f"KINLINE_BOOKING__KINDS__{kind}__BUFFER": "0s",
            f"KINLINE_BOOKING__KINDS__{kind}__MIN_NOTICE": "0s",
        }
    return local_start.astimezone(UTC), env


@dataclass
class Ledger:
    """What the test did: the record each ended contact should leave (by API dimension), and every
    id, code, number and time it saw, none of which a record may hold."""

    records: list[dict[str, Any]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    def chat(self, language: str, topic: str, perspective: str, outcome: str) -> None:
        self.records.append(
            {
                "channel": "chat",
                "outcome": outcome,
                "escalation_kind": None,
                "district": ROUTE,
                "language": language,
                "topic": topic,
                "perspective": perspective,
            }
        )

    def expected(self, by: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
        return Counter(tuple(record[name] for name in by) for record in self.records)


async def book(
    public: Api, kind: str, language: str, phone: str, start: datetime | None = None
) -> dict[str, Any]:
    """The free time of ``kind`` at ``start``, or the first at least 3 s ahead, booked anonymously."""
    now = datetime.now(UTC)
    result = await public.session.get(
        "/api/slots",
        params={
            "kind": kind,
            "language": language,
            "from": now.isoformat(),
            "to": (now + timedelta(minutes=5)).isoformat(),
        },
    )
    async with result:
        assert result.status == 200, await result.text()
        slots = (await result.json())["slots"]
    earliest = now + timedelta(seconds=3)
    free = [
        slot["start"]
        for slot in slots
        if slot["seats_left"] > 0
        and (
            datetime.fromisoformat(slot["start"]) == start
            if start
            else datetime.fromisoformat(slot["start"]) >= earliest
        )
    ]
    assert free, (kind, start, slots[:3])
    chosen = free[0]
    booked = await public.request(
        "POST",
        "/api/appointments",
        json={"kind": kind, "start": chosen, "language": language, "phone": phone},
    )
    assert booked.status == 201, booked.body
    return dict(booked.body)


async def record_outcome(supervisor: Member, appointment_id: str, outcome: str) -> None:
    """Recorded as soon as the appointment has started (409 appointment_future before)."""
    path = f"/api/staff/appointments/{appointment_id}/outcome"

    async def attempt() -> Any:
        return await supervisor.post(path, {"outcome": outcome})

    def started(result: Any) -> bool:
        return not (result.status == 409 and result.body["error"]["code"] == "appointment_future")

    done = await eventually(attempt, started, timeout=120, what=f"{appointment_id} to start")
    assert done.status == 200 and done.body["appointment"]["state"] == outcome, done.body


async def book_appointments(
    h: Harness, team: Team, ledger: Ledger, group_start: datetime
) -> list[tuple[str, str]]:
    """Phone, visit and group times booked in sv and ar; returns (appointment id, outcome)."""
    for name in ("cora", "dan"):
        available = await team[name].api.request(
            "PUT",
            "/api/me/availability",
            json={"languages": ["sv", "ar"], "weekly": ALL_WEEK, "exceptions": []},
        )
        assert available.status == 200, available.body
    public = h.api()
    plan = [
        ("group", "sv", "attended"),
        ("group", "sv", "no_show"),
        ("phone", "sv", "attended"),
        ("phone", "ar", "attended"),
        ("phone", "sv", "no_show"),
        ("visit", "sv", "attended"),
        ("visit", "ar", "attended"),
    ]
    ended = []
    for (kind, language, outcome), phone in zip(plan, PHONES, strict=False):
        booked = await book(public, kind, language, phone, group_start if kind == "group" else None)
        ended.append((booked["appointment_id"], outcome))
        ledger.sources |= {booked["appointment_id"], booked["reference"], booked["manage_code"], phone}
        ledger.sources |= {booked["start"], booked["end"]}
        ledger.records.append(
            {
                "channel": kind,
                "outcome": outcome,
                "escalation_kind": None,
                "district": ROUTE,
                "language": language,
                "topic": "none",
                "perspective": "support_relatives",
            }
        )
    return ended


async def held(h: Harness, console: CounsellorSocket, language: str, topic: str, ledger: Ledger) -> str:
    started = await h.start_conversation(language, topic)
    assert (await console.claim(started.conversation_id))["ok"]
    ledger.sources |= {started.conversation_id, started.token, started.resume_code}
    return started.conversation_id


async def close_chat(console: CounsellorSocket, conversation_id: str, outcome: str) -> None:
    closed = await console.call("close", {"conversation_id": conversation_id, "outcome": outcome})
    assert closed["ok"], closed


async def run_escalation(team: Team, conversation_id: str, kind: str, route: str) -> str:
    counsellor, supervisor = team["cora"], team["sam"]
    liaison = team["st-liaison" if route == "spanga-tensta" else "rk-liaison"]
    created = await counsellor.post("/api/escalations", draft_body(conversation_id, kind, route))
    assert created.status == 201, created.body
    escalation_id = str(created.body["escalation_id"])
    if kind == "imminent_danger":
        assert created.body["state"] == "sent"
    else:
        assert created.body["state"] == "awaiting_approval"
        approved = await supervisor.post(f"/api/escalations/{escalation_id}/approve")
        assert approved.status == 200 and approved.body["state"] == "sent", approved.body
    acknowledged = await liaison.post(f"/api/escalations/{escalation_id}/acknowledge")
    assert acknowledged.body == {"escalation_id": escalation_id, "state": "acknowledged"}
    received = await liaison.post(f"/api/escalations/{escalation_id}/outcome", {"state": "received"})
    assert received.status == 200, received.body
    closed = await liaison.post(
        f"/api/escalations/{escalation_id}/outcome",
        {"state": "closed_with_feedback", "feedback": FEEDBACK_CANARY},
    )
    assert closed.status == 200 and closed.body["state"] == "closed_with_feedback", closed.body
    return escalation_id


async def run_sources(server: ServerProcess, group_start: datetime) -> Ledger:
    ledger = Ledger(sources={ON_CALL, CONTACT_CANARY, FEEDBACK_CANARY})
    async with Harness(server) as h:
        team = Team(h)
        await team.add(ACCOUNTS)
        ledger.sources |= {name for name, _role, _route in ACCOUNTS}
        try:
            ended = await book_appointments(h, team, ledger, group_start)
            console = h.counsellor_socket()
            await console.connect(headers=team["cora"].cookie_header)

            for outcome in ("supported", "supported", "referred"):
                chat = await held(h, console, "sv", "worried_about_someone", ledger)
                await close_chat(console, chat, outcome)
                ledger.chat("sv", "worried_about_someone", "support_relatives", outcome)

            escalations = [
                ("child_concern", ROUTE, "ar", "worried_about_someone"),
                ("child_concern", ROUTE, "sv", "affected"),
                ("imminent_danger", ROUTE, "en", "leaving_myself"),
                ("consent_referral", "rinkeby-kista", "sv", "professional"),
            ]
            perspective = {
                "worried_about_someone": "support_relatives",
                "affected": "support_relatives",
                "leaving_myself": "exit",
                "professional": "prevention",
            }
            for kind, route, language, topic in escalations:
                chat = await held(h, console, language, topic, ledger)
                ledger.sources.add(await run_escalation(team, chat, kind, route))
                ledger.records.append(
                    {
                        "channel": "chat",
                        "outcome": "escalation_closed",
                        "escalation_kind": kind,
                        "district": route,
                        "language": language,
                        "topic": topic,
                        "perspective": perspective[topic],
                    }
                )
                await close_chat(console, chat, "supported")
                ledger.chat(language, topic, perspective[topic], "supported")

            for appointment_id, outcome in ended:
                await record_outcome(team["sam"], appointment_id, outcome)
        finally:
            await team.close()
    return ledger


def source_values(db: sqlite3.Connection) -> set[str]:
    """Every id, hash and time of the sources still in the database, as text."""
    queries = [
        "SELECT id, created_at, claimed_at, closed_at, resume_hash FROM conversations",
        "SELECT token_hash FROM relative_tokens",
        "SELECT id, reference, start_at, end_at, busy_until, manage_hash, phone_hash, created_at "
        "FROM appointments",
        "SELECT id, conversation_id, relative_hash, created_at, updated_at, submitted_at, sent_at, "
        "ack_deadline, acknowledged_at, outcome_at FROM escalations",
        "SELECT username FROM staff_users",
    ]
    return {str(value) for sql in queries for row in db.execute(sql) for value in row if value is not None}


def check_table(table: dict[str, Any], by: tuple[str, ...], expected: Counter[tuple[Any, ...]]) -> None:
    """Every cell right or suppressed; every small cell suppressed; nothing missing or invented."""
    assert table["by"] == list(by) and table["min_cell"] == MIN_CELL, table
    cells = {tuple(row["key"][name] for name in by): row for row in table["rows"]}
    assert len(cells) == len(table["rows"]), "each key once"
    if len(by) == 1:
        assert set(cells) == set(expected), (by, table["rows"])
    else:
        axes = [sorted({key[i] for key in expected}, key=str) for i in range(2)]
        assert set(cells) == set(product(*axes)), (by, table["rows"])
    for key, row in cells.items():
        truth = expected[key]
        if row["suppressed"]:
            assert row["count"] is None, row
        else:
            assert row["count"] == truth, (by, row, truth)
            assert truth == 0 or truth >= MIN_CELL, (by, row)
    assert table["total"] in (None, sum(expected.values())), table


async def test_bookings_and_escalations_leave_records_that_agree_everywhere_and_never_link_back(
    server_factory: Any,
) -> None:
    group_start, env = group_session()
    server: ServerProcess = server_factory(env)
    ledger = await run_sources(server, group_start)
    server.stop()
    with sqlite3.connect(server.db_path) as db:
        sources = source_values(db) | ledger.sources
        escalations = db.execute(
            "SELECT kind, state, conversation_id IS NOT NULL FROM escalations"
        ).fetchall()
        # Until the survey is answered or retention deletes it, a closed chat keeps its record's key
        # (docs/statistics.md, "The survey"); that is the only link, and the purge must end it.
        survey_links = {row[0] for row in db.execute("SELECT record_key FROM conversations")}
    assert sorted(escalations) == sorted(
        (kind, "closed_with_feedback", 1)
        for (kind,), count in ledger.expected(("escalation_kind",)).items()
        for _ in range(count)
        if kind is not None
    )
    conversations = ledger.expected(("channel", "escalation_kind"))["chat", None]
    assert await purge(server) == conversations == 7

    with sqlite3.connect(server.db_path) as db:
        assert db.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
        columns = [row[1] for row in db.execute("PRAGMA table_info(contact_records)")]
        rows = db.execute("SELECT * FROM contact_records").fetchall()
        count_rows = db.execute(
            "SELECT field_a, field_b, week, value_a, value_b FROM contact_counts"
        ).fetchall()
        elsewhere = "\n".join(
            line for line in db.iterdump() if not line.startswith('INSERT INTO "contact_records"')
        )
        escalation_links = db.execute(
            "SELECT count(*) FROM escalations WHERE conversation_id IS NULL"
        ).fetchone()
    assert escalation_links == (4,), "retention cut the escalations' link to their conversations"

    # The records: one per ended contact, each value from a closed list, nothing from a source.
    assert len(rows) == len(ledger.records)
    assert columns == ["record_key", "week", *VOCABULARY], columns
    for row in rows:
        assert WEEK.match(row[1]), row
        for name, value in zip(columns[2:], row[2:], strict=True):
            assert value in VOCABULARY[name], (name, value)
    assert Counter(
        (row[columns.index("channel")], row[columns.index("outcome")], row[columns.index("escalation_kind")])
        for row in rows
    ) == ledger.expected(("channel", "outcome", "escalation_kind"))
    values = {str(value) for row in rows + count_rows for value in row if value is not None}
    assert not values & sources, f"a record or a count holds a value of its source: {values & sources}"
    assert all(WEEK.match(week) for _a, _b, week, _va, _vb in count_rows)
    # No other table holds a record's key: the link for the survey went with the conversations.
    assert len(survey_links) == conversations and survey_links <= {row[0] for row in rows}
    for row in rows:
        assert row[0] not in elsewhere

    server.start()
    async with Harness(server) as h:
        supervisor = h.api()
        await supervisor.login("sam")
        for by in QUERIES:
            query = f"from={FROM}&to={TO}&by={','.join(by)}"
            answer = await supervisor.request("GET", f"/api/stats?{query}")
            assert answer.status == 200, answer.body
            report = await asyncio.to_thread(
                server.cli, "report", "--from", FROM, "--to", TO, "--by", ",".join(by), "--format", "json"
            )
            assert report.returncode == 0, report.stderr
            assert json.loads(report.stdout) == answer.body, by
            check_table(answer.body, by, ledger.expected(by))

            if by == ("channel",):
                # Every channel has at least MIN_CELL records: nothing is hidden, every count shows.
                assert {row["key"]["channel"]: row["count"] for row in answer.body["rows"]} == {
                    "chat": 11,
                    "phone": 3,
                    "visit": 2,
                    "group": 2,
                }
                assert answer.body["total"] == len(ledger.records) == 18
            if by == ("escalation_kind",):
                shown = {row["key"]["escalation_kind"]: row["count"] for row in answer.body["rows"]}
                assert shown["imminent_danger"] is None and shown["consent_referral"] is None
                assert shown[None] == 14, "the records of the other sources are not hidden"
            if by == ("channel", "outcome"):
                hidden = {
                    (row["key"]["channel"], row["key"]["outcome"])
                    for row in answer.body["rows"]
                    if row["suppressed"]
                }
                small = {
                    ("chat", "referred"),
                    ("phone", "no_show"),
                    ("group", "attended"),
                    ("group", "no_show"),
                }
                assert small <= hidden, "every count of 1 is hidden"
                assert any(row["count"] for row in answer.body["rows"]), "not everything is hidden"
