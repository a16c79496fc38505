"""The end-of-chat survey: "Did this help you?" yes, partly, no, or skipped. The answer goes into
the conversation's contact record only, once; then the conversation forgets its record's key."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain.conversations import State
from server.domain.errors import Conflict, NotAuthenticated
from server.domain.statistics.records import parse_survey
from server.domain.tokens import secret_hash
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import Transactions


@dataclass(frozen=True)
class SurveyService:
    uow: Transactions
    clock: Clock

    async def answer(self, token: str, answer: str) -> None:
        survey = parse_survey(answer)
        async with self.uow.write() as repos:
            conversation = await repos.chat.conversation_for_token(secret_hash(token), self.clock())
            if conversation is None:
                raise NotAuthenticated("the token is unknown or expired", code="invalid_token")
            if conversation.state is not State.CLOSED:
                raise Conflict("the conversation has not ended", code="conversation_open")
            key = await repos.records.linked(conversation.id)
            if key is None or not await repos.records.answer_survey(key, survey):
                raise Conflict("this conversation's survey is already answered", code="survey_answered")
            await repos.records.link(conversation.id, None)
