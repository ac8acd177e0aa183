"""The weekly review's decisions: `pattern_decisions`.

Revision ID: 0009_pattern_decisions
Revises: 0008_month_signoffs

At the weekly review the team records, per pattern, who owns it, what they will do and by when
(tieout.decisions); the next reviews show what happened since. Self-contained like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_pattern_decisions"
down_revision = "0008_month_signoffs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pattern_decisions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("pattern_id", sa.String(64), nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("os_user", sa.String(100)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10)),
        sa.Column("status_by", sa.String(100)),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("status_note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_pattern_decisions"),
        sa.CheckConstraint("status IN ('done', 'dropped')", name="ck_pattern_decisions_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_pattern_decisions_pattern_id", "pattern_decisions", ["pattern_id"])
    op.create_index("ix_pattern_decisions_week", "pattern_decisions", ["week"])


def downgrade() -> None:
    op.drop_index("ix_pattern_decisions_week", "pattern_decisions")
    op.drop_index("ix_pattern_decisions_pattern_id", "pattern_decisions")
    op.drop_table("pattern_decisions")
