"""Encryption at rest for message text, notes and phone numbers; hashes for secrets we only compare."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"
RESUME_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


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


class EphemeralKeyedHash:
    """HMAC under a key that lives only in this process's memory, for rate-limit buckets."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
