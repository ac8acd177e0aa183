"""An exception that closed after a hand correction did not resolve by itself: it is not `timing` (contract §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days
from tieout.config import load_project
from tieout.corrections import record_correction

H = HEALTHY_DAY
CANCELLED = {"crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")}
DAYS = {"2026-01-20": {}, "2026-01-21": CANCELLED, "2026-01-22": CANCELLED, "2026-01-23": {}}


def _lapse(project: Path) -> dict:
    found = json.loads(invoke("exceptions", "-p", str(project), "--status", "all", "--format", "json").stdout)
    (lapse,) = [e for e in found if e["rule"] == "BILLING_ACTIVE_CRM_INACTIVE"]
    return lapse


def test_a_correction_while_open_makes_a_quick_close_structural(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", DAYS)
    run_days(project, *DAYS)
    lapse = _lapse(project)
    assert (lapse["first_seen"], lapse["resolved_on"], lapse["classification"]) == (
        "2026-01-21", "2026-01-23", "timing")

    # a correction of another entity, or of this one after it closed, changes nothing
    p = load_project(project)
    record_correction(p, canonical_id=lapse["canonical_id"], system="crm", field="legal_name",
                      old_value="Acme Analytics Inc", new_value="Acme Analytics Inc.", reason="typo", who="ana",
                      at=datetime(2026, 1, 24, 9, tzinfo=UTC))
    assert _lapse(project)["classification"] == "timing"

    record_correction(p, canonical_id=lapse["canonical_id"], system="crm", field="legal_name",
                      old_value="Acme Analytics", new_value="Acme Analytics Inc.", reason="fixed by hand",
                      who="ana", at=datetime(2026, 1, 22, 15, tzinfo=UTC))
    assert _lapse(project)["classification"] == "structural"
    shown = json.loads(invoke("show", lapse["id"], "-p", str(project), "--format", "json").stdout)
    assert shown["exception"]["classification"] == "structural"
