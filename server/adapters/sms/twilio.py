"""SMS through Twilio with the twilio library's async client (aiohttp underneath).

Built inside the running event loop (``TwilioSmsSender.open()`` from a cleanup_ctx) and closed
with it. ``api_base`` points the client at another host, such as the local fake in the tests.
Nothing here logs a number, a body or Twilio's error text (which can quote the number)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from server.domain.reminders import OPTED_OUT_ERRORS
from server.domain.text import ascii_integer
from server.services.ports.sms import ProviderReport, SendReceipt, SmsOutcome

log = logging.getLogger(__name__)

TWILIO_API_BASE = "https://api.twilio.com"
#: How many recent messages to a number reconciliation looks through.
SEARCH_LIMIT = 20
#: "Too many requests": never processed, always safe to send again (Twilio error 20429).
THROTTLED_STATUS = 429
THROTTLED_CODE = "20429"
#: The longest Retry-After honoured; a longer one is cut to this (the backoff takes over).
MAX_RETRY_AFTER = timedelta(hours=1)


class Throttled(TwilioRestException):  # type: ignore[misc]
    """A 429 from Twilio, with its Retry-After (the library's own exception has no headers)."""

    def __init__(self, method: str, uri: str, code: int, retry_after: timedelta | None) -> None:
        super().__init__(THROTTLED_STATUS, uri, "Too Many Requests", code, method)
        self.retry_after = retry_after


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """A Retry-After header: seconds, or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    seconds = ascii_integer(value, max_digits=9)
    if seconds is not None:
        wait = timedelta(seconds=seconds)
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        wait = max(moment - (now or datetime.now(UTC)), timedelta(0))
    return min(wait, MAX_RETRY_AFTER)


def _error_code(body: str, default: int) -> int:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return default
    return code if isinstance(code, int) else default


def _quiet_logger() -> logging.Logger:
    """The library logs request URLs with their query (a number, when listing by recipient) at INFO."""
    logger = logging.getLogger("kinline.twilio.http")
    logger.setLevel(logging.WARNING)
    return logger


class RebasedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's async HTTP client, sending every request to ``api_base`` instead of the host
    the library chose (its URLs are absolute: https://api.twilio.com/2010-04-01/...)."""

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet_logger())
        self._base = urlsplit(api_base.rstrip("/"))

    def rebase(self, url: str) -> str:
        if not self._base.netloc:
            return url
        parts = urlsplit(url)
        return urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, parts.fragment)
        )

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's signature
        allow_redirects: bool = False,
    ) -> Response:
        """Credentials go in as a header (aiohttp deprecates its ``auth`` argument)."""
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        response = await super().request(
            method, self.rebase(url), params, data, headers, None, timeout, allow_redirects
        )
        if response.status_code == THROTTLED_STATUS:
            wait = retry_after((response.headers or {}).get("Retry-After"))
            raise Throttled(method, url, _error_code(response.text, int(THROTTLED_CODE)), wait)
        return response


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    sender: str
    api_base: str
    public_url: str
    timeout: timedelta

    @property
    def uses_messaging_service(self) -> bool:
        return self.sender.startswith("MG")


class TwilioSmsSender:
    def __init__(self, config: TwilioConfig) -> None:
        if not (config.account_sid and config.auth_token and config.sender):
            raise ValueError("sms.backend=twilio needs twilio_account_sid, twilio_auth_token and twilio_from")
        self.config = config
        self._http: RebasedHttpClient | None = None
        self._client: Client | None = None

    async def open(self) -> None:
        """Create the HTTP session; must run inside the event loop that will use it."""
        self._http = RebasedHttpClient(
            self.config.api_base or TWILIO_API_BASE, self.config.timeout.total_seconds()
        )
        self._client = Client(self.config.account_sid, self.config.auth_token, http_client=self._http)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the Twilio client is not open")
        return self._client

    def status_callback(self, status_ref: str | None) -> str:
        url = f"{self.config.public_url.rstrip('/')}/webhooks/twilio/status"
        return f"{url}?text={status_ref}" if status_ref else url

    async def send(self, to_e164: str, body: str, *, status_ref: str | None = None) -> SendReceipt:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.config.sender}
            if self.config.uses_messaging_service
            else {"from_": self.config.sender}
        )
        try:
            message = await self.client.messages.create_async(
                to=to_e164, body=body, status_callback=self.status_callback(status_ref), **sender
            )
        except Throttled as error:
            log.warning("Twilio throttled a send (code %s); it was not processed", error.code)
            return SendReceipt(SmsOutcome.THROTTLED, None, str(error.code), retry_after=error.retry_after)
        except (TwilioRestException, TwilioServiceException) as error:
            code = str(error.code or error.status)
            if error.status >= 500:
                log.warning("Twilio answered %d to a send; the outcome is unknown", error.status)
                return SendReceipt(SmsOutcome.UNKNOWN, None, f"http_{error.status}")
            if code in OPTED_OUT_ERRORS:
                log.info("Twilio refused a text: the recipient has opted out (code %s)", code)
                return SendReceipt(SmsOutcome.OPTED_OUT, None, code)
            log.warning("Twilio refused a text (HTTP %d, code %s)", error.status, code)
            return SendReceipt(SmsOutcome.FAILED, None, code)
        except (aiohttp.ClientError, OSError) as error:
            log.warning("Twilio could not be reached (%s); the outcome is unknown", type(error).__name__)
            return SendReceipt(SmsOutcome.UNKNOWN, None, "unreachable")
        return SendReceipt(SmsOutcome.ACCEPTED, message.sid, None, message.status)

    async def status(self, provider_id: str) -> ProviderReport | None:
        try:
            async with asyncio.timeout(self.config.timeout.total_seconds()):
                message = await self.client.messages(provider_id).fetch_async()
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise
        return _report(message)

    async def find(self, to_e164: str, body: str, since: datetime) -> ProviderReport | None:
        """A text we may have sent: the newest messages to the number, matched by body and time."""
        async with asyncio.timeout(self.config.timeout.total_seconds()):
            recent = await self.client.messages.list_async(to=to_e164, limit=SEARCH_LIMIT)
        for message in recent:
            created = message.date_created
            if message.body == body and (created is None or created >= since):
                return _report(message)
        return None


def _report(message: Any) -> ProviderReport:
    error = str(message.error_code) if message.error_code else None
    return ProviderReport(message.sid, str(message.status), error)
