"""The weekly review's sections, each recomputed from the store another way (the timeline's episodes, `tieout
exceptions --as-of`, the corrections log, the patterns' own occurrences), and the decisions of one review
followed into the next: on the command line, with their roles, refusals, audit entries and hostile values in
every format.

The world is the small demo world (tests.conftest.backfilled_demo), copied: decisions and corrections write
into its state database.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import backfilled_demo, invoke_as
from tieout import state
from tieout.config import Project, load_project
from tieout.corrections.log import record_correction
from tieout.patterns import patterns
from tieout.reports import build, render, write_xlsx
from tieout.rules.registry import load_rules
from tieout.state.tables import actions
from tieout.store import stored_days
from tieout.timeline import episodes
from tieout.workflow.audit import entries

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("state_in_the_project")]
PASSWORD = "correct horse battery"
HOSTILE_OWNER = '=HYPERLINK("http://evil.example","x")'
HOSTILE_ACTION = "<script>alert(1)</script> | [link](http://evil.example) @SUM(A1)"


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(backfilled_demo(tmp_path_factory), folder)
    for name, role, teams in (("ana", "team_member", ("ar",)), ("carol", "approver", ()), ("dave", "auditor", ())):
        added = invoke_as("users", "add", name, "--role", role, *[a for t in teams for a in ("--team", t)],
                          "--password-stdin", "-p", str(folder), stdin=PASSWORD + "\n")
        assert added.exit_code == 0, added.output
    return folder


def _review_day(project: Project, rules: dict[str, Any]) -> date:
    """A stored day whose week resolved some episodes and began others, with an earlier stored week before it."""
    days = stored_days(project)
    found = episodes(project, until=days[-1])
    for end in reversed(days):
        start = end - timedelta(days=6)
        resolved = [e for e in found if e.resolved_on and start <= e.resolved_on <= end]
        begun = [e for e in found if start <= e.first_seen <= end]
        if len(resolved) >= 3 and begun and end - timedelta(days=14) >= days[0]:
            return end
    raise AssertionError("the demo world has no week with three resolutions")


def _new_per_pattern(project: Project, rules: dict[str, Any], end: date, first: date, last: date) -> dict[str, int]:
    """Per pattern as of `end`, its occurrences first seen in [first, last] — read off the occurrences."""
    return {p.id: sum(1 for o in p.occurrences if first <= o.episode.first_seen <= last)
            for p in patterns(project, rules, as_of=end).patterns}


def test_each_section_recomputed_from_the_store(world: Path) -> None:
    project = load_project(world)
    rules = load_rules(project)
    end = _review_day(project, rules)
    start = end - timedelta(days=6)
    found = episodes(project, until=end)
    resolved = sorted((e for e in found if e.resolved_on and start <= e.resolved_on <= end
                       and e.canonical_id), key=lambda e: e.id)
    corrected, by_hand = resolved[0], resolved[1]
    # A correction of the first one's entity while it was open, this week: it did not close by itself. One
    # recorded the day before the week is no correction of this week.
    assert corrected.resolved_on is not None
    fixed_on = max(corrected.first_seen, start)
    correction_days = (fixed_on, start - timedelta(days=1))
    for when in correction_days:
        record_correction(project, canonical_id=corrected.canonical_id, system="crm", field="owner",
                          old_value=None, new_value=f"owner {when}", reason="hand fix", who="ana",
                          at=datetime(when.year, when.month, when.day, 12, tzinfo=UTC))
    # The second one was resolved in the workflow during its episode (as `tieout resolve` records it).
    with state.open(project, write=True) as connection:
        connection.execute(actions.insert().values(
            exception_id=by_hand.id, episode_first_seen=by_hand.first_seen, kind="resolve", actor="ana",
            reason_code="fixed_in_source", requires_approval=False, version=1, at=datetime.now(UTC)))

    report = json.loads(render(build(project, rules, "weekly", as_of=end), "json"), parse_float=Decimal)

    assert sorted((i["id"], i["first_seen"]) for i in report["new_this_week"]) == sorted(
        (e.id, e.first_seen.isoformat()) for e in found if start <= e.first_seen <= end)
    assert report["new_this_week"], "the week chosen begins episodes"

    closed = {(i["id"], i["first_seen"]) for i in report["closed_by_themselves"]}

    def fixed_while_open(e: Any) -> bool:
        return e.canonical_id == corrected.canonical_id and any(
            e.first_seen <= d <= e.resolved_on for d in correction_days)

    assert closed == {(e.id, e.first_seen.isoformat()) for e in found
                      if e.resolved_on and start <= e.resolved_on <= end
                      and (e.id, e.first_seen) != (by_hand.id, by_hand.first_seen) and not fixed_while_open(e)}
    assert (by_hand.id, by_hand.first_seen.isoformat()) not in closed
    assert (corrected.id, corrected.first_seen.isoformat()) not in closed

    queue = json.loads(invoke_as("exceptions", "-p", str(world), "--as-of", end.isoformat(), "--format",
                                 "json").output)
    assert {i["id"] for i in report["aged_beyond_sla"]} == {e["id"] for e in queue if e["overdue"]}
    assert all(date.fromisoformat(i["due_on"]) < end for i in report["aged_beyond_sla"])

    assert [(c["canonical_id"], c["new_value"], c["recorded_on"]) for c in report["corrections"]] == [
        (corrected.canonical_id, f"owner {fixed_on}", fixed_on.isoformat())]

    this_week = _new_per_pattern(project, rules, end, start, end)
    week_before = _new_per_pattern(project, rules, end, start - timedelta(days=7), start - timedelta(days=1))
    assert {p["id"]: p["new_this_week"] for p in report["recurring"]} == {k: v for k, v in this_week.items() if v}
    assert {p["id"]: (p["new_previous_week"], p["new_this_week"]) for p in report["patterns_grew"]} == {
        k: (week_before[k], v) for k, v in this_week.items() if v > week_before[k]}


def _decide(world: Path, pattern: str, week: date, *, due: date, owner: str = "ar team", action: str = "chase",
            actor: str = "ana") -> Any:
    return invoke_as("review", "decide", pattern, "--owner", owner, "--action", action, "--due", due.isoformat(),
                     "--week", week.isoformat(), "--as", actor, "-p", str(world), "--format", "json")


def test_a_decision_is_followed_into_the_next_weeks_review(world: Path) -> None:
    project = load_project(world)
    rules = load_rules(project)
    days = stored_days(project)
    week = _review_day(project, rules) - timedelta(days=14)
    week = max(d for d in days if d <= week)
    then = {p.id: p for p in patterns(project, rules, as_of=week).patterns}
    chosen = max(then.values(), key=lambda p: (p.open, p.count))
    key = chosen.id
    due = week + timedelta(days=3)
    made = _decide(world, key, week, due=due)
    assert made.exit_code == 0, made.output
    decision = json.loads(made.output)
    assert (decision["ref"], decision["pattern_id"], decision["week"], decision["recorded_by"]) == (
        "D-1", key, week.isoformat(), "ana")

    following = min(d for d in days if d >= week + timedelta(days=7))
    listed = json.loads(invoke_as("review", "decisions", "--as-of", following.isoformat(), "-p", str(world),
                                  "--format", "json").output)
    assert listed["as_of"] == following.isoformat()
    (row,) = listed["decisions"]
    now = {p.id: p for p in patterns(project, rules, as_of=following).patterns}
    assert row["open_then"] == chosen.open
    assert row["open_now"] == (now[key].open if key in now else None)
    since = sum(1 for o in now[key].occurrences if o.episode.first_seen > week) if key in now else 0
    assert row["new_since"] == since
    assert row["due_passed"] is (following > due) and row["due_passed"]
    expected = "pattern not found" if key not in now else "new occurrences" if row["new_since"] else \
        "still open" if now[key].open else "cleared"
    assert row["outcome"] == expected
    assert row["overdue"] is (expected in ("new occurrences", "still open"))
    # The weekly report of that week lists the same decision, and the review before the decision none.
    report = build(project, rules, "weekly", as_of=following)
    assert [(d["ref"], d["outcome"]) for d in report["decisions"]] == [("D-1", expected)]
    earlier = max(d for d in days if d < week)
    assert build(project, rules, "weekly", as_of=earlier)["decisions"] == []

    closed = invoke_as("review", "close", "D-1", "--status", "done", "--note", "billed", "--as", "carol",
                       "-p", str(world), "--format", "json")
    assert closed.exit_code == 0, closed.output
    assert [(d["ref"], d["outcome"], d["status_by"]) for d in
            build(project, rules, "weekly", as_of=following)["decisions"]] == [("D-1", "done", "carol")]
    again = invoke_as("review", "close", "D-1", "--status", "dropped", "--as", "ana", "-p", str(world))
    assert again.exit_code == 9 and "already done" in again.output
    audit = [(e["actor"], e["action"], e["object"], e["outcome"]) for e in reversed(entries(project))
             if e["action"].startswith("decision.")]
    assert audit == [("ana", "decision.record", f"pattern:{key}", "allowed"),
                     ("carol", "decision.done", f"pattern:{key}", "allowed"),
                     ("ana", "decision.dropped", f"pattern:{key}", "conflict")]


def test_refusals_and_bad_values(world: Path) -> None:
    project = load_project(world)
    rules = load_rules(project)
    latest = stored_days(project)[-1]
    key = patterns(project, rules, as_of=latest).patterns[0].id
    refused = _decide(world, key, latest, due=latest, actor="dave")
    assert refused.exit_code == 10 and "auditor" in refused.output
    assert entries(project)[0]["outcome"] == "refused" and entries(project)[0]["actor"] == "dave"
    assert _decide(world, key, latest, due=latest, actor="nobody").exit_code == 10
    assert _decide(world, "0123456789ab", latest, due=latest).exit_code == 7
    assert _decide(world, key, latest - timedelta(days=1000), due=latest).exit_code == 7  # not a stored day
    assert _decide(world, key, latest, due=latest, owner="   ").exit_code == 2
    assert _decide(world, key, latest, due=latest, action="x" * 2001).exit_code == 2
    bad_due = invoke_as("review", "decide", key, "--owner", "o", "--action", "a", "--due", "2026-02-30",
                        "--as", "ana", "-p", str(world))
    assert bad_due.exit_code == 2
    assert invoke_as("review", "close", "D-99", "--status", "done", "--as", "ana", "-p", str(world)).exit_code == 7
    assert invoke_as("review", "close", "X-1", "--status", "done", "--as", "ana", "-p", str(world)).exit_code == 2
    assert json.loads(invoke_as("review", "decisions", "-p", str(world), "--format", "json").output)[
        "decisions"] == []


def test_hostile_owner_and_action_stay_text_in_every_format(world: Path, tmp_path: Path) -> None:
    project = load_project(world)
    rules = load_rules(project)
    latest = stored_days(project)[-1]
    key = patterns(project, rules, as_of=latest).patterns[0].id
    made = _decide(world, key, latest, due=latest + timedelta(days=7), owner=HOSTILE_OWNER, action=HOSTILE_ACTION)
    assert made.exit_code == 0, made.output
    report = build(project, rules, "weekly", as_of=latest)
    assert [(d["owner"], d["action"]) for d in report["decisions"]] == [(HOSTILE_OWNER, HOSTILE_ACTION)]

    md = render(report, "md", charts=False)
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\[link\\]" in md
    html = render(report, "html", charts=False)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    write_xlsx(report, tmp_path / "weekly.xlsx")
    sheet = load_workbook(tmp_path / "weekly.xlsx")["Decisions"]
    cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + HOSTILE_OWNER in cells and HOSTILE_OWNER not in cells
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    listed = invoke_as("review", "decisions", "-p", str(world), "--format", "csv").output
    (row,) = list(csv.DictReader(io.StringIO(listed)))
    assert row["owner"] == "'" + HOSTILE_OWNER and row["action"] == HOSTILE_ACTION
