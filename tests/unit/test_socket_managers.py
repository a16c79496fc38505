"""The room-indexed socket.io managers must keep exactly the rooms python-socketio's own manager
keeps, for any sequence of connects, joins, leaves, room closes and disconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from server.transports.sockets.managers import IndexedAsyncManager

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
