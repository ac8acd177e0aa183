"""`tieout run` and `tieout backfill`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, format_option, interactive, open_project, project_option
from tieout.cli.notify import p1_after_run
from tieout.config import SEVERITIES, Project
from tieout.output import to_json
from tieout.rules.registry import Rule, load_rules
from tieout.run import DayResult, run_day, run_days
from tieout.store import run_lock


def _ranked(by_severity: dict[str, int]) -> dict[str, int]:
    return {s: by_severity[s] for s in SEVERITIES if s in by_severity}


def _summary(result: DayResult) -> str:
    sev = ", ".join(f"{s} {n}" for s, n in _ranked(result.by_severity).items())
    return (f"{result.as_of}: {result.findings} exception(s) reported"
            + (f" ({sev})" if sev else "") + f" in {result.seconds:.1f}s")


def _as_dict(result: DayResult) -> dict[str, object]:
    return {"as_of": result.as_of, "records": result.records, "exceptions_reported": result.findings,
            "by_severity": _ranked(result.by_severity), "by_rule": result.by_rule,
            "seconds": round(result.seconds, 3)}


def run_with_progress(project: Project, rules: dict[str, Rule], days: list[date], *, jobs: int, progress: bool,
                      on_day: Callable[[DayResult], None] = lambda result: None) -> list[DayResult]:
    """Run the days under one progress bar, shown only to a person at a terminal; `on_day` hears of each day
    as it is stored."""
    if not progress:
        return run_days(project, days, rules=rules, jobs=jobs, on_day=on_day)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("reconciling", total=len(days))

        def stored(result: DayResult) -> None:
            bar.update(task, advance=1, description=f"reconciled {result.as_of}")
            on_day(result)

        return run_days(project, days, rules=rules, jobs=jobs, on_day=stored)


jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=min(2, os.cpu_count() or 1), show_default=True,
    help="Days evaluated in parallel (each in its own process); days are still stored in date order.",
)


@click.command()
@click.option("--as-of", "as_of", type=ISO_DATE, required=True, help="The as-of date to reconcile.")
@project_option
@format_option("text", "json")
def run(as_of: date, project_dir: Path, fmt: str) -> None:
    """Reconcile one as-of date and store its snapshot (re-running a date replaces it)."""
    project = open_project(project_dir)
    with run_lock(project):
        if interactive():
            from rich.console import Console

            with Console(stderr=True).status(f"{as_of}: starting") as status:
                result = run_day(project, as_of, stage=lambda s: status.update(f"{as_of}: {s}"))
        else:
            result = run_day(project, as_of)
    p1_after_run(project, None, as_of)
    click.echo(to_json(_as_dict(result)) if fmt == "json" else _summary(result))


@click.command()
@click.option("--from", "start", type=ISO_DATE, required=True, help="First as-of date.")
@click.option("--to", "end", type=ISO_DATE, required=True, help="Last as-of date (inclusive).")
@project_option
@jobs_option
@format_option("text", "json")
def backfill(start: date, end: date, project_dir: Path, jobs: int, fmt: str) -> None:
    """Reconcile every as-of date from --from to --to; stops at the first bad or missing day."""
    if end < start:
        raise click.BadParameter("--to is before --from")
    project = open_project(project_dir)
    rules = load_rules(project)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    started = time.perf_counter()
    stored: list[date] = []
    try:
        with run_lock(project):
            results = run_with_progress(project, rules, days, jobs=jobs, progress=interactive() and fmt == "text",
                                        on_day=lambda r: stored.append(r.as_of))
    except Exception:
        # A bad day stops the backfill with the days before it stored: their P1s still open are news all the same.
        if stored:
            p1_after_run(project, rules, stored[-1])
        raise
    p1_after_run(project, rules, days[-1])
    if fmt == "json":
        click.echo(to_json([_as_dict(r) for r in results]))
    else:
        click.echo(f"{len(results)} day(s) reconciled, {start} to {end}, in {time.perf_counter() - started:.1f}s; "
                   f"last day: {_summary(results[-1])}")
