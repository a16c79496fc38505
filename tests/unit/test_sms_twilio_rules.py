"""Kinline's SMS rules against Twilio's documentation: the opt-out and opt-in words, the message
statuses, the backoff after a 429, and the start-up checks of the Twilio settings."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from server.config.settings import SettingsError, load_settings
from server.domain.reminders import (
    PROVIDER_STATUSES,
    PROVIDER_STOP_WORDS,
    TextState,
    ThrottlePolicy,
    after_throttle,
    read_reply,
    state_for_provider_status,
)

CANCEL_WORDS = frozenset({"avboka", "cancel"})
#: The Message resource's status enum in Twilio's OpenAPI description (twilio_api_v2010).
TWILIO_STATUSES = {
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
}


def test_every_twilio_default_opt_out_word_is_an_opt_out_in_kinline():
    twilio_defaults = {"stop", "unsubscribe", "end", "quit", "stopall", "revoke", "optout", "cancel"}
    assert twilio_defaults <= PROVIDER_STOP_WORDS
    for word in twilio_defaults:
        reply = read_reply(word.upper(), CANCEL_WORDS)
        assert reply.opts_out and reply.answered_by_provider, word


@pytest.mark.parametrize(
    ("text", "cancels", "opts_out", "opts_in", "answered"),
    [
        ("CANCEL", True, True, False, True),
        ("cancel please", True, False, False, False),
        ("Avboka", True, False, False, False),
        ("STOPP", False, True, False, False),
        ("stop please", False, True, False, False),
        ("Revoke", False, True, False, True),
        ("START", False, False, True, True),
        ("unstop", False, False, True, True),
        ("Yes", False, False, True, True),
        ("yes I will come", False, False, False, False),
        ("hej", False, False, False, False),
    ],
)
def test_replies_follow_twilios_single_word_rule(text, cancels, opts_out, opts_in, answered):
    reply = read_reply(text, CANCEL_WORDS)
    assert (reply.cancels, reply.opts_out, reply.opts_in, reply.answered_by_provider) == (
        cancels,
        opts_out,
        opts_in,
        answered,
    )


def test_every_twilio_status_is_mapped_deliberately():
    assert set(PROVIDER_STATUSES) == TWILIO_STATUSES
    assert state_for_provider_status("partially_delivered") is TextState.UNDELIVERED
    assert state_for_provider_status("canceled") is TextState.FAILED
    assert state_for_provider_status("read") is TextState.DELIVERED
    assert state_for_provider_status("received") is None and state_for_provider_status("receiving") is None
    assert state_for_provider_status("something_new") is None


def test_the_throttle_backoff_doubles_honours_retry_after_and_gives_up():
    policy = ThrottlePolicy(retries=3, backoff=timedelta(seconds=2), backoff_max=timedelta(seconds=5))
    assert [after_throttle(n, None, policy) for n in range(4)] == [
        timedelta(seconds=2),
        timedelta(seconds=4),
        timedelta(seconds=5),
        None,
    ]
    assert after_throttle(0, timedelta(seconds=30), policy) == timedelta(seconds=30)
    assert after_throttle(10_000, None, ThrottlePolicy(10**6, timedelta(seconds=1), timedelta(hours=1))) == (
        timedelta(hours=1)
    )


VALID = {
    "KINLINE_SMS__BACKEND": "twilio",
    "KINLINE_SMS__TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "KINLINE_SMS__TWILIO_AUTH_TOKEN": "secret-token",
    "KINLINE_SMS__TWILIO_FROM": "+46700000001",
    "KINLINE_PUBLIC_URL": "https://stod.example.se",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    for name in list(os.environ):
        if name.startswith("KINLINE_"):
            monkeypatch.delenv(name)

    def set_all(**changes: str) -> None:
        for name, value in {**VALID, **changes}.items():
            monkeypatch.setenv(name, value)

    return set_all


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"KINLINE_SMS__TWILIO_ACCOUNT_SID": "AC123"}, "sms.twilio_account_sid"),
        ({"KINLINE_SMS__TWILIO_ACCOUNT_SID": "SK" + "0" * 32}, "sms.twilio_account_sid"),
        ({"KINLINE_SMS__TWILIO_AUTH_TOKEN": " "}, "sms.twilio_auth_token"),
        ({"KINLINE_SMS__TWILIO_FROM": "0701740605"}, "sms.twilio_from"),
        ({"KINLINE_SMS__TWILIO_FROM": "MG" + "z" * 32}, "sms.twilio_from"),
        ({"KINLINE_PUBLIC_URL": "http://stod.example.se"}, "public_url"),
        ({"KINLINE_PUBLIC_URL": "stod.example.se"}, "public_url"),
        ({"KINLINE_SMS__TWILIO_API_BASE": "ftp://api.twilio.com"}, "sms.twilio_api_base"),
    ],
)
def test_malformed_twilio_settings_are_refused_naming_the_key(environment, change, key):
    environment(**change)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert f"{key}: " in str(refused.value)
    assert "secret-token" not in str(refused.value)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"KINLINE_SMS__TWILIO_FROM": "MG" + "0123456789ABCDEF" * 2},
        {"KINLINE_PUBLIC_URL": "http://127.0.0.1:8080"},
        {"KINLINE_PUBLIC_URL": "https://example.se/stod/"},
    ],
)
def test_well_formed_twilio_settings_start(environment, change):
    environment(**change)
    assert load_settings().sms.backend == "twilio"


def test_the_outbox_backend_needs_no_twilio_settings(environment, monkeypatch):
    environment(KINLINE_SMS__TWILIO_ACCOUNT_SID="", KINLINE_PUBLIC_URL="http://example.se")
    monkeypatch.setenv("KINLINE_SMS__BACKEND", "outbox")
    assert load_settings().sms.backend == "outbox"


def test_no_text_tells_a_relative_to_cancel_with_a_word_twilio_treats_as_opt_out():
    """Twilio blocks the number on CANCEL: a text that says "Reply CANCEL to cancel" would opt the
    relative out of every later text, the cancellation's confirmation included."""
    import json
    from pathlib import Path

    catalogs = Path(__file__).resolve().parents[2] / "web" / "i18n"
    for path in sorted(catalogs.glob("*.json")):
        word = json.loads(path.read_text(encoding="utf-8"))["sms"]["cancel_word"]
        assert word.casefold() not in PROVIDER_STOP_WORDS, f"{path.name}: {word}"
