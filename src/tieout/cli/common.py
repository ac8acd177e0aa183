"""Options every command shares."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.config import Project, load_project
from tieout.output import FittingTable


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date as YYYY-MM-DD", param, ctx)


ISO_DATE = IsoDate()

project_option = click.option(
    "--project", "-p", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="The project folder (holding tieout.yml).",
)


def format_option(*choices: str, default: str | None = None) -> Any:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default or choices[0],
                        show_default=True, help="Output format.")


def open_project(project_dir: Path) -> Project:
    return load_project(project_dir)


def interactive() -> bool:
    """Progress bars and colour only for a person at a terminal, never in pipes or logs."""
    return sys.stderr.isatty()


def echo_rich(renderable: Any) -> None:
    # A terminal gets its own width; a pipe or a log file the whole table rather than one squeezed to 80
    # columns (COLUMNS is no guide there: test runners and cron set it), unless TIEOUT_WIDTH says how wide.
    asked = os.environ.get("TIEOUT_WIDTH", "")
    terminal = sys.stdout.isatty()
    width = int(asked) if asked.isdigit() else None if terminal else 240
    # (FORCE_COLOR: rich colours a pipe too, which only rich does)
    if not terminal and width is not None and isinstance(renderable, FittingTable) \
            and not os.environ.get("FORCE_COLOR"):
        text = renderable.plain(width)  # what rich would print, without rich laying out every cell
        if text is not None:
            sys.stdout.write(text)
            return
    from rich.console import Console

    Console(soft_wrap=False, width=width).print(renderable)
