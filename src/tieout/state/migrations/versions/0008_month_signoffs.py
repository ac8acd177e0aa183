"""Month-end sign-off: `month_signoffs`.

Revision ID: 0008_month_signoffs
Revises: 0007_map_requests

A preparer and a reviewer sign a month (tieout.month_close); once reviewed the month is closed and its pack
frozen, until a permitted person reopens it with a reason. Self-contained like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_month_signoffs"
down_revision = "0007_map_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "month_signoffs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("step", sa.String(10), nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("os_user", sa.String(100)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("digests", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_month_signoffs"),
        sa.CheckConstraint("step IN ('prepare', 'review', 'reopen')", name="ck_month_signoffs_step"),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_month_signoffs_period_seq", "month_signoffs", ["period", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_month_signoffs_period_seq", "month_signoffs")
    op.drop_table("month_signoffs")
