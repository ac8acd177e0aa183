"""`tieout report daily --as-of D` covers the changes since the stored day before D: with days never run in
between, or run later out of order, every event lands in exactly one day's report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import invoke, new_project, run_days
from tests.test_notify_windows import DAYS, STRAY, UNBILLED


def _daily(project: Path, day: str) -> dict:
    result = invoke("report", "daily", "-p", str(project), "--as-of", day, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _events(report: dict) -> set[tuple[str, str, str]]:
    return {(kind, i["rule"], i["first_seen"] if kind != "resolved" else i["resolved_on"])
            for t in report["teams"] for kind in ("new", "reopened", "resolved") for i in t[kind]}


def test_a_gap_in_the_stored_days_loses_no_event(tmp_path: Path) -> None:
    # unbilled on day 2, billed again by day 4; a stray customer from day 4 — days 3 and 4 are not run at first
    project = new_project(tmp_path / "p", {DAYS[0]: {}, DAYS[1]: UNBILLED, DAYS[2]: UNBILLED, DAYS[3]: STRAY,
                                           DAYS[4]: STRAY})
    run_days(project, DAYS[0], DAYS[1], DAYS[4])
    fifth = _daily(project, DAYS[4])
    assert fifth["previous_day"] == DAYS[1]
    assert _events(fifth) == {("new", "UNMAPPED_SOURCE_RECORD", DAYS[4]),
                              ("resolved", "CRM_ACTIVE_BILLING_INACTIVE", DAYS[4]),
                              ("resolved", "OPS_ACTIVE_BILLING_INACTIVE", DAYS[4])}
    # the skipped days run later: their events move to their own reports, and the reports still add up
    run_days(project, DAYS[3], DAYS[2])
    assert _daily(project, DAYS[4])["previous_day"] == DAYS[3] and _events(_daily(project, DAYS[4])) == set()
    every = [e for day in DAYS for e in _events(_daily(project, day))]
    assert sorted(every) == sorted([
        ("new", "CRM_ACTIVE_BILLING_INACTIVE", DAYS[1]), ("new", "OPS_ACTIVE_BILLING_INACTIVE", DAYS[1]),
        ("new", "UNMAPPED_SOURCE_RECORD", DAYS[3]),
        ("resolved", "CRM_ACTIVE_BILLING_INACTIVE", DAYS[3]), ("resolved", "OPS_ACTIVE_BILLING_INACTIVE", DAYS[3])])


def test_a_team_heading_holds_its_figures_and_names_what_is_quiet(tmp_path: Path) -> None:
    """Each team's figures stand under its own heading, parts with nothing in them are said in one line there
    (no heading or sheet of their own saying "None."), and sheets carry the team's whole name."""
    import openpyxl

    project = new_project(tmp_path / "p", {DAYS[0]: {}, DAYS[1]: UNBILLED},
                          yml="rules:\n  CRM_ACTIVE_BILLING_INACTIVE: {team: accounts_receivable}\n")
    run_days(project, DAYS[0], DAYS[1])
    md = invoke("report", "daily", "-p", str(project), "--as-of", DAYS[1], "--format", "md").stdout
    assert "_None._" not in md
    assert "## accounts_receivable\n\n" in md and "Nothing reopened or resolved since the last run." in md
    out = tmp_path / "d.xlsx"
    assert invoke("report", "daily", "-p", str(project), "--as-of", DAYS[1], "--format", "xlsx",
                  "-o", str(out)).exit_code == 0
    sheets = openpyxl.load_workbook(out).sheetnames
    assert "accounts_receivable new" in sheets and not any("reopened" in s or "resolved" in s for s in sheets)
