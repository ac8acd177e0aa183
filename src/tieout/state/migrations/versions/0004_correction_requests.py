"""Maker-checker for corrections: requests waiting for a second person, and who approved a logged correction.

Revision ID: 0004_correction_requests
Revises: 0003_workflow

Self-contained like the others. The corrections log stays append-only: adding two nullable columns rewrites
no row (and fires no UPDATE trigger); entries written before this migration keep them empty, and their hash,
which never covered them, still verifies.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_correction_requests"
down_revision = "0003_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corrections", sa.Column("approved_by", sa.String(100)))
    op.add_column("corrections", sa.Column("request_id", sa.Integer))
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canonical_id", sa.String(200), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("source_id", sa.String(200)),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("ticket", sa.String(200)),
        sa.Column("impact", sa.String(40), nullable=False),
        sa.Column("threshold", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_comment", sa.Text),
        sa.Column("correction_seq", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_correction_requests"),
        sa.CheckConstraint("system IN ('crm', 'billing', 'ops')", name="ck_correction_requests_system"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_correction_requests_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_correction_requests_status", "correction_requests", ["status"])


def downgrade() -> None:
    op.drop_index("ix_correction_requests_status", "correction_requests")
    op.drop_table("correction_requests")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35) rewrites no row through UPDATE, so the triggers allow it. The
    # approvals recorded in these columns are lost, which is what going back before 0004 means.
    op.drop_column("corrections", "request_id")
    op.drop_column("corrections", "approved_by")
