"""OWNED_FIELD_MISMATCH driven by the registry: each kind's normaliser, status mapping, amount tolerance,
conditional owners — on a one-company world, and end to end through `tieout run`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days, write_day
from tests.ownership.helpers import STATUS_REGISTRY, with_registry
from tieout.config import load_project
from tieout.run import evaluate_day

AS_OF = date(2026, 1, 20)
H = HEALTHY_DAY


def mismatches(project: Path, registry: str, files: dict[str, str]) -> set[tuple]:
    with_registry(project, registry)
    write_day(project, AS_OF.isoformat(), files)
    con, _ = evaluate_day(load_project(project), AS_OF)
    rows = con.execute("SELECT source_system, field, impact, team FROM findings "
                       "WHERE rule = 'OWNED_FIELD_MISMATCH'").fetchall()
    return {(s, f, i.normalize(), t) for s, f, i, t in rows}


def field(name: str, kind: str, held_in: str, owner: str, extra: str = "") -> str:
    return f"fields:\n  {name}:\n    kind: {kind}\n    held_in: {held_in}\n    owner: {owner}\n{extra}"


NAME = field("legal_name", "name", "{crm: accounts.legal_name, billing: customers.name}", "crm")
TAX = field("tax_id", "tax_id", "{crm: accounts.tax_id, billing: customers.tax_id}", "crm")
DOMAIN = field("domain", "domain", "{crm: accounts.domain, billing: customers.email, ops: tenants.domain}", "crm")
DATE = field("started", "date", "{crm: contracts.start_date, ops: tenants.created_on}", "crm")
AMOUNT = field("monthly_value", "amount", "{crm: contracts.monthly_value, billing: invoices.amount}", "crm",
               "    tolerance: 0.50\n")
CUSTOMERS = H["billing_customers.csv"]
INVOICES = H["billing_invoices.csv"]
FUTURE_ISSUE = INVOICES.replace("2026-01-31,2026-01-01,paid", "2026-01-31,2026-01-25,paid")
CANCELLED = H["crm_contracts.csv"].replace(",active,", ",cancelled,")
D0 = Decimal(0)

CASES = {
    "name written differently": (NAME, {"billing_customers.csv": CUSTOMERS.replace(
        "Acme Analytics Inc.,", '"ACME ANALYTICS, INC",')}, set()),
    "name differs": (NAME, {"billing_customers.csv": CUSTOMERS.replace("Acme Analytics Inc.,", "Acme Data Ltd,")},
                     {("billing", "legal_name", D0, "ar")}),
    "empty name is not a difference": (NAME, {"billing_customers.csv": CUSTOMERS.replace("Acme Analytics Inc.", "")},
                                       set()),
    "tax id written differently": (TAX, {"billing_customers.csv": CUSTOMERS.replace("12-3456789", "12 3456789")},
                                   set()),
    "tax id differs": (TAX, {"billing_customers.csv": CUSTOMERS.replace("12-3456789", "98-7654321")},
                       {("billing", "tax_id", D0, "ar")}),
    "domain from an e-mail and a subdomain agree": (DOMAIN, {"ops_tenants.csv": H["ops_tenants.csv"].replace(
        "acme.com", "app.acme.com")}, set()),
    "domain differs": (DOMAIN, {"billing_customers.csv": CUSTOMERS.replace("ap@acme.com", "ap@acme-billing.io")},
                       {("billing", "domain", D0, "ar")}),
    "dates agree": (DATE, {}, set()),
    "dates differ": (DATE, {"ops_tenants.csv": H["ops_tenants.csv"].replace("2025-06-01", "2025-07-01")},
                     {("ops", "started", D0, "product")}),
    "amount within tolerance": (AMOUNT, {"billing_invoices.csv": INVOICES.replace("10000.00", "10000.40")}, set()),
    "amount beyond tolerance: impact is the difference": (
        AMOUNT, {"billing_invoices.csv": INVOICES.replace("10000.00", "10001.25")},
        {("billing", "monthly_value", Decimal("1.25"), "ar")}),
    "amount converted to the reporting currency": (
        AMOUNT, {"billing_invoices.csv": INVOICES.replace("10000.00,USD", "9259.26,EUR")}, set()),
    "amount converted, then compared": (
        AMOUNT, {"billing_invoices.csv": INVOICES.replace("10000.00,USD", "9000.00,EUR")},
        {("billing", "monthly_value", Decimal("280"), "ar")}),
    "statuses in two vocabularies agree": (STATUS_REGISTRY, {}, set()),
    "status differs after the first invoice: billing owns it, the CRM disagrees": (
        STATUS_REGISTRY, {"crm_contracts.csv": CANCELLED}, {("crm", "customer_status", D0, "account_managers")}),
    "status differs before the first invoice is posted: the CRM owns it": (
        STATUS_REGISTRY, {"crm_contracts.csv": CANCELLED, "billing_invoices.csv": FUTURE_ISSUE},
        {("billing", "customer_status", D0, "ar")}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_owned_field_mismatch_per_kind(project: Path, case: str) -> None:
    (project / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n"
                                        "fx_rates: {EUR: 1.08}\n")
    registry, files, expected = CASES[case]
    assert mismatches(project, registry, files) == expected


def test_a_registry_field_replaces_the_default_ones(project: Path) -> None:
    # The default compares tax ids; a registry without tax_id does not.
    files = {"billing_customers.csv": CUSTOMERS.replace("12-3456789", "98-7654321")}
    assert mismatches(project, NAME, files) == set()


def test_end_to_end_through_run(tmp_path: Path) -> None:
    project = with_registry(new_project(tmp_path / "p", {
        "2026-01-20": {},
        "2026-01-21": {"crm_contracts.csv": CANCELLED},
    }), STATUS_REGISTRY)
    run_days(project, "2026-01-20", "2026-01-21")
    got = json.loads(invoke("exceptions", "-p", str(project), "--format", "json").stdout)
    owned = [e for e in got if e["rule"] == "OWNED_FIELD_MISMATCH"]
    assert [(e["canonical_id"], e["source_system"], e["field"], e["classification"], e["team"], e["first_seen"])
            for e in owned] == [("ACME", "crm", "customer_status", "ownership", "account_managers", "2026-01-21")]
    assert owned[0]["details"] == "billing has paid, crm has cancelled"
