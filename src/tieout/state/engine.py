"""Where the people-facing state lives, and the one engine per database a process uses to reach it.

SQLite in WAL mode by default (`<store>/state.db`): readers never block the writer, so a web server and a
scheduled run share it; a busy timeout makes a second writer wait instead of failing. Postgres when
`state_url` (tieout.yml) or `TIEOUT_STATE_URL` names one. Either way the schema is brought to the newest
migration the first time a process opens it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tieout.config import Project
from tieout.errors import ConfigError
from tieout.state.location import BUSY_TIMEOUT_MS, ENV_URL, HEAD_REVISION, configured_url, default_path

MIGRATIONS = Path(__file__).parent / "migrations"
# A transaction that will write asks for SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
# transaction that reads and then writes can fail at once with "database is locked" when another writer
# committed in between, whatever the busy timeout.
WRITE = "tieout_write"
# Postgres advisory lock held while migrating ("tieout" in ASCII): a second process waits, then finds the
# schema current.
_MIGRATION_LOCK = 0x7469656F7574
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def state_url(project: Project) -> str:
    """The state database's SQLAlchemy URL: `TIEOUT_STATE_URL`, else `state_url`, else `<store>/state.db`."""
    return str(_url(project).render_as_string(hide_password=False))


def _url(project: Project) -> URL:
    configured = configured_url(project)
    if not configured:
        return URL.create("sqlite", database=str(default_path(project).absolute()))
    where = f"environment variable {ENV_URL}" if os.environ.get(ENV_URL) else \
        f"{project.root / 'tieout.yml'}: key 'state_url'"
    try:
        url = make_url(configured)
    except ArgumentError as e:
        raise ConfigError(f"{where}: not a database URL ({e})") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # psycopg 3 is the driver tieout ships; plain postgresql:// would ask SQLAlchemy for psycopg2.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return url.set(database=str(path if path.is_absolute() else (project.root / path).absolute()))
    raise ConfigError(f"{where}: expected sqlite:///PATH or postgresql://…, got {url.drivername}://")


def is_sqlite(project: Project) -> bool:
    return _url(project).get_backend_name() == "sqlite"


def exists(project: Project) -> bool:
    """Whether the state database is there to read, without creating it (a server database always is)."""
    url = _url(project)
    return url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or \
        Path(url.database).is_file()


def engine_for(project: Project) -> Engine:
    """The process's engine for the project's state database, migrated to the newest schema."""
    url = _url(project)
    key = url.render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(url)
            try:
                migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            _engines[key] = engine
    return engine


def dispose_all() -> None:
    """Close every pooled connection (tests, and a process about to fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        from tieout.state.private import make_private

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        make_private(Path(url.database))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # The sqlite3 module opens transactions on its own, and not before DDL; tieout emits BEGIN itself
    # (`_sqlite_begin`) so that a transaction covers exactly what SQLAlchemy thinks it does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _write_ahead_log(cursor)
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _write_ahead_log(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode, waiting for another process doing the same. Two processes opening a new
    database at once both switch it; SQLite refuses the lock upgrade that could deadlock at once ("database is
    locked"), without waiting as the busy timeout says: so wait here, up to that timeout. The mode is kept in
    the file, so once one process has switched it the others' switch is a no-op."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN")


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, None before the first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest migration, under a lock so two processes never migrate at once."""
    try:
        if current_revision(engine) == HEAD_REVISION:
            return
    except SQLAlchemyError as e:
        raise _unreachable(engine, e) from e
    _upgrade(engine)


def _unreachable(engine: Engine, e: Exception) -> ConfigError:
    return ConfigError(f"state database {engine.url.render_as_string()}: cannot open or migrate it: "
                       f"{e.__class__.__name__}: {str(e).splitlines()[0]}")


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    except CommandError as e:
        # Typically a database migrated by a newer tieout: its revision is unknown here.
        raise ConfigError(f"state database {engine.url.render_as_string()}: {e} (was it written by a newer "
                          "tieout? upgrade tieout)") from e
    except SQLAlchemyError as e:
        raise _unreachable(engine, e) from e
