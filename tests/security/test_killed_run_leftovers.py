"""A run killed while it writes a day's fingerprint (`runs/.DATE.json.PID.tmp`) or moves the store's schema
version (`.store.json.tmp`), a command killed while it fills a cache (`cache/`), or a parallel backfill killed with
days staged (`spill/stage-*/`), leaves files that no later run would ever replace: the next run removes them
(found by the kill battery, tests/security/test_kill_points.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import invoke, new_project, run_days, write_day
from tests.test_source_history import RENAMED_PLUS_ONE


def test_the_next_run_removes_what_a_killed_run_left_half_written(project: Path) -> None:
    run_days(project, "2026-01-20")
    store = project / ".tieout"
    # what SIGKILL leaves just before the os.replace of each (the pid is the dead run's)
    leftovers = [store / "runs" / ".2026-01-21.json.4242.tmp", store / ".store.json.tmp",
                 store / "cache" / ".entity_map.0a1b.parquet.4242.tmp",
                 store / "cache" / "activity" / ".2026-01-20.0a1b.parquet.4242.tmp",
                 store / "spill" / "stage-0a1b" / "2026-01-21.billing_customers.parquet"]  # a parallel backfill's
    for leftover in leftovers:
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_text('{"half": ')
    write_day(project, "2026-01-21")
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-21").exit_code == 0
    assert [p for p in leftovers if p.exists()] == []
    assert sorted(p.name for p in (store / "runs").iterdir()) == ["2026-01-20.json", "2026-01-21.json"]


def test_a_refused_run_touches_nothing(project: Path) -> None:
    """The sweep runs under the run lock only: a second run refused with exit 6 removes nothing."""
    import fcntl
    import os

    run_days(project, "2026-01-20")
    leftover = project / ".tieout" / "runs" / ".2026-01-20.json.4242.tmp"
    leftover.write_text("{}")
    fd = os.open(project, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds the lock
        result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    finally:
        os.close(fd)
    assert result.exit_code == 6
    assert leftover.exists()


def test_state_files_a_killed_run_replaced_are_removed_by_a_run_that_keeps_the_state(tmp_path: Path) -> None:
    """Killed between replacing the source history's `state.json` and removing the state files it no longer
    names: re-running the same day leaves the state as it is, and used never to remove them."""
    project = new_project(tmp_path / "p", {"2026-01-20": {}, "2026-01-21": RENAMED_PLUS_ONE})
    run_days(project, "2026-01-20", "2026-01-21")  # the 21st's state is in files of its own
    state = project / ".tieout" / "history" / "state"
    replaced = state / "billing_customers.1-00000000000000aa.parquet"
    shutil.copy(next(state.glob("billing_customers.*.parquet")), replaced)
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-21").exit_code == 0
    assert not replaced.exists()
    assert {p.name for p in state.glob("*.parquet")} == _named(state)
    assert invoke("show", "-p", str(project), "ACME").exit_code == 0  # what it still names is all there


def _named(state: Path) -> set[str]:
    tables = json.loads((state / "state.json").read_text())["tables"]
    return {name for parts in tables.values() for _, name in parts.values() if not name.startswith("history:")}
