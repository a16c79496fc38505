"""A SecretBox (server/services/auth.py) that seals by marking, not by encrypting: the services
only need what they seal to come back whole."""

from __future__ import annotations

SEAL = b"sealed:"


class MarkingSecretBox:
    def encrypt(self, plaintext: str) -> bytes:
        return SEAL + plaintext.encode()

    def decrypt(self, stored: bytes) -> str:
        if not stored.startswith(SEAL):
            raise ValueError("not sealed by this box")
        return stored[len(SEAL) :].decode()
