"""Alembic's entry point, run only through `tieout.state.engine_for(project)`: there is no alembic.ini.

The caller hands over a connection already inside a transaction that holds the migration lock (SQLite:
BEGIN IMMEDIATE; Postgres: an advisory lock), so two processes starting at once migrate one after the
other and the second finds nothing to do.
"""

from __future__ import annotations

from alembic import context

from tieout.state.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tieout's migrations run through tieout.state.engine_for(project), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
