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

import duckdb

from tieout.config import Project
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
    SELECT day, row_number() OVER (ORDER BY day) AS n, lead(day) OVER (ORDER BY day) AS next_day
    FROM (SELECT unnest($days) AS day)
),
observed AS (
    SELECT f.*, d.day, d.n, d.next_day
    FROM read_parquet($files, filename = true) AS f
    JOIN run_days AS d ON d.day = CAST(regexp_extract(f.filename, '(\\d{4}-\\d{2}-\\d{2})\\.parquet$', 1) AS DATE)
),
islands AS (
    SELECT *, n - row_number() OVER (PARTITION BY id ORDER BY n) AS island FROM observed
),
episodes AS (
    SELECT id, island, min(day) AS first_seen, max(day) AS last_seen, arg_max(next_day, day) AS resolved_on,
           arg_max(rule, day) AS rule, arg_max(canonical_id, day) AS canonical_id,
           arg_max(source_system, day) AS source_system, arg_max(source_id, day) AS source_id,
           arg_max(field, day) AS field, arg_max(severity, day) AS severity, arg_max(impact, day) AS impact,
           arg_max(team, day) AS team, arg_max(details, day) AS details
    FROM islands
    GROUP BY id, island
)
SELECT id, rule, canonical_id, source_system, source_id, field, severity, impact, team, first_seen, last_seen,
       resolved_on, count(*) OVER (PARTITION BY id) AS episodes, details
FROM episodes
QUALIFY row_number() OVER (PARTITION BY id ORDER BY first_seen DESC) = 1
ORDER BY rule, canonical_id NULLS LAST, source_system, source_id, field
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
    con = duckdb.connect()
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
