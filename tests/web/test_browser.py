"""End to end in a real headless Chromium (Debian's, driven by Playwright): the queue, filtering it with htmx
and without JavaScript, an exception, an entity, the timeline and the ownership page. Each test keeps a
screenshot in test-artifacts/screenshots/ to look at."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser


def _ids(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".queue-table tbody .id").all_inner_texts()]


def test_the_queue(page: Any) -> None:
    page.goto("/")
    assert page.title() == "Queue · tieout"
    assert page.locator(".queue-table tbody tr").count() >= 5
    assert page.locator(".queue-table tbody td.num").first.inner_text().startswith("USD ")
    screenshot(page, "queue")


def test_filter_the_queue_without_a_reload(page: Any, server: str) -> None:
    page.goto("/")
    page.evaluate("window.__kept = 'same page'")  # gone if the browser loaded a new document
    everything = _ids(page)
    page.locator("#f-severity-P1").click()
    page.wait_for_url(re.compile(r"\?severity=P1$"))
    page.wait_for_function(f"document.querySelectorAll('.queue-table tbody tr').length < {len(everything)}")
    assert page.evaluate("window.__kept") == "same page"
    assert {c.strip() for c in page.locator(".queue-table tbody td.sev").all_inner_texts()} == {"P1"}
    assert page.locator("#f-severity-P1").get_attribute("aria-current") == "true"
    screenshot(page, "queue-filtered-p1")
    # the keyboard: "/" focuses the search box, Enter applies it, with the P1 filter kept
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("FTE")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"severity=P1.*q=FTE"))
    page.wait_for_function("document.querySelectorAll('.queue-table tbody tr').length === 1")
    assert "FTE_THRESHOLD_DRIFT" in page.locator(".queue-table tbody").inner_text()
    # Back restores the unfiltered queue
    page.go_back()
    page.go_back()
    page.wait_for_url(f"{server}/")
    assert _ids(page) == everything


def test_filters_work_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.locator("#f-team-ar").click()
        page.wait_for_url(re.compile(r"\?team=ar$"))
        assert {t.strip() for t in page.locator(".queue-table tbody td.team").all_inner_texts()} == {"ar"}
        page.locator(".queue-table thead a", has_text="Age").click()
        page.wait_for_url(re.compile(r"team=ar&sort=age"))
        screenshot(page, "queue-no-javascript")
    finally:
        context.close()


def test_open_an_exception_with_owned_fields_marked(page: Any) -> None:
    page.goto("/?rule=OWNED_FIELD_MISMATCH")
    page.locator(".queue-table tbody .rule a").first.click()
    # the link carries the queue's view, for previous / next
    page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}\?rule=OWNED_FIELD_MISMATCH$"))
    assert page.locator("h1").inner_text().startswith("OWNED_FIELD_MISMATCH")
    differs = page.locator(".sides td.differs")
    assert differs.count() >= 1
    assert "owner (CRM):" in differs.first.inner_text()
    assert page.locator("#episodes + .table-wrap tbody tr").count() >= 1
    screenshot(page, "exception-ownership")


def test_open_a_resolved_exception(page: Any) -> None:
    page.goto("/?status=resolved&classification=timing&sort=newest")
    page.locator(".queue-table tbody .rule a").first.click()
    page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}\?status=resolved&classification=timing&sort=newest$"))
    assert "resolved" in page.locator(".head").inner_text()
    assert page.locator("#first-day").is_visible()
    screenshot(page, "exception-timing")


def test_open_an_entity(page: Any) -> None:
    page.goto("/")
    page.locator(".queue-table tbody td.subject a").first.click()
    page.wait_for_url(re.compile(r"/entities/C\d+$"))
    # headed by the entity's name, its id beside it
    heading = page.locator("h1")
    assert heading.locator(".entity-name").inner_text().strip()
    assert heading.inner_text().endswith(page.url.rsplit("/", 1)[1])
    assert page.locator(".sides .side").count() == 3
    screenshot(page, "entity")


def test_the_timeline_chart(page: Any) -> None:
    page.goto("/timeline")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart rect").count() > 10
    screenshot(page, "timeline")


def test_the_ownership_page(page: Any) -> None:
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ownership").click()
    page.wait_for_url(re.compile(r"/ownership$"))
    assert page.locator("h1").inner_text().startswith("Who owns what")
    screenshot(page, "ownership")
