"""The corrections log: who changed which field of which record by hand, from what to what, and why.

Append-only and hash-chained (tieout.state.chain) in the state database. Nothing here updates or deletes a
correction; a mistaken one is put right by recording another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tieout import state
from tieout.config import Project
from tieout.corrections.fields import check_entity, field_spec
from tieout.corrections.kinds import check_kind
from tieout.errors import BadArgument
from tieout.os_account import current as os_account
from tieout.state import sqlite_reads

# SQLAlchemy (and the chain and tables built on it) is imported by the functions that open the database: every
# read of the timeline asks for the corrections, and a project that never recorded one has no database to open.
if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tieout.state.chain import Verdict

LOG = "corrections"
# The fields a correction's hash covers, besides its seq; each is a column of `corrections`.
FIELDS = ("recorded_at", "canonical_id", "system", "field", "source_id", "old_value", "new_value", "reason", "who",
          "ticket")
# Covered by the hash only when set: a correction approved by a second person names the approver and the request
# it came from (tieout.corrections.approval); one recorded or approved on the command line, the OS accounts that
# did it (tieout.os_account, migration 0006). Entries without them serialise exactly as before these existed.
OPTIONAL_FIELDS = ("approved_by", "request_id", "os_user", "approved_os_user")


@dataclass(frozen=True)
class Correction:
    seq: int
    recorded_at: datetime  # UTC
    canonical_id: str
    system: str
    field: str
    source_id: str | None
    old_value: str | None
    new_value: str | None
    reason: str
    who: str
    ticket: str | None
    hash: str
    approved_by: str | None = None  # the second person, when the correction waited for approval
    request_id: int | None = None  # the request it came from (shown as CR-<id>)
    os_user: str | None = None  # the OS account of the command line that recorded (or requested) it
    approved_os_user: str | None = None  # the OS account of the command line that approved it

    def recorded_on(self, timezone: str = "UTC") -> date:
        """The business date it was recorded on, in the project's time zone."""
        return self.recorded_at.astimezone(ZoneInfo(timezone)).date()

    def as_dict(self) -> dict[str, Any]:
        from tieout.state import chain

        return {**asdict(self), "recorded_at": chain.utc_text(self.recorded_at)}


def aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every timestamp tieout stores is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# What a Correction is read from: its table's columns.
_READ = ("seq", "hash", *FIELDS, *OPTIONAL_FIELDS)


def _correction(row: Mapping[str, Any]) -> Correction:
    values = {k: row[k] for k in _READ}
    return Correction(**{**values, "recorded_at": aware(values["recorded_at"])})


def chained_fields(row: Any) -> dict[str, Any]:
    """What the hash of a stored entry covers: every field, and the approval fields that are set."""
    return {**{k: getattr(row, k) for k in FIELDS},
            **{k: getattr(row, k) for k in OPTIONAL_FIELDS if getattr(row, k) is not None}}


def _blank_to_none(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value


def record_correction(project: Project, *, canonical_id: str, system: str, field: str, old_value: str | None,
                      new_value: str | None, reason: str, who: str, ticket: str | None = None,
                      source_id: str | None = None, at: datetime | None = None) -> Correction:
    """Validate and append one correction at once; return it as stored. An empty old or new value means "no
    value". This is the log's own append: `tieout correct` goes through `tieout.corrections.approval.
    request_correction`, which holds a correction above the approval threshold for a second person."""
    fields = validated(project, canonical_id=canonical_id, system=system, field=field, old_value=old_value,
                       new_value=new_value, reason=reason, who=who, ticket=ticket, source_id=source_id)
    with state.open(project, write=True) as connection:
        return append(connection, {**fields, "recorded_at": (at or datetime.now(UTC)).astimezone(UTC),
                                   "os_user": os_account()})


def validated(project: Project, *, canonical_id: str, system: str, field: str, old_value: str | None,
              new_value: str | None, reason: str, who: str, ticket: str | None = None,
              source_id: str | None = None) -> dict[str, Any]:
    """A correction's fields, checked (BadArgument, NotFound) and tidied: the registry's field name, blank
    values as None. Everything but `recorded_at`."""
    if not reason or not reason.strip():
        raise BadArgument("--reason: a correction needs a reason (it is what the next person reads)")
    if not who or not who.strip():
        raise BadArgument("--who: a correction needs the name of whoever made it")
    spec = field_spec(project, system, field)
    # refused here, whichever way it came: CLI, web form or API
    check_kind(spec, system, old_value, "--old")
    check_kind(spec, system, new_value, "--new")
    source_id = _blank_to_none(source_id)
    check_entity(project, canonical_id, system, source_id)
    return {"canonical_id": canonical_id, "system": system, "field": spec.name, "source_id": source_id,
            "old_value": _blank_to_none(old_value), "new_value": _blank_to_none(new_value),
            "reason": reason.strip(), "who": who.strip(), "ticket": _blank_to_none(ticket)}


def append(connection: Connection, fields: dict[str, Any]) -> Correction:
    """Append one correction inside the caller's write transaction. `fields` holds FIELDS (with an aware
    `recorded_at`) and, for an approved request, OPTIONAL_FIELDS."""
    from tieout.state import chain
    from tieout.state.tables import corrections

    # Microseconds are what both SQLite and Postgres keep; the hash must cover exactly what is stored.
    chained = {k: fields[k] for k in FIELDS} | {k: fields[k] for k in OPTIONAL_FIELDS if fields.get(k) is not None}
    row = chain.append(connection, corrections, LOG, chained)
    return Correction(seq=row["seq"], hash=row["hash"], **chained)


def corrections_for(project: Project, canonical_id: str | None = None, *, until: date | None = None
                    ) -> list[Correction]:
    """The recorded corrections (of one entity, or all), oldest first; with `until`, only those recorded
    on or before that business date. An absent state database has none (and is not created)."""
    if not state.exists(project):
        return []
    rows: Sequence[Mapping[str, Any]] | None = sqlite_reads.select(
        project, "corrections", _READ, order_by=["seq"], types={"recorded_at": "datetime"},
        where={} if canonical_id is None else {"canonical_id": canonical_id})
    if rows is None:
        from sqlalchemy import select

        from tieout.state.tables import corrections

        query = select(corrections).order_by(corrections.c.seq)
        if canonical_id is not None:
            query = query.where(corrections.c.canonical_id == canonical_id)
        with state.open(project) as connection:
            rows = [dict(row._mapping) for row in connection.execute(query)]
    found = [_correction(row) for row in rows]
    if until is not None:
        found = [c for c in found if c.recorded_on(project.timezone) <= until]
    return found


def verify_corrections(project: Project) -> Verdict:
    """Recompute the corrections log's hash chain; the verdict names the first broken entry, if any."""
    from tieout.state import chain

    if not state.exists(project):
        return chain.verify(LOG, [], (0, chain.GENESIS))
    with state.open(project) as connection:
        return _verify(connection)


def _verify(connection: Connection) -> Verdict:
    from sqlalchemy import select

    from tieout.state import chain
    from tieout.state.tables import corrections, log_heads

    rows = connection.execute(select(corrections).order_by(corrections.c.seq, corrections.c.id)).all()
    entries = [chain.Entry(id=r.id, seq=r.seq, body=r.body, prev_hash=r.prev_hash, hash=r.hash,
                           fields=chained_fields(r)) for r in rows]
    head = connection.execute(select(log_heads.c.seq, log_heads.c.hash).where(log_heads.c.log == LOG)).first()
    return chain.verify(LOG, entries, (head.seq, head.hash) if head is not None else None)
