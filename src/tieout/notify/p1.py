"""P1s right after the run that finds them (`tieout run`, `tieout backfill`), one message each."""

from __future__ import annotations

from datetime import date

from tieout.config import Project
from tieout.entity_names import label
from tieout.notify.deliver import channel_key
from tieout.notify.ledger import Ledger, Outcome, line, send
from tieout.output import format_reporting
from tieout.reports.data import items_until, open_on, worst_first
from tieout.rules.registry import Rule
from tieout.store import stored_days


def notify_p1s(project: Project, rules: dict[str, Rule], last_run: date) -> list[Outcome]:
    """Send each P1 that is open on the latest stored day and was open on `last_run` already (the last day the
    run or backfill stored), unless its channel has had it at P1.

    On the latest day, not on every day run: a backfill of 90 days announces what is open now, never the P1s
    its history opened and closed again. And only episodes that cover `last_run`: re-running an old day says
    nothing about exceptions that began after it (the runs of those days announced them)."""
    cfg = project.notifications
    if not cfg.channels or not cfg.p1_immediately:
        return []
    days = stored_days(project)
    if not days or last_run > days[-1]:
        return []
    items = items_until(project, rules, days[-1])
    p1s = worst_first([i for i in open_on(items, days[-1]) if i.severity == "P1" and i.first_seen <= last_run])
    keys = [channel_key(url) for urls in cfg.channels.values() for url in urls]
    ledger = Ledger(project, items, p1s, keys)
    cur = project.reporting_currency
    out: list[Outcome] = []
    for team, urls in cfg.channels.items():
        for url in urls:
            for i in p1s:
                if i.team == team and ledger.due(i, "p1", channel_key(url)):
                    title = f"tieout P1 — {i.rule} {label(i, width=60)} — {format_reporting(i.impact, cur)}"
                    out.append(send(project, team, url, "p1", title, line(i, cur), [(i, "p1")], days[-1]))
    return out
