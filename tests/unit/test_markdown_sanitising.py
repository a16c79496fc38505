"""Articles and resource texts are Markdown rendered by markdown-it-py and cleaned by nh3: hostile
input never reaches a page as markup that runs or loads anything."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from server.transports.markdown import render

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "![tracker](https://tracker.example/pixel.gif)",
    '<a href="javascript:alert(1)">raw link</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<svg onload=alert(1)>",
    '<p onclick="alert(1)">click</p>',
    "[x](vbscript:msgbox(1))",
    "<!-- a comment --><style>body{display:none}</style>",
    '<form action="https://evil.example"><input name="q"></form>',
]
SAFE_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "code",
    "pre",
    "hr",
}
SAFE_SCHEMES = ("https:", "http:", "mailto:", "tel:")


class Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("markdown", HOSTILE)
def test_hostile_markdown_leaves_no_markup_that_runs_or_loads(markdown: str) -> None:
    html = render(markdown)
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS, html
        for name, value in attrs:
            assert name in {"href", "rel", "start"}, html
            if name == "href":
                assert (value or "").strip().lower().startswith(SAFE_SCHEMES), html
    assert "<script" not in html.lower() and "<img" not in html.lower(), html


def test_raw_html_is_shown_as_text_not_passed_through() -> None:
    assert render("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_ordinary_markdown_keeps_its_structure_and_safe_links() -> None:
    html = render("## Help\n\n- **112** now\n- [1177](https://www.1177.se) or [call](tel:1177)\n")
    assert "<h2>Help</h2>" in html
    assert "<strong>112</strong>" in html
    assert '<a href="https://www.1177.se" rel="noopener noreferrer nofollow">1177</a>' in html
    assert '<a href="tel:1177" rel="noopener noreferrer nofollow">call</a>' in html
