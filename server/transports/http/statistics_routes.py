"""Statistics over HTTP: ``GET /api/stats`` (docs/protocol.md, docs/statistics.md)."""

from __future__ import annotations

from aiohttp import web

from server import app_keys
from server.domain.statistics.export import table_json
from server.domain.statistics.tables import Table
from server.transports.http.staff_auth import require_staff


async def requested_table(request: web.Request) -> tuple[Table, str, str]:
    """The table the query asks for (``from``, ``to``, ``by``), as the signed-in reader may see it;
    the plots and downloads (stats_chart_routes, stats_export_routes) ask the same way."""
    user = await require_staff(request)
    first, last = request.query.get("from", ""), request.query.get("to", "")
    table = await request.app[app_keys.STATISTICS].table_for(user, first, last, request.query.get("by", ""))
    return table, first, last


async def stats(request: web.Request) -> web.Response:
    table, first, last = await requested_table(request)
    return web.json_response(table_json(table, first, last))


def add_statistics_routes(app: web.Application) -> None:
    app.router.add_get("/api/stats", stats)
