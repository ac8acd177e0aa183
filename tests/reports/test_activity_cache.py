"""The month-end pack's cache of a stored day's active records (tieout.store.activity_cache): what a read takes
from it is what building the day again gives, after a re-run of the day, a day run out of order, an edited
configuration; a build that a run overtook, or a store that cannot be written, caches nothing."""

from __future__ import annotations

import sys
import types
from datetime import date
from pathlib import Path

import pytest

import tieout.reports.bridge as bridge
from tests.conftest import HEALTHY_DAY, new_project, run_days
from tieout import canonical
from tieout.active_customers import Activity, activity, ops_window_days
from tieout.config import Project, load_project
from tieout.reports.bridge import load_activity
from tieout.rules.registry import Rule, load_rules
from tieout.store import activity_cache, day_cache, open_day
from tieout.store.history_files import history_path, read_meta

D1, D2, D3 = "2026-01-20", "2026-01-21", "2026-01-22"
# A second customer: one CRM account, and (unless the day says otherwise) no invoice and no tenant.
TWO_ACCOUNTS = {
    "crm_accounts.csv": HEALTHY_DAY["crm_accounts.csv"]
    + "A2,Bolt Freight Ltd.,bolt.io,98-7654321,bo,2026-01-20T23:00:00Z\n",
    "crm_contracts.csv": HEALTHY_DAY["crm_contracts.csv"]
    + "K2,A2,active,2025-09-01,,60000.00,USD,20,2026-01-20T23:00:00Z\n",
}
CANCELLED = {**TWO_ACCOUNTS, "crm_contracts.csv": TWO_ACCOUNTS["crm_contracts.csv"].replace(
    "K2,A2,active", "K2,A2,cancelled")}


def _built(project: Project, day: date, window: int) -> Activity:
    """The day's active records built from the store, as every pack built them before the cache."""
    con = open_day(project, day)
    try:
        canonical.build(con, project, day)
        return activity(con, day, window)
    finally:
        con.close()


def _cached_files(project: Project) -> list[str]:
    folder = activity_cache.cache_dir(project)
    return sorted(p.name for p in folder.glob("*.parquet")) if folder.is_dir() else []


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("built the day again instead of reading the cache")

    monkeypatch.setattr(bridge, "open_day", refuse)


def _world(tmp_path: Path) -> Path:
    return new_project(tmp_path / "p", {D1: TWO_ACCOUNTS, D2: TWO_ACCOUNTS, D3: TWO_ACCOUNTS})


def _stored(folder: Path, *days: str) -> tuple[Project, dict[str, Rule]]:
    """`days` run in the order given; the project and its rules."""
    run_days(folder, *days)
    project = load_project(folder)
    return project, load_rules(project)


def test_a_day_is_built_once_then_read_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _world(tmp_path)
    project, rules = _stored(folder, D1, D2)
    day = date.fromisoformat(D2)
    first = load_activity(project, day, rules)
    assert first == _built(project, day, ops_window_days(rules))
    assert "ACME" in first.entities("crm") and len(first.records["crm"]) == 2  # A1 and A2
    assert [n.split(".")[0] for n in _cached_files(project)] == [D2]
    _no_build(monkeypatch)
    assert load_activity(project, day, rules) == first


def test_a_rerun_day_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _world(tmp_path)
    project, rules = _stored(folder, D1, D2)
    day = date.fromisoformat(D2)
    before = load_activity(project, day, rules)
    (old,) = _cached_files(project)
    for name, text in CANCELLED.items():  # A2's contract cancelled in the day's exports, and the day run again
        (folder / "exports" / D2 / name).write_text(text)
    run_days(folder, D2)
    after = load_activity(project, day, rules)
    assert after == _built(project, day, ops_window_days(rules)) and after != before
    assert len(after.records["crm"]) == len(before.records["crm"]) - 1
    assert _cached_files(project) != [old] and len(_cached_files(project)) == 1  # the old key's file is gone
    _no_build(monkeypatch)
    assert load_activity(project, day, rules) == after


def test_a_day_run_out_of_order_leaves_the_later_days_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _world(tmp_path)
    for name, text in CANCELLED.items():  # the middle day differs from the days around it
        (folder / "exports" / D2 / name).write_text(text)
    project, rules = _stored(folder, D1, D3)
    day = date.fromisoformat(D3)
    cached = load_activity(project, day, rules)
    base_before = read_meta(history_path(project, day))
    run_days(folder, D2)  # D3's history file is rebased onto D2 (its content stays)
    base_after = read_meta(history_path(project, day))
    assert base_before is not None and base_after is not None and base_after.base == date.fromisoformat(D2)
    assert base_before.base != base_after.base and base_before.tokens == base_after.tokens
    assert _built(project, day, ops_window_days(rules)) == cached
    _no_build(monkeypatch)
    assert load_activity(project, day, rules) == cached


def test_an_edited_ops_window_is_another_key(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    project, rules = _stored(folder, D1, D2, D3)
    day = date.fromisoformat(D3)
    wide = load_activity(project, day, rules)
    # tieout.yml edited: the ops-active window (the rule's, which the bridge follows) down to one day; the
    # usage export's latest active day is 2026-01-20, outside it on the 22nd
    (folder / "tieout.yml").write_text((folder / "tieout.yml").read_text()
                                       + "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params:\n      window_days: 1\n")
    project = load_project(folder)
    narrow_rules = load_rules(project)
    assert ops_window_days(narrow_rules) == 1
    narrow = load_activity(project, day, narrow_rules)
    assert narrow == _built(project, day, 1) and narrow.entities("ops") == set() and wide.entities("ops") == {"ACME"}


def test_a_build_a_run_overtook_or_an_unwritable_store_caches_nothing(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _world(tmp_path)
    project, rules = _stored(folder, D1, D2)
    day = date.fromisoformat(D2)
    keys = iter(["before", "after"])  # the day's content changed between the key and the build
    monkeypatch.setattr(activity_cache, "key", lambda *args: next(keys))
    assert load_activity(project, day, rules) == _built(project, day, ops_window_days(rules))
    assert _cached_files(project) == []
    monkeypatch.undo()

    def full(*args: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(day_cache.os, "replace", full)
    assert load_activity(project, day, rules) == _built(project, day, ops_window_days(rules))
    assert _cached_files(project) == [] and not list(activity_cache.cache_dir(project).iterdir())  # no temp file


def test_a_tieout_whose_code_changed_builds_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The records built by a tieout whose code differs — here, one more module of it — are never taken."""
    project, rules = _stored(_world(tmp_path), D1, D2)
    day = date.fromisoformat(D2)
    window = ops_window_days(rules)
    before = activity_cache.key(project, day, window)
    assert before is not None and before == activity_cache.key(project, day, window)
    source = tmp_path / "rule_of_active.py"
    source.write_text("ACTIVE = 'contracts'\n")
    monkeypatch.setitem(sys.modules, "rule_of_active", types.SimpleNamespace(__file__=str(source)))
    monkeypatch.setattr(activity_cache, "CODE", (*activity_cache.CODE, "rule_of_active"))
    day_cache.code_digest.cache_clear()
    try:
        changed = activity_cache.key(project, day, window)
        assert changed != before
        source.write_text("ACTIVE = 'invoices'\n")
        day_cache.code_digest.cache_clear()
        assert activity_cache.key(project, day, window) not in (before, changed)
    finally:
        day_cache.code_digest.cache_clear()
