"""End to end, signed in, in Debian's headless Chromium: a team member signs in, filters the queue, opens an
exception, assigns it and asks to suppress it; an approver signs in and approves. Screenshots in
test-artifacts/screenshots/flow-*.png."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.web.conftest import screenshot
from tests.web.flow import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page: Any, name: str) -> None:
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_assign_suppress_and_a_second_person_approves(browser: Any, auth_server: str) -> None:
    until = (date.today() + timedelta(days=30)).isoformat()
    a = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server)
    b = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server)
    try:
        page = a.new_page()
        page.set_default_timeout(20_000)
        page.goto("/")
        page.wait_for_url(re.compile(r"/login\?next="))
        screenshot(page, "flow-login")
        _sign_in(page, "alice")
        page.wait_for_url(f"{auth_server}/")
        assert "alice · team member" in page.locator(".topbar .user").inner_text()
        page.locator("#f-team-ar").click()
        page.wait_for_url(re.compile(r"\?team=ar$"))
        page.wait_for_function("[...document.querySelectorAll('.queue-table tbody td:nth-child(5)')]"
                               ".every(td => td.textContent.trim() === 'ar')")
        screenshot(page, "flow-queue-team-ar")
        page.locator(".queue-table tbody .rule a").first.click()
        page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}$"))
        url = page.url
        page.select_option("#assignee", "bob")
        page.locator("#assign-form button").click()
        page.wait_for_url(re.compile(r"done=assign"))
        assert "assigned to bob" in page.locator(".wf-status").inner_text()
        page.fill("#until", until)
        page.locator("#suppress-form input[name=comment]").fill("vendor fixes it next month")
        page.locator("#suppress-form button").click()
        page.wait_for_url(re.compile(r"done=suppress"))
        assert "Waiting for approval" in page.locator(".pending").inner_text()
        assert page.locator(".pending button").count() == 0  # alice cannot approve (nor could anyone their own)
        page.locator("#actions").scroll_into_view_if_needed()
        screenshot(page, "flow-suppress-requested")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login$"))

        other = b.new_page()
        other.set_default_timeout(20_000)
        other.goto(url)
        _sign_in(other, "carol")
        other.wait_for_url(url)
        other.locator(".pending").get_by_role("button", name="Approve").click()
        other.wait_for_url(re.compile(r"done=approve"))
        status = other.locator(".wf-status").inner_text()
        assert "suppressed" in status and until in status
        history = other.locator(".wf-history").inner_text()
        assert "approved by carol" in history and "assigned it to bob" in history
        screenshot(other, "flow-approved")
    finally:
        a.close()
        b.close()
