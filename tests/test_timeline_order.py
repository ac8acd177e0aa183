"""Idempotent and order-free: the timeline depends on which days are stored, not on how they got there."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import BRIEF_FIRST, BRIEF_LAST, BRIEF_TIMING, brief_backfilled, invoke
from tieout.config import load_project
from tieout.store import stored_days

pytestmark = pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)")

DAYS = [f"2026-01-{d:02d}" for d in range(1, 32)] + [f"2026-02-{d:02d}" for d in range(1, 6)]


def _copy(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    shutil.copytree(BRIEF_TIMING, project, ignore=shutil.ignore_patterns(".tieout"))
    return project


def _timeline(project: Path) -> list[dict]:
    out = invoke("exceptions", "-p", str(project), "--status", "all", "--format", "json")
    assert out.exit_code == 0
    return sorted(json.loads(out.stdout), key=lambda e: e["id"])


@pytest.fixture(scope="module")
def in_order(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The timeline of every day run in order, once (a serial backfill): what any other order must give."""
    assert (BRIEF_FIRST, BRIEF_LAST) == (DAYS[0], DAYS[-1])
    return _timeline(brief_backfilled(tmp_path_factory))


def test_shuffled_days_and_reruns_give_the_in_order_timeline(tmp_path: Path, in_order: list[dict]) -> None:
    shuffled = _copy(tmp_path, "shuffled")
    days = DAYS.copy()
    random.Random(20260123).shuffle(days)
    for day in days + days[:5]:  # every day once in a random order, then five of them again
        assert invoke("run", "-p", str(shuffled), "--as-of", day).exit_code == 0

    assert _timeline(shuffled) == in_order


def test_an_older_range_backfilled_after_a_newer_one(tmp_path: Path, in_order: list[dict]) -> None:
    later_first = _copy(tmp_path, "later-first")
    assert invoke("backfill", "-p", str(later_first), "--from", "2026-01-16", "--to", DAYS[-1]).exit_code == 0
    assert invoke("backfill", "-p", str(later_first), "--from", DAYS[0], "--to", "2026-01-15").exit_code == 0
    assert _timeline(later_first) == in_order


def test_parallel_backfill_stops_at_the_first_bad_day_and_keeps_the_ones_before(tmp_path: Path) -> None:
    project = _copy(tmp_path, "broken")
    (project / "exports" / "2026-01-10" / "ops_usage.csv").write_text("tenant_id,date,active_users,fte_count\n")
    result = invoke("backfill", "-p", str(project), "--from", "2026-01-05", "--to", "2026-01-20", "--jobs", "2")
    assert result.exit_code == 4
    assert "2026-01-10/ops_usage.csv, row 2" in result.output and "header only" in result.output
    stored = [str(d) for d in stored_days(load_project(project))]
    assert stored == [f"2026-01-{d:02d}" for d in range(5, 10)]


def test_a_backfill_meeting_a_missing_day_stops_and_never_reads_it_as_resolved(tmp_path: Path) -> None:
    project = _copy(tmp_path, "gap")
    shutil.rmtree(project / "exports" / "2026-01-16")
    result = invoke("backfill", "-p", str(project), "--from", "2026-01-10", "--to", "2026-01-20")
    assert result.exit_code == 4
    assert "2026-01-16" in result.output and "missing day" in result.output
    stored = [str(d) for d in stored_days(load_project(project))]
    assert stored == [f"2026-01-{d:02d}" for d in range(10, 16)]
    # nothing after the gap was stored, so nothing open on the 15th looks resolved
    still_open = json.loads(invoke("exceptions", "-p", str(project), "--format", "json").stdout)
    assert {e["rule"] for e in still_open} == {"UNMAPPED_SOURCE_RECORD", "BILLING_ACTIVE_OPS_INACTIVE"}
