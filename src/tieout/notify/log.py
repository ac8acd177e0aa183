"""The notifications log in the state database: what each channel was sent, and whether it arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, select

from tieout import state
from tieout.config import Project
from tieout.state.tables import notifications

# The rows a digest writes: an exception it lists as open, or one it lists as resolved.
DIGEST_KINDS = ("digest", "resolved")
# The exception id of a digest row that lists no exception: the digest was due and had nothing new.
NOTHING_NEW = ""


@dataclass(frozen=True)
class Told:
    """One successful delivery of an exception to a channel: the first_seen of the episode it was about then,
    what kind of message it was, and at which severity (its rank: lower is more severe)."""

    first_seen: date
    kind: str
    severity_rank: int


def delivered(project: Project, exception_ids: list[str], channel_keys: list[str]
              ) -> dict[tuple[str, str], list[Told]]:
    """For each (exception id, channel key), its successful deliveries."""
    if not exception_ids or not channel_keys or not state.may_exist(project):
        return {}
    ids = sorted(set(exception_ids))
    channels = set(channel_keys)
    found: dict[tuple[str, str], list[Told]] = {}
    with state.open(project) as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(notifications.c.exception_id, notifications.c.first_seen, notifications.c.channel_key,
                       notifications.c.kind, notifications.c.severity_rank)
                .where(notifications.c.outcome == "sent", notifications.c.exception_id.in_(ids[start:start + 500])))
            for r in rows:
                if r.channel_key in channels:
                    found.setdefault((r.exception_id, r.channel_key), []).append(
                        Told(r.first_seen, r.kind, r.severity_rank))
    return found


@dataclass(frozen=True)
class DigestMarks:
    """A channel's digests before a day: the as-of day of the latest one delivered, and of the first one tried."""

    last_sent: date | None
    first_tried: date


def digest_marks(project: Project, channel_keys: list[str], before: date) -> dict[str, DigestMarks]:
    """For each channel that has been sent a digest (or tried) for a day before `before`, its marks."""
    if not channel_keys or not state.may_exist(project):
        return {}
    sent = func.max(notifications.c.as_of).filter(notifications.c.outcome == "sent")
    query = (select(notifications.c.channel_key, sent, func.min(notifications.c.as_of))
             .where(notifications.c.kind.in_(DIGEST_KINDS), notifications.c.as_of < before,
                    notifications.c.channel_key.in_(sorted(set(channel_keys))))
             .group_by(notifications.c.channel_key))
    with state.open(project) as connection:
        return {key: DigestMarks(last, first) for key, last, first in connection.execute(query)}


def record_nothing_new(project: Project, *, team: str, channel: str, key: str, as_of: date) -> None:
    """Mark a channel's digest of `as_of` that had nothing left to say. No message goes out, but the channel is
    up to date to that day all the same, and the next digest must start there: without the mark, a channel
    whose first digests were all quiet would get only its as-of day's changes, and lose the days between."""
    record(project, [{"exception_id": NOTHING_NEW, "first_seen": as_of, "severity": "", "severity_rank": 99,
                      "kind": "digest", "team": team, "channel": channel, "channel_key": key, "as_of": as_of,
                      "outcome": "sent", "attempts": 0, "error": None}])


def record(project: Project, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    with state.open(project, write=True) as connection:
        connection.execute(insert(notifications), [{**r, "attempted_at": now} for r in rows])


def deliveries(project: Project, *, limit: int = 200) -> list[dict[str, Any]]:
    if not state.exists(project):
        return []
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    with state.open(project) as connection:
        return [dict(r._mapping) for r in connection.execute(query)]
