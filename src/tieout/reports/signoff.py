"""Signing a month's pack (tieout.month_close holds the months' states and rules): each step checked, recorded
and audited, and on a review the pack frozen in the store in every format."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from tieout import state
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound
from tieout.month_close import (
    ALLOWED,
    PACK_FORMATS,
    STATE_AFTER,
    STEPS,
    MonthState,
    Signature,
    check_period,
    last_day,
    pack_folder,
    refusal_of,
    signatures_of,
    state_of,
)
from tieout.os_account import current as os_account
from tieout.people.users import get_user
from tieout.state.tables import month_signoffs
from tieout.store.manifest import write_whole
from tieout.workflow.audit import record, record_alone


def sign(project: Project, period: str, step: str, actor: str, *, reason: str | None = None) -> MonthState:
    """Take `step` (prepare, review, reopen) on `period` as `actor`. Raises BadArgument (no such step, a reopen
    without a reason), NotFound (the month's last day is not reconciled), NotAllowed (role, maker-checker, a
    step the month's state does not allow), Conflict (someone signed the month at the same moment)."""
    from tieout.store import run_lock

    if step not in STEPS:
        raise BadArgument(f"a month is prepared, reviewed or reopened, not {step!r}")
    period = check_period(period)
    reason = (reason or "").strip() or None
    if step == "reopen" and reason is None:
        raise BadArgument("--reason: reopening a signed month needs a reason (it is what the auditor reads)")
    action, obj = f"month.{step}", f"month:{period}"
    account = os_account()
    # Under the run lock: no run changes the month's days while it is signed (and refuse_closed runs under it).
    with run_lock(project):
        try:
            with state.open(project, write=True) as connection:
                month = state_of(period, signatures_of(connection, period))
                if step not in ALLOWED[month.state]:
                    raise NotAllowed(f"{actor} may not {step} {period}: it is {month.state} (next: "
                                     f"{' or '.join(ALLOWED[month.state])})")
                refusal = refusal_of(get_user(connection, actor), step, month, account)
                if refusal:
                    raise NotAllowed(f"{actor} may not {step} {period}: {refusal}")
                if step == "prepare":
                    _reconciled(project, period)
                report = _pack(project, period) if step == "review" else None
                seq = (connection.execute(select(func.max(month_signoffs.c.seq))
                                          .where(month_signoffs.c.period == period)).scalar() or 0) + 1
                now = datetime.now(UTC)
                row = {"period": period, "seq": seq, "step": step, "who": actor, "os_user": account, "at": now,
                       "reason": reason, "digests": None}
                if step == "review":
                    assert report is not None
                    this = Signature(seq, step, actor, now, reason, account, {})
                    signed = state_of(period, (*month.signatures, this))
                    report["sign_off"] = signed.sign_off()
                    row["digests"] = json.dumps(_freeze(project, period, seq, report), sort_keys=True)
                try:
                    connection.execute(insert(month_signoffs).values(**row))
                except IntegrityError:
                    raise Conflict(f"{period} was signed by someone else at the same moment: nothing changed") from None
                record(connection, actor=actor, action=action, object=obj, outcome="allowed", reason=reason or "",
                       detail={"seq": seq, "state": STATE_AFTER[step], "digests": row["digests"]})
                return state_of(period, signatures_of(connection, period))
        except (NotAllowed, Conflict) as e:
            record_alone(project, actor=actor, action=action, object=obj,
                         outcome="conflict" if isinstance(e, Conflict) else "refused", reason=str(e), detail={})
            raise


def _reconciled(project: Project, period: str) -> None:
    """NotFound unless the month's last day is reconciled: a month to date has no pack to sign."""
    from tieout.store import stored_days

    if last_day(period) not in stored_days(project):
        raise NotFound(f"{last_day(period)}, the last day of {period}, is not a reconciled day: run it before "
                       "signing the month")


def _pack(project: Project, period: str) -> dict[str, Any]:
    """The month's pack as it stands."""
    from tieout.reports import build
    from tieout.rules.registry import load_rules

    return build(project, load_rules(project), "monthly", period=period)


def _freeze(project: Project, period: str, seq: int, report: dict[str, Any]) -> dict[str, str]:
    """Write the pack in every format as closed month `period`'s review `seq`; the sha256 of each file."""
    from tieout.reports import render, write_xlsx

    folder = pack_folder(project, period)
    digests = {}
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in PACK_FORMATS:
        target = folder / f"{seq}.{fmt}"
        if fmt == "xlsx":
            tmp = folder / f".{seq}.building.xlsx"
            write_xlsx(report, tmp)
            body = tmp.read_bytes()
            tmp.unlink()
        else:
            body = render(report, fmt).encode("utf-8")
        write_whole(target, body)
        digests[fmt] = hashlib.sha256(body).hexdigest()
    return digests


