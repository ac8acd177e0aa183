"""The state database's plain sqlite3 reads (tieout.state.sqlite_reads): what read commands ask the default
SQLite database, read without SQLAlchemy — the same rows as SQLAlchemy reads, on SQLite and PostgreSQL, by the
names tieout.state.tables defines."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, DateTime

from tests.conftest import new_project
from tieout import state
from tieout.config import Project, load_project
from tieout.corrections import corrections_for, record_correction
from tieout.month_close import month_state
from tieout.reports.decision_records import decisions
from tieout.reports.week_events import _resolved_by_hand
from tieout.state import sqlite_reads
from tieout.state.location import default_path
from tieout.state.tables import actions, metadata, month_signoffs, pattern_decisions

START = datetime(2026, 1, 20, 9, 30, 15, 123456, tzinfo=UTC)
HOSTILE = ('=HYPERLINK("http://x")', "<script>alert(1)</script>", "Ünïcode ‘quoted’ \"name\"", "a;b,c\nd")


def _fill(project: Project) -> None:
    """Corrections (hostile values, several entities' worth of one) and workflow actions of two kinds."""
    for n, value in enumerate(HOSTILE, start=1):
        record_correction(project, canonical_id="ACME", system="billing", field="legal_name",
                          old_value=HOSTILE[n - 2] if n > 1 else None, new_value=value, reason=f"fix <b>{n}</b>",
                          who="ana", ticket=f"FIN-{n}" if n % 2 else None, at=START + timedelta(hours=12 * n))
    with state.open(project, write=True) as connection:
        for n, kind in enumerate(["resolve", "ack", "resolve", "resolve"]):
            connection.execute(actions.insert().values(
                exception_id=f"e{n % 3}", episode_first_seen=date(2026, 1, 18 + n), kind=kind, actor="ana",
                reason_code="fixed_in_source", requires_approval=False, version=n + 1, at=START))
        for n, value in enumerate(HOSTILE):  # review decisions of two patterns over three weeks, one closed
            connection.execute(pattern_decisions.insert().values(
                pattern_id=f"p{n % 2}", week=date(2026, 1, 11 + 7 * (n % 3)), owner=value, action=f"do {value}",
                due_on=date(2026, 2, 1 + n), recorded_by="ana", os_user="ana", recorded_at=START + timedelta(days=n),
                **({"status": "done", "status_by": "carol", "status_at": START + timedelta(days=9),
                    "status_note": value} if n == 1 else {})))
        for n, (period, step) in enumerate([("2026-01", "prepare"), ("2026-01", "review"), ("2025-12", "prepare"),
                                            ("2026-01", "reopen")]):  # a month closed and reopened, one prepared
            connection.execute(month_signoffs.insert().values(
                period=period, seq=n + 1, step=step, who=HOSTILE[n], os_user=None if n % 2 else "ana",
                at=START + timedelta(minutes=n), reason=HOSTILE[n - 1] if step == "reopen" else None,
                digests='{"json": "ab12"}' if step == "review" else None))


READS: dict[str, Callable[[Project], Any]] = {
    "every correction": lambda p: corrections_for(p),
    "one entity's": lambda p: corrections_for(p, "ACME"),
    "none of an entity": lambda p: corrections_for(p, "NOBODY"),
    "until a day": lambda p: corrections_for(p, until=date(2026, 1, 20)),
    "resolved by hand": lambda p: _resolved_by_hand(p, {"e0", "e1", "e2", "nope"}),
    "resolved, none asked": lambda p: _resolved_by_hand(p, {"nope"}),
    "every decision": lambda p: decisions(p),
    "decisions until a week": lambda p: decisions(p, until=date(2026, 1, 18)),
    "one pattern's decisions": lambda p: decisions(p, pattern_id="p1"),
    "a month signed": lambda p: month_state(p, "2026-01"),
    "a month prepared": lambda p: month_state(p, "2025-12"),
    "a month never signed": lambda p: month_state(p, "2026-02"),
}


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...], dict[str, Any], dict[str, str]]]:
    """Every `sqlite_reads.select` call: (table, columns, where, types), and what it answered."""
    calls: list[Any] = []
    real = sqlite_reads.select

    def select(project: Project, table: str, columns: Any, **kw: Any) -> Any:
        got = real(project, table, columns, **kw)
        calls.append((table, (*columns, *(c.lstrip("-") for c in kw.get("order_by", ()))),
                      dict(kw.get("where") or {}), dict(kw.get("types") or {}), got is not None))
        return got

    monkeypatch.setattr(sqlite_reads, "select", select)
    return calls


def test_the_plain_reads_give_what_sqlalchemy_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(new_project(tmp_path / "p", {"2026-01-20": {}}))
    _fill(project)
    calls = _spy(monkeypatch)
    plain = {name: read(project) for name, read in READS.items()}
    assert calls and all(answered for *_, answered in calls)  # each went through sqlite3
    assert [c.new_value for c in plain["every correction"]] == list(HOSTILE)
    assert plain["every correction"][0].recorded_at == START + timedelta(hours=12)
    assert plain["until a day"] and plain["until a day"] != plain["every correction"]
    assert plain["resolved by hand"] == {("e0", date(2026, 1, 18)), ("e2", date(2026, 1, 20)),
                                         ("e0", date(2026, 1, 21))}
    assert [(d.week, d.id) for d in plain["every decision"]] == [
        (date(2026, 1, 25), 3), (date(2026, 1, 18), 2), (date(2026, 1, 11), 1), (date(2026, 1, 11), 4)]
    assert [d.owner for d in plain["decisions until a week"]] == [HOSTILE[1], HOSTILE[0], HOSTILE[3]]
    assert {d.pattern_id for d in plain["one pattern's decisions"]} == {"p1"}
    closed = plain["every decision"][1]
    assert (closed.status, closed.status_note, closed.status_at) == ("done", HOSTILE[1], START + timedelta(days=9))
    assert plain["every decision"][0].recorded_at == START + timedelta(days=2)
    month = plain["a month signed"]
    assert (month.state, [s.step for s in month.signatures]) == ("reopened", ["prepare", "review", "reopen"])
    assert month.signed_pack is not None and month.signed_pack.digests == {"json": "ab12"}
    assert month.signatures[0].at == START and month.signatures[-1].reason == HOSTILE[2]
    assert (plain["a month prepared"].state, plain["a month never signed"].state) == ("prepared", "open")
    # The same file named by a URL is read through SQLAlchemy: the same answers.
    monkeypatch.setenv(state.ENV_URL, f"sqlite:///{default_path(project).absolute()}")
    calls.clear()
    assert {name: read(project) for name, read in READS.items()} == plain
    assert calls and not any(answered for *_, answered in calls)


def test_every_name_and_type_a_plain_read_uses_is_the_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain SQL is built from the names its callers give: each is a column of tieout.state.tables, and
    each column converted is converted as its SQLAlchemy type is (no second schema that can drift)."""
    project = load_project(new_project(tmp_path / "p", {"2026-01-20": {}}))
    _fill(project)
    calls = _spy(monkeypatch)
    for read in READS.values():
        read(project)
    kinds = {DateTime: "datetime", Date: "date", Boolean: "bool"}
    assert {c[0] for c in calls} == {"corrections", "actions", "pattern_decisions", "month_signoffs"}
    for table, columns, where, types, _ in calls:
        defined = metadata.tables[table].c
        assert set(columns) | set(where) <= set(defined.keys()), table
        for column in columns:
            kind = next((k for t, k in kinds.items() if isinstance(defined[column].type, t)), None)
            assert types.get(column) == kind, (table, column)


def test_the_same_log_reads_the_same_on_sqlite_and_postgres(tmp_path: Path, backend: str | None) -> None:
    """Recorded alike in the default SQLite file (read by sqlite3) and in `backend` (PostgreSQL: SQLAlchemy)."""
    plain = load_project(new_project(tmp_path / "plain", {"2026-01-20": {}}))
    other = load_project(new_project(tmp_path / "other", {"2026-01-20": {}},
                                     yml=f"state_url: '{backend}'\n" if backend else ""))
    _fill(plain)
    _fill(other)
    for name, read in READS.items():
        assert read(other) == read(plain), name
    assert (sqlite_reads.select(other, "corrections", ["seq"]) is None) == (backend is not None)


def test_a_database_to_migrate_or_absent_is_not_read_plainly(tmp_path: Path) -> None:
    project = load_project(new_project(tmp_path / "p", {"2026-01-20": {}}))
    assert sqlite_reads.select(project, "corrections", ["seq"]) is None and not default_path(project).exists()
    assert corrections_for(project) == [] and not default_path(project).exists()  # nor created
    _fill(project)
    assert sqlite_reads.select(project, "corrections", ["seq"], order_by=["-seq"]) == [
        {"seq": n} for n in range(len(HOSTILE), 0, -1)]
    state.dispose_all()
    with sqlite3.connect(default_path(project)) as con:
        con.execute("UPDATE alembic_version SET version_num = '0001_older'")
    assert sqlite_reads.select(project, "corrections", ["seq"]) is None  # SQLAlchemy's path migrates it
