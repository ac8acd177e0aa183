"""The landed check: at each run, CORRECTION_NOT_APPLIED flags a recorded correction that the exports do not
show — in the corrected system, or in another system holding the field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days, tree_digest
from tieout.config import load_project
from tieout.corrections import corrections_for, record_correction
from tieout.run import evaluate_day

pytestmark = pytest.mark.usefixtures("state_in_the_project")

RULE = "CORRECTION_NOT_APPLIED"
TYPO = HEALTHY_DAY["billing_customers.csv"].replace("cus_1,Acme Analytics Inc.", "cus_1,Acme Analytix Inc.")
RENAMED_CRM = HEALTHY_DAY["crm_accounts.csv"].replace("A1,Acme Analytics Inc.", "A1,Acme Data Inc.")




def _record(project: Path, on: str, *, system: str = "billing", field: str = "legal_name", new: str,
            old: str = "", source_id: str | None = None, hour: int = 12) -> None:
    record_correction(load_project(project), canonical_id="ACME", system=system, field=field, old_value=old,
                      new_value=new, reason="hand fix", who="ana", ticket="FIN-1", source_id=source_id,
                      at=datetime.combine(date.fromisoformat(on), time(hour), tzinfo=UTC))


def _flags(project: Path) -> dict[str, tuple[str, str | None, str]]:
    """The rule's exceptions (every status): source_system -> (team, resolved_on, details)."""
    found = json.loads(invoke("exceptions", "-p", str(project), "--status", "all", "--format", "json").output)
    return {e["source_system"]: (e["team"], e["resolved_on"], e["details"]) for e in found if e["rule"] == RULE}


def test_a_correction_that_did_not_land_is_flagged_until_it_does(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-20": {"billing_customers.csv": TYPO},
                                     "2026-01-21": {"billing_customers.csv": TYPO},
                                     "2026-01-22": {}})
    _record(project, "2026-01-20", old="Acme Analytix Inc.", new="Acme Analytics Inc.")
    run_days(project, "2026-01-20", "2026-01-21")
    flags = _flags(project)
    assert set(flags) == {"billing"}  # the CRM already carries the value: only billing must act
    team, resolved_on, details = flags["billing"]
    assert (team, resolved_on) == ("ar", None)
    assert details == ("correction #1 (2026-01-20, ana, FIN-1) set billing legal_name to 'Acme Analytics Inc.'; "
                       "billing still has 'Acme Analytix Inc.'")
    run_days(project, "2026-01-22")
    assert _flags(project)["billing"][1] == "2026-01-22"


def test_grace_days(tmp_path: Path) -> None:
    days = {f"2026-01-{d}": {"billing_customers.csv": TYPO} for d in (20, 21, 22, 23)}
    project = new_project(tmp_path, days, yml=f"rules: {{{RULE}: {{params: {{grace_days: 2}}}}}}\n")
    _record(project, "2026-01-20", new="Acme Analytics Inc.")
    run_days(project, "2026-01-20", "2026-01-21")
    assert _flags(project) == {}
    run_days(project, "2026-01-22")
    assert "billing" in _flags(project)


def test_default_grace_is_one_day_in_the_business_time_zone(tmp_path: Path) -> None:
    # 23:30 UTC on the 20th is already the 21st in Berlin: recorded on the 21st, checked from the 22nd.
    days = {f"2026-01-{d}": {"billing_customers.csv": TYPO} for d in (21, 22)}
    project = new_project(tmp_path, days, yml="timezone: Europe/Berlin\n")
    record_correction(load_project(project), canonical_id="ACME", system="billing", field="legal_name",
                      old_value="", new_value="Acme Analytics Inc.", reason="r", who="ana",
                      at=datetime(2026, 1, 20, 23, 30, tzinfo=UTC))
    run_days(project, "2026-01-21")
    assert _flags(project) == {}
    run_days(project, "2026-01-22")
    assert "billing" in _flags(project)


def test_applied_in_one_system_but_not_the_other(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-21": {"crm_accounts.csv": RENAMED_CRM}})
    _record(project, "2026-01-20", system="crm", old="Acme Analytics Inc.", new="Acme Data Inc.")
    run_days(project, "2026-01-21")
    flags = _flags(project)
    assert set(flags) == {"billing"}
    team, _, details = flags["billing"]
    assert team == "ar"
    assert details.endswith("set crm legal_name to 'Acme Data Inc.'; billing has 'Acme Analytics Inc.'")


def test_values_are_compared_normalised(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-21": {}})
    _record(project, "2026-01-20", new='ACME ANALYTICS, INC')  # the export's "Acme Analytics Inc." once normalised
    _record(project, "2026-01-20", system="crm", field="tax_id", new="12 3456789")
    run_days(project, "2026-01-21")
    assert _flags(project) == {}


def test_the_newest_correction_of_a_field_wins(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-22": {}})
    _record(project, "2026-01-20", new="Acme Analytix Inc.")
    _record(project, "2026-01-21", new="Acme Analytics Inc.")  # put right by a second correction
    run_days(project, "2026-01-22")
    assert _flags(project) == {}


def test_a_named_record_is_checked_alone(tmp_path: Path) -> None:
    both = HEALTHY_DAY["billing_customers.csv"] + "cus_2,Acme Analytix,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n"
    project = new_project(tmp_path, {"2026-01-21": {"billing_customers.csv": both}})
    _record(project, "2026-01-20", new="Acme Analytics Inc.", source_id="cus_1")
    run_days(project, "2026-01-21")
    assert RULE not in {e["rule"] for e in json.loads(
        invoke("exceptions", "-p", str(project), "--format", "json").output)}
    _record(project, "2026-01-20", new="Acme Analytics Inc.", source_id="cus_2", hour=13)
    run_days(project, "2026-01-21")
    assert _flags(project)["billing"][2].endswith("billing still has 'Acme Analytix'")


def test_a_missing_record_is_not_a_landed_correction(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-21": {}})
    _record(project, "2026-01-20", new="Acme Analytics Inc.", source_id="cus_1")
    (project / "exports" / "2026-01-21" / "billing_customers.csv").write_text(
        "customer_id,name,email,tax_id,updated_at\ncus_7,Other Co,x@other.example,99,2026-01-20T23:00:00Z\n")
    run_days(project, "2026-01-21")
    assert _flags(project)["billing"][2].endswith("billing still has no record")


def test_the_run_sees_only_corrections_recorded_by_its_day(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-20": {}})
    _record(project, "2026-01-19", new="Acme Analytics Inc.")
    _record(project, "2026-01-25", system="crm", field="tax_id", new="X")
    con, _ = evaluate_day(load_project(project), date(2026, 1, 20))
    rows = con.execute("SELECT seq, recorded_on, canonical_id, source_system, field, kind, new_value, who "
                       "FROM corrections").fetchall()
    assert rows == [(1, date(2026, 1, 19), "ACME", "billing", "legal_name", "name", "Acme Analytics Inc.", "ana")]


def test_a_run_without_a_state_database_creates_none(tmp_path: Path) -> None:
    project = new_project(tmp_path, {"2026-01-20": {}})
    run_days(project, "2026-01-20")
    assert not (project / ".tieout" / "state.db").exists()
    assert all(not name.startswith("state.db") for name in tree_digest(project / ".tieout"))


def test_corrections_for_one_entity(tmp_path: Path) -> None:
    entity_map = (project := new_project(tmp_path, {})) / "entity_map.csv"
    entity_map.write_text(entity_map.read_text() + "GLOBEX,crm,G1,2025-01-01,,\n")
    _record(project, "2026-01-20", new="A")
    record_correction(load_project(project), canonical_id="GLOBEX", system="crm", field="tax_id", old_value="",
                      new_value="1", reason="r", who="bob")
    assert [c.canonical_id for c in corrections_for(load_project(project))] == ["ACME", "GLOBEX"]
    assert [c.who for c in corrections_for(load_project(project), "GLOBEX")] == ["bob"]
    assert corrections_for(load_project(project), until=date(2026, 1, 19)) == []


AMOUNT_REGISTRY = """fields:
  monthly_amount:
    kind: amount
    held_in: {crm: contracts.monthly_value, billing: invoices.amount}
    owner: billing
    tolerance: 1
"""


def test_amounts_are_compared_as_numbers_and_other_systems_within_tolerance(tmp_path: Path) -> None:
    # Billing's invoice shows 10000.00; the CRM's contract comes to 10000.50 a month — within the tolerance.
    crm = HEALTHY_DAY["crm_contracts.csv"].replace("120000.00", "120006.00")
    project = new_project(tmp_path, {"2026-01-21": {"crm_contracts.csv": crm}})
    (project / "ownership.yml").write_text(AMOUNT_REGISTRY)
    _record(project, "2026-01-20", field="monthly_amount", new="10000")
    run_days(project, "2026-01-21")
    assert _flags(project) == {}
    _record(project, "2026-01-20", field="monthly_amount", new="9000", hour=13)  # now billing has not landed it
    run_days(project, "2026-01-21")
    assert _flags(project)["billing"][2].endswith("billing still has '10000.0000'")
