"""Encryption at rest for message text, notes and phone numbers, and the data key it uses."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"


class FieldCipher:
    """AES-256-GCM per field; the stored value is version byte + nonce + ciphertext and tag."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the data key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def decrypt(self, stored: bytes) -> str:
        if stored[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce = stored[1 : 1 + _NONCE_BYTES]
        return self._aead.decrypt(nonce, stored[1 + _NONCE_BYTES :], None).decode()


def load_or_create_key(configured: str, key_file: Path) -> bytes:
    """The configured base64 key, else a key file created once with mode 0600."""
    if configured:
        return base64.urlsafe_b64decode(configured)
    if key_file.exists():
        return base64.urlsafe_b64decode(key_file.read_bytes().strip())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(base64.urlsafe_b64encode(key))
    return key
