"""ISO weeks, duration buckets and the record rules of server/domain/statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.errors import InvalidInput
from server.domain.statistics.buckets import BUCKETS, duration_bucket
from server.domain.statistics.records import Channel, StatisticsRules, parse_survey
from server.domain.statistics.weeks import IsoWeek, check_range, parse_week, week_of

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    ("text", "week"),
    [("2026-W05", IsoWeek(2026, 5)), ("2026-W53", IsoWeek(2026, 53)), ("2025-W01", IsoWeek(2025, 1))],
)
def test_weeks_parse_and_format_back(text: str, week: IsoWeek) -> None:
    assert parse_week(text) == week
    assert str(week) == text


@pytest.mark.parametrize(
    "text", ["2026-5", "2026-W5", "2026W05", "2025-W53", "2026-W00", "2026-W54", "", "x"]
)
def test_bad_weeks_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_week(text)
    assert raised.value.code == "invalid_week"


def test_week_of_follows_the_local_calendar() -> None:
    # Sunday 23:30 UTC on 2026-02-01 is Monday 00:30 in Stockholm: week 6, not week 5.
    moment = datetime(2026, 2, 1, 23, 30, tzinfo=UTC)
    assert week_of(moment, ZoneInfo("UTC")) == IsoWeek(2026, 5)
    assert week_of(moment, STOCKHOLM) == IsoWeek(2026, 6)
    # 1 January 2027 is a Friday of ISO week 53 of 2026.
    assert str(week_of(datetime(2027, 1, 1, 12, tzinfo=UTC), STOCKHOLM)) == "2026-W53"


def test_a_range_runs_forwards_and_is_bounded() -> None:
    check_range(IsoWeek(2026, 1), IsoWeek(2026, 52), 52)
    with pytest.raises(InvalidInput):
        check_range(IsoWeek(2026, 2), IsoWeek(2026, 1), 52)
    with pytest.raises(InvalidInput):
        check_range(IsoWeek(2025, 52), IsoWeek(2026, 52), 52)


@pytest.mark.parametrize(
    ("length", "bucket"),
    [
        (None, "none"),
        (timedelta(0), "under_10m"),
        (timedelta(minutes=9, seconds=59), "under_10m"),
        (timedelta(minutes=10), "10_30m"),
        (timedelta(minutes=59), "30_60m"),
        (timedelta(hours=1), "1_24h"),
        (timedelta(days=1), "over_24h"),
    ],
)
def test_duration_buckets(length: timedelta | None, bucket: str) -> None:
    assert duration_bucket(length) == bucket
    assert bucket in BUCKETS


def test_perspective_defaults_to_the_topic_and_a_confirmed_one_is_checked() -> None:
    rules = StatisticsRules()
    assert rules.perspective_for("leaving_myself") == "exit"
    assert rules.perspective_for("leaving_myself", "prevention") == "prevention"
    assert rules.perspective_for("none") == "support_relatives"
    with pytest.raises(InvalidInput):
        rules.perspective_for("affected", "charity")


def test_milieus_channels_and_survey_answers() -> None:
    rules = StatisticsRules()
    assert rules.check_milieu(None) is None
    assert rules.check_milieu("right_wing") == "right_wing"
    with pytest.raises(InvalidInput):
        rules.check_milieu("anarchist")
    assert rules.channel_for("visit") is Channel.VISIT
    assert rules.channel_for("interpreter_phone") is Channel.PHONE
    assert parse_survey("partly").value == "partly"
    with pytest.raises(InvalidInput):
        parse_survey("maybe")
