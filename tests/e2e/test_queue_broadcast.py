"""The queue broadcast through a real server (docs/protocol.md, "Queue positions"): relatives whose
pages connect with `queue_events` work out their own position from the `queue` packets by the
protocol's rule (written out again here, independently of the server's code), and after every
claim, priority raise and leave each shows the position the counsellor's queue gives it. A claim of
the head costs those pages no personal `status` at all; a page whose own place changed gets one.
A page that connects without `queue_events` still gets a personal `status` at every move."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.clients import CounsellorSocket, Harness, RelativeSocket
from tests.support.server import ServerProcess

COUNSELLOR = "quinn"
DANGER = "han har en kniv"


def derive(position: int, change: dict[str, list[int]] | None) -> int:
    if change is None:
        return position
    kept = position - len([vacated for vacated in change["vacated"] if vacated < position])
    ahead = 0
    for inserted in change["inserted"]:
        if inserted <= kept + ahead:
            ahead += 1
    return kept + ahead


class Page:
    """What a relative's page shows, replayed from its socket's events in arrival order."""

    def __init__(self, conversation_id: str, socket: RelativeSocket) -> None:
        self.conversation_id = conversation_id
        self.socket = socket

    def shown(self) -> dict[str, Any]:
        status: dict[str, Any] = {}
        for name, data in self.socket.log.entries:
            if name == "status":
                status = dict(data)
            elif (
                name == "queue" and status.get("state") == "waiting" and isinstance(status.get("round"), int)
            ):
                if data["round"] == status["round"] + 1:
                    change = data["views"].get(status["line"])
                    status = {
                        **status,
                        "queue_position": derive(status["queue_position"], change),
                        "round": data["round"],
                    }
                elif data["round"] > status["round"] + 1:
                    status = {**status, "gap": True}
        return status

    def labelled_statuses(self) -> int:
        return sum(
            1 for name, data in self.socket.log.entries if name == "status" and data.get("round") is not None
        )


async def truth(
    counsellor: CounsellorSocket, predicate: Callable[[list[str]], bool], since: int
) -> list[str]:
    """The queue as the counsellor's console gets it, the first time after ``since`` that it
    satisfies ``predicate``."""
    event = await counsellor.log.wait_for(
        "queue", lambda q: predicate([c["conversation_id"] for c in q["conversations"]]), since=since
    )
    return [c["conversation_id"] for c in event["conversations"]]


async def settled(pages: list[Page], order: list[str]) -> None:
    """Every page still in ``order`` shows its place there (waiting on each page's events)."""
    expected = {conversation_id: index for index, conversation_id in enumerate(order, start=1)}
    for page in pages:
        if page.conversation_id not in expected:
            continue
        try:
            await page.socket.log.wait_until(
                lambda page=page: page.shown().get("queue_position") == expected[page.conversation_id]
            )
        except AssertionError:
            shown = {p.conversation_id: p.shown().get("queue_position") for p in pages}
            raise AssertionError(f"pages show {shown}, the queue is {expected}") from None


def with_counsellor(server_factory: Callable[..., ServerProcess], name: str) -> ServerProcess:
    server = server_factory(name=name, start=False)
    server.add_user(COUNSELLOR, "counsellor")
    return server.start()


async def test_pages_derive_their_position_through_claims_raises_and_leaves(
    server_factory: Callable[..., ServerProcess],
) -> None:
    async with Harness(with_counsellor(server_factory, "queue-broadcast")) as h:
        counsellor = await h.sign_in(COUNSELLOR)
        started = [await h.start_conversation("sv") for _ in range(7)]
        pages: list[Page] = []
        for conversation in started:
            socket = h.relative_socket()
            await socket.connect(auth={"token": conversation.token, "queue_events": 1})
            pages.append(Page(conversation.conversation_id, socket))
        legacy = await h.relative(started[-1].token)
        order = await truth(counsellor.socket, lambda ids: len(ids) == 7, since=0)
        await settled(pages, order)
        # The last conversation also has a page without queue_events: it is told personally.
        deriving, mixed = pages[:-1], pages[-1]
        for page in deriving:
            await page.socket.log.wait_until(lambda page=page: page.labelled_statuses() >= 1)

        for claims in range(1, 4):
            mark = counsellor.socket.log.mark()
            assert (await counsellor.socket.claim(order[0]))["ok"]
            order = await truth(counsellor.socket, lambda ids, n=claims: len(ids) == 7 - n, mark)
            await settled(pages, order)
        waiting_pages = [page for page in deriving if page.conversation_id in order]
        assert all(page.labelled_statuses() == 1 for page in waiting_pages), (
            "a claim of the head sent statuses"
        )
        # The page without queue_events is told at every move.
        await legacy.log.wait_until(lambda: len(legacy.log.named("status")) >= 4)
        assert mixed.shown()["queue_position"] == len(order)

        last = next(page for page in deriving if page.conversation_id == order[-2])
        mark = counsellor.socket.log.mark()
        assert (await last.socket.send(DANGER)).get("ok")
        order = await truth(counsellor.socket, lambda ids: ids[0] == last.conversation_id, mark)
        await settled(pages, order)
        assert last.labelled_statuses() == 2
        assert all(page.labelled_statuses() == 1 for page in waiting_pages if page is not last)

        leaving = next(page for page in pages if page.conversation_id == order[1])
        mark = counsellor.socket.log.mark()
        assert (await leaving.socket.call("leave", {}))["ok"]
        order = await truth(counsellor.socket, lambda ids: leaving.conversation_id not in ids, mark)
        await settled([page for page in pages if page is not leaving], order)
        assert not any(page.shown().get("gap") for page in pages)


async def test_a_page_without_queue_events_is_placed_on_connect_and_told_every_move(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A version-1 page's first status carries its position (from the last queue round, without a
    read of the queue); a claim ahead of it, and a raise, reach it as a personal status."""
    async with Harness(with_counsellor(server_factory, "queue-version-1")) as h:
        counsellor = await h.sign_in(COUNSELLOR)
        started = [await h.start_conversation("sv") for _ in range(5)]
        order = await truth(counsellor.socket, lambda ids: len(ids) == 5, since=0)
        pages = {
            conversation.conversation_id: await h.relative(conversation.token) for conversation in started
        }
        for conversation_id, socket in pages.items():
            first = await socket.log.wait_for("status")
            assert (first["state"], first["queue_position"]) == ("waiting", order.index(conversation_id) + 1)

        def shows(conversation_id: str) -> int | None:
            statuses = pages[conversation_id].log.named("status")
            return statuses[-1]["queue_position"] if statuses else None

        mark = counsellor.socket.log.mark()
        assert (await counsellor.socket.claim(order[0]))["ok"]
        order = await truth(counsellor.socket, lambda ids: len(ids) == 4, mark)
        for position, conversation_id in enumerate(order, start=1):
            await pages[conversation_id].log.wait_until(lambda c=conversation_id, p=position: shows(c) == p)

        mark = counsellor.socket.log.mark()
        assert (await pages[order[-1]].send(DANGER)).get("ok")
        order = await truth(counsellor.socket, lambda ids: ids[0] == started[-1].conversation_id, mark)
        for position, conversation_id in enumerate(order, start=1):
            await pages[conversation_id].log.wait_until(lambda c=conversation_id, p=position: shows(c) == p)
        another = await h.relative(started[1].token)
        assert (await another.log.wait_for("status"))["queue_position"] == order.index(
            started[1].conversation_id
        ) + 1
