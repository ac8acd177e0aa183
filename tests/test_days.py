"""The day store holds each day's findings as changes since the stored day before: it grows by what changed,
rebuilds every day's full list exactly, and is the same whatever order the days were run in."""

from __future__ import annotations

import random
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import BRIEF_TIMING, built_once, invoke
from tieout.config import load_project
from tieout.run import reconcile_day
from tieout.store.days import FINDING_COLUMNS, findings_on
from tieout.store.manifest import days_dir, named_files, read_checkpoint, read_manifest

pytestmark = pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)")

DAYS = [date(2026, 1, d) for d in range(10, 22)]


def _project(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    shutil.copytree(BRIEF_TIMING, project, ignore=shutil.ignore_patterns(".tieout"))
    return project


def _run(project: Path, *days: date) -> None:
    for day in days:
        result = invoke("run", "-p", str(project), "--as-of", str(day))
        assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def in_order(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DAYS run in order, once per test run and shared by the workers: read it, or copy it to write."""
    def build(folder: Path) -> None:
        shutil.copytree(BRIEF_TIMING, folder, ignore=shutil.ignore_patterns(".tieout"))
        _run(folder, *DAYS)

    return built_once(tmp_path_factory, "days-in-order", build)


def _rows(table) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    return {r["id"]: tuple(r[c] for c in FINDING_COLUMNS) for r in table.to_pylist()}


def test_each_day_stores_what_changed_and_rebuilds_exactly(tmp_path: Path, in_order: Path) -> None:
    project = Path(shutil.copytree(in_order, tmp_path / "p"))
    p = load_project(project)
    listed = read_manifest(p)
    assert [d.day for d in listed] == DAYS
    previous: dict[str, tuple] = {}
    for stored in listed:
        # what `tieout run` reports for the day, evaluated afresh without the store
        expected = _rows(reconcile_day(p, stored.day)[0])
        assert _rows(findings_on(p, stored.day)) == expected
        changed = sum(1 for i in previous.keys() | expected.keys() if previous.get(i) != expected.get(i))
        assert stored.changes == changed, stored.day
        assert stored.findings == len(expected)
        previous = expected
    assert listed[0].changes == listed[0].findings  # the first day holds every finding
    assert sum(d.changes for d in listed) < sum(d.findings for d in listed)  # less than a full copy a day


def test_any_order_stores_the_same_files(tmp_path: Path, in_order: Path) -> None:
    shuffled = _project(tmp_path, "shuffled")
    days = DAYS.copy()
    random.Random(7).shuffle(days)
    _run(shuffled, *days)
    assert read_manifest(load_project(shuffled)) == read_manifest(load_project(in_order))
    # the files superseded by a day run in between are removed by the next run
    _run(shuffled, DAYS[0])
    p = load_project(shuffled)
    assert {f.name for f in days_dir(p).iterdir()} == named_files(p)


def test_rerunning_a_day_writes_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path, "p")
    _run(project, *DAYS[:4])
    folder = days_dir(load_project(project))
    before = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}
    _run(project, DAYS[2])
    assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == before


def test_the_next_day_is_stored_from_the_checkpoint_not_the_history(tmp_path: Path, in_order: Path) -> None:
    project = _project(tmp_path, "p")
    _run(project, *DAYS[:-1])
    p = load_project(project)
    checkpoint = read_checkpoint(p)
    assert checkpoint is not None and checkpoint.day == DAYS[-2]
    assert _rows(pq.read_table(days_dir(p) / checkpoint.file)) == _rows(findings_on(p, DAYS[-2]))
    # With every change file unreadable, the next day can only be stored from the checkpoint — and is stored
    # exactly as from the whole history.
    reference = in_order
    for stored in read_manifest(p):
        (days_dir(p) / stored.file).write_bytes(b"not parquet")
    _run(project, DAYS[-1])
    assert read_manifest(p)[-1] == read_manifest(load_project(reference))[-1]
    assert read_checkpoint(p) == read_checkpoint(load_project(reference))
