"""Map from the page: a person asks to map a source record to an entity (or to a new one), a second person approves,
and the row is appended to `entity_map.csv` — taking effect from the next run.

The same maker-checker and audit as corrections (tieout.corrections.approval): a team member or an admin asks
(`request_mapping`), an approver or an admin who is not the requester — nor, on the command line, the same OS
account — decides (`decide_mapping`); a request is decided once (the decision is an UPDATE that only matches a
pending row, so two approvers at once cannot both win: the second gets Conflict). Every request, decision,
refusal and conflict is in the audit log (object `map:MR-<n>`).

Approved, the row — `canonical_id, source_system, source_id, effective_from, (open), notes` — is appended by
`tieout.entities.map_file.append_row`: atomic, keeping every existing byte, one writer at a time, and checked to
leave a valid map (a range that would overlap one the map already has is refused, and nothing changes).
`effective_from` defaults to the day after the latest reconciled day: the map governs the days run from then
on; a past day keeps what its run stored until it is run again.

    >>> r = request_mapping(project, source_system="billing", source_id="cus_9", canonical_id="C00012",
    ...                     reason="same company, new billing account", who="ana")   # doctest: +SKIP
    >>> decide_mapping(project, r.id, "carol", "approve")                                # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.db import connect
from tieout.errors import BadArgument, Conflict, InputError, NotAllowed, NotFound, StoreError
from tieout.os_account import current as os_account
from tieout.people.users import User
from tieout.state import chain
from tieout.state.tables import map_requests
from tieout.store.version import CACHE
from tieout.systems import SYSTEMS
from tieout.workflow import maker_checker
from tieout.workflow.audit import record, record_alone
from tieout.workflow.rules import authorise_correction

from .entity_map import load_entity_map
from .map_file import append_row, one_line

KIND = maker_checker.Kind(prefix="MR", noun="map request", table=map_requests, audit="map", change="a map change",
                          applied="map_row")
ref, parse_ref = KIND.ref, KIND.parse_ref


@dataclass(frozen=True)
class MapRequest:
    id: int
    requested_at: datetime
    source_system: str
    source_id: str
    canonical_id: str | None  # None for a new entity until approved
    new_entity: bool
    effective_from: date
    reason: str
    evidence: str | None
    who: str
    status: str
    os_user: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    decided_os_user: str | None = None

    @property
    def ref(self) -> str:
        return ref(self.id)

    @property
    def target(self) -> str:
        if self.canonical_id:
            return self.canonical_id
        return "a new entity" if self.new_entity else "?"

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, **asdict(self), "requested_at": chain.utc_text(self.requested_at),
                "effective_from": self.effective_from.isoformat(),
                "decided_at": chain.utc_text(self.decided_at) if self.decided_at else None}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _request(row: Any) -> MapRequest:
    values = {c.name: getattr(row, c.name) for c in map_requests.columns}
    values["requested_at"] = _aware(values["requested_at"])
    values["decided_at"] = _aware(values["decided_at"]) if values["decided_at"] else None
    values["new_entity"] = bool(values["new_entity"])
    return MapRequest(**values)


def _get(connection: Connection, request_id: int) -> MapRequest:
    return _request(KIND.get(connection, request_id))


def _map_rows(project: Project) -> list[tuple[str, str, str, date, date | None]]:
    con = connect()
    try:
        load_entity_map(con, project.entity_map_path, cache=project.store_path / CACHE)  # validated once
        return con.execute("SELECT canonical_id, source_system, source_id, effective_from, effective_to "
                           "FROM entity_map").fetchall()
    finally:
        con.close()


def default_effective_from(project: Project) -> date:
    """The day after the latest reconciled day (today, with nothing reconciled): the next run's day."""
    from tieout.store import stored_days

    days = stored_days(project)
    return days[-1] + timedelta(days=1) if days else datetime.now(UTC).date()


def _record_exists(project: Project, system: str, source_id: str) -> None:
    """The record must be one the latest reconciled day holds (the store, never an export)."""
    from tieout.store import open_day, stored_days

    days = stored_days(project)
    if not days:
        raise NotFound("nothing reconciled yet: run a day before mapping its records")
    try:
        con = open_day(project, days[-1], tables=("source_records",))
    except StoreError:
        return  # that day's records cannot be read back: the map's own check still guards the row
    try:
        if not con.execute("SELECT 1 FROM source_records WHERE source_system = ? AND source_id = ?",
                           [system, source_id]).fetchall():
            raise NotFound(f"no {system} record {source_id!r} on the latest reconciled day ({days[-1]})")
    finally:
        con.close()


def request_mapping(project: Project, *, source_system: str, source_id: str, canonical_id: str | None = None,
                    new_entity: bool = False, effective_from: date | None = None, reason: str, who: str,
                    evidence: str | None = None, signed_in: User | None = None) -> MapRequest:
    """Ask to map a source record to `canonical_id` (or, `new_entity`, to a new entity) from `effective_from`.
    It waits for a second person (`decide_mapping`). Raises BadArgument, NotFound, NotAllowed, Conflict (the
    map already places the record on that day or after, or the same request is already waiting)."""
    if signed_in is not None:
        refusal = authorise_correction(signed_in, "correct", None)
        if refusal:
            record_alone(project, actor=signed_in.name, action="map.request", object=f"record:{source_system}:"
                         f"{source_id}", outcome="refused", reason=refusal, detail={"canonical_id": canonical_id})
            why = refusal.replace("correction", "map change")
            raise NotAllowed(f"{signed_in.name} may not change the entity map: {why}")
        who = signed_in.name
    if source_system not in SYSTEMS:
        raise BadArgument(f"source system: expected one of {', '.join(SYSTEMS)}, got {source_system!r}")
    source_id, canonical_id = source_id.strip(), (canonical_id or "").strip() or None
    if not source_id:
        raise BadArgument("source id: which record to map")
    if new_entity == (canonical_id is not None):
        raise BadArgument("map the record to an entity (--to ID) or to a new entity (--new-entity), one of the two")
    if not reason or not reason.strip():
        raise BadArgument("--reason: a map change needs a reason (it is what the approver reads)")
    if not who or not who.strip():
        raise BadArgument("--who: a map change needs the name of whoever asks for it")
    start = effective_from or default_effective_from(project)
    rows = _map_rows(project)
    if canonical_id is not None and not any(r[0] == canonical_id for r in rows):
        raise NotFound(f"no entity {canonical_id!r} in {project.entity_map_path}")
    _record_exists(project, source_system, source_id)
    placed = [r for r in rows if r[1] == source_system and r[2] == source_id and (r[4] is None or r[4] >= start)]
    if placed:
        r = placed[0]
        raise Conflict(f"{project.entity_map_path} already maps {source_system} {source_id!r} to {r[0]} from "
                       f"{r[3]} to {r[4] or 'open'}: close that row by hand first")
    with state.open(project, write=True) as connection:
        waiting = connection.execute(select(map_requests.c.id).where(
            map_requests.c.status == "pending", map_requests.c.source_system == source_system,
            map_requests.c.source_id == source_id)).first()
        if waiting is not None:
            raise Conflict(f"{ref(waiting.id)} already asks to map {source_system} {source_id!r}: it is waiting for "
                           "a decision")
        values = {"source_system": source_system, "source_id": source_id, "canonical_id": canonical_id,
                  "new_entity": new_entity, "effective_from": start, "reason": reason.strip(), "who": who.strip(),
                  "evidence": one_line(evidence) or None}
        inserted = connection.execute(insert(map_requests).values(
            **values, requested_at=datetime.now(UTC), status="pending", os_user=os_account())).inserted_primary_key
        assert inserted is not None
        held = _get(connection, inserted[0])
        record(connection, actor=held.who, action="map.request", object=f"map:{held.ref}", outcome="allowed",
               reason=held.reason, detail={**values, "effective_from": start.isoformat()})
        return held


def new_canonical_id(existing: set[str]) -> str:
    """The next id in the map's own pattern (`C00300` after `C00299`: the most common letters-then-digits
    shape), else `E000001`-style ids; never one the map has."""
    shapes: dict[tuple[str, int], int] = {}
    for cid in existing:
        m = re.fullmatch(r"([A-Za-z_-]*)(\d+)", cid)
        if m:
            shapes[(m.group(1), len(m.group(2)))] = shapes.get((m.group(1), len(m.group(2))), 0) + 1
    prefix, width = max(shapes, key=lambda s: (shapes[s], s)) if shapes else ("E", 6)
    numbers = [int(c[len(prefix):]) for c in existing
               if c.startswith(prefix) and c[len(prefix):].isdigit() and len(c) - len(prefix) == width]
    n = max(numbers, default=0) + 1
    while f"{prefix}{n:0{width}d}" in existing:
        n += 1
    return f"{prefix}{n:0{width}d}"


def decide_mapping(project: Project, request_id: int, actor: str, decision: str, *,
                   comment: str | None = None) -> MapRequest:
    """Approve (append the row to the entity map) or reject a pending map request, as `actor`, by the rules of
    tieout.workflow.maker_checker. Raises NotFound, NotAllowed, Conflict (decided already; or the map with the
    row would not be valid: nothing changes), BadArgument."""
    def apply(connection: Connection, request: MapRequest, now: datetime,
              account: str | None) -> tuple[dict[str, str], None]:
        canonical_id = request.canonical_id or new_canonical_id({r[0] for r in _map_rows(project)})
        row = {"canonical_id": canonical_id, "source_system": request.source_system, "source_id": request.source_id,
               "effective_from": request.effective_from.isoformat(), "effective_to": "",
               "notes": one_line(f"{request.ref} by {request.who}, approved by {actor}: {request.reason}")}
        if request.new_entity:
            connection.execute(update(map_requests).where(map_requests.c.id == request_id)
                               .values(canonical_id=canonical_id))
        # Last, inside the transaction: a refused row (the map changed since) rolls the approval back.
        try:
            append_row(project.entity_map_path, row)
        except InputError as e:
            raise Conflict(f"{request.ref} cannot be applied: {e}") from None
        return row, None

    return maker_checker.decide(project, KIND, request_id, actor, decision, comment=comment, load=_request,
                                apply=apply)[0]


def map_requests_list(project: Project, *, status: str | None = None) -> list[MapRequest]:
    """The map requests (of one status, or all), newest first. No state database: none (and not created)."""
    return [_request(r) for r in KIND.listed(project, status)]
