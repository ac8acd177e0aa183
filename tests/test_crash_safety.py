"""A run killed at any moment (SIGKILL) leaves the store consistent, and a re-run gives the clean result:
timed kills of a long backfill of the brief's example (every write boundary of a tiny project:
tests/security/test_kill_points.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BRIEF_TIMING, invoke
from tests.store_checks import assert_consistent, queue
from tieout.config import load_project
from tieout.store.manifest import days_dir, named_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)"),
]

BACKFILL = ["backfill", "--from", "2026-01-01", "--to", "2026-02-05"]
# Seconds after start: during start-up, early days, the middle and the last days of the backfill.
KILL_AFTER = (0.3, 0.9, 1.6, 2.4, 3.3, 4.5, 6.0, 8.0)


def test_sigkill_at_many_points(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(BRIEF_TIMING, clean)
    assert invoke(*BACKFILL, "-p", str(clean)).exit_code == 0
    expected = queue(clean)

    project = tmp_path / "killed"
    shutil.copytree(BRIEF_TIMING, project)
    for delay in KILL_AFTER:
        proc = subprocess.Popen([sys.executable, "-m", "tieout", *BACKFILL, "-p", str(project), "--jobs", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert_consistent(project)

    assert invoke(*BACKFILL, "-p", str(project)).exit_code == 0
    assert queue(project) == expected
    # leftovers swept by the next run: only the files the manifest names remain
    p = load_project(project)
    assert {f.name for f in days_dir(p).iterdir()} == named_files(p)
