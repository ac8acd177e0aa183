"""Maker-checker for corrections and user administration on the command line: `tieout correct` above the
threshold holds a request CR-n; `tieout approve|reject CR-n --as NAME` decides it (exit 10 for your own or a
role that may not, 9 once decided, 7 for no such request); `tieout users disable|enable|passwd`.

Each person runs tieout from an OS account of their own here (maker-checker on the command line compares OS
accounts; tests/security/test_os_user.py proves that with a real second account), so these tests exercise the
roles and names on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke_as, new_project, run_days
from tieout import state
from tieout.config import load_project
from tieout.people import sessions, verify_login
from tieout.workflow.audit import entries

pytestmark = pytest.mark.usefixtures("state_in_the_project")

PASSWORD = "correct horse battery"
VOID_INVOICE = {"billing_invoices.csv": (
    "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
    "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,void,10000.00,USD,50,2026-01-20T23:00:00Z\n")}
FIX = ("--entity", "ACME", "--system", "billing", "--field", "legal_name", "--old", "Acme Analytix",
       "--new", "Acme Analytics Inc.", "--reason", "typo at onboarding", "--ticket", "FIN-12")




@pytest.fixture
def p(tmp_path: Path) -> str:
    folder = new_project(tmp_path / "p", {"2026-01-20": VOID_INVOICE},
                         yml="workflow:\n  correction_approval_over: '1000.00'\n")
    run_days(folder, "2026-01-20")
    for name, role, teams in (("ana", "team_member", ("ar",)), ("carol", "approver", ()), ("dave", "auditor", ())):
        result = invoke_as("users", "add", name, "--role", role, *[a for t in teams for a in ("--team", t)],
                      "--password-stdin", "-p", str(folder), stdin=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    return str(folder)


def test_a_correction_above_the_threshold_waits_for_a_second_person(p: str) -> None:
    held = invoke_as("correct", "-p", p, *FIX, "--who", "ana")
    assert held.exit_code == 0, held.output
    assert "held for approval as CR-1" in held.output and "10,000.00 USD" in held.output
    assert "1,000.00 USD" in held.output and "tieout approve CR-1" in held.output
    assert json.loads(invoke_as("corrections", "-p", p, "--format", "json").output) == []
    pending = json.loads(invoke_as("corrections", "-p", p, "--pending", "--format", "json").output)
    assert [(r["ref"], r["who"], r["impact"], r["status"]) for r in pending] == [("CR-1", "ana", 10000.00, "pending")]

    own = invoke_as("approve", "CR-1", "--as", "ana", "-p", p)
    assert own.exit_code == 10 and "may not approve CR-1" in own.output
    auditor = invoke_as("approve", "cr-1", "--as", "dave", "-p", p)
    assert auditor.exit_code == 10 and "read-only" in auditor.output
    ok = invoke_as("approve", "CR-1", "--as", "carol", "--comment", "checked", "-p", p)
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == ("CR-1 approved by carol: correction #1 recorded: ACME billing legal_name "
                                 "'Acme Analytix' → 'Acme Analytics Inc.' by ana (FIN-12), approved by carol")
    again = invoke_as("reject", "CR-1", "--as", "carol", "-p", p)
    assert again.exit_code == 9 and "already approved by carol" in again.output
    assert invoke_as("approve", "CR-9", "--as", "carol", "-p", p).exit_code == 7

    log = json.loads(invoke_as("corrections", "-p", p, "--format", "json").output)
    assert [(c["seq"], c["who"], c["approved_by"], c["request_id"]) for c in log] == [(1, "ana", "carol", 1)]
    assert json.loads(invoke_as("corrections", "-p", p, "--pending", "--format", "json").output) == []
    assert invoke_as("audit", "verify", "-p", p).exit_code == 0
    trail = [(e["actor"], e["action"], e["outcome"]) for e in entries(load_project(p), object="correction:CR-1")]
    assert trail[::-1] == [("ana", "correction.request", "allowed"), ("ana", "correction.approve", "refused"),
                           ("dave", "correction.approve", "refused"), ("carol", "correction.approve", "allowed"),
                           ("carol", "correction.reject", "conflict")]


def test_a_rejected_request_is_never_applied(p: str) -> None:
    assert "CR-1" in invoke_as("correct", "-p", p, *FIX, "--who", "ana").output
    rejected = invoke_as("reject", "CR-1", "--as", "carol", "--comment", "wrong entity", "-p", p, "--format", "json")
    assert rejected.exit_code == 0, rejected.output
    decided = json.loads(rejected.output)
    assert (decided["status"], decided["decided_by"], decided["correction"]) == ("rejected", "carol", None)
    assert json.loads(invoke_as("corrections", "-p", p, "--format", "json").output) == []
    assert invoke_as("approve", "CR-1", "--as", "carol", "-p", p).exit_code == 9


def test_an_exception_id_still_goes_to_the_exception_workflow(p: str) -> None:
    # Not CR-n: `approve` looks for an exception (exit 7 when there is none by that id).
    result = invoke_as("approve", "0123456789abcdef", "--as", "carol", "-p", p)
    assert result.exit_code == 7 and "no exception" in result.output


def test_users_disable_enable_and_passwd(p: str) -> None:
    project = load_project(p)
    token, _ = sessions.start(project, "ana")
    assert sessions.lookup(project, token) is not None
    off = invoke_as("users", "disable", "ana", "-p", p)
    assert off.exit_code == 0 and "ana disabled" in off.output
    assert sessions.lookup(project, token) is None  # the live session stopped working
    with state.open(project) as connection:
        assert verify_login(connection, "ana", PASSWORD) is None  # and no new one starts
    assert "already disabled" in invoke_as("users", "disable", "ana", "-p", p).output
    listed = json.loads(invoke_as("users", "list", "-p", p, "--format", "json").output)
    assert "ana" not in [u["name"] for u in listed]
    every = {u["name"]: u["disabled"] for u in json.loads(invoke_as("users", "list", "--all", "-p", p, "--format",
                                                               "json").output)}
    assert every == {"ana": True, "carol": False, "dave": False}
    assert invoke_as("ack", "0123456789abcdef", "--as", "ana", "-p", p).exit_code == 7  # no such exception first
    assert invoke_as("users", "enable", "ana", "-p", p).exit_code == 0
    with state.open(project) as connection:
        assert verify_login(connection, "ana", PASSWORD) is not None
    token, _ = sessions.start(project, "ana")
    changed = invoke_as("users", "passwd", "ana", "--password-stdin", "-p", p, stdin="another long one\n")
    assert changed.exit_code == 0 and sessions.lookup(project, token) is None
    with state.open(project) as connection:
        assert verify_login(connection, "ana", PASSWORD) is None
        assert verify_login(connection, "ana", "another long one") is not None
    assert invoke_as("users", "disable", "zed", "-p", p).exit_code == 7
    assert invoke_as("users", "passwd", "ana", "--password-stdin", "-p", p, stdin="short\n").exit_code == 2
    trail = [(e["action"], e["object"]) for e in entries(load_project(p), object="user:ana")][:3]
    assert trail == [("users.passwd", "user:ana"), ("users.enable", "user:ana"), ("users.disable", "user:ana")]
    assert "another long one" not in json.dumps([str(e) for e in entries(project)])  # never the password
