"""Chat use-cases: one short transaction each; events go out only after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property

from cachetools import LRUCache

from server.domain import conversations as rules
from server.domain import permissions
from server.domain.conversations import Conversation, LanguageChoice, Message, Note, Sender, State
from server.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)
from server.domain.hours import OpeningHours
from server.domain.knowledge import Item, ResourceCard, card_for
from server.domain.permissions import Action, Ownership
from server.domain.staff import CHAT_ROLES, StaffUser
from server.domain.text import check_client_id
from server.domain.tokens import new_resume_code, new_token, normalise_resume_code, secret_hash
from server.services.addresses import AddressBook
from server.services.contact_records import ContactRecorder
from server.services.events import (
    AwayChanged,
    ConversationChanged,
    ConversationStarted,
    EventBus,
    MessagePosted,
    NoteAdded,
    ReadMarked,
    RelativeAccessEnded,
    Typing,
)
from server.services.ports.chat import AppendRequest, CounsellorsOnline, NewConversation, NobodyOnline
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import Repositories, UnitOfWork

# Which conversation a relative's token opens, remembered so a reconnecting socket can join its
# room before the read that also checks the token; bounded, and only ever a hint.
TOKEN_HINTS_KEPT = 20_000


@dataclass(frozen=True)
class ChatPolicy:
    hours: OpeningHours
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    outcomes: tuple[str, ...]
    capacity: int
    max_text_length: int
    token_lifetime: timedelta
    default_wait: timedelta
    online_window: timedelta
    greetings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    wait_basis_max_age: timedelta = timedelta(seconds=5)
    # Waiting conversations one client address may hold; 0 means no limit.
    waiting_per_address: int = 0
    abandon_after: timedelta = timedelta(minutes=15)
    away_after: timedelta = timedelta(seconds=60)
    auto_close_after: timedelta = timedelta(hours=24)
    records: ContactRecorder = field(default_factory=ContactRecorder)


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    token: str
    resume_code: str


@dataclass(frozen=True)
class RelativeStatus:
    state: State
    queue_position: int | None
    estimated_wait_seconds: int | None
    # While waiting: the conversation's language, whether a counsellor who speaks it has a console
    # open, and the relative's choice.
    language: str | None = None
    language_online: bool | None = None
    language_choice: LanguageChoice | None = None
    # While waiting: the view the position is counted in (rules.Place.line).
    line: frozenset[str] | None = None
    # Once closed: why, when the relative is told a reason (rules.relative_closed_reason).
    closed_reason: str | None = None


@dataclass(frozen=True)
class RelativeConnection:
    """A relative's socket as it opens: the conversation, its status and what it has missed."""

    conversation: Conversation
    status: RelativeStatus
    missed: list[Message]


@dataclass(frozen=True)
class WaitBasis:
    recent_waits: list[float]
    counsellors_online: int


@dataclass(frozen=True)
class StaffLoad:
    user: StaffUser
    load: int


@dataclass(frozen=True)
class QueueView:
    """The queue as counsellors who speak ``languages`` see it (rules.queue_view)."""

    languages: frozenset[str]
    user_ids: list[int]
    conversations: list[Conversation]


async def get_conversation(repos: Repositories, conversation_id: str) -> Conversation:
    """The conversation, or NotFound."""
    conversation = await repos.chat.get(conversation_id)
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


@dataclass(frozen=True)
class QueueSnapshot:
    """The queue at one moment, for a round: each waiting relative's status is made only when it
    is to be sent, since most pages work out their place themselves."""

    waiting: list[Conversation]
    places: dict[str, rules.Place]
    per_position: float
    online: list[frozenset[str]]

    def status(self, conversation: Conversation) -> RelativeStatus:
        """What the waiting relative is told: the position and its view, the wait it suggests,
        whether someone who speaks their language is online, and their choice."""
        return _waiting_status(conversation, self.places[conversation.id], self.per_position, self.online)

    @cached_property
    def _online_languages(self) -> frozenset[str]:
        return frozenset().union(*self.online)

    def extras(self, conversation: Conversation) -> tuple[object, ...]:
        """What a page that derives its position cannot derive (its status's extras; the same
        language_online as rules.language_online, asked of every waiting page each round)."""
        return (
            conversation.language,
            conversation.language in self._online_languages,
            conversation.language_choice,
        )


def _waiting_status(
    conversation: Conversation, place: rules.Place, per_position: float, online: Collection[frozenset[str]]
) -> RelativeStatus:
    return RelativeStatus(
        State.WAITING,
        place.position,
        rules.estimate_wait_seconds(place.position, per_position),
        conversation.language,
        rules.language_online(conversation, online),
        conversation.language_choice,
        place.line,
    )


class ChatService:
    def __init__(
        self,
        uow: UnitOfWork,
        events: EventBus,
        clock: Clock,
        policy: ChatPolicy,
        online: CounsellorsOnline | None = None,
    ) -> None:
        self.uow = uow
        self.events = events
        self.clock = clock
        self.policy = policy
        self.online = online or NobodyOnline()
        self._wait_basis_cache: tuple[datetime, WaitBasis] | None = None
        self._token_conversations: LRUCache[str, str] = LRUCache(maxsize=TOKEN_HINTS_KEPT)
        self.addresses = AddressBook()
        self._away: frozenset[str] = frozenset()

    # relatives

    async def start_conversation(
        self, language: str, topic: str | None, address_key: str | None = None
    ) -> StartedConversation:
        """``address_key`` is an opaque keyed hash of the client's address (never the address):
        it caps the waiting conversations one address may hold, and its danger-word priority."""
        now = self.clock()
        if not self.policy.hours.is_open(now):
            raise Unavailable("the line is closed now")
        if language not in self.policy.languages:
            raise InvalidInput(f"language must be one of {list(self.policy.languages)}")
        topic = topic or rules.DEFAULT_TOPIC
        if topic not in self.policy.topics:
            raise InvalidInput(f"topic must be one of {list(self.policy.topics)}")
        conversation = Conversation(
            id=str(uuid.uuid4()),
            language=language,
            topic=topic,
            state=State.WAITING,
            created_at=now,
            relative_gone_since=now,
        )
        if address_key is not None:
            await self._reserve_waiting_place(address_key, conversation.id)
        token, resume_code = new_token(), new_resume_code()
        try:
            await self.uow.start_conversation(
                NewConversation(
                    conversation,
                    resume_hash=secret_hash(resume_code),
                    token_hash=secret_hash(token),
                    token_expires_at=now + self.policy.token_lifetime,
                    opening_texts=self.policy.greetings.get(language, ()),
                )
            )
        except BaseException:
            self.addresses.forget(conversation.id)
            raise
        await self.events.publish(ConversationStarted(conversation))
        return StartedConversation(conversation, token, resume_code)

    async def _reserve_waiting_place(self, address_key: str, conversation_id: str) -> None:
        """Count the address's conversations that still wait (the database says which) and take
        a place for the new one, or refuse. No await between the count and the taking. The
        address is remembered even without a limit: danger-word priority needs it."""
        limit = self.policy.waiting_per_address
        known = self.addresses.waiting_of(address_key)
        if 0 < limit <= len(known):
            async with self.uow.read() as repos:
                still = await repos.chat.waiting_among(known)
            for gone in known - still:
                self.addresses.forget(gone)
        if 0 < limit <= len(self.addresses.waiting_of(address_key)):
            raise RateLimited(
                f"this address already has {limit} conversations waiting", code="too_many_waiting"
            )
        self.addresses.add(address_key, conversation_id)

    async def resume(self, resume_code: str) -> tuple[Conversation, str]:
        now = self.clock()
        token = new_token()
        async with self.uow.write() as repos:
            conversation = await repos.chat.find_by_resume_hash(
                secret_hash(normalise_resume_code(resume_code))
            )
            if conversation is None:
                raise NotFound("no conversation has this resume code")
            await repos.records.mark_came_back(conversation.id)
            await repos.chat.add_token(
                secret_hash(token), conversation.id, now, now + self.policy.token_lifetime
            )
        return conversation, token

    async def open_relative(
        self,
        token: str,
        after_seq: int,
        subscribe: Callable[[str], Awaitable[None]],
        with_position: bool = True,
    ) -> RelativeConnection:
        """Everything a relative's connection starts with. ``subscribe(conversation_id)`` starts
        live delivery; it runs before the missed messages are read, so a message posted in between
        cannot fall through the gap (it may come twice; clients keep one per seq)."""
        token_hash = secret_hash(token)
        after_seq = max(after_seq, 0)
        conversation_id = self._token_conversations.get(token_hash)
        if conversation_id is None:
            first_look = await self.uow.relative_view(token_hash, self.clock(), after_seq)
            if first_look is None:
                raise NotAuthenticated("the token is unknown or expired", code="invalid_token")
            conversation_id = first_look.conversation.id
            self._token_conversations[token_hash] = conversation_id
        await subscribe(conversation_id)
        view = await self.uow.relative_view(token_hash, self.clock(), after_seq)
        if view is None or view.conversation.id != conversation_id:
            raise NotAuthenticated("the token is unknown or expired", code="invalid_token")
        status = await self._status(view.conversation, with_position)
        return RelativeConnection(view.conversation, status, view.messages)

    async def authenticate_relative(self, token: str) -> Conversation:
        async with self.uow.read() as repos:
            conversation = await repos.chat.conversation_for_token(secret_hash(token), self.clock())
        if conversation is None:
            raise NotAuthenticated("the token is unknown or expired", code="invalid_token")
        return conversation

    async def status_of(self, conversation_id: str) -> RelativeStatus:
        async with self.uow.read() as repos:
            conversation = await get_conversation(repos, conversation_id)
        return await self._status(conversation)

    async def _status(self, conversation: Conversation, with_position: bool = True) -> RelativeStatus:
        """``with_position`` False: a waiting conversation's status without its position (a page
        that derives it from the queue broadcast gets it labelled with a round), which spares
        reading the whole queue for every connect."""
        if conversation.state is not State.WAITING:
            return RelativeStatus(
                conversation.state, None, None, closed_reason=rules.relative_closed_reason(conversation)
            )
        online = self.online.language_sets()
        if not with_position:
            return RelativeStatus(
                State.WAITING,
                None,
                None,
                conversation.language,
                rules.language_online(conversation, online),
                conversation.language_choice,
            )
        waiting = await self.uow.waiting()
        if all(c.id != conversation.id for c in waiting):
            waiting.append(conversation)
        per_position = self.wait_per_position(await self.wait_basis())
        online = self.online.language_sets()
        return _waiting_status(
            conversation, rules.queue_place(conversation, waiting, online), per_position, online
        )

    def queue_positions(self, waiting: list[Conversation]) -> dict[str, int]:
        return rules.queue_positions(waiting, self.online.language_sets())

    def queue_snapshot(self, waiting: list[Conversation], basis: WaitBasis) -> QueueSnapshot:
        """Every waiting conversation's place (rules.queue_places) and what its status is made of."""
        online = self.online.language_sets()
        return QueueSnapshot(
            waiting, rules.queue_places(waiting, online), self.wait_per_position(basis), online
        )

    def wait_per_position(self, basis: WaitBasis) -> float:
        return rules.wait_per_position(
            basis.recent_waits, self.policy.default_wait.total_seconds(), basis.counsellors_online
        )

    async def waiting_with_estimates(self) -> tuple[list[Conversation], WaitBasis]:
        return await self.uow.waiting(), await self.wait_basis()

    async def wait_basis(self) -> WaitBasis:
        """The basis of wait estimates, read at most every ``wait_basis_max_age``: an estimate
        a few seconds old is as good, and a storm of reconnects should not read it each time."""
        cached = self._wait_basis_cache
        if cached is not None and self.clock() - cached[0] < self.policy.wait_basis_max_age:
            return cached[1]
        async with self.uow.read() as repos:
            return await self._read_wait_basis(repos)

    async def _read_wait_basis(self, repos: Repositories) -> WaitBasis:
        """Recent waits, and how many chat staff have been active within the session idle time."""
        now = self.clock()
        online = await repos.staff.count_active(CHAT_ROLES, now - self.policy.online_window)
        basis = WaitBasis(await repos.chat.recent_waits(), online)
        self._wait_basis_cache = (now, basis)
        return basis

    async def leave(self, conversation_id: str) -> None:
        """The relative ends the conversation and their own access to it: an open conversation
        closes at once (its counsellor is told as for any close); every token of it stops working,
        the resume code too (its hash is replaced by one of a secret nobody holds), and the
        relative's open sockets are disconnected. An escalation's status stays readable with the
        code it was made under, and a booking with its own manage code."""
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            closed = None
            if conversation.state is not State.CLOSED:
                closed = rules.close(conversation, rules.LEFT_BY_RELATIVE, now)
                if not await repos.chat.save_state(conversation, closed):
                    raise Conflict("the conversation changed meanwhile", code="conflict")
                await self.policy.records.conversation_ended(repos, closed)
            await repos.chat.end_relative_access(conversation_id, secret_hash(new_token()))
        self.addresses.forget(conversation_id)
        if closed is not None:
            await self.events.publish(
                ConversationChanged(closed, previous_counsellor_id=conversation.counsellor_id)
            )
        await self.events.publish(RelativeAccessEnded(conversation_id))

    async def leave_with_token(self, token: str) -> None:
        """Leave by token, for a page that is going away (quick exit) and has no socket to wait on."""
        await self.leave((await self.authenticate_relative(token)).id)

    # presence

    async def record_presence(self, present: Collection[str], gone: Mapping[str, datetime]) -> None:
        """What one process saw of its relatives' sockets, in one write: ``present`` have a socket
        there now (a disconnect in another process may have marked them gone); ``gone`` lost their
        last socket there at the given time. Batched so a reconnect storm, or a shutdown that
        drops every socket, costs one transaction, and a quick reconnect none."""
        if not present and not gone:
            return
        async with self.uow.write() as repos:
            if present:
                await repos.chat.mark_present(present)
            if gone:
                await repos.chat.mark_gone(gone)

    async def sweep_presence(
        self, present: Collection[str], gone: Mapping[str, datetime] | None = None
    ) -> int:
        """Run by every process: record presence, then close as abandoned the waiting
        conversations whose relative has been gone ``abandon_after``, and announce when the
        away ones changed (read from the stored presence, so every process sees the same).
        Returns how many closed."""
        await self.record_presence(present, gone or {})
        now = self.clock()
        cutoff = now - self.policy.abandon_after
        async with self.uow.read() as repos:
            due = await repos.chat.gone_waiting(cutoff)
        abandoned = 0
        for conversation in due:
            closed = rules.close(conversation, rules.ABANDONED, now)
            async with self.uow.write() as repos:
                done = await repos.chat.close_abandoned(conversation, closed, cutoff)
                if done:
                    await self.policy.records.conversation_ended(repos, closed)
            if done:
                abandoned += 1
                await self.events.publish(ConversationChanged(closed))
        waiting = await self.uow.waiting()
        self.addresses.keep_only({c.id for c in waiting})
        away = frozenset(c.id for c in waiting if self.is_away(c))
        if away != self._away:
            self._away = away
            await self.events.publish(AwayChanged(away))
        return abandoned

    async def close_inactive(self) -> int:
        """Close as inactive every open conversation that has not moved for ``auto_close_after``
        (no message of the relative or a counsellor), so that retention reaches it too. Each close
        is one conditional write: with several processes sweeping, a conversation closes once, and
        a message or claim that comes first keeps it open. Returns how many closed."""
        now = self.clock()
        async with self.uow.read() as repos:
            due = await repos.chat.inactive_open(now - self.policy.auto_close_after)
        closed_count = 0
        for conversation in due:
            closed = rules.close(conversation, rules.INACTIVE, now)
            async with self.uow.write() as repos:
                done = await repos.chat.close_inactive(conversation, closed)
                if done:
                    await self.policy.records.conversation_ended(repos, closed)
            if done:
                closed_count += 1
                self.addresses.forget(conversation.id)
                await self.events.publish(
                    ConversationChanged(closed, previous_counsellor_id=conversation.counsellor_id)
                )
        return closed_count

    def is_away(self, conversation: Conversation) -> bool:
        return rules.is_away(conversation, self.clock(), self.policy.away_after)

    async def choose_language(self, conversation_id: str, choice: LanguageChoice) -> RelativeStatus:
        """The relative waits for a counsellor who speaks their language, or takes the next one."""
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            chosen = rules.choose_language(conversation, choice)
            if chosen != conversation and not await repos.chat.save_state(conversation, chosen):
                raise Conflict("the conversation changed meanwhile", code="conflict")
        if chosen != conversation:
            await self.events.publish(ConversationChanged(chosen))
        return await self._status(chosen)

    # messages

    async def post_message(
        self,
        conversation_id: str,
        client_id: str,
        text: str,
        sender: Sender,
        author: StaffUser | None = None,
        card: ResourceCard | None = None,
    ) -> Message:
        """Store once per client_id; a repeat returns the stored message and announces it again:
        the process that stored it may have died between its commit and its announcement, and a
        sender resends what was not acked (receivers keep one message per seq). The client's
        client_id is a UUID; the server's own senders (bot, system) name theirs."""
        if sender in (Sender.RELATIVE, Sender.COUNSELLOR):
            check_client_id(client_id)
        text = rules.check_text(text, self.policy.max_text_length)
        now = self.clock()

        def check(conversation: Conversation) -> None:
            rules.require_open(conversation)
            if author is not None:
                self.permit(author, Action.CONVERSATION_SEND, conversation)

        appended = await self.uow.append_message(
            AppendRequest(
                conversation_id, client_id, sender, text, now, author.id if author else None, check, card
            )
        )
        if appended is None:  # the same client_id won a race in another transaction
            async with self.uow.read() as repos:
                stored = await repos.chat.message_by_client_id(conversation_id, client_id)
            if stored is None:
                raise NotFound("message vanished")
            return stored
        conversation, message = appended
        if conversation is not None:
            await self.events.publish(MessagePosted(replace(conversation, last_seq=message.seq), message))
        else:
            async with self.uow.read() as repos:
                current = await repos.chat.get(conversation_id)
            if current is not None:
                await self.events.publish(MessagePosted(current, message, repeat=True))
        return message

    async def send_resource(
        self, conversation_id: str, client_id: str, resource: Item, author: StaffUser
    ) -> Message:
        """A resource as a card in the conversation's language (or its fallback), with its plain
        version as the text; otherwise exactly a counsellor's message (send_message)."""
        async with self.uow.read() as repos:
            conversation = await get_conversation(repos, conversation_id)
        card = card_for(resource, conversation.language)
        return await self.post_message(
            conversation_id, client_id, card.plain(), Sender.COUNSELLOR, author=author, card=card
        )

    async def post_bot_message(self, conversation_id: str, text: str) -> Message | None:
        """The bot speaks only into open conversations; returns None when it is closed."""
        async with self.uow.read() as repos:
            conversation = await get_conversation(repos, conversation_id)
        if conversation.state is State.CLOSED:
            return None
        return await self.post_message(conversation_id, f"bot-{uuid.uuid4()}", text, Sender.BOT)

    async def history(self, conversation_id: str, after_seq: int) -> list[Message]:
        async with self.uow.read() as repos:
            return await repos.chat.messages_after(conversation_id, max(after_seq, 0))

    async def staff_history(self, conversation_id: str, after_seq: int, reader: StaffUser) -> list[Message]:
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit_read(reader, conversation)
            await repos.staff.audit(
                reader.id, "conversation.read", "conversation", conversation_id, self.clock()
            )
            return await repos.chat.messages_after(conversation_id, max(after_seq, 0))

    async def relative_typing(self, conversation_id: str) -> None:
        async with self.uow.read() as repos:
            conversation = await get_conversation(repos, conversation_id)
        rules.require_open(conversation)
        if conversation.state is State.ACTIVE:
            await self.events.publish(Typing(conversation, by_relative=True))

    async def counsellor_typing(self, conversation_id: str, counsellor: StaffUser) -> None:
        async with self.uow.read() as repos:
            conversation = await get_conversation(repos, conversation_id)
        self.permit(counsellor, Action.CONVERSATION_SEND, conversation)
        await self.events.publish(Typing(conversation, by_relative=False))

    async def mark_read(self, conversation_id: str, counsellor: StaffUser, seq: int) -> int:
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self.permit(counsellor, Action.CONVERSATION_SEND, conversation)
            stored = await repos.chat.mark_read(conversation_id, seq)
        await self.events.publish(ReadMarked(conversation, stored))
        return stored

    # counsellors

    async def claim(self, conversation_id: str, counsellor: StaffUser) -> Conversation:
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self.permit(counsellor, Action.CONVERSATION_CLAIM, conversation)
            claimed = rules.claim(conversation, counsellor.id, now)
            changed = claimed is not conversation
            if changed:
                rules.check_capacity(await repos.chat.count_held(counsellor.id), self.policy.capacity)
                if not await repos.chat.save_state(conversation, claimed):
                    raise Conflict("another counsellor has claimed this conversation", code="already_claimed")
            await repos.staff.audit(counsellor.id, "conversation.claim", "conversation", conversation_id, now)
        if changed:
            self.addresses.forget(conversation_id)
            await self.events.publish(ConversationChanged(claimed))
        return claimed

    async def transfer(self, conversation_id: str, counsellor: StaffUser, to_user_id: int) -> Conversation:
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self.permit(counsellor, Action.CONVERSATION_TRANSFER, conversation)
            target = await repos.staff.get_user(to_user_id)
            if target is None or not target.active or not self.may_hold(target):
                raise NotFound("no such colleague")
            moved = rules.transfer(conversation, counsellor.id, target.id)
            rules.check_capacity(await repos.chat.count_held(target.id), self.policy.capacity)
            if not await repos.chat.save_state(conversation, moved):
                raise Conflict("the conversation changed meanwhile", code="conflict")
            await repos.staff.audit(
                counsellor.id, "conversation.transfer", "conversation", conversation_id, now
            )
        await self.events.publish(ConversationChanged(moved, previous_counsellor_id=counsellor.id))
        return moved

    async def close(
        self,
        conversation_id: str,
        actor: StaffUser,
        outcome: str,
        perspective: str | None = None,
        milieu: str | None = None,
    ) -> Conversation:
        """``perspective``: the strategy's perspective the counsellor confirms (default: the
        topic's); ``milieu``: an optional milieu tag. Both go into the contact record only."""
        rules.check_outcome(outcome, list(self.policy.outcomes))
        self.policy.records.check_close(perspective, milieu)
        return await self._close(conversation_id, outcome, actor, perspective, milieu)

    async def _close(
        self,
        conversation_id: str,
        outcome: str,
        actor: StaffUser | None,
        perspective: str | None = None,
        milieu: str | None = None,
    ) -> Conversation:
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            if actor is not None:
                self.permit(actor, Action.CONVERSATION_CLOSE, conversation)
            closed = rules.close(conversation, outcome, now)
            if not await repos.chat.save_state(conversation, closed):
                raise Conflict("the conversation changed meanwhile", code="conflict")
            await self.policy.records.conversation_ended(repos, closed, perspective, milieu)
            if actor is not None:
                await repos.staff.audit(actor.id, "conversation.close", "conversation", conversation_id, now)
        self.addresses.forget(conversation_id)
        await self.events.publish(
            ConversationChanged(closed, previous_counsellor_id=conversation.counsellor_id)
        )
        return closed

    async def raise_priority(self, conversation_id: str, reason: str) -> Conversation | None:
        """Mark a conversation urgent once; returns None if it already was, or is closed.
        One client address holds raised priority with one waiting conversation at a time: the
        others from that address are flagged with the reason but keep their place, so a flood of
        danger words cannot jump the queue."""
        key = self.addresses.key_of(conversation_id)
        took = False
        if key is not None:
            holder = self.addresses.priority_holder(key)
            if holder is not None and holder != conversation_id and not await self._waits_raised(holder):
                self.addresses.release_priority(key, holder)
            if self.addresses.priority_holder(key) is None:
                self.addresses.hold_priority(key, conversation_id)
                took = True
        shared = key is not None and self.addresses.priority_holder(key) != conversation_id
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            raised = rules.mark_danger(conversation, reason, keeps_place=shared)
            if raised is not None and not await repos.chat.save_state(conversation, raised):
                raised = None
        if raised is None:
            if took and key is not None:
                self.addresses.release_priority(key, conversation_id)
            return None
        await self.events.publish(ConversationChanged(raised))
        return raised

    async def _waits_raised(self, conversation_id: str) -> bool:
        async with self.uow.read() as repos:
            conversation = await repos.chat.get(conversation_id)
        return (
            conversation is not None
            and conversation.state is State.WAITING
            and conversation.priority >= rules.DANGER_PRIORITY
        )

    async def add_note(self, conversation_id: str, author: StaffUser, text: str) -> Note:
        text = rules.check_text(text, self.policy.max_text_length)
        now = self.clock()
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self.permit(author, Action.CONVERSATION_NOTE, conversation)
            note_id = await repos.chat.add_note(conversation_id, author.id, text, now)
            await repos.staff.audit(author.id, "note.add", "conversation", conversation_id, now)
        note = Note(note_id, conversation_id, author.display_name, text, now)
        await self.events.publish(NoteAdded(conversation, note))
        return note

    async def notes(self, conversation_id: str, reader: StaffUser) -> list[Note]:
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit_read(reader, conversation)
            await repos.staff.audit(reader.id, "note.read", "conversation", conversation_id, self.clock())
            return await repos.chat.notes_for(conversation_id)

    async def held_by(self, counsellor_id: int) -> list[tuple[Conversation, int]]:
        async with self.uow.read() as repos:
            return await repos.chat.held_by(counsellor_id)

    async def queue(self) -> list[Conversation]:
        return await self.uow.waiting()

    async def queue_for(self, languages: list[str]) -> list[Conversation]:
        """The queue as a counsellor who speaks ``languages`` sees it."""
        return rules.queue_view(await self.uow.waiting(), frozenset(languages))

    async def queue_views(self, waiting: list[Conversation]) -> list[QueueView]:
        """The queue for every active chat staff member, one view per set of languages spoken.
        Languages are read from the staff rows, so a change to them shows in the next push."""
        async with self.uow.read() as repos:
            users = await repos.staff.list_users()
        audiences: dict[frozenset[str], list[int]] = {}
        for user in users:
            if user.active and user.role in CHAT_ROLES:
                audiences.setdefault(frozenset(user.languages), []).append(user.id)
        return [
            QueueView(languages, user_ids, rules.queue_view(waiting, languages))
            for languages, user_ids in audiences.items()
        ]

    async def staff_loads(self) -> list[StaffLoad]:
        async with self.uow.read() as repos:
            users = await repos.staff.list_users()
            loads = await repos.chat.load_by_counsellor()
        return [
            StaffLoad(user, loads.get(user.id, 0)) for user in users if user.active and self.may_hold(user)
        ]

    async def closed_conversations(self, reader: StaffUser, limit: int) -> list[Conversation]:
        self.permit_console(reader)
        async with self.uow.read() as repos:
            return await repos.chat.closed(min(max(limit, 1), 500))

    async def conversation_detail(
        self, conversation_id: str, reader: StaffUser
    ) -> tuple[Conversation, list[Message], list[Note]]:
        async with self.uow.write() as repos:
            conversation = await get_conversation(repos, conversation_id)
            self._permit_read(reader, conversation)
            await repos.staff.audit(
                reader.id, "conversation.read", "conversation", conversation_id, self.clock()
            )
            return (
                conversation,
                await repos.chat.messages_after(conversation_id, 0),
                await repos.chat.notes_for(conversation_id),
            )

    async def claim_due_waiting_updates(self, every: timedelta) -> list[tuple[Conversation, int]]:
        """Waiting conversations whose last bot update is older than ``every``, each with its
        queue position. Each is claimed with a conditional UPDATE so one node sends it once."""
        now = self.clock()
        async with self.uow.write() as repos:
            due = await repos.chat.waiting_needing_update(now - every)
            claimed = [c for c in due if await repos.chat.claim_bot_update(c.id, now - every, now)]
            positions = self.queue_positions(await repos.chat.waiting()) if claimed else {}
        return [(conversation, positions.get(conversation.id, 1)) for conversation in claimed]

    # helpers

    @staticmethod
    def permit_console(user: StaffUser) -> None:
        """Opening the chat console (queue, colleagues, history lists) at all."""
        permissions.require(user.role, Action.CHAT_CONSOLE, Ownership.NONE)

    @staticmethod
    def may_hold(user: StaffUser) -> bool:
        return permissions.allowed(user.role, Action.CONVERSATION_SEND, Ownership.OWN)

    @staticmethod
    def permit(user: StaffUser, action: Action, conversation: Conversation) -> None:
        """The permission table decides; a refusal that holding would have lifted says not_holder,
        and a role that may never read conversations is told none exists, as for an unknown id.
        "Own" is the conversation's holder (its last holder once it is closed) or a colleague who
        joined it (domain.supervision.join)."""
        ownership = Ownership.OWN if user.id in conversation.staff_ids() else Ownership.OTHER
        if permissions.allowed(user.role, action, ownership):
            return
        if not permissions.reads_conversations(user.role):
            raise NotFound("no such conversation")
        if ownership is Ownership.OTHER and permissions.allowed(user.role, action, Ownership.OWN):
            raise Forbidden("you do not hold this conversation", code="not_holder")
        raise Forbidden(f"{user.role.value} may not {action.value}")

    def _permit_read(self, reader: StaffUser, conversation: Conversation) -> None:
        closed = conversation.state is State.CLOSED
        self.permit(
            reader, Action.CONVERSATION_READ_CLOSED if closed else Action.CONVERSATION_READ, conversation
        )
