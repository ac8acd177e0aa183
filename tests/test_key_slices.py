"""Under a run's memory limit an export's key check groups its rows slice by slice (`tieout.db.slices`): DuckDB
does not spill a grouping's hash table. Sliced or not, the same duplicates and control characters are found,
at the same row, and a clean day gives the same findings."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, write_day
from tieout import db
from tieout import run as run_module
from tieout.config import load_project
from tieout.sources import standard
from tieout.sources.layout import ExportFile

BENCH = Path(__file__).resolve().parents[1] / "bench"
USAGE = HEALTHY_DAY["ops_usage.csv"]
# tenants whose ids fall into different slices, each with a day of usage in two 64-day blocks
SPREAD = "".join(f"t-{i},2026-01-{d:02d},1,1\n" for i in range(2, 40) for d in (1, 20))
CASES: dict[str, tuple[dict[str, str | bytes], str, str]] = {
    "duplicate primary key": ({"crm_accounts.csv": HEALTHY_DAY["crm_accounts.csv"] + "A1,Acme Again,acme.com,,bo,\n"},
                              "crm_accounts.csv, row 3", "duplicate account_id A1"),
    "duplicate composite key, last rows": ({"ops_usage.csv": USAGE + SPREAD + "t-1,2026-01-20,40,50\n"},
                                           "ops_usage.csv, row 80", "duplicate tenant_id + date (t-1, 2026-01-20)"),
    "duplicate composite key, spread": ({"ops_usage.csv": USAGE + SPREAD + "t-17,2026-01-01,9,9\n"},
                                        "ops_usage.csv, row 80", "duplicate tenant_id + date (t-17, 2026-01-01)"),
    "escape sequence in an id": ({"ops_usage.csv": USAGE + SPREAD + "t-\x1b[2J,2026-01-18,1,1\n"},
                                 "ops_usage.csv, row 80, column 'tenant_id'", "control character"),
}


@pytest.fixture
def sliced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every key check of a run in a slice per group; each check's table and slices, in order."""
    monkeypatch.setenv("TIEOUT_MEMORY_LIMIT", "1GB")
    monkeypatch.setattr(db, "BYTES_PER_GROUP", 10**9)
    counts: list[tuple[str, int]] = []
    real = standard._suspect_slices

    def counted(con: object, spec: ExportFile, raw: str, rows: int) -> int:
        counts.append((spec.table, real(con, spec, raw, rows)))  # type: ignore[arg-type]
        return counts[-1][1]

    monkeypatch.setattr(standard, "_suspect_slices", counted)
    return counts


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_sliced_key_check_refuses_what_a_whole_one_refuses(project: Path, case: str,
                                                              sliced: list[tuple[str, int]]) -> None:
    files, place, phrase = CASES[case]
    write_day(project, "2026-01-21", files)
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-21")
    assert result.exit_code == 4, result.output
    assert place in result.output and phrase in result.output, result.output
    assert dict(sliced)[place.split(".")[0]] > 1


def test_the_slices_follow_the_memory_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIEOUT_MEMORY_LIMIT", "1GB")
    assert db.slices(10**9) == 1  # outside a run: DuckDB's own limit
    db.spill_into(tmp_path)
    try:
        assert db.slices(1_000_000) == 1
        assert db.slices(10**9 // db.BYTES_PER_GROUP + 1) == 2
        assert db.slices(40_000_000) == -(-40_000_000 * db.BYTES_PER_GROUP // 10**9)
    finally:
        db.spill_into(None)


def test_a_clean_day_sliced_finds_what_one_whole_finds(tmp_path: Path, sliced: list[tuple[str, int]]) -> None:
    # 200 companies of the bench world: planted mismatches of every kind, a few hundred keys per export
    world = tmp_path / "world"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), str(world), "--companies", "200"], check=True,
                   stdout=subprocess.DEVNULL)
    loaded, day = load_project(world), date(2026, 3, 15)
    whole, _ = run_module.reconcile_day(loaded, day)
    assert [n for _, n in sliced] == [1] * 6  # outside a run
    with run_module._spilling(loaded):
        cut, _ = run_module.reconcile_day(loaded, day)
    assert min(n for _, n in sliced[6:]) > 1
    assert cut.num_rows == whole.num_rows > 0
    assert cut.sort_by("id").equals(whole.sort_by("id"))
