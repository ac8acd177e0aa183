"""The day manifest is parsed once per version in a process (tieout.store.manifest): a commit's new manifest is
read anew, a damaged one is still a damaged store, and a caller's list of days is its own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import run_days, write_day
from tieout.config import load_project
from tieout.errors import StoreError
from tieout.store import manifest, stored_days


def test_a_committed_day_is_read_in_the_same_process(project: Path) -> None:
    run_days(project, "2026-01-20")
    p = load_project(project)
    assert stored_days(p) == [date(2026, 1, 20)]
    write_day(project, "2026-01-21")
    run_days(project, "2026-01-21")  # in this process: the manifest replaced since it was parsed
    assert stored_days(p) == [date(2026, 1, 20), date(2026, 1, 21)]


def test_a_callers_days_are_its_own(project: Path) -> None:
    run_days(project, "2026-01-20")
    p = load_project(project)
    days = manifest.read_manifest(p)
    days.clear()
    assert [d.day for d in manifest.read_manifest(p)] == [date(2026, 1, 20)]


def test_a_manifest_damaged_after_it_was_parsed_is_a_damaged_store(project: Path) -> None:
    run_days(project, "2026-01-20")
    p = load_project(project)
    assert manifest.read(p).days
    path = manifest.days_dir(p) / manifest.MANIFEST
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(StoreError, match="not a tieout day manifest"):
        manifest.read(p)
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(StoreError, match="not a tieout day manifest"):
        manifest.read(p)
