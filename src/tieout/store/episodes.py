"""The stored timeline: every exception's episodes, kept as the days are committed rather than re-derived on
every read.

An episode is a run of consecutive stored days on which an exception was reported (tieout.timeline). The day
files hold only what changed since the stored day before, so the episodes can always be derived from all of
them (`DERIVED`, the reading every query used to make, kept as the test oracle and for stores without the
file) — at a cost that grows with the history. Instead, each commit writes `episodes.<hash>.parquet` next to
the day files and the manifest names it: one row per present change row of every day (an exception's
version: its attributes as reported from that day on), annotated with its episode's `first_seen`, and —
once the episode ended — `resolved_on` (the stored day that no longer reports it) and `last_seen` (the stored
day before). The file answers the timeline as of ANY stored day D: per exception, the latest version with
`day <= D`; an end after D is not known yet on D (`STORED`).

The file is also a complete record of the changes (a version is a present row, an end is a `present = false`
row on `resolved_on`), so a commit updates it from the file before and the day files it touched: only the
exceptions with a change on a day whose changes or stored day before are new (the day committed; the next
day, rebased against it) are derived again; the others' rows are copied. It is named after the day files it
was built from (which are named after their content), so it is the same file whatever order the days were run
in; it is written before the manifest and committed by its replacement, like every day file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from tieout.store.manifest import StoredDay

# Changes of the file's meaning change its name, so a file written by another version is never reused.
FORMAT = 1
# A version: the finding as reported from `day` on; its episode's dates.
EPISODE_COLUMNS = ("day", "first_seen", "last_seen", "resolved_on")

# The stored days numbered in order, every change with its day's number, each change numbered with the episode
# it belongs to: an episode starts with each change reporting an exception that the stored day before did not.
_NUMBERED = """
WITH run_days AS (
    SELECT day, row_number() OVER (ORDER BY day) AS n FROM (SELECT unnest($days) AS day)
),
changes AS (
    SELECT c.*, d.n FROM __FILES__ AS c JOIN run_days AS d USING (day) WHERE __WHERE__
),
numbered AS (
    SELECT *, sum(CASE WHEN present AND NOT coalesce(was_present, false) THEN 1 ELSE 0 END)
              OVER (PARTITION BY id ORDER BY n ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(present) OVER (PARTITION BY id ORDER BY n) AS was_present FROM changes)
),
spans AS (
    SELECT id, episode, min(n) AS start_n, min(n) FILTER (WHERE NOT present) AS end_n,
           max(n) FILTER (WHERE present) AS attributes_n
    FROM numbered GROUP BY id, episode
)"""

# The timeline derived from the day files `$files` of the stored days `$days`: one row per episode with the
# attributes of its last report. What every read did before the timeline was stored.
DERIVED = _NUMBERED + """,
episodes AS (
    SELECT c.id, c.rule, c.canonical_id, c.source_system, c.source_id, c.field, c.severity, c.impact, c.team,
           c.details, c.original_amount, c.original_currency, f.day AS first_seen,
           coalesce(l.day, (SELECT max(day) FROM run_days)) AS last_seen, r.day AS resolved_on
    FROM spans AS s
    JOIN changes AS c ON c.id = s.id AND c.n = s.attributes_n
    JOIN run_days AS f ON f.n = s.start_n
    LEFT JOIN run_days AS r ON r.n = s.end_n  -- resolved on the stored day that no longer reports it
    LEFT JOIN run_days AS l ON l.n = s.end_n - 1
)"""

# The same episodes read from the stored file `$episodes` as they stood on the last of `$days`.
STORED = """
WITH run_days AS (SELECT unnest($days) AS day),
stored AS (SELECT * FROM read_parquet($episodes) WHERE day <= (SELECT max(day) FROM run_days)),
changes AS (SELECT * FROM stored WHERE __WHERE__),
episodes AS (
    SELECT id, rule, canonical_id, source_system, source_id, field, severity, impact, team, details,
           original_amount, original_currency, first_seen,
           CASE WHEN resolved_on <= (SELECT max(day) FROM run_days) THEN last_seen
                ELSE (SELECT max(day) FROM run_days) END AS last_seen,
           CASE WHEN resolved_on <= (SELECT max(day) FROM run_days) THEN resolved_on END AS resolved_on
    -- the episode's latest version: a join on its day, several times faster than a window over every column
    FROM changes SEMI JOIN (SELECT id, first_seen, max(day) AS day FROM changes GROUP BY id, first_seen)
         USING (id, first_seen, day)
)"""
# What `__FILES__` (every change row in scope, for a filter by entity) reads in STORED.
STORED_FILES = "stored"

# Every present change of `__FILES__` with its episode's dates: the rows of the stored file.
_ANNOTATED = _NUMBERED + """
SELECT c.* EXCLUDE (n, present, was_present, episode), f.day AS first_seen, l.day AS last_seen,
       r.day AS resolved_on
FROM numbered AS c
JOIN spans AS s USING (id, episode)
JOIN run_days AS f ON f.n = s.start_n
LEFT JOIN run_days AS r ON r.n = s.end_n
LEFT JOIN run_days AS l ON l.n = s.end_n - 1
WHERE c.present"""


# The segment of a row: its episode's, by when the episode ended — `open`, or the month of `resolved_on`.
_SEGMENT = "coalesce(strftime(resolved_on, '%Y-%m'), 'open')"
SEGMENT_FILE = re.compile(r"^episodes\.(open|\d{4}-\d{2})\.[0-9a-f]{16}\.parquet$")


def _segment_name(key: str, days: list[StoredDay]) -> str:
    """Segment `key` of the stored timeline of `days`, named after their files (named after their content):
    its content depends on nothing else."""
    listed = "\n".join([f"format {FORMAT}", key, *(f"{d.day}:{d.file}" for d in days)])
    return f"episodes.{key}.{hashlib.sha256(listed.encode()).hexdigest()[:16]}.parquet"


def _segment_of(name: str) -> str:
    match = SEGMENT_FILE.match(name)
    if match is None:
        raise ValueError(f"not a segment of the stored timeline: {name}")
    return match.group(1)


def _links(days: list[StoredDay]) -> dict[date, tuple[str, date | None]]:
    """Each stored day's file and the stored day before it: what its changes, and its episodes' ends, mean."""
    return {d.day: (d.file, before.day if before else None) for before, d in zip([None, *days], days, strict=False)}


def touched(before: list[StoredDay], after: list[StoredDay]) -> list[date]:
    """The days whose changes, or the day their changes are against, differ between the two lists."""
    old, new = _links(before), _links(after)
    return sorted({d for d in new if old.get(d) != new[d]} | {d for d in old if d not in new})


def _usable(segments: list[Path]) -> bool:
    """Whether the segments of a stored timeline are all there, its open segment among them."""
    names = [p.name for p in segments]
    return all(SEGMENT_FILE.match(n) for n in names) and any(_segment_of(n) == "open" for n in names) and all(
        p.is_file() for p in segments)


Write = Callable[[str, str, dict[str, Any]], None]  # (file name, SELECT, its parameters): write it, durably


def store(con: duckdb.DuckDBPyConnection, folder: Path, before: list[StoredDay], segments: tuple[str, ...] | None,
          after: list[StoredDay], read_files: str, finding_columns: tuple[str, ...], write: Write) -> tuple[str, ...]:
    """Write the stored timeline of the days `after`, given the one of the days `before` (its `segments` in
    `folder`; None or one gone: derived from every day file), and return its segments' names. `read_files`:
    SQL reading the day files whose paths are in `$files`, every column there.

    Only episodes that end on or after the earliest touched day, or are open, can change (an earlier one's
    days and the days before them are all as they were): so only the `open` segment and those of that month
    on are read and written again, and in them only the rows of the exceptions with a change on a touched day
    (in the timeline before, or in the day files now) are derived again — from their rows of those episodes,
    less the touched days', and the touched days' changes. The daily case (the next day) rewrites the open
    episodes and the current month's ended ones."""
    columns = ", ".join([*finding_columns, *EPISODE_COLUMNS])
    days = [d.day for d in after]
    changed = touched(before, after)
    fresh = [str(folder / d.file) for d in after if d.day in changed]
    old = [folder / name for name in segments or ()]
    if not fresh or not _usable(old):
        annotated = _ANNOTATED.replace("__FILES__", read_files).replace("__WHERE__", "true")
        con.execute(f"CREATE OR REPLACE TEMP TABLE episode_rows AS SELECT {columns} FROM ({annotated})",
                    {"days": days, "files": [str(folder / d.file) for d in after]})
        kept: list[str] = []
        rewritten: set[str] = set()
    else:
        cut = changed[0]
        month = cut.strftime("%Y-%m")
        redo = [p for p in old if _segment_of(p.name) == "open" or _segment_of(p.name) >= month]
        kept = [p.name for p in old if p not in redo]
        rewritten = {_segment_of(p.name) for p in redo}
        params: dict[str, Any] = {"files": fresh, "changed": changed, "cut": cut}
        con.execute(f"CREATE OR REPLACE TEMP TABLE old_rows AS SELECT {columns} FROM read_parquet($old)",
                    {"old": [str(p) for p in redo]})  # never empty: the open segment is always there
        # The rows derived again: those of the episodes that may change, of the exceptions touched.
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE redone AS
            SELECT * FROM old_rows
            WHERE (resolved_on IS NULL OR resolved_on >= $cut) AND id IN (
                SELECT id FROM {read_files} UNION
                SELECT id FROM old_rows
                WHERE day IN (SELECT unnest($changed)) OR resolved_on IN (SELECT unnest($changed)))
        """, params)
        cols = ", ".join(finding_columns)
        replayed = f"""(
            SELECT {cols}, day, true AS present FROM redone WHERE day NOT IN (SELECT unnest($changed))
            UNION ALL BY NAME
            SELECT DISTINCT id, resolved_on AS day, false AS present FROM redone
            WHERE resolved_on IS NOT NULL AND resolved_on NOT IN (SELECT unnest($changed))
            UNION ALL BY NAME
            SELECT {cols}, day, present FROM {read_files}
        )"""
        annotated = _ANNOTATED.replace("__FILES__", replayed).replace("__WHERE__", "true")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE episode_rows AS
            SELECT {columns} FROM old_rows ANTI JOIN redone USING (id, day)
            UNION ALL BY NAME SELECT {columns} FROM ({annotated})
        """, {"days": days, "files": fresh, "changed": changed})
    found = {k for (k,) in con.execute(f"SELECT DISTINCT {_SEGMENT} FROM episode_rows").fetchall()}
    written = []
    # The open segment is always there (maybe empty): a reader always has a file to read.
    for key in sorted(found | rewritten | {"open"}):
        if key in found or key == "open":
            name = _segment_name(key, after)
            if not (folder / name).is_file():
                write(name, f"SELECT {columns} FROM episode_rows WHERE {_SEGMENT} = $key ORDER BY id, day",
                      {"key": key})
            written.append(name)
    return tuple(sorted([*kept, *written], key=_segment_of))
