"""The knowledge bank (docs/knowledge.md): articles, resources, canned answers and danger words,
each in one or more languages, versioned, and published or not. Pure rules: what an item is, what
a valid edit is, and which language a reader gets."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from server.domain.errors import InvalidInput

#: The languages an item can be written in; the order the editor shows them.
LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
#: After the language asked for, a reader gets Swedish, then English (docs/knowledge.md).
FALLBACK = ("sv", "en")
#: A resource serves every district when its districts are this.
ALL_DISTRICTS = "all"

MAX_TITLE = 200
MAX_SUMMARY = 1_000
MAX_BODY = 50_000
MAX_KEY = 64
MAX_CONTACT = 300
MAX_TAGS = 20


class Kind(enum.StrEnum):
    ARTICLE = "article"
    RESOURCE = "resource"
    CANNED = "canned"
    DANGER_WORDS = "danger_words"


class Audience(enum.StrEnum):
    """Who an article is for: staff only, or everyone (relatives on the public page)."""

    INTERNAL = "internal"
    PUBLIC = "public"


@dataclass(frozen=True)
class Contact:
    phone: str = ""
    url: str = ""
    address: str = ""
    hours: str = ""


@dataclass(frozen=True)
class Text:
    """One language's text of an item. For danger words, ``body`` holds one phrase a line."""

    language: str
    title: str
    summary: str = ""
    body: str = ""


@dataclass(frozen=True)
class StoredText(Text):
    version: int = 1
    changed_by: int | None = None
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Draft:
    """What an editor sends: the item's own fields and the texts it changes (other languages stay)."""

    kind: Kind
    key: str = ""
    audience: Audience = Audience.INTERNAL
    perspectives: tuple[str, ...] = ()
    districts: tuple[str, ...] = (ALL_DISTRICTS,)
    contact: Contact = field(default_factory=Contact)
    texts: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Item:
    id: int
    kind: Kind
    key: str
    audience: Audience
    published: bool
    perspectives: tuple[str, ...]
    districts: tuple[str, ...]
    contact: Contact
    texts: Mapping[str, StoredText]
    created_at: datetime
    updated_at: datetime

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(language for language in LANGUAGES if language in self.texts)

    @property
    def is_public(self) -> bool:
        """Shown to relatives: published, and a resource or a public article."""
        return self.published and (
            self.kind is Kind.RESOURCE or (self.kind is Kind.ARTICLE and self.audience is Audience.PUBLIC)
        )

    def serves(self, district: str | None) -> bool:
        return district is None or ALL_DISTRICTS in self.districts or district in self.districts

    def text_for(self, language: str) -> StoredText:
        """The text in ``language``, else in the first of FALLBACK the item has, else its first."""
        for code in (language, *FALLBACK):
            if code in self.texts:
                return self.texts[code]
        return self.texts[self.languages[0]]


@dataclass(frozen=True)
class Version:
    """An earlier (or the current) text of one language of an item, and who wrote it when."""

    item_id: int
    language: str
    version: int
    title: str
    summary: str
    body: str
    changed_by: int | None
    changed_by_name: str | None
    changed_at: datetime


def fallback_order(language: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((language, *FALLBACK)))


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {list(LANGUAGES)}", code="unknown_language")
    return language


_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{1,30}")


def _bounded(value: str, limit: int, name: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", code="too_long")
    return value


def check_url(url: str) -> str:
    """Only absolute http(s) addresses: never javascript:, data: or a relative link."""
    url = _bounded(url, MAX_CONTACT, "contact.url")
    if not url:
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput("contact.url must be an http(s) address", code="invalid_url")
    return url


def check_contact(contact: Contact) -> Contact:
    phone = _bounded(contact.phone, 40, "contact.phone")
    if phone and not _PHONE.fullmatch(phone):
        raise InvalidInput(
            "contact.phone may hold digits, spaces, '-' and a leading '+'", code="invalid_phone"
        )
    return Contact(
        phone=phone,
        url=check_url(contact.url),
        address=_bounded(contact.address, MAX_CONTACT, "contact.address"),
        hours=_bounded(contact.hours, MAX_CONTACT, "contact.hours"),
    )


def check_text(text: Text) -> Text:
    check_language(text.language)
    title = _bounded(text.title, MAX_TITLE, "title")
    if not title:
        raise InvalidInput("every text needs a title", code="missing_title")
    return Text(
        text.language,
        title,
        _bounded(text.summary, MAX_SUMMARY, "summary"),
        _bounded(text.body, MAX_BODY, "body"),
    )


def check_tags(values: Iterable[str], allowed: Sequence[str], name: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(found) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} {name}", code="too_long")
    unknown = [value for value in found if value not in allowed]
    if unknown:
        raise InvalidInput(f"{name} must be among {list(allowed)}", code=f"unknown_{name}")
    return found


def check_draft(draft: Draft, perspectives: Sequence[str], districts: Sequence[str], *, new: bool) -> Draft:
    """A valid draft, or InvalidInput. A new item needs at least one text; every kind but the
    article has no audience of its own (resources are public, the rest internal)."""
    if draft.key and not _KEY.fullmatch(draft.key):
        raise InvalidInput("key: lower-case letters, digits, '_' or '-', at most 64", code="invalid_key")
    if draft.kind in (Kind.CANNED, Kind.DANGER_WORDS) and not draft.key:
        raise InvalidInput("canned answers and danger words need a key", code="invalid_key")
    texts = tuple(check_text(text) for text in draft.texts)
    if len({text.language for text in texts}) != len(texts):
        raise InvalidInput("one text per language", code="duplicate_language")
    if new and not texts:
        raise InvalidInput("a new item needs a text in at least one language", code="missing_text")
    district_list = check_tags(draft.districts, (ALL_DISTRICTS, *districts), "districts") or (ALL_DISTRICTS,)
    audience = (
        draft.audience
        if draft.kind is Kind.ARTICLE
        else (Audience.PUBLIC if draft.kind is Kind.RESOURCE else Audience.INTERNAL)
    )
    return Draft(
        kind=draft.kind,
        key=draft.key,
        audience=audience,
        perspectives=check_tags(draft.perspectives, perspectives, "perspectives"),
        districts=district_list,
        contact=check_contact(draft.contact) if draft.kind is Kind.RESOURCE else Contact(),
        texts=texts,
    )


def danger_words(body: str) -> list[str]:
    """The phrases of a danger-words text: one a line, blank lines and '#' comments ignored."""
    return [line.strip() for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class ResourceCard:
    """A resource as a chat message carries it (send_resource), in the conversation's language or
    its fallback."""

    id: int
    title: str
    summary: str
    contact: Contact

    def plain(self) -> str:
        """The card as plain text: the message's ``text``, for clients that ignore the card."""
        lines = [self.title, self.summary]
        contact = self.contact
        lines += [contact.phone, contact.url, contact.address, contact.hours]
        return "\n".join(line for line in lines if line)


def card_for(item: Item, language: str) -> ResourceCard:
    shown = item.text_for(language)
    return ResourceCard(item.id, shown.title, shown.summary, item.contact)
