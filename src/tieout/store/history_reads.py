"""Reading records' past versions from the source history (tieout.store.source_history): a stored day's rows of a
table (`state_rows`), and the versions of chosen records (`versions_of`), scanning first only the key
fields of the chain's files to find the few files whose whole rows are then read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from tieout.config import Project
from tieout.sql import literal, quote_name
from tieout.store.history_files import day_file, scan
from tieout.store.source_history import TABLES, chain, replay, stored_metas


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def state_rows(con: duckdb.DuckDBPyConnection, project: Project, day: date, table: str,
               where: str, params: Any = None) -> list[dict[str, Any]] | None:
    """`day`'s rows of `table` matching `where`, replayed from the history; None if the history is broken."""
    metas = stored_metas(project)
    files = chain(metas, project, day)
    if files is None:
        return None
    got = rows(con, f"SELECT * EXCLUDE (__h) FROM {replay(table, files, metas)} WHERE {where}", params)
    return got


def versions_of(con: duckdb.DuckDBPyConnection, project: Project, day: date,
                wanted: Mapping[str, tuple[str, Iterable[str]]], holding: list[Path] | None = None
                ) -> dict[str, list[dict[str, Any]]] | None:
    """The versions of chosen records of several tables up to `day`, in one scan of the history files (a scan
    per table reads every file again): per table, the rows whose key — an expression over `{r}`, the new row else
    the old, e.g. `{r}.customer_id` — is one of the given values, each as `day`, `change`, `fields`, `new`, `old`
    and `r` (the new row, else the old), by record, oldest first; None if the history is broken.
    `holding`: the files of the chain holding those rows, when a scan of the key fields found them already."""
    files = chain(stored_metas(project), project, day) if holding is None else holding
    if files is None:
        return None
    if not wanted:
        return {}
    params: dict[str, list[str]] = {}
    columns, matches = [], []
    for n, (table, (key, values)) in enumerate(wanted.items()):
        new, old = quote_name(table), quote_name(table + "__old")
        columns.append(f"{new}, {old}")
        params[f"v{n}"] = sorted(values)
        matches.append(f"(\"table\" = {literal(table)} AND "
                       f"{either_version(key, new, old)} IN (SELECT unnest(${f'v{n}'})))")
    where = " OR ".join(matches)
    if holding is None:
        files = _holding(con, files, wanted, f"SELECT filename FROM {{files}} WHERE {where}", params)
    found = rows(con, f"""SELECT "table", day, change, fields, {', '.join(columns)}
        FROM {scan(files, wanted)} WHERE {where}""", params) if files else []
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
    for row in found:
        table = row["table"]
        new, old = row[table], row[table + "__old"]
        out[table].append({"day": row["day"], "change": row["change"], "fields": row["fields"], "new": new,
                           "old": old, "r": new if new is not None else old})
    for table, got in out.items():
        # by record (its primary key), oldest first
        got.sort(key=lambda v, pk=TABLES[table][1]: (*(v["r"][c] for c in pk), v["day"]))  # type: ignore[misc]
    return out


def records_and_files(con: duckdb.DuckDBPyConnection, project: Project, day: date, keys: Mapping[str, tuple[str, str]],
                      canonical_id: str | None, records: Iterable[tuple[str, str]] = ()
                      ) -> tuple[set[tuple[str, str]], list[Path]] | None:
    """The source records (system, source id) of `records` and of every resolution row that ever named
    `canonical_id`, and the files of `day`'s chain holding a row of theirs in `keys`' tables (table -> (its
    system, its record's key column)) or in the resolution rows — both from one scan of the key fields of
    every file, so that the scan reading whole rows reads only those files. None if the history is broken."""
    files = chain(stored_metas(project), project, day)
    if files is None:
        return None
    systems = [f"WHEN {literal(t)} THEN {literal(system)}" for t, (system, _) in keys.items()]
    ids = [f"WHEN {literal(t)} THEN {either_version(f'{{r}}.{quote_name(c)}', quote_name(t), quote_name(t + '__old'))}"
           for t, (_, c) in keys.items()]
    sr = "source_records"
    given = sorted(records)
    got = con.execute(f"""
        WITH k AS MATERIALIZED (
            SELECT filename,
                   CASE "table" {' '.join(systems)} ELSE {either_version('{r}.source_system', sr, sr + '__old')} END
                       AS system,
                   CASE "table" {' '.join(ids)} ELSE {either_version('{r}.source_id', sr, sr + '__old')} END AS id,
                   "table" = '{sr}' AND ({sr}.canonical_id = $id OR {sr}__old.canonical_id = $id) AS named
            FROM {scan(files, [*keys, sr], filename=True)}
            WHERE "table" IN ({', '.join(literal(t) for t in [*keys, sr])})
        ),
        subjects AS (
            SELECT DISTINCT system, id FROM k WHERE named
            UNION SELECT unnest(CAST($systems AS VARCHAR[])), unnest(CAST($ids AS VARCHAR[]))
        )
        SELECT 'record', system, id FROM subjects
        UNION ALL SELECT DISTINCT 'file', filename, NULL FROM k SEMI JOIN subjects USING (system, id)""",
        {"id": canonical_id, "systems": [s for s, _ in given], "ids": [i for _, i in given]}).fetchall()
    found = {day_file(f) for kind, f, _ in got if kind == "file"}
    return {(s, i) for kind, s, i in got if kind == "record"}, [p for p in files if p in found]


def either_version(expression: str, new: str, old: str) -> str:
    """`expression` over `{r}`, a history row's new version, or for a removed row the old one. The row's change
    decides, never a value (a changed row's new value may be NULL), nor `coalesce(new, old)` or a test of the new
    struct for NULL: those read every field of the structs, every column of the table, from every file."""
    return f"CASE WHEN change <> 'removed' THEN {expression.format(r=new)} ELSE {expression.format(r=old)} END"


def _holding(con: duckdb.DuckDBPyConnection, files: list[Path], tables: Iterable[str], query: str, params: Any
             ) -> list[Path]:
    """The files of `files` holding a row that `query` (SELECT filename FROM `{files}`, the files, WHERE …)
    finds. The scan reads only the columns its condition reads — a few fields of a few tables — so that the
    scan that reads whole rows (every column of a table, new and old) reads only the few files a record's
    versions are in, not every file of the chain."""
    found = {day_file(f) for (f,) in con.execute(
        query.format(files=scan(files, tables, filename=True)), params).fetchall()}
    return [p for p in files if p in found]
