"""Source history: every source record's versions over time, stored as changes only.

`<store>/history/<date>.parquet` holds, for one stored day, the rows of the six exports (and how each source
record resolved, `source_records`) that were added, removed or changed since its *base* — the stored day
before it — one row per changed row: `table`, `key` (the primary key as text), `change`, `fields` (the
columns that differ), `h` (the new row's hash) and the whole new and old row as one struct column per table
(`<table>` and `<table>__old`). The first stored day's file is the baseline (base none, everything added):
the one full copy. A day with no change holds no row.

Each file's Parquet key-value metadata records its `base` and two *tokens*: per table, the row count and the
XOR of every row's hash — a fingerprint of the day's whole content (`tokens`) and of its base's
(`base_tokens`). A diff is current when its base is the previous stored day and `base_tokens` equal that
day's `tokens`; anything else (a day run out of order, a crash between two writes) is stale and `repair`
recomputes it from the history itself: a day's state is the replay of its chain of files back to the
baseline. Diffs are pure functions of the stored days' contents, so running days in any order stores the
same history.

The common case — the next day in order — never replays: `history/state/` keeps the latest stored day's
rows with their hashes, one file per table named by its token (`state.json` says which), so a table whose
token did not change costs one hashing pass, and a changed table one join.

Write order (each step a temporary file and `os.replace`): the day's diff, then the next stored day's
re-based diff (staged as `.<date>.pending.parquet` before the day's diff replaces the old one, promoted
after), then the state — all before the day's findings file, which stays the day's commit point.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tieout.config import Project
from tieout.db import connect
from tieout.sources.layout import BY_TABLE

RESOLUTION_COLUMNS = ("source_system", "source_id", "canonical_id", "status", "resolved_by", "matched_key",
                      "candidates")
# table -> (columns, primary key)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{t: (f.column_names, f.primary_key) for t, f in BY_TABLE.items()},
    "source_records": (RESOLUTION_COLUMNS, ("source_system", "source_id")),
}
Tokens = dict[str, str]


def history_dir(project: Project) -> Path:
    return project.store_path / "history"


def history_path(project: Project, day: date) -> Path:
    return history_dir(project) / f"{day.isoformat()}.parquet"


def _state_dir(project: Project) -> Path:
    return history_dir(project) / "state"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(paths: Iterable[Path]) -> str:
    return "[" + ", ".join(_lit(str(p)) for p in paths) + "]"


@dataclass(frozen=True)
class Meta:
    day: date
    base: date | None
    base_tokens: Tokens | None
    tokens: Tokens


_META_CACHE: dict[Path, tuple[tuple[int, int], Meta | None]] = {}


def read_meta(path: Path) -> Meta | None:
    """A history file's base and tokens; None if there is no such file or it is not one. Footers are read
    once per file version (a backfill looks at every day's file for every day it runs)."""
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _META_CACHE.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    meta = _read_meta(path)
    _META_CACHE[path] = (stamp, meta)
    return meta


def _read_meta(path: Path) -> Meta | None:
    try:
        kv = pq.read_schema(path).metadata or {}
        base = kv[b"tieout_base"].decode()
        base_tokens = json.loads(kv[b"tieout_base_tokens"])
        tokens = json.loads(kv[b"tieout_tokens"])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    day = date.fromisoformat(path.name.lstrip(".")[:10])
    return Meta(day, date.fromisoformat(base) if base else None, base_tokens, tokens)


# --- relations (SQL text) -----------------------------------------------------------------------------------

def _cols(table: str, alias: str = "") -> str:
    return ", ".join(f"{alias}{_q(c)}" for c in TABLES[table][0])


def _hash(table: str) -> str:
    return f"hash({_cols(table)})"


def current(table: str) -> str:
    """The table as loaded on a connection, with each row's hash."""
    return f"(SELECT {_cols(table)}, {_hash(table)} AS __h FROM {table})"


def _replay(table: str, chain: list[Path]) -> str:
    """A day's rows of `table`, replayed from its chain of history files (baseline first)."""
    return (f"(SELECT unnest(r.{_q(table)}), r.h AS __h FROM (SELECT {_q(table)}, h, change "
            f"FROM read_parquet({_files(chain)}) WHERE \"table\" = {_lit(table)} "
            "QUALIFY row_number() OVER (PARTITION BY key ORDER BY day DESC) = 1) r WHERE r.change <> 'removed')")


def _state_file(project: Project, table: str, token: str) -> Path:
    return _state_dir(project) / f"{table}.{token.replace(':', '-')}.parquet"


def _diff(table: str, day: date, old: str, new: str, *, empty: bool) -> str:
    """The changes of `table` from relation `old` to relation `new`, as history rows."""
    cols, pk = TABLES[table]
    on = " AND ".join(f"n.{_q(c)} = o.{_q(c)}" for c in pk)
    key_n = "[" + ", ".join(f"CAST(n.{_q(c)} AS VARCHAR)" for c in pk) + "]"
    key_o = "[" + ", ".join(f"CAST(o.{_q(c)} AS VARCHAR)" for c in pk) + "]"
    differs = ", ".join(f"CASE WHEN n.{_q(c)} IS DISTINCT FROM o.{_q(c)} THEN {_lit(c)} END" for c in cols)
    new_row = ", ".join(f"{_q(c)} := n.{_q(c)}" for c in cols)
    old_row = ", ".join(f"{_q(c)} := o.{_q(c)}" for c in cols)
    # Rows whose hash (which covers the key) is on both sides are unchanged: two anti-joins on one integer
    # leave the few that differ, and only those are matched by primary key.
    if empty:  # the same content on both sides (equal tokens): nothing to compare
        return f"""
    WITH nn AS (SELECT * FROM {new} WHERE false), oo AS (SELECT * FROM {new} WHERE false)
    SELECT * FROM (
        SELECT DATE {_lit(day.isoformat())} AS day, {_lit(table)} AS "table", {key_n} AS key, 'changed' AS change,
            list_filter([{differs}], lambda x: x IS NOT NULL) AS fields, n.__h AS h,
            struct_pack({new_row}) AS {_q(table)}, struct_pack({old_row}) AS {_q(table + '__old')}
        FROM nn n, oo o)"""
    return f"""
    WITH odd AS MATERIALIZED (
             SELECT x.__h AS nh, y.__h AS oh FROM (SELECT __h FROM {new}) x FULL OUTER JOIN (SELECT __h FROM {old}) y
             ON x.__h = y.__h WHERE x.__h IS NULL OR y.__h IS NULL),
         nn AS (SELECT x.* FROM {new} x SEMI JOIN odd ON x.__h = odd.nh),
         oo AS (SELECT y.* FROM {old} y SEMI JOIN odd ON y.__h = odd.oh)
    SELECT * FROM (
        SELECT DATE {_lit(day.isoformat())} AS day, {_lit(table)} AS "table",
            CASE WHEN o.__h IS NULL THEN {key_n} ELSE {key_o} END AS key,
            CASE WHEN o.__h IS NULL THEN 'added' WHEN n.__h IS NULL THEN 'removed' ELSE 'changed' END AS change,
            CASE WHEN o.__h IS NOT NULL AND n.__h IS NOT NULL
                 THEN list_filter([{differs}], lambda x: x IS NOT NULL) END AS fields,
            n.__h AS h,
            CASE WHEN n.__h IS NOT NULL THEN struct_pack({new_row}) END AS {_q(table)},
            CASE WHEN o.__h IS NOT NULL THEN struct_pack({old_row}) END AS {_q(table + '__old')}
        FROM nn n FULL OUTER JOIN oo o ON {on}
        WHERE n.__h IS DISTINCT FROM o.__h
    ) WHERE change <> 'changed' OR len(fields) > 0"""


def tokens_of(con: duckdb.DuckDBPyConnection, rels: dict[str, str]) -> Tokens:
    union = " UNION ALL ".join(f"SELECT {_lit(t)} AS t, count(*) AS n, bit_xor(__h) AS x FROM {rel}"
                               for t, rel in rels.items())
    return {t: f"{n}:{x or 0:016x}" for t, n, x in con.execute(union).fetchall()}


def _write_diff(con: duckdb.DuckDBPyConnection, target: Path, day: date, base: date | None,
                base_tokens: Tokens | None, tokens: Tokens, old: dict[str, str] | None, new: dict[str, str]) -> None:
    """Write the diff `old` -> `new` (relations per table; `old` None for a baseline) to `target`."""
    parts = []
    for table in TABLES:
        same = base_tokens is not None and base_tokens.get(table) == tokens[table]
        old_rel = old[table] if old is not None else f"(SELECT * FROM {new[table]} WHERE false)"
        parts.append(_diff(table, day, old_rel, new[table], empty=same))
    kv = {"tieout_base": base.isoformat() if base else "",
          "tieout_base_tokens": json.dumps(base_tokens, sort_keys=True),
          "tieout_tokens": json.dumps(tokens, sort_keys=True)}
    meta = ", ".join(f"{k}: {_lit(v)}" for k, v in kv.items())
    target.parent.mkdir(parents=True, exist_ok=True)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM ({part})" for part in parts)
    con.execute(f"COPY ({union}) TO {_lit(str(target))} "
                f"(FORMAT parquet, KV_METADATA {{{meta}}})")


# --- chains -------------------------------------------------------------------------------------------------

def _metas(project: Project) -> dict[date, Meta]:
    folder = history_dir(project)
    out = {}
    if folder.is_dir():
        for p in folder.glob("????-??-??.parquet"):
            m = read_meta(p)
            if m is not None:
                out[m.day] = m
    return out


def chain(metas: dict[date, Meta], project: Project, day: date | None) -> list[Path] | None:
    """The history files whose replay gives `day`'s rows (baseline first); None if a link is missing."""
    if day is None:
        return []
    out: list[Path] = []
    current_day: date | None = day
    while current_day is not None:
        m = metas.get(current_day)
        if m is None:
            return None
        out.append(history_path(project, current_day))
        if m.base is not None:
            b = metas.get(m.base)
            if b is None or b.tokens != m.base_tokens or m.base >= current_day:
                return None
        current_day = m.base
    return out[::-1]


def _linked(m: Meta | None, base: date | None, base_tokens: Tokens | None) -> bool:
    return m is not None and m.base == base and m.base_tokens == base_tokens


# --- the state of the latest stored day ---------------------------------------------------------------------

def _read_state(project: Project) -> Tokens:
    try:
        tokens = json.loads((_state_dir(project) / "state.json").read_text(encoding="utf-8"))["tokens"]
    except (OSError, ValueError, KeyError):
        return {}
    return {t: tok for t, tok in tokens.items() if _state_file(project, t, tok).is_file()}


def _base_rels(project: Project, metas: dict[date, Meta], base: date) -> dict[str, str] | None:
    """Relations of the base day's rows: the state files where their token matches, else the replay; None if
    the base day's history is missing or broken."""
    m = metas.get(base)
    if m is None:
        return None
    state = _read_state(project)
    files = chain(metas, project, base)
    out = {}
    for table in TABLES:
        if state.get(table) == m.tokens.get(table):
            out[table] = f"read_parquet({_lit(str(_state_file(project, table, state[table])))})"
        elif files is not None:
            out[table] = _replay(table, files)
        else:
            return None
    return out


# --- one day ------------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """The history writes of one day, prepared as temporary files; `commit` moves them into place in order."""

    project: Project
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    state: Tokens | None = None  # the latest day's tokens, when the state moves to it

    def commit(self) -> None:
        for tmp, target in self.moves:
            os.replace(tmp, target)
        self.moves.clear()
        if self.state is not None:
            folder = _state_dir(self.project)
            manifest = folder / "state.json"
            tmp = folder / ".state.json.tmp"
            tmp.write_text(json.dumps({"tokens": self.state}, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, manifest)
            keep = {_state_file(self.project, t, tok).name for t, tok in self.state.items()}
            for p in folder.glob("*.parquet"):
                if p.name not in keep:
                    p.unlink(missing_ok=True)

    def discard(self) -> None:
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves.clear()


def prepare(con: duckdb.DuckDBPyConnection, project: Project, day: date, stored: list[date],
            reopen: Callable[[date], duckdb.DuckDBPyConnection | None]) -> Plan:
    """Stage `day`'s history (its tables loaded on `con`) against the stored days `stored`; call under the run
    lock, before external access is switched off on `con`."""
    repair(project, stored, reopen)
    plan = Plan(project)
    metas = _metas(project)
    before = [d for d in stored if d < day]
    after = [d for d in stored if d > day]
    # A stored day without history (an older store whose exports are gone) breaks the chain: start afresh.
    base = before[-1] if before and before[-1] in metas else None
    following = after[0] if after else None
    base_tokens = metas[base].tokens if base is not None else None
    cur = {t: current(t) for t in TABLES}
    tokens = tokens_of(con, cur)
    folder = history_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    mine = metas.get(day)
    if not (_linked(mine, base, base_tokens) and mine is not None and mine.tokens == tokens):
        base_rels = _base_rels(project, metas, base) if base is not None else None
        tmp = folder / f".{day}.{pid}.tmp"
        _write_diff(con, tmp, day, base if base_rels is not None else None,
                    base_tokens if base_rels is not None else None, tokens, base_rels, cur)
        plan.moves.append((tmp, history_path(project, day)))
    if following is not None and not _linked(metas.get(following), day, tokens):
        files = chain(metas, project, following)
        nxt = metas.get(following)
        if files is not None and nxt is not None:
            pending = folder / f".{following}.pending.parquet"
            tmp = folder / f".{following}.{pid}.tmp"
            _write_diff(con, tmp, following, day, tokens, nxt.tokens, cur,
                        {t: _replay(t, files) for t in TABLES})
            os.replace(tmp, pending)  # staged: promoted after this day's diff, or by repair() after a crash
            plan.moves.append((pending, history_path(project, following)))
    if following is None:
        state = _read_state(project)
        if state != tokens:
            _state_dir(project).mkdir(parents=True, exist_ok=True)
            for table, token in tokens.items():
                target = _state_file(project, table, token)
                if state.get(table) != token and not target.is_file():
                    tmp = target.with_name(f".{target.name}.{pid}.tmp")
                    con.execute(f"COPY (SELECT * FROM {cur[table]}) TO {_lit(str(tmp))} (FORMAT parquet)")
                    plan.moves.append((tmp, target))
            plan.state = tokens
    return plan


def stage_snapshot(folder: Path, day: date, con: duckdb.DuckDBPyConnection) -> None:
    """Write `day`'s rows of every history table to `folder` (a backfill worker, for `prepare_staged`)."""
    for table in TABLES:
        target = folder / f"{day}.{table}.parquet"
        con.execute(f"COPY (SELECT {_cols(table)} FROM {table}) TO {_lit(str(target))} (FORMAT parquet)")


def staged(folder: Path, day: date, con: duckdb.DuckDBPyConnection) -> None:
    """Point `con`'s history tables at `day`'s rows staged by `stage_snapshot`."""
    for table in TABLES:
        source = _lit(str(folder / f"{day}.{table}.parquet"))
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({source})")


def repair(project: Project, stored: list[date],
           reopen: Callable[[date], duckdb.DuckDBPyConnection | None]) -> list[date]:
    """Make every stored day's diff current (based on the previous stored day); call under the run lock.

    Leftovers of a killed run go first: temporary files are removed, a staged diff is promoted if its base
    is in place (else dropped). A stale diff is recomputed from the history (the day's own chain), else from
    the day's exports (`reopen`); a day with neither is left as it is. Returns the days it could not repair.
    """
    folder = history_dir(project)
    if not folder.is_dir():
        return []
    for leftover in [*folder.glob(".*.tmp"), *_state_dir(project).glob(".*.tmp")]:
        leftover.unlink(missing_ok=True)
    for pending in sorted(folder.glob(".*.pending.parquet")):
        m = read_meta(pending)
        b = read_meta(history_path(project, m.base)) if m is not None and m.base is not None else None
        if m is not None and b is not None and b.tokens == m.base_tokens:
            os.replace(pending, history_path(project, m.day))
        else:
            pending.unlink(missing_ok=True)
    metas = _metas(project)
    unrepaired = []
    previous: date | None = None
    for day in stored:
        # A stored day without history (its exports gone) breaks the chain: the day after it is a baseline.
        base = previous if previous is not None and previous in metas else None
        base_tokens = metas[base].tokens if base is not None else None
        if not _linked(metas.get(day), base, base_tokens):
            if not _rebase(project, metas, day, base, reopen):
                unrepaired.append(day)
            metas = _metas(project)
        previous = day
    # Diffs of days no longer stored (a run killed before its findings were written) are no one's base now.
    keep = {history_path(project, d) for d in stored}
    for d, _ in metas.items():
        if history_path(project, d) not in keep:
            history_path(project, d).unlink(missing_ok=True)
    return unrepaired


def _rebase(project: Project, metas: dict[date, Meta], day: date, base: date | None,
            reopen: Callable[[date], duckdb.DuckDBPyConnection | None]) -> bool:
    files = chain(metas, project, day)
    con = connect() if files is not None else reopen(day)
    if con is None:
        return False
    try:
        new = {t: _replay(t, files) for t in TABLES} if files is not None else {t: current(t) for t in TABLES}
        tokens = metas[day].tokens if files is not None else tokens_of(con, new)
        base_tokens = metas[base].tokens if base is not None else None
        old = _base_rels(project, metas, base) if base is not None else None
        if base is not None and old is None:
            return False
        tmp = history_dir(project) / f".{day}.{os.getpid()}.tmp"
        _write_diff(con, tmp, day, base, base_tokens, tokens, old, new)
        os.replace(tmp, history_path(project, day))
    finally:
        con.close()
    return True


# --- reading ------------------------------------------------------------------------------------------------

def current_diff(project: Project, day: date, stored: list[date]) -> Meta | None:
    """`day`'s history file if it is current: based on the previous stored day, and not a baseline."""
    before = [d for d in stored if d < day]
    m = read_meta(history_path(project, day))
    if m is None or not before or m.base != before[-1]:
        return None
    b = read_meta(history_path(project, before[-1]))
    return m if b is not None and b.tokens == m.base_tokens else None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def state_rows(con: duckdb.DuckDBPyConnection, project: Project, day: date, table: str,
               where: str, params: Any = None) -> list[dict[str, Any]] | None:
    """`day`'s rows of `table` matching `where`, replayed from the history; None if the history is broken."""
    files = chain(_metas(project), project, day)
    if files is None:
        return None
    got = rows(con, f"SELECT * EXCLUDE (__h) FROM {_replay(table, files)} WHERE {where}", params)
    return got


def versions(con: duckdb.DuckDBPyConnection, project: Project, day: date, table: str, where: str,
             params: Any = None) -> list[dict[str, Any]] | None:
    """Every history row of `table` up to `day` matching `where` — over `new`, `old` and `r` (the new row,
    else the old) — by record, oldest first; None if the history is broken."""
    files = chain(_metas(project), project, day)
    if files is None:
        return None
    order = ", ".join(f"r.{_q(c)}" for c in TABLES[table][1])
    return rows(con, f"""
        SELECT day, change, fields, new, old, r FROM (
            SELECT day, change, fields, {_q(table)} AS new, {_q(table + '__old')} AS old,
                   coalesce({_q(table)}, {_q(table + '__old')}) AS r
            FROM read_parquet({_files(files)}) WHERE "table" = {_lit(table)})
        WHERE {where} ORDER BY {order}, day""", params)
