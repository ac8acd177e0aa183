"""Each built-in rule on a one-company world with one thing broken: exactly the expected findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ENTITY_MAP, HEALTHY_DAY, write_day
from tieout.config import load_project
from tieout.run import evaluate_day

AS_OF = date(2026, 1, 20)
H = HEALTHY_DAY


def findings(project: Path, files: dict[str, str], entity_map: str = ENTITY_MAP) -> set[tuple]:
    (project / "entity_map.csv").write_text(entity_map)
    write_day(project, AS_OF.isoformat(), files)
    con, _ = evaluate_day(load_project(project), AS_OF)
    rows = con.execute(
        "SELECT rule, canonical_id, source_system, source_id, field, impact, severity, team FROM findings"
    ).fetchall()
    return {(r, c, s, i, f, imp.normalize(), sev, team) for r, c, s, i, f, imp, sev, team in rows}


def d(x: str) -> Decimal:
    return Decimal(x).normalize()


SCENARIOS = {
    "healthy": ({}, ENTITY_MAP, set()),
    "tax id and name written differently are not a mismatch": (
        {"billing_customers.csv": H["billing_customers.csv"].replace("12-3456789", "12 3456789").replace(
            "Acme Analytics Inc.,ap", '"ACME ANALYTICS, INC",ap')},
        ENTITY_MAP, set(),
    ),
    "CRM_ACTIVE_BILLING_INACTIVE": (
        {"billing_invoices.csv": H["billing_invoices.csv"].replace(",paid,", ",void,"),
         "ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2026-01-20,0,50\n"},
        ENTITY_MAP,
        {("CRM_ACTIVE_BILLING_INACTIVE", "ACME", None, None, None, d("10000"), "P2", "ar")},
    ),
    "BILLING_ACTIVE_CRM_INACTIVE": (
        {"crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")},
        ENTITY_MAP,
        {("BILLING_ACTIVE_CRM_INACTIVE", "ACME", None, None, None, d("10000"), "P2", "ar")},
    ),
    "BILLING_ACTIVE_OPS_INACTIVE": (
        {"ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2025-12-20,5,50\nt-1,2026-01-20,0,50\n"},
        ENTITY_MAP,
        {("BILLING_ACTIVE_OPS_INACTIVE", "ACME", None, None, None, d("10000"), "P2", "account_managers")},
    ),
    "OPS_ACTIVE_BILLING_INACTIVE (impact from the latest contract)": (
        {"billing_invoices.csv": H["billing_invoices.csv"].replace("2026-01-01,2026-01-31", "2025-12-01,2025-12-31"),
         "crm_contracts.csv": H["crm_contracts.csv"].replace("2025-06-01,,", "2025-06-01,2026-01-10,")},
        ENTITY_MAP,
        {("OPS_ACTIVE_BILLING_INACTIVE", "ACME", None, None, None, d("10000"), "P2", "ar")},
    ),
    "FTE_THRESHOLD_DRIFT above tolerance": (
        {"ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2026-01-19,45,50\nt-1,2026-01-20,44,60\n"},
        ENTITY_MAP,
        # 10 FTE x (10,000 / 50 per FTE)
        {("FTE_THRESHOLD_DRIFT", "ACME", None, None, None, d("2000"), "P3", "account_managers")},
    ),
    "FTE_THRESHOLD_DRIFT exactly at tolerance does not fire": (
        {"ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2026-01-20,44,55\n"},
        ENTITY_MAP, set(),
    ),
    "DUPLICATE_SOURCE_RECORD (a duplicate import resolved by tax id)": (
        {"billing_customers.csv": H["billing_customers.csv"]
            + "cus_2,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n",
         "billing_invoices.csv": H["billing_invoices.csv"]
            + "in_2,cus_2,2026-01-01,2026-01-31,2026-01-02,open,3000.00,USD,,2026-01-20T23:00:00Z\n"},
        ENTITY_MAP,
        {("DUPLICATE_SOURCE_RECORD", "ACME", "billing", None, None, d("3000"), "P3", "ar")},
    ),
    "UNMAPPED_SOURCE_RECORD": (
        {"billing_customers.csv": H["billing_customers.csv"]
            + "cus_x,Zeta Widgets GmbH,rechnung@zeta.example,,2026-01-20T23:00:00Z\n",
         "billing_invoices.csv": H["billing_invoices.csv"]
            + "in_x,cus_x,2026-01-01,2026-01-31,2026-01-01,paid,100.00,USD,1,2026-01-20T23:00:00Z\n"},
        ENTITY_MAP,
        {("UNMAPPED_SOURCE_RECORD", None, "billing", "cus_x", None, d("100"), "INFO", "ar")},
    ),
    "AMBIGUOUS_ENTITY_MATCH": (
        {"crm_accounts.csv": H["crm_accounts.csv"]
            + "A2,Beta Ltd,shared.io,,bo,\nA3,Delta Ltd,shared.io,,cy,\n",
         "ops_tenants.csv": H["ops_tenants.csv"] + "t-9,shared-ws,www.shared.io,2026-01-01,active\n"},
        ENTITY_MAP + "BETA,crm,A2,2025-01-01,,\nDELTA,crm,A3,2025-01-01,,\n",
        {("AMBIGUOUS_ENTITY_MATCH", None, "ops", "t-9", None, d("0"), "INFO", "product")},
    ),
    "OWNED_FIELD_MISMATCH": (
        {"billing_customers.csv": H["billing_customers.csv"].replace("Acme Analytics Inc.,ap", "Acme Data Ltd,ap")},
        ENTITY_MAP,
        {("OWNED_FIELD_MISMATCH", "ACME", "billing", None, "legal_name", d("0"), "INFO", "ar")},
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_rule_fires_exactly_as_specified(project: Path, scenario: str) -> None:
    files, entity_map, expected = SCENARIOS[scenario]
    assert findings(project, files, entity_map) == expected
