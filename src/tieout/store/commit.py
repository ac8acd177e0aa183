"""How a reconciled day is stored: the one commit path of a run and of a parallel backfill.

A day is stored in two steps. `prepare_history` stages its source history from a connection holding its tables
(the run's own, while it may still write files; or, in a parallel backfill, views of the rows a worker staged),
against the days stored so far. `commit` then moves that history into place, writes the day's findings — the
manifest's replacement is the commit point — and records the fingerprint it ran with. Both under the run lock,
days in the order they are committed.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

import tieout.store.fingerprints as fingerprints
import tieout.store.source_history as source_history
from tieout.config import Project
from tieout.ownership.breaks import edits_by_day
from tieout.rules.registry import Rule
from tieout.state.anchors import current_heads
from tieout.store.days import commit_day
from tieout.store.manifest import ActiveCounts
from tieout.store.migrations import migrate, stored_days


def prepare_history(con: duckdb.DuckDBPyConnection, project: Project, as_of: date) -> source_history.Plan:
    """Stage `as_of`'s source history from the tables on `con`; nothing is in place until `commit`."""
    from tieout.ingest import reopen_day  # repairs a chain the history alone cannot (a store from before it)

    migrate(project)
    return source_history.prepare(con, project, as_of, stored_days(project),
                                  lambda day: reopen_day(project, day))


def commit(project: Project, as_of: date, history: source_history.Plan, findings: pa.Table,
           rules: dict[str, Rule], active: ActiveCounts | None = None) -> None:
    """Store `as_of`: its staged source history, then its findings, its `active` customer counts and the
    ownership breaks of the days whose history moved (the commit point), then its fingerprint.
    The staged files are removed if anything before the commit point fails."""
    try:
        history.commit()
        commit_day(project, as_of, findings, current_heads(project),
                   lambda days, stored: edits_by_day(project, days, stored), active)
    finally:
        history.discard()
    _record_fingerprint(project, as_of, rules)


def _record_fingerprint(project: Project, as_of: date, rules: dict[str, Rule]) -> None:
    """The day is stored already: a fingerprint that cannot be written is reported missing later, never fails
    the run."""
    try:
        fingerprints.record(project, as_of, rules)
    except OSError:
        pass
