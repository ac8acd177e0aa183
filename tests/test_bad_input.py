"""Every malformed export is refused with file, row and column, exit code 4, and nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, tree_digest, write_day

ACCOUNTS = HEALTHY_DAY["crm_accounts.csv"]
INVOICES = HEALTHY_DAY["billing_invoices.csv"]
CONTRACTS = HEALTHY_DAY["crm_contracts.csv"]

CASES = {
    "missing column": (
        {"crm_accounts.csv": "account_id,legal_name,domain,owner,updated_at\nA1,Acme,acme.com,ana,\n"},
        "crm_accounts.csv", "row 1", "missing column 'tax_id'",
    ),
    "renamed column": (
        {"crm_accounts.csv": ACCOUNTS.replace("legal_name", "legalname")},
        "crm_accounts.csv", "row 1", "column 'legalname'",
    ),
    "unparsable date": (
        {"crm_contracts.csv": CONTRACTS.replace("2025-06-01", "2025-02-30")},
        "crm_contracts.csv", "row 2", "column 'start_date'",
    ),
    "non-ISO date": (
        {"billing_invoices.csv": INVOICES.replace(",2026-01-01,2026-01-31,", ",01/01/2026,2026-01-31,")},
        "billing_invoices.csv", "row 2", "column 'period_start'",
    ),
    "unparsable amount": (
        {"billing_invoices.csv": INVOICES.replace("10000.00", "10,000.00").replace(
            "paid,10,000.00", 'paid,"10,000.00"')},
        "billing_invoices.csv", "row 2", "column 'amount'",
    ),
    "amount with too many decimals": (
        {"billing_invoices.csv": INVOICES.replace("10000.00", "10000.00001")},
        "billing_invoices.csv", "row 2", "column 'amount'",
    ),
    "unknown invoice status": (
        {"billing_invoices.csv": INVOICES.replace(",paid,", ",settled,")},
        "billing_invoices.csv", "row 2", "column 'status'",
    ),
    "empty required id": (
        {"crm_accounts.csv": ACCOUNTS + ",Nameless Ltd,nameless.com,,bo,\n"},
        "crm_accounts.csv", "row 3", "column 'account_id'",
    ),
    "duplicate primary key": (
        {"crm_accounts.csv": ACCOUNTS + "A1,Acme Again,acme.com,,bo,\n"},
        "crm_accounts.csv", "row 3", "duplicate account_id",
    ),
    "duplicate composite key": (
        {"ops_usage.csv": HEALTHY_DAY["ops_usage.csv"] + "t-1,2026-01-20,40,50\n"},
        "ops_usage.csv", "row 4", "duplicate tenant_id + date",
    ),
    "empty file": ({"ops_tenants.csv": ""}, "ops_tenants.csv", "row 1", "empty"),
    "header only": (
        {"billing_customers.csv": "customer_id,name,email,tax_id,updated_at\n"},
        "billing_customers.csv", "row 2", "header only",
    ),
    "not UTF-8": (
        {"crm_accounts.csv": ACCOUNTS.encode() + "A2,Müller GmbH,mueller.de,,bo,\n".encode("latin-1")},
        "crm_accounts.csv", "row 3", "not UTF-8",
    ),
    "truncated file": (
        {"crm_contracts.csv": CONTRACTS + "K2,A1,active,2025-06-01"},
        "crm_contracts.csv", "row 3", "missing columns",
    ),
    "too many cells": (
        {"crm_accounts.csv": ACCOUNTS + "A2,Foo,foo.com,1,bo,,extra\n"},
        "crm_accounts.csv", "row 3", "too many columns",
    ),
    # Issue 11: each of these was a traceback, a raw DuckDB message or accepted.
    "CR-only line endings": (
        {"crm_accounts.csv": ACCOUNTS.replace("\n", "\r")},
        "crm_accounts.csv", "row 1, column 'updated_at'", "carriage return only",
    ),
    "mixed CRLF and LF": (
        {"crm_accounts.csv": ACCOUNTS.replace("\n", "\r\n", 1) + "A2,Foo,foo.com,,bo,\n"},
        "crm_accounts.csv", "row 2, column 'updated_at'", "line endings must be the same",
    ),
    "amount with 17 integer digits": (
        {"billing_invoices.csv": INVOICES.replace("10000.00", "12345678901234567.00")},
        "billing_invoices.csv", "row 2, column 'amount'", "at most 16 digits",
    ),
    "NUL in a name": (
        {"crm_accounts.csv": ACCOUNTS.replace("Acme", "Ac\x00me")},
        "crm_accounts.csv", "row 2, column 'legal_name'", "control character",
    ),
    "escape sequence in an id": (
        {"ops_usage.csv": HEALTHY_DAY["ops_usage.csv"] + "t-\x1b[2J,2026-01-18,1,1\n"},
        "ops_usage.csv", "row 4, column 'tenant_id'", "control character",
    ),
    "negative contracted_fte": (
        {"crm_contracts.csv": CONTRACTS.replace(",USD,50,", ",USD,-50,")},
        "crm_contracts.csv", "row 2, column 'contracted_fte'", "not negative",
    ),
    "negative billed_fte": (
        {"billing_invoices.csv": INVOICES.replace(",USD,50,", ",USD,-1.5,")},
        "billing_invoices.csv", "row 2, column 'billed_fte'", "not negative",
    ),
    "negative fte_count": (
        {"ops_usage.csv": HEALTHY_DAY["ops_usage.csv"].replace(",44,50", ",44,-50")},
        "ops_usage.csv", "row 3, column 'fte_count'", "not negative",
    ),
    "negative active_users": (
        {"ops_usage.csv": HEALTHY_DAY["ops_usage.csv"].replace(",45,", ",-45,")},
        "ops_usage.csv", "row 2, column 'active_users'", "not negative",
    ),
    "date without zero padding": (
        {"billing_invoices.csv": INVOICES.replace(",2026-01-01,2026-01-31,", ",2026-2-3,2026-01-31,")},
        "billing_invoices.csv", "row 2, column 'period_start'", "'2026-2-3' is not a date as YYYY-MM-DD",
    ),
    "FTE with an exponent": (
        {"crm_contracts.csv": CONTRACTS.replace(",USD,50,", ",USD,1e3,")},
        "crm_contracts.csv", "row 2, column 'contracted_fte'", "'1e3' is not a number",
    ),
    "timestamp without a time zone": (
        {"crm_accounts.csv": ACCOUNTS.replace("T23:00:00Z", "T23:00:00")},
        "crm_accounts.csv", "row 2, column 'updated_at'", "with its time zone",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_export_is_refused_and_nothing_is_written(project: Path, case: str) -> None:
    files, filename, row, phrase = CASES[case]
    assert invoke("run", "--project", str(project), "--as-of", "2026-01-20").exit_code == 0
    write_day(project, "2026-01-21", files)
    before = tree_digest(project / ".tieout")

    result = invoke("run", "--project", str(project), "--as-of", "2026-01-21")

    assert result.exit_code == 4, result.output
    message = result.output
    assert f"{filename}, {row}" in message, message
    assert phrase.lower() in message.lower(), message
    assert tree_digest(project / ".tieout") == before


def test_a_bom_is_fine(project: Path) -> None:
    write_day(project, "2026-01-21", {"crm_accounts.csv": b"\xef\xbb\xbf" + ACCOUNTS.encode()})
    assert invoke("run", "--project", str(project), "--as-of", "2026-01-21").exit_code == 0


def test_a_missing_file_is_refused(project: Path) -> None:
    folder = write_day(project, "2026-01-21")
    (folder / "ops_usage.csv").unlink()
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-21")
    assert result.exit_code == 4
    assert "ops_usage.csv" in result.output and "missing" in result.output
    assert not (project / ".tieout").exists()


def test_a_missing_day_is_refused(project: Path) -> None:
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-22")
    assert result.exit_code == 4
    assert "2026-01-22" in result.output and "missing day" in result.output


def test_exit_code_reaches_the_shell(project: Path) -> None:
    """The documented code is the process's exit status, not only the CliRunner's."""
    write_day(project, "2026-01-21", {"ops_tenants.csv": ""})
    proc = subprocess.run([sys.executable, "-m", "tieout", "run", "-p", str(project), "--as-of", "2026-01-21"],
                          capture_output=True, text=True)
    assert proc.returncode == 4
    assert "ops_tenants.csv, row 1" in proc.stderr


def test_every_bad_export_of_a_day_is_named_in_one_run(project: Path) -> None:
    """A run reads every table and names each problem it finds (the first row breaking each rule), so a person
    fixes the day in one go; nothing is written."""
    assert invoke("run", "--project", str(project), "--as-of", "2026-01-20").exit_code == 0
    write_day(project, "2026-01-21", {
        "crm_contracts.csv": CONTRACTS.replace("2025-06-01", "2025-02-30"),
        "billing_invoices.csv": INVOICES.replace(",2026-01-01,2026-01-31,", ",01/01/2026,2026-01-31,")
                                        .replace("10000.00", "10000.00001"),
    })
    before = tree_digest(project / ".tieout")
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-21")
    assert result.exit_code == 4, result.output
    assert "3 problems in the exports" in result.output, result.output
    for where in ("crm_contracts.csv, row 2, column 'start_date'", "billing_invoices.csv, row 2, column 'period_start'",
                  "billing_invoices.csv, row 2, column 'amount'"):
        assert where in result.output, result.output
    assert tree_digest(project / ".tieout") == before


def test_many_problems_are_capped_and_say_so(tmp_path: Path) -> None:
    from tieout.errors import MAX_INPUT_ERRORS, InputError, InputErrors, input_errors

    errors = [InputError("bad", file=f"f{i}.csv", row=2) for i in range(MAX_INPUT_ERRORS + 5)]
    combined = input_errors(errors + errors[:1])
    assert isinstance(combined, InputErrors) and len(combined.errors) == MAX_INPUT_ERRORS
    assert "there may be more" in str(combined) and combined.file == "f0.csv"
    assert input_errors([errors[0], errors[0]]) is errors[0]  # the same problem twice is one
    import pickle

    assert str(pickle.loads(pickle.dumps(combined))) == str(combined)  # a parallel backfill sends it across
