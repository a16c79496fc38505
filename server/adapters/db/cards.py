"""A message's resource card in the messages.card column: JSON, encrypted like the message text
(which resource a relative was given says something about them)."""

from __future__ import annotations

import json
from dataclasses import asdict

from server.adapters.crypto import FieldCipher
from server.domain.knowledge import Contact, ResourceCard


def encode(cipher: FieldCipher, card: ResourceCard | None) -> bytes | None:
    if card is None:
        return None
    return cipher.encrypt(json.dumps(asdict(card), ensure_ascii=False))


def decode(cipher: FieldCipher, stored: bytes | None) -> ResourceCard | None:
    if stored is None:
        return None
    value = json.loads(cipher.decrypt(stored))
    contact = Contact(**value["contact"])
    return ResourceCard(int(value["id"]), str(value["title"]), str(value["summary"]), contact)
