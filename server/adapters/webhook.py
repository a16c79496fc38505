"""Signed outgoing webhooks. The body is JSON; ``X-Kinline-Signature: t=<unix time>,v1=<hex>`` carries
HMAC-SHA256 over ``"<t>.<body>"`` under the route's secret, so the receiver can check both who
sent it and that it is fresh. The aiohttp client lives in a cleanup_ctx and is closed with it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import aiohttp

from server.services.ports.sms import SmsOutcome

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Kinline-Signature"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now: float, tolerance: timedelta) -> bool:
    """For receivers (and tests): the signature matches and the timestamp is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(self, url: str, secret: bytes, payload: Mapping[str, Any]) -> str:
        """accepted on 2xx, failed on another 4xx answer, unknown when the receiver may or may not
        have acted (timeout, connection lost, 5xx)."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        }
        try:
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("webhook delivery outcome unknown: %s", type(error).__name__)
            return SmsOutcome.UNKNOWN
        if 200 <= status < 300:
            return SmsOutcome.ACCEPTED
        if status >= 500 or status == 429:
            return SmsOutcome.UNKNOWN
        return SmsOutcome.FAILED


def new_session(timeout: timedelta) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout.total_seconds()))
