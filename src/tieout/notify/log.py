"""The notifications log in the state database: what each channel was sent, and whether it arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from tieout import state
from tieout.config import Project
from tieout.state.tables import notifications


@dataclass(frozen=True)
class Key:
    """What makes a notification a repeat: the exception's episode on one channel."""

    exception_id: str
    first_seen: date
    channel_key: str


def delivered(project: Project, keys: list[Key]) -> dict[Key, list[tuple[str, int]]]:
    """For each key, the (kind, severity rank) of its successful deliveries."""
    if not keys:
        return {}
    wanted = set(keys)
    ids = sorted({k.exception_id for k in keys})
    found: dict[Key, list[tuple[str, int]]] = {}
    with state.open(project) as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(notifications.c.exception_id, notifications.c.first_seen, notifications.c.channel_key,
                       notifications.c.kind, notifications.c.severity_rank)
                .where(notifications.c.outcome == "sent", notifications.c.exception_id.in_(ids[start:start + 500])))
            for r in rows:
                key = Key(r.exception_id, r.first_seen, r.channel_key)
                if key in wanted:
                    found.setdefault(key, []).append((r.kind, r.severity_rank))
    return found


def record(project: Project, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    with state.open(project, write=True) as connection:
        connection.execute(insert(notifications), [{**r, "attempted_at": now} for r in rows])


def history(project: Project, *, limit: int = 200) -> list[dict[str, Any]]:
    if not state.exists(project):
        return []
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    with state.open(project) as connection:
        return [dict(r._mapping) for r in connection.execute(query)]
