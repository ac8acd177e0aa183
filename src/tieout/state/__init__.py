"""People-facing state: what people write (corrections now; workflow, comments, users, sessions and the audit
log later), in a database several processes share. Day snapshots stay Parquet files (tieout.store).

    >>> from tieout import state
    >>> with state.open(project, write=True) as conn:      # doctest: +SKIP
    ...     conn.execute(...)

SQLite `<store>/state.db` (WAL) by default; Postgres when `state_url` or `TIEOUT_STATE_URL` says so. Tables
are SQLAlchemy Core (`tieout.state.tables`); the schema is migrated by Alembic on first use. SQLAlchemy is
imported only when a database is actually opened (`tieout.state.location` answers "is there one?").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tieout.config import Project
from tieout.state.location import ENV_URL, configured_url, default_path, may_exist

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tieout.state.engine import dispose_all, engine_for, is_sqlite, state_url

__all__ = ["ENV_URL", "configured_url", "dispose_all", "engine_for", "exists", "is_sqlite", "may_exist", "open",
           "state_url"]
_FROM_ENGINE = {"dispose_all", "engine_for", "is_sqlite", "state_url"}


def __getattr__(name: str) -> Any:
    if name in _FROM_ENGINE:
        from tieout.state import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'tieout.state' has no attribute {name!r}")


def exists(project: Project) -> bool:
    """Whether the state database is there to read, without creating it (a server database always is).
    Without SQLAlchemy for the default SQLite file: a read should not pay for it to learn that (only a URL
    the user named is parsed by SQLAlchemy)."""
    if configured_url(project) is None:
        return default_path(project).is_file()
    from tieout.state.engine import exists as engine_exists

    return engine_exists(project)


@contextmanager
def open(project: Project, *, write: bool = False) -> Iterator[Connection]:  # noqa: A001 - the module's verb
    """A connection inside one transaction, committed when the block ends and rolled back if it raises.

    `write=True` takes the write lock at the start on SQLite (other writers wait up to the busy timeout);
    readers never wait.
    """
    from tieout.state.engine import WRITE, engine_for

    with engine_for(project).connect() as connection:
        if write:
            connection.execution_options(**{WRITE: True})
        with connection.begin():
            yield connection
