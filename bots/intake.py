"""The intake bot: greets in the relative's language (the greeting is stored with the new
conversation), explains anonymity and its limits, keeps waiting relatives informed, and on words
of imminent danger gives the emergency number and raises the conversation's priority. It never
does anything beyond that on its own."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from server.config.i18n import Catalogs
from server.domain.conversations import Sender
from server.domain.risk import DANGER_REASON, signals_danger
from server.services.chat import ChatService
from server.services.events import Event, MessagePosted
from server.services.knowledge import KnowledgeService

log = logging.getLogger(__name__)


GREETING_KEYS = ("bot.greeting", "bot.anonymity")


def greetings(
    catalogs: Catalogs, languages: Iterable[str], emergency_number: str
) -> dict[str, tuple[str, ...]]:
    """The bot's first words in each language: a greeting, then what stays anonymous and when it
    ends. ChatService stores them with the conversation, so they are there before anyone connects."""
    return {
        language: tuple(
            catalogs.text(language, key, emergency_number=emergency_number) for key in GREETING_KEYS
        )
        for language in languages
    }


class IntakeBot:
    def __init__(
        self,
        chat: ChatService,
        catalogs: Catalogs,
        knowledge: KnowledgeService,
        emergency_number: str,
        waiting_update_every: timedelta,
    ) -> None:
        self.chat = chat
        self.catalogs = catalogs
        self.knowledge = knowledge
        self.emergency_number = emergency_number
        self.waiting_update_every = waiting_update_every

    async def on_event(self, event: Event) -> None:
        if isinstance(event, MessagePosted) and event.message.sender is Sender.RELATIVE:
            await self.check_danger(event.conversation.id, event.conversation.language, event.message.text)

    async def check_danger(self, conversation_id: str, language: str, text: str) -> None:
        if not signals_danger(text, await self.knowledge.danger_pattern(language)):
            return
        if await self.chat.raise_priority(conversation_id, DANGER_REASON) is None:
            return
        log.info("danger words raised the priority of a conversation")
        await self.chat.post_bot_message(
            conversation_id,
            self.catalogs.text(language, "bot.danger", emergency_number=self.emergency_number),
        )

    async def send_waiting_updates(self) -> int:
        due = await self.chat.claim_due_waiting_updates(self.waiting_update_every)
        for conversation, position in due:
            await self.chat.post_bot_message(
                conversation.id,
                self.catalogs.text(conversation.language, "bot.waiting", position=position),
            )
        return len(due)
