"""The project's state: one Parquet file of findings per as-of date under `<store>/days/`.

Each day is written to a temporary file and moved into place with one `os.replace`, so a day is either
stored whole or not at all, and re-running a date replaces it (idempotent).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tieout.config import Project

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")


def days_dir(project: Project) -> Path:
    return project.store_path / "days"


def day_path(project: Project, as_of: date) -> Path:
    return days_dir(project) / f"{as_of.isoformat()}.parquet"


def stored_days(project: Project, *, until: date | None = None) -> list[date]:
    folder = days_dir(project)
    if not folder.is_dir():
        return []
    found = sorted(date.fromisoformat(m.group(1)) for p in folder.iterdir() if (m := _DAY_FILE.match(p.name)))
    return [d for d in found if until is None or d <= until]


def write_day(findings: pa.Table, project: Project, as_of: date) -> Path:
    """Store `findings` as the observations of `as_of`, atomically."""
    target = day_path(project, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(findings, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
