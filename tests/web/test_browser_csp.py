"""The Content-Security-Policy in a real browser (Debian's headless Chromium): signed in, every kind of page
loads without one violation, and htmx still filters the queue in place under the policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.flow import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # ~25 s: every page in Chromium


def test_every_page_loads_under_the_policy_without_a_violation(browser: Any, auth_server: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        # Chromium reports each blocked script, style or frame as a console error naming the policy.
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto("/login")
        page.fill("#name", "root")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{auth_server}/")
        assert "frame-ancestors 'none'" in (page.request.get("/").headers.get("content-security-policy") or "")
        # htmx, under the policy: a filter swaps the table in place (the window's own value survives).
        page.evaluate("window.__kept = 'same page'")
        page.locator("#f-severity-P1").click()
        page.wait_for_url(re.compile(r"\?severity=P1$"))
        page.wait_for_function("[...document.querySelectorAll('.queue-table tbody td.sev')]"
                               ".every(td => td.textContent.trim() === 'P1')")
        assert page.evaluate("window.__kept") == "same page"
        exception = page.locator(".queue-table tbody .rule a").first.get_attribute("href")
        for path in (exception, "/timeline", "/ownership", "/corrections", "/audit"):
            page.goto(path)
            assert page.locator("h1").count() >= 1, path
        entity = page.goto("/corrections")
        assert entity is not None and entity.ok
        assert violations == []
    finally:
        context.close()
