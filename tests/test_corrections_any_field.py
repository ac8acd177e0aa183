"""Corrections of any field a system owns — billed FTE, an amount in its currency, dates, statuses — besides the
registry's shared fields: values checked by kind, the old value checked against the stored record (or taken from
it), the person recorded as the OS user on the command line, and the next runs checking that the value landed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import invoke_as, new_project, run_days
from tieout import os_account
from tieout.config import load_project
from tieout.corrections import corrections_for, record_correction
from tieout.workflow.audit import entries

pytestmark = pytest.mark.usefixtures("state_in_the_project")

FTE = ("--entity", "ACME", "--system", "billing", "--field", "billed_fte", "--reason", "true-up agreed")
AMOUNT = ("--entity", "ACME", "--system", "billing", "--field", "amount", "--reason", "credit note")


def _invoices(fte: str, amount: str = "10000.00", currency: str = "USD") -> dict[str, str]:
    return {"billing_invoices.csv": (
        "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
        f"in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,paid,{amount},{currency},{fte},2026-01-20T23:00:00Z\n")}




@pytest.fixture
def p(tmp_path: Path) -> Path:
    folder = new_project(tmp_path / "p", {"2026-01-20": {}, "2026-01-22": {}, "2026-01-23": _invoices("55")})
    run_days(folder, "2026-01-20")
    return folder


def test_billed_fte_is_corrected_with_its_old_value_checked_against_the_record(p: Path) -> None:
    wrong = invoke_as("correct", *FTE, "--old", "40", "--new", "55", "--who", "ana", "-p", str(p))
    assert wrong.exit_code == 9, wrong.output
    assert "--old '40' does not match the record" in wrong.output and "holds '50'" in wrong.output
    for bad, why in (("-3", "not negative"), ("lots", "is not an amount"), ("1e3", "is not an amount")):
        refused = invoke_as("correct", *FTE, "--new", bad, "--who", "ana", "-p", str(p))
        assert refused.exit_code == 2 and why in refused.output, refused.output
    assert corrections_for(load_project(p)) == []

    taken = invoke_as("correct", *FTE, "--new", "55", "--who", "ana", "-p", str(p), "--format", "json")
    assert taken.exit_code == 0, taken.output
    entry = json.loads(taken.output)
    assert (entry["field"], entry["old_value"], entry["new_value"]) == ("billed_fte", "50", "55")
    given = invoke_as("correct", *FTE, "--old", "50.0", "--new", "56", "--who", "ana", "-p", str(p))
    assert given.exit_code == 0, given.output  # 50.0 is 50; and 55, the value just recorded, would do as well
    step = invoke_as("correct", *FTE, "--old", "56", "--new", "55", "--who", "ana", "-p", str(p))
    assert step.exit_code == 0, step.output


def test_an_amount_is_corrected_in_its_own_currency(p: Path) -> None:
    too_precise = invoke_as("correct", *AMOUNT, "--old", "10000.00", "--new", "9500.125", "--who", "ana", "-p", str(p))
    assert too_precise.exit_code == 2 and "more decimals than USD has (2)" in too_precise.output
    wrong = invoke_as("correct", *AMOUNT, "--old", "9999", "--new", "9500", "--who", "ana", "-p", str(p))
    assert wrong.exit_code == 9 and "'9999'" in wrong.output and "'10000.00' USD" in wrong.output
    done = invoke_as("correct", *AMOUNT, "--new", "9,500.00", "--who", "ana", "-p", str(p), "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["old_value"] == "10000.00"
    dates = invoke_as("correct", "--entity", "ACME", "--system", "crm", "--field", "end_date", "--new", "31/12/2026",
                 "--reason", "r", "--who", "ana", "-p", str(p))
    assert dates.exit_code == 2 and "is not a date (YYYY-MM-DD)" in dates.output
    status = invoke_as("correct", "--entity", "ACME", "--system", "crm", "--field", "status", "--new", "live",
                  "--reason", "r", "--who", "ana", "-p", str(p))
    assert status.exit_code == 2 and "is not a contracts.status value" in status.output
    derived = invoke_as("correct", "--entity", "ACME", "--system", "crm", "--field", "monthly_value", "--new", "1",
                   "--reason", "r", "--who", "ana", "-p", str(p))
    assert derived.exit_code == 2 and "not a field of the ownership registry or of crm's records" in derived.output


def test_the_person_is_the_os_user_on_the_command_line(p: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os_account, "os_user", lambda: "fin-ops-7")
    from click.testing import CliRunner

    from tieout.cli import cli

    done = CliRunner().invoke(cli, ["correct", *FTE, "--new", "60", "-p", str(p)])
    assert done.exit_code == 0, done.output
    [c] = corrections_for(load_project(p))
    assert (c.who, c.os_user, c.old_value) == ("fin-ops-7", "fin-ops-7", "50")
    [audit] = entries(load_project(p), object=f"correction:#{c.seq}", limit=5)
    assert (audit["actor"], audit["os_user"], audit["action"]) == ("fin-ops-7", "fin-ops-7", "correct")


def test_the_next_runs_check_that_a_billed_fte_correction_landed(p: Path) -> None:
    project = load_project(p)
    record_correction(project, canonical_id="ACME", system="billing", field="billed_fte", old_value="50",
                      new_value="55", reason="true-up", who="ana", at=datetime(2026, 1, 20, 10, tzinfo=UTC))
    run_days(p, "2026-01-22", "2026-01-23")
    found = json.loads(invoke_as("exceptions", "-p", str(p), "--format", "json", "--status", "all").output)
    [missed] = [e for e in found if e["rule"] == "CORRECTION_NOT_APPLIED"]
    assert (missed["source_system"], missed["field"]) == ("billing", "billed_fte")
    assert (missed["first_seen"], missed["resolved_on"]) == ("2026-01-22", "2026-01-23")  # landed on the 23rd
    shown = invoke_as("show", missed["id"], "-p", str(p))
    assert "set billing billed_fte to '55'; billing still has '50" in shown.output, shown.output


def test_an_amount_correction_landed_is_compared_in_the_records_currency(tmp_path: Path) -> None:
    folder = new_project(tmp_path / "p", {"2026-01-20": _invoices("50", "1500000", "JPY"),
                                          "2026-01-22": _invoices("50", "1400000", "JPY")},
                         yml="fx_rates:\n  JPY: '0.0065'\n")
    run_days(folder, "2026-01-20")
    cents = invoke_as("correct", *AMOUNT, "--new", "1400000.50", "--who", "ana", "-p", str(folder))
    assert cents.exit_code == 2 and "more decimals than JPY has (0)" in cents.output
    record_correction(load_project(folder), canonical_id="ACME", system="billing", field="amount",
                      old_value="1500000", new_value="1400000", reason="credit note", who="ana",
                      at=datetime(2026, 1, 20, 10, tzinfo=UTC))
    run_days(folder, "2026-01-22")
    found = json.loads(invoke_as("exceptions", "-p", str(folder), "--format", "json", "--status", "all").output)
    assert [e for e in found if e["rule"] == "CORRECTION_NOT_APPLIED"] == []  # 1,400,000 JPY landed as stated


