"""How often every process sweeps relative presence: soon enough after away_after and abandon_after."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from server.app import presence_sweep_seconds
from tests.integration.wiring import chat_policy


@pytest.mark.parametrize(
    ("away_after", "abandon_after", "seconds"),
    [
        (timedelta(seconds=60), timedelta(minutes=15), 15.0),
        (timedelta(seconds=8), timedelta(minutes=15), 2.0),
        (timedelta(minutes=5), timedelta(seconds=20), 5.0),
        (timedelta(seconds=1), timedelta(seconds=4), 0.5),
    ],
)
def test_the_sweep_runs_a_quarter_of_the_shorter_time_at_most_every_15_s(
    away_after: timedelta, abandon_after: timedelta, seconds: float
) -> None:
    policy = replace(chat_policy(), away_after=away_after, abandon_after=abandon_after)
    assert presence_sweep_seconds(policy) == seconds
