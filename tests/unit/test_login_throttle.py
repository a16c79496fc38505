"""The sign-in slowdown of server/domain/login_throttle.py with a clock the test moves: counted
before the check, one attempt in flight, doubling blocks up to the cap, Retry-After in whole
seconds, a success or a quiet spell forgets, the memory bound; and the 429 in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain import login_throttle
from server.domain.errors import RateLimited
from server.domain.login_throttle import FORGET_AFTER, LoginThrottle
from server.transports.http.openapi import document

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FREE = 3
BASE = timedelta(seconds=1)
CAP = timedelta(seconds=8)


def throttle() -> LoginThrottle:
    return LoginThrottle(FREE, BASE, CAP)


def fail(t: LoginThrottle, username: str, now: datetime) -> None:
    t.finish(t.begin(username, now), succeeded=False)


def retry_after(t: LoginThrottle, username: str, now: datetime) -> int:
    with pytest.raises(RateLimited) as caught:
        t.begin(username, now)
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after is not None
    return caught.value.retry_after


def test_the_free_failures_pass_then_each_further_attempt_waits_twice_as_long_up_to_the_cap() -> None:
    t, now = throttle(), T0
    for _ in range(FREE - 1):
        fail(t, "alice", now)
    fail(t, "alice", now)  # the free-th failure starts the slowdown
    waits = []
    for _ in range(6):
        wait = retry_after(t, "alice", now)
        waits.append(wait)
        now += timedelta(seconds=wait)
        fail(t, "alice", now)
    assert waits == [1, 2, 4, 8, 8, 8]


def test_an_attempt_is_counted_when_it_starts_so_a_parallel_one_is_refused() -> None:
    t = throttle()
    key = t.begin("alice", T0)
    assert retry_after(t, "alice", T0) == 1
    assert retry_after(t, "alice", T0) == 1
    t.begin("bob", T0)  # another username is not held up
    t.finish(key, succeeded=False)
    fail(t, "alice", T0)  # the refused ones were not counted: this is the second attempt


def test_a_refused_attempt_does_not_extend_the_block() -> None:
    t = LoginThrottle(1, CAP, CAP)  # every failure blocks for the whole cap
    fail(t, "alice", T0)
    for second in range(8):
        assert retry_after(t, "alice", T0 + timedelta(seconds=second)) == 8 - second
    t.finish(t.begin("alice", T0 + CAP), succeeded=True)


def test_a_success_forgets_the_failures() -> None:
    t, now = throttle(), T0
    for _ in range(FREE):
        fail(t, "alice", now)
    now += CAP
    t.finish(t.begin("alice", now), succeeded=True)
    for _ in range(FREE):
        fail(t, "alice", now)
    assert retry_after(t, "alice", now) == 1


def test_a_quiet_spell_forgets_the_failures() -> None:
    t, now = throttle(), T0
    for _ in range(FREE + 2):
        now += CAP
        fail(t, "alice", now)
    now += FORGET_AFTER
    fail(t, "alice", now)
    fail(t, "alice", now)  # the second attempt after the quiet spell: still free


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    t = LoginThrottle(1, BASE, CAP)
    fail(t, "alice", T0)
    assert retry_after(t, "alice", T0 + timedelta(milliseconds=1)) == 1
    assert retry_after(t, "alice", T0 + timedelta(milliseconds=999)) == 1
    fail(t, "alice", T0 + BASE)


def test_usernames_are_kept_only_as_keyed_hashes() -> None:
    t = throttle()
    fail(t, "alice@example", T0)
    assert all("alice" not in key for key in t._usernames)


def test_the_memory_a_spray_of_usernames_takes_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "MAX_TRACKED_USERNAMES", 50)
    t = throttle()
    for n in range(500):
        fail(t, f"user{n}", T0)
    assert len(t._usernames) <= 50


def test_a_huge_failure_count_stays_at_the_cap() -> None:
    t = LoginThrottle(1, timedelta(days=1), timedelta(days=2))
    assert t.delay_after(10_000) == timedelta(days=2)


def test_the_openapi_document_gives_sign_in_a_429_with_retry_after() -> None:
    refused = document()["paths"]["/api/auth/login"]["post"]["responses"]["429"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
