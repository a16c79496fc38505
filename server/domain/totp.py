"""Time-based one-time passwords (RFC 6238) and recovery codes for staff sign-in.

pyotp computes the codes; this module decides which time steps count (one step of clock drift
either way) and refuses a step that was already used, so a code observed once cannot be replayed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
import pyotp.utils

from server.domain.tokens import new_resume_code, normalise_resume_code, secret_hash

DIGITS = 6
INTERVAL_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
CODE_PATTERN = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Enrollment:
    """What the staff member copies into their authenticator app."""

    secret: str
    otpauth_uri: str


def new_enrollment(username: str, issuer: str) -> Enrollment:
    """A fresh 160-bit base32 secret and its otpauth:// URI."""
    secret = pyotp.random_base32()
    uri = _totp(secret).provisioning_uri(name=username, issuer_name=issuer)
    return Enrollment(secret, uri)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS)


def normalise_code(code: str) -> str:
    """Authenticator apps show codes as "123 456"; people type them with spaces or dashes."""
    return "".join(ch for ch in code if ch not in " -")


def accepted_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is within the drift window and later than the
    last step accepted for this secret; otherwise None."""
    code = normalise_code(code)
    if not CODE_PATTERN.fullmatch(code):
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    matched = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            matched = step
    if matched is None or (last_used_step is not None and matched <= last_used_step):
        return None
    return matched


def new_recovery_codes() -> list[str]:
    """One-time codes for when the phone is lost: about 78 random bits each, XXXX-XXXX-XXXX-XXXX."""
    return [new_resume_code() for _ in range(RECOVERY_CODE_COUNT)]


def recovery_code_hash(code: str) -> str:
    """What is stored of a recovery code; typing it in lower case or without dashes still matches."""
    return secret_hash(normalise_resume_code(code))
