"""Durations as coarse buckets: exact lengths could single a contact out."""

from __future__ import annotations

from datetime import timedelta

NONE = "none"
# (upper bound exclusive, bucket); the last bucket has no upper bound.
_BOUNDS: tuple[tuple[timedelta, str], ...] = (
    (timedelta(minutes=10), "under_10m"),
    (timedelta(minutes=30), "10_30m"),
    (timedelta(hours=1), "30_60m"),
    (timedelta(hours=24), "1_24h"),
)
OVER = "over_24h"
BUCKETS = (NONE, *(name for _, name in _BOUNDS), OVER)


def duration_bucket(length: timedelta | None) -> str:
    """``none`` when there was no contact time (never claimed); a negative length counts as 0."""
    if length is None:
        return NONE
    for bound, name in _BOUNDS:
        if length < bound:
            return name
    return OVER
