"""The statistics table as files to download: ``GET /api/stats.csv`` and ``GET /api/stats.json``
(docs/statistics.md), formatted by the same module as ``kinline report``."""

from __future__ import annotations

from aiohttp import web

from server.domain.statistics.export import table_csv, table_json_text
from server.domain.statistics.tables import Table
from server.transports.http.statistics_routes import requested_table


def _download(text: str, content_type: str, table: Table, first: str, last: str, suffix: str) -> web.Response:
    name = f"kinline-statistics-{first}-{last}-{'-'.join(table.by)}.{suffix}"
    return web.Response(
        text=text,
        content_type=content_type,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def stats_csv(request: web.Request) -> web.Response:
    table, first, last = await requested_table(request)
    return _download(table_csv(table), "text/csv", table, first, last, "csv")


async def stats_json(request: web.Request) -> web.Response:
    table, first, last = await requested_table(request)
    return _download(table_json_text(table, first, last), "application/json", table, first, last, "json")


def add_stats_export_routes(app: web.Application) -> None:
    app.router.add_get("/api/stats.csv", stats_csv)
    app.router.add_get("/api/stats.json", stats_json)
