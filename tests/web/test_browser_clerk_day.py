"""A clerk's whole day in Debian's headless Chromium at a laptop's 1366×768 (issue: "A clerk's whole day"):
bob (ar) signs in to his queue, finds a customer by name, opens it and steps to the next one, acknowledges
three at once, assigns one to alice, asks to map an unmapped record — which carol, an approver, approves into
entity_map.csv —, corrects a billed FTE with the old value filled in from the store, and downloads his view as
CSV and Excel. Screenshots in test-artifacts/screenshots/clerk-day-*.png.

The day works on its own copy of the web world and its own server: what it writes is seen by no other test."""

from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.web.conftest import _serve, screenshot
from tests.web.flow import PASSWORD, add_people
from tieout.config import load_project
from tieout.web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def day(world: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "world"
    shutil.copytree(world, folder)
    with open(folder / "tieout.yml", "a", encoding="utf-8") as config:  # maker-checker for corrections on
        config.write("workflow:\n  correction_approval_over: '1000.00'\n")
    add_people(load_project(folder))
    served = _serve(create_app(load_project(folder)))
    yield next(served), folder
    next(served, None)


def _sign_in(browser: Any, url: str, name: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def _ids(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".queue-table tbody .id").all_inner_texts()]


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def test_a_clerks_day(browser: Any, day: tuple[str, Path]) -> None:
    url, folder = day
    page = _sign_in(browser, url, "bob")
    approver = None
    try:
        # 1. My queue: ar's exceptions, nothing cut at 1366 px.
        assert page.locator("#view-mine").get_attribute("aria-current") == "page"
        assert {t.strip() for t in page.locator(".queue-table tbody td.team").all_inner_texts()} == {"ar"}
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        screenshot(page, "clerk-day-1-my-queue")
        every = page.request.get("/api/exceptions").json()
        mine = [e for e in every if e["team"] == "ar" and e["status"] == "open"]

        # 2. A customer on the phone: found by name, typed without its accents and in lower case.
        named = next(e for e in mine if e["entity_name"] and e["canonical_id"])
        page.fill("#q", _plain(named["entity_name"]))
        page.locator("#q").press("Enter")
        page.wait_for_url(re.compile(r"[?&]q="))
        assert named["id"] in _ids(page)
        assert named["entity_name"] in page.locator(".queue-table tbody").inner_text()
        screenshot(page, "clerk-day-2-search-by-name")

        # 3. Open the first of my queue, then the next one.
        page.goto("/")
        first = _ids(page)[0]
        page.locator(".queue-table tbody .rule a").first.click()
        page.wait_for_url(re.compile(rf"/exceptions/{first}"))
        assert "1 of" in page.locator(".pager").inner_text()
        page.locator("#next").click()
        page.wait_for_url(re.compile(r"/exceptions/[0-9a-f]{16}"))
        assert "2 of" in page.locator(".pager").inner_text()
        screenshot(page, "clerk-day-3-next")

        # 4. Three acknowledged at once.
        page.goto("/?workflow=open")
        rows = page.locator(".queue-table tbody tr")
        picked = [rows.nth(i).locator(".id").inner_text().strip() for i in range(3)]
        for i in range(3):
            rows.nth(i).locator("input[name=item]").check()
        page.locator("#bulk-ack").click()
        page.wait_for_url(re.compile(r"done=bulk-ack&n=3"))
        assert "3 exceptions acknowledged." in page.locator("#bulk-report").inner_text()
        page.goto("/?workflow=acknowledged")
        assert set(picked) <= set(_ids(page))
        screenshot(page, "clerk-day-4-acknowledged")

        # 5. One assigned to alice: it leaves bob's queue for hers.
        page.goto("/?workflow=open")
        rest = [i for i in _ids(page) if i not in picked]
        page.goto(f"/exceptions/{rest[0]}")
        page.select_option("#assignee", "alice")
        page.locator("#assign-form button[value=assign]").click()
        page.wait_for_url(re.compile(r"done=assign"))
        assert "assigned to <strong>alice</strong>" in page.content()
        page.goto("/")
        assert rest[0] not in _ids(page)

        # 6. An unmapped record mapped from its page; carol approves; the row lands in the entity map.
        unmapped = next(e for e in every if e["rule"] == "UNMAPPED_SOURCE_RECORD" and e["team"] == "ar")
        page.goto(f"/exceptions/{unmapped['id']}#mapping")
        form = page.locator("form.map-form")
        form.locator("input[name=reason]").fill("customer confirmed on the phone")
        targets = form.locator("button[name=canonical_id]")
        (targets.first if targets.count() else form.locator("button[name=new_entity]")).click()
        page.wait_for_url(re.compile(r"mapped=MR-\d+"))
        ref = re.search(r"mapped=(MR-\d+)", page.url).group(1)  # type: ignore[union-attr]
        assert f"{ref}</span> waits for a second person" in page.content()
        screenshot(page, "clerk-day-6-map-asked")
        entity_map = folder / "entity_map.csv"
        before = entity_map.read_bytes()
        approver = _sign_in(browser, url, "carol")
        approver.goto("/corrections")
        approver.locator(f'form[action="/map-requests/{ref}/approve"] button[type=submit]').first.click()
        approver.wait_for_url(re.compile(rf"done=approved-{ref}"))
        screenshot(approver, "clerk-day-6-map-approved")
        added = entity_map.read_bytes()[len(before):].decode()
        assert added.count("\n") == 1 and f",{unmapped['source_system']},{unmapped['source_id']}," in added

        # 7. A billed FTE corrected: the old value comes from the stored record, not from bob.
        drift = next(e for e in every if e["rule"] == "FTE_THRESHOLD_DRIFT")
        page.goto("/corrections")
        form = page.locator("form.correct-form")
        form.locator("select[name=system]").select_option("billing")
        form.locator("select[name=field]").select_option("billed_fte")
        form.locator("input[name=canonical_id]").fill(drift["canonical_id"])
        form.locator("input[name=canonical_id]").dispatch_event("change")
        stored = page.request.get(f"/api/corrections/current?entity={drift['canonical_id']}&system=billing"
                                  "&field=billed_fte").json()["value"]
        expect(form.locator("input[name=old_value]")).to_have_value(stored)  # filled in by the page, not typed
        old = form.locator("input[name=old_value]").input_value()
        form.locator("input[name=new_value]").fill(str(int(old) + 5))
        form.locator("input[name=reason]").fill("seats added on the order form")
        screenshot(page, "clerk-day-7-correct-fte")
        form.get_by_role("button", name="Record the correction").click()
        # its impact (5 seats at the entity's price) is above the project's USD 1,000.00: a second person decides
        page.wait_for_url(re.compile(r"done=held-CR-\d+"))
        held = re.search(r"CR-\d+", page.url).group(0)  # type: ignore[union-attr]
        assert "Held for approval" in page.locator(".flash.ok[role=status]").inner_text()
        approver.goto("/corrections")
        approver.locator(f'form[action="/corrections/requests/{held}/approve"] button[type=submit]').first.click()
        approver.wait_for_url(re.compile(rf"done=approved-{held}"))
        screenshot(approver, "clerk-day-7-correction-approved")

        # 8. The view downloaded, as CSV and as Excel: the same rows as the page, names included.
        page.goto("/?view=all")
        shown = _ids(page)
        with page.expect_download() as got:
            page.locator("#download-csv").click()
        rows_csv = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
        assert [r["id"] for r in rows_csv] == shown and "entity_name" in rows_csv[0]
        with page.expect_download() as got:
            page.locator("#download-xlsx").click()
        sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)["Exceptions"]
        values = list(sheet.iter_rows(values_only=True))
        at = next(n for n, row in enumerate(values) if "ID" in row and "Name" in row)  # below the sheet's title
        header = list(values[at])
        assert [row[header.index("ID")] for row in values[at + 1:] if row[header.index("ID")]] == shown
        assert named["entity_name"] in {row[header.index("Name")] for row in values[at + 1:]}
        screenshot(page, "clerk-day-8-all-teams")
    finally:
        for signed_in in (page, approver):
            if signed_in is not None:
                signed_in.context.close()
