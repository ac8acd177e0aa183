"""`tieout correct`, `tieout corrections` and `tieout audit verify` as a person uses them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import invoke, run_days
from tieout import state
from tieout.config import load_project

ACME = ("--entity", "ACME")


@pytest.fixture(autouse=True)
def _close_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(state.ENV_URL, raising=False)
    monkeypatch.setattr("tieout.os_account.os_user", lambda: "ana")  # --who defaults to the OS account
    yield
    state.dispose_all()


def correct(project: Path, *args: str):
    return invoke("correct", "-p", str(project), *args)


def test_correct_records_and_lists(project: Path) -> None:
    result = correct(project, *ACME, "--system", "billing", "--field", "legal_name", "--old", "Acme Analytics Inc",
                     "--new", "Acme Analytics Inc.", "--reason", "missing full stop", "--ticket", "FIN-7")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("correction #1 recorded: ACME billing legal_name 'Acme Analytics Inc' → "
                                     "'Acme Analytics Inc.' by ana (FIN-7)")
    listed = json.loads(invoke("corrections", "-p", str(project), "--format", "json").output)
    assert len(listed) == 1
    entry = listed[0]
    assert {k: entry[k] for k in ("seq", "canonical_id", "system", "field", "old_value", "new_value", "reason",
                                  "who", "ticket", "source_id")} == {
        "seq": 1, "canonical_id": "ACME", "system": "billing", "field": "legal_name",
        "old_value": "Acme Analytics Inc", "new_value": "Acme Analytics Inc.", "reason": "missing full stop",
        "who": "ana", "ticket": "FIN-7", "source_id": None}
    assert entry["recorded_at"].endswith("Z") and len(entry["hash"]) == 64


def test_a_system_column_name_is_taken_for_its_registry_field(project: Path) -> None:
    result = correct(project, *ACME, "--system", "billing", "--field", "name", "--old", "", "--new", "Acme",
                     "--reason", "r", "--who", "bob", "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert (record["field"], record["old_value"], record["who"]) == ("legal_name", None, "bob")


@pytest.mark.parametrize("args, code, message", [
    (("--system", "crm", "--field", "tax_id", "--old", "1", "--new", "2", "--reason", "  "), 2, "needs a reason"),
    (("--system", "crm", "--field", "tax_id", "--old", "1", "--new", "2"), 2, "Missing option '--reason'"),
    (("--system", "crm", "--field", "colour", "--old", "1", "--new", "2", "--reason", "r"), 2,
     "not a field of the ownership registry"),
    (("--system", "ops", "--field", "tax_id", "--old", "1", "--new", "2", "--reason", "r"), 2,
     "tax_id is not held by ops"),
    (("--system", "erp", "--field", "tax_id", "--old", "1", "--new", "2", "--reason", "r"), 2, "--system"),
    (("--system", "crm", "--field", "tax_id", "--old", "1", "--new", "2", "--reason", "r", "--who", " "), 2,
     "--who"),
])
def test_bad_corrections_are_usage_errors(project: Path, args: tuple[str, ...], code: int, message: str) -> None:
    result = correct(project, *ACME, *args)
    assert result.exit_code == code
    assert message in result.output
    assert not (project / ".tieout" / "state.db").exists()


def test_an_unknown_entity_or_record_is_not_found(project: Path) -> None:
    base = ("--system", "billing", "--field", "tax_id", "--old", "1", "--new", "2", "--reason", "r")
    result = correct(project, "--entity", "GLOBEX", *base)
    assert result.exit_code == 7 and "no entity 'GLOBEX'" in result.output
    result = correct(project, *ACME, *base, "--source-id", "cus_9")
    assert result.exit_code == 7 and "no billing record 'cus_9' of entity 'ACME'" in result.output
    assert correct(project, *ACME, *base, "--source-id", "cus_1").exit_code == 0


def test_a_record_resolved_by_natural_key_may_be_named(project: Path) -> None:
    from tests.conftest import HEALTHY_DAY, write_day

    # cus_2 is not in the map; on the reconciled day it resolves to ACME by its tax id.
    write_day(project, "2026-01-20", {"billing_customers.csv": HEALTHY_DAY["billing_customers.csv"]
                                      + "cus_2,Acme Two,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n"})
    base = ("--system", "billing", "--field", "legal_name", "--old", "Acme Two", "--new", "Acme Analytics Inc.",
            "--reason", "duplicate import", "--source-id", "cus_2")
    assert correct(project, *ACME, *base).exit_code == 7  # nothing reconciled yet: only the map could tell
    run_days(project, "2026-01-20")
    result = correct(project, *ACME, *base)
    assert result.exit_code == 0, result.output
    assert "billing:cus_2" in result.output


def test_listing_formats(project: Path) -> None:
    for n in (1, 2):
        assert correct(project, *ACME, "--system", "crm", "--field", "tax_id", "--old", f"{n - 1}", "--new", f"{n}",
                       "--reason", f"fix, \"{n}\"").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(invoke("corrections", "-p", str(project), "--format", "csv").output)))
    assert [(r["seq"], r["new_value"], r["reason"]) for r in rows] == [("1", "1", 'fix, "1"'), ("2", "2", 'fix, "2"')]
    table = invoke("corrections", "-p", str(project)).output
    assert "2 correction(s)" in table and "tax_id" in table
    assert json.loads(invoke("corrections", "-p", str(project), "--entity", "OTHER", "--format", "json").output) == []


def test_nothing_recorded_creates_nothing(project: Path) -> None:
    assert json.loads(invoke("corrections", "-p", str(project), "--format", "json").output) == []
    result = invoke("audit", "verify", "-p", str(project))
    assert result.exit_code == 0
    assert result.output.startswith("OK: corrections log intact: 0 entries")
    assert not (project / ".tieout").exists()


def test_audit_verify_exit_codes(project: Path) -> None:
    for n in (1, 2, 3):
        correct(project, *ACME, "--system", "crm", "--field", "tax_id", "--old", "", "--new", f"{n}", "--reason", "r")
    ok = invoke("audit", "verify", "-p", str(project))
    assert ok.exit_code == 0
    assert ok.output.startswith("OK: corrections log intact: 3 entries (seq 1–3), head ")
    with state.engine_for(load_project(project)).begin() as connection:
        connection.execute(text("DROP TRIGGER corrections_no_delete"))
        connection.execute(text("DELETE FROM corrections WHERE seq = 2"))
    broken = invoke("audit", "verify", "-p", str(project))
    assert broken.exit_code == 8
    assert broken.output.startswith("error: corrections log broken at seq 2: deleted")
    found = json.loads(invoke("audit", "verify", "-p", str(project), "--format", "json").output.split("\nerror:")[0])
    assert found["ok"] is False and [v["log"] for v in found["logs"]] == ["corrections", "audit"]
    verdict = found["logs"][0]
    assert (verdict["ok"], verdict["problem"], verdict["broken_seq"], verdict["entries"]) == (False, "deleted", 2, 2)
