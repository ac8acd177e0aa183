"""Where the state database is and which schema it must have, answered without importing SQLAlchemy: a run on a
project that has never recorded anything should not pay a third of a second to learn that, and a read of a
SQLite database goes through Python's sqlite3 (tieout.state.sqlite_reads)."""

from __future__ import annotations

import os
from pathlib import Path

from tieout.config import Project

ENV_URL = "TIEOUT_STATE_URL"
SQLITE_FILE = "state.db"
# The newest revision in migrations/versions/ (a test keeps the two in step). A database already there is
# opened without loading Alembic at all, which costs a run a third of a second.
HEAD_REVISION = "0009_pattern_decisions"
# How long a SQLite connection waits for another's lock before it gives up.
BUSY_TIMEOUT_MS = 30_000


def configured_url(project: Project) -> str | None:
    """The URL the user named (`TIEOUT_STATE_URL` wins over `state_url` in tieout.yml), None for the default."""
    return os.environ.get(ENV_URL) or project.state_url


def default_path(project: Project) -> Path:
    return project.store_path / SQLITE_FILE


def may_exist(project: Project) -> bool:
    """False only when the database is surely absent: the default SQLite file, not created yet."""
    return configured_url(project) is not None or default_path(project).is_file()
