"""Reads keep working while a run writes: the app takes no lock and holds no database open, and it sees the
new day as soon as the run commits it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tieout.config import load_project
from tieout.web.app import create_app


def test_pages_and_api_answer_while_a_run_writes(world: Path, tmp_path: Path) -> None:
    project = tmp_path / "world"
    shutil.copytree(world, project)
    with TestClient(create_app(load_project(project), auth=False)) as client:
        before = client.get("/api/timeline").json()
        assert "2026-02-28" not in {d["date"] for d in before}
        # A date between two stored days: the run also rewrites the next day's changes in the same commit.
        tieout = Path(sys.executable).parent / "tieout"
        run = subprocess.Popen([str(tieout), "run", "-p", str(project), "--as-of", "2026-02-28"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        answered = 0
        while run.poll() is None:
            for path in ("/api/exceptions?status=all", "/api/timeline", "/"):
                response = client.get(path)
                assert response.status_code == 200, (path, response.text)
                answered += 1
        output = run.stdout.read() if run.stdout else ""
        assert run.returncode == 0, output
        assert answered > 0
        after = client.get("/api/timeline").json()
        assert [d["date"] for d in after] == sorted([d["date"] for d in before] + ["2026-02-28"])
