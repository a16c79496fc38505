"""Every route the server registers is in the OpenAPI document it serves, with the same methods,
and the document describes no route the server does not have. Only the static pages and files
(server/transports/http/static.py) and the Socket.IO endpoint (docs/protocol.md) are left out;
HEAD is aiohttp's automatic companion of GET."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from server.app import create_app
from server.config.paths import web_dir
from server.config.settings import load_settings
from server.transports.http.static import add_static_routes

SOCKET_IO = "/socket.io/"
Operation = tuple[str, str]


@pytest.fixture(scope="module")
def app() -> web.Application:
    return create_app(load_settings())


def operations(routes: Iterable[web.AbstractRoute]) -> set[Operation]:
    return {
        (route.resource.canonical, route.method.lower())
        for route in routes
        if route.resource is not None and route.method != "HEAD"
    }


def static_operations() -> set[Operation]:
    pages = web.Application()
    add_static_routes(pages, web_dir())
    return operations(pages.router.routes())


def served(app: web.Application) -> set[Operation]:
    return {
        (path, method)
        for path, method in operations(app.router.routes()) - static_operations()
        if path != SOCKET_IO
    }


async def served_document(app: web.Application) -> dict[str, Any]:
    """The document as GET /api/openapi.json answers it, through the route the app registered."""
    match = await app.router.resolve(make_mocked_request("GET", "/api/openapi.json", app=app))
    response = await match.handler(make_mocked_request("GET", "/api/openapi.json", app=app))
    assert isinstance(response, web.Response) and response.text is not None
    document: dict[str, Any] = json.loads(response.text)
    return document


def documented(document: dict[str, Any]) -> set[Operation]:
    return {(path, method) for path, ops in document["paths"].items() for method in ops}


async def test_every_route_is_documented_with_its_methods(app: web.Application) -> None:
    routes = served(app)
    assert len(routes) > 40, "the app registered too few routes: the walk found the wrong ones"
    assert {("/api/escalations", "post"), ("/api/slots", "get"), ("/webhooks/twilio/sms", "post")} <= routes
    described = documented(await served_document(app))
    assert sorted(routes - described) == [], "served but not in /api/openapi.json"
    assert sorted(described - routes) == [], "in /api/openapi.json but not served"


def test_the_two_factor_routes_are_served(app: web.Application) -> None:
    two_factor = {
        (path, method) for path, method in served(app) if path.endswith(("/totp", "/enroll", "/confirm"))
    }
    assert two_factor == {
        ("/api/auth/totp", "get"),
        ("/api/auth/totp/enroll", "post"),
        ("/api/auth/totp/confirm", "post"),
        ("/api/staff/accounts/{username}/totp", "delete"),
    }


def test_the_audit_route_is_served(app: web.Application) -> None:
    assert {method for path, method in served(app) if path == "/api/staff/audit"} == {"get"}
