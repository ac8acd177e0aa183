"""Who has been told what: the dedupe rule, and sending one message with its rows in the log.

An exception episode already delivered to a channel at a severity is not sent there again at that or a lower
severity; a new episode (it reopened) or a higher severity is news, and a resolution is sent once.

The log keys a delivery by the episode's first_seen *as it was then*. Running days later can move an episode's
start — a backfill of earlier history extends it backwards, a re-run of its first day with a corrected export
shortens it — without it being a new episode. So a delivery counts for the episode whose span holds the
first_seen it was recorded with: from the end of the exception's previous episode up to this one's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tieout.config import Project
from tieout.entity_names import label
from tieout.notify.deliver import channel_key, deliver, masked
from tieout.notify.log import Told, delivered, record
from tieout.output import format_impact
from tieout.reports.data import Item
from tieout.severity import RANK

# What a message lists an exception as, and the kind its log row gets (the log's kinds: p1, digest, resolved).
LOG_KIND = {"p1": "p1", "new": "digest", "reopened": "digest", "risen": "digest", "resolved": "resolved"}
Entry = tuple[Item, str]  # the exception episode and its section (a key of LOG_KIND)


@dataclass(frozen=True)
class Outcome:
    team: str
    channel: str  # masked
    kind: str
    exceptions: int
    ok: bool
    attempts: int
    error: str | None
    since: date | None = None  # a digest: the changes it covers are those after this day

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "channel": self.channel, "kind": self.kind, "exceptions": self.exceptions,
                "ok": self.ok, "attempts": self.attempts, "error": self.error, "since": self.since}


def _rank(severity: str) -> int:
    return RANK.get(severity, len(RANK))


class Ledger:
    """The deliveries of `candidates` to `channel_keys`, matched to the episodes in `every_episode` (all the
    episodes up to the day, so that each candidate knows where its previous episode ended)."""

    def __init__(self, project: Project, every_episode: list[Item], candidates: list[Item],
                 channel_keys: list[str]) -> None:
        self._floor: dict[tuple[str, date], date | None] = {}
        ended: dict[str, date | None] = {}
        for i in sorted(every_episode, key=lambda i: (i.id, i.first_seen)):
            self._floor[(i.id, i.first_seen)] = ended.get(i.id)
            ended[i.id] = i.resolved_on
        self._told = delivered(project, [i.id for i in candidates], channel_keys)

    def _of_episode(self, item: Item, key: str) -> list[Told]:
        floor = self._floor.get((item.id, item.first_seen))
        return [t for t in self._told.get((item.id, key), [])
                if (floor is None or t.first_seen >= floor)
                and (item.resolved_on is None or t.first_seen < item.resolved_on)]

    def due(self, item: Item, section: str, key: str) -> bool:
        told = self._of_episode(item, key)
        if section == "resolved":
            return not any(t.kind == "resolved" for t in told)
        return not any(t.kind != "resolved" and t.severity_rank <= _rank(item.severity) for t in told)


def line(i: Item, currency: str) -> str:
    extra = f" ({i.source_system}{'.' + i.field if i.field else ''})" if i.canonical_id and i.source_system else ""
    again = f", reopened (episode {i.episode})" if i.episode > 1 else ""
    at_risk = format_impact(i.impact, currency, i.original_amount, i.original_currency)
    return f"[{i.severity}] {i.rule} {label(i)}{extra}: {at_risk} at risk, first seen {i.first_seen}{again} — id {i.id}"


def send(project: Project, team: str, url: str, kind: str, title: str, body: str, entries: list[Entry],
         as_of: date, since: date | None = None) -> Outcome:
    """Deliver one message and log a row per exception in it, sent or failed (a failed row is not `delivered`,
    so the next run or digest tries again)."""
    cfg = project.notifications
    result = deliver(url, title, body, retries=cfg.retries, backoff=cfg.backoff_seconds)
    shown = masked(url)
    rows = [{"exception_id": i.id, "first_seen": i.first_seen, "severity": i.severity,
             "severity_rank": _rank(i.severity), "kind": LOG_KIND[section], "team": team, "channel": shown,
             "channel_key": channel_key(url), "as_of": as_of, "outcome": "sent" if result.ok else "failed",
             "attempts": result.attempts, "error": result.error} for i, section in entries]
    record(project, rows)
    return Outcome(team, shown, kind, len(entries), result.ok, result.attempts, result.error, since)
