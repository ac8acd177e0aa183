"""The `tieout` command. Each subcommand is thin: it parses, calls one function of the package and
renders. Every `TieoutError` is caught in one place and becomes its documented exit code.
"""

from __future__ import annotations

import click

from tieout import __version__
from tieout.cli.corrections import audit, correct, corrections_cmd
from tieout.cli.entities import entities
from tieout.cli.exceptions import exceptions_cmd
from tieout.cli.history import history
from tieout.cli.month import month
from tieout.cli.notify import notify
from tieout.cli.ownership import golden, ownership
from tieout.cli.patterns import patterns_cmd
from tieout.cli.project import demo, init
from tieout.cli.report import report
from tieout.cli.rules import rules
from tieout.cli.run import backfill, run
from tieout.cli.serve import serve
from tieout.cli.show import show
from tieout.cli.sources import sources
from tieout.cli.timeline import timeline
from tieout.cli.workflow import WORKFLOW_COMMANDS
from tieout.errors import TieoutError


class _Tieout(click.Group):
    """Turns every `TieoutError` into its message on stderr and its documented exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TieoutError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=_Tieout, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tieout")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """tieout — reconcile your CRM, billing and product-usage exports every day.

    \b
    Exit codes: 0 ok · 2 usage error · 3 bad configuration · 4 bad input export
                5 --fail-on threshold reached · 6 another run in progress · 7 not found
                8 audit verify: a hash-chained log was tampered with
                9 conflict: someone acted on the exception first · 10 action not allowed
                11 the store is damaged (an unreadable manifest, Parquet file or state.json)
    """
    # Every command records the OS account it runs from beside the names it is given (tieout.os_account)
    # — except the web server, whose people are the signed-in users.
    if ctx.invoked_subcommand != "serve":
        from tieout.os_account import on_the_command_line

        ctx.with_resource(on_the_command_line())


for command in (init, demo, run, backfill, exceptions_cmd, show, history, timeline, patterns_cmd, entities, rules,
                ownership, golden, correct, corrections_cmd, audit, report, month, notify, serve, sources,
                *WORKFLOW_COMMANDS):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="tieout")
