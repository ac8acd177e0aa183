"""Month-end sign-off in Debian's headless Chromium: a team member prepares January on the Months page, an
approver reviews it (the month is closed, its pack downloads as signed), then reopens it with a reason.
Screenshots in test-artifacts/screenshots/months-*.png."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.web.conftest import screenshot
from tests.web.flow import PASSWORD

pytestmark = pytest.mark.browser


def _signed_in(browser: Any, base: str, name: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=base, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/months")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/months$"))
    return page


def test_prepare_review_download_and_reopen_a_month(browser: Any, auth_server: str) -> None:
    alice = _signed_in(browser, auth_server, "alice")
    row = alice.locator("#m-2026-01")
    assert "open" in row.locator(".chip").inner_text()
    assert row.get_by_role("button", name="Review 2026-01").count() == 0  # a team member prepares, never reviews
    row.get_by_role("button", name="Prepare 2026-01").click()
    alice.wait_for_url(re.compile(r"done=prepare-2026-01"))
    assert "prepared" in alice.locator("#m-2026-01 .chip").inner_text()
    assert "prepared by alice" in alice.locator("#m-2026-01").inner_text()
    screenshot(alice, "months-prepared")
    alice.context.close()

    carol = _signed_in(browser, auth_server, "carol")
    carol.locator("#m-2026-01").get_by_role("button", name="Review 2026-01").click()
    carol.wait_for_url(re.compile(r"done=review-2026-01"))
    row = carol.locator("#m-2026-01")
    assert "closed" in row.locator(".chip").inner_text() and "reviewed by carol" in row.inner_text()
    with carol.expect_download() as got:
        row.get_by_role("link", name="json").click()
    signed = json.loads(open(got.value.path(), encoding="utf-8").read())
    assert signed["sign_off"]["prepared_by"]["name"] == "alice"
    assert signed["sign_off"]["reviewed_by"]["name"] == "carol"
    screenshot(carol, "months-closed")

    row.locator("input[name=reason]").fill("late credit note <b>Acme</b>")
    row.get_by_role("button", name="Reopen 2026-01").click()
    carol.wait_for_url(re.compile(r"done=reopen-2026-01"))
    row = carol.locator("#m-2026-01")
    assert "reopened" in row.locator(".chip").inner_text()
    assert "late credit note <b>Acme</b>" in row.inner_text()  # shown as text, never as markup
    assert row.locator("b").count() == 0
    screenshot(carol, "months-reopened")
    carol.context.close()
