"""End to end on the demo world: every planted case is found with the right rule, entity, severity,
team and dates, and the healthy companies raise nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import full_demo, invoke

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, output = full_demo(tmp_path_factory)
    assert "Try next" in output
    # the brief's timing example, told in the summary as closing by itself
    assert "CRM_ACTIVE_BILLING_INACTIVE  C00020   open 2026-01-01 → resolved 2026-01-15" in output
    assert "Timeline — open exceptions at the end of each week" in output
    return folder


def _key(e: dict) -> tuple:
    return (e["rule"], e["canonical_id"], e["source_system"], e["source_id"], e["field"])


def test_exactly_the_planted_cases_are_found(demo: Path) -> None:
    planted = {_key(p): p for p in json.loads((demo / "planted.json").read_text())}
    result = invoke("exceptions", "-p", str(demo), "--status", "all", "--format", "json")
    found = {_key(e): e for e in json.loads(result.stdout, parse_float=Decimal)}
    assert set(found) == set(planted)  # nothing missed, nothing raised for healthy companies
    for key, p in planted.items():
        e = found[key]
        assert (e["severity"], e["team"], e["first_seen"]) == (p["severity"], p["team"], p["first_seen"]), key
        assert e["impact"] == Decimal(p["impact"]), key
        if p["last_seen"] is None:
            assert e["status"] == "open", key
        else:
            assert (e["status"], e["last_seen"], e["resolved_on"]) == ("resolved", p["last_seen"],
                                                                         p["resolved_on"]), key


def test_the_brief_timing_example_closes_by_itself(demo: Path) -> None:
    found = json.loads(invoke("exceptions", "-p", str(demo), "--status", "all", "--format", "json").stdout)
    globex = next(p for p in json.loads((demo / "planted.json").read_text()) if p["name"] == "brief_timing_billing_lag")
    timing = {e["rule"]: e for e in found if e["classification"] == "timing"
              and e["canonical_id"] == globex["canonical_id"]}
    assert timing["CRM_ACTIVE_BILLING_INACTIVE"]["first_seen"] == "2026-01-01"
    assert timing["CRM_ACTIVE_BILLING_INACTIVE"]["resolved_on"] == "2026-01-15"
    assert timing["BILLING_ACTIVE_OPS_INACTIVE"]["resolved_on"] == "2026-01-20"
    assert all(e["classification"] == "ownership" for e in found if e["rule"] == "OWNED_FIELD_MISMATCH")


def test_records_outside_the_map_resolve_by_their_natural_key(demo: Path) -> None:
    expected = json.loads((demo / "natural_keys.json").read_text())
    assert expected
    listed = json.loads(invoke("entities", "-p", str(demo), "--format", "json").stdout)
    by_record = {(r["source_system"], r["source_id"]): r for r in listed}
    for item in expected:
        record = by_record[(item["source_system"], item["source_id"])]
        assert (record["status"], record["canonical_id"], record["resolved_by"]) == (
            "resolved", item["canonical_id"], item["key"]), item


def test_fail_on_gates_a_scheduler(demo: Path) -> None:
    assert invoke("exceptions", "-p", str(demo), "--fail-on", "P1").exit_code == 5
    assert invoke("exceptions", "-p", str(demo), "--team", "product", "--fail-on", "P3").exit_code == 0


def test_the_weekly_friday_deals_are_one_recurring_pattern(demo: Path) -> None:
    fridays = {p["canonical_id"] for p in json.loads((demo / "planted.json").read_text())
               if p["name"].startswith("friday_deal_")}
    assert len(fridays) == 4
    report = json.loads(invoke("patterns", "-p", str(demo), "--format", "json", "--examples", "10").stdout)
    recurring = [p for p in report["patterns"] if p["recurring"]]
    assert len(recurring) == 1
    (pattern,) = recurring
    assert (pattern["rule"], pattern["classification"], pattern["count"]) == (
        "CRM_ACTIVE_BILLING_INACTIVE", "timing", 4)
    assert {e["canonical_id"] for e in pattern["examples"]} == fridays
    assert "a rule nobody wrote down" in pattern["sentence"]
    # one sentence naming the weekday, the lag and the handoff: the default registry's contract going live (its
    # status changed that Friday), not the legal name's or the tax id's copy, which nothing here touched
    assert (pattern["cadence"]["text"], pattern["cadence"]["count"]) == ("opens on Fridays", 4)
    assert (pattern["lag"]["days"], pattern["lag"]["count"], pattern["lag"]["of"]) == (3, 4, 4)
    assert (pattern["handoff"]["from"], pattern["handoff"]["to"]) == ("crm", "billing")
    assert (pattern["handoff"]["matched_on"], pattern["handoff"]["event"]) == (
        "lifecycle", "a contract goes live in the CRM")
    for said in ("opens on Fridays", "closes after 3 days in 4 of 4 cases",
                 "it crosses the CRM → billing handoff: when a contract goes live in the CRM, billing should create "
                 "the customer and its first invoice the same day"):
        assert said in pattern["sentence"], said
    assert "legal_name" not in pattern["sentence"] and "tax_id" not in pattern["sentence"]
    assert pattern["sentence"].endswith(".") and ". " not in pattern["sentence"]
