"""Map changes made from the web or the command line wait for a second person: `map_requests`.

Revision ID: 0007_map_requests
Revises: 0006_os_users

A person maps an unmapped or ambiguous source record to an entity (or to a new one); the row enters
`entity_map.csv` only once someone else approves it (tieout.entities.map_requests). Self-contained like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_map_requests"
down_revision = "0006_os_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "map_requests",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_system", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("canonical_id", sa.String(200)),
        sa.Column("new_entity", sa.Boolean, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("os_user", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_comment", sa.Text),
        sa.Column("decided_os_user", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_map_requests"),
        sa.CheckConstraint("source_system IN ('crm', 'billing', 'ops')", name="ck_map_requests_system"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_map_requests_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_map_requests_status", "map_requests", ["status"])


def downgrade() -> None:
    op.drop_index("ix_map_requests_status", "map_requests")
    op.drop_table("map_requests")
