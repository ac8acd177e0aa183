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


def file_name(days: list[StoredDay]) -> str:
    """The stored timeline of `days`, named after their files (named after their content)."""
    listed = "\n".join([f"format {FORMAT}", *(f"{d.day}:{d.file}" for d in days)])
    return f"episodes.{hashlib.sha256(listed.encode()).hexdigest()[:16]}.parquet"


def _links(days: list[StoredDay]) -> dict[date, tuple[str, date | None]]:
    """Each stored day's file and the stored day before it: what its changes, and its episodes' ends, mean."""
    return {d.day: (d.file, before.day if before else None) for before, d in zip([None, *days], days, strict=False)}


def touched(before: list[StoredDay], after: list[StoredDay]) -> list[date]:
    """The days whose changes, or the day their changes are against, differ between the two lists."""
    old, new = _links(before), _links(after)
    return sorted({d for d in new if old.get(d) != new[d]} | {d for d in old if d not in new})


def build(con: duckdb.DuckDBPyConnection, folder: Path, before: list[StoredDay], before_file: str | None,
          after: list[StoredDay], read_files: str, finding_columns: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The SELECT (and its parameters) of the stored timeline of `after`, given the one of `before` (file
    `before_file` in `folder`; None or gone: derived from every day file). `read_files`: SQL reading the day
    files whose paths are in `$files`, every column there."""
    columns = ", ".join([*finding_columns, *EPISODE_COLUMNS])
    days = [d.day for d in after]
    old = folder / before_file if before_file else None
    changed = touched(before, after)
    fresh = [str(folder / d.file) for d in after if d.day in changed]
    if old is None or not old.is_file() or not fresh:
        annotated = _ANNOTATED.replace("__FILES__", read_files).replace("__WHERE__", "true")
        return (f"SELECT {columns} FROM ({annotated}) ORDER BY id, day",
                {"days": days, "files": [str(folder / d.file) for d in after]})
    params: dict[str, Any] = {"days": days, "files": fresh, "old": str(old), "changed": changed}
    # Only the exceptions with a change on a touched day (in the file before, or in the day files now) are
    # derived again: from their rows of the file before, less those of the touched days, and the touched days'
    # changes. The others keep their rows.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE affected AS
        SELECT id FROM {read_files} UNION
        SELECT id FROM read_parquet($old)
        WHERE day IN (SELECT unnest($changed)) OR resolved_on IN (SELECT unnest($changed))
    """, {k: params[k] for k in ("files", "old", "changed")})
    cols = ", ".join(finding_columns)
    replayed = f"""(
        SELECT {cols}, day, true AS present FROM read_parquet($old) SEMI JOIN affected USING (id)
        WHERE day NOT IN (SELECT unnest($changed))
        UNION ALL BY NAME
        SELECT DISTINCT id, resolved_on AS day, false AS present FROM read_parquet($old) SEMI JOIN affected USING (id)
        WHERE resolved_on IS NOT NULL AND resolved_on NOT IN (SELECT unnest($changed))
        UNION ALL BY NAME
        SELECT {cols}, day, present FROM {read_files}
    )"""
    annotated = _ANNOTATED.replace("__FILES__", replayed).replace("__WHERE__", "true")
    return (f"SELECT {columns} FROM (SELECT {columns} FROM read_parquet($old) ANTI JOIN affected USING (id) "
            f"UNION ALL BY NAME SELECT * FROM ({annotated})) ORDER BY id, day", params)
