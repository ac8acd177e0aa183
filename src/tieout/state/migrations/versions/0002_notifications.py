"""The notifications log: what was delivered (or not) to which team's channel.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("exception_id", sa.String(64), nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("channel_key", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.CheckConstraint("kind IN ('p1', 'digest', 'resolved')", name="ck_notifications_kind"),
        sa.CheckConstraint("outcome IN ('sent', 'failed')", name="ck_notifications_outcome"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notifications_exception_id", "notifications", ["exception_id", "first_seen", "channel_key"])


def downgrade() -> None:
    op.drop_index("ix_notifications_exception_id", "notifications")
    op.drop_table("notifications")
