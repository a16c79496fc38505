"""Encryption at rest for message text, notes and phone numbers, and the data key it uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
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


class PhoneIndex:
    """A keyed hash of an E.164 number under a sub-key of the data key, for lookups and opt-outs."""

    def __init__(self, data_key: bytes) -> None:
        self._key = hmac.new(data_key, b"kinline phone index v1", hashlib.sha256).digest()

    def __call__(self, e164: str) -> str:
        return hmac.new(self._key, e164.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DataCiphers:
    """One FieldCipher per purpose, built once from the data key. All use the data key itself, so
    rows written before there were purposes still decrypt; separate instances keep the door open
    to a key per purpose (with a migration) without touching the stores."""

    chat: FieldCipher
    """Message text and notes."""
    booking: FieldCipher
    """Phone numbers of appointments and the texts in the SMS outbox."""
    escalations: FieldCipher
    """The free text of escalations."""
    totp: FieldCipher
    """Staff members' TOTP secrets."""
    phone_index: PhoneIndex

    @classmethod
    def from_key(cls, key: bytes) -> DataCiphers:
        return cls(FieldCipher(key), FieldCipher(key), FieldCipher(key), FieldCipher(key), PhoneIndex(key))

    @classmethod
    def load(cls, configured: str, key_file: Path) -> DataCiphers:
        """The ciphers of the configured data key, else of the key file (created once)."""
        return cls.from_key(load_or_create_key(configured, key_file))
