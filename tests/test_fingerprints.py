"""Every day a run or a backfill stores gets its rule and registry fingerprint (`.tieout/runs/DATE.json`), so
the month-end pack has none "not recorded"; a backfill over days whose record is missing writes it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke, new_project

DAYS = ["2026-01-29", "2026-01-30", "2026-01-31"]


def _runs(project: Path) -> list[str]:
    return sorted(p.name for p in (project / ".tieout" / "runs").glob("*.json"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_backfill_records_a_fingerprint_for_every_day(tmp_path: Path, jobs: str) -> None:
    project = new_project(tmp_path / "p", {d: {} for d in DAYS})
    result = invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[-1], "--jobs", jobs)
    assert result.exit_code == 0, result.output
    assert _runs(project) == [f"{d}.json" for d in DAYS]
    record = json.loads((project / ".tieout" / "runs" / f"{DAYS[0]}.json").read_text())
    assert record["day"] == DAYS[0] and "CRM_ACTIVE_BILLING_INACTIVE" in record["rule_hashes"]

    # a day stored before fingerprints existed has none; backfilling it again records it
    (project / ".tieout" / "runs" / f"{DAYS[1]}.json").unlink()
    pack = json.loads(invoke("report", "monthly", "-p", str(project), "--period", "2026-01", "--format",
                             "json").stdout)
    assert pack["configuration_changes"]["days_not_recorded"] == [DAYS[1]]
    assert invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[-1], "--jobs", jobs).exit_code == 0
    pack = json.loads(invoke("report", "monthly", "-p", str(project), "--period", "2026-01", "--format",
                             "json").stdout)
    assert pack["configuration_changes"]["days_not_recorded"] == []
    assert _runs(project) == [f"{d}.json" for d in DAYS]
