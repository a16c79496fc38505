"""A local fake of Twilio's REST API for Messages, for tests and benchmarks.

The real twilio library talks to it when ``KINLINE_SMS__TWILIO_API_BASE`` is set to ``fake.url``.
It runs an aiohttp server in a background thread, so sync and async tests use it alike::

    with FakeTwilio() as fake:
        env = fake.server_env()                  # KINLINE_SMS__* settings for a Kinline server
        ...
        fake.wait_for_messages(1)                 # waits on a condition, never a sleep
        assert fake.messages[0]["to"] == "+46701740605"

What it does:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` checks Basic auth and the form (``To``,
  ``Body``, ``From`` or ``MessagingServiceSid``, ``StatusCallback``), stores the message and answers
  201 with a Message resource shaped like Twilio's (``sid`` SM..., ``status`` "queued", RFC 2822 dates).
- ``GET .../Messages/{Sid}.json`` returns a stored message (404 with Twilio's error shape if unknown).
- ``GET .../Messages.json?To=...&PageSize=n`` lists stored messages, newest first, one page.
- Every request is recorded in ``requests`` (method, path, query, form).

Faults, for the next creates only (each call adds to a queue, consumed one per POST):

- ``fail_next(count, status=500, create=False)``: answer ``status``; with ``create=True`` the
  message is stored anyway (Twilio took it, the answer was lost).
- ``hang_next(count, seconds=30, create=True)``: store the message, then wait before answering, so
  the client times out.
- ``refuse_next(count, code=21610, status=400)``: refuse with Twilio's error shape and ``code``
  (21610: the recipient has unsubscribed), storing nothing.
- ``throttle_next(count, retry_after=1)``: answer 429 with code 20429 and a ``Retry-After`` header
  (None: no header), storing nothing: "never processed, always safe to retry".
- ``delay``: seconds every create waits after storing, before answering (slow provider).

Own process: ``python -m tests.support.fake_twilio`` serves until stdin closes and prints its
url and credentials as one JSON line (bench/reminder_sweep_bench.py uses it so).

Delivery: ``report_status(sid, "delivered")`` updates a message and posts a correctly signed
status callback to its ``StatusCallback`` URL, as Twilio would. ``signature(url, params)`` signs
any webhook request (``X-Twilio-Signature``) with the fake account's auth token;
``inbound(...)`` builds the form of a received text and ``webhook(url, form, signature)`` posts it.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from aiohttp import BasicAuth, web
from twilio.request_validator import RequestValidator

from tests.support.server import free_port, wait_until

API_VERSION = "2010-04-01"


@dataclass
class _Fault:
    status: int | None = None
    hang_seconds: float = 0.0
    create: bool = True
    code: int = 20500
    message: str = "Internal Server Error"
    headers: dict[str, str] | None = None


def _twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
        headers=headers,
    )


def _now_rfc2822() -> str:
    from datetime import UTC, datetime

    return format_datetime(datetime.now(UTC), usegmt=True)


class FakeTwilio:
    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.sender = "+46700000001"
        self.port = free_port()
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-twilio", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Twilio did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application()
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        app.router.add_post(f"{base}.json", self._create)
        app.router.add_get(f"{base}.json", self._list)
        app.router.add_get(f"{base}/{{sid}}.json", self._fetch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def server_env(self, **extra: str) -> dict[str, str]:
        """Settings that point a Kinline server at this fake."""
        return {
            "KINLINE_SMS__BACKEND": "twilio",
            "KINLINE_SMS__TWILIO_ACCOUNT_SID": self.account_sid,
            "KINLINE_SMS__TWILIO_AUTH_TOKEN": self.auth_token,
            "KINLINE_SMS__TWILIO_FROM": self.sender,
            "KINLINE_SMS__TWILIO_API_BASE": self.url,
            **extra,
        }

    # ---- what tests read

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Stored messages, oldest first (copies)."""
        with self._lock:
            return [dict(self._messages[sid]) for sid in self._order]

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["to"] == number]

    def creates(self) -> list[dict[str, Any]]:
        """Every create request, including refused and hung ones."""
        with self._lock:
            return [dict(r) for r in self.requests if r["method"] == "POST"]

    def wait_for_messages(
        self, count: int, timeout: float = 20.0, number: str | None = None
    ) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]] | None:
            found = self.messages_to(number) if number else self.messages
            return found if len(found) >= count else None

        return wait_until(enough, timeout=timeout, what=f"{count} texts at the fake Twilio")

    def wait_for(self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        return wait_until(condition, timeout=timeout, what=what)

    # ---- faults and delivery

    def fail_next(self, count: int = 1, status: int = 500, create: bool = False) -> None:
        with self._lock:
            self._faults.extend(_Fault(status=status, create=create) for _ in range(count))

    def refuse_next(
        self,
        count: int = 1,
        code: int = 21610,
        status: int = 400,
        message: str = "Attempt to send to unsubscribed recipient",
    ) -> None:
        with self._lock:
            self._faults.extend(
                _Fault(status=status, create=False, code=code, message=message) for _ in range(count)
            )

    def throttle_next(self, count: int = 1, retry_after: float | str | None = 1) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        with self._lock:
            self._faults.extend(
                _Fault(status=429, create=False, code=20429, message="Too Many Requests", headers=headers)
                for _ in range(count)
            )

    def hang_next(self, count: int = 1, seconds: float = 30.0, create: bool = True) -> None:
        with self._lock:
            self._faults.extend(_Fault(hang_seconds=seconds, create=create) for _ in range(count))

    def report_status(self, sid: str, status: str, error_code: int | None = None) -> int:
        """Set a message's status and post the signed status callback; returns the HTTP status."""
        with self._lock:
            message = self._messages[sid]
            message["status"] = status
            message["error_code"] = error_code
            message["date_updated"] = _now_rfc2822()
            callback = message.get("_status_callback")
        if not callback:
            return 0
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message["to"],
            "From": message["from"] or "",
            "ApiVersion": API_VERSION,
            **({"ErrorCode": str(error_code)} if error_code else {}),
        }
        return self.post_signed(callback, params)

    def signature(self, url: str, params: dict[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def post_signed(self, url: str, params: dict[str, str], signed_url: str | None = None) -> int:
        """POST a form webhook to ``url`` signed for ``signed_url`` (default: the same URL)."""
        return self.webhook(url, params, self.signature(signed_url or url, params))[0]

    def webhook(self, url: str, params: dict[str, str], signature: str | None) -> tuple[int, str]:
        """POST a form as Twilio does, with the given ``X-Twilio-Signature`` (None: no header).
        Returns the status and the body (TwiML for inbound texts)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def inbound(self, sender: str, body: str, message_sid: str | None = None) -> dict[str, str]:
        """The form Twilio posts for a text received on the account's number (not sent anywhere)."""
        sid = message_sid or "SM" + secrets.token_hex(16)
        return {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "To": self.sender,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": API_VERSION,
        }

    # ---- the API

    def _authorised(self, request: web.Request, account: str) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return False
        return (
            account == self.account_sid
            and auth.login == self.account_sid
            and auth.password == self.auth_token
        )

    def _record(self, request: web.Request, form: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "form": form,
                    "at": time.time(),
                }
            )

    def _resource(self, message: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in message.items() if not key.startswith("_")}

    async def _create(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self._record(request, form)
        if not self._authorised(request, request.match_info["account"]):
            return _twilio_error(401, 20003, "Authenticate")
        to, body = form.get("To", ""), form.get("Body", "")
        if not to.startswith("+") or not to[1:].isdigit():
            return _twilio_error(400, 21211, "Invalid 'To' Phone Number")
        if not body:
            return _twilio_error(400, 21602, "Message body is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        with self._lock:
            fault = self._faults.popleft() if self._faults else _Fault()
        message = None
        if fault.create:
            message = self._store(form)
        if fault.status is not None:
            return _twilio_error(fault.status, fault.code, fault.message, fault.headers)
        wait = fault.hang_seconds or self.delay
        if wait:
            await asyncio.sleep(wait)
        assert message is not None
        return web.json_response(self._resource(message), status=201)

    def _store(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = _now_rfc2822()
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form["To"],
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "_status_callback": form.get("StatusCallback"),
        }
        with self._lock:
            self._messages[sid] = message
            self._order.append(sid)
        return message

    async def _fetch(self, request: web.Request) -> web.Response:
        self._record(request, {})
        if not self._authorised(request, request.match_info["account"]):
            return _twilio_error(401, 20003, "Authenticate")
        with self._lock:
            message = self._messages.get(request.match_info["sid"])
        if message is None:
            return _twilio_error(404, 20404, "The requested resource was not found")
        return web.json_response(self._resource(message))

    async def _list(self, request: web.Request) -> web.Response:
        self._record(request, {})
        if not self._authorised(request, request.match_info["account"]):
            return _twilio_error(401, 20003, "Authenticate")
        to = request.query.get("To")
        page_size = int(request.query.get("PageSize", "50"))
        with self._lock:
            found = [self._resource(self._messages[sid]) for sid in reversed(self._order)]
        if to:
            found = [m for m in found if m["to"] == to]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        return web.json_response(
            {
                "messages": found[:page_size],
                "end": min(len(found), page_size) - 1,
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            }
        )


def main() -> None:
    """``python -m tests.support.fake_twilio``: serve until stdin closes, for benchmarks that want
    the fake in its own process. The first line printed is JSON: url, account_sid, auth_token, sender."""
    import json
    import sys

    with FakeTwilio() as fake:
        print(
            json.dumps(
                {
                    "url": fake.url,
                    "account_sid": fake.account_sid,
                    "auth_token": fake.auth_token,
                    "sender": fake.sender,
                }
            ),
            flush=True,
        )
        sys.stdin.read()


if __name__ == "__main__":
    main()
