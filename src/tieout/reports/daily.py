"""The daily digest, per team: what is new since the run before, what reopened, what resolved — P1s first —
and the money at risk in the team's open queue."""

from __future__ import annotations

from datetime import date
from typing import Any

from tieout.config import Project
from tieout.exposure import at_risk
from tieout.output import format_reporting
from tieout.reports.data import (
    Item,
    by_team,
    changes,
    items_until,
    open_on,
    previous_stored_day,
    report_day,
    worst_first,
)
from tieout.reports.sections import (
    ITEM_COLUMNS,
    RESOLVED_COLUMNS,
    Column,
    Document,
    Section,
    item_columns,
    item_rows,
    item_subject,
)
from tieout.rules.registry import Rule

NO_TEAM = "(no team)"


def _team_block(team: str, items: list[Item], as_of: date, previous: date | None, rules: dict[str, Rule]
                ) -> dict[str, Any]:
    open_now = open_on(items, as_of)
    since = changes(items, previous, as_of)
    return {
        "team": team,
        "open": len(open_now),
        "p1_open": sum(1 for i in open_now if i.severity == "P1"),
        "money_at_risk": at_risk(open_now, rules),
        "new": [i.as_dict() for i in since.new],
        "reopened": [i.as_dict() for i in since.reopened],
        "resolved": [i.as_dict() for i in since.resolved],
        # the P1s still open from before: they lead the digest until they close
        "open_p1": [i.as_dict() for i in worst_first([i for i in open_now if i.severity == "P1"
                                                      and i.first_seen < as_of])],
    }


def daily(project: Project, rules: dict[str, Rule], *, as_of: date | None = None, team: str | None = None
          ) -> dict[str, Any]:
    """The digest of stored day `as_of` (default: the latest): one block per team (or only `team`), with what
    changed since the stored day before it. Every first_seen and resolved_on is a stored day, so the window
    (previous_day, as_of] holds exactly the events of as_of, however many calendar days a gap in the stored
    days spans, and a day run later between two stored days takes its events with it."""
    day, days = report_day(project, as_of)
    previous = previous_stored_day(days, day)
    items = by_team(items_until(project, rules, day), team)
    relevant = [i for i in items if i.resolved_on is None or i.resolved_on >= day]
    teams = sorted({i.team or NO_TEAM for i in relevant} | ({team} if team else set()))
    blocks = [_team_block(t, [i for i in items if (i.team or NO_TEAM) == t], day, previous, rules) for t in teams]
    return {
        "report": "daily",
        "as_of": day,
        "previous_day": previous,  # "new" means first reported in (previous_day, as_of]
        "team": team,
        "currency": project.reporting_currency,
        "open": sum(b["open"] for b in blocks),
        # each gap once, though two teams' exceptions see it: not the sum of the teams' figures
        "money_at_risk": at_risk(open_on(items, day), rules),
        "teams": blocks,
    }


def _section(sheet: str, title: str, columns: list[Column], items: list[dict[str, Any]]) -> Section:
    rows = item_rows(items, item_subject)
    return Section(sheet, title, item_columns(columns, rows), rows)


def _listed(words: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def document(report: dict[str, Any]) -> Document:
    sections: list[Section] = []
    for b in report["teams"]:
        t = b["team"]
        parts = [("new", f"{t}: new since the last run", ITEM_COLUMNS, b["new"]),
                 ("reopened", f"{t}: reopened", ITEM_COLUMNS, b["reopened"]),
                 ("resolved", f"{t}: resolved", RESOLVED_COLUMNS, b["resolved"]),
                 ("open P1", f"{t}: P1s still open", ITEM_COLUMNS, b["open_p1"])]
        # The team's figures under its own heading; a part with nothing in it is said there in one line rather
        # than as a heading (and a sheet) of its own saying "None."
        quiet = [word for word, _, _, rows in parts[:3] if not rows]
        note = (f"{b['open']} open, {b['p1_open']} of them P1; money at risk "
                f"{format_reporting(b['money_at_risk'], report['currency'])}.")
        if quiet:
            note += f" Nothing {_listed(quiet)} since the last run."
        sections.append(Section(t, t, [], [], note=note, empty=""))
        sections += [_section(f"{t} {word}", title, columns, rows) for word, title, columns, rows in parts if rows]
    scope = f" — {report['team']}" if report["team"] else ""
    return Document(
        kind="daily",
        title=f"Daily digest{scope} — {report['as_of']}",
        facts=[("As of", report["as_of"], "date"), ("Compared with", report["previous_day"], "date"),
               ("Open exceptions", report["open"], "int"),
               (f"Money at risk ({report['currency']})", report["money_at_risk"], "money")],
        sections=sections,
        currency=report["currency"],
    )
