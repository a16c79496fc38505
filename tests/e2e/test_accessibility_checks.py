"""The accessibility checks themselves can fail: axe finds a known violation and the overflow check sees a
page wider than its viewport."""

from __future__ import annotations

import pytest

from tests.e2e.accessibility import assert_accessible, axe_violations, sideways_overflow
from tests.e2e.browser import PageProblems, chromium, open_page

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html lang="en"><head>
<meta name="viewport" content="width=device-width"><title>t</title></head><body><main>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button>
<div style="width: 900px">wide</div></main></body></html>"""


def test_axe_and_overflow_checks_report_what_is_wrong() -> None:
    with chromium() as browser:
        page = open_page(browser, "http://127.0.0.1:9", PageProblems(), "probe", phone=True)
        page.set_viewport_size({"width": 320, "height": 640})
        page.set_content(BROKEN)
        found = {violation["id"] for violation in axe_violations(page)}
        assert {"image-alt", "button-name"} <= found
        assert sideways_overflow(page) > 0
        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(page, "a broken page")
