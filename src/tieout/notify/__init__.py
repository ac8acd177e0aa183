"""Notifications (issue 6): each team hears about its exceptions on its own channels.

- **P1s right after the run** that finds them (`notify_p1s`, called by `tieout run` and `tieout backfill`):
  every P1 open on the day run, newly opened, reopened or risen to P1, one message each.
- **The daily digest** (`send_digests`, `tieout notify digest`): per team, everything new, reopened or
  risen in severity that its channel has not yet been told, and what resolved since — P1s first.

An exception episode already delivered to a channel at the same or a higher severity is not sent again
(`log.delivered`): it is sent again only when it reopens (a new episode) or its severity rises. A failed
delivery is retried (`retries`, doubling backoff), recorded with its error, and tried again by the next run
or digest; it never raises out of the run — the caller gets the failures to warn about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tieout.config import Project
from tieout.notify.deliver import channel_key, deliver, masked
from tieout.notify.log import Key, delivered, record
from tieout.output import format_money
from tieout.reports.data import Item, items_until, open_on, report_day, worst_first
from tieout.rules.registry import Rule
from tieout.severity import RANK


@dataclass(frozen=True)
class Outcome:
    team: str
    channel: str  # masked
    kind: str
    exceptions: int
    ok: bool
    attempts: int
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "channel": self.channel, "kind": self.kind, "exceptions": self.exceptions,
                "ok": self.ok, "attempts": self.attempts, "error": self.error}


def _line(i: Item, currency: str) -> str:
    who = i.canonical_id or f"{i.source_system}:{i.source_id}"
    extra = f" ({i.source_system}{'.' + i.field if i.field else ''})" if i.canonical_id and i.source_system else ""
    again = f", reopened (episode {i.episode})" if i.episode > 1 else ""
    return (f"[{i.severity}] {i.rule} {who}{extra}: {format_money(i.impact, currency)} at risk, first seen "
            f"{i.first_seen}{again} — id {i.id}")


def _is_new(i: Item, seen: list[tuple[str, int]]) -> bool:
    """Not yet delivered at this severity or a higher one (a lower rank is more severe)."""
    rank = RANK.get(i.severity, len(RANK))
    return not any(kind != "resolved" and r <= rank for kind, r in seen)


def _due(i: Item, kind: str, seen: list[tuple[str, int]]) -> bool:
    if kind == "resolved":
        return not any(k == "resolved" for k, _ in seen)
    return _is_new(i, seen)


def _send(project: Project, team: str, url: str, kind: str, title: str, body: str, items: list[tuple[Item, str]],
          as_of: date) -> Outcome:
    cfg = project.notifications
    result = deliver(url, title, body, retries=cfg.retries, backoff=cfg.backoff_seconds)
    shown = masked(url)
    rows = [{"exception_id": i.id, "first_seen": i.first_seen, "severity": i.severity,
             "severity_rank": RANK.get(i.severity, len(RANK)), "kind": item_kind, "team": team, "channel": shown,
             "channel_key": channel_key(url), "as_of": as_of, "outcome": "sent" if result.ok else "failed",
             "attempts": result.attempts, "error": result.error} for i, item_kind in items]
    record(project, rows)
    return Outcome(team, shown, kind, len(items), result.ok, result.attempts, result.error)


def notify_p1s(project: Project, rules: dict[str, Rule], as_of: date) -> list[Outcome]:
    """Send each P1 open on `as_of` that its team's channels have not had at P1, one message each."""
    cfg = project.notifications
    if not cfg.channels or not cfg.p1_immediately:
        return []
    p1s = [i for i in open_on(items_until(project, rules, as_of), as_of) if i.severity == "P1"]
    return _fan_out(project, as_of, {t: [(i, "p1") for i in worst_first(p1s) if i.team == t] for t in cfg.channels},
                    single=True)


def _fan_out(project: Project, as_of: date, per_team: dict[str, list[tuple[Item, str]]], *, single: bool
             ) -> list[Outcome]:
    cfg = project.notifications
    cur = project.reporting_currency
    keys = [Key(i.id, i.first_seen, channel_key(url)) for team, items in per_team.items()
            for url in cfg.channels.get(team, []) for i, _ in items]
    seen = delivered(project, keys)
    out: list[Outcome] = []
    for team, items in per_team.items():
        for url in cfg.channels.get(team, []):
            ck = channel_key(url)
            todo = [(i, kind) for i, kind in items if _due(i, kind, seen.get(Key(i.id, i.first_seen, ck), []))]
            if not todo:
                continue
            if single:
                for i, kind in todo:
                    title = f"tieout P1 — {i.rule} {i.canonical_id or i.source_id} — {format_money(i.impact, cur)}"
                    out.append(_send(project, team, url, "p1", title, _line(i, cur), [(i, kind)], as_of))
            else:
                title = f"tieout daily digest — {team} — {as_of}"
                out.append(_send(project, team, url, "digest", title, _digest_body(team, todo, as_of, cur), todo,
                                 as_of))
    return out


def _digest_body(team: str, todo: list[tuple[Item, str]], as_of: date, currency: str) -> str:
    opened = worst_first([i for i, k in todo if k != "resolved"])
    resolved = worst_first([i for i, k in todo if k == "resolved"])
    lines = [f"Daily digest for {team}, as of {as_of}."]
    if opened:
        lines += ["", f"New, reopened or more severe ({len(opened)}):", *(f"- {_line(i, currency)}" for i in opened)]
    if resolved:
        lines += ["", f"Resolved ({len(resolved)}):",
                  *(f"- {_line(i, currency)}, resolved {i.resolved_on}" for i in resolved)]
    return "\n".join(lines)


def send_digests(project: Project, rules: dict[str, Rule], *, as_of: date | None = None, team: str | None = None,
                 resolved_days: int = 1) -> list[Outcome]:
    """Each team's digest of `as_of` (default: the latest stored day): its open exceptions not yet delivered
    at their severity, and its exceptions resolved in the last `resolved_days` stored days up to `as_of`."""
    cfg = project.notifications
    day, _ = report_day(project, as_of)
    items = items_until(project, rules, day)
    since = day - timedelta(days=resolved_days - 1)
    still = open_on(items, day)
    resolved = [i for i in items if i.resolved_on is not None and since <= i.resolved_on <= day]
    teams = [t for t in cfg.channels if team is None or t == team]
    per_team = {t: [(i, "digest") for i in still if i.team == t] + [(i, "resolved") for i in resolved if i.team == t]
                for t in teams}
    return _fan_out(project, day, per_team, single=False)
