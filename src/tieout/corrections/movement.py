"""What an amount correction really moves, measured against the record.

A correction's old value is what its requester *says* the record held; nothing stops them from saying
4,999,999 when the record holds 0. So an amount field's movement is measured against the value the record
actually held on a stored day, read from the store (`tieout.store.open_day`) and built exactly as a run builds it
(`field_values`, in the reporting currency), never against the claimed old value:

- against the record's value on the **latest stored day**; and
- against its value **before the same field's recent corrections**: on the latest stored day before the
  earliest correction of that entity's field in that system recorded in the last `STEP_WINDOW_DAYS` days.
  A large change split into small steps is measured as a whole: each step is measured from where the first
  one started, so the last step carries the sum of them all.

The larger difference counts. A record without a value there holds 0 (the correction creates the whole amount);
so does a project with no stored day yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tieout import canonical
from tieout.config import Project
from tieout.corrections.fields import field_spec
from tieout.corrections.log import corrections_for
from tieout.errors import StoreError
from tieout.ownership.model import column
from tieout.ownership.sql import value_sql
from tieout.store import open_day, stored_days

# Recent corrections of a field are measured together: splitting a change over more days than this is a change
# per window, each approved on its own merits.
STEP_WINDOW_DAYS = 31


def movement(project: Project, *, canonical_id: str, system: str, field: str, source_id: str | None,
             new_value: Decimal | None, now: datetime | None = None) -> Decimal:
    """How far `new_value` moves the field from what the record held (see the module's docstring). A record's
    own amount (`tieout.corrections.fields.FieldSpec.own_currency`) is stated in its currency: converted at the
    rate of the day it is measured against."""
    days = stored_days(project)
    baselines = {days[-1]} if days else set()
    earliest = _earliest_recent_correction(project, canonical_id, system, field, now or datetime.now(UTC))
    if earliest is not None and days:
        before = [d for d in days if d < earliest]
        baselines.add(before[-1] if before else days[0])
    target = new_value or Decimal(0)
    moves = [abs(target * rate - held)
             for day in sorted(baselines)
             for held, rate in recorded_amounts(project, day, canonical_id=canonical_id, system=system, field=field,
                                                source_id=source_id, with_rates=True)]
    return max(moves or [abs(target)])


def _earliest_recent_correction(project: Project, canonical_id: str, system: str, field: str,
                                now: datetime) -> date | None:
    since = now - timedelta(days=STEP_WINDOW_DAYS)
    recent = [c for c in corrections_for(project, canonical_id)
              if c.system == system and c.field == field and c.recorded_at >= since]
    return min((c.recorded_on(project.timezone) for c in recent), default=None)


def recorded_amounts(project: Project, day: date, *, canonical_id: str, system: str, field: str,
                     source_id: str | None, with_rates: bool = False) -> list[Any]:
    """The field's amounts (reporting currency) in `system`'s records of the entity on stored `day` — of
    `source_id` only, when given; a record without a value counts as 0. None found (or the day's records
    cannot be read back from the store): [0]. `with_rates`: (amount, rate) pairs, the rate converting a value
    stated as the person states it (a record's own amount: in its currency) into the reporting currency."""
    spec = field_spec(project, system, field)
    found: list[tuple[Decimal, Decimal]] = []
    try:
        con = open_day(project, day)
    except StoreError:
        con = None
    if con is not None and spec.owned is not None:
        try:
            canonical.build(con, project, day)
            sql = value_sql(spec.name, spec.owned, column(spec.owned, system), day, project.reporting_currency)
            rows = con.execute(
                f"SELECT amount, original_currency FROM ({sql}) WHERE canonical_id = $c AND ($r IS NULL OR "
                "source_id = $r)", {"c": canonical_id, "r": source_id}).fetchall()
        finally:
            con.close()
        rates = project.fx_rates_on(day)
        for amount, currency in rows:
            rate = rates.get(currency or project.reporting_currency, Decimal(1)) if spec.own_currency else Decimal(1)
            found.append((Decimal(0) if amount is None else Decimal(amount), rate))
    found = found or [(Decimal(0), Decimal(1))]
    return found if with_rates else [amount for amount, _ in found]
