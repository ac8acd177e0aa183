"""Options every command shares."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from tieout.config import Project, load_project


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
    from rich.console import Console

    # A terminal gets its own width; a pipe or a log file the whole table rather than one squeezed to 80
    # columns (COLUMNS is no guide there: test runners and cron set it), unless TIEOUT_WIDTH says how wide.
    asked = os.environ.get("TIEOUT_WIDTH", "")
    width = int(asked) if asked.isdigit() else None if sys.stdout.isatty() else 240
    Console(soft_wrap=False, width=width).print(renderable)
