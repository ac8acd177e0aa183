"""The corrections log and the heads of hash-chained logs.

Revision ID: 0001
Revises: (none)

A migration is a frozen snapshot: it spells its tables out rather than importing tieout.state.tables,
which will move on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_REFUSAL = "corrections are append-only: record a new correction instead"


def upgrade() -> None:
    heads = op.create_table(
        "log_heads",
        sa.Column("log", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("log", name="pk_log_heads"),
    )
    op.bulk_insert(heads, [{"log": "corrections", "seq": 0, "hash": GENESIS}])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canonical_id", sa.String(200), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("source_id", sa.String(200)),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("ticket", sa.String(200)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
        sa.CheckConstraint("system IN ('crm', 'billing', 'ops')", name="ck_corrections_system"),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_corrections_seq", "corrections", ["seq"], unique=True)
    op.create_index("ix_corrections_canonical_id", "corrections", ["canonical_id"])
    # The application never updates or deletes a correction; the database refuses it too, so a slip in
    # later code fails loudly. (Someone with the database's owner rights can still drop these triggers:
    # that is what `tieout audit verify` is for.)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION tieout_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{_REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME; END $$
        """)
        op.execute("CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON corrections "
                   "FOR EACH ROW EXECUTE FUNCTION tieout_append_only()")
        op.execute("CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON corrections "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tieout_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER corrections_no_{action.lower()} BEFORE {action} ON corrections "
                       f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER corrections_no_truncate ON corrections")
        op.execute("DROP TRIGGER corrections_append_only ON corrections")
        op.execute("DROP FUNCTION tieout_append_only()")
    else:
        op.execute("DROP TRIGGER corrections_no_update")
        op.execute("DROP TRIGGER corrections_no_delete")
    op.drop_index("ix_corrections_canonical_id", "corrections")
    op.drop_index("ux_corrections_seq", "corrections")
    op.drop_table("corrections")
    op.drop_table("log_heads")
