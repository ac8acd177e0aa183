"""A parallel run's workers come from a fork server that outlives the run (tieout.run._pool): each worker must
still see the environment and the folder of the run that started it, not those of the server's own start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tieout import db, run


def _worker_view(variable: str) -> tuple[str | None, str, int | None, str | None]:
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
