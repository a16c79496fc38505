"""Assertion helpers shared by the unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from server.domain.errors import DomainError


@contextmanager
def raises_code(kind: type[DomainError], code: str) -> Iterator[None]:
    """The block raises ``kind`` carrying the stable error ``code``."""
    with pytest.raises(kind) as caught:
        yield
    assert caught.value.code == code, f"expected code {code!r}, got {caught.value.code!r}"
