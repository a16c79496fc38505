"""Signed webhooks: HMAC-SHA256 over "<t>.<body>", checked with the secret and a fresh timestamp."""

from __future__ import annotations

from datetime import timedelta

from server.adapters.webhook import signature, verify

SECRET = b"route-secret"
BODY = b'{"escalation_id":"e-1","event":"escalation.sent"}'
NOW = 1_800_000_000
TOLERANCE = timedelta(minutes=5)


def test_a_signature_verifies_with_the_same_secret_body_and_a_fresh_time() -> None:
    header = signature(SECRET, NOW, BODY)
    assert header.startswith(f"t={NOW},v1=")
    assert verify(SECRET, header, BODY, NOW + 60, TOLERANCE)


def test_a_wrong_secret_a_changed_body_an_old_time_or_garbage_fail() -> None:
    header = signature(SECRET, NOW, BODY)
    assert not verify(b"other-secret", header, BODY, NOW, TOLERANCE)
    assert not verify(SECRET, header, BODY.replace(b"e-1", b"e-2"), NOW, TOLERANCE)
    assert not verify(SECRET, header, BODY, NOW + 301, TOLERANCE)
    assert not verify(SECRET, header.replace(f"t={NOW}", f"t={NOW + 1}"), BODY, NOW, TOLERANCE)
    assert not verify(SECRET, "", BODY, NOW, TOLERANCE)
    assert not verify(SECRET, "t=soon,v1=abc", BODY, NOW, TOLERANCE)
