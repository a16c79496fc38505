"""The whole escalation flow for each kind, against a real server with real clients: a counsellor
drafts from a conversation, a supervisor approves (imminent danger skips that), the route is told
(console push, signed webhook), the relative reads a system message in their language, the route's
social services user acknowledges and records outcomes, and the relative follows the status with
their resume code. Every read and change leaves an audit row without content."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from server.domain.escalation import Kind
from tests.e2e.escalation_helpers import (
    CANARIES,
    FEEDBACK_CANARY,
    SUMMARY_CANARY,
    Team,
    WebhookReceiver,
    assert_audit_has_no_content,
    assert_stored_encrypted,
    audit_rows,
    draft_body,
    routes_file,
)
from tests.support.clients import Api, Harness
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess

SECRET_ENV = "KINLINE_TEST_ESCALATION_WEBHOOK_SECRET"
ON_CALL = {"spanga-tensta": "+46701740605", "rinkeby-kista": "+46701740606"}
TEXTS = load_escalation_config(config_dir() / "escalation.toml", environ={})
ACCOUNTS = [
    ("counsellor", "counsellor", None),
    ("supervisor", "supervisor", None),
    ("st-liaison", "social_services", "spanga-tensta"),
    ("rk-liaison", "social_services", "rinkeby-kista"),
]


@dataclass(frozen=True)
class Case:
    kind: str
    route: str
    language: str

    @property
    def other_route_liaison(self) -> str:
        return "rk-liaison" if self.route == "spanga-tensta" else "st-liaison"

    @property
    def liaison(self) -> str:
        return "st-liaison" if self.route == "spanga-tensta" else "rk-liaison"


CASES = [
    Case("child_concern", "spanga-tensta", "ar"),
    Case("consent_referral", "rinkeby-kista", "sv"),
    Case("imminent_danger", "spanga-tensta", "en"),
    Case("sig_referral", "rinkeby-kista", "so"),
]


@dataclass
class Setup:
    server: ServerProcess
    receiver: WebhookReceiver
    twilio: FakeTwilio
    texts_sent: Counter[str]


@pytest.fixture
async def setup(tmp_path: Path, server_factory: Any) -> AsyncIterator[Setup]:
    secret = secrets.token_hex(16)
    receiver = await WebhookReceiver(secret.encode()).start()
    path = routes_file(tmp_path, receiver, SECRET_ENV, extra_on_call=ON_CALL["rinkeby-kista"])
    with FakeTwilio() as twilio:
        server = server_factory(
            env=twilio.server_env(
                KINLINE_ESCALATION__ROUTES_FILE=str(path),
                KINLINE_CHAT__COUNSELLOR_CAPACITY="10",
                **{SECRET_ENV: secret},
            ),
            name="escalation-flow",
        )
        yield Setup(server, receiver, twilio, Counter())
        server.stop()
    await receiver.stop()


def expected_notice(kind: str, language: str) -> str:
    return TEXTS.kinds[Kind(kind)].relative_notice(language)


async def status_of(api: Api, resume_code: str) -> list[str]:
    result = await api.request("POST", "/api/escalations/status", json={"resume_code": resume_code})
    assert result.status == 200, result.body
    assert set(result.body) == {"escalations"}
    for item in result.body["escalations"]:
        assert set(item) == {"status"}, "the relative learns the status and nothing else"
    return [item["status"] for item in result.body["escalations"]]


async def test_the_whole_flow_for_every_kind(setup: Setup) -> None:
    server, receiver = setup.server, setup.receiver
    async with Harness(server) as harness:
        team = Team(harness)
        await team.add(ACCOUNTS)
        try:
            expected_audit: list[tuple[int | None, str, str]] = []
            for case in CASES:
                expected_audit += await run_case(team, harness, setup, case)
        finally:
            await team.close()

    rows = audit_rows(server)
    missing = [row for row in expected_audit if row not in rows]
    assert not missing, f"reads or changes without an audit row: {missing}"
    assert_audit_has_no_content(server)
    for call in receiver.calls:
        assert call["signed"], call["payload"]
        for canary in CANARIES:
            assert canary.encode() not in call["raw"]
    server.stop()
    assert_stored_encrypted(server.db_path)


async def run_case(
    team: Team, harness: Harness, setup: Setup, case: Case
) -> list[tuple[int | None, str, str]]:
    counsellor, supervisor = team["counsellor"], team["supervisor"]
    liaison, outsider = team[case.liaison], team[case.other_route_liaison]
    audited: list[tuple[int | None, str, str]] = []
    public = harness.api()
    receiver = setup.receiver

    conversation_id, token, resume_code = await team.held_conversation("counsellor", case.language)
    relative = await harness.relative(token)
    liaison_socket = await team.escalations_socket(case.liaison)
    supervisor_socket = await team.escalations_socket("supervisor")

    created = await counsellor.post("/api/escalations", draft_body(conversation_id, case.kind, case.route))
    assert created.status == 201, created.body
    escalation_id = created.body["escalation_id"]
    audited.append((counsellor.id, "escalation.create", escalation_id))
    imminent = case.kind == "imminent_danger"

    if imminent:
        assert created.body["state"] == "sent"
        steps = created.body["emergency_steps"]
        assert steps["sv"] and steps["en"] and "112" in steps["en"][0]
        alert = await supervisor_socket.log.wait_for("alert", lambda a: a["escalation_id"] == escalation_id)
        assert alert["reason"] == "imminent_danger"
    else:
        assert created.body == {"escalation_id": escalation_id, "state": "awaiting_approval"}
        assert await status_of(public, resume_code) == []
        assert (await liaison.get(f"/api/escalations/{escalation_id}")).status == 404
        queue = await supervisor.get("/api/escalations")
        (item,) = [e for e in queue.body["escalations"] if e["escalation_id"] == escalation_id]
        assert item["state"] == "awaiting_approval" and item["deadline"] is None
        audited.append((supervisor.id, "escalation.list", escalation_id))
        approval = await supervisor.post(f"/api/escalations/{escalation_id}/approve")
        assert approval.status == 200 and approval.body["state"] == "sent", approval.body
        audited.append((supervisor.id, "escalation.approve", escalation_id))

    # The route hears at once: the console push and the signed webhook, with ids and no content.
    await liaison_socket.log.wait_for("changed", lambda c: c == {"escalation_id": escalation_id})
    hook = await receiver.wait_for(escalation_id, "escalation.sent")
    assert hook["route"] == case.route and hook["signed"]
    assert hook["payload"]["kind"] == case.kind and hook["payload"]["state"] == "sent"
    assert set(hook["payload"]) == {
        "event",
        "escalation_id",
        "route",
        "kind",
        "state",
        "deadline",
        "console_url",
    }
    # ... and the route's on-call number gets a neutral text through the SMS port (the real twilio
    # client talking to the fake Twilio).
    number = ON_CALL[case.route]
    setup.texts_sent[number] += 1
    texts = await asyncio.to_thread(setup.twilio.wait_for_messages, setup.texts_sent[number], number=number)
    assert len(texts) == setup.texts_sent[number]
    assert texts[-1]["body"] == TEXTS.sms_new

    # The relative is told, in their language, that it was made and what happens next.
    notice = await relative.log.wait_for("message", lambda m: m["sender"] == "system")
    assert notice["text"] == expected_notice(case.kind, case.language)
    assert await status_of(public, resume_code) == ["sent"]
    audited.append((None, "escalation.relative_status", escalation_id))

    # The inbox of the route shows it with its deadline; another route's user does not see it.
    inbox = await liaison.get("/api/escalations")
    (item,) = [e for e in inbox.body["escalations"] if e["escalation_id"] == escalation_id]
    assert item["deadline"] and not item["overdue"] and item["route"] == case.route
    audited.append((liaison.id, "escalation.list", escalation_id))
    assert escalation_id not in {
        e["escalation_id"] for e in (await outsider.get("/api/escalations")).body["escalations"]
    }
    assert (await outsider.post(f"/api/escalations/{escalation_id}/acknowledge")).status == 404

    detail = await liaison.get(f"/api/escalations/{escalation_id}")
    assert detail.status == 200
    escalation = detail.body["escalation"]
    assert escalation["summary"].startswith(SUMMARY_CANARY)
    assert escalation["subject"]["age_band"]
    assert escalation["actions"] == ["escalation.acknowledge"]
    assert (escalation["contact"] is not None) == (case.kind == "consent_referral")
    audited.append((liaison.id, "escalation.read", escalation_id))
    transcript = await liaison.get(f"/api/escalations/{escalation_id}/transcript")
    assert transcript.status == 403, "no transcript without the relative's consent to share it"

    acknowledged = await liaison.post(f"/api/escalations/{escalation_id}/acknowledge")
    assert acknowledged.body == {"escalation_id": escalation_id, "state": "acknowledged"}
    audited.append((liaison.id, "escalation.acknowledge", escalation_id))
    assert await status_of(public, resume_code) == ["sent"]

    for state, expected_status in (("received", "received"), ("under_assessment", "received")):
        result = await liaison.post(f"/api/escalations/{escalation_id}/outcome", {"state": state})
        assert result.body["state"] == state
        audited.append((liaison.id, "escalation.outcome", escalation_id))
        assert await status_of(public, resume_code) == [expected_status]
    closed = await liaison.post(
        f"/api/escalations/{escalation_id}/outcome",
        {"state": "closed_with_feedback", "feedback": FEEDBACK_CANARY},
    )
    assert closed.body["state"] == "closed_with_feedback"
    audited.append((liaison.id, "escalation.outcome", escalation_id))
    assert await status_of(public, resume_code) == ["closed"]

    # The drafter sees the feedback; the supervisor's audit view shows who did what, and no content.
    mine = await counsellor.get(f"/api/escalations/{escalation_id}")
    assert mine.body["escalation"]["feedback"] == FEEDBACK_CANARY
    audited.append((counsellor.id, "escalation.read", escalation_id))
    trail = await supervisor.get(f"/api/escalations/audit?escalation_id={escalation_id}")
    assert trail.status == 200
    actions = [entry["action"] for entry in reversed(trail.body["entries"])]
    assert actions[0] == "escalation.create" and actions.count("escalation.outcome") == 3
    assert all(
        set(entry) == {"id", "at", "actor_id", "actor", "action", "detail", "escalation_id"}
        for entry in trail.body["entries"]
    )
    audited.append((supervisor.id, "escalation.audit", escalation_id))
    await relative.close()
    return audited
