"""The pages and their files. Directory listings are off; every response gets the CSP."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web


def add_static_routes(app: web.Application, web_root: Path) -> None:
    async def widget(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "widget" / "index.html")

    async def console(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "console" / "index.html")

    async def console_redirect(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/console/")

    async def no_icon(_request: web.Request) -> web.Response:
        return web.Response(status=204)

    app.router.add_get("/", widget)
    app.router.add_get("/favicon.ico", no_icon)
    app.router.add_get("/console", console_redirect)
    app.router.add_get("/console/", console)
    for prefix in ("widget", "console", "shared", "vendor", "i18n"):
        directory = web_root / prefix
        directory.mkdir(parents=True, exist_ok=True)
        app.router.add_static(f"/{prefix}/", directory, show_index=False, follow_symlinks=False)
