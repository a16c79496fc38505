"""Language routing in the queue: each counsellor's view, the relative's position, the choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import conversations as rules
from server.domain.conversations import Conversation, LanguageChoice, State
from server.domain.errors import InvalidTransition
from tests.support.assertions import raises_code

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SV_ONLY = frozenset({"sv"})
SO_SV = frozenset({"so", "sv"})


def waiting(
    conversation_id: str,
    language: str,
    minute: int,
    choice: LanguageChoice | None = None,
    priority: int = 0,
) -> Conversation:
    return Conversation(
        id=conversation_id,
        language=language,
        topic=rules.DEFAULT_TOPIC,
        state=State.WAITING,
        created_at=T0 + timedelta(minutes=minute),
        priority=priority,
        language_choice=choice,
    )


def ids(conversations: list[Conversation]) -> list[str]:
    return [c.id for c in conversations]


class TestQueueView:
    def test_conversations_in_the_counsellors_languages_come_first_in_serving_order(self) -> None:
        queue = [
            waiting("so1", "so", 0),
            waiting("sv1", "sv", 1),
            waiting("ar1", "ar", 2),
            waiting("so2", "so", 3),
        ]
        assert ids(rules.queue_view(queue, {"so"})) == ["so1", "so2", "sv1", "ar1"]
        assert ids(rules.queue_view(queue, SV_ONLY)) == ["sv1", "so1", "ar1", "so2"]
        assert ids(rules.queue_view(queue, SO_SV)) == ["so1", "sv1", "so2", "ar1"]

    def test_priority_still_leads_within_the_counsellors_languages(self) -> None:
        queue = [waiting("old", "sv", 0), waiting("urgent", "sv", 5, priority=rules.DANGER_PRIORITY)]
        assert ids(rules.queue_view(queue, SV_ONLY)) == ["urgent", "old"]

    def test_priority_does_not_lift_a_conversation_out_of_another_language(self) -> None:
        queue = [waiting("urgent_ar", "ar", 5, priority=rules.DANGER_PRIORITY), waiting("sv1", "sv", 9)]
        assert ids(rules.queue_view(queue, SV_ONLY)) == ["sv1", "urgent_ar"]

    def test_a_counsellor_without_languages_sees_the_served_order(self) -> None:
        queue = [waiting("b", "ar", 1), waiting("a", "so", 0), waiting("c", "sv", 2)]
        assert ids(rules.queue_view(queue, set())) == ids(sorted(queue, key=rules.queue_order_key))

    def test_who_waits_for_their_language_comes_last_for_those_without_it(self) -> None:
        queue = [
            waiting("so_wait", "so", 0, LanguageChoice.WAIT),
            waiting("so_any", "so", 1, LanguageChoice.ANY),
            waiting("ar1", "ar", 2),
        ]
        assert ids(rules.queue_view(queue, SV_ONLY)) == ["so_any", "ar1", "so_wait"]
        assert ids(rules.queue_view(queue, {"so"})) == ["so_wait", "so_any", "ar1"]

    def test_needs_language_marks_only_a_waiting_choice_the_counsellor_cannot_meet(self) -> None:
        assert rules.needs_language(waiting("w", "so", 0, LanguageChoice.WAIT), SV_ONLY)
        assert not rules.needs_language(waiting("w", "so", 0, LanguageChoice.WAIT), SO_SV)
        assert not rules.needs_language(waiting("a", "so", 0, LanguageChoice.ANY), SV_ONLY)
        assert not rules.needs_language(waiting("n", "so", 0), SV_ONLY)


class TestPositions:
    def test_the_position_is_the_place_with_the_soonest_counsellor_who_speaks_the_language(self) -> None:
        queue = [waiting("sv1", "sv", 0), waiting("sv2", "sv", 1), waiting("so1", "so", 2)]
        positions = rules.queue_positions(queue, [SV_ONLY, SO_SV])
        assert positions == {"sv1": 1, "sv2": 2, "so1": 3}
        only_somali = rules.queue_positions(queue, [SV_ONLY, frozenset({"so"})])
        assert only_somali["so1"] == 1

    def test_without_a_speaker_online_anyone_online_counts_unless_the_relative_waits(self) -> None:
        queue = [
            waiting("sv1", "sv", 0),
            waiting("so_any", "so", 1, LanguageChoice.ANY),
            waiting("sv2", "sv", 2),
        ]
        assert rules.queue_positions(queue, [SV_ONLY])["so_any"] == 3
        waits = [
            waiting("sv1", "sv", 0),
            waiting("so_wait", "so", 1, LanguageChoice.WAIT),
            waiting("sv2", "sv", 2),
        ]
        # Nobody online speaks Somali: the place it will have with one who does, ahead of later Swedish.
        assert rules.queue_positions(waits, [SV_ONLY])["so_wait"] == 1

    def test_with_nobody_online_the_position_is_within_the_own_language_first(self) -> None:
        queue = [waiting("sv1", "sv", 0), waiting("so1", "so", 1), waiting("so2", "so", 2)]
        assert rules.queue_positions(queue, []) == {"sv1": 1, "so1": 1, "so2": 2}

    def test_every_waiting_conversation_gets_a_position(self) -> None:
        queue = [
            waiting(f"c{n}", language, n) for n, language in enumerate(["sv", "so", "ar", "fa", "ti", "en"])
        ]
        positions = rules.queue_positions(queue, [SV_ONLY, SO_SV, frozenset()])
        assert set(positions) == {c.id for c in queue}
        assert all(position >= 1 for position in positions.values())

    def test_language_online_asks_whether_any_console_speaks_it(self) -> None:
        somali = waiting("so1", "so", 0)
        assert rules.language_online(somali, [SV_ONLY, SO_SV])
        assert not rules.language_online(somali, [SV_ONLY])
        assert not rules.language_online(somali, [])


class TestChoice:
    @pytest.mark.parametrize("choice", list(LanguageChoice))
    def test_a_waiting_relative_chooses(self, choice: LanguageChoice) -> None:
        assert rules.choose_language(waiting("c", "so", 0), choice).language_choice is choice

    def test_only_while_waiting(self) -> None:
        claimed = rules.claim(waiting("c", "so", 0), 1, T0)
        with raises_code(InvalidTransition, "not_waiting"):
            rules.choose_language(claimed, LanguageChoice.WAIT)


CONVERSATIONS = st.lists(
    st.tuples(
        st.sampled_from(("sv", "so", "ar", "ti")),
        st.integers(min_value=0, max_value=3),  # minute: equal times tie, and the id decides
        st.sampled_from((None, LanguageChoice.WAIT, LanguageChoice.ANY)),
        st.sampled_from((0, 0, 1)),
    ),
    max_size=25,
)
ONLINE = st.lists(st.frozensets(st.sampled_from(("sv", "so", "ar", "en")), max_size=3), max_size=3)


@settings(max_examples=300, deadline=None)
@given(CONVERSATIONS, ONLINE)
def test_one_conversations_place_is_its_place_in_the_whole_queue(
    drawn: list[tuple[str, int, LanguageChoice | None, int]], online: list[frozenset[str]]
) -> None:
    """A connecting page asks for its own place alone (queue_place); it must be exactly what the
    round computes for everyone (queue_places), ties, priorities and language choices included."""
    queue = [
        waiting(f"c{index:02d}", language, minute, choice, priority)
        for index, (language, minute, choice, priority) in enumerate(drawn)
    ]
    queue.sort(key=lambda c: (*rules.queue_order_key(c), c.id))
    everyone = rules.queue_places(queue, online)
    assert {c.id: rules.queue_place(c, queue, online) for c in queue} == everyone
