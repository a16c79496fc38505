"""Supervision use-cases: the live overview of the line, reading a conversation for a reason,
joining it as a second counsellor, and reassigning it. One short transaction each; events after
the commit. A supervisor's private word to a counsellor is a conversation note (ChatService)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from server.domain import permissions
from server.domain import supervision as rules
from server.domain.conversations import Conversation, Message, Note, Sender, check_capacity
from server.domain.errors import Conflict, NotFound
from server.domain.permissions import Action, Ownership
from server.domain.staff import StaffUser
from server.domain.supervision import AlertRules, LiveConversation, Overview
from server.services.chat import ChatService, get_conversation
from server.services.events import ConversationChanged, EventBus
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import UnitOfWork

JOINED, LEFT = "joined", "left"


@dataclass(frozen=True)
class SupervisionPolicy:
    alerts: AlertRules
    # Consoles in another process count as online when their session was used this recently.
    online_window: timedelta
    read_reasons: tuple[str, ...]
    # What the relative is told when a colleague joins or leaves, per language: {JOINED: ..., LEFT: ...}.
    notices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class SupervisionService:
    def __init__(
        self, uow: UnitOfWork, events: EventBus, clock: Clock, chat: ChatService, policy: SupervisionPolicy
    ) -> None:
        self.uow = uow
        self.events = events
        self.clock = clock
        self.chat = chat
        self.policy = policy

    @staticmethod
    def may_view(user: StaffUser) -> bool:
        return permissions.allowed(user.role, Action.SUPERVISION_VIEW, Ownership.NONE)

    async def overview(self, viewer: StaffUser | None = None) -> Overview:
        """Everything waiting and active, everyone who may hold conversations, and the alerts.
        ``viewer`` None: the push to the room only permitted sockets joined."""
        if viewer is not None:
            permissions.require(viewer.role, Action.SUPERVISION_VIEW, Ownership.NONE)
        now = self.clock()
        async with self.uow.read() as repos:
            live = await repos.chat.live()
            drafting = await repos.escalations.drafting_conversations()
            sent = await repos.escalations.awaiting_acknowledgement()
            users = await repos.staff.list_users()
            loads = await repos.chat.load_by_counsellor()
            last_active = await repos.staff.last_active()
        conversations = [
            LiveConversation(
                conversation, last_at, conversation.id in drafting, self.chat.is_away(conversation)
            )
            for conversation, last_at in live
        ]
        counsellors = rules.live_counsellors(
            [user for user in users if user.active and self.chat.may_hold(user)],
            loads,
            self.chat.policy.capacity,
            last_active,
            self.chat.online.user_ids(),
            now,
            self.policy.online_window,
        )
        return Overview(
            now, conversations, counsellors, rules.alerts(conversations, sent, now, self.policy.alerts)
        )

    async def read(
        self, conversation_id: str, reader: StaffUser, reason: str
    ) -> tuple[Conversation, list[Message], list[Note]]:
        """The transcript and notes of a waiting or active conversation, for a configured reason;
        the audit row names the reason."""
        rules.check_reason(reason, self.policy.read_reasons)
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit(reader, Action.SUPERVISION_READ, conversation)
            await repos.staff.audit(
                reader.id,
                Action.SUPERVISION_READ.value,
                "conversation",
                conversation_id,
                self.clock(),
                reason,
            )
            return (
                conversation,
                await repos.chat.messages_after(conversation_id, 0),
                await repos.chat.notes_for(conversation_id),
            )

    async def join(self, conversation_id: str, colleague: StaffUser) -> Conversation:
        """The colleague reads and writes along; the relative is told in their language."""
        joined, changed = await self._change(
            conversation_id, colleague, Action.SUPERVISION_JOIN, lambda c: rules.join(c, colleague.id)
        )
        if changed:
            await self._tell_relative(joined, JOINED, colleague.id)
        return joined

    async def leave(self, conversation_id: str, colleague: StaffUser) -> Conversation:
        left, _changed = await self._change(
            conversation_id, colleague, Action.SUPERVISION_JOIN, lambda c: rules.leave(c, colleague.id)
        )
        await self._tell_relative(left, LEFT, colleague.id)
        return left

    async def reassign(self, conversation_id: str, supervisor: StaffUser, to_user_id: int) -> Conversation:
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit(supervisor, Action.SUPERVISION_REASSIGN, conversation)
            target = await repos.staff.get_user(to_user_id)
            if target is None or not target.active or not self.chat.may_hold(target):
                raise NotFound("no such colleague")
            moved = rules.reassign(conversation, target.id)
            check_capacity(await repos.chat.count_held(target.id), self.chat.policy.capacity)
            if not await repos.chat.save_state(conversation, moved):
                raise Conflict("the conversation changed meanwhile", code="conflict")
            await repos.staff.audit(
                supervisor.id, Action.SUPERVISION_REASSIGN.value, "conversation", conversation_id, now
            )
        await self.events.publish(
            ConversationChanged(moved, previous_counsellor_id=conversation.counsellor_id)
        )
        return moved

    async def _change(
        self,
        conversation_id: str,
        actor: StaffUser,
        action: Action,
        change: rules.Change,
    ) -> tuple[Conversation, bool]:
        """Apply ``change``; returns the conversation and whether it changed."""
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit(actor, action, conversation)
            changed = change(conversation)
            if changed == conversation:
                return conversation, False
            if not await repos.chat.save_state(conversation, changed):
                raise Conflict("the conversation changed meanwhile", code="conflict")
            what = "supervision.join" if changed.colleague_id is not None else "supervision.leave"
            await repos.staff.audit(actor.id, what, "conversation", conversation_id, now)
        await self.events.publish(
            ConversationChanged(changed, previous_counsellor_id=conversation.colleague_id)
        )
        return changed, True

    async def _tell_relative(self, conversation: Conversation, notice: str, colleague_id: int) -> None:
        text = self.policy.notices.get(conversation.language, {}).get(notice)
        if text:
            await self.chat.post_message(
                conversation.id,
                f"supervision-{notice}-{colleague_id}-{uuid.uuid4()}",
                text,
                Sender.SYSTEM,
            )

    def _permit(self, user: StaffUser, action: Action, conversation: Conversation) -> None:
        self.chat.permit(user, action, conversation)
