"""axe-core (vendored in web/vendor/axe.min.js) and layout checks, run inside a real page.

axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy stays in force and no
page of Kinline ever loads axe itself."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).resolve().parents[2] / "web" / "vendor" / "axe.min.js"
WCAG_22_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# Tagged "experimental" upstream, so off by default; it is the WCAG 2.5.3 check (label in name).
EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every WCAG 2.2 A and AA violation axe finds in the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result: dict[str, Any] = page.evaluate(
        """async ([tags, rules]) => await window.axe.run(document, {
               runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']})""",
        [WCAG_22_A_AA, EXTRA_RULES],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            summary = node.get("failureSummary", "")
            lines.append(f"{violation['id']} ({violation['impact']}): {node['target']} {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, state: str) -> None:
    """0 axe violations (WCAG 2.2 A and AA) in ``state``, with each failing node named when there are some."""
    violations = axe_violations(page)
    assert not violations, f"axe, {state}:\n{describe(violations)}"


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page can scroll sideways (0 when it fits its viewport)."""
    overflow: int = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return overflow


def assert_no_sideways_scroll(page: Page, state: str) -> None:
    overflow = sideways_overflow(page)
    assert overflow <= 0, f"{state}: the page scrolls {overflow} px sideways"
