"""The workflow on the command line: `tieout users add|list` and `tieout ack|assign|comment|resolve|suppress|
approve ID --as USER`, with exit code 10 for a refused action and 9 for a stale version (over the demo world)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from tests.web.flow import LATER, PASSWORD
from tieout.cli import cli
from tieout.config import load_project
from tieout.workflow.audit import entries


def _run(*args: str, stdin: str | None = None) -> object:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_the_workflow_from_the_command_line(world: Path, tmp_path: Path) -> None:
    p = str(tmp_path / "world")
    shutil.copytree(world, p)
    for name, role, teams in (("alice", "team_member", ("ar",)), ("bob", "team_member", ("ar",)),
                              ("carol", "approver", ()), ("dave", "auditor", ())):
        result = _run("users", "add", name, "--role", role, *[a for t in teams for a in ("--team", t)],
                      "--password-stdin", "-p", p, stdin=PASSWORD + "\n")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert _run("users", "add", "alice", "--role", "auditor", "--password-stdin", "-p", p,
                stdin=PASSWORD + "\n").exit_code == 2  # type: ignore[attr-defined]
    listed = json.loads(_run("users", "list", "-p", p, "--format", "json").output)  # type: ignore[attr-defined]
    assert [u["name"] for u in listed] == ["alice", "bob", "carol", "dave"] and "password_hash" not in listed[0]
    ident = next(e["id"] for e in json.loads(_run("exceptions", "-p", p, "--team", "ar", "--format",
                                                  "json").output))  # type: ignore[attr-defined]

    ok = _run("assign", ident, "--as", "alice", "--to", "bob", "-p", p)
    assert ok.exit_code == 0 and "assigned to bob (version 1)" in ok.output  # type: ignore[attr-defined]
    refused = _run("ack", ident, "--as", "dave", "-p", p)
    assert refused.exit_code == 10 and "read-only" in refused.output  # type: ignore[attr-defined]
    stale = _run("comment", ident, "--as", "bob", "--text", "late", "--expected-version", "0", "-p", p)
    assert stale.exit_code == 9 and "changed since version 0" in stale.output  # type: ignore[attr-defined]
    assert _run("suppress", ident, "--as", "bob", "--until", LATER, "-p", p).exit_code == 0  # type: ignore
    assert _run("approve", ident, "--as", "bob", "-p", p).exit_code == 10  # type: ignore[attr-defined]
    done = _run("approve", ident, "--as", "carol", "-p", p, "--format", "json")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert json.loads(done.output)["status"] == "suppressed"  # type: ignore[attr-defined]
    resolved = _run("resolve", ident, "--as", "alice", "--reason", "duplicate", "-p", p)
    assert resolved.exit_code == 0  # type: ignore[attr-defined]
    outcomes = [(e["actor"], e["action"], e["outcome"]) for e in entries(load_project(p), object=f"exception:{ident}")]
    assert outcomes[::-1] == [("alice", "assign", "allowed"), ("dave", "ack", "refused"),
                              ("bob", "comment", "conflict"), ("bob", "suppress", "allowed"),
                              ("bob", "approve", "refused"), ("carol", "approve", "allowed"),
                              ("alice", "resolve", "allowed")]
    verified = _run("audit", "verify", "--log", "audit", "-p", p)
    assert verified.exit_code == 0 and "OK: audit log intact" in verified.output  # type: ignore[attr-defined]
    log = _run("audit", "log", "-p", p, "--object", f"exception:{ident}", "--format", "json")
    assert [e["outcome"] for e in json.loads(log.output)][-3:] == ["conflict", "refused", "allowed"]  # type: ignore
