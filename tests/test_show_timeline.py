"""`tieout show` (an exception's or an entity's story) and `tieout timeline` (the open queue per day)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days, write_day
from tieout.config import load_project
from tieout.rules.registry import load_rules
from tieout.store import stored_days
from tieout.timeline import daily_counts, exceptions

# One worker runs the module: its `world` is built once, not on each worker.
pytestmark = pytest.mark.xdist_group("show-timeline")

H = HEALTHY_DAY
# Billing renames the customer (a non-owner editing an owned field) and stamps the edit.
RENAMED = {"billing_customers.csv": H["billing_customers.csv"].replace(
    "cus_1,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z",
    "cus_1,Acme Analytix Inc.,ap@acme.com,12-3456789,2026-01-21T09:30:00Z")}
CANCELLED = {"crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")}
# Day 1 healthy; day 2 the rename and a cancelled contract; day 3 the contract is live again; day 4 the name
# is fixed and the contract cancelled again (BILLING_ACTIVE_CRM_INACTIVE reopens).
WORLD = {
    "2026-01-20": {},
    "2026-01-21": {**RENAMED, **CANCELLED},
    "2026-01-22": RENAMED,
    "2026-01-23": CANCELLED,
}


_new_project = new_project
_run = run_days


def _json(*args: str) -> object:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout, parse_float=Decimal)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _new_project(tmp_path_factory.mktemp("drift") / "p", WORLD)
    # Out of order on purpose: the timeline must not depend on the order days were run in.
    _run(project, "2026-01-23", "2026-01-20", "2026-01-22", "2026-01-21")
    return project


def _id(project: Path, rule: str) -> str:
    found = _json("exceptions", "-p", str(project), "--status", "all", "--rule", rule)
    assert isinstance(found, list) and len(found) == 1
    return str(found[0]["id"])


def show(project: Path, ident: str, *args: str) -> dict:
    data = _json("show", ident, "-p", str(project), *args)
    assert isinstance(data, dict)
    return data


# --- show ID --------------------------------------------------------------------------------------------------

def test_show_exception_summary_and_episodes(world: Path) -> None:
    data = show(world, _id(world, "OWNED_FIELD_MISMATCH"))
    e = data["exception"]
    assert data["kind"] == "exception"
    assert (e["rule"], e["canonical_id"], e["source_system"], e["field"]) == (
        "OWNED_FIELD_MISMATCH", "ACME", "billing", "legal_name")
    assert (e["status"], e["classification"], e["team"], e["impact"]) == ("resolved", "ownership", "ar", 0)
    assert data["episodes"] == [{
        "first_seen": "2026-01-21", "last_seen": "2026-01-22", "resolved_on": "2026-01-23", "severity": "INFO",
        "impact": 0, "classification": "ownership",
        "details": "crm has Acme Analytics Inc., billing has Acme Analytix Inc.",
        # billing edited a field the CRM owns: the ownership break that began it
        "ownership_edits": [{"day": "2026-01-21", "system": "billing", "field": "legal_name",
                             "column": "customers.name", "source_id": "cus_1", "old": "Acme Analytics Inc.",
                             "new": "Acme Analytix Inc.", "owner_system": "crm"}],
        # in the reporting currency already: no other amount to show beside it
        "original_amount": None, "original_currency": None}]


def test_show_records_side_by_side_on_last_seen(world: Path) -> None:
    records = show(world, _id(world, "OWNED_FIELD_MISMATCH"))["records"]
    assert records["day"] == "2026-01-22" and records["unavailable"] is None
    assert [a["legal_name"] for a in records["crm"]["crm_accounts"]] == ["Acme Analytics Inc."]
    assert [c["status"] for c in records["crm"]["crm_contracts"]] == ["active"]
    assert [c["name"] for c in records["billing"]["billing_customers"]] == ["Acme Analytix Inc."]
    assert [(i["invoice_id"], i["amount"]) for i in records["billing"]["billing_invoices"]] == [
        ("in_1", Decimal("10000.00"))]
    assert [t["tenant_id"] for t in records["ops"]["ops_tenants"]] == ["t-1"]
    # Only the latest usage row, not the whole trailing window.
    assert [(u["date"], u["active_users"]) for u in records["ops"]["ops_usage"]] == [("2026-01-20", 44)]


def test_show_what_changed_on_the_first_day(world: Path) -> None:
    first = show(world, _id(world, "OWNED_FIELD_MISMATCH"))["first_day"]
    assert (first["day"], first["previous"], first["unavailable"]) == ("2026-01-21", "2026-01-20", None)
    assert first["changes"] == [
        {"system": "crm", "table": "crm_contracts", "key": {"contract_id": "K1"}, "change": "changed",
         "fields": {"status": {"old": "active", "new": "cancelled"}}, "record": None},
        # updated_at is shown beside the change (it alone would not be one).
        {"system": "billing", "table": "billing_customers", "key": {"customer_id": "cus_1"}, "change": "changed",
         "fields": {"name": {"old": "Acme Analytics Inc.", "new": "Acme Analytix Inc."},
                    "updated_at": {"old": "2026-01-20T23:00:00", "new": "2026-01-21T09:30:00"}},
         "record": None},
    ]


def test_show_text_for_people(world: Path) -> None:
    result = invoke("show", _id(world, "OWNED_FIELD_MISMATCH"), "-p", str(world))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "OWNED_FIELD_MISMATCH" in out and "0.00 USD" in out and "ownership" in out
    assert "What changed on 2026-01-21 (first seen), compared with 2026-01-20" in out
    assert "name: 'Acme Analytics Inc.' → 'Acme Analytix Inc.'" in out
    assert "status: 'active' → 'cancelled'" in out
    assert "side by side" in out and "Acme Analytix Inc." in out


def test_a_reopened_exception_has_two_episodes(world: Path) -> None:
    data = show(world, _id(world, "BILLING_ACTIVE_CRM_INACTIVE"))
    assert data["exception"]["status"] == "open" and data["exception"]["episodes"] == 2
    assert [(x["first_seen"], x["last_seen"], x["resolved_on"]) for x in data["episodes"]] == [
        ("2026-01-21", "2026-01-21", "2026-01-22"), ("2026-01-23", "2026-01-23", None)]
    # "First day" is the latest episode's: compared with the stored day before it.
    first = data["first_day"]
    assert (first["day"], first["previous"]) == ("2026-01-23", "2026-01-22")
    assert [(c["table"], c["fields"]) for c in first["changes"] if c["table"] == "crm_contracts"] == [
        ("crm_contracts", {"status": {"old": "active", "new": "cancelled"}})]


def test_show_as_of_an_earlier_day(world: Path) -> None:
    data = show(world, _id(world, "BILLING_ACTIVE_CRM_INACTIVE"), "--as-of", "2026-01-22")
    assert data["exception"]["status"] == "resolved" and data["exception"]["resolved_on"] == "2026-01-22"
    assert len(data["episodes"]) == 1 and data["exception"]["classification"] == "timing"


def test_show_entity(world: Path) -> None:
    data = show(world, "ACME")
    assert data["kind"] == "entity" and data["as_of"] == "2026-01-23"
    assert [(r["source_system"], r["source_id"], r["status"], r["resolved_by"]) for r in data["source_records"]] == [
        ("billing", "cus_1", "resolved", "map"), ("crm", "A1", "resolved", "map"), ("ops", "t-1", "resolved", "map")]
    assert [(x["first_seen"], x["rule"], x["resolved_on"]) for x in data["episodes"]] == [
        ("2026-01-21", "BILLING_ACTIVE_CRM_INACTIVE", "2026-01-22"),
        ("2026-01-21", "OWNED_FIELD_MISMATCH", "2026-01-23"),
        ("2026-01-23", "BILLING_ACTIVE_CRM_INACTIVE", None),
    ]
    text = invoke("show", "ACME", "-p", str(world)).stdout
    assert "3 source record(s) on 2026-01-23" in text and "3 exception episode(s)" in text


@pytest.mark.parametrize("ident", ["0123456789abcdef", "NOBODY"])
def test_unknown_id_exits_7(world: Path, ident: str) -> None:
    result = invoke("show", ident, "-p", str(world))
    assert result.exit_code == 7 and ident in result.output


def test_nothing_reconciled_exits_7(project: Path) -> None:
    assert invoke("show", "ACME", "-p", str(project)).exit_code == 7


FIRST_DAY = "2026-01-20 is the first reconciled day: nothing is stored before it to compare with"


def test_the_first_reconciled_day_has_nothing_to_compare_with(project: Path) -> None:
    write_day(project, "2026-01-20", RENAMED)
    _run(project, "2026-01-20")
    first = show(project, _id(project, "OWNED_FIELD_MISMATCH"))["first_day"]
    assert first["previous"] == "2026-01-19" and first["changes"] == []
    assert first["unavailable"] == FIRST_DAY
    shown = invoke("show", _id(project, "OWNED_FIELD_MISMATCH"), "-p", str(project)).stdout
    assert f"cannot tell — {FIRST_DAY}" in shown


def test_an_export_folder_not_reconciled_is_never_compared_with(project: Path) -> None:
    # What changed comes from the store alone: the day before's exports, never reconciled, are not read.
    write_day(project, "2026-01-19")
    write_day(project, "2026-01-20", RENAMED)
    _run(project, "2026-01-20")
    first = show(project, _id(project, "OWNED_FIELD_MISMATCH"))["first_day"]
    assert (first["previous"], first["unavailable"], first["changes"]) == ("2026-01-19", FIRST_DAY, [])


def test_show_a_source_record_exception(project: Path) -> None:
    extra = "cus_x,Zeta Widgets GmbH,rechnung@zeta.example,,2026-01-21T08:00:00Z\n"
    write_day(project, "2026-01-21", {"billing_customers.csv": H["billing_customers.csv"] + extra})
    _run(project, "2026-01-20", "2026-01-21")
    data = show(project, _id(project, "UNMAPPED_SOURCE_RECORD"))
    assert [c["customer_id"] for c in data["records"]["billing"]["billing_customers"]] == ["cus_x"]
    assert data["records"]["crm"]["crm_accounts"] == [] and data["records"]["ops"]["ops_tenants"] == []
    assert [(c["table"], c["change"], c["key"]) for c in data["first_day"]["changes"]] == [
        ("billing_customers", "added", {"customer_id": "cus_x"}),
        ("source_records", "added", {"source_system": "billing", "source_id": "cus_x"}),
    ]
    assert data["first_day"]["changes"][1]["record"]["status"] == "unmapped"
    # The entity view does not claim a record no key ties to it.
    assert [x["rule"] for x in show(project, "ACME")["episodes"]] == []


# --- timeline -----------------------------------------------------------------------------------------------

def test_timeline_counts_per_day(world: Path) -> None:
    got = _json("timeline", "-p", str(world))
    assert got == [
        {"date": "2026-01-20", "open": 0, "opened": 0, "resolved": 0, "by_rule": {},
         "by_classification": {"pending": 0, "structural": 0, "timing": 0, "ownership": 0}},
        {"date": "2026-01-21", "open": 2, "opened": 2, "resolved": 0,
         "by_rule": {"BILLING_ACTIVE_CRM_INACTIVE": 1, "OWNED_FIELD_MISMATCH": 1},
         "by_classification": {"pending": 1, "structural": 0, "timing": 0, "ownership": 1}},
        {"date": "2026-01-22", "open": 1, "opened": 0, "resolved": 1, "by_rule": {"OWNED_FIELD_MISMATCH": 1},
         "by_classification": {"pending": 0, "structural": 0, "timing": 0, "ownership": 1}},
        {"date": "2026-01-23", "open": 1, "opened": 1, "resolved": 1, "by_rule": {"BILLING_ACTIVE_CRM_INACTIVE": 1},
         "by_classification": {"pending": 1, "structural": 0, "timing": 0, "ownership": 0}},
    ]


def test_timeline_range_and_text(world: Path) -> None:
    got = _json("timeline", "-p", str(world), "--from", "2026-01-21", "--to", "2026-01-22")
    assert isinstance(got, list) and [d["date"] for d in got] == ["2026-01-21", "2026-01-22"]
    # An episode begun before --from still counts from its own first day.
    got = _json("timeline", "-p", str(world), "--from", "2026-01-22")
    assert isinstance(got, list) and got[0]["by_classification"]["ownership"] == 1
    out = invoke("timeline", "-p", str(world)).stdout
    assert "2026-01-21" in out and "BILLING_ACTIVE_CRM_INACTIVE 1, OWNED_FIELD_MISMATCH 1" in out
    assert invoke("timeline", "-p", str(world), "--from", "2026-01-22", "--to", "2026-01-21").exit_code == 2


def test_timeline_classifies_as_exceptions_as_of_each_day(tmp_path: Path) -> None:
    # A one-day lag so the contract gap turns from pending to structural; a gap day (01-24 not run) splits
    # nothing by itself: episodes are runs of consecutive *stored* days.
    days = {"2026-01-20": {}, "2026-01-21": CANCELLED, "2026-01-22": {**CANCELLED, **RENAMED},
            "2026-01-23": CANCELLED, "2026-01-25": CANCELLED, "2026-01-26": {}, "2026-01-27": CANCELLED}
    project = _new_project(tmp_path / "p", days, "rules:\n  BILLING_ACTIVE_CRM_INACTIVE:\n    expected_lag_days: 1\n")
    _run(project, *days)
    loaded = load_project(project)
    rules = load_rules(loaded)
    counts = {d.date: d for d in daily_counts(loaded, rules)}
    assert list(counts) == stored_days(loaded)
    for day in stored_days(loaded):
        queue = exceptions(loaded, rules, as_of=day, status="open")
        assert counts[day].open == len(queue)
        assert counts[day].by_classification == dict(Counter(e.classification for e in queue)), day
        assert counts[day].by_rule == dict(Counter(e.rule for e in queue)), day
    assert counts[max(counts)].by_classification == {"pending": 1}  # reopened on 01-27: a new episode
    assert {c for d in counts.values() for c in d.by_classification} == {"pending", "structural", "ownership"}
