"""The Python API for a scheduled job: what `tieout run` does, as a call (docs/spark.md).

    import tieout
    result = tieout.run_day("/dbfs/recon", "2026-02-16", spark=spark)   # inside a Databricks or EMR job
    print(result.findings, result.by_severity)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tieout.config import Project, load_project

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tieout.run import DayResult


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

    loaded = project if isinstance(project, Project) else load_project(Path(project))
    day = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
    with run_lock(loaded):
        result = run_one(loaded, day, spark=spark)
    p1_after_run(loaded, None, day)
    return result
