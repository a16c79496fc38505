"""A missed acknowledgement deadline, with a short deadline from the routes file: the backup route
is told exactly once and the supervisors are alerted once, although two server processes sweep the
same database every second and one of them restarts in between."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from tests.e2e.escalation_helpers import (
    Team,
    WebhookReceiver,
    assert_audit_has_no_content,
    audit_rows,
    draft_body,
    routes_file,
)
from tests.support.clients import Harness, SocketClient
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess

SECRET_ENV = "KINLINE_TEST_ESCALATION_WEBHOOK_SECRET"
SHIPPED_TEXTS = load_escalation_config(config_dir() / "escalation.toml", environ={})
SHORT_DEADLINE = "3s"
ON_CALL, BACKUP_ON_CALL = "+46701740605", "+46701740606"


async def test_the_backup_route_is_told_once(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    secret = secrets.token_hex(16)
    receiver = await WebhookReceiver(secret.encode()).start()
    path = routes_file(
        tmp_path, receiver, SECRET_ENV, ack_deadline=SHORT_DEADLINE, extra_on_call=BACKUP_ON_CALL
    )
    twilio = FakeTwilio().start()
    env = twilio.server_env(
        KINLINE_ESCALATION__ROUTES_FILE=str(path),
        KINLINE_ESCALATION__SWEEP_INTERVAL="1s",
        KINLINE_CHAT__COUNSELLOR_CAPACITY="10",
        **{SECRET_ENV: secret},
    )
    first = server_factory(env=env, name="sweeper-a")
    second = server_factory(
        env={
            **env,
            "KINLINE_DATABASE_URL": first.env["KINLINE_DATABASE_URL"],
            "KINLINE_SECURITY__DATA_KEY_FILE": first.env["KINLINE_SECURITY__DATA_KEY_FILE"],
        },
        name="sweeper-b",
    )
    try:
        async with Harness(first) as harness_a, Harness(second) as harness_b:
            team_a, team_b = Team(harness_a), Team(harness_b)
            try:
                await run(first, receiver, twilio, team_a, team_b)
            finally:
                await team_a.close()
                await team_b.close()
    finally:
        first.stop()
        second.stop()
        twilio.stop()
        await receiver.stop()


async def run(
    server: ServerProcess, receiver: WebhookReceiver, twilio: FakeTwilio, team_a: Team, team_b: Team
) -> None:
    await team_a.add(
        [
            ("counsellor", "counsellor", None),
            ("supervisor", "supervisor", None),
            ("st-liaison", "social_services", "spanga-tensta"),
            ("rk-liaison", "social_services", "rinkeby-kista"),
        ]
    )
    team_b.members["supervisor"] = team_a["supervisor"]
    alerts: list[SocketClient] = [
        await team_a.escalations_socket("supervisor"),
        await team_b.escalations_socket("supervisor"),
    ]

    async def escalate() -> str:
        conversation_id = (await team_a.held_conversation("counsellor"))[0]
        created = await team_a["counsellor"].post(
            "/api/escalations", draft_body(conversation_id, "imminent_danger", "spanga-tensta")
        )
        assert created.status == 201 and created.body["state"] == "sent", created.body
        return str(created.body["escalation_id"])

    def alerts_for(escalation_id: str) -> list[dict[str, str]]:
        return [
            alert
            for socket in alerts
            for alert in socket.log.named("alert")
            if alert["escalation_id"] == escalation_id and alert["reason"] == "deadline_missed"
        ]

    late = await escalate()
    hook = await receiver.wait_for(late, "escalation.backup")
    assert hook["route"] == "rinkeby-kista" and hook["signed"]
    assert hook["payload"]["deadline"] is not None
    # The alert goes out before the backup route's webhook call: after a round trip on each
    # supervisor socket it has arrived, from whichever process claimed the missed deadline.
    for socket in alerts:
        await socket.barrier()
    assert len(alerts_for(late)) == 1

    # Later escalations missing their deadlines prove that both processes kept sweeping after the
    # first one was handled, before and after one of them restarts.
    await receiver.wait_for(await escalate(), "escalation.backup")
    await asyncio.to_thread(team_b.harness.server.restart)
    alerts.append(await team_b.escalations_socket("supervisor"))
    await receiver.wait_for(await escalate(), "escalation.backup")
    for socket in alerts:
        if socket.connected:
            await socket.barrier()

    assert len(receiver.of(late, "escalation.backup")) == 1
    # Three escalations: the route's on-call number got three texts, the backup's three (one each).
    backup_texts = await asyncio.to_thread(twilio.wait_for_messages, 3, number=BACKUP_ON_CALL)
    assert [text["body"] for text in backup_texts] == [SHIPPED_TEXTS.sms_backup] * 3
    route_texts = await asyncio.to_thread(twilio.wait_for_messages, 3, number=ON_CALL)
    assert [text["body"] for text in route_texts] == [SHIPPED_TEXTS.sms_new] * 3
    assert len(receiver.of(late, "escalation.sent")) == 1
    missed = [row for row in audit_rows(server) if row[1:] == ("escalation.deadline_missed", late)]
    assert len(missed) == 1
    assert len(alerts_for(late)) == 1

    # Both routes now see it; the backup route can acknowledge.
    for name in ("rk-liaison", "st-liaison"):
        inbox = await team_a[name].get("/api/escalations")
        (item,) = [e for e in inbox.body["escalations"] if e["escalation_id"] == late]
        assert item["deadline_missed"] and item["backup_route"] == "rinkeby-kista"
    acknowledged = await team_a["rk-liaison"].post(f"/api/escalations/{late}/acknowledge")
    assert acknowledged.status == 200 and acknowledged.body["state"] == "acknowledged"
    assert_audit_has_no_content(server)
