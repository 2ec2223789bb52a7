"""Accessibility checks with axe-core in the page under test.

axe is vendored for tests only (``npm run vendor`` copies it to ``tests/browser/vendor/``).
Our pages forbid inline scripts (``script-src 'self'``), and ``add_script_tag(path=...)`` would
inline it, so the script is served instead from the page's own origin at an address the app
does not have, answered by Playwright's router: the page keeps its real Content-Security-Policy
while axe looks at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_ADDRESS = "/__browser-tests__/axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices (landmarks, headings, ...).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = ("serious", "critical")


def run_axe(page: Page, base_url: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `npm ci && npm run vendor`")
    address = f"{base_url}{AXE_ADDRESS}"
    page.route(
        address,
        lambda route: route.fulfill(
            path=str(AXE_SCRIPT), content_type="text/javascript; charset=utf-8"
        ),
    )
    page.add_script_tag(url=address)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    if not results["passes"] and not results["violations"]:
        raise AssertionError("axe checked nothing on the page")
    return results["violations"]


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in violations if item["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One paragraph per rule: impact, rule id, what it checks, and each element it failed on."""
    if not violations:
        return "no violations"
    lines = []
    for item in violations:
        lines.append(f"[{item['impact']}] {item['id']}: {item['help']} ({item['helpUrl']})")
        for node in item["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n       ")
            if summary:
                lines.append(f"       {summary}")
    return "\n".join(lines)
