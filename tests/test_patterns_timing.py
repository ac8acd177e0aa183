"""A pattern's cadence, lag and most money held at once (tieout.patterns.timing), on episodes made up here."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tieout.patterns.model import Occurrence, Signature
from tieout.patterns.timing import cadence, lag, peak_at_risk
from tieout.rules.registry import Rule
from tieout.timeline import Episode

SIG = Signature("CRM_ACTIVE_BILLING_INACTIVE", "compared", (), ())


def _occ(n: int, first: date, resolved: date | None, impact: str = "100", *, entity: str | None = None,
         rule: str = "CRM_ACTIVE_BILLING_INACTIVE", last: date | None = None) -> Occurrence:
    last_seen = last or (resolved - timedelta(days=1) if resolved else date(2026, 3, 31))
    e = Episode(f"e{n}", rule, entity or f"C{n}", None, None, None, "P3", Decimal(impact), "ar", None, first,
                last_seen, resolved, None, None)
    return Occurrence(e, "timing" if resolved else "pending", SIG)


def _rule(name: str, exposure: str | None) -> Rule:
    return Rule(name, "SELECT 1", "", "0", "ar", 30, exposure=exposure)


def test_a_weekday_cadence_counts_days_not_exceptions() -> None:
    fridays = [date(2026, 1, 2) + timedelta(weeks=k) for k in range(3)]
    c = cadence([*fridays, date(2026, 1, 20)])  # three Fridays of four days: three quarters
    assert c is not None and (c.kind, c.value, c.count, c.of, c.text) == ("weekday", 4, 3, 4, "opens on Fridays")
    # ten exceptions opened by one Tuesday's import do not outvote the Fridays: days count, not exceptions
    assert cadence([*fridays, date(2026, 1, 20), *[date(2026, 1, 27)] * 10]) is None
    assert cadence(fridays[:2]) is None  # two days are too few to call a habit


def test_a_day_of_the_month_and_the_months_end() -> None:
    tenths = [date(2026, m, 10) for m in (1, 2, 3)]  # a Saturday and two Tuesdays
    c = cadence(tenths)
    assert c is not None and (c.kind, c.value, c.text) == ("day_of_month", 10, "opens on the 10th of the month")
    ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    c = cadence(ends)
    assert c is not None and (c.kind, c.count, c.text) == ("month_end", 3, "opens on the last day of the month")
    # within one month a day of the month says nothing: the same days read as a weekday or nothing
    assert cadence([date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]).kind == "weekday"  # type: ignore[union-attr]
    assert cadence([date(2026, 1, 5), date(2026, 1, 13), date(2026, 1, 21)]) is None


def test_the_lag_is_the_usual_one_or_the_range() -> None:
    start = date(2026, 1, 2)
    usual = [_occ(k, start + timedelta(weeks=k), start + timedelta(weeks=k, days=3)) for k in range(3)]
    late = _occ(9, start, start + timedelta(days=20))
    still = _occ(10, date(2026, 3, 1), None)
    got = lag([*usual, late, still], date(2026, 3, 11))
    assert (got.days, got.count, got.closed, got.of, got.shortest, got.longest, got.open_longest) == (
        3, 3, 4, 5, 3, 20, 10)
    assert got.median == Decimal(3) and got.text == "closes after 3 days in 3 of 5 cases"
    spread = lag([_occ(1, start, start + timedelta(days=2)), _occ(2, start, start + timedelta(days=5))], start)
    assert spread.median == Decimal("3.5") and spread.text == "closes after 2 to 5 days (median 3.5) in 2 of 2 cases"
    assert lag([still], date(2026, 3, 11)).text == "has been open 10 days"
    assert lag([usual[0]], date(2026, 3, 11)).text == "closed after 3 days"
    none = lag([still, _occ(11, date(2026, 2, 1), None)], date(2026, 3, 11))
    assert (none.days, none.text) == (None, "has not closed yet in any of 2 cases (the oldest open 38 days)")


def test_the_most_held_at_once_counts_a_gap_once() -> None:
    rules = {"CRM_ACTIVE_BILLING_INACTIVE": _rule("CRM_ACTIVE_BILLING_INACTIVE", "unbilled"),
             "OPS_ACTIVE_BILLING_INACTIVE": _rule("OPS_ACTIVE_BILLING_INACTIVE", "unbilled")}
    d = date(2026, 1, 5)
    found = [
        _occ(1, d, d + timedelta(days=3), "100", entity="A"),
        # the same entity's missing invoice seen by a second rule: one gap, at its larger impact
        _occ(2, d, d + timedelta(days=3), "150", entity="A", rule="OPS_ACTIVE_BILLING_INACTIVE"),
        _occ(3, d + timedelta(days=2), d + timedelta(days=10), "40", entity="B"),  # overlaps A
        _occ(4, d + timedelta(days=3), None, "500", entity="C"),  # A resolved that day: B and C are open
    ]
    assert peak_at_risk(found[:3], rules) == (Decimal(190), d + timedelta(days=2))
    assert peak_at_risk(found, rules) == (Decimal(540), d + timedelta(days=3))
    assert peak_at_risk([_occ(5, d, d + timedelta(days=1), "0")], rules) == (Decimal(0), None)
