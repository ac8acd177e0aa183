"""Contract §7's worked example, byte for byte in meaning: the brief's timing story."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import BRIEF_TIMING, brief_backfilled, invoke

pytestmark = pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)")


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy of the run's shared backfill: a test here runs a day again.
    return brief_backfilled(tmp_path_factory, tmp_path_factory.mktemp("brief") / "brief-timing")


def _key(e: dict) -> tuple:
    return (e["rule"], e["canonical_id"] or "", e["source_system"] or "", e["source_id"] or "")


def test_exceptions_json_matches_expected(backfilled: Path) -> None:
    result = invoke("exceptions", "--project", str(backfilled), "--status", "all", "--format", "json")
    assert result.exit_code == 0
    got = json.loads(result.stdout, parse_float=Decimal)
    expected = json.loads((BRIEF_TIMING / "expected.json").read_text(), parse_float=Decimal)
    assert sorted(({k: e[k] for k in expected[0]} for e in got), key=_key) == sorted(expected, key=_key)
    assert all(e["id"] for e in got)


def test_default_lists_only_the_open_exception(backfilled: Path) -> None:
    got = json.loads(invoke("exceptions", "-p", str(backfilled), "--format", "json").stdout)
    assert [(e["rule"], e["source_id"], e["status"]) for e in got] == [
        ("UNMAPPED_SOURCE_RECORD", "cus_unknown", "open")
    ]


def test_rerunning_a_day_changes_nothing(backfilled: Path) -> None:
    before = invoke("exceptions", "-p", str(backfilled), "--status", "all", "--format", "json").stdout
    assert invoke("run", "-p", str(backfilled), "--as-of", "2026-01-15").exit_code == 0
    after = invoke("exceptions", "-p", str(backfilled), "--status", "all", "--format", "json").stdout
    assert after == before


def test_the_queue_as_it_stood_on_a_past_day(backfilled: Path) -> None:
    got = json.loads(invoke("exceptions", "-p", str(backfilled), "--as-of", "2026-01-10", "--format", "json").stdout)
    assert sorted((e["rule"], e["classification"]) for e in got) == [
        ("CRM_ACTIVE_BILLING_INACTIVE", "pending"), ("UNMAPPED_SOURCE_RECORD", "pending"),
    ]


def test_initech_resolves_by_tax_id(backfilled: Path) -> None:
    got = json.loads(invoke("entities", "-p", str(backfilled), "--format", "json").stdout)
    initech = [r for r in got if r["source_id"] == "cus_initech"]
    assert initech == [{"source_system": "billing", "source_id": "cus_initech", "canonical_id": "INITECH",
                        "status": "resolved", "resolved_by": "tax_id", "matched_key": "551234567",
                        "candidates": ["INITECH"], "entity_name": "Initech Systems Ltd"}]
