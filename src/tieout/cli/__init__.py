"""The `tieout` command. Each subcommand is thin: it parses, calls one function of the package and
renders. Every `TieoutError` is caught in one place and becomes its documented exit code.
"""

from __future__ import annotations

import sys

import click

from tieout import __version__
from tieout.cli.entities import entities
from tieout.cli.exceptions import exceptions_cmd
from tieout.cli.project import demo, init
from tieout.cli.rules import rules
from tieout.cli.run import backfill, run
from tieout.errors import TieoutError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tieout")
def cli() -> None:
    """tieout — reconcile your CRM, billing and product-usage exports every day.

    \b
    Exit codes: 0 ok · 2 usage error · 3 bad configuration · 4 bad input export
                5 --fail-on threshold reached · 6 another run in progress · 7 not found
    """


for command in (init, demo, run, backfill, exceptions_cmd, entities, rules):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except TieoutError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(0)
