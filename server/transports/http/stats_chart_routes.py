"""The statistics plots over HTTP: ``GET /api/stats.svg?from&to&by&chart=line|bar&lang=sv``
(docs/statistics.md). The same table, permission and validation as ``GET /api/stats``; the SVG
itself is drawn by server/domain/statistics/charts.py with the words of the console's catalogs."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from server import app_keys
from server.config.i18n import Catalogs
from server.domain.errors import InvalidInput
from server.domain.statistics import charts, weeks
from server.domain.statistics.tables import Table, Value
from server.transports.http.statistics_routes import requested_table

CHARTS = {"line": charts.line_chart, "bar": charts.bar_chart}
WEEK = "week"
# The catalog section of each dimension's values; web/console/statistics/labels.js uses the same.
LABEL_SECTIONS = {
    "perspective": "console.statistics.perspectives",
    "topic": "topics",
    "language": "console.statistics.languages",
    "outcome": "outcomes",
    "channel": "console.statistics.channels",
    "milieu": "console.statistics.milieus",
}


def value_label(catalogs: Catalogs, language: str, dimension: str, value: Value) -> str:
    """A dimension's value in words, or the value itself where the catalogs have none."""
    if value is None:
        return catalogs.text(language, "console.statistics.not_set")
    section = LABEL_SECTIONS.get(dimension)
    if isinstance(value, bool) or section is None:
        return str(value).lower() if isinstance(value, bool) else value
    key = f"{section}.{value}"
    text = catalogs.text(language, key)
    return value if text == key else text


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week from first to last, so that a week with no contacts is drawn as 0."""
    monday = weeks.parse_week(first).monday()
    count = (weeks.parse_week(last).monday() - monday).days // 7 + 1
    return [str(weeks.IsoWeek(*(monday + timedelta(weeks=n)).isocalendar()[:2])) for n in range(count)]


def chart_svg(table: Table, first: str, last: str, chart: str, language: str, catalogs: Catalogs) -> str:
    """The SVG of one chart of a table. A line puts the weeks along; a bar chart the first
    dimension. Refuses a line chart over a table not split by week."""
    if chart not in CHARTS:
        raise InvalidInput(f"chart must be one of {', '.join(CHARTS)}", code="invalid_chart")
    by = list(table.by)
    if chart == "line":
        if WEEK not in by:
            raise InvalidInput("a line chart needs the table split by week", code="invalid_chart")
        by.remove(WEEK)
        by.insert(0, WEEK)

    def text(key: str, **params: object) -> str:
        return catalogs.text(language, f"console.statistics.{key}", **params)

    def label(dimension: str, value: Value) -> str:
        return value_label(catalogs, language, dimension, value)

    suppressed = text("suppressed", min=table.min_cell)
    named = text(f"dimensions.{by[-1]}").lower()
    if chart == "line":
        title = text("chart.line_title_by", by=named) if len(by) > 1 else text("chart.line_title")
    else:
        title = text("chart.bar_title", by=" × ".join(text(f"dimensions.{d}").lower() for d in by))
    words = charts.ChartWords(
        title=title,
        description=text("chart.desc", **{"from": first, "to": last, "suppressed": suppressed}),
        value_axis=text("chart.value_axis"),
        suppressed=suppressed,
        suppressed_note=text("chart.suppressed_note", suppressed=suppressed),
        empty=text("chart.empty"),
    )
    categories = week_range(first, last) if chart == "line" else None
    data = charts.chart_data(table, by, label, categories)
    return CHARTS[chart](data, words)


async def stats_svg(request: web.Request) -> web.Response:
    table, first, last = await requested_table(request)
    catalogs = request.app[app_keys.CATALOGS]
    language = request.query.get("lang", "sv")
    if language not in catalogs.languages:
        raise InvalidInput(f"lang must be one of {', '.join(catalogs.languages)}", code="invalid_language")
    svg = chart_svg(table, first, last, request.query.get("chart", ""), language, catalogs)
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")


def add_stats_chart_routes(app: web.Application) -> None:
    app.router.add_get("/api/stats.svg", stats_svg)
