"""Queue rounds: how every waiting relative learns their new position from one broadcast.

A round compares each view of the queue (conversations.queue_view, one per ``line``: the language
set it is counted for) with the same view at the previous round. Conversations whose place key did
not change keep their order, so each one's new position follows from its old one and two short
lists per view: the old positions that were vacated (claimed, closed, moved) and the new positions
that were filled (arrivals, moves). ``derive_position`` is that rule; the relative's page runs the
same rule (web/widget/queue_place.js) on the `queue` broadcast, encoded once for all of them.

The server plans each round with the position it believes every such page shows, derives what the
page will compute, and names the few whose result would be wrong (a new view, a new line, a page
that has not had a position yet): only they get a personal `status`. So a claim costs one
broadcast, not one packet per waiting relative. Pure; no I/O."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from server.domain.conversations import Conversation, Place, view_key

ViewOrder = Mapping[str, tuple[int, tuple[object, ...]]]


@dataclass(frozen=True)
class ViewChange:
    """Old positions vacated and new positions filled in one view, each ascending."""

    vacated: tuple[int, ...] = ()
    inserted: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.vacated or self.inserted)


def derive_position(position: int, change: ViewChange | None) -> int:
    """The new position of a conversation whose place key did not change: minus the vacated places
    ahead of it, then plus each filled place at or ahead of where it now stands."""
    if change is None:
        return position
    kept = position - sum(1 for vacated in change.vacated if vacated < position)
    ahead = 0
    for inserted in change.inserted:
        if inserted <= kept + ahead:
            ahead += 1
    return kept + ahead


def view_order(
    waiting: Iterable[Conversation], line: frozenset[str]
) -> dict[str, tuple[int, tuple[object, ...]]]:
    """Each conversation's 1-based index in the view for ``line``, with the key that placed it."""
    keyed = sorted((view_key(conversation, line), conversation.id) for conversation in waiting)
    return {conversation_id: (index, key) for index, (key, conversation_id) in enumerate(keyed, start=1)}


def view_change(before: ViewOrder, after: ViewOrder) -> ViewChange:
    """Conversations in both orders with the same key keep their relative order; every other one
    vacated its old index and fills its new one."""
    stable = {
        conversation_id
        for conversation_id, (_i, key) in after.items()
        if before.get(conversation_id, (0, None))[1] == key
    }
    return ViewChange(
        tuple(
            sorted(index for conversation_id, (index, _k) in before.items() if conversation_id not in stable)
        ),
        tuple(
            sorted(index for conversation_id, (index, _k) in after.items() if conversation_id not in stable)
        ),
    )


@dataclass(frozen=True)
class RoundState:
    """What the last round left: its number, each line's view order, and the place each page that
    derives its position is believed to show."""

    number: int = 0
    orders: Mapping[frozenset[str], ViewOrder] = field(default_factory=dict)
    believed: Mapping[str, Place] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundPlan:
    """``number`` is None when nothing changed and no broadcast is due; ``corrections`` are the
    conversations whose page must get a personal status."""

    number: int | None
    changes: Mapping[frozenset[str], ViewChange]
    corrections: frozenset[str]


def plan_round(
    state: RoundState,
    waiting: Collection[Conversation],
    places: Mapping[str, Place],
    deriving: Collection[str],
    force: bool = False,
) -> tuple[RoundPlan, RoundState]:
    """``places``: each waiting conversation's true place now; ``deriving``: the waiting
    conversations whose pages derive positions from the broadcast; ``force``: broadcast even if no
    view changed (what the broadcast carries besides the changes, such as the wait per position,
    did)."""
    orders = {line: view_order(waiting, line) for line in {place.line for place in places.values()}}
    changes: dict[frozenset[str], ViewChange] = {}
    for line, order in orders.items():
        before = state.orders.get(line)
        if before is not None:
            change = view_change(before, order)
            if change:
                changes[line] = change
    broadcast = bool(changes) or force
    number = state.number + 1 if broadcast else state.number
    corrections: set[str] = set()
    believed: dict[str, Place] = {}
    for conversation_id in deriving:
        place = places.get(conversation_id)
        if place is None:
            continue
        shown = state.believed.get(conversation_id)
        if (
            shown is None
            or shown.line != place.line
            or derive_position(shown.position, changes.get(place.line)) != place.position
        ):
            corrections.add(conversation_id)
        believed[conversation_id] = place
    plan = RoundPlan(number if broadcast else None, changes, frozenset(corrections))
    return plan, RoundState(number, orders, believed)


def line_id(line: frozenset[str]) -> str:
    """How a line is named on the wire: its languages, sorted, joined by '+'."""
    return "+".join(sorted(line))
