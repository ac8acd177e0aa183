"""Source history: each record's versions stored as changes only, the same whatever order days are run in,
repaired after a crash, and read by `tieout show` and `tieout history`."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import (
    BRIEF_FIRST,
    BRIEF_LAST,
    BRIEF_TIMING,
    HEALTHY_DAY,
    brief_backfilled,
    built_once,
    invoke,
    new_project,
    run_days,
    write_day,
)
from tieout.config import load_project
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.store import SCHEMA_VERSION, history_files, history_reads, source_history, stored_days
from tieout.store.days import commit_day, findings_on
from tieout.store.manifest import days_dir

H = HEALTHY_DAY
RENAMED = {"billing_customers.csv": H["billing_customers.csv"].replace(
    "cus_1,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z",
    "cus_1,Acme Analytix Inc.,ap@acme.com,12-3456789,2026-01-21T09:30:00Z")}
# The rename and, beside it, a customer no key ties to anything.
RENAMED_PLUS_ONE = {"billing_customers.csv": RENAMED["billing_customers.csv"]
                    + "cus_x,Zeta Widgets GmbH,rechnung@zeta.example,,2026-01-21T08:00:00Z\n"}
CANCELLED = {"crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")}
TOUCHED = {"crm_accounts.csv": H["crm_accounts.csv"].replace("2026-01-20T23:00:00Z", "2026-01-22T07:00:00Z")}
WORLD = {
    "2026-01-20": {},
    "2026-01-21": RENAMED_PLUS_ONE,
    "2026-01-22": {**RENAMED_PLUS_ONE, **CANCELLED, **TOUCHED},
    "2026-01-23": CANCELLED,  # the rename is undone, cus_x is gone
    "2026-01-24": CANCELLED,  # nothing changes
    "2026-01-25": {},
}


def _new_project(root: Path, days: dict[str, dict[str, str]] = WORLD) -> Path:
    return new_project(root, days)


_run = run_days


@pytest.fixture(scope="module")
def stored_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WORLD's days run in order, once per test run and shared by the workers: tests read it, or `_copy` it to
    write (a read command may keep caches in the store)."""
    return built_once(tmp_path_factory, "source-history-world", lambda folder: _run(_new_project(folder), *WORLD))


def _copy(world: Path, target: Path) -> Path:
    return Path(shutil.copytree(world, target))


def _history(project: Path, day: str) -> list[dict]:
    """The day's history rows, in either layout (a baseline's rows are in its tables' files)."""
    path = project / ".tieout" / "history" / f"{day}.parquet"
    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM {history_files.scan([path])} ORDER BY \"table\", key")
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _everything(project: Path) -> tuple[list[str], dict[str, dict[bytes, bytes]]]:
    """All history rows of every day's file (sorted, each row by column name: the layouts' columns come in
    other orders) and every day's file's base, tokens and tables' files."""
    folder = project / ".tieout" / "history"
    days = sorted(folder.glob("????-??-??.parquet"))
    cur = duckdb.connect().execute(f"SELECT * FROM {history_files.scan(days)}")
    names = [c[0] for c in cur.description]
    rows = [repr(sorted(zip(names, r, strict=True))) for r in cur.fetchall()]
    meta = {p.name: {k: v for k, v in (pq.read_schema(p).metadata or {}).items() if k.startswith(b"tieout")}
            for p in days}
    return sorted(rows), meta


def _unstore(project: Path, day: date) -> None:
    """The findings store as if `day` had never been committed (its source history stays)."""
    p = load_project(project)
    kept = {d: findings_on(p, d) for d in stored_days(p) if d != day}
    shutil.rmtree(days_dir(p))
    for d, findings in kept.items():
        commit_day(p, d, findings)


def test_an_edit_is_stored_once_on_its_day_with_old_and_new(stored_world: Path) -> None:
    project = stored_world
    edits = [(r["day"], r["change"], r["fields"], r["billing_customers__old"]["name"], r["billing_customers"]["name"])
             for d in WORLD for r in _history(project, d)
             if r["table"] == "billing_customers" and r["key"] == ["cus_1"] and r["change"] != "added"]
    assert edits == [
        (date(2026, 1, 21), "changed", ["name", "updated_at"], "Acme Analytics Inc.", "Acme Analytix Inc."),
        (date(2026, 1, 23), "changed", ["name", "updated_at"], "Acme Analytix Inc.", "Acme Analytics Inc."),
    ]
    # A moved updated_at alone is stored (it is data), as a change of that field only.
    assert [(r["table"], r["fields"]) for r in _history(project, "2026-01-22") if r["table"] == "crm_accounts"] == [
        ("crm_accounts", ["updated_at"])]


def test_an_unchanged_day_adds_nothing(stored_world: Path) -> None:
    project = stored_world
    assert _history(project, "2026-01-24") == []
    assert pq.read_metadata(project / ".tieout" / "history" / "2026-01-24.parquet").num_rows == 0
    baseline = _history(project, "2026-01-20")
    assert {r["change"] for r in baseline} == {"added"} and len(baseline) == 10  # 6 export rows + 3 records + 1


def test_a_record_added_then_removed(stored_world: Path) -> None:
    project = stored_world
    seen = [(r["day"], r["table"], r["change"]) for d in WORLD for r in _history(project, d)
            if r["key"] in (["cus_x"], ["billing", "cus_x"])]
    assert seen == [
        (date(2026, 1, 21), "billing_customers", "added"), (date(2026, 1, 21), "source_records", "added"),
        (date(2026, 1, 23), "billing_customers", "removed"), (date(2026, 1, 23), "source_records", "removed"),
    ]
    removed = [r for r in _history(project, "2026-01-23") if r["key"] == ["cus_x"]][0]
    assert removed["billing_customers"] is None and removed["billing_customers__old"]["name"] == "Zeta Widgets GmbH"


def test_in_order_shuffled_and_rerun_store_the_same_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            stored_world: Path) -> None:
    expected = _everything(stored_world)

    shuffled = _new_project(tmp_path / "shuffled")
    days = list(WORLD)
    random.Random(7).shuffle(days)
    _run(shuffled, *days, *days[:3])
    assert _everything(shuffled) == expected

    later_first = _new_project(tmp_path / "later-first")
    _run(later_first, "2026-01-23", "2026-01-24", "2026-01-25", "2026-01-20", "2026-01-21", "2026-01-22")
    assert _everything(later_first) == expected

    parallel = _new_project(tmp_path / "parallel")  # workers stage each day's rows; the parent records them
    staged_in: set[Path] = set()
    store_staged = source_history.staged

    def staged(folder: Path, *args: object) -> None:
        staged_in.add(folder)
        store_staged(folder, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(source_history, "staged", staged)
    result = invoke("backfill", "-p", str(parallel), "--from", "2026-01-20", "--to", "2026-01-25", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert _everything(parallel) == expected
    # staged in the store's spill folder, which the next run empties (a killed backfill leaves nothing in /tmp),
    # and gone with it once the backfill is done
    assert [folder.parent for folder in staged_in] == [parallel / ".tieout" / "spill"]
    assert not (parallel / ".tieout" / "spill").exists()


def test_rerunning_a_day_whose_export_changed_rebases_the_next_day(tmp_path: Path, stored_world: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    project = _copy(stored_world, tmp_path / "p")
    write_day(project, "2026-01-22", {**CANCELLED, **TOUCHED, **RENAMED})  # the 22nd's export is corrected
    kept: list[set[str]] = []
    keep = source_history._kept_rows
    monkeypatch.setattr(source_history, "_kept_rows", lambda *args: kept.append(set(got := keep(*args))) or got)
    _run(project, "2026-01-22")
    # The correction changed the 22nd's customers only (cus_x is gone). The 22nd's own diff keeps its rows of
    # the accounts and contracts (its edits of them are as they were) and the 23rd's its accounts' rows: only
    # the customers' (and how records resolved) are compared again, on either side.
    assert kept == [{"crm_contracts", "crm_accounts"}, {"crm_accounts"}]
    clean = _new_project(tmp_path / "clean", {**WORLD, "2026-01-22": {**CANCELLED, **TOUCHED, **RENAMED}})
    _run(clean, *WORLD)
    assert _everything(project) == _everything(clean)


@pytest.mark.parametrize("damage", ["delete", "wrong-base", "pending-left-over", "unstored-base"])
def test_a_stale_diff_is_repaired_by_the_next_run(tmp_path: Path, damage: str, stored_world: Path) -> None:
    clean = stored_world
    project = _copy(stored_world, tmp_path / "p")
    folder = project / ".tieout" / "history"
    target = folder / "2026-01-23.parquet"
    if damage == "delete":
        target.unlink()
    elif damage == "wrong-base":
        table = pq.read_table(target)
        kv = dict(table.schema.metadata or {})
        kv[b"tieout_base"] = b"2026-01-20"
        pq.write_table(table.replace_schema_metadata(kv), target)
    elif damage == "pending-left-over":
        # Killed after staging the next day's re-based diff, before the day's own diff moved in: dropped.
        shutil.copy(target, folder / ".2026-01-24.pending.parquet")
        (folder / ".2026-01-23.123.tmp").write_bytes(b"half a file")
    else:
        # Killed after 01-22's diff and the re-based 01-23 were written, before 01-22's findings: 01-23's base is
        # a day that is not stored.
        _unstore(project, date(2026, 1, 22))
        shutil.rmtree(project / "exports" / "2026-01-23")  # repaired from the history alone
        _run(project, "2026-01-25")
        assert not (folder / "2026-01-22.parquet").exists()
        assert pq.read_schema(target).metadata[b"tieout_base"] == b"2026-01-21"
        write_day(project, "2026-01-23", CANCELLED)
        _run(project, "2026-01-22")
        assert _everything(project) == _everything(clean)
        return
    _run(project, "2026-01-25")
    assert _everything(project) == _everything(clean)
    assert not list(folder.glob(".*"))


def test_a_store_from_before_history_is_migrated(tmp_path: Path, stored_world: Path) -> None:
    clean = stored_world
    project = _copy(stored_world, tmp_path / "p")
    shutil.rmtree(project / ".tieout" / "history")
    (project / ".tieout" / "store.json").write_text('{"schema_version": 1}\n')
    _run(project, "2026-01-25")
    assert json.loads((project / ".tieout" / "store.json").read_text()) == {"schema_version": SCHEMA_VERSION}
    assert _everything(project) == _everything(clean)


def _reads(project: Path) -> dict[str, object]:
    """What the read commands answer (JSON): the queue, the timeline, the patterns, every exception's `show`
    (its records and what changed on its first day, from the history) and every entity's `history`."""
    def out(*args: str) -> object:
        result = invoke(*args, "-p", str(project), "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    found = out("exceptions", "--status", "all")
    assert isinstance(found, list) and found
    got: dict[str, object] = {"exceptions": found, "timeline": out("timeline"), "patterns": out("patterns")}
    for e in found:
        got[f"show {e['id']}"] = out("show", e["id"])
    for ident in ("ACME", "billing:cus_x", "ops:t-1", "crm:A1"):
        result = invoke("history", ident, "-p", str(project), "--format", "json")
        got[f"history {ident}"] = (result.exit_code, result.stdout)
    return got


def test_a_baseline_holds_each_tables_rows_in_a_file_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 stored_world: Path) -> None:
    """The first day's history file holds no row: each table's rows are in a file of their own, with only the
    table's own columns; the same rows, and the same answers of every read command, as the one-file layout of
    schema 4 stores."""
    project = _copy(stored_world, tmp_path / "p")
    folder = project / ".tieout" / "history"
    baseline = folder / "2026-01-20.parquet"
    assert pq.read_metadata(baseline).num_rows == 0
    tables = json.loads(pq.read_schema(baseline).metadata[b"tieout_tables"])
    assert sorted(tables) == sorted(source_history.TABLES)
    common = ["day", "table", "key", "change", "fields", "h"]
    for table, name in tables.items():
        own = pq.read_table(folder / name)
        assert own.schema.names == [*common, table, f"{table}__old"]
        assert set(own.column("table").to_pylist()) <= {table} and own.num_rows > 0
    assert sorted(p.name for p in folder.glob(source_history.TABLE_FILES)) == sorted(tables.values())
    assert all(not pq.read_schema(f).metadata.get(b"tieout_tables") for f in sorted(folder.glob("????-??-??.parquet"))
               if f != baseline)  # the other days are diffs: one file each

    monkeypatch.setattr(source_history, "PER_TABLE_BASELINE", False)
    one_file = _new_project(tmp_path / "one-file")
    _run(one_file, *WORLD)
    old_baseline = one_file / ".tieout" / "history" / "2026-01-20.parquet"
    assert pq.read_metadata(old_baseline).num_rows == 10
    assert b"tieout_tables" not in pq.read_schema(old_baseline).metadata
    rows, meta = _everything(project)
    old_rows, old_meta = _everything(one_file)
    assert rows == old_rows
    assert meta["2026-01-20.parquet"].pop(b"tieout_tables") and meta == old_meta
    assert _reads(project) == _reads(one_file)


def test_a_store_of_the_one_file_layout_reads_and_runs_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         stored_world: Path) -> None:
    """A store written by schema 4 (every history file one file, its baseline too) is read as it is, moves to
    schema 5 without rewriting a file, and its next days, and a day run before its baseline, store what a
    store of the per-table layout stores."""
    days = list(WORLD)
    with monkeypatch.context() as m:  # the old writer
        m.setattr(source_history, "PER_TABLE_BASELINE", False)
        old = _new_project(tmp_path / "old")
        _run(old, *days[1:4])
    (old / ".tieout" / "store.json").write_text('{"schema_version": 4}\n')
    folder = old / ".tieout" / "history"
    written = {p.name: p.read_bytes() for p in folder.glob("*.parquet")}
    assert not list(folder.glob(source_history.TABLE_FILES))
    new = _new_project(tmp_path / "new")
    _run(new, *days[1:4])
    assert _reads(old) == _reads(new)
    assert json.loads((old / ".tieout" / "store.json").read_text()) == {"schema_version": SCHEMA_VERSION}
    assert {p.name: p.read_bytes() for p in folder.glob("*.parquet")} == written  # nothing rewritten

    _run(old, *days[4:])  # the next days: diffs on the old baseline
    _run(new, *days[4:])
    assert _everything(old)[0] == _everything(new)[0]
    assert _reads(old) == _reads(new)
    assert (folder / "2026-01-21.parquet").read_bytes() == written["2026-01-21.parquet"]

    _run(old, days[0])  # a day before the baseline: the new baseline, per table; the old one becomes a diff
    _run(new, days[0])
    assert json.loads(pq.read_schema(folder / "2026-01-20.parquet").metadata[b"tieout_tables"])
    assert _everything(old) == _everything(new) == _everything(stored_world)
    assert _reads(old) == _reads(new)


def test_a_baseline_rerun_with_one_table_corrected_writes_that_tables_file_only(tmp_path: Path,
                                                                                stored_world: Path) -> None:
    """The first stored day re-run on a corrected customers export: its other tables' files are the same files
    (their rows did not change), the customers' is new, and the store holds what running the corrected days in
    order stores."""
    project = _copy(stored_world, tmp_path / "p")
    folder = project / ".tieout" / "history"
    before = {p.name: p.stat().st_ino for p in folder.glob("2026-01-20.*.parquet")}
    write_day(project, "2026-01-20", RENAMED)
    _run(project, "2026-01-20")
    after = {p.name: p.stat().st_ino for p in folder.glob("2026-01-20.*.parquet")}
    named = json.loads(pq.read_schema(folder / "2026-01-20.parquet").metadata[b"tieout_tables"])
    renewed = {t for t, name in named.items() if before.get(name) != after[name]}
    assert renewed == {"billing_customers"}  # the rename resolves as before: source_records is the same
    clean = _new_project(tmp_path / "clean", {**WORLD, "2026-01-20": RENAMED})
    _run(clean, *WORLD)
    assert _everything(project) == _everything(clean)


def test_a_replaced_baselines_table_files_go_with_the_next_run(tmp_path: Path) -> None:
    """Running a day before the baseline makes that day the baseline: the old baseline's table files stay
    while a read that began before may still read them, and the next run removes them; a killed run's table
    files that no day's file names go the same way."""
    project = _new_project(tmp_path / "p")
    _run(project, "2026-01-22", "2026-01-23")
    folder = project / ".tieout" / "history"
    first = set(folder.glob(source_history.TABLE_FILES))
    assert {p.name[:10] for p in first} == {"2026-01-22"} and len(first) == len(source_history.TABLES)
    _run(project, "2026-01-21")
    second = set(folder.glob(source_history.TABLE_FILES)) - first
    assert {p.name[:10] for p in second} == {"2026-01-21"} and len(second) == len(source_history.TABLES)
    assert first <= set(folder.glob(source_history.TABLE_FILES))  # still there
    orphan = folder / source_history.table_file_name(date(2026, 1, 24), "crm_accounts", "1:00000000000000ff")
    shutil.copy(sorted(second)[0], orphan)
    _run(project, "2026-01-24")
    assert set(folder.glob(source_history.TABLE_FILES)) == second
    clean = _new_project(tmp_path / "clean")
    _run(clean, "2026-01-21", "2026-01-22", "2026-01-23", "2026-01-24")
    assert _everything(project) == _everything(clean)


def test_show_reads_what_changed_from_the_stored_history(tmp_path: Path, stored_world: Path) -> None:
    project = _copy(stored_world, tmp_path / "p")
    found = json.loads(invoke("exceptions", "-p", str(project), "--status", "all", "--rule",
                              "OWNED_FIELD_MISMATCH", "--format", "json").stdout)
    ident = found[0]["id"]
    for day in WORLD:  # the exports are gone: the history still tells
        shutil.rmtree(project / "exports" / day)
    result = invoke("show", ident, "-p", str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout, parse_float=Decimal)["first_day"]
    assert (first["day"], first["previous"], first["unavailable"]) == ("2026-01-21", "2026-01-20", None)
    assert first["changes"] == [
        {"system": "billing", "table": "billing_customers", "key": {"customer_id": "cus_1"}, "change": "changed",
         "fields": {"name": {"old": "Acme Analytics Inc.", "new": "Acme Analytix Inc."},
                    "updated_at": {"old": "2026-01-20T23:00:00", "new": "2026-01-21T09:30:00"}},
         "record": None},
    ]


def test_history_command_lists_each_records_versions(tmp_path: Path, stored_world: Path) -> None:
    project = _copy(stored_world, tmp_path / "p")
    result = invoke("history", "ACME", "-p", str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_float=Decimal)
    by_key = {(r["table"], tuple(r["key"].values())): [(v["day"], v["change"], sorted(v.get("fields", {})))
                                                       for v in r["versions"]] for r in data["records"]}
    assert by_key[("billing_customers", ("cus_1",))] == [
        ("2026-01-20", "added", []), ("2026-01-21", "changed", ["name", "updated_at"]),
        ("2026-01-23", "changed", ["name", "updated_at"])]
    assert by_key[("crm_contracts", ("K1",))] == [
        ("2026-01-20", "added", []), ("2026-01-22", "changed", ["status", ]), ("2026-01-25", "changed", ["status"])]
    assert ("billing_customers", ("cus_x",)) not in by_key  # never resolved to ACME
    text = invoke("history", "billing:cus_x", "-p", str(project)).stdout
    assert "2026-01-21  added" in text and "2026-01-23  removed" in text
    assert invoke("history", "NOBODY", "-p", str(project)).exit_code == 7


# --- growth on the brief's worked example -------------------------------------------------------------------

def _csv_rows(folder: Path) -> dict[tuple[str, tuple[str, ...]], dict[str, str]]:
    out = {}
    for spec in STANDARD_LAYOUT:
        with open(folder / spec.filename, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                kept = {c: row.get(c, "") for c in spec.column_names}
                out[(spec.table, tuple(kept[c] for c in spec.primary_key))] = kept
    return out


@pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)")
def test_growth_is_what_changed(tmp_path_factory: pytest.TempPathFactory) -> None:
    project = brief_backfilled(tmp_path_factory)
    first, last = date.fromisoformat(BRIEF_FIRST), date.fromisoformat(BRIEF_LAST)
    folder = project / ".tieout" / "history"
    previous = _csv_rows(project / "exports" / str(first))
    day = first + timedelta(days=1)
    while day <= last:
        now = _csv_rows(project / "exports" / str(day))
        # What actually changed: rows added, removed or differing in any cell (compared as text).
        changed = sum(1 for k in previous.keys() | now.keys() if previous.get(k) != now.get(k))
        stored = duckdb.sql(f"SELECT count(*) FILTER (WHERE \"table\" <> 'source_records'), "
                            f"count(*) FILTER (WHERE \"table\" = 'source_records') "
                            f"FROM {history_files.scan([folder / f'{day}.parquet'])}").fetchall()[0]
        assert stored[0] <= changed, day
        assert stored[1] <= changed, day  # a record's resolution changes only if a record did
        previous, day = now, day + timedelta(days=1)
    # The baseline is the one full copy: every export row and how every record resolved.
    rows = _csv_rows(project / "exports" / str(first))
    records = sum(1 for table, _ in rows if table in ("crm_accounts", "billing_customers", "ops_tenants"))
    assert sum(pq.read_metadata(f).num_rows for f in history_files.table_files([folder / f"{first}.parquet"])) \
        == len(rows) + records


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_history_that_the_next_run_completes(tmp_path: Path, stored_world: Path) -> None:
    clean = stored_world
    project = _new_project(tmp_path / "killed")
    # Newest days first, then the older ones: every kill lands in an out-of-order run (a re-based next day).
    days = ["2026-01-23", "2026-01-24", "2026-01-25", "2026-01-20", "2026-01-22", "2026-01-21"]
    script = ("import sys\nfrom tieout.cli import main\nfor d in sys.argv[2:]:\n"
              "    sys.argv = ['tieout', 'run', '-p', sys.argv[1], '--as-of', d]\n"
              "    try:\n        main()\n    except SystemExit:\n        pass\n")
    for delay in (0.7, 1.1, 1.5, 1.9, 2.4, 3.0, 3.6):
        proc = subprocess.Popen([sys.executable, "-c", script, str(project), *days],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stored in (project / ".tieout" / "history").glob("*.parquet"):
            pq.read_metadata(stored)  # whole and readable: never half a file
    _run(project, *days)
    assert _everything(project) == _everything(clean)
    assert not list((project / ".tieout" / "history").glob(".*"))


# --- the usage window moves ---------------------------------------------------------------------------------

def _usage(*rows: str) -> dict[str, str]:
    return {"ops_usage.csv": "tenant_id,date,active_users,fte_count\n" + "".join(f"t-1,{r},50\n" for r in rows)}


# The trailing window moves; on the 22nd a row inside the window is edited and one goes missing; on the 23rd
# the window reaches back again (two rows return); the 25th changes nothing.
MOVING = {
    "2026-01-20": _usage("2026-01-18,40", "2026-01-19,41", "2026-01-20,42"),
    "2026-01-21": _usage("2026-01-19,41", "2026-01-20,42", "2026-01-21,43"),
    "2026-01-22": _usage("2026-01-20,50", "2026-01-22,44"),
    "2026-01-23": _usage("2026-01-19,41", "2026-01-20,50", "2026-01-21,43", "2026-01-22,44", "2026-01-23,45"),
    "2026-01-24": _usage("2026-01-22,44", "2026-01-23,45", "2026-01-24,46"),
    "2026-01-25": _usage("2026-01-22,44", "2026-01-23,45", "2026-01-24,46"),
}


def test_usage_rows_that_leave_the_window_are_not_stored_as_removals(tmp_path: Path) -> None:
    from tieout.config import load_project

    project = _new_project(tmp_path / "p", MOVING)
    _run(project, *MOVING)
    stored = [(str(r["day"]), r["change"], str((r["ops_usage"] or r["ops_usage__old"])["date"]), r["fields"])
              for d in MOVING for r in _history(project, d) if r["table"] == "ops_usage"]
    assert sorted(stored) == sorted([
        *[("2026-01-20", "added", f"2026-01-{d}", None) for d in (18, 19, 20)],
        ("2026-01-21", "added", "2026-01-21", None),
        ("2026-01-22", "changed", "2026-01-20", ["active_users"]),
        ("2026-01-22", "removed", "2026-01-21", None),  # inside the window: a real removal
        ("2026-01-22", "added", "2026-01-22", None),
        *[("2026-01-23", "added", f"2026-01-{d}", None) for d in (19, 21, 23)],
        ("2026-01-24", "added", "2026-01-24", None),
    ])
    assert pq.read_schema(project / ".tieout" / "history" / "2026-01-24.parquet").metadata[b"tieout_window"] == \
        b'{"ops_usage": "2026-01-22"}'
    # Replaying the history gives each day's usage export exactly: rows that left a window stay gone.
    con = duckdb.connect()
    loaded = load_project(project)
    for day, files in MOVING.items():
        got = history_reads.state_rows(con, loaded, date.fromisoformat(day), "ops_usage", "true")
        assert got is not None
        assert sorted(f"{r['date']},{r['active_users']}" for r in got) == sorted(
            line.split(",", 1)[1].rsplit(",", 1)[0] for line in files["ops_usage.csv"].splitlines()[1:]), day


def test_a_moving_window_stores_the_same_history_in_any_order(tmp_path: Path) -> None:
    in_order = _new_project(tmp_path / "in-order", MOVING)
    _run(in_order, *MOVING)
    expected = _everything(in_order)
    shuffled = _new_project(tmp_path / "shuffled", MOVING)
    days = list(MOVING)
    random.Random(3).shuffle(days)
    _run(shuffled, *days, *days[:2])
    assert _everything(shuffled) == expected
    backwards = _new_project(tmp_path / "backwards", MOVING)
    _run(backwards, *reversed(MOVING))
    assert _everything(backwards) == expected


def test_footers_read_together_are_those_read_one_by_one(tmp_path: Path, stored_world: Path) -> None:
    """`read_metas` reads every footer it has not cached in one query: the same metas as one file at a time,
    and a file that is not a history file (or is gone) is None without hiding the others'."""

    project = _copy(stored_world, tmp_path / "p")
    folder = project / ".tieout" / "history"
    files = sorted(folder.glob("????-??-??.parquet"))
    alone = {}
    for p in files:
        history_files._META_CACHE.clear()
        alone[p] = history_files.read_meta(p)
    assert all(m is not None for m in alone.values()) and len({m.base for m in alone.values()}) == len(files)
    stranger = folder / "2026-02-01.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{stranger}' (FORMAT parquet)")
    gone = folder / "2026-02-02.parquet"
    history_files._META_CACHE.clear()
    together = history_files.read_metas([*files, stranger, gone])
    assert together == {**alone, stranger: None, gone: None}
    stranger.write_text("not parquet")  # a file DuckDB cannot read at all: the others are still read
    history_files._META_CACHE.clear()
    assert history_files.read_metas([*files, stranger]) == {**alone, stranger: None}


def test_the_footer_index_answers_as_the_footers_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   stored_world: Path) -> None:
    """A run indexes its history files' footers (history/metas.json); a read takes an entry only while its file
    is unchanged since, and reads the footer of any other file — a damaged index is no index."""
    from tieout.store import meta_index

    project = _copy(stored_world, tmp_path / "p")
    folder = project / ".tieout" / "history"
    files = sorted(folder.glob("????-??-??.parquet"))
    assert (folder / meta_index.INDEX).is_file()
    (folder / meta_index.INDEX).rename(tmp_path / "index")
    meta_index._loaded.clear()
    history_files._META_CACHE.clear()
    from_footers = history_files.read_metas(files)
    assert all(m is not None for m in from_footers.values())
    (tmp_path / "index").rename(folder / meta_index.INDEX)

    read: list[Path] = []
    real = history_files._read_footers
    monkeypatch.setattr(history_files, "_read_footers", lambda paths: read.extend(paths) or real(paths))
    meta_index._loaded.clear()
    history_files._META_CACHE.clear()
    assert history_files.read_metas(files) == from_footers
    assert read == []  # every meta from the index

    # A file replaced since (here by another day's content): its own footer is read, not the stale entry.
    shutil.copy(files[1], files[2])
    meta_index._loaded.clear()
    history_files._META_CACHE.clear()
    got = history_files.read_metas(files)
    assert read == [files[2]]
    assert got[files[2]] is not None and got[files[2]].tokens == from_footers[files[1]].tokens
    assert {p: m for p, m in got.items() if p != files[2]} == {p: m for p, m in from_footers.items() if p != files[2]}

    (folder / meta_index.INDEX).write_text('{"version": 1, "files": {"x": 3}}')  # damaged
    meta_index._loaded.clear()
    history_files._META_CACHE.clear()
    read.clear()
    assert history_files.read_metas(files) == got
    assert read == files


def test_a_usage_row_gone_inside_the_window_is_a_removal_whatever_the_tenants_other_rows(tmp_path: Path) -> None:
    """What changed on a day (`tieout show`) lists a usage row that went missing inside the day's window as
    removed — also when it was its tenant's earliest row: the window is the export's (recorded in the day's
    file), not the tenant's."""
    from tieout.config import load_project
    from tieout.record_versions import Subject, what_changed

    def usage(rows: dict[str, list[str]]) -> dict[str, str]:
        return {"ops_usage.csv": "tenant_id,date,active_users,fte_count\n" + "".join(
            f"{t},2026-01-{d},40,50\n" for t, days in rows.items() for d in days)}

    world = {"2026-01-20": usage({"t-1": ["18", "19", "20"], "t-2": ["18", "19", "20"]}),
             "2026-01-21": usage({"t-1": ["19", "20", "21"], "t-2": ["20", "21"]})}  # t-2's 19th went missing
    project = _new_project(tmp_path / "p", world)
    _run(project, *world)
    got = what_changed(load_project(project), Subject(source_system="ops", source_id="t-2"), date(2026, 1, 21))
    assert got.unavailable is None
    assert sorted((c.change, str(c.key["date"])) for c in got.changes if c.table == "ops_usage") == [
        ("added", "2026-01-21"), ("removed", "2026-01-19")]  # the 18th left the window: no change


def _ranked_replay(table: str, chain: list[Path], metas: dict) -> str:
    """The replay as it was first written, kept as the oracle of `source_history.replay`: every row of the chain
    ranked by day within its key."""
    ranked = (f"SELECT {table}, h, change, day FROM {history_files.scan(chain, [table])} WHERE \"table\" = '{table}' "
              "QUALIFY row_number() OVER (PARTITION BY key ORDER BY day DESC) = 1")
    replay = source_history.replay(table, chain, metas)
    assert source_history._latest(table, chain) in replay
    return replay.replace(source_history._latest(table, chain), ranked)


def _random_world(seed: int) -> dict[str, dict[str, str]]:
    """Seven days whose usage window moves back and forth, with rows missing inside it, coming back and edited
    to earlier values, and a customer that comes and goes."""
    rng = random.Random(seed)
    tenants = H["ops_tenants.csv"] + "t-2,beta-prod,beta.example,2025-06-01,active\n"
    out = {}
    for n in range(7):
        day = date(2026, 1, 20) + timedelta(days=n)
        start = day - timedelta(days=rng.randint(0, 4))
        usage = "".join(f"{t},{start + timedelta(days=i)},{rng.choice([40, 41])},50\n"
                        for i in range((day - start).days + 1) for t in ("t-1", "t-2")
                        if rng.random() < 0.8 or (t, i) == ("t-1", (day - start).days))  # never an empty export
        customers = RENAMED_PLUS_ONE if rng.random() < 0.5 else {}
        out[str(day)] = {**customers, "ops_tenants.csv": tenants,
                         "ops_usage.csv": "tenant_id,date,active_users,fte_count\n" + usage}
    return out


@pytest.mark.parametrize("world", ["WORLD", "MOVING", "random-1", "random-2", "random-3"])
def test_a_replay_ranks_only_the_edited_keys_and_gives_every_rows_latest_version(
        tmp_path: Path, world: str) -> None:
    """Every stored day's replay of every table, on chains with edits, removals, records that come back and a
    moving window, run in a shuffled order with re-runs (so that chains are rebased): the same rows as ranking
    every row of the chain."""
    days = WORLD if world == "WORLD" else MOVING if world == "MOVING" else _random_world(int(world[-1]))
    project = _new_project(tmp_path / "p", days)
    order = list(days)
    random.Random(7).shuffle(order)
    _run(project, *order, order[0])
    loaded = load_project(project)
    metas = source_history.stored_metas(loaded)
    con = duckdb.connect()
    compared = 0
    for day in days:
        chain = source_history.chain(metas, loaded, date.fromisoformat(day))
        assert chain is not None and len(chain) == list(days).index(day) + 1
        for table in source_history.TABLES:
            got = con.execute(f"SELECT * FROM {source_history.replay(table, chain, metas)}").fetchall()
            want = con.execute(f"SELECT * FROM {_ranked_replay(table, chain, metas)}").fetchall()
            assert sorted(map(repr, got)) == sorted(map(repr, want)), (day, table)
            compared += len(got)
    assert compared > 0
