"""Replies to texts. The cancel word (AVBOKA, CANCEL, or the word in any supported language)
cancels the sender's next appointment; STOP or STOPP opts the number out for good; anything
else gets a short help text. The answer is the reply text, or None for no reply.

After STOP the number gets nothing at all, not even help. The provider itself confirms the
opt-out words it knows (STOP, UNSUBSCRIBE, ...); only for STOPP does Kinline confirm it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from server.domain.reminders import PROVIDER_STOP_WORDS, Command, classify, normalise_word
from server.i18n import Catalogs
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
        command = classify(text, self.cancel_words)
        if command is Command.STOP:
            await self.booking.opt_out(sender_e164)
            log.info("a number opted out of texts")
            if normalise_word(text) in PROVIDER_STOP_WORDS:
                return None
            return await self._text(sender_e164, "sms.stopped")
        opted_out = await self.booking.is_opted_out(sender_e164)
        if command is Command.CANCEL:
            cancelled = await self.booking.cancel_by_phone(sender_e164)
            if cancelled is not None:
                log.info("an appointment was cancelled by a reply")
                return None
            return None if opted_out else await self._text(sender_e164, "sms.nothing_to_cancel")
        return None if opted_out else await self._text(sender_e164, "sms.help")

    async def _text(self, sender_e164: str, key: str) -> str:
        language = await self.booking.language_for_phone(sender_e164) or DEFAULT_LANGUAGE
        return self.catalogs.text(language, key, cancel_word=self.catalogs.text(language, "sms.cancel_word"))
