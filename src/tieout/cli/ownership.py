"""`tieout ownership check`, `tieout ownership doc` and `tieout golden`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from tieout.cli.common import ISO_DATE, echo_rich, format_option, open_project, project_option
from tieout.output import table, to_csv, to_json
from tieout.ownership.model import approver, columns, load_registry, stages


@click.group()
def ownership() -> None:
    """The ownership registry (ownership.yml): check it, or write it as a one-page document."""


@ownership.command("check")
@project_option
def check(project_dir: Path) -> None:
    """Validate ownership.yml and print who owns each field (exit 3 if it is refused)."""
    project = open_project(project_dir)
    registry = load_registry(project)
    click.echo(f"{registry.source}: {len(registry.fields)} field(s), valid.")
    rows = []
    for name, f in registry.fields.items():
        held = ", ".join(f"{c.system}: {c.ref}" for c in columns(f))
        for stage in stages(f):
            when = stage.when or ("until a condition holds" if f.after else "always")
            rows.append((name, f.kind, held, when,
                         stage.owner, ", ".join(stage.editors), approver(stage, project)))
    echo_rich(table("Ownership registry", ("Field", "Kind", "Held in", "When", "Owner", "May edit", "Approver"),
                    rows))
    if registry.handoffs:  # free text from ownership.yml: `table` shows it as text, never as markup
        echo_rich(table("Lifecycle handoffs", ("From", "Event", "To", "Should", "Columns", "Missed as"),
                        [(h.source, h.event, h.target, h.should, ", ".join(h.columns), ", ".join(h.missed_as) or "any")
                         for h in registry.handoffs]))


@ownership.command("doc")
@project_option
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for ownership.md and ownership.html (default: the project folder).")
def doc(project_dir: Path, output_dir: Path | None) -> None:
    """Write the one-page source of truth (ownership.md and ownership.html): each field's origin, owner,
    editors, deciding record and approver, and the handoff map as a Mermaid diagram."""
    from tieout.ownership.doc import write_doc

    project = open_project(project_dir)
    registry = load_registry(project)
    md, page = write_doc(registry, project, output_dir if output_dir is not None else project.root)
    click.echo(f"Wrote {md} and {page} from {registry.source}.")


@click.command()
@project_option
@click.option("--as-of", "as_of", type=ISO_DATE,
              help="Read this day (default: the latest reconciled day): from the store once reconciled, "
                   "else from its exports.")
@format_option("csv", "json", "parquet")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output (required for parquet).")
def golden(project_dir: Path, as_of: date | None, fmt: str, output: Path | None) -> None:
    """Per canonical entity and registry field, the winning value under the ownership registry.

    Reads one day's exports (the latest reconciled day's unless --as-of is given) and says which on
    standard error. The owner's record wins; where it holds no value another system's stands in
    (source_system differs from owner_system). Amounts are in the reporting currency.
    """
    from tieout.ownership.golden import COLUMNS, golden_records

    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: give it with --output FILE")
    project = open_project(project_dir)
    result = golden_records(project, as_of=as_of)
    click.echo(f"Golden record of {len(result.rows)} entity fields as of {result.as_of}, read from "
               f"{result.source}.", err=True)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([("as_of", pa.date32())] + [(c, pa.string()) for c in COLUMNS[1:]])
        assert output is not None
        pq.write_table(pa.Table.from_pylist(result.rows, schema=schema), output)
        return
    text = to_json(result.rows) + "\n" if fmt == "json" else to_csv(result.rows, COLUMNS)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
