"""The Python API for a scheduled job: what `tieout run` and `tieout exceptions` do, as calls (docs/running.md).

    import tieout
    result = tieout.run_day("/dbfs/recon", "2026-02-16", spark=spark)   # inside a Databricks or EMR job
    print(result.findings, result.by_severity)
    for e in tieout.exceptions("/dbfs/recon", severity="P1"):          # the queue, as `--format json` lists it
        print(e["id"], e["rule"], e["impact"])
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tieout.config import SEVERITIES, Project, load_project

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tieout.run import DayResult


def _project(project: Project | Path | str) -> Project:
    return project if isinstance(project, Project) else load_project(Path(project))


def _day(as_of: date | str) -> date:
    return as_of if isinstance(as_of, date) else date.fromisoformat(as_of)


def run_day(project: Project | Path | str, as_of: date | str, *, spark: SparkSession | None = None) -> DayResult:
    """Reconcile `as_of` and store it, under the project's run lock, then send its P1s — `tieout run --as-of`.

    `project` is a project folder (holding tieout.yml) or a loaded `Project`; `as_of` a date or `YYYY-MM-DD`.
    With `spark`, the day's canonical tables and rules run on Spark in that session (the job's own, left
    running), whatever the project's `engine:`; without it, on the project's engine. Errors are tieout's
    (`tieout.errors`, each with its exit code), as the command line reports them.
    """
    from tieout.cli.notify import p1_after_run
    from tieout.run import run_day as run_one
    from tieout.store import run_lock

    loaded, day = _project(project), _day(as_of)
    with run_lock(loaded):
        result = run_one(loaded, day, spark=spark)
    p1_after_run(loaded, None, day)
    return result


def exceptions(project: Project | Path | str, *, status: str = "open", as_of: date | str | None = None,
               team: str | Iterable[str] = (), severity: str | Iterable[str] = (), rule: str | Iterable[str] = (),
               search: str | None = None, assignee: str | Iterable[str] = (), unassigned: bool = False,
               state: str | Iterable[str] = ()) -> list[dict[str, Any]]:
    """The exceptions `tieout exceptions --format json` lists, with the same filters, order and keys: a record per
    exception, money as `Decimal` and days as `datetime.date` (JSON has them as numbers and ISO strings).

    `status` is open, resolved or all; `as_of` the day the queue stood on (default: the latest reconciled day);
    `team`, `severity`, `rule`, `assignee` and `state` each one value or several (any of them); `unassigned` the
    ones assigned to nobody. Raises `ValueError` for a status, severity, rule or workflow state that does not exist,
    `tieout.errors.ConfigError` for a folder that holds no project.
    """
    from tieout.queue_records import records, select, unknown_rules
    from tieout.rules.registry import load_rules
    from tieout.timeline import STATUSES
    from tieout.web.queue import WORKFLOW_STATES

    loaded = _project(project)
    day = None if as_of is None else _day(as_of)
    teams, severities, rules_named, assignees, states = (
        (v,) if isinstance(v, str) else tuple(v) for v in (team, severity, rule, assignee, state))
    for name, value, known in (("status", (status,), STATUSES), ("severity", severities, SEVERITIES),
                               ("state", states, tuple(WORKFLOW_STATES))):
        wrong = sorted(set(value) - set(known))
        if wrong:
            raise ValueError(f"{name} {wrong[0]!r}: expected one of {', '.join(known)}")
    rules = load_rules(loaded)
    unknown = unknown_rules(rules, rules_named)
    if unknown:
        raise ValueError(unknown)
    found = select(loaded, rules, status=status, as_of=day, teams=teams, severities=severities,
                   rule_names=rules_named, assignees=assignees, unassigned=unassigned, states=states, search=search)
    return records(loaded, found, day)
