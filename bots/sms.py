"""Replies to texts. The cancel word (AVBOKA, CANCEL, or the word in any supported language)
cancels the sender's next appointment; an opt-out word (Twilio's STOP, UNSUBSCRIBE, END, QUIT,
STOPALL, REVOKE, OPTOUT, CANCEL, and Kinline's STOPP) opts the number out and withdraws its pending
texts; an opt-in word alone (START, UNSTOP, YES) lifts the opt-out, as Twilio lifts its block;
anything else gets a short help text. The answer is the reply text, or None for no reply.

CANCEL alone does both: Twilio blocks the number on it, so Kinline records the opt-out first and
the cancellation text is not attempted. An opted-out number gets nothing, not even help. Twilio
answers its own words itself; Kinline answers only STOPP (and an opt-out word Twilio ignored,
such as "STOP please")."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from server.config.i18n import Catalogs
from server.domain.reminders import normalise_word, read_reply
from server.services.booking import BookingService

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "sv"
ALWAYS_CANCEL_WORDS = frozenset({"avboka", "cancel"})


def cancel_words(catalogs: Catalogs, languages: Iterable[str]) -> frozenset[str]:
    words = {normalise_word(catalogs.text(language, "sms.cancel_word")) for language in languages}
    return frozenset(words | ALWAYS_CANCEL_WORDS) - {""}


class SmsBot:
    def __init__(self, booking: BookingService, catalogs: Catalogs, languages: Iterable[str]) -> None:
        self.booking = booking
        self.catalogs = catalogs
        self.cancel_words = cancel_words(catalogs, languages)

    async def handle(self, sender_e164: str, text: str) -> str | None:
        reply = read_reply(text, self.cancel_words)
        if reply.opts_in:
            await self.booking.opt_in(sender_e164)
            log.info("a number opted back in to texts")
            return None
        if reply.opts_out:
            await self.booking.opt_out(sender_e164)
            log.info("a number opted out of texts")
            if reply.cancels and await self.booking.cancel_by_phone(sender_e164) is not None:
                log.info("an appointment was cancelled by a reply")
            return None if reply.answered_by_provider else await self._text(sender_e164, "sms.stopped")
        opted_out = await self.booking.is_opted_out(sender_e164)
        if reply.cancels:
            cancelled = await self.booking.cancel_by_phone(sender_e164)
            if cancelled is not None:
                log.info("an appointment was cancelled by a reply")
                return None
            return None if opted_out else await self._text(sender_e164, "sms.nothing_to_cancel")
        return None if opted_out else await self._text(sender_e164, "sms.help")

    async def _text(self, sender_e164: str, key: str) -> str:
        language = await self.booking.language_for_phone(sender_e164) or DEFAULT_LANGUAGE
        return self.catalogs.text(language, key, cancel_word=self.catalogs.text(language, "sms.cancel_word"))
