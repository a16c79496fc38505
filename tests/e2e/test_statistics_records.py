"""Contact records through the real server (issue 12, "Done when"): conversations end every way
(closed by a counsellor with a confirmed perspective and milieu, left by the relative, resumed
first), a relative answers the survey, the retention purge deletes the conversations, and then
``GET /api/stats`` and ``kinline report`` agree, every count is right or suppressed, and no record
links back to its source."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.services.retention import RetentionService
from tests.support.clients import Harness, Staff
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

MIN_CELL = 2
ENV = {"KINLINE_STATISTICS__MIN_CELL": str(MIN_CELL)}
YEAR = datetime.now(UTC).year
FROM, TO = f"{YEAR - 1}-W01", f"{YEAR + 1}-W52"


async def close(counsellor: Staff, conversation_id: str, **extra: str) -> None:
    assert (await counsellor.socket.claim(conversation_id))["ok"]
    answer = await counsellor.socket.call(
        "close", {"conversation_id": conversation_id, "outcome": "supported", **extra}
    )
    assert answer["ok"], answer


async def run_contacts(server: ServerProcess) -> tuple[Counter[tuple[str, str]], list[str]]:
    """Conversations ended every way; returns the expected records per (perspective, language)
    and every conversation id."""
    expected: Counter[tuple[str, str]] = Counter()
    ids: list[str] = []
    async with Harness(server) as h:
        server.add_user("cora", "counsellor", DEFAULT_PASSWORD)
        counsellor = await h.sign_in("cora")
        for _ in range(3):
            started = await h.start_conversation("sv", "worried_about_someone")
            await close(counsellor, started.conversation_id)
            ids.append(started.conversation_id)
        expected["support_relatives", "sv"] += 3
        tagged = await h.start_conversation("sv", "worried_about_someone")
        await close(counsellor, tagged.conversation_id, perspective="prevention", milieu="right_wing")
        expected["prevention", "sv"] += 1
        ids.append(tagged.conversation_id)
        refused = await counsellor.socket.call(
            "close", {"conversation_id": tagged.conversation_id, "outcome": "supported", "milieu": "x"}
        )
        assert refused["error"]["code"] == "unknown_milieu"
        for _ in range(2):
            leaving = await h.start_conversation("ar", "leaving_myself")
            left = await h.api().request("POST", "/api/conversations/leave", json={"token": leaving.token})
            assert left.status == 204
            ids.append(leaving.conversation_id)
        expected["exit", "ar"] += 2
        back = await h.start_conversation("so", "professional")
        resumed = await h.api().request(
            "POST", "/api/conversations/resume", json={"resume_code": back.resume_code}
        )
        assert resumed.status == 200, resumed.body
        await close(counsellor, back.conversation_id)
        expected["prevention", "so"] += 1
        ids.append(back.conversation_id)

        survey = {"token": back.token, "answer": "partly"}
        first = await h.api().request("POST", "/api/conversations/survey", json=survey)
        assert first.status == 204, first.body
        again = await h.api().request("POST", "/api/conversations/survey", json={**survey, "answer": "yes"})
        assert again.status == 409 and again.body["error"]["code"] == "survey_answered"
        bad = await h.api().request("POST", "/api/conversations/survey", json={**survey, "answer": "maybe"})
        assert bad.status == 422
        open_one = await h.start_conversation("sv")
        early = await h.api().request(
            "POST", "/api/conversations/survey", json={"token": open_one.token, "answer": "yes"}
        )
        assert early.status == 409 and early.body["error"]["code"] == "conversation_open"
    return expected, ids


async def purge(server: ServerProcess) -> int:
    """The real retention service on the server's database, as if 400 days had passed."""
    database = Database(f"sqlite+aiosqlite:///{server.db_path}")
    uow = SqlUnitOfWork(database, DataCiphers.load("", server.workdir / "data.key"))
    later = datetime.now(UTC) + timedelta(days=400)
    try:
        return (await RetentionService(uow, lambda: later, timedelta(days=180)).sweep()).conversations
    finally:
        await uow.close()
        await database.dispose()


async def test_records_survive_the_purge_agree_everywhere_and_never_link_back(
    server_factory: Any,
) -> None:
    server: ServerProcess = server_factory(ENV)
    expected, ids = await run_contacts(server)
    with sqlite3.connect(server.db_path) as db:
        sources = {
            str(value)
            for row in db.execute(
                "SELECT id, created_at, claimed_at, closed_at, resume_hash FROM conversations"
            )
            for value in row
            if value is not None
        }
        sources |= {row[0] for row in db.execute("SELECT token_hash FROM relative_tokens")}
    server.stop()
    assert await purge(server) == len(ids)

    with sqlite3.connect(server.db_path) as db:
        assert db.execute("SELECT count(*) FROM conversations WHERE state = 'closed'").fetchone() == (0,)
        columns = [row[1] for row in db.execute("PRAGMA table_info(contact_records)")]
        rows = db.execute("SELECT * FROM contact_records").fetchall()
        keys_in_stored_order = [row[0] for row in db.execute("SELECT record_key FROM contact_records")]
        count_columns = [row[1] for row in db.execute("PRAGMA table_info(contact_counts)")]
        count_rows = db.execute("SELECT * FROM contact_counts").fetchall()
        totals = dict(db.execute("SELECT week, count FROM contact_counts WHERE field_a = ''").fetchall())
        by_week = dict(db.execute("SELECT week, COUNT(*) FROM contact_records GROUP BY week").fetchall())
    assert len(rows) == len(ids)
    assert not {name for name in columns + count_columns if name.endswith(("_id", "_at", "_key"))} - {
        "record_key"
    }
    values = {str(value) for row in rows + count_rows for value in row if value is not None}
    assert not values & (sources | set(ids)), "a record or a count holds a value of its source"
    assert totals == by_week, "the weekly counts follow the records"
    assert all(len(str(row[columns.index("week")])) == 8 for row in rows)
    # Stored (and read) in the order of the random key, not in the order the contacts ended.
    assert keys_in_stored_order == sorted(keys_in_stored_order)
    surveys = Counter(row[columns.index("survey")] for row in rows)
    assert surveys == Counter({None: len(ids) - 1, "partly": 1})
    came_back = [row for row in rows if row[columns.index("came_back")]]
    assert [row[columns.index("language")] for row in came_back] == ["so"]

    server.start()
    async with Harness(server) as h:
        server.add_user("sam", "supervisor", DEFAULT_PASSWORD)
        supervisor = await h.sign_in("sam", connect=False)
        answer = await supervisor.api.request(
            "GET", f"/api/stats?from={FROM}&to={TO}&by=perspective,language"
        )
        assert answer.status == 200, answer.body
    report = await asyncio.to_thread(
        server.cli, "report", "--from", FROM, "--to", TO, "--by", "perspective,language", "--format", "json"
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == answer.body
    csv_report = await asyncio.to_thread(
        server.cli, "report", "--from", FROM, "--to", TO, "--by", "perspective,language"
    )
    assert csv_report.stdout.splitlines()[0] == "perspective,language,count"

    table = answer.body
    assert table["min_cell"] == MIN_CELL
    hidden = 0
    for row in table["rows"]:
        truth = expected[row["key"]["perspective"], row["key"]["language"]]
        if row["suppressed"]:
            assert row["count"] is None
            hidden += 1
        else:
            assert row["count"] == truth, row
            assert truth == 0 or truth >= MIN_CELL
    assert hidden >= 2, "the single records (prevention/sv, prevention/so) are hidden"
    assert table["total"] in (None, sum(expected.values()))
