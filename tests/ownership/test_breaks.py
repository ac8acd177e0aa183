"""Ownership breaks over several stored days: an owned field edited by a system that may not edit it that day."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.conftest import HEALTHY_DAY, new_project, run_days
from tests.ownership.helpers import STATUS_REGISTRY, with_registry
from tieout.config import load_project
from tieout.ownership.breaks import ownership_breaks
from tieout.ownership.model import parse_registry

H = HEALTHY_DAY
# The first invoice is issued on 2026-01-21: until then the CRM owns the customer's status, then billing does.
NOT_YET_POSTED = H["billing_invoices.csv"].replace("2026-01-31,2026-01-01,paid", "2026-01-31,2026-01-21,paid")
CONTRACT = H["crm_contracts.csv"]
DRAFT, CANCELLED = CONTRACT.replace(",active,", ",draft,"), CONTRACT.replace(",active,", ",cancelled,")
RENAMED_BILLING = H["billing_customers.csv"].replace("Acme Analytics Inc.,", "Acme Data Ltd,")
RENAMED_CRM = H["crm_accounts.csv"].replace("Acme Analytics Inc.,", "Acme Data Ltd,")
DAYS = ("2026-01-18", "2026-01-19", "2026-01-20", "2026-01-21", "2026-01-22", "2026-01-23")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = with_registry(new_project(tmp_path_factory.mktemp("breaks") / "p", {
        # baseline: a draft contract, an invoice not yet posted
        "2026-01-18": {"crm_contracts.csv": DRAFT, "billing_invoices.csv": NOT_YET_POSTED},
        # the CRM activates its contract: it owns the status, allowed
        "2026-01-19": {"billing_invoices.csv": NOT_YET_POSTED},
        # billing renames the customer: the CRM owns the legal name, a break
        "2026-01-20": {"billing_invoices.csv": NOT_YET_POSTED, "billing_customers.csv": RENAMED_BILLING},
        # the invoice is posted and the CRM adopts the new name (its own field): allowed
        "2026-01-21": {"billing_customers.csv": RENAMED_BILLING, "crm_accounts.csv": RENAMED_CRM},
        # sales cancels the contract after finance owns the status: a break
        "2026-01-22": {"billing_customers.csv": RENAMED_BILLING, "crm_accounts.csv": RENAMED_CRM,
                       "crm_contracts.csv": CANCELLED},
        # the CRM renames back and billing's copy follows it the same day: the handoff, not a break
        "2026-01-23": {"crm_contracts.csv": CANCELLED},
    }), STATUS_REGISTRY)
    run_days(project, *DAYS)
    return project


def _brief(found: list) -> list[tuple]:
    return [(str(b.day), b.canonical_id, b.system, b.source_id, b.row_id, b.field, b.old, b.new, b.owner_system,
             b.condition) for b in found]


def test_every_forbidden_edit_and_only_those(story: Path) -> None:
    assert _brief(ownership_breaks(load_project(story))) == [
        ("2026-01-20", "ACME", "billing", "cus_1", "cus_1", "legal_name", "Acme Analytics Inc.", "Acme Data Ltd",
         "crm", None),
        ("2026-01-22", "ACME", "crm", "A1", "K1", "customer_status", "active", "cancelled", "billing",
         "first_invoice_posted"),
    ]


def test_a_break_carries_the_edit(story: Path) -> None:
    (b,) = ownership_breaks(load_project(story), days=[date(2026, 1, 22)])
    assert b.as_dict() == {
        "day": date(2026, 1, 22), "canonical_id": "ACME", "system": "crm", "source_id": "A1", "row_id": "K1",
        "field": "customer_status", "column": "contracts.status", "old": "active", "new": "cancelled",
        "owner_system": "billing", "editors": ["billing"], "condition": "first_invoice_posted"}


def test_days_select_and_the_baseline_is_no_edit(story: Path) -> None:
    project = load_project(story)
    assert ownership_breaks(project, days=[date(2026, 1, 18), date(2026, 1, 19), date(2026, 1, 21)]) == []
    assert ownership_breaks(project, days=[date(2026, 2, 1)]) == []  # not a stored day


def test_an_editor_by_condition_may_edit(story: Path) -> None:
    # Same history, a registry where the CRM stays an editor after the handover: nothing is broken on the 22nd.
    registry_text = STATUS_REGISTRY.replace("owner: billing, approver: finance",
                                            "owner: billing, editors: [crm], approver: finance")
    registry = parse_registry(yaml.safe_load(registry_text), None)
    assert [b.field for b in ownership_breaks(load_project(story), registry)] == ["legal_name"]


def test_same_answer_whatever_order_the_days_were_run(tmp_path: Path, story: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(story, again, ignore=shutil.ignore_patterns(".tieout"))
    run_days(again, *reversed(DAYS))
    assert _brief(ownership_breaks(load_project(again))) == _brief(ownership_breaks(load_project(story)))


def test_an_exception_caused_by_a_break_is_an_ownership_exception(story: Path) -> None:
    import json

    from tests.conftest import invoke

    found = json.loads(invoke("exceptions", "-p", str(story), "--status", "all", "--format", "json").stdout)
    caused = [e for e in found if e["rule"] == "BILLING_ACTIVE_CRM_INACTIVE"]
    assert [(e["first_seen"], e["classification"]) for e in caused] == [("2026-01-22", "ownership")]
    assert [(x["day"], x["system"], x["field"], x["old"], x["new"]) for x in caused[0]["ownership_edits"]] == [
        ("2026-01-22", "crm", "customer_status", "active", "cancelled")]
    # an exception of the same entity that began on a day without a break keeps its own classification
    assert all(e["ownership_edits"] == [] for e in found if e["first_seen"] != "2026-01-22"
               and e["rule"] != "OWNED_FIELD_MISMATCH")
    shown = invoke("show", caused[0]["id"], "-p", str(story))
    assert "ownership break: crm edited customer_status of A1 on 2026-01-22" in shown.output
    days = json.loads(invoke("timeline", "-p", str(story), "--format", "json").stdout)
    on_22 = next(d for d in days if d["date"] == "2026-01-22")
    assert on_22["by_classification"]["ownership"] >= 1
