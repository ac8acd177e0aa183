"""The episodes' signatures kept per first day (tieout.patterns.signature_cache): what `patterns` takes from the
cache is what reading the stored history again gives, after a re-run of a day, a day run out of order between
an episode's first day and the day before, an edited configuration; a read whose days a run changed meanwhile,
or a store that cannot be written, keeps nothing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import tieout.patterns.signature as signature
from tests.conftest import built_once, run_days, write_day
from tests.test_patterns import COMPANIES, DAYS, FRIDAYS, MONDAYS, _day_files, reconciled
from tieout.config import load_project
from tieout.patterns import patterns, report_record
from tieout.patterns.signature_cache import cache_dir
from tieout.rules.registry import load_rules
from tieout.store import day_cache

# C2's CRM owner changes on the Monday before the Friday billing renames it by hand (its episode's first day).
OWNER_DAY, RENAME_DAY = MONDAYS[1], FRIDAYS[1]


def _files(day: date) -> dict[str, str]:
    files = _day_files(day)
    if day >= OWNER_DAY:
        files["crm_accounts.csv"] = files["crm_accounts.csv"].replace("c2.example,02-1000002,ana,",
                                                                      "c2.example,02-1000002,bo,")
    return files


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """A copy of the eight days reconciled (built once per test run): each test writes to its own."""
    built = built_once(tmp_path_factory, "signature-cache-world",
                       lambda folder: reconciled(folder, DAYS, _files, COMPANIES))
    return Path(shutil.copytree(built, tmp_path / "p"))


def _report(folder: Path, **kwargs: Any) -> dict[str, Any]:
    project = load_project(folder)
    return report_record(patterns(project, load_rules(project), **kwargs))


def _derived(folder: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> dict[str, Any]:
    """The report with every signature read from the stored history, as before the cache (nothing kept)."""
    with monkeypatch.context() as m:
        m.setattr(signature.signature_cache, "key", lambda *args: None)
        return _report(folder, **kwargs)


def _kept(folder: Path) -> list[str]:
    found = cache_dir(load_project(folder))
    return sorted(p.name for p in found.iterdir()) if found.is_dir() else []


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("read the stored history instead of the cache")

    monkeypatch.setattr(signature, "_read", refuse)


def _c2_changes(report: dict[str, Any]) -> set[tuple[str, str]]:
    """The changes of the pattern whose examples include C2's rename."""
    return {(c["table"], c["field"]) for p in report["patterns"]
            if any(e["canonical_id"] == "C2" and e["first_seen"] == RENAME_DAY for e in p["examples"])
            for c in p["changes"]}


def test_signatures_are_read_once_then_taken_from_the_cache(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    derived = _derived(folder, monkeypatch)
    assert _kept(folder) == []
    first = _report(folder)
    assert first == derived and len(first["patterns"]) >= 4
    assert _c2_changes(first) == {("billing_customers", "name")}  # compared with the Monday: the owner was before
    kept = _kept(folder)
    assert kept and all(name.endswith(".json") for name in kept)
    earlier = _derived(folder, monkeypatch, as_of=FRIDAYS[2])
    _no_reading(monkeypatch)
    assert _report(folder) == first
    assert _report(folder, as_of=FRIDAYS[2]) == earlier


def test_a_subject_read_later_is_added_to_its_days_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only = _report(folder, rule_names=("DUPLICATE_SOURCE_RECORD",))
    assert only["patterns"] and _kept(folder)
    whole = _report(folder)
    assert whole == _derived(folder, monkeypatch)
    _no_reading(monkeypatch)
    assert _report(folder) == whole and _report(folder, rule_names=("DUPLICATE_SOURCE_RECORD",)) == only


def test_a_rerun_day_is_read_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _report(folder)
    kept = _kept(folder)
    # The rename day exported again with C2's name right, and another company's owner changed: re-run.
    files = _files(RENAME_DAY)
    files["billing_customers.csv"] = files["billing_customers.csv"].replace("C2 Widgetz Inc.", "C2 Widgets Inc.")
    files["crm_accounts.csv"] = files["crm_accounts.csv"].replace("c3.example,03-1000003,ana,",
                                                                  "c3.example,03-1000003,bo,")
    write_day(folder, RENAME_DAY.isoformat(), files)
    run_days(folder, RENAME_DAY.isoformat())
    after = _report(folder)
    assert after == _derived(folder, monkeypatch) and after != before
    assert _c2_changes(after) == set()  # no rename that day any more
    assert _kept(folder) != kept and len(_kept(folder)) == len(kept)  # the day's file of the old key is gone


def test_a_day_run_out_of_order_before_a_first_day_is_read_again(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """C2's rename compared first with the Friday before (the owner change of the Monday between among its
    changes), then, once that Monday is run, with the Monday: the same first day, another day before it."""
    folder = reconciled(tmp_path / "p", [d for d in DAYS if d != OWNER_DAY], _files, COMPANIES)
    before = _report(folder)
    assert before == _derived(folder, monkeypatch)
    assert _c2_changes(before) == {("billing_customers", "name"), ("crm_accounts", "owner")}
    write_day(folder, OWNER_DAY.isoformat(), _files(OWNER_DAY))  # type: ignore[arg-type]
    run_days(folder, OWNER_DAY.isoformat())
    after = _report(folder)
    assert after == _derived(folder, monkeypatch)
    assert _c2_changes(after) == {("billing_customers", "name")}


def test_an_edited_configuration_reads_what_the_history_gives(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _report(folder)
    # tieout.yml edited (a rule's window): the stored history, and so every signature, stays as it was
    (folder / "tieout.yml").write_text((folder / "tieout.yml").read_text()
                                       + "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params:\n      window_days: 1\n")
    assert _report(folder) == _derived(folder, monkeypatch)


def test_a_read_a_run_overtook_or_an_unwritable_store_keeps_nothing(folder: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    derived = _derived(folder, monkeypatch)
    keys = iter(f"key-{n}" for n in range(10_000))  # every day's content changes between its key and the read
    with monkeypatch.context() as m:
        m.setattr(signature.signature_cache, "key", lambda *args: next(keys))
        assert _report(folder) == derived
    assert _kept(folder) == []

    def full(*args: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(day_cache.os, "replace", full)
    assert _report(folder) == derived
    assert _kept(folder) == []  # no temporary file either
