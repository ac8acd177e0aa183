"""Maker-checker for corrections: one above the project's threshold waits for a second person.

`request_correction` is what `tieout correct`, the corrections page and `POST /api/corrections` call. It
measures the correction's **impact** — the larger of

- the money at risk of the entity on the latest reconciled day: the largest impact among its open exceptions, in
  the reporting currency. A hand correction is how such exceptions get closed, so that is what it can move. The
  largest, not the sum: several rules often price one contract from different sides (no invoice for it, usage
  without an invoice), and adding them would count the same money twice;
- for a field of kind `amount`, how far the new value moves the field from what the record actually held —
  on the latest stored day, and before the same field's recent corrections, so that small steps add up
  (tieout.corrections.amounts). The requester's old value is never trusted: it only has to be an amount;

— and compares it with `workflow.correction_approval_over` (tieout.yml). At or under the threshold (or with no
threshold) the correction is appended to the log at once. Above it, it becomes a *request* (`CR-<n>`), kept in
the `correction_requests` table and not in the log — so neither the landed check nor the timeline sees it —
until someone other than the requester approves it (`decide`): then it is appended, naming the requester
(`who`) and the approver (`approved_by`), with the time of approval as its `recorded_at`. A rejected request
is never appended. Every request, decision and refusal is in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.corrections.amounts import parse_amount
from tieout.corrections.current import settle_old_value
from tieout.corrections.fields import field_spec
from tieout.corrections.log import Correction, append, aware, validated
from tieout.corrections.movement import movement
from tieout.errors import NotAllowed
from tieout.os_account import current as os_account
from tieout.output import money
from tieout.people.users import User
from tieout.state import chain
from tieout.state.tables import correction_requests
from tieout.timeline import QueuedException
from tieout.workflow import maker_checker
from tieout.workflow.audit import record, record_alone
from tieout.workflow.rules import authorise_correction

REQUEST_FIELDS = ("canonical_id", "system", "field", "source_id", "old_value", "new_value", "reason", "who",
                  "ticket")
KIND = maker_checker.Kind(prefix="CR", noun="correction request", table=correction_requests, audit="correction",
                          change="a correction", applied="correction_seq")
ref, parse_ref = KIND.ref, KIND.parse_ref


@dataclass(frozen=True)
class CorrectionRequest:
    id: int
    requested_at: datetime  # UTC
    canonical_id: str
    system: str
    field: str
    source_id: str | None
    old_value: str | None
    new_value: str | None
    reason: str
    who: str  # the requester
    ticket: str | None
    impact: Decimal
    threshold: Decimal
    status: str  # pending, approved, rejected
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    correction_seq: int | None = None  # its entry in the log, once approved
    os_user: str | None = None  # the OS account of the command line that requested it (None from the web)
    decided_os_user: str | None = None  # …and of the one that decided it

    @property
    def ref(self) -> str:
        return ref(self.id)

    def as_dict(self) -> dict[str, Any]:
        out = {"ref": self.ref, **asdict(self), "requested_at": chain.utc_text(self.requested_at)}
        out["decided_at"] = chain.utc_text(self.decided_at) if self.decided_at else None
        return out


def _request(row: Any) -> CorrectionRequest:
    values = {k: getattr(row, k) for k in ("id", *REQUEST_FIELDS, "status", "decided_by", "decision_comment",
                                           "correction_seq", "os_user", "decided_os_user")}
    return CorrectionRequest(**values, requested_at=aware(row.requested_at),  # type: ignore[arg-type]
                             decided_at=aware(row.decided_at) if row.decided_at else None, impact=Decimal(row.impact),
                             threshold=Decimal(row.threshold))


@dataclass(frozen=True)
class Submitted:
    """What `request_correction` did: appended the correction at once, or held it as a request. `impact` is
    None when no threshold is set (nothing to compare it with)."""

    impact: Decimal | None
    threshold: Decimal | None
    correction: Correction | None = None
    request: CorrectionRequest | None = None

    @property
    def applied(self) -> bool:
        return self.correction is not None


def correction_impact(project: Project, canonical_id: str, field: str, system: str, old_value: str | None,
                      new_value: str | None, found: Iterable[QueuedException] | None = None, *,
                      source_id: str | None = None) -> Decimal:
    """The money a correction can move (see the module's docstring), in the reporting currency. `found`: the
    exceptions of the latest reconciled day (any status), when the caller has them at hand (the web's cache).
    An amount's movement is measured against the record, not against `old_value` (tieout.corrections.movement);
    `old_value` is only checked to be an amount."""
    if found is None:
        from tieout.rules.registry import load_rules
        from tieout.timeline import exceptions

        found = exceptions(project, load_rules(project), status="open")
    at_risk = max((e.impact for e in found if e.status == "open" and e.canonical_id == canonical_id),
                  default=Decimal(0))
    if field_spec(project, system, field).kind == "amount":
        parse_amount(old_value, "--old")
        moved = movement(project, canonical_id=canonical_id, system=system, field=field, source_id=source_id,
                         new_value=parse_amount(new_value, "--new"))
        return max(at_risk, moved)
    return at_risk


def approval_threshold(project: Project) -> Decimal | None:
    return project.workflow.correction_approval_over


def request_correction(project: Project, *, canonical_id: str, system: str, field: str, old_value: str | None,
                       new_value: str | None, reason: str, who: str, ticket: str | None = None,
                       source_id: str | None = None, signed_in: User | None = None,
                       found: Iterable[QueuedException] | None = None) -> Submitted:
    """Record a correction, or hold it for approval when its impact is above the threshold.

    `old_value` None (omitted) records the value the store holds; given, it must match it (Conflict otherwise;
    tieout.corrections.current). '' is "no value".

    `signed_in`: the web's user, whose role must allow corrections (`who` is then their name); the command line
    passes None: `who` is whatever name it was given, and the OS account it runs from is recorded beside it."""
    if signed_in is not None:
        refusal = authorise_correction(signed_in, "correct", None)
        if refusal:
            record_alone(project, actor=signed_in.name, action="correct", object="corrections", outcome="refused",
                         reason=refusal, detail={"canonical_id": canonical_id, "field": field})
            raise NotAllowed(f"{signed_in.name} may not record a correction: {refusal}")
        who = signed_in.name
    fields = validated(project, canonical_id=canonical_id, system=system, field=field, old_value=old_value,
                       new_value=new_value, reason=reason, who=who, ticket=ticket, source_id=source_id)
    # The old value is what the record held, not what the requester says it held (tieout.corrections.current).
    fields["old_value"] = settle_old_value(
        project, canonical_id=fields["canonical_id"], system=system, spec=field_spec(project, system, field),
        source_id=fields["source_id"], old_value=fields["old_value"], omitted=old_value is None,
        new_value=fields["new_value"])
    threshold = approval_threshold(project)
    # Without a threshold the impact decides nothing: not measured (it reads every stored day's changes).
    impact = None if threshold is None else money(correction_impact(
        project, canonical_id, fields["field"], system, fields["old_value"], fields["new_value"], found,
        source_id=fields["source_id"]))
    now, account = datetime.now(UTC), os_account()
    with state.open(project, write=True) as connection:
        if threshold is None or impact is None or impact <= threshold:
            c = append(connection, {**fields, "recorded_at": now, "os_user": account})
            record(connection, actor=fields["who"], action="correct", object=f"correction:#{c.seq}",
                   outcome="allowed", detail={**fields, "impact": impact, "threshold": threshold})
            return Submitted(impact, threshold, correction=c)
        assert impact is not None
        inserted = connection.execute(insert(correction_requests).values(
            **fields, requested_at=now, impact=str(impact), threshold=str(threshold), status="pending",
            os_user=account)).inserted_primary_key
        assert inserted is not None
        held = _get(connection, inserted[0])
        record(connection, actor=fields["who"], action="correction.request", object=f"correction:{held.ref}",
               outcome="allowed", reason=f"impact {impact} is above the approval threshold {threshold}",
               detail={**fields, "impact": impact, "threshold": threshold})
        return Submitted(impact, threshold, request=held)


def _get(connection: Connection, request_id: int) -> CorrectionRequest:
    return _request(KIND.get(connection, request_id))


def decide(project: Project, request_id: int, actor: str, decision: str, *,
           comment: str | None = None) -> tuple[CorrectionRequest, Correction | None]:
    """Approve (append it to the log, naming `actor` as approver) or reject a pending request, as `actor`, by
    the rules of tieout.workflow.maker_checker. Raises NotFound, NotAllowed, Conflict, BadArgument."""
    def apply(connection: Connection, request: CorrectionRequest, now: datetime,
              account: str | None) -> tuple[int, Correction]:
        correction = append(connection, {**{k: getattr(request, k) for k in REQUEST_FIELDS}, "recorded_at": now,
                                         "approved_by": actor, "request_id": request_id,
                                         "os_user": request.os_user, "approved_os_user": account})
        connection.execute(update(correction_requests).where(correction_requests.c.id == request_id)
                           .values(correction_seq=correction.seq))
        return correction.seq, correction

    return maker_checker.decide(project, KIND, request_id, actor, decision, comment=comment, load=_request,
                                apply=apply)


def requests(project: Project, *, status: str | None = None) -> list[CorrectionRequest]:
    """The correction requests (of one status, or all), newest first. No state database: none (and not created)."""
    return [_request(r) for r in KIND.listed(project, status)]
