"""The `tieout` command. Each subcommand is thin: it parses, calls one function of the package and renders. Every
`TieoutError` is caught in one place and becomes its documented exit code.

A subcommand's module is imported only when that subcommand runs: `tieout --help` lists them from `COMMANDS`
without importing one, so that it, and every command, starts without loading the stacks other commands need
(the web server, the reports' spreadsheets, the state database, the SQL checker).
"""

from __future__ import annotations

import importlib

import click

from tieout import __version__
from tieout.errors import TieoutError

# Every subcommand: its name -> (its module, the command's name there, its summary for `tieout --help`: the
# first sentence of its own help; tests/test_cli_startup.py keeps the two the same).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ack": ("tieout.cli.workflow", "ack", "Acknowledge an exception."),
    "approve": ("tieout.cli.workflow", "approve", "Approve the suppression waiting on an exception, a correction "
                "request CR-n or a map request MR-n (not your own)."),
    "assign": ("tieout.cli.workflow", "assign", "Assign an exception to a member of its routed team."),
    "audit": ("tieout.cli.corrections", "audit",
              "Check the hash-chained logs (corrections, audit) and read the audit log."),
    "backfill": ("tieout.cli.run", "backfill",
                 "Reconcile every as-of date from --from to --to; stops at the first bad or missing day."),
    "comment": ("tieout.cli.workflow", "comment", "Comment on an exception."),
    "correct": ("tieout.cli.corrections", "correct", "Record a hand correction in the append-only corrections log "
                "— or, when its impact is above `workflow.correction_approval_over`, ask a second person to approve "
                "it (`tieout approve CR-n`)."),
    "corrections": ("tieout.cli.corrections", "corrections_cmd", "List the corrections log, oldest first (or, "
                    "with --pending, the requests waiting for approval)."),
    "demo": ("tieout.cli.project", "demo",
             "Generate a sample world in DIRECTORY, reconcile every day of it, and show what was found."),
    "entities": ("tieout.cli.entities", "entities",
                 "Every source record with its canonical entity and the key that resolved it."),
    "exceptions": ("tieout.cli.exceptions", "exceptions_cmd",
                   "List exceptions: by default the open ones on the latest reconciled day."),
    "golden": ("tieout.cli.ownership", "golden",
               "Per canonical entity and registry field, the winning value under the ownership registry."),
    "history": ("tieout.cli.history", "history", "Each version of the source records of an entity (canonical id) "
                "or of one record (SYSTEM:SOURCE_ID)."),
    "init": ("tieout.cli.project", "init", "Create a project in DIRECTORY: a commented tieout.yml and "
             "ownership.yml, an empty rules/ and an example entity map."),
    "month": ("tieout.cli.month", "month", "Sign the month-end pack: a preparer, then a reviewer (a second "
              "person); a reviewed month is closed."),
    "notify": ("tieout.cli.notify", "notify",
               "Team notifications: the daily digest, and the log of what was sent."),
    "ownership": ("tieout.cli.ownership", "ownership",
                  "The ownership registry (ownership.yml): check it, or write it as a one-page document."),
    "patterns": ("tieout.cli.patterns", "patterns_cmd",
                 "Exceptions grouped by shared cause, not by team; the ones that recur weekly flagged."),
    "reject": ("tieout.cli.workflow", "reject", "Reject the suppression waiting on an exception, a correction "
               "request CR-n or a map request MR-n (not your own)."),
    "report": ("tieout.cli.report", "report",
               "Write the daily digest, the weekly review or the month-end audit pack."),
    "resolve": ("tieout.cli.workflow", "resolve", "Resolve an exception with a reason code."),
    "review": ("tieout.cli.review", "review", "The weekly review's decisions: per pattern an owner, an action and "
               "a due date; later reviews show the outcome."),
    "rules": ("tieout.cli.rules", "rules", "The mismatch rules: built-in and your own."),
    "run": ("tieout.cli.run", "run",
            "Reconcile one as-of date and store its snapshot (re-running a date replaces it)."),
    "serve": ("tieout.cli.serve", "serve", "Serve the web interface: the queue, each exception's story, entities, "
              "the timeline and ownership."),
    "show": ("tieout.cli.show", "show",
             "One exception (by its id) or one entity (by its canonical id), with its history."),
    "sources": ("tieout.cli.sources", "sources", "The systems' own exports and databases that tieout.yml's "
                "`sources:` names (docs/sources/README.md)."),
    "suppress": ("tieout.cli.workflow", "suppress",
                 "Ask to suppress an exception until a date (a second person approves)."),
    "timeline": ("tieout.cli.timeline", "timeline", "Per reconciled day: the exceptions open that day, by rule and "
                 "by classification as of that day."),
    "users": ("tieout.cli.workflow", "users", "People who may sign in to `tieout serve` (and be named with --as)."),
}


class _Tieout(click.Group):
    """Loads a subcommand's module when it is asked for, and turns every `TieoutError` into its message on stderr
    and its documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _summary = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, with each summary shortened as click shortens a command's help, but read from
        # COMMANDS rather than from the command, which would import every module.
        listed = [click.Command(name, help=summary) for name, (_, _, summary) in sorted(COMMANDS.items())]
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        with formatter.section("Commands"):
            formatter.write_dl([(c.name or "", c.get_short_help_str(limit)) for c in listed])

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


def main() -> None:
    cli(prog_name="tieout")
