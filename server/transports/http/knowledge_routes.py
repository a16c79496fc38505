"""The knowledge bank over HTTP (docs/knowledge.md, docs/protocol.md): public reading of published
resources and public articles, and the staff collections articles, resources, canned-answers and
danger-words (list and search, get, create, update, delete, publish, unpublish, versions), and the
editor's preview of a Markdown text."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from server import app_keys
from server.domain.errors import InvalidInput
from server.domain.knowledge import (
    LANGUAGES,
    MAX_BODY,
    MAX_CONTACT,
    MAX_KEY,
    MAX_SUMMARY,
    MAX_TAGS,
    MAX_TITLE,
    Audience,
    Contact,
    Draft,
    Kind,
    Text,
)
from server.transports import markdown, wire
from server.transports.http.middlewares import parse_body
from server.transports.http.staff_auth import require_staff

#: The staff collections and the kind of item each holds.
COLLECTIONS: dict[str, Kind] = {
    "articles": Kind.ARTICLE,
    "resources": Kind.RESOURCE,
    "canned-answers": Kind.CANNED,
    "danger-words": Kind.DANGER_WORDS,
}
STAFF_PREFIX = "/api/staff/"
PREVIEW_PATH = "/api/staff/knowledge/preview"


class TextBody(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    summary: str = Field(default="", max_length=MAX_SUMMARY)
    body: str = Field(default="", max_length=MAX_BODY)


class ContactBody(BaseModel):
    phone: str = Field(default="", max_length=40)
    url: str = Field(default="", max_length=MAX_CONTACT)
    address: str = Field(default="", max_length=MAX_CONTACT)
    hours: str = Field(default="", max_length=MAX_CONTACT)


class PreviewBody(BaseModel):
    body: str = Field(default="", max_length=MAX_BODY)


class ItemBody(BaseModel):
    """An item as the editor sends it. ``texts`` maps a language to its text; on PUT, languages
    left out keep their text. ``published`` only on POST (then publish/unpublish)."""

    key: str = Field(default="", max_length=MAX_KEY)
    audience: Audience = Audience.INTERNAL
    published: bool = False
    perspectives: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    districts: list[str] = Field(default_factory=lambda: ["all"], max_length=MAX_TAGS)
    contact: ContactBody = Field(default_factory=ContactBody)
    texts: dict[str, TextBody] = Field(default_factory=dict, max_length=len(LANGUAGES))

    def draft(self, kind: Kind) -> Draft:
        return Draft(
            kind=kind,
            key=self.key,
            audience=self.audience,
            perspectives=tuple(self.perspectives),
            districts=tuple(self.districts),
            contact=Contact(**self.contact.model_dump()),
            texts=tuple(Text(language, t.title, t.summary, t.body) for language, t in self.texts.items()),
        )


def _language(request: web.Request) -> str:
    return request.query.get("language", "sv")


def _district(request: web.Request) -> str | None:
    return request.query.get("district") or None


async def public_resources(request: web.Request) -> web.Response:
    language = _language(request)
    items = await request.app[app_keys.KNOWLEDGE].public_items(Kind.RESOURCE, language, _district(request))
    return web.json_response({"resources": [wire.public_item(item, language) for item in items]})


async def public_articles(request: web.Request) -> web.Response:
    language = _language(request)
    items = await request.app[app_keys.KNOWLEDGE].public_items(Kind.ARTICLE, language, None)
    return web.json_response({"articles": [wire.public_item(item, language) for item in items]})


def _kind(request: web.Request) -> Kind:
    """The kind of the collection the path names (/api/staff/<collection>...)."""
    return COLLECTIONS[request.path.removeprefix(STAFF_PREFIX).split("/")[0]]


def _item_id(request: web.Request) -> int:
    raw = request.match_info["item_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("the id must be a whole number")
    return int(raw)


def _one(item: Any) -> web.Response:
    return web.json_response({"item": wire.staff_item(item)})


async def staff_list(request: web.Request) -> web.Response:
    user = await require_staff(request)
    items = await request.app[app_keys.KNOWLEDGE].staff_items(
        user, _kind(request), request.query.get("q", "")
    )
    return web.json_response({"items": [wire.staff_item(item) for item in items]})


async def staff_search(request: web.Request) -> web.Response:
    user = await require_staff(request)
    items = await request.app[app_keys.KNOWLEDGE].search(user, request.query.get("q", ""))
    return web.json_response({"items": [wire.staff_item(item) for item in items]})


async def staff_preview(request: web.Request) -> web.Response:
    """The editor's live preview: the Markdown rendered and sanitised exactly as it will be shown,
    stored nowhere."""
    user = await require_staff(request)
    request.app[app_keys.KNOWLEDGE].permit_preview(user)
    body = await parse_body(request, PreviewBody)
    return web.json_response({"html": markdown.render(body.body)})


async def staff_get(request: web.Request) -> web.Response:
    user = await require_staff(request)
    return _one(await request.app[app_keys.KNOWLEDGE].staff_item(user, _kind(request), _item_id(request)))


async def staff_create(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, ItemBody)
    item = await request.app[app_keys.KNOWLEDGE].create(user, body.draft(_kind(request)), body.published)
    return web.json_response({"item": wire.staff_item(item)}, status=201)


async def staff_update(request: web.Request) -> web.Response:
    user = await require_staff(request)
    body = await parse_body(request, ItemBody)
    return _one(
        await request.app[app_keys.KNOWLEDGE].update(user, _item_id(request), body.draft(_kind(request)))
    )


async def staff_delete(request: web.Request) -> web.Response:
    user = await require_staff(request)
    await request.app[app_keys.KNOWLEDGE].delete(user, _kind(request), _item_id(request))
    return web.Response(status=204)


async def staff_publish(request: web.Request) -> web.Response:
    user = await require_staff(request)
    service = request.app[app_keys.KNOWLEDGE]
    return _one(await service.set_published(user, _kind(request), _item_id(request), True))


async def staff_unpublish(request: web.Request) -> web.Response:
    user = await require_staff(request)
    service = request.app[app_keys.KNOWLEDGE]
    return _one(await service.set_published(user, _kind(request), _item_id(request), False))


async def staff_versions(request: web.Request) -> web.Response:
    user = await require_staff(request)
    found = await request.app[app_keys.KNOWLEDGE].versions(user, _kind(request), _item_id(request))
    return web.json_response({"versions": [wire.knowledge_version(v) for v in found]})


def staff_paths() -> list[tuple[str, str]]:
    """(method, path) of every staff knowledge route, as registered (the matrix walks them)."""
    paths = [("GET", "/api/staff/knowledge/search"), ("POST", PREVIEW_PATH)]
    for collection in COLLECTIONS:
        base = f"{STAFF_PREFIX}{collection}"
        one = base + "/{item_id}"
        paths += [("GET", base), ("POST", base), ("GET", one), ("PUT", one), ("DELETE", one)]
        paths += [("POST", one + "/publish"), ("POST", one + "/unpublish"), ("GET", one + "/versions")]
    return paths


_HANDLERS = {
    ("GET", ""): staff_list,
    ("POST", ""): staff_create,
    ("GET", "/{item_id}"): staff_get,
    ("PUT", "/{item_id}"): staff_update,
    ("DELETE", "/{item_id}"): staff_delete,
    ("POST", "/{item_id}/publish"): staff_publish,
    ("POST", "/{item_id}/unpublish"): staff_unpublish,
    ("GET", "/{item_id}/versions"): staff_versions,
}


def add_knowledge_routes(app: web.Application) -> None:
    app.router.add_get("/api/resources", public_resources)
    app.router.add_get("/api/articles", public_articles)
    app.router.add_get("/api/staff/knowledge/search", staff_search)
    app.router.add_post(PREVIEW_PATH, staff_preview)
    for collection in COLLECTIONS:
        for (method, tail), handler in _HANDLERS.items():
            app.router.add_route(method, STAFF_PREFIX + collection + tail, handler)
