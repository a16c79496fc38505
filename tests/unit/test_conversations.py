"""The conversation state machine and the rules for messages, queue order and capacity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.domain import conversations as rules
from server.domain.conversations import Conversation, State
from server.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from tests.support.assertions import raises_code

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MAX_TEXT = 4000
ALICE, BOB, CAROL = 1, 2, 3


def waiting(conversation_id: str = "c1", created_at: datetime = T0, priority: int = 0) -> Conversation:
    return Conversation(
        id=conversation_id,
        language="sv",
        topic=rules.DEFAULT_TOPIC,
        state=State.WAITING,
        created_at=created_at,
        priority=priority,
    )


def active(holder: int = ALICE) -> Conversation:
    return rules.claim(waiting(), holder, T0 + timedelta(minutes=1))


def closed() -> Conversation:
    return rules.close(active(), "supported", T0 + timedelta(minutes=5))


class TestClaim:
    def test_a_waiting_conversation_becomes_active_with_its_counsellor(self) -> None:
        at = T0 + timedelta(minutes=2)
        claimed = rules.claim(waiting(), BOB, at)
        assert claimed.state is State.ACTIVE
        assert claimed.counsellor_id == BOB
        assert claimed.claimed_at == at
        assert claimed.is_held_by(BOB)
        assert not claimed.is_held_by(ALICE)

    def test_claim_returns_a_new_value_and_leaves_the_original_untouched(self) -> None:
        original = waiting()
        rules.claim(original, BOB, T0)
        assert original.state is State.WAITING
        assert original.counsellor_id is None

    def test_an_active_conversation_is_already_claimed(self) -> None:
        with raises_code(Conflict, "already_claimed"):
            rules.claim(active(ALICE), BOB, T0)

    def test_the_holder_claiming_again_gets_it_unchanged(self) -> None:
        held = active(ALICE)
        assert rules.claim(held, ALICE, T0 + timedelta(hours=1)) is held

    def test_a_closed_conversation_cannot_be_claimed(self) -> None:
        with raises_code(InvalidTransition, "conversation_closed"):
            rules.claim(closed(), BOB, T0)


class TestTransfer:
    def test_the_holder_hands_over_to_a_colleague(self) -> None:
        before = active(ALICE)
        moved = rules.transfer(before, ALICE, BOB)
        assert moved.counsellor_id == BOB
        assert moved.state is State.ACTIVE
        assert moved.claimed_at == before.claimed_at
        assert moved.is_held_by(BOB) and not moved.is_held_by(ALICE)

    def test_someone_who_does_not_hold_it_cannot_transfer(self) -> None:
        with raises_code(Forbidden, "not_holder"):
            rules.transfer(active(ALICE), BOB, CAROL)

    def test_a_waiting_conversation_has_no_holder_to_transfer_from(self) -> None:
        with raises_code(Forbidden, "not_holder"):
            rules.transfer(waiting(), ALICE, BOB)

    def test_a_closed_conversation_cannot_be_transferred_even_by_its_last_holder(self) -> None:
        with raises_code(Forbidden, "not_holder"):
            rules.transfer(closed(), ALICE, BOB)

    def test_transfer_to_yourself_is_refused(self) -> None:
        with raises_code(InvalidInput, "invalid_request"):
            rules.transfer(active(ALICE), ALICE, ALICE)


class TestClose:
    @pytest.mark.parametrize("before", [waiting(), active()], ids=["waiting", "active"])
    def test_an_open_conversation_closes_with_its_outcome(self, before: Conversation) -> None:
        at = T0 + timedelta(hours=1)
        after = rules.close(before, "referred", at)
        assert after.state is State.CLOSED
        assert after.outcome == "referred"
        assert after.closed_at == at
        assert after.counsellor_id == before.counsellor_id

    def test_a_closed_conversation_cannot_close_again(self) -> None:
        with raises_code(InvalidTransition, "conversation_closed"):
            rules.close(closed(), "other", T0)

    def test_a_closed_conversation_is_held_by_nobody(self) -> None:
        assert not closed().is_held_by(ALICE)

    def test_require_open_refuses_closed_and_accepts_the_rest(self) -> None:
        rules.require_open(waiting())
        rules.require_open(active())
        with raises_code(InvalidTransition, "conversation_closed"):
            rules.require_open(closed())

    def test_require_holder(self) -> None:
        rules.require_holder(active(ALICE), ALICE)
        with raises_code(Forbidden, "not_holder"):
            rules.require_holder(active(ALICE), BOB)


class TestOutcome:
    def test_a_configured_outcome_passes(self) -> None:
        rules.check_outcome("supported", ["supported", "other"])

    @pytest.mark.parametrize("outcome", ["", "SUPPORTED", "made_up", "left_by_relative"])
    def test_anything_else_is_an_unknown_outcome(self, outcome: str) -> None:
        with raises_code(InvalidInput, "unknown_outcome"):
            rules.check_outcome(outcome, ["supported", "other"])


class TestText:
    def test_surrounding_whitespace_is_stripped(self) -> None:
        assert rules.check_text("  hej då \n", MAX_TEXT) == "hej då"

    @pytest.mark.parametrize("text", ["", "   ", "\n\t "])
    def test_empty_text_is_refused(self, text: str) -> None:
        with raises_code(InvalidInput, "empty_text"):
            rules.check_text(text, MAX_TEXT)

    def test_exactly_4000_characters_are_accepted(self) -> None:
        text = "å" * MAX_TEXT
        assert rules.check_text(text, MAX_TEXT) == text

    def test_4001_characters_are_too_long(self) -> None:
        with raises_code(InvalidInput, "text_too_long"):
            rules.check_text("a" * (MAX_TEXT + 1), MAX_TEXT)

    def test_the_limit_counts_characters_not_bytes(self) -> None:
        arabic = "ب" * MAX_TEXT
        assert len(arabic.encode()) > MAX_TEXT
        assert rules.check_text(arabic, MAX_TEXT) == arabic

    def test_the_limit_applies_after_stripping(self) -> None:
        padded = "  " + "a" * MAX_TEXT + "  "
        assert rules.check_text(padded, MAX_TEXT) == "a" * MAX_TEXT


class TestCapacity:
    @pytest.mark.parametrize("held", [0, 1, 2])
    def test_below_capacity_passes(self, held: int) -> None:
        rules.check_capacity(held, 3)

    @pytest.mark.parametrize("held", [3, 4])
    def test_at_or_over_capacity_is_refused(self, held: int) -> None:
        with raises_code(Conflict, "capacity_reached"):
            rules.check_capacity(held, 3)


class TestPriorityAndQueueOrder:
    def test_raising_priority_marks_the_reason(self) -> None:
        raised = rules.raise_priority(waiting(), "danger_words")
        assert raised.priority == rules.DANGER_PRIORITY > 0
        assert raised.priority_reason == "danger_words"

    def test_raising_never_lowers_a_higher_priority(self) -> None:
        higher = rules.DANGER_PRIORITY + 5
        raised = rules.raise_priority(waiting(priority=higher), "danger_words")
        assert raised.priority == higher

    def test_the_queue_serves_priority_first_then_the_longest_wait(self) -> None:
        oldest = waiting("oldest", T0)
        middle = waiting("middle", T0 + timedelta(minutes=1))
        newest_urgent = rules.raise_priority(waiting("urgent", T0 + timedelta(minutes=2)), "danger_words")
        ordered = sorted([middle, newest_urgent, oldest], key=rules.queue_order_key)
        assert [c.id for c in ordered] == ["urgent", "oldest", "middle"]

    def test_queue_positions_start_at_one_in_serving_order(self) -> None:
        first = waiting("first", T0)
        second = waiting("second", T0 + timedelta(seconds=30))
        urgent = rules.raise_priority(waiting("urgent", T0 + timedelta(minutes=5)), "danger_words")
        assert rules.queue_positions([second, first, urgent], []) == {"urgent": 1, "first": 2, "second": 3}

    def test_an_empty_queue_has_no_positions(self) -> None:
        assert rules.queue_positions([], []) == {}


class TestWaitEstimate:
    def test_the_median_of_recent_waits_times_the_position(self) -> None:
        assert rules.estimate_wait_seconds(2, rules.wait_per_position([100.0, 400.0, 200.0], 300.0, 1)) == 400

    def test_the_fallback_is_used_without_history(self) -> None:
        assert rules.estimate_wait_seconds(3, rules.wait_per_position([], 300.0, 1)) == 900

    def test_counsellors_online_share_the_queue(self) -> None:
        assert rules.estimate_wait_seconds(4, rules.wait_per_position([], 300.0, 2)) == 600

    def test_an_estimate_never_assumes_less_than_thirty_seconds_each(self) -> None:
        assert rules.estimate_wait_seconds(2, rules.wait_per_position([1.0, 2.0, 3.0], 300.0, 1)) == 60

    def test_no_counsellors_online_counts_as_one(self) -> None:
        assert rules.estimate_wait_seconds(1, rules.wait_per_position([], 120.0, 0)) == 120

    def test_the_estimate_is_rounded_down_from_the_wait_per_position(self) -> None:
        per_position = rules.wait_per_position([100.0], 300.0, 3)
        assert per_position == 100.0 / 3
        assert rules.estimate_wait_seconds(7, per_position) == 233


def test_conversations_are_immutable_values() -> None:
    conversation = waiting()
    with pytest.raises(AttributeError):
        conversation.state = State.ACTIVE  # type: ignore[misc]
    assert replace(conversation, priority=3).priority == 3


class TestDangerMarksOnce:
    def test_the_first_mark_raises_priority(self) -> None:
        marked = rules.mark_danger(waiting(), "danger_words", keeps_place=False)
        assert marked is not None and marked.priority == rules.DANGER_PRIORITY
        assert marked.priority_reason == "danger_words"

    def test_a_second_address_conversation_is_only_flagged(self) -> None:
        marked = rules.mark_danger(waiting(), "danger_words", keeps_place=True)
        assert marked is not None and marked.priority == 0 and marked.priority_reason == "danger_words"

    def test_a_marked_or_closed_conversation_is_left_alone(self) -> None:
        marked = rules.mark_danger(waiting(), "danger_words", keeps_place=False)
        assert marked is not None
        assert rules.mark_danger(marked, "danger_words", keeps_place=False) is None
        assert rules.mark_danger(closed(), "danger_words", keeps_place=False) is None


class TestAway:
    AWAY_AFTER = timedelta(seconds=60)

    def gone_since(self, since: datetime | None, conversation: Conversation | None = None) -> Conversation:
        return replace(conversation or waiting(), relative_gone_since=since)

    def test_a_waiting_relative_gone_for_away_after_is_away(self) -> None:
        conversation = self.gone_since(T0)
        assert not rules.is_away(conversation, T0 + self.AWAY_AFTER - timedelta(seconds=1), self.AWAY_AFTER)
        assert rules.is_away(conversation, T0 + self.AWAY_AFTER, self.AWAY_AFTER)

    def test_a_relative_with_a_page_open_is_never_away(self) -> None:
        assert not rules.is_away(self.gone_since(None), T0 + timedelta(days=1), self.AWAY_AFTER)

    def test_only_a_waiting_conversation_is_away(self) -> None:
        later = T0 + timedelta(days=1)
        assert not rules.is_away(self.gone_since(T0, active()), later, self.AWAY_AFTER)
        assert not rules.is_away(self.gone_since(T0, closed()), later, self.AWAY_AFTER)
