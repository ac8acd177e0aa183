"""What the record holds now: a correction's old value, read from the store and checked.

A person correcting a record says what it held before (`--old`, the web form's old value). That claim is checked
against the record as the latest stored day holds it — read through the store (`tieout.store.open_day`) and built
as a run builds it (`tieout.canonical.build`), never by re-reading an export:

- a claimed old value that matches none of the records' values (compared as the field's kind compares them:
  `ACME, Inc.` is `Acme Inc`, `12` is `12.0000`) is a conflict (exit 9, HTTP 409) naming both values — unless
  the record already holds the *new* value (the correction is recorded after the change reached the store, and
  that day cannot say what came before);
- besides the record's value, the new value of a correction of the same field recorded since that day is a
  valid old value (a second step before the next export shows the first);
- no claimed value (the command line's `--old` left out) records the value the store holds (or the newest such
  correction's) — when the records agree on one; when the entity's records in that system differ, the person
  names the record (`--source-id`);
- with no stored day yet there is nothing to check against: the claim is recorded as given.

How values are compared and checked by kind is tieout.corrections.kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tieout import canonical
from tieout.config import Project
from tieout.corrections.fields import FieldSpec
from tieout.corrections.kinds import check_currency, normalised, plain, shown_value
from tieout.currencies import exponent
from tieout.errors import BadArgument, Conflict, StoreError
from tieout.ownership.model import column
from tieout.ownership.sql import value_sql
from tieout.store import open_day, stored_days


@dataclass(frozen=True)
class HeldValue:
    """One record's value of a field on a stored day."""

    source_id: str  # the source record (account, customer, tenant)
    row_id: str  # the row holding it (a contract, an invoice; the record itself for a record's own column)
    value: str | None  # as a person states it: an own-currency amount in its currency, an FTE as a number
    currency: str | None  # the currency an amount is stated in


@dataclass(frozen=True)
class Held:
    day: date | None  # the stored day read; None: nothing stored yet
    values: list[HeldValue]

    def agreed(self, kind: str) -> str | None:
        """The one value every record holds (compared by `kind`); BadArgument when they differ."""
        distinct = {normalised(kind, v.value): v.value for v in self.values}
        if len(distinct) > 1:
            shown = ", ".join(f"{v.source_id}: {shown_value(v.value)}" for v in self.values)
            raise BadArgument(f"--old: the entity's records hold different values ({shown}); name the record "
                              "with --source-id, or give --old")
        return next(iter(distinct.values()), None)


def held_values(project: Project, *, canonical_id: str, system: str, spec: FieldSpec,
                source_id: str | None) -> Held:
    """The field's values in `system`'s records of the entity (of `source_id` only, when given) on the latest
    stored day. Nothing stored, or that day's records not readable back from the store: no day, no values."""
    days = stored_days(project)
    if not days or spec.owned is None:
        return Held(None, [])
    day = days[-1]
    try:
        con = open_day(project, day)
    except StoreError:
        return Held(None, [])
    try:
        canonical.build(con, project, day)
        sql = value_sql(spec.name, spec.owned, column(spec.owned, system), day, project.reporting_currency)
        rows = con.execute(
            f"SELECT source_id, row_id, value, original_amount, original_currency FROM ({sql}) "
            "WHERE canonical_id = $c AND ($r IS NULL OR source_id = $r) ORDER BY source_id, row_id",
            {"c": canonical_id, "r": source_id}).fetchall()
    finally:
        con.close()
    out = []
    for sid, row_id, value, original, currency in rows:
        if spec.kind == "amount":
            # an own-currency amount as the record holds it; a shared one in the reporting currency
            amount = original if spec.own_currency else (None if value is None else Decimal(value))
            currency = currency if spec.own_currency else project.reporting_currency
            value = None if amount is None else format(Decimal(amount).quantize(
                Decimal(1).scaleb(-exponent(currency or project.reporting_currency))), "f")
        elif spec.kind == "fte" and value is not None:
            value = plain(Decimal(value))
        out.append(HeldValue(sid, row_id, value, currency if spec.kind == "amount" else None))
    return Held(day, out)


def _since(project: Project, day: date, *, canonical_id: str, system: str, field: str,
           source_id: str | None) -> list[str | None]:
    """The new values, oldest first, of the corrections of this field recorded on or after stored `day`: the
    values the record has been given since, which no export has shown yet."""
    from tieout.corrections.log import corrections_for

    return [c.new_value for c in corrections_for(project, canonical_id)
            if c.system == system and c.field == field and c.recorded_on(project.timezone) >= day
            and (source_id is None or c.source_id in (None, source_id))]


def settle_old_value(project: Project, *, canonical_id: str, system: str, spec: FieldSpec, source_id: str | None,
                     old_value: str | None, omitted: bool, new_value: str | None) -> str | None:
    """The old value to record: the claimed one once it matches the record, or (`omitted`) the record's own.
    Raises Conflict when the claim matches no record's value, BadArgument when a value has the wrong shape."""
    held = held_values(project, canonical_id=canonical_id, system=system, spec=spec, source_id=source_id)
    currencies = {v.currency for v in held.values if v.currency}
    currency = next(iter(currencies)) if len(currencies) == 1 else (
        project.reporting_currency if spec.kind == "amount" and not spec.own_currency else None)
    check_currency(spec, new_value, currency, "--new")
    if held.day is None:
        return old_value  # nothing stored to check against
    already = bool(held.values) and all(normalised(spec.kind, v.value) == normalised(spec.kind, new_value)
                                        for v in held.values)
    since = _since(project, held.day, canonical_id=canonical_id, system=system, field=spec.name,
                   source_id=source_id)
    if omitted:
        if since:
            return since[-1]
        if already:
            raise BadArgument(f"--old: on {held.day} the record already holds the new value "
                              f"{shown_value(new_value)}: say what it held before (--old)")
        return held.agreed(spec.kind)
    check_currency(spec, old_value, currency, "--old")
    wanted = normalised(spec.kind, old_value)
    # Besides the record's value: a correction recorded after the change reached the store (the latest day holds
    # the new value and cannot say what came before; the impact is measured on the record all the same), and the
    # new value of a correction recorded since that day (a second step before the next export shows the first).
    if already or any(normalised(spec.kind, v) == wanted for v in [*(h.value for h in held.values), *since]) or (
            wanted is None and not held.values):
        return old_value
    what = f"{system} {spec.name} of {canonical_id}" + (f" ({source_id})" if source_id else "")
    if not held.values:
        now = "it has no such record"
    else:
        now = "the record holds " + ", ".join(
            f"{shown_value(v.value)}" + (f" {v.currency}" if v.currency and v.value is not None else "")
            + (f" ({v.source_id})" if len(held.values) > 1 else "") for v in held.values)
    raise Conflict(f"--old {shown_value(old_value)} does not match the record: on {held.day} {what}: {now}. "
                   "Check the record (or leave --old out to take the stored value)")
