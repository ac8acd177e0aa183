"""Exceptions over time (contract §6): identity, episodes, status and classification.

The timeline is derived from the stored days, never kept as mutable state: an exception's episodes are
the runs of consecutive stored as-of dates on which it was reported. That is what makes re-running a
date idempotent and running dates in any order give the same result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tieout.config import Project
from tieout.db import connect
from tieout.rules.registry import Rule
from tieout.store import day_path, stored_days

STATUSES = ("open", "resolved", "all")


@dataclass(frozen=True)
class Exception_:
    id: str
    rule: str
    canonical_id: str | None
    source_system: str | None
    source_id: str | None
    field: str | None
    severity: str
    impact: Decimal
    currency: str
    team: str | None
    status: str
    classification: str
    first_seen: date
    last_seen: date
    resolved_on: date | None
    episodes: int
    details: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(*, rule: Rule | None, first_seen: date, resolved_on: date | None, as_of: date) -> str:
    """ownership, timing, structural or pending — contract §6."""
    if rule is not None and rule.classification == "ownership":
        return "ownership"
    lag = rule.expected_lag_days if rule is not None else 30
    end = resolved_on or as_of
    if resolved_on is not None and (resolved_on - first_seen).days <= lag:
        return "timing"
    if (end - first_seen).days > lag:
        return "structural"
    return "pending"


_EPISODES_SQL = """
WITH run_days AS (
    SELECT day, row_number() OVER (ORDER BY day) AS n FROM (SELECT unnest($days) AS day)
),
observed AS (
    SELECT f.*, d.day, d.n
    FROM read_parquet($files, filename = true) AS f
    JOIN run_days AS d ON d.day = CAST(regexp_extract(f.filename, '(\\d{4}-\\d{2}-\\d{2})\\.parquet$', 1) AS DATE)
),
islands AS (
    SELECT *, n - row_number() OVER (PARTITION BY id ORDER BY n) AS island FROM observed
),
episodes AS (
    SELECT id, island, min(day) AS first_seen, max(day) AS last_seen, max(n) AS last_n
    FROM islands
    GROUP BY id, island
),
latest AS (
    SELECT *, count(*) OVER (PARTITION BY id) AS episodes
    FROM episodes
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY first_seen DESC) = 1
)
-- An episode's attributes are those of its last observation; it resolved on the next stored day.
SELECT o.id, o.rule, o.canonical_id, o.source_system, o.source_id, o.field, o.severity, o.impact, o.team,
       e.first_seen, e.last_seen, r.day AS resolved_on, e.episodes, o.details
FROM latest AS e
JOIN observed AS o ON o.id = e.id AND o.day = e.last_seen
LEFT JOIN run_days AS r ON r.n = e.last_n + 1
ORDER BY o.rule, o.canonical_id NULLS LAST, o.source_system, o.source_id, o.field
"""


def exceptions(
    project: Project,
    rules: dict[str, Rule],
    *,
    as_of: date | None = None,
    status: str = "open",
) -> list[Exception_]:
    """Every exception's latest episode as it stood on `as_of` (default: the latest stored day)."""
    days = stored_days(project, until=as_of)
    if not days:
        return []
    as_of = days[-1] if as_of is None else as_of
    files = [str(day_path(project, d)) for d in days]
    con = connect()
    rows = con.execute(_EPISODES_SQL, {"days": days, "files": files}).fetchall()
    names = [c[0] for c in con.description]
    out = []
    for row in rows:
        r = dict(zip(names, row, strict=True))
        state = "open" if r["resolved_on"] is None else "resolved"
        if status != "all" and state != status:
            continue
        out.append(Exception_(
            **r,
            currency=project.reporting_currency,
            status=state,
            classification=classify(rule=rules.get(r["rule"]), first_seen=r["first_seen"],
                                    resolved_on=r["resolved_on"], as_of=as_of),
        ))
    return out
