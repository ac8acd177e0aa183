"""The OS account beside every claimed name the command line writes (tieout.os_account).

Revision ID: 0006_os_users
Revises: 0005_signin_hardening

`os_user` on corrections, correction requests and audit entries: the operating-system account of the command
that wrote them (NULL for what the web app writes — its people are signed in — and for everything written
before this migration). A correction approved on the command line also records the approver's
(`approved_os_user`), a request its decider's (`decided_os_user`). Adding nullable columns rewrites no row and
fires no append-only trigger; the hash of an entry covers these fields only when they are set, so the entries
written before still verify.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_os_users"
down_revision = "0005_signin_hardening"
branch_labels = None
depends_on = None

COLUMNS = (("corrections", "os_user"), ("corrections", "approved_os_user"), ("correction_requests", "os_user"),
           ("correction_requests", "decided_os_user"), ("audit", "os_user"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(100)))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN rewrites no row through UPDATE, so the triggers allow it; the OS accounts recorded
    # are lost, and entries that recorded one no longer verify (their hash covered it) — going back before 0006
    # means exactly that.
    for table, column in reversed(COLUMNS):
        op.drop_column(table, column)
