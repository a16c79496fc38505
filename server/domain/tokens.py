"""Secrets handed to people and the hashes we keep of them. Pure: randomness and hashing only."""

from __future__ import annotations

import hashlib
import hmac
import secrets

RESUME_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_resume_code() -> str:
    """16 characters from an unambiguous alphabet (about 78 bits), shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(RESUME_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_resume_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyedHash:
    """HMAC-SHA-256 under ``key``, for rate-limit and sign-in counters: what is counted (an address,
    a username) is never kept, only this hash of it."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


class EphemeralKeyedHash(KeyedHash):
    """HMAC under a key that lives only in this process's memory, for counters of one process."""

    def __init__(self) -> None:
        super().__init__(secrets.token_bytes(32))
