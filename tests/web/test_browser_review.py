"""The weekly review in Debian's headless Chromium: a team member records a decision on a pattern at one week's
review, the next week's review shows what happened to it (new occurrences since, open then and now, overdue),
and an approver marks it done. Screenshots in test-artifacts/screenshots/review-*.png."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import screenshot
from tests.web.flow import PASSWORD
from tieout.config import load_project
from tieout.patterns import patterns
from tieout.rules.registry import load_rules

pytestmark = pytest.mark.browser
WEEK, NEXT_WEEK = date(2026, 2, 10), date(2026, 2, 20)  # stored days of the web world, the second the first a week on
OWNER = "<b>ar</b> =HYPERLINK(\"http://evil.example\")"


def _signed_in(browser: Any, base: str, name: str, path: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=base)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(path)
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path.split("?")[0])))
    return page


def test_record_a_decision_and_see_it_in_next_weeks_review(browser: Any, auth_server: str, flow_world: Path) -> None:
    project = load_project(flow_world)
    rules = load_rules(project)
    then = {p.id: p for p in patterns(project, rules, as_of=WEEK).patterns}
    key = max(then, key=lambda k: (then[k].open, then[k].count, k))

    alice = _signed_in(browser, auth_server, "alice", f"/review?as_of={WEEK}")
    assert f"to {WEEK}" in alice.locator("h1").inner_text()
    card = alice.locator(f"#p-{key}")
    card.get_by_label(f"Owner of {key}").fill(OWNER)
    card.get_by_label(f"Action on {key}").fill("bill on contract signature, not on go-live")
    card.get_by_label(f"Due date for {key}").fill("2026-02-15")
    card.get_by_role("button", name=f"Record decision on {key}").click()
    alice.wait_for_url(re.compile(r"done=recorded"))
    ref = re.search(r"recorded (D-\d+)", alice.locator(".flash").inner_text()).group(1)  # type: ignore[union-attr]
    row = alice.locator(f"#d-{ref}")
    assert OWNER in row.locator(".owner").inner_text()  # shown as text, never as markup
    assert row.locator(".owner b").count() == 0
    screenshot(alice, "review-decided")

    alice.get_by_role("link", name=f"week ending {NEXT_WEEK} →").click()
    alice.wait_for_url(re.compile(rf"as_of={NEXT_WEEK}"))
    row = alice.locator(f"#d-{ref}")
    now = {p.id: p for p in patterns(project, rules, as_of=NEXT_WEEK).patterns}
    outcome = row.locator(".chip.outcome").inner_text()
    if key in now:
        new_since = sum(1 for o in now[key].occurrences if o.episode.first_seen > WEEK)
        expected = "new occurrences" if new_since else "still open" if now[key].open else "cleared"
        assert row.locator("td").nth(6).inner_text() == f"{then[key].open} → {now[key].open}"
    else:
        expected = "pattern not found"
    assert outcome == expected
    # due 2026-02-15, reviewed on the 20th: overdue while there is still something to do
    assert (row.locator(".overdue").count() == 1) is (expected in ("new occurrences", "still open"))
    screenshot(alice, "review-next-week")
    alice.context.close()

    carol = _signed_in(browser, auth_server, "carol", f"/review?as_of={NEXT_WEEK}")
    carol.locator(f"#d-{ref}").get_by_role("button", name=f"Done {ref}").click()
    carol.wait_for_url(re.compile(r"marked\+done"))
    row = carol.locator(f"#d-{ref}")
    assert row.locator(".chip.outcome").inner_text() == "done" and "done by carol" in row.inner_text()
    assert row.get_by_role("button").count() == 0
    screenshot(carol, "review-done")
    carol.context.close()
