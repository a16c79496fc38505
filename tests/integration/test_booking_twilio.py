"""The Twilio adapter (the real twilio library's async client) against the local fake of
Twilio's REST API: sends, refusals, 5xx and hangs as unknown outcomes, and the two questions
reconciliation asks (a message by sid, recent messages to a number)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from server.adapters.sms.twilio import RebasedHttpClient, TwilioConfig, TwilioSmsSender, retry_after
from server.services.ports.sms import SmsOutcome
from tests.support.fake_twilio import FakeTwilio

TO = "+46701740605"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as running:
        yield running


def config(fake: FakeTwilio, sender: str | None = None, timeout: float = 2.0) -> TwilioConfig:
    return TwilioConfig(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        sender=sender or fake.sender,
        api_base=fake.url,
        public_url="https://kinline.example.org",
        timeout=timedelta(seconds=timeout),
    )


@pytest.fixture
async def twilio(fake: FakeTwilio) -> AsyncIterator[TwilioSmsSender]:
    sender = TwilioSmsSender(config(fake))
    await sender.open()
    yield sender
    await sender.close()


async def test_a_text_is_sent_with_number_body_sender_and_status_callback(fake, twilio):
    receipt = await twilio.send(TO, "Bokat: besök", status_ref="42")
    assert receipt.outcome == SmsOutcome.ACCEPTED
    assert receipt.provider_id and receipt.provider_id.startswith("SM") and receipt.status == "queued"
    [create] = fake.creates()
    assert create["form"]["To"] == TO and create["form"]["Body"] == "Bokat: besök"
    assert create["form"]["From"] == fake.sender
    assert create["form"]["StatusCallback"] == "https://kinline.example.org/webhooks/twilio/status?text=42"
    assert create["path"] == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


async def test_a_messaging_service_sid_is_used_as_such(fake):
    sender = TwilioSmsSender(config(fake, sender="MG" + "0" * 32))
    await sender.open()
    try:
        assert (await sender.send(TO, "x")).outcome == SmsOutcome.ACCEPTED
    finally:
        await sender.close()
    form = fake.creates()[0]["form"]
    assert form["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in form


async def test_a_refusal_fails_with_twilios_code_and_logs_no_number(fake, twilio, caplog):
    caplog.set_level(logging.DEBUG)
    receipt = await twilio.send("0701740605", "x")
    assert (receipt.outcome, receipt.error) == (SmsOutcome.FAILED, "21211")
    assert "0701740605" not in caplog.text and TO not in caplog.text


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_an_unknown_outcome(fake, twilio, status):
    fake.fail_next(status=status)
    receipt = await twilio.send(TO, "x")
    assert receipt.outcome == SmsOutcome.UNKNOWN and receipt.provider_id is None


@pytest.mark.parametrize(
    ("header", "wait"),
    [(7, timedelta(seconds=7)), (None, None), ("soon", None), (86400, timedelta(hours=1))],
)
async def test_a_429_is_throttled_with_its_retry_after_read_from_the_response(fake, twilio, header, wait):
    fake.throttle_next(retry_after=header)
    receipt = await twilio.send(TO, "x")
    assert (receipt.outcome, receipt.error, receipt.retry_after) == (SmsOutcome.THROTTLED, "20429", wait)
    assert fake.messages == []
    assert (await twilio.send(TO, "x")).outcome == SmsOutcome.ACCEPTED


def test_retry_after_as_an_http_date():
    now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert retry_after("Wed, 02 Dec 2026 08:00:30 GMT", now) == timedelta(seconds=30)
    assert retry_after("Wed, 02 Dec 2026 07:00:00 GMT", now) == timedelta(0)


@pytest.mark.parametrize("header", ["²", "١٢", "9" * 12, "soon"])
def test_an_unreadable_retry_after_is_none_not_a_crash(header):
    assert retry_after(header) is None


async def test_21610_is_an_opt_out_not_just_a_failure(fake, twilio):
    fake.refuse_next(code=21610)
    receipt = await twilio.send(TO, "x")
    assert (receipt.outcome, receipt.error) == (SmsOutcome.OPTED_OUT, "21610")


async def test_a_hang_is_cut_by_the_callers_timeout_and_the_message_can_be_found(fake, twilio):
    fake.hang_next(seconds=30)
    since = datetime.now(UTC) - timedelta(minutes=1)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await twilio.send(TO, "Påminnelse: samtal")
    found = await twilio.find(TO, "Påminnelse: samtal", since)
    assert found is not None and found.provider_id == fake.messages[0]["sid"]
    assert await twilio.find(TO, "another body", since) is None
    assert await twilio.find("+46701740606", "Påminnelse: samtal", since) is None


async def test_status_is_read_by_sid_and_unknown_sids_are_none(fake, twilio):
    receipt = await twilio.send(TO, "x")
    assert receipt.provider_id is not None
    with fake._lock:
        fake._messages[receipt.provider_id]["status"] = "delivered"
    report = await twilio.status(receipt.provider_id)
    assert report is not None and report.status == "delivered"
    assert await twilio.status("SM" + "f" * 32) is None


async def test_wrong_credentials_are_a_refusal(fake):
    wrong = TwilioSmsSender(
        TwilioConfig(fake.account_sid, "wrong-token", fake.sender, fake.url, "http://x", timedelta(seconds=2))
    )
    await wrong.open()
    try:
        receipt = await wrong.send(TO, "x")
    finally:
        await wrong.close()
    assert (receipt.outcome, receipt.error) == (SmsOutcome.FAILED, "20003")
    assert fake.messages == []


async def test_an_unreachable_api_is_an_unknown_outcome():
    from tests.support.server import free_port

    dead = TwilioSmsSender(
        TwilioConfig(
            "AC" + "0" * 32,
            "t",
            "+46700000001",
            f"http://127.0.0.1:{free_port()}",
            "http://x",
            timedelta(seconds=2),
        )
    )
    await dead.open()
    try:
        assert (await dead.send(TO, "x")).outcome == SmsOutcome.UNKNOWN
    finally:
        await dead.close()


def test_the_client_is_rebased_keeping_path_and_query():
    async def build() -> RebasedHttpClient:
        return RebasedHttpClient("http://127.0.0.1:9/prefix", timeout=1)

    async def check() -> None:
        client = await build()
        try:
            assert (
                client.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B46")
                == "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json?To=%2B46"
            )
        finally:
            await client.close()

    asyncio.run(check())


def test_twilio_needs_its_settings():
    with pytest.raises(ValueError, match="twilio_auth_token"):
        TwilioSmsSender(
            TwilioConfig("AC1", "", "+4670", "https://api.twilio.com", "http://x", timedelta(seconds=1))
        )
