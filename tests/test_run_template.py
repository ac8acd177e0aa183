"""`run_days`'s templates (tests/run_template.py): a store copied from a template is the store a fresh run of the
same days leaves, file for file and as every reader shows it, and the key changes with anything the run reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import run_template
from tests.conftest import invoke, new_project, run_days
from tests.store_checks import seen, store_content
from tests.test_source_history import WORLD

DAYS = ("2026-01-20", "2026-01-22", "2026-01-21")  # out of order: a re-based history is in the template too


def _world(folder: Path, yml: str = "") -> Path:
    return new_project(folder, {day: WORLD[day] for day in DAYS}, yml)


def _store(project: Path) -> dict[str, object]:
    """`store_content`, JSON files parsed: the order of history/metas.json's entries is not fixed between runs."""
    content = store_content(project)
    for name in content:
        if name.endswith(".json"):
            content[name] = json.loads((project / ".tieout" / name).read_text(encoding="utf-8"))
    return content


def test_a_store_copied_from_a_template_is_a_fresh_runs_store(tmp_path: Path) -> None:
    run_days(_world(tmp_path / "first"), *DAYS)  # runs, or copies what an earlier test of this worker ran
    copied = _world(tmp_path / "copied")
    template = run_template.key(copied, DAYS)
    assert template is not None and template in run_template._kept
    run_days(copied, *DAYS)

    fresh = _world(tmp_path / "fresh")  # elsewhere, and really run: the store holds no path of its own
    for day in DAYS:
        assert invoke("run", "-p", str(fresh), "--as-of", day).exit_code == 0

    assert _store(copied) == _store(fresh)
    assert sorted(p.relative_to(copied) for p in copied.rglob("*")) == sorted(
        p.relative_to(fresh) for p in fresh.rglob("*"))
    assert seen(copied) == seen(fresh)  # the queue, the timeline and the manifest
    # and the next day runs on the copy as on the fresh store
    for project in (copied, fresh):
        new_project(project, {"2026-01-23": WORLD["2026-01-23"]})
        assert invoke("run", "-p", str(project), "--as-of", "2026-01-23").exit_code == 0
    assert _store(copied) == _store(fresh)


def test_the_key_follows_what_the_run_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = run_template.key(_world(tmp_path / "a"), DAYS)
    assert base is not None and base == run_template.key(_world(tmp_path / "b"), DAYS)  # not the folder's path
    assert run_template.key(_world(tmp_path / "c"), DAYS[::-1]) != base  # the order of the days
    edited = _world(tmp_path / "d")
    (edited / "exports" / "2026-01-22" / "ops_usage.csv").write_text("tenant_id,date,active_users,fte_count\n")
    assert run_template.key(edited, DAYS) != base  # an export's bytes
    assert run_template.key(_world(tmp_path / "e", "timezone: Europe/Berlin\n"), DAYS) != base  # the config
    monkeypatch.setenv("TIEOUT_THREADS", "1")
    assert run_template.key(_world(tmp_path / "f"), DAYS) != base  # tieout's environment


@pytest.mark.parametrize("why", ["a store", "notifications", "state_url", "another store", "exports outside",
                                 "state env", "turned off"])
def test_a_run_that_may_reach_outside_the_project_has_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 why: str) -> None:
    yml = {"notifications": "notifications:\n  channels:\n    ar: [\"json://127.0.0.1:9/hook\"]\n",
           "state_url": "state_url: sqlite:////tmp/elsewhere.db\n", "another store": "store: ../shared-store\n"}
    project = _world(tmp_path / "p", yml.get(why, ""))
    if why == "a store":
        (project / ".tieout").mkdir()
    if why == "exports outside":
        text = (project / "tieout.yml").read_text().replace("exports: exports/{date}", "exports: ../x/{date}")
        (project / "tieout.yml").write_text(text)
    if why == "state env":
        monkeypatch.setenv("TIEOUT_STATE_URL", "postgresql://nobody@/x")
    if why == "turned off":
        monkeypatch.setenv("TIEOUT_TEST_TEMPLATES", "0")
    assert run_template.key(project, DAYS) is None
