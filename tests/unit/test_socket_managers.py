"""The room-indexed socket.io managers must keep exactly the rooms python-socketio's own manager
keeps, for any sequence of connects, joins, leaves, room closes and disconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from server.transports.sockets.base import TextPacket
from server.transports.sockets.managers import PACE_EVERY, IndexedAsyncManager

NAMESPACES = ["/relative", "/counsellor"]
ROOMS = [f"conversation:{n}" for n in range(4)]

operation = st.one_of(
    st.tuples(st.just("connect"), st.sampled_from(NAMESPACES)),
    st.tuples(st.just("enter"), st.integers(0, 20), st.sampled_from(ROOMS)),
    st.tuples(st.just("leave"), st.integers(0, 20), st.sampled_from(ROOMS)),
    st.tuples(st.just("close"), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)),
    st.tuples(st.just("disconnect"), st.integers(0, 20)),
)


def snapshot(manager: Any) -> dict[str, dict[Any, dict[str, str]]]:
    return {
        namespace: {room: dict(members) for room, members in rooms.items()}
        for namespace, rooms in manager.rooms.items()
    }


async def replay(manager: Any, operations: list[tuple[Any, ...]]) -> list[Any]:
    """Run the operations; sids are drawn from a fixed sequence so both managers see the same."""
    socketio.AsyncServer(client_manager=manager)
    counter = iter(range(10_000))
    manager.server.eio.generate_id = lambda: f"sid-{next(counter)}"
    sockets: list[tuple[str, str]] = []
    answers: list[Any] = []
    for op in operations:
        if op[0] == "connect":
            sid = await manager.connect(f"eio-{len(sockets)}", op[1])
            sockets.append((sid, op[1]))
        elif not sockets:
            continue
        elif op[0] == "enter":
            sid, namespace = sockets[op[1] % len(sockets)]
            if manager.is_connected(sid, namespace):
                await manager.enter_room(sid, namespace, op[2])
        elif op[0] == "leave":
            sid, namespace = sockets[op[1] % len(sockets)]
            await manager.leave_room(sid, namespace, op[2])
        elif op[0] == "close":
            await manager.close_room(op[2], op[1])
        else:
            sid, namespace = sockets[op[1] % len(sockets)]
            await manager.disconnect(sid, namespace)
        answers.append(sorted(sorted(map(str, manager.get_rooms(sid, ns))) for sid, ns in sockets))
    answers.append(snapshot(manager))
    return answers


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_the_indexed_manager_keeps_the_same_rooms_as_the_stock_one(operations: list[tuple[Any, ...]]) -> None:
    async def both() -> tuple[list[Any], list[Any]]:
        return await replay(socketio.AsyncManager(), operations), await replay(
            IndexedAsyncManager(), operations
        )

    stock, indexed = asyncio.run(both())
    assert indexed == stock


def test_a_disconnect_leaves_every_room_of_that_socket_and_no_other() -> None:
    async def scenario() -> tuple[str, IndexedAsyncManager]:
        manager = IndexedAsyncManager()
        socketio.AsyncServer(client_manager=manager)
        first = await manager.connect("eio-1", "/relative")
        second = await manager.connect("eio-2", "/relative")
        await manager.enter_room(first, "/relative", "conversation:a")
        await manager.enter_room(second, "/relative", "conversation:a")
        await manager.enter_room(first, "/relative", "conversation:b")
        await manager.disconnect(first, "/relative")
        assert manager.get_rooms(first, "/relative") == []
        return second, manager

    second, manager = asyncio.run(scenario())
    assert sorted(manager.get_rooms(second, "/relative")) == sorted([second, "conversation:a"])
    assert set(manager.rooms["/relative"]) == {None, second, "conversation:a"}


async def sent_by(manager: Any, send: Any) -> dict[str, list[str]]:
    """Connect sockets into rooms, run ``send(manager)`` and return the text of the Engine.IO
    packets each socket was given, in order (recorded where python-socketio hands them over)."""
    server = socketio.AsyncServer(client_manager=manager, serializer=TextPacket)
    sent: dict[str, list[str]] = {}

    async def record(eio_sid: str, eio_packet: Any) -> None:
        sent.setdefault(eio_sid, []).append(eio_packet.encode())

    server._send_eio_packet = record
    for number in range(ROOMS_FOR_A_ROUND):
        for device in range(number % 3):  # some rooms empty, some with two sockets
            sid = await manager.connect(f"eio-{number}-{device}", "/relative")
            await manager.enter_room(sid, "/relative", f"conversation:{number}")
    await send(manager)
    return sent


ROOMS_FOR_A_ROUND = 2 * PACE_EVERY + 7


def test_emit_each_sends_what_one_emit_per_room_sends() -> None:
    payloads = [(f"conversation:{n}", {"queue_position": n, "text": "é"}) for n in range(ROOMS_FOR_A_ROUND)]

    async def one_emit_per_room(manager: Any) -> None:
        for room, data in payloads:
            await manager.emit("status", data, "/relative", room=room)

    async def emit_each(manager: Any) -> None:
        await manager.emit_each("status", "/relative", iter(payloads))

    async def both() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        return await sent_by(socketio.AsyncManager(), one_emit_per_room), await sent_by(
            IndexedAsyncManager(), emit_each
        )

    stock, indexed = asyncio.run(both())
    assert indexed == stock
    assert len(indexed) == sum(n % 3 for n in range(ROOMS_FOR_A_ROUND))


def test_emit_each_lets_other_work_run_during_a_long_round() -> None:
    """With a slice budget of 0 every pace point pauses (the time a real slice takes is not
    something a test can hold the machine to)."""

    async def scenario() -> list[str]:
        order: list[str] = []

        async def other_work() -> None:
            order.append("other work")

        def payloads() -> Any:
            for n in range(ROOMS_FOR_A_ROUND):
                if n == 0:
                    asyncio.get_running_loop().create_task(other_work())
                if n in (0, ROOMS_FOR_A_ROUND - 1):
                    order.append(f"room {n}")
                yield f"conversation:{n}", {"queue_position": n}

        await sent_by(
            IndexedAsyncManager(slice_budget=0),
            lambda manager: manager.emit_each("status", "/relative", payloads()),
        )
        return order

    assert asyncio.run(scenario()) == ["room 0", "other work", f"room {ROOMS_FOR_A_ROUND - 1}"]


def test_a_long_room_broadcast_lets_other_work_run_between_slices() -> None:
    """The queue broadcast goes to one room of every waiting page: it pauses between slices too."""

    async def scenario(slice_budget: float) -> list[str]:
        order: list[str] = []
        manager = IndexedAsyncManager(slice_budget=slice_budget)

        async def other_work() -> None:
            order.append("other work")

        async def broadcast(manager: Any) -> None:
            asyncio.get_running_loop().create_task(other_work())
            await manager.emit("queue", {"round": 1}, "/relative", room="waiting")
            order.append("broadcast sent")

        async def in_waiting_room(manager: Any) -> None:
            for n in range(ROOMS_FOR_A_ROUND):
                sid = await manager.connect(f"eio-waiting-{n}", "/relative")
                await manager.enter_room(sid, "/relative", "waiting")
            await broadcast(manager)

        await sent_by(manager, in_waiting_room)
        return order

    assert asyncio.run(scenario(0)) == ["other work", "broadcast sent"]
    assert asyncio.run(scenario(3600)) == ["broadcast sent", "other work"]
