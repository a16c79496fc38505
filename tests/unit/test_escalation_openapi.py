"""Every escalation route the server registers is in the OpenAPI document, with the same methods."""

from __future__ import annotations

from server.app import create_app
from server.settings import load_settings
from server.transports.http.openapi import document


def test_every_escalation_route_is_documented() -> None:
    app = create_app(load_settings())
    served: dict[str, set[str]] = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/escalations") and route.method != "HEAD":
            served.setdefault(path, set()).add(route.method.lower())
    documented = {
        path: set(ops) for path, ops in document()["paths"].items() if path.startswith("/api/escalations")
    }
    assert served == documented
