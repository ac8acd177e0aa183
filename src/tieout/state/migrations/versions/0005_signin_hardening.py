"""Sign-in hardening: failed sign-ins counted in the database, and no anti-forgery token stored in clear.

Revision ID: 0005_signin_hardening
Revises: 0004_correction_requests

`signin_throttle` counts failed sign-ins per user name and per client address (tieout.people.throttle), so
every worker process of a server sees one count. `sessions` loses its `csrf` column: the token is derived from
the cookie's secret instead (tieout.people.sessions). Sessions have no other state worth keeping, so the table
is dropped and made again: everybody signed in is signed out once by this upgrade (and by a downgrade).
Self-contained like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_signin_hardening"
down_revision = "0004_correction_requests"
branch_labels = None
depends_on = None


def _sessions(*extra: sa.Column) -> None:
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        *extra,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_name", "sessions", ["user_name"])


def _drop_sessions() -> None:
    op.drop_index("ix_sessions_user_name", "sessions")
    op.drop_table("sessions")


def upgrade() -> None:
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key", name="pk_signin_throttle"),
    )
    # The old rows hold each session's CSRF token in clear: they go, and their browsers sign in again.
    _drop_sessions()
    _sessions()


def downgrade() -> None:
    _drop_sessions()
    _sessions(sa.Column("csrf", sa.String(64), nullable=False))
    op.drop_table("signin_throttle")
