"""The state database's tables, as SQLAlchemy Core (no ORM): what the code reads and writes.

The migrations in `migrations/versions/` create these; a test checks that the migrated schema and this
metadata agree, so a change here without a migration (or the reverse) fails.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text

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
    # A correction that waited for a second person's approval (migration 0004): who approved it and the request
    # it came from. Both are in the hash only when set, so entries written before 0004 verify as they were.
    Column("approved_by", String(100)),
    Column("request_id", Integer),
    # The OS accounts of the command line that recorded it and approved it (migration 0006; NULL from the web).
    # In the hash only when set, like the approval.
    Column("os_user", String(100)),
    Column("approved_os_user", String(100)),
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

# --- People and workflow (migration 0003_workflow) -------------------------------------------------------------

ROLES = ("admin", "team_member", "approver", "auditor")
KINDS = ("ack", "assign", "comment", "resolve", "suppress", "approve", "reject")

# People who may sign in. `teams` is a comma-separated list of team names (few, short, only ever read whole);
# `password_hash` is `scrypt$n$r$p$salt$hash` (tieout.people.passwords). A user is disabled, never deleted, so
# the audit log's names keep meaning someone.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("teams", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False),
    CheckConstraint("role IN ('admin', 'team_member', 'approver', 'auditor')", name="role"),
    Index("ux_users_name", "name", unique=True),
)

# Signed-in browsers. Only the sha256 of the cookie's token is stored, so a copy of the database signs nobody
# in. The session's anti-forgery token is not stored at all (migration 0005): it is derived from the cookie's
# token (tieout.people.sessions.csrf_for), so only the browser holding the cookie can know it.
sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_user_name", "user_name"),
)

# Failed sign-ins, counted per user name and per client address (migration 0005), so that every worker
# process of the server sees the same count. `key` is the sha256 of "user:<name>" or "addr:<address>": a
# password typed into the name box is never kept as typed. A key is locked until `locked_until` once its
# failures reach the limit, longer at each further failure (tieout.people.throttle).
signin_throttle = Table(
    "signin_throttle", metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

# Where each exception stands in the workflow, and its version: every action names the version it was based
# on and bumps it, so two people acting on one state at once cannot both win (optimistic concurrency).
# `episode_first_seen` is the episode the state belongs to: a reopened exception starts afresh.
exception_state = Table(
    "exception_state", metadata,
    Column("exception_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("episode_first_seen", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee", String(100)),
    Column("suppressed_until", Date),
    Column("pending_action_id", Integer),
)

# Every action taken on an exception, in order. A suppression waits for a second person: `requires_approval`,
# then `approved_by`/`approved_at` (or `rejected` by an approve/reject action naming it in `target_id`).
actions = Table(
    "actions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exception_id", String(64), nullable=False),
    Column("episode_first_seen", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("assignee", String(100)),
    Column("reason_code", String(40)),
    Column("comment", Text),
    Column("until", Date),
    Column("requires_approval", Boolean, nullable=False),
    Column("approved_by", String(100)),
    Column("approved_at", DateTime(timezone=True)),
    Column("decision", String(20)),
    Column("target_id", Integer),
    Column("version", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('ack', 'assign', 'comment', 'resolve', 'suppress', 'approve', 'reject')",
                    name="kind"),
    Index("ix_actions_exception_id", "exception_id"),
    sqlite_autoincrement=True,
)

# The audit log: every action and every refused attempt (who, what, on which object, the outcome and why).
# Append-only and hash-chained like the corrections log.
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("object", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("os_user", String(100)),  # the command line's OS account (migration 0006); in the hash when set
    Index("ux_audit_seq", "seq", unique=True),
    sqlite_autoincrement=True,
)

# Corrections waiting for a second person (maker-checker, migration 0004): a correction whose impact is above
# `workflow.correction_approval_over` is held here, outside the corrections log, until someone other than the
# requester approves it (then it is appended to the log, naming both) or rejects it (it never is). A request is
# decided once: the decision is an UPDATE that only matches a pending row. `impact` and `threshold` are decimal
# strings in the reporting currency (SQLite has no exact decimal type).
REQUEST_STATUSES = ("pending", "approved", "rejected")
correction_requests = Table(
    "correction_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("canonical_id", String(200), nullable=False),
    Column("system", String(16), nullable=False),
    Column("field", String(100), nullable=False),
    Column("source_id", String(200)),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("reason", Text, nullable=False),
    Column("who", String(200), nullable=False),
    Column("ticket", String(200)),
    Column("impact", String(40), nullable=False),
    Column("threshold", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_comment", Text),
    Column("correction_seq", Integer),
    # The OS accounts of the command line that requested and decided it (migration 0006; NULL from the web).
    # Maker-checker on the command line compares these: one account never decides its own request.
    Column("os_user", String(100)),
    Column("decided_os_user", String(100)),
    CheckConstraint("system IN ('crm', 'billing', 'ops')", name="system"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    Index("ix_correction_requests_status", "status"),
    sqlite_autoincrement=True,
)

# Map changes waiting for a second person (migration 0007): a source record to map to an entity (or to a new one,
# whose id is chosen on approval). Approved, the row is appended to entity_map.csv (tieout.entities.map_requests).
map_requests = Table(
    "map_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("source_system", String(16), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("canonical_id", String(200)),  # the entity; for a new entity, set on approval
    Column("new_entity", Boolean, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", Text),  # what the requester saw: the matching keys and values
    Column("who", String(200), nullable=False),
    Column("os_user", String(100)),
    Column("status", String(20), nullable=False),
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_comment", Text),
    Column("decided_os_user", String(100)),
    CheckConstraint("source_system IN ('crm', 'billing', 'ops')", name="system"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    Index("ix_map_requests_status", "status"),
    sqlite_autoincrement=True,
)

# Month-end sign-off (migration 0008): each step of closing a month — prepared, reviewed (the month is then
# closed, its pack frozen), reopened with a reason — is one row, never changed; a month's state is its last
# row. `seq` numbers a month's rows, unique per month: of two people signing the same month at once, one wins
# and the other gets Conflict. `digests`: on a review, the sha256 of each frozen pack file (JSON, by format).
SIGNOFF_STEPS = ("prepare", "review", "reopen")
month_signoffs = Table(
    "month_signoffs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("period", String(7), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("step", String(10), nullable=False),
    Column("who", String(100), nullable=False),
    Column("os_user", String(100)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Column("digests", Text),
    CheckConstraint("step IN ('prepare', 'review', 'reopen')", name="step"),
    Index("ux_month_signoffs_period_seq", "period", "seq", unique=True),
    sqlite_autoincrement=True,
)

# The weekly review's decisions (migration 0009): per pattern (`tieout patterns` id), the week of the review it was
# taken at (named by the review's last day, a reconciled day), who owns it, the action and its due date. A
# decision is recorded once; later it may be marked done or dropped, once (an UPDATE that only matches a row
# without a status), so the reviews after it can tell what happened.
DECISION_STATUSES = ("done", "dropped")
pattern_decisions = Table(
    "pattern_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pattern_id", String(64), nullable=False),
    Column("week", Date, nullable=False),
    Column("owner", String(100), nullable=False),
    Column("action", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("os_user", String(100)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10)),
    Column("status_by", String(100)),
    Column("status_at", DateTime(timezone=True)),
    Column("status_note", Text),
    CheckConstraint("status IN ('done', 'dropped')", name="status"),
    Index("ix_pattern_decisions_pattern_id", "pattern_id"),
    Index("ix_pattern_decisions_week", "week"),
    sqlite_autoincrement=True,
)
