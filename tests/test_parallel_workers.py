"""A parallel run's workers come from a fork server that outlives the run (tieout.run._pool): each worker must
still see the environment and the folder of the run that started it, not those of the server's own start, and
their CPU time must still count as the command's own children's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tieout import db, run


def _worker_view(variable: str) -> tuple[str | None, str, int | None, str]:
    return os.getenv(variable), os.getcwd(), db._threads, str(db._spill)


def test_workers_see_the_environment_and_folder_of_the_run_that_started_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with run._pool(1, tmp_path) as pool:  # the fork server is running from here on (if it was not already)
        assert pool.submit(_worker_view, "TIEOUT_TEST_LATER").result()[0] is None
    later = tmp_path / "later"
    later.mkdir()
    monkeypatch.setenv("TIEOUT_TEST_LATER", "set after the server started")
    monkeypatch.chdir(later)
    with run._pool(2, tmp_path) as pool:
        variable, cwd, threads, spill = pool.submit(_worker_view, "TIEOUT_TEST_LATER").result()
    assert variable == "set after the server started"
    assert cwd == str(later)
    assert threads == max(1, (os.cpu_count() or 1) // 2)  # its share of the cores
    assert Path(spill).parent == tmp_path  # its own spill folder inside the run's


_BACKFILL_THEN_EXIT = r"""
import atexit, json, resource, sys
from click.testing import CliRunner
from tieout.cli import cli

def children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime

if __name__ == "__main__":
    result = CliRunner().invoke(cli, ["backfill", "-p", sys.argv[1], "--from", "2026-01-20", "--to", "2026-01-22",
                                      "--jobs", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    before = children()
    atexit._run_exitfuncs()  # what the interpreter runs on its way out
    print(json.dumps([before, children()]))
"""


def test_the_workers_cpu_time_counts_as_the_commands_own_children(tmp_path: Path) -> None:
    """`time tieout backfill` and the benchmarks (getrusage) see every worker's CPU, as with spawned workers: the
    fork server, which waited for them, is waited for on the way out."""
    import json
    import subprocess
    import sys

    from tests.conftest import new_project
    from tests.test_source_history import WORLD

    project = new_project(tmp_path / "project", WORLD)
    out = subprocess.run([sys.executable, "-c", _BACKFILL_THEN_EXIT, str(project)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before < 0.1  # the workers are the fork server's children, not this process's
    assert after - before > 0.3  # three days' work and the server's imports, counted once it is waited for
