"""Who each system counts as an active customer on a day, by its own definition (contract §5):

- **CRM-active**: a live contract on D;
- **billing-active**: an invoice covering D, not void or draft;
- **ops-active over W days**: a usage row with active users in (D − W, D], W the `ops_window_days` a rule
  names for the bridge (BILLING_ACTIVE_OPS_INACTIVE's `window_days`), 30 unless the project says otherwise.

Read from the canonical tables of an evaluated day. The run counts them as it evaluates a day and the store
keeps the counts (the month's average); the month-end pack lists them (tieout.reports.bridge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from tieout.engines.base import Engine
from tieout.rules.registry import Rule
from tieout.store.manifest import ActiveCounts

# The ops-active window when no rule names one (a project that replaced BILLING_ACTIVE_OPS_INACTIVE with a rule
# of its own that does not say): the contract's default.
DEFAULT_OPS_WINDOW_DAYS = 30


def ops_window_days(rules: dict[str, Rule]) -> int:
    """The window a loaded rule names as the bridge's `ops_window_days`, else the default."""
    window = DEFAULT_OPS_WINDOW_DAYS
    for rule in rules.values():
        if "ops_window_days" in rule.bridge_params:
            window = rule.bridge_param("ops_window_days")
    return window


@dataclass(frozen=True)
class Activity:
    """Active records on D per system, as (source id, canonical id or None)."""

    records: dict[str, list[tuple[str, str | None]]]

    def entities(self, system: str) -> set[str]:
        return {cid for _, cid in self.records[system] if cid is not None}


def _queries(day: date, window_days: int) -> dict[str, tuple[str, dict[str, object]]]:
    """Per system, its active records (record id, canonical id): the same conditions as the canonical
    `crm_active` / `billing_active` tables, kept per record."""
    return {
        "crm": ("SELECT DISTINCT account_id, canonical_id FROM contracts WHERE status = 'active' "
                "AND start_date <= $d AND (end_date IS NULL OR end_date >= $d)", {"d": day}),
        "billing": ("SELECT DISTINCT customer_id, canonical_id FROM covering_invoices", {}),
        "ops": ("SELECT DISTINCT tenant_id, canonical_id FROM tenant_activity WHERE last_active_on > $since",
                {"since": day - timedelta(days=window_days)}),
    }


def _every_system(day: date, window_days: int, select: str) -> tuple[str, dict[str, object]]:
    """One query over every system's active records: `select` (with `{system}` and `{query}`) per system, their
    union, and its parameters (on Spark each query is a job of its own)."""
    parts, params = [], {}
    for system, (query, its_params) in _queries(day, window_days).items():
        parts.append(select.format(system=system, query=query))
        params.update(its_params)  # the same names mean the same values: $d is the day throughout
    return " UNION ALL ".join(parts), params


def activity(con: duckdb.DuckDBPyConnection, day: date, window_days: int) -> Activity:
    """Each system's active records on `day`."""
    return Activity({s: sorted_records(con.execute(q, p).fetchall())
                     for s, (q, p) in _queries(day, window_days).items()})


def sorted_records(rows: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """(source id, canonical id) rows in `Activity`'s order."""
    return sorted(rows, key=lambda r: (r[0], r[1] or ""))


def records_query(day: date, window_days: int) -> tuple[str, dict[str, object]]:
    """Every system's active records on `day` as (system, source id, canonical id) rows, in one query."""
    return _every_system(day, window_days, "SELECT '{system}' AS system, * FROM ({query}) AS a")


def counts(engine: Engine, day: date, window_days: int) -> ActiveCounts:
    """Each system's active customers (entities) on `day`: the sizes of `activity`'s entity sets, in one query."""
    sql, params = _every_system(day, window_days,
                                "SELECT '{system}' AS system, count(DISTINCT canonical_id) AS n FROM ({query}) AS a")
    found = dict(engine.rows(sql, params))
    return ActiveCounts(tuple(sorted(found.items())), window_days)
