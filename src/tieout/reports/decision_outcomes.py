"""What happened to each decision of the weekly reviews (tieout.reports.decisions) by a later review's last day:
the pattern's new occurrences since the decision, its open count then and now, and whether the due date passed.

A review lists every decision of its week or an earlier one that is still open (neither done nor dropped), and
those marked done or dropped whose week ended within the last `CLOSED_SHOWN_DAYS` days — so the reviews right
after a decision show how it ended, and later ones are not crowded by it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tieout import state
from tieout.config import Project
from tieout.patterns import patterns
from tieout.reports.data import report_day, week_start
from tieout.reports.pattern_weeks import PatternWeek, pattern_weeks
from tieout.rules.registry import Rule
from tieout.timeline import causes, episodes

if TYPE_CHECKING:
    from tieout.reports.decision_records import Decision

CLOSED_SHOWN_DAYS = 28
# outcome, in the order a review reads them
OUTCOMES = ("done", "dropped", "new occurrences", "still open", "cleared", "pattern not found")


def shown(found: list[Decision], end: date) -> list[Decision]:
    """The decisions a review ending on `end` lists: see the module's docstring."""
    return [d for d in found if d.week <= end and (d.status is None or (end - d.week).days < CLOSED_SHOWN_DAYS)]


def outcome_of(d: Decision, now: PatternWeek | None, new_since: int) -> str:
    if d.status is not None:
        return d.status
    if now is None:
        return "pattern not found"
    if new_since > 0:
        return "new occurrences"
    return "still open" if now.open else "cleared"


def decision_rows(project: Project, rules: dict[str, Rule], *, end: date, weeks: list[PatternWeek]
                  ) -> list[dict[str, Any]]:
    """Each decision shown at the review ending on `end` with its outcome. `weeks`: the review's patterns
    (tieout.reports.pattern_weeks)."""
    if not state.exists(project):
        return []  # no state database, no decisions: said without loading its stack (SQLAlchemy)
    from tieout.reports.decision_records import decisions, parse_ref

    listed = shown(decisions(project, until=end), end)
    now = {w.id: w for w in weeks}
    then: dict[date, dict[str, Any]] = {}  # per decision week: its patterns, as that week's review saw them
    rows = []
    for d in listed:
        if d.week not in then:
            then[d.week] = {p.id: p for p in patterns(project, rules, as_of=d.week).patterns}
        before, current = then[d.week].get(d.pattern_id), now.get(d.pattern_id)
        new_since = current.new_between(d.week + timedelta(days=1), end) if current else 0
        outcome = outcome_of(d, current, new_since)
        rows.append({
            **d.as_dict(),
            "sentence": current.sentence if current else before.sentence if before else "",
            "open_then": before.open if before else None,
            "open_now": current.open if current else None,
            "new_since": new_since,
            "due_passed": end > d.due_on,
            # still to do after its due date: what a review chases first
            "overdue": end > d.due_on and outcome in ("new occurrences", "still open"),
            "outcome": outcome,
        })
    return sorted(rows, key=lambda r: (not r["overdue"], OUTCOMES.index(r["outcome"]), r["due_on"],
                                       parse_ref(r["ref"])))


def decisions_on(project: Project, rules: dict[str, Rule], *, as_of: date | None = None
                 ) -> tuple[date, list[dict[str, Any]]]:
    """The review day (`as_of`, default the latest reconciled day) and the decisions its review lists, with
    their outcomes — the weekly report's `decisions`, without the rest of the report."""
    end = report_day(project, as_of)[0]
    found = episodes(project, until=end)
    why = causes(project, found)
    every = patterns(project, rules, as_of=end, found=found, why=why).patterns
    return end, decision_rows(project, rules, end=end, weeks=pattern_weeks(every, start=week_start(end), end=end))
