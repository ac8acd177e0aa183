"""`tieout init` and `tieout demo`."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import click

from tieout.cli.common import interactive
from tieout.config import load_project
from tieout.errors import ConfigError
from tieout.state.location import SQLITE_FILE

_SCAFFOLD = files("tieout") / "scaffold"


# Examples for the help text only: the choices are the registered formats (`tieout.sources.scaffold`), checked
# when the flag is used, so that `tieout --help` does not import every vendor.
_EXAMPLES = {"crm": "salesforce, hubspot", "billing": "stripe, chargebee, zuora", "ops": "csv, json, parquet, sql"}


def _format_option(system: str) -> Any:
    return click.option(f"--{system}", metavar="FORMAT", default=None,
                        help=f"Read the {system} system's exports as FORMAT (e.g. {_EXAMPLES[system]}, or standard): "
                             "tieout.yml gets its `sources:` entry.")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_format_option("crm")
@_format_option("billing")
@_format_option("ops")
def init(directory: Path, crm: str | None, billing: str | None, ops: str | None) -> None:
    """Create a project in DIRECTORY: a commented tieout.yml and ownership.yml, an empty rules/ and an example
    entity map.

    With --crm, --billing or --ops, tieout.yml also gets a `sources:` entry for each system named, every key
    shown with the format's own files and column map (docs/sources/README.md); a system not named keeps the
    standard layout."""
    chosen = {system: name for system, name in (("crm", crm), ("billing", billing), ("ops", ops)) if name}
    sources = ""
    if chosen:
        from tieout.sources import scaffold

        for system, name in chosen.items():
            problem = scaffold.refusal(system, name)
            if problem:
                raise click.BadParameter(problem, param_hint=f"--{system}")
        sources = scaffold.sources_yaml(chosen)
    if (directory / "tieout.yml").exists():
        raise ConfigError(f"{directory / 'tieout.yml'}: a project already exists here; nothing changed")
    (directory / "rules").mkdir(parents=True, exist_ok=True)
    (directory / "exports").mkdir(exist_ok=True)
    (directory / "tieout.yml").write_text(_SCAFFOLD.joinpath("tieout.yml").read_text(encoding="utf-8") + sources)
    if not (directory / "ownership.yml").exists():
        (directory / "ownership.yml").write_text(_SCAFFOLD.joinpath("ownership.yml").read_text(encoding="utf-8"))
    if not (directory / "entity_map.csv").exists():
        (directory / "entity_map.csv").write_text(
            _SCAFFOLD.joinpath("entity_map.csv").read_text(encoding="utf-8"))
    if not chosen:
        click.echo(f"Created a tieout project in {directory}.\n"
                   f"Next: put each day's exports in {directory}/exports/YYYY-MM-DD/ (six CSV files), fill in "
                   f"entity_map.csv, then run: tieout run --project {directory} --as-of YYYY-MM-DD")
        return
    from tieout.systems import SYSTEMS

    click.echo(f"Created a tieout project in {directory}, reading {', '.join(f'{s} as {n}' for s, n in chosen.items())}"
               f".\nNext: put each day's exports in {directory}/exports/YYYY-MM-DD/:")
    for system in SYSTEMS:
        name = chosen.get(system, "standard")
        folder = scaffold.folder_of(name)
        files = scaffold.files_of(system, name)
        click.echo(f"  {system + ':':<9}{folder + '/' if folder else '(the day folder) '}"
                   f"{', '.join(files) if files else 'the tables named in tieout.yml'}")
    click.echo(f"Fill in entity_map.csv, check a day with: tieout sources check --project {directory} --as-of "
               f"YYYY-MM-DD\nthen run: tieout run --project {directory} --as-of YYYY-MM-DD")


# What `tieout demo` writes at the top of its folder (generate_world, then the runs' store): a folder that
# holds anything else holds someone's work.
_DEMO_ENTRIES = {"tieout.yml", "entity_map.csv", "planted.json", "natural_keys.json", "exports", ".tieout"}


def _refuse_to_replace(directory: Path) -> str | None:
    """Why the existing `directory` must not be replaced by a new demo, or None when it may be.

    Only an earlier demo is ever replaced, and only while it holds nothing but what the demo wrote: a state
    database (users, corrections, the audit and corrections logs) or any file a person added keeps it."""
    if not (directory / "planted.json").is_file():
        return "folder exists and is not an earlier tieout demo"
    state = sorted(p.name for p in (directory / ".tieout").glob(f"{SQLITE_FILE}*"))
    if state:
        return (f"this earlier demo holds a state database (.tieout/{state[0]}: users, corrections, logs), "
                "which a new demo never deletes")
    added = sorted(p.name for p in directory.iterdir() if p.name not in _DEMO_ENTRIES)
    if added:
        return f"this earlier demo holds files the demo did not write ({', '.join(added[:3])})"
    return None


def _replace_with(directory: Path, staged: Path) -> None:
    """Put the fully generated `staged` folder in place of `directory` (an earlier demo or nothing)."""
    if directory.exists():
        retired = directory.with_name(f".{directory.name}.replaced-{os.getpid()}")
        directory.rename(retired)
        staged.rename(directory)
        shutil.rmtree(retired)
    else:
        staged.rename(directory)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("tieout-demo"))
@click.option("--companies", type=click.IntRange(20, 100_000), default=300, show_default=True)
@click.option("--days", type=click.IntRange(20, 400), default=90, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--vendor", is_flag=True,
              help="Write the same world as the systems export it (Salesforce Data Loader CSV, Stripe JSON, the "
                   "product database's CSV) with a sources: block that reads it.")
def demo(directory: Path, companies: int, days: int, seed: int, vendor: bool) -> None:
    """Generate a sample world in DIRECTORY, reconcile every day of it, and show what was found.

    An earlier demo in DIRECTORY is replaced once the new one is written, unless it holds a state database
    (users, corrections, logs) or files the demo did not write; any other non-empty folder is refused.
    """
    from tieout.cli.run import run_with_progress
    from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world
    from tieout.patterns import patterns
    from tieout.rules.registry import load_rules
    from tieout.store import run_lock
    from tieout.timeline import daily_counts, exceptions

    # Every argument is checked before anything on disk is touched (the world's own limits live with it, and
    # importing it for the option types would slow every other command down).
    if companies < MIN_COMPANIES:
        raise click.BadParameter(f"at least {MIN_COMPANIES} companies make a world", param_hint="--companies")
    if days < MIN_DAYS:
        raise click.BadParameter(f"at least {MIN_DAYS} days fit every planted case", param_hint="--days")
    if directory.exists() and any(directory.iterdir()):
        reason = _refuse_to_replace(directory)
        if reason:
            raise ConfigError(f"{directory}: {reason}; nothing changed (pick an empty or new folder)")
    # The new world is written beside the folder and only then swapped in, so a failure leaves the old demo.
    directory.parent.mkdir(parents=True, exist_ok=True)
    staged = directory.with_name(f".{directory.name}.new-{os.getpid()}")
    try:
        planted = generate_world(staged, companies=companies, days=days, seed=seed, vendor=vendor)
        _replace_with(directory, staged)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    project = load_project(directory)
    rules = load_rules(project)
    dates = sorted(date.fromisoformat(p.name) for p in (directory / "exports").iterdir())
    shapes = " as Salesforce, Stripe and product-database exports (see tieout.yml)" if vendor else ""
    click.echo(f"Generated {companies} companies over {days} days ({dates[0]} to {dates[-1]}) in {directory}"
               f"{shapes}, with {len(planted)} planted cases (see planted.json).")
    with run_lock(project):
        run_with_progress(project, rules, dates, jobs=min(2, os.cpu_count() or 1), progress=interactive())
    found = exceptions(project, rules, status="all")
    open_ = [e for e in found if e.status == "open"]
    by_sev = {s: sum(1 for e in open_ if e.severity == s) for s in ("P1", "P2", "P3", "INFO")}
    by_class: dict[str, int] = {}
    for e in found:
        by_class[e.classification] = by_class.get(e.classification, 0) + 1
    click.echo(f"Reconciled {len(dates)} days: {len(found)} exceptions seen, {len(open_)} open on {dates[-1]} "
               f"({', '.join(f'{k} {v}' for k, v in by_sev.items())}).")
    click.echo("By classification: " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())) + ".")
    counts = daily_counts(project, rules)
    click.echo("\nTimeline — open exceptions at the end of each week:")
    for day in [c for i, c in enumerate(counts) if i % 7 == 6 or i == len(counts) - 1]:
        classes = ", ".join(f"{k} {v}" for k, v in sorted(day.by_classification.items()) if v)
        click.echo(f"  {day.date}  {day.open:3d} open" + (f"  ({classes})" if classes else ""))
    timing = [e for e in found if e.classification == "timing"]
    click.echo("Closed by themselves within the expected lag (timing):")
    for e in sorted(timing, key=lambda e: (e.first_seen, e.rule)):
        click.echo(f"  {e.rule:<28} {e.canonical_id or e.source_id:<8} open {e.first_seen} → resolved {e.resolved_on}")
    recurring = [p for p in patterns(project, rules).patterns if p.recurring]
    if recurring:
        click.echo("Recurring patterns — a rule nobody wrote down (tieout patterns):")
        for p in recurring:
            click.echo(f"  {p.sentence}")
    example = timing[0].id if timing else "ID"
    # After `make demo` the command is .venv/bin/tieout, not yet on PATH: show what will work.
    # Run as `python -m tieout`, argv[0] is the package's __main__.py: show the same module call.
    cmd = ("tieout" if shutil.which("tieout")
           else f"{os.path.relpath(sys.executable)} -m tieout" if sys.argv[0].endswith("__main__.py")
           else os.path.relpath(sys.argv[0]))
    hints = [(f"exceptions -p {directory}", "the open queue, worst first"),
             (f"exceptions -p {directory} --status all --format json", ""),
             (f"exceptions -p {directory} --team ar --fail-on P2", "exit 5 if AR has a P2 or worse"),
             (f"entities -p {directory} --status unmapped", "records no key resolved"),
             (f"timeline -p {directory}", "open exceptions per day"),
             (f"patterns -p {directory}", "exceptions grouped by cause"),
             (f"show {example} -p {directory}", "one exception's story"),
             (f"rules explain FTE_THRESHOLD_DRIFT -p {directory}", "")]
    width = max(len(line) for line, note in hints if note)  # the notes in one column, whatever the id's length
    click.echo("\nTry next:")
    for line, note in hints:
        click.echo(f"  {cmd} {line.ljust(width)}   {note}".rstrip() if note else f"  {cmd} {line}")
