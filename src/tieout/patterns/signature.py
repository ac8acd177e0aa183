"""Each episode's signature, read set-based: one DuckDB query over the stored source history for all episodes
at once (the resolution rows of the whole chain of history files, and the diffs of the episodes' first days and
the days before them), never one history query per exception.

What changed on an episode's first day among the records of its entity (or its one record): which system,
table and field, compared with the stored day before. A record added or removed counts as `table:added` /
`table:removed`; a moved `updated_at` is never a change by itself (as in `tieout show`); the usage export's
daily window (a new day's row in, the oldest out) is routine, so usage counts only as a change of the latest
reading's `fte_count` or of whether it has active users. And how each record resolved that day (the entity
map, a natural key, unmapped, ambiguous) and whether it was new.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import tieout.patterns.signature_cache as signature_cache
from tieout.config import Project
from tieout.db import scratch
from tieout.patterns.model import COMPARED, FIRST_DAY, MAPPED, UNAVAILABLE, ChangeItem, Occurrence, Origin, Signature
from tieout.patterns.signature_cache import Subject
from tieout.record_versions import IGNORED_FOR_CHANGE
from tieout.store import history_files, history_reads, source_history, stored_days
from tieout.systems import CHILD_TABLE, RECORD_TABLE, SYSTEMS
from tieout.timeline import Episode

# A kind of change (table, field) that touched at least half of a system's records on a day — and at least
# this many — is that day's routine (a month's invoices issued, last month's marked paid), not a cause.
ROUTINE_SHARE = Decimal("0.5")
ROUTINE_MIN_RECORDS = 10


def _key_sql(table: str, column: str) -> str:
    """A column of a history row: the new version's, or for a removed row the old one's."""
    return history_reads.either_version(f'{{r}}."{column}"', f'"{table}"', f'"{table}__old"')


def _touched_sql() -> str:
    """Every row of the read diffs as (day, system, source_id, table, change, fields): the source record it
    belongs to. Usage rows only when restated (`changed`): a day's new row and the row leaving the trailing
    window are the export's routine, compared below as the latest reading instead. One scan reading only the
    id of each table's row, not whole rows."""
    systems, ids, tables = [], [], []
    for system in SYSTEMS:
        for table, column in (RECORD_TABLE[system], CHILD_TABLE[system]):
            systems.append(f"WHEN '{table}' THEN '{system}'")
            ids.append(f"WHEN '{table}' THEN {_key_sql(table, column)}")
            tables.append(f"'{table}'")
    sr = "source_records"
    return f"""SELECT day, CASE "table" {' '.join(systems)} ELSE {_key_sql(sr, 'source_system')} END AS system,
        CASE "table" {' '.join(ids)} ELSE {_key_sql(sr, 'source_id')} END AS source_id, "table", change, fields
    FROM __DAYS__
    WHERE __ANY__ AND "table" IN ({', '.join(tables)}, '{sr}')
      AND ("table" <> 'ops_usage' OR change = 'changed')"""


# The tables whose history rows `_touched_sql` reads, beside the resolution rows.
_TOUCHED_TABLES = [t for system in SYSTEMS for t, _ in (RECORD_TABLE[system], CHILD_TABLE[system])]
_RESOLUTION = ", ".join(f"'{c}': {_key_sql('source_records', c)}"
                        for c in ("source_system", "source_id", "canonical_id", "status", "resolved_by"))


# `eps`: one row per episode whose first day the history covers — ep, canonical_id, source_system, source_id,
# f (first day), b (the stored day before it, NULL when f is the history's first day).
_SIGNATURE_SQL = """
WITH sr_raw AS (  -- the fields of the resolution rows that are read, not whole rows
    SELECT day, key, change, {__RESOLUTION__} AS r
    FROM __CHAIN__ WHERE "table" = 'source_records'
),
wanted AS (  -- only the resolution rows that can matter: of the episodes' entities and records
    SELECT DISTINCT key FROM sr_raw
    WHERE r.canonical_id IN (SELECT canonical_id FROM eps WHERE canonical_id IS NOT NULL)
       OR r.source_system || ':' || r.source_id IN (
           SELECT source_system || ':' || source_id FROM eps WHERE source_id IS NOT NULL)
),
sr AS (  -- each version of a resolution row, valid from its day until the next version's
    SELECT day AS valid_from, lead(day) OVER (PARTITION BY key ORDER BY day) AS valid_to, change, r
    FROM sr_raw SEMI JOIN wanted USING (key)
),
live AS (
    SELECT valid_from, valid_to, r.source_system, r.source_id, r.canonical_id, r.status, r.resolved_by
    FROM sr WHERE change <> 'removed'
),
members AS (  -- an entity's records resolved to it on the day before or on the first day; else the record
    SELECT DISTINCT e.ep, l.source_system AS system, l.source_id
    FROM eps AS e JOIN live AS l ON l.canonical_id = e.canonical_id AND l.status = 'resolved'
    WHERE (l.valid_from <= e.f AND (l.valid_to IS NULL OR l.valid_to > e.f))
       OR (e.b IS NOT NULL AND l.valid_from <= e.b AND (l.valid_to IS NULL OR l.valid_to > e.b))
    UNION
    SELECT ep, source_system, source_id FROM eps WHERE canonical_id IS NULL AND source_id IS NOT NULL
),
origins AS (
    SELECT m.ep, m.system,
           coalesce(CASE WHEN now.status = 'resolved' THEN now.resolved_by ELSE now.status END,
                    CASE WHEN bef.status = 'resolved' THEN bef.resolved_by ELSE bef.status END) AS method,
           CASE WHEN e.b IS NULL THEN 'first_day' WHEN now.source_id IS NULL THEN 'removed'
                WHEN bef.source_id IS NULL THEN 'new' ELSE 'existing' END AS lifecycle
    FROM members AS m JOIN eps AS e USING (ep)
    LEFT JOIN live AS now ON now.source_system = m.system AND now.source_id = m.source_id
         AND now.valid_from <= e.f AND (now.valid_to IS NULL OR now.valid_to > e.f)
    LEFT JOIN live AS bef ON e.b IS NOT NULL AND bef.source_system = m.system AND bef.source_id = m.source_id
         AND bef.valid_from <= e.b AND (bef.valid_to IS NULL OR bef.valid_to > e.b)
),
touched AS (__TOUCHED__),  -- the first days' diffs
kinds AS (  -- every read first day's changes, one row per record and kind of change
    SELECT day, system, "table", change, source_id,
           unnest(CASE WHEN change = 'changed' THEN list_filter(fields, lambda x: NOT list_contains($ignored, x))
                       ELSE [NULL] END) AS field
    FROM touched
),
sizes AS (SELECT unnest($size_days) AS day, unnest($size_systems) AS system, unnest($size_records) AS records),
routine AS (  -- a kind of change that touched most of a system's records that day is the day's routine
    SELECT k.day, k.system, k."table", k.change, k.field
    FROM kinds AS k JOIN sizes AS z ON z.day = k.day AND z.system = k.system
    GROUP BY ALL
    HAVING count(DISTINCT k.source_id) >= $routine_min
       AND count(DISTINCT k.source_id) >= $routine_share * any_value(z.records)
),
items AS (
    SELECT DISTINCT e.ep, k.system, k."table", k.change, k.field
    FROM members AS m JOIN eps AS e USING (ep)
    JOIN kinds AS k ON k.day = e.f AND k.system = m.system AND k.source_id = m.source_id
    WHERE e.b IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM routine AS r
        WHERE r.day = k.day AND r.system = k.system AND r."table" = k."table" AND r.change = k.change
          AND r.field IS NOT DISTINCT FROM k.field)
),
ops_members AS (
    SELECT DISTINCT e.ep, e.f, e.b, m.source_id FROM members AS m JOIN eps AS e USING (ep)
    WHERE m.system = 'ops' AND e.b IS NOT NULL
),
readings AS (  -- each tenant's latest usage row added on a read day
    SELECT day, r.tenant_id, r.fte_count, r.active_users > 0 AS active
    FROM (SELECT day, ops_usage AS r FROM __USAGE_DAYS__
          WHERE __ANY__ AND "table" = 'ops_usage' AND change = 'added'
            AND ops_usage.tenant_id IN (SELECT source_id FROM ops_members))
    QUALIFY row_number() OVER (PARTITION BY day, r.tenant_id ORDER BY r.date DESC) = 1
),
usage_items AS (
    SELECT o.ep, 'ops' AS system, 'ops_usage' AS "table", 'changed' AS change,
           unnest(list_filter([CASE WHEN n.fte_count IS DISTINCT FROM p.fte_count THEN 'fte_count' END,
                               CASE WHEN n.active IS DISTINCT FROM p.active THEN 'active_users' END],
                              lambda x: x IS NOT NULL)) AS field
    FROM ops_members AS o
    JOIN readings AS n ON n.day = o.f AND n.tenant_id = o.source_id
    JOIN readings AS p ON p.day = o.b AND p.tenant_id = o.source_id
)
SELECT 'change' AS kind, ep, system, "table" AS a, change AS b, field AS c FROM items
UNION ALL SELECT 'change', ep, system, "table", change, field FROM usage_items
UNION ALL SELECT 'origin', ep, system, method, lifecycle, NULL FROM origins
"""


def _history_days(project: Project, until: date) -> list[date]:
    """The stored days, up to `until`, whose history replays from a baseline: the chain of `until`'s file
    (the first of them is the baseline). Empty if no stored history reaches `until`."""
    stored = stored_days(project, until=until)
    read = history_files.read_metas(history_files.history_path(project, d) for d in stored)
    metas = {m.day: m for m in read.values() if m is not None}
    files = source_history.chain(metas, project, stored[-1]) if stored else None
    return [date.fromisoformat(Path(p).name[:10]) for p in files or []]


def _system_sizes(project: Project, days: list[date]) -> list[tuple[date, str, int]]:
    """(day, system, how many records the system exported that day), from the row counts each history file
    records for its day; a day or table whose count cannot be read is left out (nothing is routine there)."""
    out = []
    for d in days:
        meta = history_files.read_meta(history_files.history_path(project, d))
        for system in SYSTEMS:
            token = meta.tokens.get(RECORD_TABLE[system][0], "") if meta is not None else ""
            count = token.partition(":")[0]
            if count.isdigit():
                out.append((d, system, int(count)))
    return out or [(date.min, "", 0)]  # unnest of an empty list has no type


def signatures(project: Project, found: list[tuple[Episode, str]], as_of: date) -> list[Occurrence]:
    """Each (episode, classification) with its signature: kept ones from the store's cache
    (`signature_cache`), the others in one query for all of them, then kept."""
    covered = _history_days(project, as_of)
    index = {d: i for i, d in enumerate(covered)}
    history: list[str] = []
    compared: list[tuple[int, Subject, date, date | None]] = []  # (episode, subject, first day, day before)
    for n, (e, _) in enumerate(found):
        i = index.get(e.first_seen)
        if i is None:
            history.append(UNAVAILABLE)
            continue
        history.append(COMPARED if i > 0 else FIRST_DAY)
        compared.append((n, (e.canonical_id, e.source_system, e.source_id), e.first_seen,
                         covered[i - 1] if i else None))
    keys = {(f, b): signature_cache.key(project, f, b) for f, b in {(f, b) for _, _, f, b in compared}}
    kept = {(f, b): signature_cache.read(project, f, k) if k is not None else {} for (f, b), k in keys.items()}
    got: dict[int, list[signature_cache.Row]] = {}
    missing = []
    for n, subject, f, b in compared:
        rows = kept[(f, b)].get(subject)
        if rows is None:
            missing.append((n, subject, f, b))
        else:
            got[n] = rows
    if missing:
        read = _read(project, covered, missing)
        fresh: dict[tuple[date, date | None], dict[Subject, list[signature_cache.Row]]] = defaultdict(dict)
        for n, subject, f, b in missing:
            got[n] = fresh[(f, b)][subject] = read.get(n, [])
        for (f, b), subjects in fresh.items():
            # Kept for the next read — unless a run changed a day meanwhile: the rows read may then be the new
            # content's, not the content the key names.
            k = keys[(f, b)]
            if k is not None and signature_cache.key(project, f, b) == k:
                signature_cache.write(project, f, k, {**kept[(f, b)], **subjects})
    out = []
    for n, (e, classification) in enumerate(found):
        changes: set[ChangeItem] = set()
        origins: set[Origin] = set()
        for kind, system, x, y, z in got.get(n, ()):
            if kind == "change":
                changes.add(ChangeItem(system, x, y, z))  # type: ignore[arg-type]
            elif x is not None:
                origins.add(Origin(system, x, y))  # type: ignore[arg-type]
        resolved = tuple(sorted({(o.system, o.method) for o in origins if o.method != MAPPED}))
        sig = Signature(e.rule, history[n], tuple(sorted(changes)), resolved)
        out.append(Occurrence(e, classification, sig, tuple(sorted(origins))))
    return out


def _read(project: Project, covered: list[date], compared: list[tuple[int, Subject, date, date | None]]
          ) -> dict[int, list[signature_cache.Row]]:
    """The signature rows of each episode of `compared` (episode, subject, first day, the day before it on the
    history chain `covered`), read in one query for all of them."""
    rows: dict[str, list[Any]] = {k: [] for k in ("ep", "canonical_id", "source_system", "source_id", "f", "b")}
    for n, (canonical_id, source_system, source_id), f, b in compared:
        for k, v in (("ep", n), ("canonical_id", canonical_id), ("source_system", source_system),
                     ("source_id", source_id), ("f", f), ("b", b)):
            rows[k].append(v)
    # the first days' diffs, and for the usage readings those of the days before them too
    pairs = [(f, b) for f, b in zip(rows["f"], rows["b"], strict=True) if b is not None]
    firsts = sorted({f for f, _ in pairs})
    usage_days = sorted({d for pair in pairs for d in pair})
    sizes = _system_sizes(project, firsts)
    with scratch() as con:  # a cursor of the process's database: opening one costs tens of ms
        # The episodes as a TEMP table (private to this cursor) from typed lists: no pyarrow for a read.
        con.execute("""CREATE TEMP TABLE eps AS SELECT
            unnest(CAST($ep AS BIGINT[])) AS ep, unnest(CAST($canonical_id AS VARCHAR[])) AS canonical_id,
            unnest(CAST($source_system AS VARCHAR[])) AS source_system,
            unnest(CAST($source_id AS VARCHAR[])) AS source_id,
            unnest(CAST($f AS DATE[])) AS f, unnest(CAST($b AS DATE[])) AS b""", rows)
        # Every episode may have begun on the history's first day: then no diff is read (the baseline
        # file stands in for the schema only).
        def files(days: list[date], tables: list[str]) -> str:  # the days' history rows of `tables`
            return history_files.scan([history_files.history_path(project, d) for d in days], tables)

        sql = (_SIGNATURE_SQL.replace("__TOUCHED__", _touched_sql()).replace("__RESOLUTION__", _RESOLUTION)
               .replace("__ANY__", str(bool(firsts)).lower())
               .replace("__CHAIN__", files(covered, ["source_records"]))
               .replace("__DAYS__", files(firsts or covered[:1], [*_TOUCHED_TABLES, "source_records"]))
               .replace("__USAGE_DAYS__", files(usage_days or covered[:1], ["ops_usage"])))
        result = con.execute(sql, {
            "ignored": sorted(IGNORED_FOR_CHANGE),
            "size_days": [d for d, _, _ in sizes], "size_systems": [x for _, x, _ in sizes],
            "size_records": [n for _, _, n in sizes],
            "routine_min": ROUTINE_MIN_RECORDS, "routine_share": ROUTINE_SHARE,
        }).fetchall()
    out: dict[int, set[signature_cache.Row]] = defaultdict(set)
    for kind, ep, system, a, b, c in result:
        out[ep].add((kind, system, a, b, c))
    return {ep: sorted(r, key=str) for ep, r in out.items()}
