"""Losing a node: two `kinline serve` processes (A and B) on one PostgreSQL and one Redis, behind
one address (a TCP load balancer in the test, tests/support/tcp_proxy.py). Relatives and
counsellors on both stream messages; A is killed with SIGKILL in the middle.

Then: every client that was on A reconnects through the same address, to B; no acknowledged
message is lost or stored twice; the waiting relatives' positions are the counsellors' queue order;
a reminder and an escalation's acknowledgement deadline that fall due while A is down are acted on
once (by B); and A, started again with the same command, rejoins with no manual step: it serves a
client, and once B is stopped it alone sends a later reminder and handles a later deadline, while
the ones of the outage are still counted once.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from tests.e2e.escalation_helpers import draft_body, routes_file
from tests.support.booking import FAST_BOOKING_ENV, BookingClient
from tests.support.clients import Api
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import DEFAULT_PASSWORD, ServerProcess
from tests.support.services import postgres_server, redis_server
from tests.support.streams import (
    RECOVERY_TIMEOUT,
    Message,
    Peer,
    Progress,
    Sender,
    assert_history_matches_acks,
    catch_up_after_reconnects,
    log_in,
    start_conversation,
)
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.fault

A, B = 0, 1
ACKS_PER_SENDER = 10
WAITING = 4
# The reminder falls due at least this long after it is booked, and the escalation's deadline
# passes this long after it is sent: long enough for the kill to come first (checked below).
REMINDER_AHEAD_SECONDS = 12
ACK_DEADLINE = "12s"
REMINDER_OFFSET = "5s"
ON_CALL, BACKUP_ON_CALL = "+46701740605", "+46701740606"
BOOKED_PHONE, LATER_PHONE = "+46701740611", "+46701740612"
TEXTS = load_escalation_config(config_dir() / "escalation.toml", environ={})


@pytest.fixture
def cluster_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], FakeTwilio]]:
    routes = routes_file(tmp_path, None, "UNUSED", ack_deadline=ACK_DEADLINE, extra_on_call=BACKUP_ON_CALL)
    with postgres_server() as database_url, redis_server() as redis_url, FakeTwilio() as twilio:
        yield (
            twilio.server_env(
                **{**FAST_BOOKING_ENV, "KINLINE_BOOKING__KINDS__PHONE__DURATION": "5s"},
                KINLINE_DATABASE_URL=database_url,
                KINLINE_SCALE__REDIS_URL=redis_url,
                # Both processes read what the other wrote: one data key.
                KINLINE_SECURITY__DATA_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                KINLINE_BOOKING__REMINDER_OFFSETS=f'["{REMINDER_OFFSET}"]',
                KINLINE_ESCALATION__ROUTES_FILE=str(routes),
                KINLINE_ESCALATION__SWEEP_INTERVAL="1s",
                KINLINE_CHAT__COUNSELLOR_CAPACITY="10",
            ),
            twilio,
        )


class Database:
    """Reads of the shared PostgreSQL database, behind the servers' backs."""

    def __init__(self, url: str) -> None:
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(self.dsn)
        try:
            return [tuple(row) for row in await connection.fetch(sql, *params)]
        finally:
            await connection.close()

    async def deadline_missed(self, escalation_id: str) -> int:
        rows = await self.rows(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'escalation.deadline_missed' AND object_id = $1",
            escalation_id,
        )
        return int(rows[0][0])


def texts_to(twilio: FakeTwilio, number: str) -> list[str]:
    """The bodies of every text the fake Twilio was asked to send to ``number`` (each request)."""
    return [request["form"]["Body"] for request in twilio.creates() if request["form"].get("To") == number]


async def until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = RECOVERY_TIMEOUT
) -> None:
    """For conditions outside the sockets (the fake Twilio, the database), which push nothing to
    the test: looked at again every tenth of a second until it holds."""

    async def holds() -> bool:
        result = condition()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    async def poll() -> None:
        while not await holds():
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_losing_a_node_mid_conversation(
    server_factory: Callable[..., ServerProcess], cluster_env: tuple[dict[str, str], FakeTwilio]
) -> None:
    env, twilio = cluster_env
    servers = [server_factory(env=env, name="a"), server_factory(env=env, name="b")]
    database = Database(env["KINLINE_DATABASE_URL"])
    for name in ("anna", "bert"):
        servers[A].add_user(name, "counsellor")
    proxy = await TcpProxy([("127.0.0.1", server.port) for server in servers]).start()
    progress = Progress()
    stop = asyncio.Event()
    sessions: list[aiohttp.ClientSession] = []
    apis: list[Api] = []
    peers: list[Peer] = []
    tasks: list[asyncio.Task[None]] = []

    def api() -> Api:
        apis.append(Api(proxy.url))
        return apis[-1]

    async def console(name: str, on: int) -> Peer:
        """A counsellor signed in and connected through the proxy, on process ``on``."""
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        peer = Peer("/counsellor", progress, http)
        with proxy.pin(on):
            await log_in(http, proxy.url, name, DEFAULT_PASSWORD)
            await peer.connect(proxy.url)
        peers.append(peer)
        return peer

    async def relative(conversation: dict[str, str], on: int) -> Peer:
        peer = Peer("/relative", progress)

        def auth() -> Message:
            cursor = peer.contiguous_seq(conversation["conversation_id"])
            return {"token": conversation["token"], "after_seq": cursor}

        with proxy.pin(on):
            await peer.connect(proxy.url, auth=auth)
        peers.append(peer)
        return peer

    try:
        anna, bert = await console("anna", A), await console("bert", B)
        public = aiohttp.ClientSession()
        sessions.append(public)

        # Two conversations streamed both ways; in each, one side is on A and the other on B.
        streamed = [await start_conversation(public, proxy.url) for _ in range(2)]
        holders = [bert, anna]
        relatives = [await relative(streamed[0], A), await relative(streamed[1], B)]
        senders: list[Sender] = []
        for index, (conversation, holder, peer) in enumerate(zip(streamed, holders, relatives, strict=True)):
            conversation_id = conversation["conversation_id"]
            assert (await holder.call("claim", {"conversation_id": conversation_id}))["ok"]
            # As the console does on a claim: load what was written before (the intake's messages).
            earlier = await holder.call("history", {"conversation_id": conversation_id, "after_seq": 0})
            for message in earlier["messages"]:
                await holder.record(message)
            senders.append(Sender(f"relative-{index}", peer, conversation_id))
            senders.append(
                Sender(f"counsellor-{index}", holder, conversation_id, {"conversation_id": conversation_id})
            )
        escalated = await start_conversation(public, proxy.url)
        assert (await anna.call("claim", {"conversation_id": escalated["conversation_id"]}))["ok"]

        # Relatives waiting in the queue, on both processes.
        waiting = [await start_conversation(public, proxy.url) for _ in range(WAITING)]
        waiting_peers = [
            await relative(conversation, index % 2) for index, conversation in enumerate(waiting)
        ]
        on_a = [anna, relatives[0], *waiting_peers[0::2]]
        on_b = [bert, relatives[1], *waiting_peers[1::2]]

        def queue_order(console: Peer) -> list[str] | None:
            queue = console.last["queue"]
            return None if queue is None else [c["conversation_id"] for c in queue["conversations"]]

        def positions_right() -> bool:
            """Both consoles show the same queue, of exactly the waiting conversations, and every
            waiting relative's last status gives its place in it."""
            order = queue_order(anna)
            if order is None or order != queue_order(bert):
                return False
            still_waiting = [
                (conversation, peer)
                for conversation, peer in zip(waiting, waiting_peers, strict=True)
                if conversation["conversation_id"] in order
            ]
            if len(still_waiting) != len(order):
                return False
            return all(
                peer.last["status"] is not None
                and peer.last["status"]["state"] == "waiting"
                and peer.last["status"]["queue_position"] == order.index(conversation["conversation_id"]) + 1
                for conversation, peer in still_waiting
            )

        async def claim_the_head(console: Peer, remaining: int) -> None:
            order = queue_order(console)
            assert order is not None
            assert (await console.call("claim", {"conversation_id": order[0]}))["ok"]
            await progress.until(
                lambda: positions_right() and len(queue_order(anna) or []) == remaining,
                f"the positions after a claim ({remaining} waiting)",
            )

        await progress.until(positions_right, "the first positions")

        catch_ups = [
            asyncio.create_task(
                catch_up_after_reconnects(holder, [c["conversation_id"]], stop, 4 * RECOVERY_TIMEOUT)
            )
            for holder, c in zip(holders, streamed, strict=True)
        ]
        streams = [asyncio.create_task(sender.run(stop)) for sender in senders]
        tasks.extend([*catch_ups, *streams])

        async def every_sender_streaming(what: str) -> None:
            for sender in senders:
                sender.acks_since_restart = 0
            await progress.until(
                lambda: (
                    all(s.acks_since_restart >= ACKS_PER_SENDER for s in senders)
                    or any(task.done() for task in streams)
                ),
                what,
            )
            for task in streams:
                if task.done():
                    task.result()

        await every_sender_streaming("every sender to stream before the kill")
        # A claim on B moves the relatives on A too (through Redis).
        await claim_the_head(bert, WAITING - 1)

        # An appointment whose reminder and an escalation whose deadline fall due in the outage.
        staff = api()
        await staff.login("anna")
        booking = BookingClient(staff, api())
        await booking.open_all_week()
        lead = REMINDER_AHEAD_SECONDS + float(REMINDER_OFFSET.removesuffix("s"))
        await booking.book(await booking.next_start(lead), phone=BOOKED_PHONE)
        await until(lambda: len(texts_to(twilio, BOOKED_PHONE)) == 1, "the booking's confirmation")
        created = await staff.request(
            "POST", "/api/escalations", json=draft_body(escalated["conversation_id"], "imminent_danger")
        )
        assert created.status == 201 and created.body["state"] == "sent", created.body
        late = str(created.body["escalation_id"])
        await until(lambda: texts_to(twilio, ON_CALL) == [TEXTS.sms_new], "the on-call text")

        # What this test is about must not have happened before the kill.
        assert len(texts_to(twilio, BOOKED_PHONE)) == 1, "the reminder fell due before the kill"
        assert texts_to(twilio, BACKUP_ON_CALL) == [], "the deadline passed before the kill"
        servers[A].kill()
        assert await database.deadline_missed(late) == 0, "the deadline passed before the kill"

        await progress.until(lambda: all(p.connects == 2 for p in on_a), "A's clients to reconnect")
        await every_sender_streaming("every sender to stream again after the kill")
        await until(lambda: len(texts_to(twilio, BOOKED_PHONE)) == 2, "the reminder, sent by B")
        await until(lambda: texts_to(twilio, BACKUP_ON_CALL) == [TEXTS.sms_backup], "the backup text")
        assert await database.deadline_missed(late) == 1
        assert texts_to(twilio, BOOKED_PHONE)[1].startswith("Påminnelse")

        # The relatives that moved from A are told their place by B; a claim moves them all.
        await progress.until(positions_right, "the positions after the kill")
        await claim_the_head(anna, WAITING - 2)

        # A starts again with the same command and the same settings, and takes clients.
        await asyncio.to_thread(servers[A].start)
        async with public.get(f"{servers[A].url}/readyz") as ready:
            assert ready.status == 200, await ready.text()
        newcomer = await start_conversation(public, proxy.url)
        newcomer_peer = await relative(newcomer, A)
        assert proxy.routed[-1] == A
        assert (await anna.call("claim", {"conversation_id": newcomer["conversation_id"]}))["ok"]
        hello = await newcomer_peer.call(
            "send_message", {"client_id": str(uuid.uuid4()), "text": "hej från A igen"}
        )
        assert hello["ok"], hello
        await progress.until(
            lambda: hello["message"]["seq"] in anna.seen.get(newcomer["conversation_id"], {}),
            "the counsellor on B to get the message sent on the restarted A",
        )
        reply = await anna.call(
            "send_message",
            {"conversation_id": newcomer["conversation_id"], "client_id": str(uuid.uuid4()), "text": "svar"},
        )
        assert reply["ok"], reply
        await progress.until(
            lambda: reply["message"]["seq"] in newcomer_peer.seen.get(newcomer["conversation_id"], {}),
            "the relative on the restarted A to get the reply",
        )

        stop.set()
        progress.notify()
        await asyncio.wait_for(asyncio.gather(*streams, *catch_ups), RECOVERY_TIMEOUT)
        histories = {}
        for holder, conversation in zip(holders, streamed, strict=True):
            ack = await holder.call(
                "history", {"conversation_id": conversation["conversation_id"], "after_seq": 0}
            )
            assert ack["ok"], ack
            histories[conversation["conversation_id"]] = ack["messages"]

        def every_view_complete() -> bool:
            return all(
                set(peer.seen.get(conversation_id, {})) == {m["seq"] for m in histories[conversation_id]}
                for conversation_id, relative_peer, holder in zip(histories, relatives, holders, strict=True)
                for peer in (relative_peer, holder)
            )

        try:
            await progress.until(every_view_complete, "the relatives' replay and the counsellors' catch-up")
        except AssertionError:
            missing = {
                (conversation_id[:8], peer.namespace): sorted(
                    {m["seq"] for m in histories[conversation_id]} ^ set(peer.seen.get(conversation_id, {}))
                )
                for conversation_id, relative_peer, holder in zip(histories, relatives, holders, strict=True)
                for peer in (relative_peer, holder)
            }
            raise AssertionError(
                f"views differ from the history (seqs missing or extra): {missing}"
            ) from None
        assert all(p.connects == 1 for p in on_b), "a client on B lost its connection"
        assert sum(s.resent for s in senders) > 0, (
            "no message was in flight at the kill: resending went untested"
        )
        acked = {client_id: m for s in senders for client_id, m in s.acked.items()}
        assert acked.keys() == {client_id for s in senders for client_id in s.created}, (
            "a message was never acked"
        )
        for (conversation_id, history), relative_peer, holder in zip(
            histories.items(), relatives, holders, strict=True
        ):
            acked_here = [m for m in acked.values() if m["conversation_id"] == conversation_id]
            assert_history_matches_acks(history, acked_here, [relative_peer, holder])
        await assert_stored_once(database, acked, histories)

        # With B stopped, the restarted A alone sends a later reminder and handles a later deadline:
        # its sweepers run, and they did not act again on the reminder and deadline of the outage.
        for peer in peers:
            await peer.close()
        await asyncio.to_thread(servers[B].stop)
        await booking.book(await booking.next_start(lead), phone=LATER_PHONE)
        again = await staff.request(
            "POST", "/api/escalations", json=draft_body(newcomer["conversation_id"], "imminent_danger")
        )
        assert again.status == 201, again.body
        second = str(again.body["escalation_id"])
        await until(lambda: len(texts_to(twilio, LATER_PHONE)) == 2, "the later reminder, sent by A")
        await until(
            lambda: texts_to(twilio, BACKUP_ON_CALL) == [TEXTS.sms_backup] * 2, "the later backup text"
        )
        assert await database.deadline_missed(second) == 1
        assert await database.deadline_missed(late) == 1
        assert len(texts_to(twilio, BOOKED_PHONE)) == 2
        reminders = "SELECT state FROM appointment_texts WHERE purpose = 'reminder' ORDER BY id"
        await until(
            lambda: _equal(database.rows(reminders), [("sent",), ("sent",)]),
            "both reminders recorded as sent",
        )
    finally:
        stop.set()
        progress.notify()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for peer in peers:
            await peer.close()
        for session in sessions:
            await session.close()
        for each in apis:
            await each.close()
        await proxy.close()


async def _equal(rows: Awaitable[list[tuple[Any, ...]]], expected: list[tuple[Any, ...]]) -> bool:
    return await rows == expected


async def assert_stored_once(
    database: Database, acked: dict[str, Message], histories: dict[str, list[Message]]
) -> None:
    """In the database: one row per client_id, seqs 1..last_seq with no gap, and every stored
    relative's or counsellor's message of the streamed conversations acknowledged."""
    ids = list(histories)
    duplicates = await database.rows(
        "SELECT conversation_id, client_id, COUNT(*) FROM messages WHERE conversation_id = ANY($1::text[]) "
        "GROUP BY conversation_id, client_id HAVING COUNT(*) > 1",
        ids,
    )
    assert duplicates == [], "a client_id is stored twice"
    rows = await database.rows(
        "SELECT conversation_id, seq, client_id, sender FROM messages "
        "WHERE conversation_id = ANY($1::text[])",
        ids,
    )
    ours = sorted(
        (c, client_id) for c, _seq, client_id, sender in rows if sender in ("relative", "counsellor")
    )
    assert ours == sorted((m["conversation_id"], client_id) for client_id, m in acked.items())
    for conversation_id, history in histories.items():
        seqs = sorted(seq for c, seq, _client_id, _sender in rows if c == conversation_id)
        assert seqs == list(range(1, len(history) + 1)), f"stored seqs have gaps: {seqs}"


async def test_processes_started_at_once_on_an_empty_database_all_serve(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """As systemd starts every instance at boot: they migrate one after the other (an advisory
    lock), and every one serves."""
    with postgres_server() as database_url:
        servers = [
            server_factory(env={"KINLINE_DATABASE_URL": database_url}, name=f"boot-{index}", start=False)
            for index in range(3)
        ]
        await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))
        async with aiohttp.ClientSession() as http:
            for server in servers:
                async with http.get(f"{server.url}/readyz") as ready:
                    assert ready.status == 200, await ready.text()
                conversation = await start_conversation(http, server.url)
                assert conversation["conversation_id"]
        for server in servers:
            server.stop()
