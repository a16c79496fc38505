"""TOTP rules of server/domain/totp.py: which time steps count, replay, recovery codes; and the
permission row for resetting someone's second factor."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from server.domain.permissions import (
    CHAT_ACTIONS,
    ESCALATION_ACTIONS,
    SCOPES,
    STAFF_ACTIONS,
    Action,
    Ownership,
    allowed,
)
from server.domain.staff import Role
from server.domain.totp import (
    RECOVERY_CODE_COUNT,
    accepted_step,
    new_enrollment,
    new_recovery_codes,
    recovery_code_hash,
)

NOW = datetime(2026, 11, 26, 9, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def code(at: datetime, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(at)


def step_of(at: datetime) -> int:
    return int(at.timestamp()) // 30


class TestEnrollment:
    def test_the_secret_is_160_random_bits_in_base32(self) -> None:
        secrets = {new_enrollment("alice", "Kinline").secret for _ in range(20)}
        assert len(secrets) == 20
        for secret in secrets:
            assert len(base64.b32decode(secret)) == 20

    def test_the_uri_names_the_issuer_and_the_account_and_carries_the_secret(self) -> None:
        enrollment = new_enrollment("alice", "Kinline")
        uri = urlparse(enrollment.otpauth_uri)
        assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
        assert uri.path == "/Kinline:alice"
        query = parse_qs(uri.query)
        assert query["issuer"] == ["Kinline"]
        assert query["secret"] == [enrollment.secret]


class TestCodes:
    def test_the_current_code_is_accepted_at_its_step(self) -> None:
        assert accepted_step(SECRET, code(NOW), NOW, None) == step_of(NOW)

    @pytest.mark.parametrize("drift", [-1, 1])
    def test_one_step_of_clock_drift_either_way_is_accepted(self, drift: int) -> None:
        phone_time = NOW + drift * STEP
        assert accepted_step(SECRET, code(phone_time), NOW, None) == step_of(phone_time)

    @pytest.mark.parametrize("drift", [-3, -2, 2, 3])
    def test_two_steps_of_drift_are_refused(self, drift: int) -> None:
        assert accepted_step(SECRET, code(NOW + drift * STEP), NOW, None) is None

    def test_a_code_is_not_accepted_twice(self) -> None:
        step = accepted_step(SECRET, code(NOW), NOW, None)
        assert step is not None
        assert accepted_step(SECRET, code(NOW), NOW, step) is None
        assert accepted_step(SECRET, code(NOW), NOW + timedelta(seconds=15), step) is None

    def test_after_a_newer_step_was_used_an_older_code_in_the_window_is_refused(self) -> None:
        newer = accepted_step(SECRET, code(NOW + STEP), NOW, None)
        assert newer == step_of(NOW) + 1
        assert accepted_step(SECRET, code(NOW), NOW, newer) is None
        assert accepted_step(SECRET, code(NOW + 2 * STEP), NOW + STEP, newer) == newer + 1

    def test_another_secret_s_code_is_refused(self) -> None:
        window = [code(NOW + k * STEP) for k in (-1, 0, 1)]
        assert code(NOW, OTHER_SECRET) not in window
        assert accepted_step(SECRET, code(NOW, OTHER_SECRET), NOW, None) is None

    @pytest.mark.parametrize("typed", ["{} {}", "{}-{}", " {}{} "])
    def test_spaces_and_dashes_people_type_are_ignored(self, typed: str) -> None:
        current = code(NOW)
        assert accepted_step(SECRET, typed.format(current[:3], current[3:]), NOW, None) == step_of(NOW)

    @pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６"])
    def test_anything_but_six_ascii_digits_is_refused(self, typed: str) -> None:
        assert accepted_step(SECRET, typed, NOW, None) is None


class TestRecoveryCodes:
    def test_ten_different_codes(self) -> None:
        codes = new_recovery_codes()
        assert len(codes) == len(set(codes)) == RECOVERY_CODE_COUNT == 10

    def test_the_hash_does_not_contain_the_code_and_matches_however_it_is_typed(self) -> None:
        (first, *_rest) = new_recovery_codes()
        stored = recovery_code_hash(first)
        assert first not in stored and first.replace("-", "") not in stored
        assert recovery_code_hash(first.lower()) == stored
        assert recovery_code_hash(first.replace("-", "")) == stored
        assert recovery_code_hash(new_recovery_codes()[0]) != stored


class TestResetPermission:
    def test_only_an_admin_resets_and_only_someone_else_s(self) -> None:
        for role in Role:
            for ownership in SCOPES[Action.STAFF_TOTP_RESET]:
                expected = role is Role.ADMIN and ownership is Ownership.OTHER
                assert allowed(role, Action.STAFF_TOTP_RESET, ownership) is expected, (role, ownership)

    def test_staff_account_actions_are_neither_chat_nor_escalation_actions(self) -> None:
        assert Action.STAFF_TOTP_RESET in STAFF_ACTIONS
        assert not STAFF_ACTIONS & (CHAT_ACTIONS | ESCALATION_ACTIONS)
        assert SCOPES[Action.STAFF_TOTP_RESET] == {Ownership.OWN, Ownership.OTHER}
