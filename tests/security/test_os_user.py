"""The command line records the OS account it runs from beside every name it is given, and maker-checker on the
command line compares OS accounts: a request is never decided from the account that made it, whatever name
`--as` claims. Proved with a real second account: the tests run as root, and the approver's command runs in a
process that has dropped to `nobody` (setuid), on a project folder handed to that account."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import new_project, run_days
from tieout import state
from tieout.cli import cli
from tieout.config import load_project
from tieout.corrections import corrections_for, requests
from tieout.workflow.audit import entries

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to run a command as a second OS account")

SECOND = "nobody"
PASSWORD = "correct horse battery"
VOID_INVOICE = {"billing_invoices.csv": (
    "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
    "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,void,10000.00,USD,50,2026-01-20T23:00:00Z\n")}
FIX = ("--entity", "ACME", "--system", "billing", "--field", "legal_name", "--old", "Acme Analytix",
       "--new", "Acme Analytics Inc.", "--reason", "typo at onboarding")


def _here(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """tieout in this process: as root (whatever `env` claims)."""
    return CliRunner(env=env).invoke(cli, list(args))


# The second account cannot start this Python (it lives under root's private home, in a venv made by root), so
# the child starts as root, loads what the command needs — every tieout module, so that none the command imports
# late is out of its reach — then drops to the second account for good — real and effective uid and gid, no
# supplementary groups — before it reads a single argument or opens the project.
_DROP_AND_RUN = """
import importlib, os, pkgutil, sqlite3, sys
import sqlalchemy.dialects.sqlite, tieout, alembic.command
for module in pkgutil.walk_packages(tieout.__path__, "tieout."):
    if module.name != "tieout.__main__":
        importlib.import_module(module.name)
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([])
os.setgid(gid)
os.setuid(uid)
assert (os.getuid(), os.geteuid()) == (uid, uid)
sys.argv = ["tieout", *sys.argv[3:]]
tieout.cli.main()
"""


def _as_second_account(*args: str) -> subprocess.CompletedProcess[str]:
    account = pwd.getpwnam(SECOND)
    environment = {**os.environ, "USER": "root", "LOGNAME": "root"}  # what the environment claims is ignored
    environment.pop(state.ENV_URL, None)
    return subprocess.run([sys.executable, "-c", _DROP_AND_RUN, str(account.pw_uid), str(account.pw_gid), *args],
                          env=environment, cwd="/", capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project under /tmp (pytest's folders are private to root) that the second account may write to."""
    monkeypatch.delenv(state.ENV_URL, raising=False)
    base = Path(tempfile.mkdtemp(prefix="tieout-os-user-"))
    os.chmod(base, 0o755)
    root = new_project(base / "p", {"2026-01-20": VOID_INVOICE},
                       yml="workflow:\n  correction_approval_over: '1000.00'\n")
    run_days(root, "2026-01-20")
    for name, role in (("carol", "approver"), ("appr1", "approver")):
        added = CliRunner().invoke(cli, ["users", "add", name, "--role", role, "--password-stdin", "-p", str(root)],
                                   input=PASSWORD + "\n")
        assert added.exit_code == 0, added.output
    yield root
    state.dispose_all()
    shutil.rmtree(base, ignore_errors=True)


def _hand_over(root: Path) -> None:
    """Let the second account read and write the project (root still can: it ignores permissions)."""
    state.dispose_all()
    account = pwd.getpwnam(SECOND)
    for path in [root, *root.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)


def test_one_account_never_decides_its_own_request_whatever_name_it_gives(folder: Path) -> None:
    p = str(folder)
    held = _here("correct", "-p", p, *FIX, "--who", "APPR1", env={"USER": SECOND, "LOGNAME": SECOND})
    assert held.exit_code == 0 and "held for approval as CR-1" in held.output, held.output
    (request,) = requests(load_project(folder))
    assert (request.who, request.os_user) == ("APPR1", "root")  # the uid's account, not $USER

    same_name = _here("approve", "CR-1", "--as", "appr1", "-p", p)  # the finding: case alone used to suffice
    assert same_name.exit_code == 10 and "nobody approves or rejects their own request" in same_name.output
    other_name = _here("approve", "CR-1", "--as", "carol", "-p", p)  # another name, the same account
    assert other_name.exit_code == 10, other_name.output
    assert "was requested from the OS account 'root'" in other_name.output
    assert corrections_for(load_project(folder)) == []

    _hand_over(folder)
    approved = _as_second_account("approve", "CR-1", "--as", "carol", "-p", p, "--format", "json")
    assert approved.returncode == 0, approved.stderr + approved.stdout
    decided = json.loads(approved.stdout)
    assert (decided["status"], decided["decided_by"], decided["decided_os_user"]) == ("approved", "carol", SECOND)

    project = load_project(folder)
    (c,) = corrections_for(project)
    assert (c.who, c.os_user, c.approved_by, c.approved_os_user) == ("APPR1", "root", "carol", SECOND)
    trail = [(e["actor"], e["action"], e["outcome"], e["os_user"])
             for e in entries(project, object="correction:CR-1")][::-1]
    assert trail == [("APPR1", "correction.request", "allowed", "root"),
                     ("appr1", "correction.approve", "refused", "root"),
                     ("carol", "correction.approve", "refused", "root"),
                     ("carol", "correction.approve", "allowed", SECOND)]
    verified = _here("audit", "verify", "-p", p)
    assert verified.exit_code == 0, verified.output


def test_every_entry_the_command_line_writes_names_its_account(folder: Path) -> None:
    p = str(folder)
    done = _here("correct", "-p", p, "--entity", "ACME", "--system", "crm", "--field", "tax_id", "--old", "",
                 "--new", "12-3456789", "--reason", "onboarding", "--who", "someone else", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["os_user"] == "root"
    listed = json.loads(_here("corrections", "-p", p, "--pending", "--format", "json").output)
    assert [(c["who"], c["os_user"]) for c in listed] == [("someone else", "root")]  # held: ACME has 10,000 at risk
    assert {e["os_user"] for e in entries(load_project(folder))} == {"root"}  # users added, the correction
