"""The knowledge bank's use cases (docs/knowledge.md): editing (coordinator, admin), reading
(staff: everything; relatives: published public articles and resources), search, versions, the
canned answers and danger words the console and the intake bot use, and import into an empty bank.

Every edit leaves an audit row (``knowledge.create|update|publish|unpublish|delete``, object type
``knowledge``) in its own transaction. Canned answers and danger words are kept in memory for
``policy.cache_seconds``; an edit in this process drops them at once, one in another process is
seen within that time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from server.domain import permissions
from server.domain.errors import Conflict, InvalidInput, NotFound
from server.domain.knowledge import (
    Draft,
    Item,
    Kind,
    Version,
    check_draft,
    check_language,
    danger_words,
)
from server.domain.permissions import Action, Ownership
from server.domain.risk import compile_danger_words
from server.domain.staff import StaffUser
from server.services.ports.clock import Clock
from server.services.ports.knowledge import KnowledgeRepository
from server.services.ports.unit_of_work import Transactions

AUDIT_TYPE = "knowledge"
MAX_QUERY = 200
MAX_WORDS = 10
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class CannedAnswer:
    id: str
    title: str
    text: str
    language: str


@dataclass(frozen=True)
class KnowledgePolicy:
    perspectives: tuple[str, ...]
    districts: tuple[str, ...]
    cache_seconds: float = 30.0


def search_words(query: str) -> list[str]:
    """The words of a search: letters and digits in any script, at most MAX_WORDS."""
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"q is longer than {MAX_QUERY} characters", code="too_long")
    return _WORD.findall(query.casefold())[:MAX_WORDS]


@dataclass
class _Cache:
    loaded_at: datetime | None = None
    items: list[Item] = field(default_factory=list)
    patterns: dict[str, re.Pattern[str] | None] = field(default_factory=dict)


@dataclass
class KnowledgeService:
    uow: Transactions
    clock: Clock
    policy: KnowledgePolicy
    _cache: _Cache = field(default_factory=_Cache)

    # Reading, for staff -------------------------------------------------------------------------

    def _may_read_internal(self, user: StaffUser) -> None:
        permissions.require(user.role, Action.KNOWLEDGE_READ_INTERNAL, Ownership.NONE)

    async def staff_items(self, user: StaffUser, kind: Kind, query: str = "") -> list[Item]:
        """Every item of the kind, published or not; or those matching the search."""
        self._may_read_internal(user)
        words = search_words(query)
        async with self.uow.read() as repos:
            if words:
                return await repos.knowledge.search(words, (kind,), published_only=False)
            return await repos.knowledge.items((kind,), published_only=False)

    async def search(self, user: StaffUser, query: str) -> list[Item]:
        """Articles and resources, published or not, best match first."""
        self._may_read_internal(user)
        words = search_words(query)
        async with self.uow.read() as repos:
            return await repos.knowledge.search(words, (Kind.ARTICLE, Kind.RESOURCE), published_only=False)

    async def staff_item(self, user: StaffUser, kind: Kind, item_id: int) -> Item:
        self._may_read_internal(user)
        async with self.uow.read() as repos:
            return _of_kind(await repos.knowledge.get(item_id), kind)

    async def versions(self, user: StaffUser, kind: Kind, item_id: int) -> list[Version]:
        self._may_read_internal(user)
        async with self.uow.read() as repos:
            _of_kind(await repos.knowledge.get(item_id), kind)
            return await repos.knowledge.versions(item_id)

    async def resource_for_chat(self, item_id: int) -> Item:
        """A published resource, to send into a conversation (the chat checks who may send)."""
        async with self.uow.read() as repos:
            item = await repos.knowledge.get(item_id)
        if item is None or item.kind is not Kind.RESOURCE or not item.published:
            raise NotFound("no such published resource")
        return item

    # Reading, for everyone ----------------------------------------------------------------------

    async def public_items(self, kind: Kind, language: str, district: str | None) -> list[Item]:
        """Published resources (for the district, when given) or public articles. Items with a text
        in ``language`` come first; the others follow in the fallback order's language."""
        check_language(language)
        if kind not in (Kind.ARTICLE, Kind.RESOURCE):
            raise InvalidInput("only articles and resources are public")
        if district is not None and district not in self.policy.districts:
            raise InvalidInput(
                f"district must be one of {list(self.policy.districts)}", code="unknown_district"
            )
        async with self.uow.read() as repos:
            found = await repos.knowledge.items((kind,), published_only=True)
        shown = [item for item in found if item.is_public and item.serves(district)]
        return sorted(shown, key=lambda item: language not in item.texts)

    # Editing ------------------------------------------------------------------------------------

    def _may_edit(self, user: StaffUser) -> None:
        permissions.require(user.role, Action.KNOWLEDGE_EDIT, Ownership.NONE)

    def permit_preview(self, user: StaffUser) -> None:
        """Whether the user may have a text rendered as the editor writes it: those who edit."""
        self._may_edit(user)

    def _checked(self, draft: Draft, *, new: bool) -> Draft:
        return check_draft(draft, self.policy.perspectives, self.policy.districts, new=new)

    async def create(self, user: StaffUser, draft: Draft, published: bool = False) -> Item:
        self._may_edit(user)
        checked = self._checked(draft, new=True)
        now = self.clock()
        async with self.uow.write() as repos:
            await _key_is_free(repos.knowledge, checked, None)
            item_id = await repos.knowledge.add(checked, published, user.id, now)
            await repos.staff.audit(user.id, "knowledge.create", AUDIT_TYPE, str(item_id), now)
            item = await repos.knowledge.get(item_id)
        self._changed()
        return _of_kind(item, checked.kind)

    async def update(self, user: StaffUser, item_id: int, draft: Draft) -> Item:
        self._may_edit(user)
        checked = self._checked(draft, new=False)
        now = self.clock()
        async with self.uow.write() as repos:
            _of_kind(await repos.knowledge.get(item_id), checked.kind)
            await _key_is_free(repos.knowledge, checked, item_id)
            await repos.knowledge.update(item_id, checked, user.id, now)
            await repos.staff.audit(user.id, "knowledge.update", AUDIT_TYPE, str(item_id), now)
            item = await repos.knowledge.get(item_id)
        self._changed()
        return _of_kind(item, checked.kind)

    async def set_published(self, user: StaffUser, kind: Kind, item_id: int, published: bool) -> Item:
        self._may_edit(user)
        now = self.clock()
        async with self.uow.write() as repos:
            _of_kind(await repos.knowledge.get(item_id), kind)
            await repos.knowledge.set_published(item_id, published, now)
            action = "knowledge.publish" if published else "knowledge.unpublish"
            await repos.staff.audit(user.id, action, AUDIT_TYPE, str(item_id), now)
            item = await repos.knowledge.get(item_id)
        self._changed()
        return _of_kind(item, kind)

    async def delete(self, user: StaffUser, kind: Kind, item_id: int) -> None:
        self._may_edit(user)
        now = self.clock()
        async with self.uow.write() as repos:
            _of_kind(await repos.knowledge.get(item_id), kind)
            await repos.knowledge.delete(item_id)
            await repos.staff.audit(user.id, "knowledge.delete", AUDIT_TYPE, str(item_id), now)
        self._changed()

    # Import and export (kinline knowledge import|export; the first start of a fresh database) ---

    async def import_drafts(
        self, drafts: Sequence[tuple[Draft, bool]], *, only_if_empty: bool = False
    ) -> int:
        """Load (draft, published) pairs into an empty bank, in one transaction. Refused when the
        bank holds anything; with ``only_if_empty`` that is no error and nothing is loaded."""
        checked = [(self._checked(draft, new=True), published) for draft, published in drafts]
        now = self.clock()
        async with self.uow.write() as repos:
            if await repos.knowledge.count():
                if only_if_empty:
                    return 0
                raise Conflict("the knowledge bank is not empty", code="knowledge_not_empty")
            for draft, published in checked:
                await repos.knowledge.add(draft, published, None, now)
        self._changed()
        return len(checked)

    async def export_items(self) -> list[Item]:
        async with self.uow.read() as repos:
            return await repos.knowledge.items(tuple(Kind), published_only=False)

    # What the console and the intake bot use ----------------------------------------------------

    async def canned(self, language: str) -> list[CannedAnswer]:
        """Published canned answers, each in ``language`` or its fallback, in the bank's order."""
        check_language(language)
        answers = []
        for item in await self._cached():
            if item.kind is Kind.CANNED:
                shown = item.text_for(language)
                answers.append(CannedAnswer(item.key, shown.title, shown.body, shown.language))
        return answers

    async def danger_pattern(self, language: str) -> re.Pattern[str] | None:
        """Published danger words of the language plus Swedish and English, which people mix in."""
        items = await self._cached()
        if language not in self._cache.patterns:
            codes = dict.fromkeys((language, "sv", "en"))
            words = [
                word
                for item in items
                if item.kind is Kind.DANGER_WORDS
                for code in codes
                if code in item.texts
                for word in danger_words(item.texts[code].body)
            ]
            self._cache.patterns[language] = compile_danger_words(words)
        return self._cache.patterns[language]

    async def _cached(self) -> list[Item]:
        now = self.clock()
        loaded = self._cache.loaded_at
        if loaded is None or (now - loaded).total_seconds() >= self.policy.cache_seconds:
            async with self.uow.read() as repos:
                items = await repos.knowledge.items((Kind.CANNED, Kind.DANGER_WORDS), published_only=True)
            self._cache = _Cache(now, items, {})
        return self._cache.items

    def _changed(self) -> None:
        self._cache = _Cache()


def _of_kind(item: Item | None, kind: Kind) -> Item:
    if item is None or item.kind is not kind:
        raise NotFound(f"no such {kind.value}")
    return item


async def _key_is_free(repo: KnowledgeRepository, draft: Draft, item_id: int | None) -> None:
    if not draft.key:
        return
    for other in await repo.items((draft.kind,), published_only=False):
        if other.key == draft.key and other.id != item_id:
            raise Conflict(f"another {draft.kind.value} has the key {draft.key}", code="duplicate_key")
