"""A run holds DuckDB to its memory limit and spills the rest into the store (`tieout.db.spill_into`): the same
findings whether or not it spills, nothing left behind, and readers untouched."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import invoke
from tieout import db
from tieout import run as run_module
from tieout.config import load_project

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("SELECT current_setting(?)", [name]).fetchone()[0]  # type: ignore[index]


def _limit_as_duckdb_shows(amount: str) -> str:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{amount}'")
    return _setting(con, "memory_limit")


def test_a_run_spills_into_the_store_within_its_limit_and_leaves_nothing(project: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEOUT_MEMORY_LIMIT", "300MB")
    seen: dict[str, str] = {}

    def stage(name: str) -> None:
        if name == "running rules":  # a connection the run makes now is set up as the run's own
            con = db.connect()
            seen["memory_limit"] = _setting(con, "memory_limit")
            seen["temp_directory"] = _setting(con, "temp_directory")

    loaded = load_project(project)
    run_module.run_day(loaded, date(2026, 1, 20), stage=stage)
    assert seen["memory_limit"] == _limit_as_duckdb_shows("300000000B")
    assert Path(seen["temp_directory"]).parent == project / ".tieout" / run_module.SPILL_DIR
    assert not (project / ".tieout" / run_module.SPILL_DIR).exists()
    # after the run, a connection (a reader's) is DuckDB's own again
    assert _setting(db.connect(), "memory_limit") != seen["memory_limit"]


def test_parallel_workers_share_the_limit() -> None:
    try:
        db.share_cores(4)
        assert db._memory_limit() == f"{10**9 // 4}B"
    finally:
        db.share_cores(1)
        db._threads = None


def test_an_unreadable_memory_limit_is_a_config_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEOUT_MEMORY_LIMIT", "lots")
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3, result.output
    assert "TIEOUT_MEMORY_LIMIT" in result.output
    assert not (project / ".tieout" / "days").exists()


def test_a_run_that_spills_finds_what_one_in_memory_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 20,000 companies: 700,000 usage rows, well past the smallest limit (64 MiB), so DuckDB must spill
    world = tmp_path / "world"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), str(world), "--companies", "20000"], check=True,
                   stdout=subprocess.DEVNULL)
    project = load_project(world)
    day = date(2026, 3, 15)
    unlimited, _ = run_module.reconcile_day(project, day)
    spilled: list[int] = []

    def loaded(con: duckdb.DuckDBPyConnection) -> None:
        spilled.append(con.execute("SELECT sum(temporary_storage_bytes) FROM duckdb_memory()").fetchone()[0])

    monkeypatch.setenv("TIEOUT_MEMORY_LIMIT", "1MB")  # raised to the smallest limit
    with run_module._spilling(project):
        limited, _ = run_module.reconcile_day(project, day, loaded=loaded)
    assert spilled[0] > 0
    assert limited.num_rows == unlimited.num_rows > 0
    assert limited.sort_by("id").equals(unlimited.sort_by("id"))


def test_a_run_out_of_memory_blames_the_limit_not_the_input(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # below what DuckDB's CSV reader needs for its buffers: the first export's load runs out
    monkeypatch.setattr(db, "_memory_limit", lambda: "4MB")
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3, result.output
    assert "more memory than its limit (1GB, the default of TIEOUT_MEMORY_LIMIT)" in result.output, result.output
    assert "cannot be read" not in result.output
    assert not (project / ".tieout" / "days").exists()
