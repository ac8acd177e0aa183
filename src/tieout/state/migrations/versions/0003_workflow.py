"""People and workflow: users, sessions, each exception's workflow state, its actions, and the audit log.

Revision ID: 0003_workflow
Revises: 0002

Self-contained (a frozen snapshot, like 0001): it spells its tables out. The audit log is append-only like the
corrections log; on Postgres its trigger reuses 0001's `tieout_append_only()` function.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_workflow"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_REFUSAL = "the audit log is append-only"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("teams", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.CheckConstraint("role IN ('admin', 'team_member', 'approver', 'auditor')", name="ck_users_role"),
    )
    op.create_index("ux_users_name", "users", ["name"], unique=True)
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_name", "sessions", ["user_name"])
    op.create_table(
        "exception_state",
        sa.Column("exception_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("episode_first_seen", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("suppressed_until", sa.Date),
        sa.Column("pending_action_id", sa.Integer),
        sa.PrimaryKeyConstraint("exception_id", name="pk_exception_state"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("exception_id", sa.String(64), nullable=False),
        sa.Column("episode_first_seen", sa.Date, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("reason_code", sa.String(40)),
        sa.Column("comment", sa.Text),
        sa.Column("until", sa.Date),
        sa.Column("requires_approval", sa.Boolean, nullable=False),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("decision", sa.String(20)),
        sa.Column("target_id", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.CheckConstraint("kind IN ('ack', 'assign', 'comment', 'resolve', 'suppress', 'approve', 'reject')",
                           name="ck_actions_kind"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_actions_exception_id", "actions", ["exception_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_audit_seq", "audit", ["seq"], unique=True)
    op.execute(sa.text("INSERT INTO log_heads (log, seq, hash) VALUES ('audit', 0, :genesis)")
               .bindparams(genesis=GENESIS))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                   "FOR EACH ROW EXECUTE FUNCTION tieout_append_only()")
        op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tieout_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_no_{action.lower()} BEFORE {action} ON audit "
                       f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_no_truncate ON audit")
        op.execute("DROP TRIGGER audit_append_only ON audit")
    else:
        op.execute("DROP TRIGGER audit_no_update")
        op.execute("DROP TRIGGER audit_no_delete")
    op.execute("DELETE FROM log_heads WHERE log = 'audit'")
    for index, table in (("ux_audit_seq", "audit"), ("ix_actions_exception_id", "actions"),
                         ("ix_sessions_user_name", "sessions"), ("ux_users_name", "users")):
        op.drop_index(index, table)
    for table in ("audit", "actions", "exception_state", "sessions", "users"):
        op.drop_table(table)
