"""Source history: every source record's versions over time, stored as changes only.

`<store>/history/<date>.parquet` holds, for one stored day, the rows of the six exports (and how each source
record resolved, `source_records`) that were added, removed or changed since its *base* — the stored day
before it — one row per changed row: `table`, `key` (the primary key as text), `change`, `fields` (the
columns that differ), `h` (the new row's hash) and the whole new and old row as one struct column per table
(`<table>` and `<table>__old`). The first stored day's file is the baseline (base none, everything added):
the one full copy. A day with no change holds no row.

A baseline is kept per table (schema 5): its file holds no row, only the footer, which names each table's file
(`<date>.<table>.<token>.parquet`, `tieout_tables`) holding that table's rows with only its own two struct
columns — in one file, 92 of a baseline's 98 columns would be the other tables' NULLs, most of the writer's
time. Every reader reads history files through `scan` (or `table_files`), which reads both layouts: a store's
older baselines stay one file. A replaced baseline's table files are removed by the next run (`repair`).

The usage export is a trailing window (one row per tenant and day for the last N days, `WINDOWS`): every day
one date arrives and the oldest leaves. A row that merely left the window — older than the day's earliest
date — is not stored as a removal (its values are in the file of the day it was added): the file records
where the day's window starts (`tieout_window`), and a replay drops the rows that fell out of the window of a
later day of the chain. Any other usage row that disappears is a removal like in every other table.

Each file's Parquet key-value metadata records its `base` and two *tokens*: per table, the row count and the
XOR of every row's hash — a fingerprint of the day's whole content (`tokens`) and of its base's
(`base_tokens`). A diff is current when its base is the previous stored day and `base_tokens` equal that
day's `tokens`; anything else (a day run out of order, a crash between two writes) is stale and `repair`
recomputes it from the history itself: a day's state is the replay of its chain of files back to the
baseline. Diffs are pure functions of the stored days' contents, so running days in any order stores the
same history.

The common case — the next day in order — never replays: `history/state/` keeps the latest stored day's
rows with their hashes, and `state.json` the token of every *part* of every table and the file holding it.
A table is one part, except a windowed table, whose parts are its dates: a moving window adds one part and
drops one, so the next day compares and writes one date's rows, not the whole window. LatestDay files are named
by the token of their content and never rewritten; one is deleted once no part refers to it.

Write order (each step a temporary file and `os.replace`): a baseline's table files, the day's diff, then
the next stored day's re-based diff (staged as `.<date>.pending.parquet` before the day's diff replaces the
old one, promoted after), then the state files and `state.json` — all before the day's findings file, which
stays the day's commit point.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tieout.config import Project
from tieout.db import connect
from tieout.errors import StoreError
from tieout.sources.layout import BY_TABLE
from tieout.sql import literal, quote_name
from tieout.store.history_files import (
    Meta,
    Tokens,
    file_list,
    history_dir,
    history_path,
    index_footers,
    read_meta,
    read_metas,
    scan,
    state_dir,
)

if TYPE_CHECKING:  # pyarrow only where a history file is written: reads never load it
    import pyarrow as pa

RESOLUTION_COLUMNS = ("source_system", "source_id", "canonical_id", "status", "resolved_by", "matched_key",
                      "candidates")
# table -> (columns, primary key)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{t: (f.column_names, f.primary_key) for t, f in BY_TABLE.items()},
    "source_records": (RESOLUTION_COLUMNS, ("source_system", "source_id")),
}
# Tables that are a trailing window on a DATE column of their primary key (see the module docstring).
WINDOWS: dict[str, str] = {"ops_usage": "date"}
Parts = dict[str, dict[str, str]]  # table -> part ('' for a whole table, else an ISO date) -> token
# Rows per Parquet row group of a history file; readers skip row groups by `table`.
_ROW_GROUP = 1 << 18
# The history files' columns with min/max statistics: those readers filter on (a row group's `table`); the
# statistics of the rest cost the writer a fifth of its time on a baseline and serve no reader.
_STATISTICS = ["day", "table", "change"]
# Columns whose values are mostly unique within a row group (ids, names, hashes) are not dictionary-encoded:
# the writer would build a dictionary of each until it gives up. Every other column repeats (a date, a status,
# a usage row's tenant on each day of its window).
_UNIQUE_RESOLUTION = ("source_id", "canonical_id", "matched_key", "candidates")


def _dictionary_columns() -> list[str]:
    out = ["day", "table", "change", "fields.list.element", "key.list.element"]
    for table in TABLES:
        spec = BY_TABLE.get(table)
        kinds = {c.name: c.kind for c in spec.columns} if spec is not None else {}
        for column in TABLES[table][0]:
            unique = (column in _UNIQUE_RESOLUTION if spec is None
                      else table not in WINDOWS and kinds[column] in ("id", "text"))
            if not unique:
                out += [f"{table}.{column}", f"{table}__old.{column}"]
    return out


# --- relations (SQL text) -----------------------------------------------------------------------------------

def _cols(table: str, alias: str = "") -> str:
    return ", ".join(f"{alias}{quote_name(c)}" for c in TABLES[table][0])


def _hash(table: str) -> str:
    return f"hash({_cols(table)})"


def _in_parts(table: str, parts: Iterable[str], alias: str = "") -> str:
    """A condition: the row is in one of `parts` of windowed `table`."""
    values = ", ".join(f"DATE {literal(p)}" for p in sorted(parts))
    return f"{alias}{quote_name(WINDOWS[table])} IN ({values})" if values else "false"


def current(table: str, parts: Iterable[str] | None = None) -> str:
    """The table as loaded on a connection, with each row's hash; only `parts` of a windowed table if given."""
    where = f" WHERE {_in_parts(table, parts)}" if parts is not None else ""
    return f"(SELECT {_cols(table)}, {_hash(table)} AS __h FROM {table}{where})"


def replay(table: str, chain: list[Path], metas: Mapping[date, Meta]) -> str:
    """A day's rows of `table`, replayed from its chain of history files (baseline first): each row's latest
    version, unless removed — or, for a windowed table, older than the window of a later day of the chain (it
    left the window then; had it come back, a later version would say so)."""
    dropped = ""
    column = WINDOWS.get(table)
    if column is not None:
        # For each file, the latest window start of the files after it (a suffix maximum: it only falls along
        # the chain, so equal values are runs of consecutive days).
        days = [date.fromisoformat(p.name[:10]) for p in chain]
        starts = [metas[d].window.get(table) if d in metas else None for d in days]
        later: list[str | None] = []
        best: str | None = None
        for start in reversed(starts):
            later.append(best)
            best = start if best is None or (start is not None and start > best) else best
        later.reverse()
        branches = []
        for i, d in enumerate(days):
            if later[i] is not None and (i + 1 == len(days) or later[i + 1] != later[i]):
                branches.append(f"WHEN r.day <= DATE {literal(d.isoformat())} "
                                f"THEN r.{quote_name(table)}.{quote_name(column)} < DATE {literal(str(later[i]))}")
        if branches:
            dropped = f" AND NOT coalesce(CASE {' '.join(branches)} END, false)"
    return (f"(SELECT unnest(r.{quote_name(table)}), r.h AS __h FROM ({_latest(table, chain)}) r "
            f"WHERE r.change <> 'removed'{dropped})")


def _latest(table: str, chain: list[Path]) -> str:
    """The latest version of each key of `table` in `chain` (baseline first): its struct, hash, change and day.

    Only a key that a file after the baseline records as changed or removed can have two versions in the chain,
    and only its rows are ranked by day; every other row is its key's only version. A key that comes back after
    a removal was ranked for the removal. A windowed table's row that comes back after it left the window is
    added again with no removal between — and its older version is dropped by `replay`, since a day of the
    chain between them had a window starting after it. Ranking every row by key was a window over the whole
    chain (36 M rows for a baseline and one day's diff at a million companies, spilled to disk: ~25 CPU s);
    the ranked rows are now the day's few edits. The hash of the key only picks which rows are ranked: a
    collision ranks a row that needed no ranking."""
    t, old = quote_name(table), quote_name(f"{table}__old")
    rows = f"FROM {scan(chain, [table])} WHERE \"table\" = {literal(table)}"
    if len(chain) == 1:  # a baseline alone: every key once
        return f"SELECT {t}, h, change, day {rows}"
    key = f"hash({', '.join(f'coalesce({t}.{quote_name(c)}, {old}.{quote_name(c)})' for c in TABLES[table][1])})"
    edited = f"(SELECT {key} {rows} AND change <> 'added')"
    return (f"SELECT {t}, h, change, day {rows} AND {key} NOT IN {edited} "
            f"UNION ALL SELECT {t}, h, change, day {rows} AND {key} IN {edited} "
            "QUALIFY row_number() OVER (PARTITION BY key ORDER BY day DESC) = 1")


def _key(table: str, alias: str) -> str:
    return "[" + ", ".join(f"CAST({alias}.{quote_name(c)} AS VARCHAR)" for c in TABLES[table][1]) + "]"


def _row(table: str, alias: str) -> str:
    return "struct_pack(" + ", ".join(f"{quote_name(c)} := {alias}.{quote_name(c)}" for c in TABLES[table][0]) + ")"


def _added(table: str, day: date, new: str) -> str:
    """Every row of relation `new` as added: a projection, no join (a baseline, a date that arrived)."""
    return f"""
    SELECT DATE {literal(day.isoformat())} AS day, {literal(table)} AS "table", {_key(table, 'n')} AS key,
        'added' AS change, CAST(NULL AS VARCHAR[]) AS fields, n.__h AS h, {_row(table, 'n')} AS {quote_name(table)},
        CASE WHEN false THEN {_row(table, 'n')} END AS {quote_name(table + '__old')}
    FROM {new} n"""


def _diff(table: str, day: date, old: str, new: str) -> str:
    """The changes of `table` from relation `old` to relation `new`, as history rows."""
    cols, pk = TABLES[table]
    on = " AND ".join(f"n.{quote_name(c)} = o.{quote_name(c)}" for c in pk)
    differs = ", ".join(f"CASE WHEN n.{quote_name(c)} IS DISTINCT FROM o.{quote_name(c)} THEN {literal(c)} END"
                        for c in cols)
    # Rows whose hash (which covers the key) is on both sides are unchanged: two anti-joins on one integer
    # leave the few that differ, and only those are matched by primary key.
    return f"""
    WITH odd AS MATERIALIZED (
             SELECT x.__h AS nh, y.__h AS oh FROM (SELECT __h FROM {new}) x FULL OUTER JOIN (SELECT __h FROM {old}) y
             ON x.__h = y.__h WHERE x.__h IS NULL OR y.__h IS NULL),
         nn AS (SELECT x.* FROM {new} x SEMI JOIN odd ON x.__h = odd.nh),
         oo AS (SELECT y.* FROM {old} y SEMI JOIN odd ON y.__h = odd.oh)
    SELECT * FROM (
        SELECT DATE {literal(day.isoformat())} AS day, {literal(table)} AS "table",
            CASE WHEN o.__h IS NULL THEN {_key(table, 'n')} ELSE {_key(table, 'o')} END AS key,
            CASE WHEN o.__h IS NULL THEN 'added' WHEN n.__h IS NULL THEN 'removed' ELSE 'changed' END AS change,
            CASE WHEN o.__h IS NOT NULL AND n.__h IS NOT NULL
                 THEN list_filter([{differs}], lambda x: x IS NOT NULL) END AS fields,
            n.__h AS h,
            CASE WHEN n.__h IS NOT NULL THEN {_row(table, 'n')} END AS {quote_name(table)},
            CASE WHEN o.__h IS NOT NULL THEN {_row(table, 'o')} END AS {quote_name(table + '__old')}
        FROM nn n FULL OUTER JOIN oo o ON {on}
        WHERE n.__h IS DISTINCT FROM o.__h
    ) WHERE change <> 'changed' OR len(fields) > 0"""


def part_tokens(con: duckdb.DuckDBPyConnection, rels: dict[str, str]) -> Parts:
    """Per table, the token of each part of relation `rels[table]` (one pass over each)."""
    union = " UNION ALL ".join(
        f"SELECT {literal(t)} AS t, CAST(p AS VARCHAR) AS p, n, x FROM (SELECT "
        f"{quote_name(WINDOWS[t]) if t in WINDOWS else literal('')} AS p, count(*) AS n, bit_xor(__h) AS x "
        f"FROM {rel} GROUP BY ALL)" for t, rel in rels.items())
    out: Parts = {t: {} for t in rels}
    for t, p, n, x in con.execute(union).fetchall():
        out[t][p] = _token(n, x)
    return out


def _token(count: int, xor: int | None) -> str:
    """A part's token: its row count and the XOR of its rows' hashes (None: no row)."""
    return f"{count}:{xor or 0:016x}"


def _combine(parts: Iterable[str]) -> str:
    """The token of the union of parts: counts add, hashes XOR."""
    n = x = 0
    for token in parts:
        count, xor = token.split(":")
        n, x = n + int(count), x ^ int(xor, 16)
    return _token(n, x)


def tokens_of(con: duckdb.DuckDBPyConnection, rels: dict[str, str]) -> Tokens:
    return {t: _combine(p.values()) for t, p in part_tokens(con, rels).items()}


def _windows_of(parts: Parts) -> dict[str, str]:
    """Where each windowed table's window starts: its earliest date (none for an empty table)."""
    return {t: min(parts[t]) for t in WINDOWS if parts.get(t)}


def _window_query(con: duckdb.DuckDBPyConnection, rels: dict[str, str]) -> dict[str, str]:
    out = {}
    for t, column in WINDOWS.items():
        got = con.execute(f"SELECT CAST(min({quote_name(column)}) AS VARCHAR) FROM {rels[t]}").fetchall()
        if got and got[0][0] is not None:
            out[t] = got[0][0]
    return out


def _write_diff(con: duckdb.DuckDBPyConnection, target: Path, day: date, base: date | None,
                base_tokens: Tokens | None, tokens: Tokens, windows: dict[str, str] | None,
                old: dict[str, str | None] | None, new: dict[str, str], kept: Mapping[str, str] | None = None
                ) -> list[tuple[Path, Path]]:
    """Write the diff `old` -> `new` (relations per table) to `target`. `old` None is a baseline; `old[t]` None
    means nothing on the old side (every row of `new[t]` is added). `windows` are `new`'s (None: computed).
    `kept`: per table, its history rows as they are already (`_kept_rows`), written instead of a comparison.

    A baseline is written in the per-table layout (`_write_tables`): the returned (temporary file, its place)
    pairs are its tables' files, to be moved into place, in order, before `target` is."""
    if windows is None:
        windows = _window_query(con, new)
    parts = {}
    for table in TABLES:
        if base_tokens is not None and base_tokens.get(table) == tokens[table]:
            continue  # the same content on both sides (equal tokens): nothing to compare
        if kept and table in kept:
            parts[table] = kept[table]
            continue
        before = old[table] if old is not None else None
        if before is not None and table in WINDOWS and table in windows:
            # Rows older than the new window left it: not removals (see the module docstring).
            before = f"(SELECT * FROM {before} WHERE {quote_name(WINDOWS[table])} >= DATE {literal(windows[table])})"
        parts[table] = _added(table, day, new[table]) if before is None else _diff(table, day, before, new[table])
    kv = _footer(base, base_tokens, tokens, windows)
    target.parent.mkdir(parents=True, exist_ok=True)
    if old is None and PER_TABLE_BASELINE:
        return _write_tables(con, target, day, parts, (kv, tokens))[0]
    _write_parquet(con, target, kv, day, parts, new)
    return []


def _footer(base: date | None, base_tokens: Tokens | None, tokens: Tokens, windows: dict[str, str]
            ) -> dict[str, str]:
    """A history file's key-value metadata (`tieout.store.history_files.read_meta` reads it)."""
    return {"tieout_base": base.isoformat() if base else "",
            "tieout_base_tokens": json.dumps(base_tokens, sort_keys=True),
            "tieout_tokens": json.dumps(tokens, sort_keys=True),
            "tieout_window": json.dumps(windows, sort_keys=True)}


# Whether a baseline is written in the per-table layout (schema 5); False writes the one-file layout of schema 4
# and before, which tests use to build an older store.
PER_TABLE_BASELINE = True


# The names of the baselines' table files (`table_file_name`); a day's own file is `????-??-??.parquet`.
TABLE_FILES = "????-??-??.*.parquet"


def table_file_name(day: date, table: str, token: str) -> str:
    """The name of a baseline's file of `table`'s rows: named by the day and the table's token (its content),
    never rewritten with other content."""
    return f"{day.isoformat()}.{table}.{token.replace(':', '-')}.parquet"


def _write_tables(con: duckdb.DuckDBPyConnection, target: Path, day: date, parts: dict[str, str],
                  footer: tuple[dict[str, str], Tokens] | None = None) -> tuple[list[tuple[Path, Path]], Parts]:
    """A baseline in the per-table layout: each table's rows (`parts`: SQL) in a file of their own with only
    their own two struct columns (`table_file_name`, beside `target`), and `target` holding no row, only the
    footer's key-value metadata (`footer`: it and the tables' tokens, which name their files), and
    `tieout_tables`, each table's file. Returns the (temporary file, its place) pairs and, when `footer` is None
    (a first baseline, `_first_baseline`), the tables' part tokens read back from the files written, which give
    the footer.

    In the one-file layout every row carries the NULL struct columns of every other table: 92 of a baseline's
    98 columns, most of pyarrow's writing time (at 100,000 companies 2.2 CPU s against 0.9 s)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dictionary = set(_dictionary_columns())
    written: list[tuple[str, Path]] = []
    counted: Parts = {}
    common: list[pa.Field] = []
    for table, sql in parts.items():
        there = target.parent / table_file_name(day, table, footer[1][table]) if footer is not None else None
        if there is not None and there.is_file():
            # The day's file of these rows is there already (a day re-run with other tables corrected): a file's
            # name is its day and its rows' token, and it is never rewritten with other content.
            common = common or list(pq.read_schema(there))[:6]
            continue
        tmp = target.parent / f".{day}.{table}.{os.getpid()}.tmp"
        reader = con.sql(sql).to_arrow_reader(_ROW_GROUP)
        schema = reader.schema
        common = common or [schema.field(i) for i in range(6)]
        columns = [c for c in dictionary if c.split(".")[0] in schema.names]
        with pq.ParquetWriter(tmp, schema, use_dictionary=columns, write_statistics=_STATISTICS) as writer:
            for batch in reader:
                writer.write_batch(batch, row_group_size=_ROW_GROUP)
        written.append((table, tmp))
        if footer is None:
            counted[table] = _file_parts(con, table, tmp)
    if footer is None:
        tokens = {t: _combine(p.values()) for t, p in counted.items()}
        kv = _footer(None, None, tokens, _windows_of(counted))
    else:
        kv, tokens = footer
    names = {table: table_file_name(day, table, tokens[table]) for table in parts}
    head = pa.schema(common, metadata={**kv, "tieout_tables": json.dumps(names, sort_keys=True)})
    with pq.ParquetWriter(target, head):
        pass
    return [(tmp, target.parent / names[table]) for table, tmp in written], counted


def _file_parts(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> dict[str, str]:
    """The part tokens of the table's rows in the history file `path` (every row added: `h` is each row's hash),
    as `part_tokens` gives them for the rows it was written from."""
    part = (f"CAST({quote_name(table)}.{quote_name(WINDOWS[table])} AS VARCHAR)" if table in WINDOWS
            else literal(""))
    rows = con.execute(f"SELECT {part} AS p, count(*) AS n, bit_xor(h) AS x FROM read_parquet(?) GROUP BY ALL",
                       [str(path)]).fetchall()
    return {p: _token(n, x) for p, n, x in rows}


def _first_baseline(con: duckdb.DuckDBPyConnection, target: Path, day: date, cur: dict[str, str]
                    ) -> tuple[list[tuple[Path, Path]], Parts]:
    """The baseline of a day with no stored day before or after it, and its part tokens. Its tokens are read back
    from the files written rather than computed first: at a million companies the pass over the day's tables
    that `part_tokens` makes reads most of the usage table back from the spill folder (~4 CPU s), the written
    files' `h` and date columns ~1. Nothing before the write needs them: no stored day to compare with."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return _write_tables(con, target, day, {t: _added(t, day, rel) for t, rel in cur.items()})


# The Arrow fields of a history file by the DuckDB names and types they come from (`_write_parquet`).
_ARROW_FIELDS: dict[tuple[tuple[str, ...], tuple[str, ...]], list[pa.Field]] = {}


def _write_parquet(con: duckdb.DuckDBPyConnection, target: Path, kv: dict[str, str], day: date,
                   parts: dict[str, str], new: dict[str, str]) -> None:
    """Stream each table's history rows (`parts`: SQL) into one Parquet file, table after table.

    Why not one DuckDB COPY of a UNION ALL: each row carries two struct columns per table, all but one pair
    NULL, and DuckDB's writer spends minutes on those NULLs for a baseline at a million companies (45 M rows:
    174 s, against 45 s here, measured side by side); pyarrow's writer takes them from a template array."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Column types from an empty projection of each table's rows (cheap for any relation), every table's in one
    # statement: one each cost a tiny day's run 3.5 ms more in all.
    empty = [f"(SELECT * FROM ({_added(table, day, new[table])}) LIMIT 0) AS t{i}" for i, table in enumerate(TABLES)]
    columns = ["t0.day", 't0."table"', "t0.key", "t0.change", "t0.fields", "t0.h"] + [
        f"t{i}.{quote_name(name)}" for i, table in enumerate(TABLES) for name in (table, table + "__old")]
    typed = con.sql(f"SELECT {', '.join(columns)} FROM {', '.join(empty)}")
    # Running it (after the bind that gave the relation its types) cost another 9 ms a day; the Arrow types
    # follow from DuckDB's (tieout sets none of DuckDB's Arrow options), so the same types are run once.
    key = (tuple(typed.columns), tuple(str(t) for t in typed.types))
    fields = _ARROW_FIELDS.get(key)
    if fields is None:
        if len(_ARROW_FIELDS) >= 64:
            _ARROW_FIELDS.clear()
        fields = _ARROW_FIELDS[key] = list(typed.to_arrow_table().schema)
    schema = pa.schema(fields, metadata=kv)
    nulls: dict[int, pa.Array] = {}  # column -> NULLs of the current batch length
    with pq.ParquetWriter(target, schema, use_dictionary=_dictionary_columns(),
                          write_statistics=_STATISTICS) as writer:
        for sql in parts.values():
            for batch in con.sql(sql).to_arrow_reader(_ROW_GROUP):
                if nulls and len(next(iter(nulls.values()))) != batch.num_rows:
                    nulls = {}
                columns = []
                for i, f in enumerate(schema):
                    if f.name in batch.schema.names:
                        column = batch.column(f.name)
                        columns.append(column if column.type == f.type else column.cast(f.type))
                    else:
                        if i not in nulls:
                            nulls[i] = pa.nulls(batch.num_rows, f.type)
                        columns.append(nulls[i])
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema), row_group_size=_ROW_GROUP)


# --- chains -------------------------------------------------------------------------------------------------

def stored_metas(project: Project) -> dict[date, Meta]:
    folder = history_dir(project)
    if not folder.is_dir():
        return {}
    return {m.day: m for m in read_metas(sorted(folder.glob("????-??-??.parquet"))).values() if m is not None}


class _OnDemand(Mapping[date, Meta]):
    """Every history file's meta by day, each footer read when asked for: a read of the latest day needs its
    own only (its rows are in the state files), where reading them all costs a few ms a stored day."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._asked = 0

    def __getitem__(self, day: date) -> Meta:
        self._asked += 1
        if self._asked == 2:
            # A second day is a walk along the chain: read every footer at once (one query, not one a day).
            stored_metas(self._project)
        m = read_meta(history_path(self._project, day))
        if m is None or m.day != day:
            raise KeyError(day)
        return m

    def __iter__(self) -> Iterator[date]:
        return iter(stored_metas(self._project))

    def __len__(self) -> int:
        return len(stored_metas(self._project))


def chain(metas: Mapping[date, Meta], project: Project, day: date | None) -> list[Path] | None:
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

# A part of the state may live in a baseline history file instead of a state file: `history:<day>:<token>`,
# the rows of the table whose token at that day was <token>. The first stored day writes its baseline anyway,
# so it copies nothing into the state; a table's rows move to a state file only when they change.
_IN_HISTORY = "history:"


@dataclass
class LatestDay:
    """The latest stored day's rows: per table, each part's token and where it is (a state file's name, or
    a baseline history file as `history:<day>:<token>`)."""

    parts: Parts = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> part -> location

    def token(self, table: str) -> str | None:
        return _combine(self.parts[table].values()) if table in self.parts else None

    def rel(self, project: Project, table: str, parts: Iterable[str]) -> str | None:
        """The state's rows of `parts` of `table`, or None if it holds none of them."""
        held = sorted(p for p in parts if p in self.parts.get(table, {}))
        if not held:
            return None
        names = sorted({self.files[table][p] for p in held})
        state_files = [state_dir(project) / n for n in names if not n.startswith(_IN_HISTORY)]
        rels = [f"(SELECT * FROM read_parquet({file_list(state_files)}))"] if state_files else []
        for name in names:
            if name.startswith(_IN_HISTORY):
                path = history_path(project, date.fromisoformat(name.split(":")[1]))
                rels.append(f"(SELECT unnest({quote_name(table)}), h AS __h FROM {scan([path], [table])} "
                            f"WHERE \"table\" = {literal(table)})")
        rel = rels[0] if len(rels) == 1 else "(" + " UNION ALL ".join(f"SELECT * FROM {r}" for r in rels) + ")"
        return f"(SELECT * FROM {rel} WHERE {_in_parts(table, held)})" if table in WINDOWS else rel


def _there(project: Project, table: str, name: str) -> bool:
    """Whether a state part's location still holds it: a state file exists, or a history file is still the
    baseline it was (running an earlier day turns it into a diff)."""
    if not name.startswith(_IN_HISTORY):
        return (state_dir(project) / name).is_file()
    _, day, count, xor = name.split(":")
    m = read_meta(history_path(project, date.fromisoformat(day)))
    return m is not None and m.base is None and m.tokens.get(table) == f"{count}:{xor}"


def _read_latest(project: Project) -> LatestDay:
    """The state as `state.json` describes it, keeping only the tables whose parts are all where it says. A
    manifest from before parts (`tokens`, one file per table) still serves its unwindowed tables."""
    folder = state_dir(project)
    try:
        manifest = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LatestDay()
    except (OSError, ValueError) as e:  # written by one os.replace: half a file is damage, not a crash
        raise StoreError(f"{folder / 'state.json'}: not a tieout source history state ({e})") from e
    tables: dict[str, dict[str, list[str]]] = manifest.get("tables") or {
        t: {"": [tok, f"{t}.{tok.replace(':', '-')}.parquet"]} for t, tok in manifest.get("tokens", {}).items()
        if t not in WINDOWS}
    state = LatestDay()
    for table, parts in tables.items():
        if all(_there(project, table, name) for name in {name for _, name in parts.values()}):
            state.parts[table] = {p: tok for p, (tok, _) in parts.items()}
            state.files[table] = {p: name for p, (_, name) in parts.items()}
    return state


def day_relations(project: Project, day: date) -> dict[str, str | None] | None:
    """Per table, a relation (SQL) of stored `day`'s rows with their hash (`__h`): the latest state's files
    where their token is the day's, else the replay of the day's chain; None for a table with no rows in the
    state, and None altogether if the day's history is missing or broken. What `tieout.store.open_day` loads."""
    return _base_rels(project, _OnDemand(project), day)


def _base_rels(project: Project, metas: Mapping[date, Meta], base: date) -> dict[str, str | None] | None:
    """Relations of the base day's rows: the state files where their token matches, else the replay; None if
    the base day's history is missing or broken."""
    m = metas.get(base)
    if m is None:
        return None
    state = _read_latest(project)
    files: list[Path] | None = None
    walked = False  # the chain is walked only for a table the state does not hold (a day before the latest)
    out: dict[str, str | None] = {}
    for table in TABLES:
        if state.token(table) == m.tokens.get(table):
            out[table] = state.rel(project, table, state.parts[table])
            continue
        if not walked:
            files, walked = chain(metas, project, base), True
        if files is None:
            return None
        out[table] = replay(table, files, metas)
    return out


# --- one day ------------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """The history writes of one day, prepared as temporary files; `commit` moves them into place in order."""

    project: Project
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    state: LatestDay | None = None  # the latest day's state, when it moves to it

    def commit(self) -> None:
        for tmp, target in self.moves:
            os.replace(tmp, target)
        if self.moves:
            index_footers(self.project)
        self.moves.clear()
        if self.state is not None:
            folder = state_dir(self.project)
            tables = {t: {p: [tok, self.state.files[t][p]] for p, tok in parts.items()}
                      for t, parts in self.state.parts.items()}
            tmp = folder / ".state.json.tmp"
            tmp.write_text(json.dumps({"tables": tables}, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, folder / "state.json")
            keep = {name for names in self.state.files.values() for name in names.values()}
            for p in folder.glob("*.parquet"):
                if p.name not in keep:
                    p.unlink(missing_ok=True)

    def discard(self) -> None:
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves.clear()


def _changed_parts(table: str, new: dict[str, str], old: dict[str, str], window: str | None) -> set[str]:
    """The parts of `table` whose rows differ; a date older than the new window left it and is not compared."""
    changed = {p for p in new.keys() | old.keys() if new.get(p) != old.get(p)}
    return {p for p in changed if p in new or window is None or p >= window}


def prepare(con: duckdb.DuckDBPyConnection, project: Project, day: date, stored: list[date],
            reopen: Callable[[date], duckdb.DuckDBPyConnection | None]) -> Plan:
    """Stage `day`'s history (its tables loaded on `con`) against the stored days `stored`; call under the run
    lock, before external access is switched off on `con`."""
    repair(project, stored, reopen)
    # Nothing below depends on row order: let DuckDB stream in parallel (the run's own queries keep it).
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET parquet_metadata_cache = true")
    try:
        return _prepare(con, project, day, stored)
    finally:
        con.execute("RESET preserve_insertion_order")
        con.execute("RESET parquet_metadata_cache")


def _prepare(con: duckdb.DuckDBPyConnection, project: Project, day: date, stored: list[date]) -> Plan:
    plan = Plan(project)
    metas = stored_metas(project)
    before = [d for d in stored if d < day]
    after = [d for d in stored if d > day]
    # A stored day without history (an older store whose exports are gone) breaks the chain: start afresh.
    base = before[-1] if before and before[-1] in metas else None
    following = after[0] if after else None
    base_tokens = metas[base].tokens if base is not None else None
    cur = {t: current(t) for t in TABLES}
    state = _read_latest(project)
    folder = history_dir(project)
    pid = os.getpid()
    tmp = folder / f".{day}.{pid}.tmp"  # the day's history file until `commit` moves it into place
    mine = metas.get(day)
    if PER_TABLE_BASELINE and mine is None and base is None and following is None:
        moves, parts = _first_baseline(con, tmp, day, cur)
        plan.moves += [*moves, (tmp, history_path(project, day))]
        if state.parts != parts:
            plan.state = _stage_latest(con, plan, state, parts, day)
        return plan
    parts = part_tokens(con, cur)
    tokens = {t: _combine(p.values()) for t, p in parts.items()}
    windows = _windows_of(parts)
    folder.mkdir(parents=True, exist_ok=True)
    baseline = mine is not None and mine.base is None and base is None and mine.tokens == tokens
    if not (_linked(mine, base, base_tokens) and mine is not None and mine.tokens == tokens):
        base_rels = _base_rels(project, metas, base) if base is not None else None
        new = dict(cur)
        held: dict[str, str] = {}
        if base_rels is not None and base_tokens is not None:
            for table in WINDOWS:
                if base_tokens.get(table) != tokens[table] and state.token(table) == base_tokens.get(table):
                    # The state holds the base's dates: compare only the dates whose rows changed.
                    changed = _changed_parts(table, parts[table], state.parts[table], windows.get(table))
                    new[table] = current(table, changed & parts[table].keys())
                    base_rels[table] = state.rel(project, table, changed)
        kept = _kept_rows(mine, base_tokens, tokens, history_path(project, day)) if base_rels is not None else {}
        if base_rels is not None and base_tokens is not None:
            held = _held(con, base_rels, {t for t in TABLES if base_tokens.get(t) != tokens[t] and t not in kept
                                          and state.token(t) != base_tokens.get(t)}, "base")
            base_rels.update(held)
        plan.moves += _write_diff(con, tmp, day, base if base_rels is not None else None,
                                  base_tokens if base_rels is not None else None, tokens, windows, base_rels, new,
                                  kept)
        _release(con, held)
        plan.moves.append((tmp, history_path(project, day)))
        baseline = base_rels is None
    if following is not None and not _linked(metas.get(following), day, tokens):
        files = chain(metas, project, following)
        nxt = metas.get(following)
        if files is not None and nxt is not None:
            pending = folder / f".{following}.pending.parquet"
            rebased = folder / f".{following}.{pid}.tmp"
            replays = {t: replay(t, files, metas) for t in TABLES}
            kept = _kept_rows(nxt, tokens, nxt.tokens, history_path(project, following))
            held = _held(con, replays, {t for t in TABLES if nxt.tokens.get(t) != tokens[t] and t not in kept},
                         "next")
            # Where the following day's window starts is in its footer (None: computed, an older store's).
            its_windows = nxt.window if nxt.window.keys() >= WINDOWS.keys() else None
            _write_diff(con, rebased, following, day, tokens, nxt.tokens, its_windows, dict(cur),
                        {**replays, **held}, kept)  # a diff (it has a base): one file
            _release(con, held)
            os.replace(rebased, pending)  # staged: promoted after this day's diff, or by repair() after a crash
            plan.moves.append((pending, history_path(project, following)))
    if following is None and state.parts != parts:
        plan.state = _stage_latest(con, plan, state, parts, day if baseline else None)
    return plan


def _kept_rows(meta: Meta | None, base_tokens: Tokens | None, tokens: Tokens, path: Path) -> dict[str, str]:
    """The rows a day's diff (`path`, whose footer is `meta`) already holds of each table whose two sides it was
    made from are the ones now (`base_tokens` -> `tokens`: equal tokens, equal rows), by table: that diff's rows
    of the table are the diff again, kept as they are rather than replayed and compared. A day re-run with a few
    records corrected touches a few tables; the usage table, replayed and compared on the day's side and on the
    next day's, was most of such a day's history (~45 of ~95 CPU s at a million companies). A windowed table is
    kept only from a file that records its window (written since windows are: before, rows that left the
    window were removals)."""
    if meta is None or meta.base_tokens is None or base_tokens is None:
        return {}
    return {t: f"SELECT day, \"table\", key, change, fields, h, {quote_name(t)}, {quote_name(t + '__old')} "
               f"FROM {scan([path], [t])} WHERE \"table\" = {literal(t)}" for t in TABLES
            if meta.base_tokens.get(t) == base_tokens.get(t) != tokens[t] == meta.tokens.get(t)
            and (t not in WINDOWS or t in meta.window)}


def _held(con: duckdb.DuckDBPyConnection, rels: Mapping[str, str | None], tables: set[str], side: str
          ) -> dict[str, str]:
    """The replays `rels` of `tables` (those a diff compares) computed once, into temporary tables until
    `_release`, by table: a diff reads each side twice (the hashes apart, then the rows that differ), and a
    replay reads a whole chain of files. None is made on the everyday next day, whose base is the latest state's
    files."""
    held = {}
    for table in sorted(tables):
        rel = rels.get(table)
        if rel is not None:
            held[table] = f"tieout_{side}_{table}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {held[table]} AS SELECT * FROM {rel}")
    return held


def _release(con: duckdb.DuckDBPyConnection, held: Mapping[str, str]) -> None:
    """Drop what `_held` made: the rules that run next need the memory."""
    for name in held.values():
        con.execute(f"DROP TABLE {name}")


def _stage_latest(con: duckdb.DuckDBPyConnection, plan: Plan, state: LatestDay, parts: Parts,
                 baseline: date | None) -> LatestDay:
    """Write the rows of every part that is not in the state already, one file per table (named by the token
    of what it holds) — or, when the day's history file is a baseline, point at it; return the new state."""
    folder = state_dir(plan.project)
    folder.mkdir(parents=True, exist_ok=True)
    new = LatestDay(parts={t: dict(p) for t, p in parts.items()})
    for table, wanted in parts.items():
        kept = {p: state.files[table][p] for p, tok in wanted.items() if state.parts.get(table, {}).get(p) == tok}
        missing = {p: tok for p, tok in wanted.items() if p not in kept}
        new.files[table] = dict(kept)
        if not missing:
            continue
        if baseline is not None:
            new.files[table].update({p: f"{_IN_HISTORY}{baseline}:{_combine(wanted.values())}" for p in missing})
            continue
        name = f"{table}.{_combine(missing.values()).replace(':', '-')}.parquet"
        new.files[table].update({p: name for p in missing})
        if (folder / name).is_file() and name in {n for ns in state.files.values() for n in ns.values()}:
            continue  # the same content is there already (names are content tokens)
        rel = current(table, missing) if table in WINDOWS else current(table)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        con.execute(f"COPY (SELECT * FROM {rel}) TO {literal(str(tmp))} (FORMAT parquet)")
        plan.moves.append((tmp, folder / name))
    return new


def stage_snapshot(folder: Path, day: date, con: duckdb.DuckDBPyConnection) -> None:
    """Write `day`'s rows of every history table to `folder` (a backfill worker, for `prepare_staged`)."""
    for table in TABLES:
        target = folder / f"{day}.{table}.parquet"
        con.execute(f"COPY (SELECT {_cols(table)} FROM {table}) TO {literal(str(target))} (FORMAT parquet)")


def staged(folder: Path, day: date, con: duckdb.DuckDBPyConnection) -> None:
    """Point `con`'s history tables at `day`'s rows staged by `stage_snapshot`."""
    for table in TABLES:
        source = literal(str(folder / f"{day}.{table}.parquet"))
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
    for leftover in [*folder.glob(".*.tmp"), *state_dir(project).glob(".*.tmp")]:
        leftover.unlink(missing_ok=True)
    _sweep_state(project)
    for pending in sorted(folder.glob(".*.pending.parquet")):
        m = read_meta(pending)
        b = read_meta(history_path(project, m.base)) if m is not None and m.base is not None else None
        if m is not None and b is not None and b.tokens == m.base_tokens:
            os.replace(pending, history_path(project, m.day))
        else:
            pending.unlink(missing_ok=True)
    metas = stored_metas(project)
    unrepaired = []
    previous: date | None = None
    for day in stored:
        # A stored day without history (its exports gone) breaks the chain: the day after it is a baseline.
        base = previous if previous is not None and previous in metas else None
        base_tokens = metas[base].tokens if base is not None else None
        if not _linked(metas.get(day), base, base_tokens):
            if not _rebase(project, metas, day, base, reopen):
                unrepaired.append(day)
            metas = stored_metas(project)
        previous = day
    # Diffs of days no longer stored (a run killed before its findings were written) are no one's base now.
    keep = {history_path(project, d) for d in stored}
    for d, _ in metas.items():
        if history_path(project, d) not in keep:
            history_path(project, d).unlink(missing_ok=True)
    _sweep_tables(project)
    index_footers(project)
    return unrepaired


def _sweep_tables(project: Project) -> None:
    """Remove the baselines' table files no day's history file names: those of a baseline a run replaced (a day
    run before it, or a first day re-run with other content) — kept until this, the next run, so that a read
    that began before still finds them — and those of a run killed before its baseline's own file was in
    place. Call under the run lock."""
    folder = history_dir(project)
    named = {name for m in stored_metas(project).values() for name in m.tables.values()}
    for path in folder.glob(TABLE_FILES):
        if path.name not in named:
            path.unlink(missing_ok=True)


def _sweep_state(project: Project) -> None:
    """Remove the state files `state.json` does not name: those a run replaced and was killed before removing
    (a run that leaves the state as it is would never remove them). The state only saves replaying the history,
    so a file of a table the state no longer serves goes too. Call under the run lock."""
    folder = state_dir(project)
    if not folder.is_dir():
        return
    named = {name for names in _read_latest(project).files.values() for name in names.values()}
    for path in folder.glob("*.parquet"):
        if path.name not in named:
            path.unlink(missing_ok=True)


def _rebase(project: Project, metas: dict[date, Meta], day: date, base: date | None,
            reopen: Callable[[date], duckdb.DuckDBPyConnection | None]) -> bool:
    files = chain(metas, project, day)
    con = connect() if files is not None else reopen(day)
    if con is None:
        return False
    try:
        con.execute("SET preserve_insertion_order = false")
        new = {t: replay(t, files, metas) for t in TABLES} if files is not None else {t: current(t) for t in TABLES}
        tokens = metas[day].tokens if files is not None else tokens_of(con, new)
        base_tokens = metas[base].tokens if base is not None else None
        old = _base_rels(project, metas, base) if base is not None else None
        if base is not None and old is None:
            return False
        tmp = history_dir(project) / f".{day}.{os.getpid()}.tmp"
        for table_tmp, table_file in _write_diff(con, tmp, day, base, base_tokens, tokens, None, old, new):
            os.replace(table_tmp, table_file)
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
