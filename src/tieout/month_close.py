"""Closing a month: a preparer and a reviewer sign its month-end pack, and a signed month stays as it was signed.

The steps, each one row of `month_signoffs` (never changed) and one audit entry (object `month:<YYYY-MM>`):

- **prepare** — a team member, an approver or an admin signs the pack as prepared. From then on the month's
  days cannot be run again (`refuse_closed`, exit 10): the reviewer reviews exactly what was prepared.
- **review** — an approver or an admin who is not the preparer (by name, without regard to case, and on the
  command line by OS account) signs it as reviewed. The month is **closed**: its pack, in every format, is
  written into the store (`.tieout/closed/<period>/`) with the sha256 of each file in the review's row, and
  `tieout report monthly --period` gives those files byte for byte from then on.
- **reopen** — an approver or an admin reopens a prepared or closed month with a reason, so that its days can
  be run again. The pack is then built afresh and shows, against the figures last signed, what moved
  (`adjustments`); preparing and reviewing it again closes the month anew.

A month's state is its last row: open (no row), prepared, closed, reopened. Of two people signing the same month
at once one wins and the other gets Conflict (a month's rows are numbered, the number unique).

Signing itself — the checks, the row, the audit entry and the frozen pack — is `tieout.reports.signoff.sign`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, NotAllowed
from tieout.output import money
from tieout.state import sqlite_reads

if TYPE_CHECKING:  # SQLAlchemy only where the database is opened through it: a pack's read of its month needs none
    from collections.abc import Mapping

    from sqlalchemy.engine import Connection

    from tieout.people.users import User

STEPS = ("prepare", "review", "reopen")
# The month's state after each step; a month without any is open.
STATE_AFTER = {"prepare": "prepared", "review": "closed", "reopen": "reopened"}
# How a step is told: "reviewed by carol".
DONE = {"prepare": "prepared", "review": "reviewed", "reopen": "reopened"}
# The steps each state allows.
ALLOWED = {"open": ("prepare",), "reopened": ("prepare",), "prepared": ("review", "reopen"), "closed": ("reopen",)}
LOCKED = ("prepared", "closed")
PACK_FORMATS = ("json", "md", "html", "xlsx")
# The pack's figures compared with the signed ones when a month is reopened: (label, path in the pack's JSON).
FIGURES = (
    ("CRM-active customers", ("active_customers", "crm")),
    ("Billing-active customers", ("active_customers", "billing")),
    ("Ops-active customers", ("active_customers", "ops")),
    ("Unexplained CRM ↔ billing", ("unexplained", "crm_billing")),
    ("Unexplained billing ↔ ops", ("unexplained", "billing_ops")),
    ("Money at risk at period end", ("money_at_risk", "total")),
)


@dataclass(frozen=True)
class Signature:
    seq: int
    step: str
    who: str
    at: datetime  # UTC
    reason: str | None
    os_user: str | None
    digests: dict[str, str]  # a review's frozen files: format -> sha256

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "who": self.who, "at": self.at.isoformat(timespec="seconds"),
                "reason": self.reason}


@dataclass(frozen=True)
class MonthState:
    period: str
    state: str  # open, prepared, closed, reopened
    signatures: tuple[Signature, ...]  # every step, oldest first
    complete: bool = True  # its last day is reconciled: it has a pack to sign (`months` says; else assumed)

    @property
    def locked(self) -> bool:
        return self.state in LOCKED

    def last(self, step: str) -> Signature | None:
        return next((s for s in reversed(self.signatures) if s.step == step), None)

    @property
    def signed_pack(self) -> Signature | None:
        """The last review: the pack last closed, if the month was ever closed."""
        return self.last("review")

    def sign_off(self) -> dict[str, Any]:
        """The pack's `sign_off`: who prepared and who reviewed the current round (after a reopening, nobody yet)."""
        since = max((s.seq for s in self.signatures if s.step == "reopen"), default=0)
        current = [s for s in self.signatures if s.seq > since]
        by_step = {s.step: s for s in current}
        return {role: ({"name": s.who, "at": s.at.isoformat(timespec="seconds")} if (s := by_step.get(step)) else None)
                for role, step in (("prepared_by", "prepare"), ("reviewed_by", "review"))}

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "state": self.state, "locked": self.locked, "complete": self.complete,
                "signatures": [s.as_dict() for s in self.signatures]}


def period_of(day: date) -> str:
    return f"{day:%Y-%m}"


def check_period(period: str) -> str:
    try:
        year, month = (int(x) for x in period.split("-"))
        date(year, month, 1)
    except ValueError:
        raise BadArgument(f"--period: expected YYYY-MM, got {period!r}") from None
    return f"{year:04d}-{month:02d}"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# The columns of `month_signoffs` a Signature is made of.
_SIGNATURE_COLUMNS = ("seq", "step", "who", "at", "reason", "os_user", "digests")


def _signature(r: Mapping[str, Any]) -> Signature:
    return Signature(seq=r["seq"], step=r["step"], who=r["who"], at=_aware(r["at"]), reason=r["reason"],
                     os_user=r["os_user"], digests=json.loads(r["digests"]) if r["digests"] else {})


def signatures_of(connection: Connection, period: str) -> tuple[Signature, ...]:
    from sqlalchemy import select

    from tieout.state.tables import month_signoffs

    rows = connection.execute(select(month_signoffs).where(month_signoffs.c.period == period)
                              .order_by(month_signoffs.c.seq))
    return tuple(_signature(dict(r._mapping)) for r in rows)


def state_of(period: str, signatures: tuple[Signature, ...]) -> MonthState:
    return MonthState(period, STATE_AFTER[signatures[-1].step] if signatures else "open", signatures)


def month_state(project: Project, period: str) -> MonthState:
    """Where `period` (YYYY-MM) stands. No state database: open (and none is created)."""
    period = check_period(period)
    if not state.exists(project):
        return MonthState(period, "open", ())
    rows = sqlite_reads.select(project, "month_signoffs", _SIGNATURE_COLUMNS, where={"period": period},
                               order_by=["seq"], types={"at": "datetime"})
    if rows is not None:  # the default SQLite database, read without SQLAlchemy (tieout.state.sqlite_reads)
        return state_of(period, tuple(_signature(r) for r in rows))
    with state.open(project) as connection:
        return state_of(period, signatures_of(connection, period))


def months(project: Project) -> list[MonthState]:
    """Every month with a stored day or a signature, newest first; `complete` when its last day is stored."""
    from dataclasses import replace

    from tieout.store import stored_days

    days = set(stored_days(project))
    periods = {period_of(d) for d in days}
    if state.exists(project):
        from sqlalchemy import select

        from tieout.state.tables import month_signoffs

        with state.open(project) as connection:
            periods |= {r[0] for r in connection.execute(select(month_signoffs.c.period).distinct())}
            found = [state_of(p, signatures_of(connection, p)) for p in sorted(periods, reverse=True)]
    else:
        found = [MonthState(p, "open", ()) for p in sorted(periods, reverse=True)]
    return [replace(m, complete=last_day(m.period) in days) for m in found]


def last_day(period: str) -> date:
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def refuse_closed(project: Project, days: list[date]) -> None:
    """NotAllowed when a day of `days` belongs to a prepared or closed month: its pack was signed as it stands."""
    if not days or not state.exists(project):
        return
    wanted = sorted({period_of(d) for d in days})
    with state.open(project) as connection:
        for period in wanted:
            month = state_of(period, signatures_of(connection, period))
            if month.locked:
                last = month.signatures[-1]
                raise NotAllowed(
                    f"{period} is {month.state} ({DONE[last.step]} by {last.who} "
                    f"on {last.at:%Y-%m-%d}): its days are not run again unless an approver or an admin reopens it "
                    f"— tieout month reopen --period {period} --as NAME --reason TEXT")


def refusal_of(user: User | None, step: str, month: MonthState, account: str | None) -> str | None:
    """Why `user` may not take `step` on `month` now, or None."""
    if user is None or user.anonymous:
        return "unknown or disabled user"
    if user.role == "auditor":
        return "an auditor has read-only access"
    if step in ("review", "reopen") and user.role not in ("admin", "approver"):
        return f"a {user.role.replace('_', ' ')} may not {step} a month: only an approver or an admin may"
    if step == "review":
        prepared = month.last("prepare")
        assert prepared is not None  # a prepared month
        if prepared.who.strip().casefold() == user.name.strip().casefold():
            return "maker-checker: the preparer does not review their own month"
        if account is not None and prepared.os_user == account:
            return (f"maker-checker: {month.period} was prepared from the OS account {account!r}; a second person "
                    "reviews it from an account of their own (whatever name --as gives)")
    return None


def pack_folder(project: Project, period: str) -> Path:
    return project.store_path / "closed" / period


def frozen_pack(project: Project, month: MonthState, fmt: str) -> bytes | None:
    """The pack of a closed month as it was reviewed, in `fmt`; None when the month is not closed."""
    review = month.signed_pack
    if month.state != "closed" or review is None or fmt not in review.digests:
        return None
    return _frozen_file(project, month.period, review, fmt)


def _frozen_file(project: Project, period: str, review: Signature, fmt: str) -> bytes:
    """One file of the pack frozen by `review`. Missing, or no longer matching the digest recorded at sign-off:
    a damaged store."""
    from tieout.errors import StoreError

    path = pack_folder(project, period) / f"{review.seq}.{fmt}"
    try:
        body = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: the pack signed for {period} cannot be read ({e})") from e
    if hashlib.sha256(body).hexdigest() != review.digests.get(fmt):
        raise StoreError(f"{path}: not the pack reviewed for {period} (its sha256 differs from the one recorded "
                         "at sign-off)")
    return body


def adjustments(project: Project, month: MonthState, report: dict[str, Any]) -> dict[str, Any] | None:
    """After a month was closed and reopened: each figure of `report` against the pack last reviewed."""
    review = month.signed_pack
    if review is None or month.state == "closed":
        return None
    signed = json.loads(_frozen_file(project, month.period, review, "json"), parse_float=Decimal)
    reopened = next(s for s in reversed(month.signatures) if s.step == "reopen")
    lines = []
    for name, (section, key) in FIGURES:
        before, now = signed[section][key], report[section][key]
        if isinstance(now, Decimal):  # money: to the cent, as the pack shows it
            before, now = money(before), money(now)
        lines.append({"figure": name, "signed": before, "now": now, "change": now - before})
    return {"signed": {"reviewed_by": review.who, "at": review.at.isoformat(timespec="seconds")},
            "reopened": {"by": reopened.who, "at": reopened.at.isoformat(timespec="seconds"),
                         "reason": reopened.reason}, "lines": lines}
