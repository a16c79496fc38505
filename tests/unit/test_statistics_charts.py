"""The SVG plots: well-formed, every text escaped, suppressed cells never drawn as numbers, series
apart without colour, and the accessible name and description in place."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from server.config.i18n import Catalogs
from server.config.paths import web_dir
from server.domain.errors import InvalidInput
from server.domain.statistics.charts import ChartData, ChartWords, Series, bar_chart, chart_data, line_chart
from server.domain.statistics.tables import Cell, Table, Value
from server.transports.http.stats_chart_routes import chart_svg, value_label, week_range

SVG = "{http://www.w3.org/2000/svg}"
WORDS = ChartWords(
    title="Contacts per week",
    description="Counts from 2026-W01 to 2026-W04.",
    value_axis="Contacts",
    suppressed="<5",
    suppressed_note="<5: fewer than 5, not shown",
    empty="No contacts in these weeks.",
)
HOSTILE = "<script>alert(\"x\")</script> & 'quote'"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{SVG}text")]


def visible_texts(svg: str) -> list[str]:
    """The text elements' own words, without their hover titles."""
    return [(t.text or "") + "".join(c.tail or "" for c in t) for t in parse(svg).iter(f"{SVG}text")]


def label(dimension: str, value: Value) -> str:
    return f"{dimension}:{value}"


WEEKS = ("2026-W01", "2026-W02", "2026-W03", "2026-W04")


def weekly(counts: list[int | None]) -> ChartData:
    return ChartData(WEEKS, (Series("", tuple(counts)),))


class TestAccessibleAndSelfContained:
    @pytest.mark.parametrize("draw", [line_chart, bar_chart])
    def test_it_is_an_image_with_a_name_a_title_and_a_description(self, draw: object) -> None:
        root = parse(draw(weekly([7, 9, 12, 6]), WORDS))  # type: ignore[operator]
        assert root.get("role") == "img"
        assert root.get("aria-label") == WORDS.title
        assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text == WORDS.title  # type: ignore[union-attr]
        assert root.find(f"{SVG}desc").text == WORDS.description  # type: ignore[union-attr]

    @pytest.mark.parametrize("draw", [line_chart, bar_chart])
    def test_it_refers_to_nothing_outside_itself(self, draw: object) -> None:
        svg = draw(weekly([7, 9, 12, 6]), WORDS)  # type: ignore[operator]
        assert "<script" not in svg and "<style" not in svg and "@import" not in svg
        assert "href" not in svg and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "style=" not in svg


class TestEscaping:
    @pytest.mark.parametrize("draw", [line_chart, bar_chart])
    def test_hostile_labels_and_words_stay_text(self, draw: object) -> None:
        data = ChartData((HOSTILE, "b"), (Series(HOSTILE, (6, None)), Series("two", (8, 9))))
        words = ChartWords(HOSTILE, HOSTILE, HOSTILE, "<5", HOSTILE, HOSTILE)
        svg = draw(data, words)  # type: ignore[operator]
        root = parse(svg)  # well-formed although every text carries markup
        assert "<script>" not in svg
        assert not list(root.iter(f"{SVG}script"))
        assert root.get("aria-label") == HOSTILE
        assert any(HOSTILE in t for t in texts(svg))


class TestSuppressedCells:
    def test_a_suppressed_week_breaks_the_line_and_shows_the_suppression_text(self) -> None:
        svg = line_chart(weekly([7, None, 12, 6]), WORDS)
        lines = list(parse(svg).iter(f"{SVG}polyline"))
        # Week 1 stands alone (no line of one point); weeks 3 and 4 make the only segment.
        assert len(lines) == 1
        assert len(lines[0].get("points", "").split()) == 2
        assert "<5" in visible_texts(svg)
        assert WORDS.suppressed_note in visible_texts(svg)

    def test_a_suppressed_bar_is_not_drawn_and_no_number_stands_for_it(self) -> None:
        data = ChartData(("a", "b", "c"), (Series("", (7, None, 12)),))
        svg = bar_chart(data, WORDS)
        bars = [r for r in parse(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
        assert [r.find(f"{SVG}title").text for r in bars] == ["a: 7", "c: 12"]  # type: ignore[union-attr]
        shown = visible_texts(svg)
        assert "<5" in shown and "7" in shown and "12" in shown
        assert WORDS.suppressed_note in shown

    def test_no_note_when_nothing_is_suppressed(self) -> None:
        assert WORDS.suppressed_note not in visible_texts(bar_chart(weekly([7, 9, 12, 6]), WORDS))

    def test_suppressed_cells_become_gaps(self) -> None:
        table = Table(("topic",), 5, (Cell(("a",), 8), Cell(("b",), None), Cell(("c",), 6)), None)
        data = chart_data(table, ["topic"], label)
        assert data.categories == ("topic:a", "topic:b", "topic:c")
        assert data.series[0].values == (8, None, 6)


class TestTableToChart:
    def test_two_dimensions_make_one_series_per_value_of_the_second(self) -> None:
        cells = (
            Cell(("sv", "2026-W01"), 9),
            Cell(("ar", "2026-W01"), 6),
            Cell(("sv", "2026-W02"), 11),
        )
        table = Table(("language", "week"), 5, cells, 26)
        data = chart_data(table, ["week", "language"], label, categories=["2026-W01", "2026-W02", "2026-W03"])
        assert data.categories == ("week:2026-W01", "week:2026-W02", "week:2026-W03")
        assert [(s.label, s.values) for s in data.series] == [
            ("language:sv", (9, 11, 0)),
            ("language:ar", (6, 0, 0)),
        ]

    def test_series_are_told_apart_without_colour(self) -> None:
        data = ChartData(WEEKS, tuple(Series(f"s{i}", (6, 7, 8, 9)) for i in range(4)))
        svg = line_chart(data, WORDS)
        dashes = {p.get("stroke-dasharray") for p in parse(svg).iter(f"{SVG}polyline")}
        assert len(dashes) == 4
        bars = bar_chart(data, WORDS)
        fills = {r.get("fill") for r in parse(bars).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
        assert len(fills) == 4
        assert sum(1 for f in fills if f and f.startswith("url(#p-")) >= 2


class TestEmptyAndScale:
    @pytest.mark.parametrize("draw", [line_chart, bar_chart])
    def test_no_categories_says_so(self, draw: object) -> None:
        svg = draw(ChartData((), ()), WORDS)  # type: ignore[operator]
        assert WORDS.empty in visible_texts(svg)

    def test_the_value_axis_reaches_the_largest_count(self) -> None:
        svg = line_chart(weekly([7, 9, 130, 6]), WORDS)
        ticks = [int(t) for t in visible_texts(svg) if re.fullmatch(r"\d+", t)]
        assert max(ticks) >= 130

    def test_long_labels_are_shortened_with_the_whole_label_as_a_title(self) -> None:
        long = "I want to leave a violent extremist environment myself"
        svg = bar_chart(ChartData((long,), (Series("", (9,)),)), WORDS)
        assert any(t.endswith("…") for t in visible_texts(svg))
        titles = [t.text for t in parse(svg).iter(f"{SVG}title")]
        assert long in titles


CATALOGS = Catalogs(web_dir() / "i18n")
TOPIC_TABLE = Table(
    ("topic", "language"),
    5,
    (
        Cell(("worried_about_someone", "ar"), 12),
        Cell(("worried_about_someone", "sv"), None),
        Cell(("professional", "sv"), 7),
        Cell(("professional", "ar"), None),
    ),
    None,
)


class TestWordsFromTheCatalogs:
    @pytest.mark.parametrize(
        ("language", "topic", "arabic", "title"),
        [
            ("sv", "Jag är orolig för någon i min närhet", "arabiska", "Kontakter efter ämne × språk"),
            ("en", "I am worried about someone close to me", "Arabic", "Contacts by topic × language"),
        ],
    )
    def test_labels_and_titles_are_in_the_console_language(
        self, language: str, topic: str, arabic: str, title: str
    ) -> None:
        svg = chart_svg(TOPIC_TABLE, "2026-W01", "2026-W12", "bar", language, CATALOGS)
        root = parse(svg)
        assert root.get("aria-label") == title
        titles = [t.text for t in root.iter(f"{SVG}title")]
        assert topic in titles
        assert arabic in visible_texts(svg)
        assert "<5" in visible_texts(svg)
        assert "2026-W01" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]

    def test_a_value_without_words_is_shown_as_it_is_and_none_as_not_set(self) -> None:
        assert value_label(CATALOGS, "en", "district", "spanga-tensta") == "spanga-tensta"
        assert value_label(CATALOGS, "en", "topic", "new_topic") == "new_topic"
        assert value_label(CATALOGS, "sv", "milieu", None) == "Inte angivet"
        assert value_label(CATALOGS, "en", "channel", "visit") == "Visit"

    def test_the_line_puts_every_week_along_even_without_contacts(self) -> None:
        table = Table(("week",), 5, (Cell(("2026-W02",), 9),), 9)
        svg = chart_svg(table, "2025-W52", "2026-W03", "line", "en", CATALOGS)
        assert week_range("2025-W52", "2026-W03") == ["2025-W52", "2026-W01", "2026-W02", "2026-W03"]
        shown = visible_texts(svg)
        assert all(week in shown for week in week_range("2025-W52", "2026-W03"))

    def test_a_line_needs_weeks_and_the_chart_must_be_known(self) -> None:
        with pytest.raises(InvalidInput):
            chart_svg(TOPIC_TABLE, "2026-W01", "2026-W12", "line", "en", CATALOGS)
        with pytest.raises(InvalidInput):
            chart_svg(TOPIC_TABLE, "2026-W01", "2026-W12", "pie", "en", CATALOGS)
