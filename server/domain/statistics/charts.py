"""The statistics plots as SVG strings: counts per week as lines, categories as horizontal bars.

Pure: labels arrive translated, every text is escaped here, and nothing outside the string is
referred to (no fonts, scripts or styles), so the SVG is safe to serve and prints the same.
Series differ by dash, marker shape and fill pattern as well as by grey level, so they stay
apart in black and white. A suppressed cell (count None) is never drawn as a number: it is a
gap in a line or a missing bar, marked with the suppression text such as "<5".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from server.domain.statistics.tables import Table, Value

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK = "#1a1a1a"
GRID = "#c8c8c8"
MUTED = "#595959"
WIDTH = 760
MAX_LABEL = 34
GREYS = ("#1a1a1a", "#595959", "#8c8c8c", "#1a1a1a", "#595959", "#8c8c8c")
DASHES = ("", "8 4", "2 3", "12 4 2 4", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "ring")
PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "outline")


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[int | None, ...]


@dataclass(frozen=True)
class ChartData:
    """Counts by category (x) and series; one series when the table has one dimension."""

    categories: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def has_suppressed(self) -> bool:
        return any(value is None for s in self.series for value in s.values)


@dataclass(frozen=True)
class ChartWords:
    """The chart's texts in one language. ``suppressed`` is what a hidden cell shows ("<5");
    ``suppressed_note`` explains it under the chart."""

    title: str
    description: str
    value_axis: str
    suppressed: str
    suppressed_note: str
    empty: str


def chart_data(
    table: Table,
    by: Sequence[str],
    label: Callable[[str, Value], str],
    categories: Sequence[Value] | None = None,
) -> ChartData:
    """A table's cells with ``by[0]`` along (the categories) and ``by[1]``, if any, as the series;
    ``by`` is the table's dimensions in that order. ``label(dimension, value)`` translates a value.
    ``categories`` fixes the order and adds categories with no cells (counted 0); by default they
    come in the table's order. A suppressed cell becomes None."""
    keyed = [(dict(zip(table.by, cell.key, strict=True)), cell) for cell in table.cells]
    first, second = by[0], by[1] if len(by) > 1 else None
    order = list(categories) if categories is not None else _unique(k[first] for k, _ in keyed)
    series_ids = _unique(k[second] for k, _ in keyed) if second else [None]
    cells = {(k[first], k[second] if second else None): cell for k, cell in keyed}

    def value(category: Value, series: Value) -> int | None:
        cell = cells.get((category, series))
        return 0 if cell is None else cell.count

    return ChartData(
        categories=tuple(label(first, c) for c in order),
        series=tuple(
            Series(label(second, s) if second else "", tuple(value(c, s) for c in order)) for s in series_ids
        ),
    )


def line_chart(data: ChartData, words: ChartWords) -> str:
    """Counts per category (weeks, in order) as one line per series."""
    legend_rows = _legend_rows(data)
    plot = _Frame(left=64, top=56, width=WIDTH - 64 - 44, height=240)
    height = plot.top + plot.height + 56 + legend_rows * 22 + 12
    parts = _open(words, height)
    if not data.categories:
        return "".join([*parts, _empty(words, plot), "</svg>"])
    top = _nice_top(_max(data))
    parts += _value_axis(plot, top, words)
    n = len(data.categories)
    step = plot.width / max(n - 1, 1)

    def x(i: int) -> float:
        return plot.left + (i * step if n > 1 else plot.width / 2)

    def y(v: int) -> float:
        return plot.top + plot.height - v / top * plot.height

    every = math.ceil(n / 13)
    for i, category in enumerate(data.categories):
        if i % every == 0 or i == n - 1:
            parts.append(_text(x(i), plot.top + plot.height + 18, category, anchor="middle", size=11))
    for index, series in enumerate(data.series):
        grey, dash, marker = _style(index)
        for run in _runs(series.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{grey}" stroke-width="2"{dash_attr}/>'
            )
        for i, v in enumerate(series.values):
            if v is None:
                hidden = ": ".join(p for p in (data.categories[i], series.label, words.suppressed) if p)
                parts.append(
                    _text(
                        x(i),
                        plot.top + plot.height - 6 - 12 * index,
                        words.suppressed,
                        anchor="middle",
                        size=10,
                        fill=MUTED,
                        title=hidden,
                    )
                )
            else:
                parts.append(_marker(marker, x(i), y(v), grey, _point_title(data, series, i, v)))
    parts += _legend(data, words, plot.top + plot.height + 44, line=True)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(data: ChartData, words: ChartWords) -> str:
    """Counts per category as horizontal bars, one bar per series within a category, each
    labelled with its number (or the suppression text)."""
    bar, gap = 18, 14
    group = bar * len(data.series) + gap
    label_width = 250
    plot = _Frame(
        left=label_width + 16,
        top=56,
        width=WIDTH - label_width - 16 - 56,
        height=max(group * len(data.categories), 60),
    )
    legend_rows = _legend_rows(data)
    height = plot.top + plot.height + 40 + legend_rows * 22 + 12
    parts = _open(words, height)
    if not data.categories:
        return "".join([*parts, _empty(words, plot), "</svg>"])
    top = _nice_top(_max(data))
    parts += _defs()
    for tick in _ticks(top):
        tx = plot.left + tick / top * plot.width
        parts.append(_line(tx, plot.top, tx, plot.top + plot.height, GRID))
        parts.append(_text(tx, plot.top + plot.height + 16, str(tick), anchor="middle", size=11))
    parts.append(
        _text(plot.left + plot.width, plot.top - 10, words.value_axis, anchor="end", size=11, fill=MUTED)
    )
    for c, category in enumerate(data.categories):
        y0 = plot.top + c * group + gap / 2
        parts.append(
            _text(
                plot.left - 8,
                y0 + bar * len(data.series) / 2 + 4,
                _shorten(category),
                anchor="end",
                size=12,
                title=category if len(category) > MAX_LABEL else None,
            )
        )
        for s, series in enumerate(data.series):
            yb = y0 + s * bar
            v = series.values[c]
            if v is None:
                parts.append(_text(plot.left + 4, yb + bar - 5, words.suppressed, size=11, fill=MUTED))
                continue
            w = v / top * plot.width
            parts.append(
                f'<rect x="{plot.left:.1f}" y="{yb + 1:.1f}" width="{w:.1f}" height="{bar - 2}"'
                f' fill="{_fill(s)}" stroke="{INK}" stroke-width="1">'
                f"<title>{escape(_point_title(data, series, c, v))}</title></rect>"
            )
            parts.append(_text(plot.left + w + 4, yb + bar - 5, str(v), size=11))
    parts.append(_line(plot.left, plot.top, plot.left, plot.top + plot.height, INK))
    parts += _legend(data, words, plot.top + plot.height + 36, line=False)
    parts.append("</svg>")
    return "".join(parts)


# ---- layout helpers


@dataclass(frozen=True)
class _Frame:
    left: float
    top: float
    width: float
    height: float


def _open(words: ChartWords, height: float) -> list[str]:
    label = escape(words.title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}"'
        f' width="{WIDTH}" height="{height:.0f}" role="img" aria-label="{label}"'
        f' font-family="{escape(FONT)}">',
        f"<title>{label}</title><desc>{escape(words.description)}</desc>",
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>',
        _text(16, 28, words.title, size=16, weight="bold"),
    ]


def _empty(words: ChartWords, plot: _Frame) -> str:
    return _text(plot.left, plot.top + 24, words.empty, size=13, fill=MUTED)


def _value_axis(plot: _Frame, top: int, words: ChartWords) -> list[str]:
    parts = [_text(16, plot.top - 12, words.value_axis, size=11, fill=MUTED)]
    for tick in _ticks(top):
        ty = plot.top + plot.height - tick / top * plot.height
        parts.append(_line(plot.left, ty, plot.left + plot.width, ty, GRID))
        parts.append(_text(plot.left - 8, ty + 4, str(tick), anchor="end", size=11))
    parts.append(
        _line(plot.left, plot.top + plot.height, plot.left + plot.width, plot.top + plot.height, INK)
    )
    return parts


def _legend(data: ChartData, words: ChartWords, y: float, *, line: bool) -> list[str]:
    parts: list[str] = []
    named = [s for s in data.series if s.label]
    for index, series in enumerate(named):
        row_y = y + index * 22
        grey, dash, marker = _style(index)
        if line:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="16" y1="{row_y:.1f}" x2="52" y2="{row_y:.1f}" stroke="{grey}"'
                f' stroke-width="2"{dash_attr}/>'
            )
            parts.append(_marker(marker, 34, row_y, grey, None))
        else:
            parts.append(
                f'<rect x="16" y="{row_y - 8:.1f}" width="36" height="14" fill="{_fill(index)}"'
                f' stroke="{INK}" stroke-width="1"/>'
            )
        parts.append(_text(60, row_y + 4, series.label, size=12))
    if data.has_suppressed:
        parts.append(_text(16, y + len(named) * 22 + 4, words.suppressed_note, size=11, fill=MUTED))
    return parts


def _legend_rows(data: ChartData) -> int:
    return sum(1 for s in data.series if s.label) + (1 if data.has_suppressed else 0)


def _defs() -> list[str]:
    """Fill patterns for bars: black and white apart by texture, not only by shade."""
    return [
        "<defs>",
        '<pattern id="p-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2"/></pattern>',
        '<pattern id="p-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="1.4" fill="{INK}"/>'
        "</pattern>",
        '<pattern id="p-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        f'<path d="M0 0L6 6M6 0L0 6" stroke="{INK}" stroke-width="1"/></pattern>',
        '<pattern id="p-lines" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="3" x2="6" y2="3"'
        f' stroke="{INK}" stroke-width="1.5"/></pattern>',
        "</defs>",
    ]


def _fill(index: int) -> str:
    pattern = PATTERNS[index % len(PATTERNS)]
    if pattern == "solid":
        return MUTED
    if pattern == "outline":
        return "#ffffff"
    return f"url(#p-{pattern})"


def _style(index: int) -> tuple[str, str, str]:
    return GREYS[index % len(GREYS)], DASHES[index % len(DASHES)], MARKERS[index % len(MARKERS)]


def _marker(shape: str, x: float, y: float, grey: str, title: str | None) -> str:
    inner = f"<title>{escape(title)}</title>" if title else ""
    paint = f'fill="{grey}" stroke="{grey}" stroke-width="1.5"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" {paint}>{inner}</circle>'
    if shape == "ring":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ffffff" stroke="{grey}"'
            f' stroke-width="2">{inner}</circle>'
        )
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {paint}>{inner}</rect>'
    if shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{points}" {paint}>{inner}</polygon>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" {paint}>{inner}</polygon>'
    return (
        f'<path d="M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x + 4:.1f} {y - 4:.1f}'
        f'L{x - 4:.1f} {y + 4:.1f}" stroke="{grey}" stroke-width="2.5">{inner}</path>'
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 12,
    fill: str = INK,
    weight: str = "normal",
    title: str | None = None,
) -> str:
    inner = (f"<title>{escape(title)}</title>" if title else "") + escape(content)
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f' font-weight="{weight}" fill="{fill}">{inner}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="1"/>'
    )


def _point_title(data: ChartData, series: Series, index: int, value: int) -> str:
    parts = [data.categories[index], series.label, str(value)]
    return ": ".join(p for p in parts if p)


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def _runs(values: Sequence[int | None]) -> list[list[tuple[int, int]]]:
    """The unbroken stretches of a line: a suppressed value breaks it."""
    runs: list[list[tuple[int, int]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((i, v))
    return [run for run in runs if len(run) > 1]


def _max(data: ChartData) -> int:
    return max((v for s in data.series for v in s.values if v is not None), default=0)


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above value (at least 5)."""
    if value <= 5:
        return 5
    power: int = 10 ** (len(str(value)) - 1)
    return next(factor * power for factor in (1, 2, 5, 10) if factor * power >= value)


def _ticks(top: int) -> list[int]:
    step = top // 5 if top % 5 == 0 else top // 4
    return list(range(0, top + 1, max(step, 1)))


def _unique(values: Iterable[Value]) -> list[Value]:
    return list(dict.fromkeys(values))
