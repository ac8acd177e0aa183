"""What `tieout` loads at start: `tieout --help` lists every command without importing any command's module, and
a command imports only the stacks it uses (asserted on `sys.modules` in a fresh interpreter, never on time)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.conftest import run_days, write_day
from tieout.cli import COMMANDS, cli

# What a command that does not use it must never import: the web server, the reports' spreadsheet and charts,
# the state database's ORM, the SQL checker; and for `--help`, every engine and parser.
NOT_FOR_HELP = ("fastapi", "starlette", "jinja2", "openpyxl", "matplotlib", "sqlalchemy", "sqlglot", "duckdb",
                "pyarrow", "pydantic", "yaml", "requests", "rapidfuzz", "tieout.config")

# Runs `tieout ARGS...` in this interpreter and prints its exit code and the modules it imported, as JSON, on the
# last line.
_LOADED = """
import json, sys
from tieout.cli import main
sys.argv = ["tieout", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as e:
    code = e.code
print("\\n" + json.dumps([code, sorted(sys.modules)]))
"""


def loaded_by(*args: str) -> set[str]:
    """The modules a fresh interpreter has imported once `tieout ARGS` is done (which must succeed)."""
    out = subprocess.run([sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, check=True).stdout
    code, modules = json.loads(out.splitlines()[-1])
    assert code in (0, None), out
    return set(modules)


def imported(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_help_imports_no_command_stack() -> None:
    modules = loaded_by("--help")
    assert "click" in modules  # the probe works: what --help does use is there
    assert {p: imported(modules, p) for p in NOT_FOR_HELP if imported(modules, p)} == {}
    assert [m for m in modules if m.startswith("tieout.cli.")] == []


# What no read command needs on a project without a state database: the web server, the spreadsheet and charts,
# the state database's ORM, the SQL checker (the built-in rules' verdicts are shipped), an HTTP client, fuzzy
# matching.
NOT_FOR_READS = ("fastapi", "starlette", "openpyxl", "matplotlib", "sqlalchemy", "sqlglot", "requests", "rapidfuzz",
                 "tldextract")


@pytest.mark.parametrize("command", [("exceptions", "--format", "json"), ("timeline",), ("patterns",),
                                     ("show", "ACME"), ("entities",), ("report", "daily"),
                                     ("report", "weekly")])
def test_a_read_imports_no_stack_it_does_not_use(project: Path, command: tuple[str, ...]) -> None:
    run_days(project, "2026-01-20")
    modules = loaded_by(*command, "-p", str(project))
    assert "duckdb" in modules  # the probe works: the read did read the store
    assert {p: imported(modules, p) for p in NOT_FOR_READS if imported(modules, p)} == {}


@pytest.mark.parametrize("command", [("exceptions", "--format", "json"), ("patterns",), ("show", "ACME"),
                                     ("report", "daily")])
def test_a_read_of_a_project_with_a_state_database_loads_no_sqlalchemy(project: Path, command: tuple[str, ...]
                                                                        ) -> None:
    """Someone recorded a correction: the reads ask the SQLite state database for the corrections through
    Python's sqlite3, read-only (tieout.state.sqlite_reads), not through SQLAlchemy."""
    from datetime import UTC, datetime

    from tieout.config import load_project
    from tieout.corrections import record_correction

    run_days(project, "2026-01-20")
    record_correction(load_project(project), canonical_id="ACME", system="billing", field="legal_name",
                      old_value=None, new_value="Acme", reason="fix", who="ana", at=datetime(2026, 1, 20, tzinfo=UTC))
    modules = loaded_by(*command, "-p", str(project))
    assert "sqlite3" in modules  # the probe works: the read did read the state database
    assert imported(modules, "sqlalchemy") == []


@pytest.mark.parametrize("command", [("exceptions", "--format", "json"), ("timeline",), ("show", "ACME"),
                                     ("history", "ACME"), ("patterns",), ("report", "daily"), ("report", "weekly")])
def test_a_read_of_the_latest_day_loads_no_pyarrow(project: Path, command: tuple[str, ...]) -> None:
    """pyarrow is for writing tables (a run, a backfill): the queue, the timeline and a story read the store
    through DuckDB alone (~0.1 s of every read's start)."""
    write_day(project, "2026-01-19")
    run_days(project, "2026-01-19", "2026-01-20")  # two days: a history chain, the latest day in the state files
    modules = loaded_by(*command, "-p", str(project))
    assert "duckdb" in modules
    assert imported(modules, "pyarrow") == []


def test_a_command_loads_its_own_module_only() -> None:
    modules = loaded_by("rules", "--help")
    assert "tieout.cli.rules" in modules
    assert imported(modules, "tieout.cli") == ["tieout.cli", "tieout.cli.common", "tieout.cli.rules"]


def test_every_listed_command_is_its_module_command_with_its_own_summary() -> None:
    for name, (module, attribute, summary) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), name
        assert command.name == name
        # the summary is the command's own, as click would shorten it for the listing
        wide = 10**6
        assert click.Command(name, help=summary).get_short_help_str(wide) == command.get_short_help_str(wide), name


def test_help_lists_the_commands_as_click_would() -> None:
    """The lazy listing prints what a group holding every command prints, at any width."""
    eager = click.Group("tieout", help=cli.help, params=cli.params, context_settings=cli.context_settings)
    for name, (module, attribute, _) in COMMANDS.items():
        eager.add_command(getattr(importlib.import_module(module), attribute), name)
    for width in (60, 80, 100):
        got = CliRunner().invoke(cli, ["--help"], prog_name="tieout", terminal_width=width)
        expected = CliRunner().invoke(eager, ["--help"], prog_name="tieout", terminal_width=width)
        assert got.exit_code == 0
        assert got.output == expected.output
        assert "exceptions" in got.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.output
