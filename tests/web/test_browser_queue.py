"""A clerk's queue in Debian's headless Chromium at a laptop's 1366×768: signed in, my queue by default, every
column (the assignee's included) inside the window, three exceptions ticked and acknowledged at once, the view
downloaded, and previous / next through the view. Screenshots in test-artifacts/screenshots/queue-work-*.png."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import screenshot
from tests.web.flow import PASSWORD

pytestmark = pytest.mark.browser


def test_my_queue_fits_1366_and_three_are_acknowledged_at_once(browser: Any, auth_server: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto("/?workflow=open&sort=age")
        page.fill("#name", "bob")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/\?workflow=open&sort=age$"))
        assert page.locator("#view-mine").get_attribute("aria-current") == "page"
        assert "Team ar: assigned to you (bob) or to nobody." in page.locator(".views").inner_text()
        teams = {t.strip() for t in page.locator(".queue-table tbody td.team").all_inner_texts()}
        assert teams == {"ar"}

        # Nothing is cut at 1366 px: no sideways scrolling, and the assignee column ends inside the window.
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        assert page.evaluate("document.querySelector('.table-wrap').scrollWidth <= "
                             "document.querySelector('.table-wrap').clientWidth")
        right = page.evaluate("document.querySelector('.queue-table th:last-child').getBoundingClientRect().right")
        assert page.locator(".queue-table th:last-child").inner_text().strip().lower() == "assignee"
        assert right <= 1366
        screenshot(page, "queue-work-my-queue-1366")

        rows = page.locator(".queue-table tbody tr")
        assert rows.count() >= 3
        ids = [rows.nth(i).locator(".id").inner_text().strip() for i in range(3)]
        for i in range(3):
            rows.nth(i).locator("input[name=item]").check()
        assert page.locator("#bulk-count").inner_text() == f"3 of {rows.count()}"
        screenshot(page, "queue-work-three-selected")
        page.locator("#bulk-ack").click()
        page.wait_for_url(re.compile(r"done=bulk-ack&n=3"))
        assert "3 exceptions acknowledged." in page.locator("#bulk-report").inner_text()
        # still in the same view (workflow=open): the three have left it, acknowledged
        shown = [t.strip() for t in page.locator(".queue-table tbody .id").all_inner_texts()]
        assert not set(ids) & set(shown)
        page.goto("/?workflow=acknowledged")
        acknowledged = [t.strip() for t in page.locator(".queue-table tbody .id").all_inner_texts()]
        assert set(ids) <= set(acknowledged)
        screenshot(page, "queue-work-acknowledged")

        with page.expect_download() as download:
            page.locator("#download-csv").click()
        text = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115 - read once
        assert text.splitlines()[0].startswith("id,rule,") and all(i in text for i in ids)

        # previous / next through the view
        page.locator(".queue-table tbody .rule a").first.click()
        page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}\?workflow=acknowledged$"))
        assert "1 of" in page.locator(".pager").inner_text()
        if page.locator("#next").count():
            page.locator("#next").click()
            page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}\?workflow=acknowledged$"))
            assert "2 of" in page.locator(".pager").inner_text()
        screenshot(page, "queue-work-exception-1366")
    finally:
        context.close()


def test_the_patterns_page_links_to_a_patterns_exceptions(page: Any) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patterns").click()
    page.wait_for_url(re.compile(r"/patterns$"))
    assert page.locator(".patterns-table tbody tr").count() >= 1
    screenshot(page, "patterns")
    page.locator(".patterns-table tbody .pattern-link").first.click()
    page.wait_for_url(re.compile(r"/\?view=all&status=all&pattern=[0-9a-f]{12}$"))
    assert page.locator(".pattern-note").is_visible() and page.locator(".queue-table tbody tr").count() >= 1
