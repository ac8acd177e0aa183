"""Patterns on a generated world with three planted causes:

- **weekly**: every Friday from 2026-01-09 sales closes a deal in the CRM (a draft contract turns active) and
  billing sets the customer up on the Monday after — except once (Friday 2026-02-06), when billing never does;
- **monthly**: on the 10th of each month operations restates one customer's FTE count for five days (an FTE
  drift that closes on the 15th; the March one is still open);
- **one-off**: on Wednesday 2026-02-18 billing renames one customer by hand and leaves it.

Reconciled on Mondays, Wednesdays and Fridays and the restatement's days, from 2026-01-01 to 2026-03-12.

Each cause must come out as one pattern — the weekly one with its timing and structural episodes together —
with its cadence, its lag and the handoff it crosses; and nothing else. The registry records the deal's closing
both as a lifecycle handoff and as a shared field (the contract's status): the lifecycle event is the one named.
The usage restatement has no handoff in it: the sentence says so.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.conftest import invoke
from tests.test_patterns import exports, no_rows, reconciled

# 37 reconciled days; one worker runs the module, so the module's world is built once, not on each worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("patterns-planted")]

FIRST, LAST = date(2026, 1, 1), date(2026, 3, 12)
FRIDAYS = [date(2026, 1, 9) + timedelta(weeks=k) for k in range(9)]  # 2026-01-09 … 2026-03-06
NEVER_BILLED = date(2026, 2, 6)  # the Friday whose customer billing never sets up
DRIFT_DAYS = [date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)]  # the monthly restatement, 5 days each
DRIFT_LENGTH = 5
RENAMED_ON = date(2026, 2, 18)  # a Wednesday
HEALTHY = ["H1", "H2", "H3", "H4"]
WEEKLY = {f"W{k + 1}": friday for k, friday in enumerate(FRIDAYS)}
MONTHLY, ONE_OFF = "M1", "O1"
# Reconciled on Mondays, Wednesdays and Fridays (a day a run is skipped changes nothing: the timeline counts
# calendar days), on the days the monthly restatement begins and ends, and on the first and the last day.
DAYS = sorted({FIRST + timedelta(days=k) for k in range((LAST - FIRST).days + 1)
               if (FIRST + timedelta(days=k)).weekday() in (0, 2, 4)}
              | {FIRST, LAST, *DRIFT_DAYS, *(d + timedelta(days=DRIFT_LENGTH) for d in DRIFT_DAYS
                                                             if d + timedelta(days=DRIFT_LENGTH) <= LAST)})
COMPANIES = HEALTHY + list(WEEKLY) + [MONTHLY, ONE_OFF]
MONTHS = [(date(2026, m, 1), (date(2026, m + 1, 1) - timedelta(days=1))) for m in (1, 2, 3)]
PRICE_PER_FTE = Decimal("200.00")  # 10,000.00 a month for 50 FTE
HANDOFF = "a deal closed in the CRM creates the billing customer and its first invoice"
DEAL_CLOSED = "sales closes a deal in the CRM"
BILLING_SHOULD = "set the customer up the same day"

# The contract's status is shared: sales owns it, and its handoff to billing is the deal's closing. The deal's
# closing is also a lifecycle handoff, which comes first; nothing is recorded for the usage restatement.
OWNERSHIP = f"""handoffs:
  - from: crm
    to: billing
    columns: [contracts.status]
    event: {DEAL_CLOSED}
    should: {BILLING_SHOULD}
    missed_as: [CRM_ACTIVE_BILLING_INACTIVE]
fields:
  legal_name:
    kind: name
    held_in: {{crm: accounts.legal_name, billing: customers.name}}
    owner: crm
  tax_id:
    kind: tax_id
    held_in: {{crm: accounts.tax_id, billing: customers.tax_id}}
    owner: crm
  customer_status:
    kind: status
    held_in: {{crm: contracts.status, billing: invoices.status}}
    owner: crm
    statuses:
      crm: {{active: live, cancelled: ended, expired: ended, draft: pending}}
      billing: {{open: live, paid: live, uncollectible: live, void: ended}}
    handoff: {HANDOFF}
"""


def _billed_from(c: str) -> date | None:
    """The day billing sets the company's customer up (None: never, within the world)."""
    if c not in WEEKLY:
        return FIRST - timedelta(days=365)
    return None if WEEKLY[c] == NEVER_BILLED else WEEKLY[c] + timedelta(days=3)


def _tax(c: str) -> str:
    return f"TX{c}00017"


def _day_files(day: date) -> dict[str, str]:
    accounts, contracts, customers, invoices, tenants, usage = no_rows()
    stamp = "2025-12-01T08:00:00Z"
    for c in COMPANIES:
        name, domain = f"{c} Widgets Inc.", f"{c.lower()}.example"
        accounts.append(f"A-{c},{name},{domain},{_tax(c)},ana,{stamp}")
        closed = WEEKLY.get(c)
        if closed is None:
            contracts.append(f"K-{c},A-{c},active,2025-06-01,,120000.00,USD,50,{stamp}")
        else:  # a draft until the Friday the deal closes, live from that day
            status = "active" if day >= closed else "draft"
            contracts.append(f"K-{c},A-{c},{status},{closed},,120000.00,USD,50,{stamp}")
        billed = _billed_from(c)
        if billed is None or day < billed:
            continue  # billing has not set the customer up: no customer, no invoice, no tenant yet
        billing_name = f"{c} Widgets Holding Inc." if c == ONE_OFF and day >= RENAMED_ON else name
        customers.append(f"cus-{c},{billing_name},ap@{domain},{_tax(c)},{stamp}")
        for start, end in MONTHS:
            invoices.append(f"in-{c}-{start.month},cus-{c},{start},{end},{start},paid,10000.00,USD,50,{stamp}")
        tenants.append(f"t-{c},{c.lower()}-prod,{domain},{min(billed, day)},active")
        drifting = c == MONTHLY and any(d <= day < d + timedelta(days=DRIFT_LENGTH) for d in DRIFT_DAYS)
        for back in (1, 0):
            if day - timedelta(days=back) >= billed:
                usage.append(f"t-{c},{day - timedelta(days=back)},40,{70 if drifting else 50}")
    return exports(accounts, contracts, customers, invoices, tenants, usage)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = reconciled(tmp_path_factory.mktemp("planted") / "p", DAYS, _day_files, COMPANIES,
                         {"ownership.yml": OWNERSHIP})
    result = invoke("patterns", "-p", str(project), "--format", "json", "--examples", "20")
    assert result.exit_code == 0, result.output
    return {"project": project, "report": json.loads(result.stdout, parse_float=Decimal)}


def _one(report: dict, rule: str) -> dict:
    [p] = [p for p in report["patterns"] if p["rule"] == rule]
    return p


def test_each_planted_cause_is_one_pattern(planted: dict) -> None:
    found = json.loads(invoke("exceptions", "-p", str(planted["project"]), "--status", "all", "--format",
                              "json").stdout)
    # the world raises what it was built for, and nothing else
    assert sorted((e["rule"], e["canonical_id"]) for e in found) == sorted(
        [("CRM_ACTIVE_BILLING_INACTIVE", c) for c in WEEKLY] + [("FTE_THRESHOLD_DRIFT", MONTHLY),
                                                                ("OWNED_FIELD_MISMATCH", ONE_OFF)])
    report = planted["report"]
    assert sorted((p["rule"], p["count"]) for p in report["patterns"]) == [
        ("CRM_ACTIVE_BILLING_INACTIVE", len(FRIDAYS)), ("FTE_THRESHOLD_DRIFT", len(DRIFT_DAYS)),
        ("OWNED_FIELD_MISMATCH", 1)]
    weekly = _one(report, "CRM_ACTIVE_BILLING_INACTIVE")
    assert sorted(e["canonical_id"] for e in weekly["examples"]) == sorted(WEEKLY)
    assert report["patterns"][0]["id"] == weekly["id"]  # the recurring one first
    assert [p["recurring"] for p in report["patterns"]] == [True, False, False]


def test_the_weekly_cause_opens_on_fridays_and_closes_after_the_weekend(planted: dict) -> None:
    p = _one(planted["report"], "CRM_ACTIVE_BILLING_INACTIVE")
    # its timing and structural episodes together: the Friday billing never followed is the same cause
    assert p["classifications"] == {"structural": 1, "timing": len(FRIDAYS) - 1}
    assert p["classification"] == "timing"
    assert p["changes"] == [{"system": "crm", "table": "crm_contracts", "change": "changed", "field": "status"}]
    assert p["cadence"] == {"kind": "weekday", "value": 4, "count": len(FRIDAYS), "of": len(FRIDAYS),
                            "text": "opens on Fridays"}
    assert p["lag"]["days"] == 3 and p["lag"]["count"] == len(FRIDAYS) - 1 and p["lag"]["closed"] == len(FRIDAYS) - 1
    assert p["lag"]["open_longest"] == (LAST - NEVER_BILLED).days
    assert p["lag"]["text"] == f"closes after 3 days in {len(FRIDAYS) - 1} of {len(FRIDAYS)} cases"
    # money: the one still open is at risk now (its monthly contract value); at most, it and the next Friday's
    assert p["open"] == 1 and p["money_at_risk"] == Decimal("10000.00")
    assert p["peak_at_risk"] == Decimal("20000.00") and p["peak_on"] == (NEVER_BILLED + timedelta(weeks=1)).isoformat()
    assert (p["systems"], p["fields"]) == (["crm", "billing"], ["crm_contracts.status"])
    # the contract's status changed on its first days: the lifecycle handoff on that column names the event,
    # before the registry field the column also holds
    assert p["handoff"]["from"] == "crm" and p["handoff"]["to"] == "billing"
    assert (p["handoff"]["event"], p["handoff"]["matched_on"]) == (DEAL_CLOSED, "lifecycle")
    assert (p["handoff"]["fields"], p["handoff"]["columns"]) == ([], ["contracts.status"])
    # one sentence naming the weekday, the lag and the handoff's event
    s = p["sentence"]
    assert s.endswith(".") and ". " not in s and HANDOFF not in s
    for said in ("opens on Fridays", f"closes after 3 days in {len(FRIDAYS) - 1} of {len(FRIDAYS)} cases",
                 f"CRM → billing handoff: when {DEAL_CLOSED}, billing should {BILLING_SHOULD}",
                 "a rule nobody wrote down", "1 stayed open longer than the expected lag (structural)"):
        assert said in s, said


def test_the_monthly_cause_opens_on_the_10th(planted: dict) -> None:
    p = _one(planted["report"], "FTE_THRESHOLD_DRIFT")
    assert p["changes"] == [{"system": "ops", "table": "ops_usage", "change": "changed", "field": "fte_count"}]
    assert [e["first_seen"] for e in p["examples"]] == [d.isoformat() for d in reversed(DRIFT_DAYS)]
    assert p["cadence"] == {"kind": "day_of_month", "value": 10, "count": 3, "of": 3,
                            "text": "opens on the 10th of the month"}
    assert p["classifications"] == {"pending": 1, "timing": 2}
    assert (p["lag"]["days"], p["lag"]["count"], p["lag"]["closed"]) == (DRIFT_LENGTH, 2, 2)
    assert p["lag"]["text"] == f"closes after {DRIFT_LENGTH} days in 2 of 3 cases"
    # 20 FTE too many at the billed price per FTE, open now and at its largest
    assert p["money_at_risk"] == p["peak_at_risk"] == 20 * PRICE_PER_FTE
    assert p["recurring"] is False  # a week in four at most: monthly is not weekly
    # no handoff of the registry is about ops' usage: none named, and the sentence says where to record one
    assert p["handoff"] is None
    assert "opens on the 10th of the month" in p["sentence"]
    assert ("no handoff of the ownership registry is recorded for that change (ops_usage.fte_count changed): add "
            "the event that should update") in p["sentence"] and "under `handoffs:` in ownership.yml" in p["sentence"]


def test_the_one_off_has_no_cadence(planted: dict) -> None:
    p = _one(planted["report"], "OWNED_FIELD_MISMATCH")
    assert (p["count"], p["open"], p["cadence"], p["classification"]) == (1, 1, None, "ownership")
    assert p["lag"]["days"] is None and p["lag"]["text"] == f"has been open {(LAST - RENAMED_ON).days} days"
    assert p["changes"] == [{"system": "billing", "table": "billing_customers", "change": "changed", "field": "name"}]
    # the exception names the registry field: its handoff, from the owner to the system that disagrees
    assert (p["handoff"]["from"], p["handoff"]["to"], p["handoff"]["matched_on"]) == ("crm", "billing", "field")
    assert "legal_name → customers.name" in p["handoff"]["fields"]
    assert p["fields"] == ["billing_customers.name", "crm_accounts.legal_name"]
    assert "opens on" not in p["sentence"] and "the pattern" not in p["sentence"]


def test_a_pattern_keeps_its_id_while_its_occurrences_change_class(planted: dict) -> None:
    # Before the never-billed Friday had been open 30 days, every occurrence was timing or pending; the id of
    # the cause is the same then and now (the weekly review keeps its decisions by it).
    then = json.loads(invoke("patterns", "-p", str(planted["project"]), "--format", "json", "--as-of",
                             "2026-02-20", "--rule", "CRM_ACTIVE_BILLING_INACTIVE").stdout)
    [p] = then["patterns"]
    assert p["classifications"] == {"pending": 2, "timing": 5}  # the never-billed one, and that day's
    assert p["id"] == _one(planted["report"], "CRM_ACTIVE_BILLING_INACTIVE")["id"]


def test_the_calendar_strip_shows_the_fridays_and_the_lag(planted: dict) -> None:
    from tieout.config import load_project
    from tieout.patterns import patterns
    from tieout.patterns.calendar import strip
    from tieout.rules.registry import load_rules

    project = load_project(planted["project"])
    report = patterns(project, load_rules(project), rule_names=("CRM_ACTIVE_BILLING_INACTIVE",))
    [p] = report.patterns
    days = strip(p, p.trend[0].start, p.trend[-1].start, LAST)
    assert len(days) == 7 * len(p.trend) and days[0].day == p.trend[0].start and days[0].day.weekday() == 0
    shown = [f for f in FRIDAYS if f >= days[0].day]
    assert [d.day for d in days if d.opened] == shown
    # each Friday's deal is open over the weekend; the never-billed one from its Friday to the last day
    for d in days:
        if d.future:
            assert d.day > LAST and d.open == 0
            continue
        weekend = sum(1 for f in shown if f <= d.day <= f + timedelta(days=2))
        expected = weekend + (1 if NEVER_BILLED + timedelta(days=3) <= d.day else 0)
        assert d.open == expected, d
    assert [d.day for d in days if d.future] == [LAST + timedelta(days=k) for k in (1, 2, 3)]
