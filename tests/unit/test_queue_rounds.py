"""Queue rounds (server/domain/queue_rounds.py): a page that derives its position from the broadcast
shows the true position after every round, or the round names it for a personal status; a claim
of the head in one language costs no personal status at all. Checked over random sequences of
arrivals, claims, closes, danger-word raises, language choices and counsellors coming and going."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import conversations as rules
from server.domain.conversations import Conversation, LanguageChoice, State
from server.domain.queue_rounds import (
    RoundState,
    ViewChange,
    derive_position,
    plan_round,
    view_change,
    view_order,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LANGUAGES = ("sv", "ar", "so")
LANGUAGE_SETS = (frozenset({"sv", "en"}), frozenset({"ar", "sv"}), frozenset({"so"}))


def arrival(number: int, language: str = "sv") -> Conversation:
    return Conversation(
        id=f"c{number:04d}",
        language=language,
        topic=rules.DEFAULT_TOPIC,
        state=State.WAITING,
        created_at=T0 + timedelta(seconds=number),
    )


def test_derivation_counts_vacated_places_ahead_and_filled_places_at_or_ahead() -> None:
    assert derive_position(5, None) == 5
    assert derive_position(5, ViewChange(vacated=(1,))) == 4
    assert derive_position(5, ViewChange(vacated=(6,))) == 5
    assert derive_position(5, ViewChange(inserted=(1,))) == 6
    assert derive_position(5, ViewChange(vacated=(3,), inserted=(1,))) == 5
    # Filled places at 4 and 5 push a conversation kept at 4 to 6.
    assert derive_position(4, ViewChange(inserted=(4, 5))) == 6


def test_a_view_change_lists_what_left_and_what_moved() -> None:
    first, second, third = arrival(1), arrival(2), arrival(3)
    line = frozenset({"sv"})
    before = view_order([first, second, third], line)
    raised = rules.raise_priority(third, "danger_words")
    after = view_order([second, raised], line)
    assert view_change(before, after) == ViewChange(vacated=(1, 3), inserted=(1,))


def test_claiming_the_head_is_one_broadcast_and_no_personal_status() -> None:
    queue = [arrival(number) for number in range(1, 201)]
    online = [frozenset({"sv"})]
    ids = [c.id for c in queue]
    plan, state = plan_round(RoundState(), queue, rules.queue_places(queue, online), ids)
    assert plan.corrections == frozenset(ids)  # every page starts without a labelled position
    for claimed in range(50):
        queue = queue[1:]
        places = rules.queue_places(queue, online)
        plan, state = plan_round(state, queue, places, [c.id for c in queue])
        assert plan.number == claimed + 1
        assert plan.corrections == frozenset()
        assert plan.changes == {frozenset({"sv"}): ViewChange(vacated=(1,))}


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(("arrive", "claim_head", "close_any", "raise", "choose", "online")),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    OPERATIONS,
    st.lists(st.sampled_from(LANGUAGES), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_every_deriving_page_shows_the_truth_or_gets_a_status(
    operations: list[tuple[str, int]], languages: list[str], deriving_flags: list[bool]
) -> None:
    queue = [arrival(number, languages[number % 3]) for number in range(8)]
    online = [LANGUAGE_SETS[0]]
    shown: dict[str, int] = {}
    state = RoundState()
    next_number = 8
    for operation, pick in operations:
        if operation == "arrive":
            queue.append(arrival(next_number, languages[pick % 3]))
            next_number += 1
        elif queue and operation == "claim_head":
            head = rules.queue_view(queue, online[0])[0] if online else queue[0]
            queue.remove(head)
        elif queue and operation == "close_any":
            queue.pop(pick % len(queue))
        elif queue and operation == "raise":
            index = pick % len(queue)
            queue[index] = rules.raise_priority(queue[index], "danger_words")
        elif queue and operation == "choose":
            index = pick % len(queue)
            queue[index] = replace(queue[index], language_choice=LanguageChoice(("wait", "any")[pick % 2]))
        elif operation == "online":
            online = [LANGUAGE_SETS[i] for i in range(3) if (pick >> i) & 1]
        places = rules.queue_places(queue, online)
        deriving = [c.id for c in queue if deriving_flags[int(c.id[1:]) % 20]]
        plan, new_state = plan_round(state, queue, places, deriving)
        for conversation_id in deriving:
            place = places[conversation_id]
            if conversation_id in plan.corrections:
                shown[conversation_id] = place.position
                continue
            before = state.believed[conversation_id]
            assert before.line == place.line
            shown[conversation_id] = derive_position(shown[conversation_id], plan.changes.get(place.line))
            assert shown[conversation_id] == place.position, (operation, conversation_id)
        state = new_state
