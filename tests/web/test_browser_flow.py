"""End to end, signed in, in Debian's headless Chromium: a team member signs in, filters the queue, opens an
exception, assigns it and asks to suppress it; an approver signs in and approves. A team member records a
correction above the approval threshold on the corrections page; an approver approves it there. Screenshots in
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
        page.wait_for_function("[...document.querySelectorAll('.queue-table tbody td.team')]"
                               ".every(td => td.textContent.trim() === 'ar')")
        screenshot(page, "flow-queue-team-ar")
        page.locator(".queue-table tbody .rule a").first.click()
        page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}\?team=ar$"))  # the queue's view, carried
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


def test_a_correction_above_the_threshold_is_approved_by_a_second_person(browser: Any, auth_server: str) -> None:
    a = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server)
    b = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=auth_server)
    try:
        page = a.new_page()
        page.set_default_timeout(20_000)
        page.goto("/corrections")
        _sign_in(page, "alice")
        page.wait_for_url(f"{auth_server}/corrections")
        at_risk = [e for e in page.request.get("/api/exceptions").json() if e["canonical_id"] and e["impact"] > 1000]
        entity = at_risk[0]["canonical_id"]
        form = page.locator("form.correct-form")
        form.locator("input[name=canonical_id]").fill(entity)
        form.locator("select[name=system]").select_option("billing")
        form.locator("select[name=field]").select_option("legal_name")
        # The old value is the record's, filled in from the store when the field is chosen: nobody types it.
        stored = page.request.get(f"/api/corrections/current?entity={entity}&system=billing&field=legal_name")
        assert stored.ok, stored.text()
        page.wait_for_function("v => document.querySelector('form.correct-form [name=old_value]').value === v",
                               arg=stored.json()["value"] or "")
        form.locator("input[name=new_value]").fill("Globex Analytics Inc.")
        form.locator("input[name=reason]").fill("typo at onboarding, confirmed with the customer")
        form.locator("input[name=ticket]").fill("FIN-1042")
        form.get_by_role("button", name="Record the correction").click()
        page.wait_for_url(re.compile(r"done=held-CR-\d+"))
        ref = re.search(r"CR-\d+", page.url).group(0)  # type: ignore[union-attr]
        row = page.locator(f"tr[id='{ref}']")
        assert "your request: someone else decides" in row.inner_text()
        assert row.get_by_role("button", name="Approve").count() == 0
        assert re.search(r"USD \d{1,3}(,\d{3})*\.\d\d", row.inner_text())
        screenshot(page, "flow-correction-requested")
        page.goto("/?team=ar")
        screenshot(page, "flow-queue-workflow")

        other = b.new_page()
        other.set_default_timeout(20_000)
        other.goto("/corrections")
        _sign_in(other, "carol")
        other.wait_for_url(f"{auth_server}/corrections")
        other.locator(f"tr[id='{ref}'] input[name=comment]").fill("matches the signed contract")
        other.locator(f"tr[id='{ref}']").get_by_role("button", name="Approve").click()
        other.wait_for_url(re.compile(rf"done=approved-{ref}"))
        assert f"{ref} approved" in other.locator(".flash.ok[role=status]").inner_text()
        logged = other.locator(".log-table tbody tr").first.inner_text()
        assert "alice" in logged and "carol" in logged and "FIN-1042" in logged and entity in logged
        assert "corrections log intact" in other.locator("#verdict").inner_text()
        screenshot(other, "flow-correction-approved")
    finally:
        a.close()
        b.close()
