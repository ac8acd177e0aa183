"""The weekly review: the week's new, resolved and still-open exceptions by rule and team, the open queue's
age, the mean time to resolve, the top recurring patterns and the trend of the weeks before.

The week is the seven calendar days ending on the as-of date (a stored day), so a review run every Friday
covers Saturday to Friday.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tieout.config import Project
from tieout.entity_names import entity_names
from tieout.exposure import at_risk
from tieout.patterns import patterns
from tieout.reports.data import (
    Item,
    aging,
    by_team,
    corrections_between,
    items_until,
    mean,
    open_on,
    report_day,
    week_start,
)
from tieout.reports.decision_outcomes import decision_rows
from tieout.reports.pattern_weeks import PatternWeek, pattern_weeks
from tieout.reports.review_sections import review_sections
from tieout.reports.sections import Column, Document, Section
from tieout.reports.week_events import aged_beyond_sla, closed_by_themselves, new_this_week
from tieout.rules.registry import Rule
from tieout.timeline import causes, episodes

TREND_WEEKS = 8
TOP_PATTERNS = 5


def _by_rule_team(items: list[Item], start: date, end: date, rules: dict[str, Rule]) -> list[dict[str, Any]]:
    keys = sorted({(i.rule, i.team or "") for i in items
                   if start <= i.first_seen <= end or (i.resolved_on and start <= i.resolved_on <= end)
                   or (i.first_seen <= end and (i.resolved_on is None or i.resolved_on > end))})
    rows = []
    for rule, team in keys:
        mine = [i for i in items if i.rule == rule and (i.team or "") == team]
        still = open_on(mine, end)
        rows.append({"rule": rule, "team": team or None,
                     "new": sum(1 for i in mine if start <= i.first_seen <= end),
                     "resolved": sum(1 for i in mine if i.resolved_on and start <= i.resolved_on <= end),
                     "open": len(still), "money_at_risk": at_risk(still, rules)})
    return rows


def _mttr(items: list[Item], start: date, end: date) -> dict[str, Any]:
    week = [i for i in items if i.resolved_on and start <= i.resolved_on <= end]
    ever = [i for i in items if i.resolved_on and i.resolved_on <= end]
    rules = sorted({i.rule for i in week})
    return {
        "week": {"resolved": len(week), "mean_days": mean([i.age_days for i in week])},
        "to_date": {"resolved": len(ever), "mean_days": mean([i.age_days for i in ever])},
        "by_rule": [{"rule": r, "resolved": sum(1 for i in week if i.rule == r),
                     "mean_days": mean([i.age_days for i in week if i.rule == r])} for r in rules],
    }


def _trend(items: list[Item], days: list[date], end: date, rules: dict[str, Rule]) -> list[dict[str, Any]]:
    first = end - timedelta(weeks=TREND_WEEKS) + timedelta(days=1)
    out = []
    for d in (d for d in days if first <= d <= end):
        still = open_on(items, d)
        out.append({"date": d, "open": len(still), "opened": sum(1 for i in items if i.first_seen == d),
                    "resolved": sum(1 for i in items if i.resolved_on == d),
                    "money_at_risk": at_risk(still, rules)})
    return out


def weekly(project: Project, rules: dict[str, Rule], *, as_of: date | None = None, team: str | None = None
           ) -> dict[str, Any]:
    return weekly_review(project, rules, as_of=as_of, team=team)[0]


def weekly_review(project: Project, rules: dict[str, Rule], *, as_of: date | None = None, team: str | None = None
                  ) -> tuple[dict[str, Any], list[PatternWeek]]:
    """The weekly report, and every pattern of its week with its new occurrences (what the web's Review page
    records decisions on)."""
    end, days = report_day(project, as_of)
    start = week_start(end)
    # The items and the patterns are read off the same episodes and causes: read once (the causes are the
    # ownership breaks of every first day, replayed from the source history).
    found = episodes(project, until=end)
    why = causes(project, found)
    names = entity_names(project, end)  # every name on the review's day, read once for all its sections
    items = by_team(items_until(project, rules, end, found=found, why=why, names=names), team)
    still = open_on(items, end)
    grouped = patterns(project, rules, as_of=end, found=found, why=why, names=names)
    top = [p for p in grouped.patterns if p.recurring][:TOP_PATTERNS] or grouped.patterns[:TOP_PATTERNS]
    weeks = pattern_weeks(grouped.patterns, start=start, end=end)
    report = {
        "report": "weekly",
        "as_of": end,
        "week": {"start": start, "end": end},
        "team": team,
        "currency": project.reporting_currency,
        "summary": {
            "new": sum(1 for i in items if start <= i.first_seen <= end and i.episode == 1),
            "reopened": sum(1 for i in items if start <= i.first_seen <= end and i.episode > 1),
            "resolved": sum(1 for i in items if i.resolved_on and start <= i.resolved_on <= end),
            "open": len(still),
            "money_at_risk": at_risk(still, rules),
        },
        "by_rule_team": _by_rule_team(items, start, end, rules),
        "aging": aging(still, end, rules),
        "mean_time_to_resolve": _mttr(items, start, end),
        # Patterns group by cause across teams (docs/patterns.md), so they are not filtered by --team.
        "patterns": [{"id": p.id, "rule": p.signature.rule, "classification": p.classification,
                      "count": p.count, "open": p.open, "recurring": p.recurring,
                      "recurring_weeks": p.recurring_weeks, "money_at_risk": p.money_at_risk,
                      "last_new": p.last_new, "sentence": p.sentence} for p in top],
        "trend": _trend(items, days, end, rules),
        # The review's sections (issue 16): what happened this week, and what the team decided before.
        "new_this_week": new_this_week(items, start, end),
        "recurring": [w.as_dict() for w in weeks if w.new_this_week > 0],
        "closed_by_themselves": closed_by_themselves(project, items, found, why, start, end),
        "aged_beyond_sla": aged_beyond_sla(items, project.sla, end),
        # Corrections are about entities, which no team owns: not filtered by --team.
        "corrections": corrections_between(project, start, end, names),
        "patterns_grew": [w.as_dict() for w in weeks if w.grew],
        "decisions": decision_rows(project, rules, end=end, weeks=weeks),
    }
    return report, weeks


def document(report: dict[str, Any]) -> Document:
    cur = report["currency"]
    s = report["summary"]
    m = report["mean_time_to_resolve"]
    mttr_rows = [{"scope": "this week", **m["week"]}, {"scope": "to date", **m["to_date"]},
                 *({"scope": r["rule"], "resolved": r["resolved"], "mean_days": r["mean_days"]} for r in m["by_rule"])]
    scope = f" — {report['team']}" if report["team"] else ""
    week = report["week"]
    return Document(
        kind="weekly",
        title=f"Weekly review{scope} — {week['start']} to {week['end']}",
        facts=[("Week", f"{week['start']} to {week['end']}", "text"), ("New", s["new"], "int"),
               ("Reopened", s["reopened"], "int"), ("Resolved", s["resolved"], "int"),
               ("Still open", s["open"], "int"), ("Beyond SLA", len(report["aged_beyond_sla"]), "int"),
               (f"Money at risk ({cur})", s["money_at_risk"], "money")],
        sections=[
            Section("By rule and team", "New, resolved and still open, by rule and team",
                    [Column("rule", "Rule"), Column("team", "Team"), Column("new", "New", "int"),
                     Column("resolved", "Resolved", "int"), Column("open", "Open", "int"),
                     Column("money_at_risk", f"Money at risk ({cur})", "money")], report["by_rule_team"]),
            *review_sections(report),
            Section("Aging", "Open exceptions by age (days since first seen)",
                    [Column("bucket", "Age (days)"), Column("open", "Open", "int"),
                     Column("money_at_risk", f"Money at risk ({cur})", "money")], report["aging"], chart="aging"),
            Section("Time to resolve", "Mean time to resolve (days from first seen to resolved)",
                    [Column("scope", "Scope"), Column("resolved", "Resolved", "int"),
                     Column("mean_days", "Mean days", "decimal")], mttr_rows),
            Section("Patterns", "Top recurring patterns (tieout patterns)",
                    [Column("rule", "Rule"), Column("classification", "Class"), Column("count", "Count", "int"),
                     Column("open", "Open", "int"), Column("recurring_weeks", "Weeks with new", "int"),
                     Column("money_at_risk", f"Money at risk ({cur})", "money"), Column("sentence", "What it is")],
                    report["patterns"], note="Recurring: new occurrences in 3 of the last 4 weeks."),
            Section("Trend", f"Trend: the last {TREND_WEEKS} weeks, per reconciled day",
                    [Column("date", "Day", "date"), Column("open", "Open", "int"), Column("opened", "New", "int"),
                     Column("resolved", "Resolved", "int"),
                     Column("money_at_risk", f"Money at risk ({cur})", "money")], report["trend"], chart="trend"),
        ],
        currency=cur,
    )
