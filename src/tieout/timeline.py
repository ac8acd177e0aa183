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
class Episode:
    """One run of consecutive stored days on which an exception was reported; attributes of its last day."""

    id: str
    rule: str
    canonical_id: str | None
    source_system: str | None
    source_id: str | None
    field: str | None
    severity: str
    impact: Decimal
    team: str | None
    details: str | None
    first_seen: date
    last_seen: date
    resolved_on: date | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Exception_(Episode):
    """An exception as the queue shows it: its latest episode, with its status and classification."""

    currency: str
    status: str
    classification: str
    episodes: int


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


# Every timeline query starts here: the stored days numbered in order, every finding with its day's number,
# and its island — a run of consecutive stored days on which one exception was reported (gaps and islands).
_ISLANDS = """
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
),"""

_EPISODES_SQL = _ISLANDS + """
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


# --- Every episode, and the open queue of every stored day (`tieout show`, `tieout timeline`) ---------------


# The same islands as `_EPISODES_SQL`, keeping every episode rather than each exception's latest.
_ALL_EPISODES_SQL = _ISLANDS + """
episodes AS (
    SELECT id, island, min(day) AS first_seen, max(day) AS last_seen, max(n) AS last_n
    FROM islands
    WHERE __WHERE__
    GROUP BY id, island
)
SELECT o.id, o.rule, o.canonical_id, o.source_system, o.source_id, o.field, o.severity, o.impact, o.team,
       o.details, e.first_seen, e.last_seen, r.day AS resolved_on
FROM episodes AS e
JOIN observed AS o ON o.id = e.id AND o.day = e.last_seen
LEFT JOIN run_days AS r ON r.n = e.last_n + 1
ORDER BY e.first_seen, o.rule, o.id
"""


def episodes(
    project: Project,
    *,
    until: date | None = None,
    exception_id: str | None = None,
    canonical_id: str | None = None,
    records: list[tuple[str, str]] | None = None,
) -> list[Episode]:
    """Every episode up to `until`, sorted by first_seen: of one exception, or of one entity — its own
    exceptions and those of its `records` (source_system, source_id) that name no entity."""
    days = stored_days(project, until=until)
    if not days:
        return []
    params: dict[str, Any] = {"days": days, "files": [str(day_path(project, d)) for d in days]}
    where = []
    if exception_id is not None:
        where.append("id = $id")
        params["id"] = exception_id
    if canonical_id is not None:
        where.append("(canonical_id = $canonical_id OR (canonical_id IS NULL AND "
                     "source_system || ':' || source_id IN (SELECT unnest($records))))")
        params["canonical_id"] = canonical_id
        params["records"] = [f"{s}:{i}" for s, i in records or []] or [""]
    sql = _ALL_EPISODES_SQL.replace("__WHERE__", " AND ".join(where) or "true")
    cur = connect().execute(sql, params)
    names = [c[0] for c in cur.description]
    return [Episode(**dict(zip(names, row, strict=True))) for row in cur.fetchall()]


@dataclass(frozen=True)
class DayCounts:
    """The open queue of one stored day: what `exceptions(as_of=day)` lists, counted."""

    date: date
    open: int
    opened: int  # first seen that day (a new exception or a reopening)
    resolved: int  # reported the stored day before, not that day
    by_rule: dict[str, int]
    by_classification: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# One pass over every stored day. An exception open on day D is in its episode containing D, with
# resolved_on unknown as of D, so `classify` reduces to: ownership, else structural past the lag, else pending
# (timing needs a resolution). Islands of days up to D do not depend on later days, so one numbering serves
# every D.
_DAILY_SQL = _ISLANDS + """
rules AS (
    SELECT unnest($rule_names) AS rule, unnest($lags) AS lag, unnest($ownership) AS ownership
),
open_days AS (
    SELECT *, min(day) OVER (PARTITION BY id, island) AS first_seen,
           max(n) OVER (PARTITION BY id, island) AS last_n
    FROM islands
),
classified AS (
    SELECT o.day, o.rule, o.day = o.first_seen AS opened,
           CASE WHEN coalesce(r.ownership, false) THEN 'ownership'
                WHEN o.day - o.first_seen > coalesce(r.lag, 30) THEN 'structural'
                ELSE 'pending' END AS classification
    FROM open_days AS o LEFT JOIN rules AS r ON r.rule = o.rule
),
resolved AS (
    SELECT d.day, count(DISTINCT (o.id, o.island)) AS resolved
    FROM open_days AS o JOIN run_days AS d ON d.n = o.last_n + 1
    GROUP BY d.day
)
SELECT 'count' AS kind, day, rule, classification, count(*) AS n, count(*) FILTER (WHERE opened) AS opened
FROM classified GROUP BY ALL
UNION ALL
SELECT 'resolved', day, NULL, NULL, resolved, 0 FROM resolved
ORDER BY ALL
"""


def daily_counts(project: Project, rules: dict[str, Rule], *, start: date | None = None,
                 end: date | None = None) -> list[DayCounts]:
    """Per stored day from `start` to `end`, the exceptions open that day by rule and by classification,
    each classified as of that day — as `exceptions(project, rules, as_of=day)` would."""
    days = stored_days(project, until=end)  # earlier days too: an episode may have begun before `start`
    if not days:
        return []
    # A rule no longer configured is classified as `classify(rule=None)` does: lag 30, not ownership.
    names = list(rules) or [""]
    params = {
        "days": days, "files": [str(day_path(project, d)) for d in days],
        "rule_names": names,
        "lags": [rules[n].expected_lag_days if n in rules else 30 for n in names],
        "ownership": [n in rules and rules[n].classification == "ownership" for n in names],
    }
    rows = connect().execute(_DAILY_SQL, params).fetchall()
    shown = [d for d in days if start is None or d >= start]
    totals: dict[date, dict[str, int]] = {d: {"open": 0, "opened": 0, "resolved": 0} for d in shown}
    by_rule: dict[date, dict[str, int]] = {d: {} for d in shown}
    by_class: dict[date, dict[str, int]] = {d: {} for d in shown}
    for kind, day, rule, classification, n, opened in rows:
        if day not in totals:
            continue
        if kind == "resolved":
            totals[day]["resolved"] = n
            continue
        totals[day]["open"] += n
        totals[day]["opened"] += opened
        by_rule[day][rule] = by_rule[day].get(rule, 0) + n
        by_class[day][classification] = by_class[day].get(classification, 0) + n
    return [DayCounts(date=d, **totals[d], by_rule=by_rule[d], by_classification=by_class[d]) for d in shown]
