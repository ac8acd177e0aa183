"""The state database's tables, as SQLAlchemy Core (no ORM): what the code reads and writes.

The migrations in `migrations/versions/` create these; a test checks that the migrated schema and this
metadata agree, so a change here without a migration (or the reverse) fails.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# The tip of each hash-chained log (`corrections`, later the audit log): its last seq and hash. A deleted
# last entry leaves no gap in the log itself; the head still names it. On Postgres its row is also the lock
# that keeps appends in one line (SELECT … FOR UPDATE); SQLite has one writer at a time anyway.
log_heads = Table(
    "log_heads", metadata,
    Column("log", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# The corrections log: append-only (triggers refuse UPDATE and DELETE) and hash-chained (tieout.state.chain).
# `id` is the physical insertion order, `seq` the chain's; `body` is the canonical serialisation that `hash`
# covers, and the columns beside it are there to be queried.
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("canonical_id", String(200), nullable=False),
    Column("system", String(16), nullable=False),
    Column("field", String(100), nullable=False),
    Column("source_id", String(200)),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("reason", Text, nullable=False),
    Column("who", String(200), nullable=False),
    Column("ticket", String(200)),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("system IN ('crm', 'billing', 'ops')", name="system"),
    Index("ux_corrections_seq", "seq", unique=True),
    Index("ix_corrections_canonical_id", "canonical_id"),
    sqlite_autoincrement=True,
)

# Every delivery attempted to a team's channel (tieout.notify): one row per exception and channel per
# message, with its outcome. An exception episode is not notified again on a channel that already took it at
# the same or a higher severity (`severity_rank`: P1 = 0); a failed row never counts, so the next run retries.
# `channel` is the URL with its secrets masked; `channel_key` the hash of the full URL, which identifies it.
notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exception_id", String(64), nullable=False),
    Column("first_seen", Date, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("severity_rank", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("team", String(200), nullable=False),
    Column("channel", Text, nullable=False),
    Column("channel_key", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    CheckConstraint("kind IN ('p1', 'digest', 'resolved')", name="kind"),
    CheckConstraint("outcome IN ('sent', 'failed')", name="outcome"),
    Index("ix_notifications_exception_id", "exception_id", "first_seen", "channel_key"),
    sqlite_autoincrement=True,
)
