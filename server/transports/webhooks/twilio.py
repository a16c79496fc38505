"""Twilio's webhooks: inbound texts (``/webhooks/twilio/sms``) and delivery reports
(``/webhooks/twilio/status``). Both refuse a request without a valid ``X-Twilio-Signature``,
computed over the public URL Twilio called (settings.public_url + path and query) and the form.
A replayed inbound text (same MessageSid) is answered and otherwise ignored."""

from __future__ import annotations

import logging

from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from server import app_keys
from server.domain.booking.phones import normalise_phone
from server.domain.errors import DomainError, Forbidden
from server.domain.text import ascii_integer

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


async def verified_form(request: web.Request) -> dict[str, str]:
    settings = request.app[app_keys.SETTINGS]
    token = settings.sms.twilio_auth_token
    signature = request.headers.get(SIGNATURE_HEADER, "")
    form = {key: str(value) for key, value in (await request.post()).items()}
    url = settings.public_url.rstrip("/") + request.path_qs
    if not token or not signature or not RequestValidator(token).validate(url, form, signature):
        log.warning("refused a Twilio webhook without a valid signature")
        raise Forbidden("the request signature is missing or wrong", code="bad_signature")
    return form


def twiml(reply: str | None) -> web.Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return web.Response(text=str(response), content_type="text/xml")


async def inbound_sms(request: web.Request) -> web.Response:
    form = await verified_form(request)
    message_id = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From", "")
    if not message_id or not sender:
        return twiml(None)
    booking = request.app[app_keys.BOOKING]
    if not await booking.first_delivery(message_id):
        log.info("ignored a replayed inbound text")
        return twiml(None)
    try:
        e164 = normalise_phone(sender, booking.policy.phone_region)
    except DomainError:
        return twiml(None)
    reply = await request.app[app_keys.SMS_BOT].handle(e164, form.get("Body", ""))
    return twiml(reply)


async def delivery_status(request: web.Request) -> web.Response:
    form = await verified_form(request)
    provider_id = form.get("MessageSid") or form.get("SmsSid") or ""
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    reference = request.query.get("text", "")
    text_id = ascii_integer(reference)
    if provider_id and status:
        await request.app[app_keys.TEXTS].on_report(
            provider_id, status, form.get("ErrorCode") or None, text_id
        )
    return web.Response(status=204)


def add_twilio_webhooks(app: web.Application) -> None:
    app.router.add_post("/webhooks/twilio/sms", inbound_sms)
    app.router.add_post("/webhooks/twilio/status", delivery_status)
