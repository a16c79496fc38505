"""The integers a request may carry: what the database's 64-bit INTEGER holds. A larger number
would reach SQLite or PostgreSQL and fail there as an internal error; here it is a 422."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1

DbInt = Annotated[int, Field(ge=DB_INT_MIN, le=DB_INT_MAX)]
"""Any integer the database can store, e.g. a user id."""

DbCount = Annotated[int, Field(ge=0, le=DB_INT_MAX)]
"""A non-negative one: a sequence number, a limit."""


def is_db_count(value: object) -> bool:
    """For values read outside a model (the socket's auth): a real int, not a bool, in range."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DB_INT_MAX
