"""The planted cases: each function bends one company (or adds one stray record) so that exactly the listed
exceptions appear, on exactly the listed dates, under the contract's rules and default parameters.

Dates are placed relative to the world's start and length, so any `days >= MIN_DAYS` keeps every case.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tieout.demo.emit import (
    Tables,
    emit_account,
    emit_customer,
    emit_invoices,
    emit_tenant,
    emit_usage,
    next_month,
)
from tieout.demo.model import ONE_DAY, SYSTEM_OWNERS, Plan, PlantedCase, severity_of
from tieout.demo.names import Identity, IdentityFactory, fold, tax_id_key, tax_id_variant
from tieout.demo.plans import Clock, healthy_plan, source_ids

MIN_DAYS = 60
# The brief's own example company (contract §7's worked example uses the same identity).
GLOBEX = Identity("Globex Labs LLC", "globex.io", "98-7654321", "US", "globex")


@dataclass
class Builder:
    rng: random.Random
    clock: Clock
    ids: IdentityFactory
    numbers: list[int]  # canonical numbers reserved for the companies the cases bend
    late: Tables  # stray records, written after the companies
    plans: list[Plan] = field(default_factory=list)
    cases: list[PlantedCase] = field(default_factory=list)
    matches: list[dict[str, str]] = field(default_factory=list)  # records that must resolve by natural key
    strays: int = 0

    def company(self, ident: Identity | None = None, **changes: object) -> Plan:
        plan = healthy_plan(self.rng, self.clock, self.numbers.pop(0), ident or self.ids.new())
        for name, value in changes.items():
            setattr(plan, name, value)
        self.plans.append(plan)
        return plan

    def stray_id(self, prefix: str) -> str:
        self.strays += 1
        return f"{prefix}{self.strays:02d}{self.rng.randrange(16**8):08x}"

    def case(self, name: str, rule: str, *, impact: Decimal | int, team: str, first: date, last: date | None,
             description: str, canonical_id: str | None = None, source_system: str | None = None,
             source_id: str | None = None, field: str | None = None) -> None:
        impact = Decimal(impact)
        still_open = last is None or last >= self.clock.end
        self.cases.append(PlantedCase(
            name, rule, canonical_id, source_system, source_id, field, impact, severity_of(impact), team,
            max(first, self.clock.start), None if still_open else last, description))

    def resolves(self, system: str, source_id: str, plan: Plan, key: str) -> None:
        self.matches.append({"source_system": system, "source_id": source_id,
                             "canonical_id": plan.canonical_id, "key": key})


def brief_timing(b: Builder) -> None:
    """The brief's story: contract from day 1, billing on day 15, usage from day 20 — two timing lags."""
    s = b.clock.start
    b.ids.claim(GLOBEX)
    p = b.company(GLOBEX, fte=25, price=Decimal(200), account_created=s - timedelta(days=4),
                  contract_start=s, contract_visible=s - timedelta(days=4), contract_end=None,
                  previous_contract=False, billing_from=s + timedelta(days=14), tenant_created=s,
                  usage_from=s + timedelta(days=19), billing_name=[(s, "GLOBEX LABS, L.L.C.")],
                  billing_tax_id=[(s, GLOBEX.tax_id)], email="billing@globex.io", tenant_domain="globex.io",
                  display_name="globex", noise=False)
    b.case("brief_timing_billing_lag", "CRM_ACTIVE_BILLING_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="ar", first=s, last=s + timedelta(days=13),
           description="contract live from day 1, billing creates the customer and first invoice on day 15")
    b.case("brief_timing_usage_lag", "BILLING_ACTIVE_OPS_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="account_managers", first=s + timedelta(days=14),
           last=s + timedelta(days=18), description="invoiced from day 15, first active users on day 20")


def never_billed(b: Builder) -> None:
    """One missing invoice seen by two rules: the CRM and the product both say active. Each exception carries
    the monthly value; every total of money at risk counts it once (docs/rules.md, "Money at risk")."""
    x = b.clock.at(1 / 3)
    p = b.company(fte=600, price=Decimal(100), account_created=x - timedelta(days=60), contract_start=x,
                  contract_visible=x - timedelta(days=7), contract_end=None, previous_contract=False,
                  billing_from=None, tenant_created=x, usage_from=x, noise=False)
    b.case("enterprise_never_billed", "CRM_ACTIVE_BILLING_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="ar", first=x, last=None,
           description="new enterprise contract starts mid-period; billing never sets the customer up")
    b.case("enterprise_in_use_unbilled", "OPS_ACTIVE_BILLING_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="ar", first=x, last=None,
           description="the product onboards the same customer on its start date: the same missing invoice")


def late_renewal(b: Builder) -> None:
    m2 = next_month(b.clock.start)
    entered = m2 + timedelta(days=12)
    p = b.company(fte=200, price=Decimal(120), contract_end=m2 - ONE_DAY, renewal_visible=entered,
                  previous_contract=False)
    b.case("renewal_entered_late", "BILLING_ACTIVE_CRM_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="ar", first=m2, last=entered - ONE_DAY,
           description="term ends at month end, billing keeps invoicing, the renewal reaches the CRM late")


def stopped_using(b: Builder) -> None:
    last_active = b.clock.day(10)
    p = b.company(fte=125, price=Decimal(100), active_until=last_active, noise=False)
    b.case("paying_but_idle", "BILLING_ACTIVE_OPS_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="account_managers", first=last_active + timedelta(days=30), last=None,
           description="no active users after day 10 while invoices continue (potential refund)")


def not_deprovisioned(b: Builder) -> None:
    m2 = next_month(b.clock.start)
    p = b.company(fte=15, price=Decimal(120), contract_end=m2 - ONE_DAY, previous_contract=False,
                  billing_until=b.clock.start.replace(day=1))
    b.case("expired_but_in_use", "OPS_ACTIVE_BILLING_INACTIVE", canonical_id=p.canonical_id,
           impact=p.monthly_value, team="ar", first=m2, last=None,
           description="contract expired at the month end and billing stopped, the tenant is still in use")


def fte_drift(b: Builder) -> None:
    v = b.clock.at(4 / 9)
    true_up = next_month(v)
    p = b.company(fte=100, price=Decimal(100), ops_fte=[(date.min, 100), (v, 130)],
                  billed_fte=[(date.min, 100), (true_up, 130)], noise=False)
    b.case("headcount_growth_trued_up", "FTE_THRESHOLD_DRIFT", canonical_id=p.canonical_id,
           impact=30 * p.price, team="account_managers", first=v, last=true_up - ONE_DAY,
           description="operations counts 130 FTE against 100 billed until next month's invoice bills 130")
    w = b.clock.at(11 / 18)
    q = b.company(fte=1000, price=Decimal(80), ops_fte=[(date.min, 1000), (w, 1700)], noise=False)
    b.case("unbilled_business_unit", "FTE_THRESHOLD_DRIFT", canonical_id=q.canonical_id,
           impact=700 * q.price, team="account_managers", first=w, last=None,
           description="a business unit of 700 FTE rolled onto the tenant and never billed")


def merged_accounts(b: Builder) -> None:
    merge = b.clock.at(1 / 2)
    p = b.company()
    loser = f"0015g0000{900000 + int(p.account_id[9:15]):06d}AAA"
    created = p.account_created - timedelta(days=200)
    # The loser carries the same name in capitals and no tax id: a duplicate, not a disagreement.
    emit_account(b.late, p, account_id=loser, legal_name=p.ident.legal_name.upper(), tax_id="",
                 created=created, removed=merge)
    b.late.map_row(p.canonical_id, "crm", loser, created, merge - ONE_DAY,
                   f"merged into {p.account_id} on {merge.isoformat()}")
    b.case("crm_merge", "DUPLICATE_SOURCE_RECORD", canonical_id=p.canonical_id, source_system="crm",
           impact=0, team=SYSTEM_OWNERS["crm"], first=b.clock.start, last=merge - ONE_DAY,
           description="an old lead account duplicates the customer until the CRM merge closes its map row")


def duplicate_import(b: Builder) -> None:
    day = b.clock.at(5 / 9)
    p = b.company()
    dup = source_ids(0, b.rng)[2]
    emit_customer(b.late, dup, day, [(day, p.ident.legal_name.upper())],
                  [(day, tax_id_variant(p.ident.tax_id, b.rng))], p.email, "03:15")
    b.resolves("billing", dup, p, "tax_id")
    b.case("billing_double_import", "DUPLICATE_SOURCE_RECORD", canonical_id=p.canonical_id,
           source_system="billing", impact=0, team=SYSTEM_OWNERS["billing"], first=day, last=None,
           description=f"a re-run import creates the customer again as {dup}; its tax id ties it back")


def hand_edits(b: Builder) -> None:
    h = b.clock.at(11 / 30)
    p = b.company()
    base, _, form = p.ident.legal_name.rpartition(" ")
    p.billing_name = [*p.billing_name, (h, f"{base} Holding {form}")]
    b.case("billing_renamed_customer", "OWNED_FIELD_MISMATCH", canonical_id=p.canonical_id,
           source_system="billing", field="legal_name", impact=0, team=SYSTEM_OWNERS["billing"], first=h,
           last=None, description="AR renames the customer in billing; the CRM owns the legal name")
    t1 = b.clock.at(2 / 3)
    t2 = t1 + timedelta(days=7)
    q = b.company()
    key = tax_id_key(q.ident.tax_id)
    typo = q.ident.tax_id[:-1] + str((int(key[-1]) + 1) % 10 if key[-1].isdigit() else 0)
    b.ids.tax_ids.add(tax_id_key(typo))
    q.billing_tax_id = [(_since(q), q.ident.tax_id), (t1, typo), (t2, q.ident.tax_id)]
    b.case("billing_tax_id_typo", "OWNED_FIELD_MISMATCH", canonical_id=q.canonical_id,
           source_system="billing", field="tax_id", impact=0, team=SYSTEM_OWNERS["billing"], first=t1,
           last=t2 - ONE_DAY, description="a hand edit mistypes the tax id in billing; fixed a week later")


def ambiguous_domain(b: Builder) -> None:
    a = b.ids.new(country="GB")
    pre = a.legal_name.rpartition(" ")[0].rsplit(" ", 1)[0]
    sister = dataclasses.replace(b.ids.new(country="GB", prefix=pre), domain=a.domain)
    b.company(a)
    b.company(sister)
    cid = b.stray_id("cus_shared")
    since = b.clock.start - timedelta(days=120)
    emit_customer(b.late, cid, since, [(since, f"{pre} Shared Services Ltd")], [(since, "")],
                  f"ap@{a.domain}", "09:00")
    emit_invoices(b.late, cid, since, None, Decimal(100), [(date.min, 150)], "09:00")
    b.case("shared_services_customer", "AMBIGUOUS_ENTITY_MATCH", source_system="billing", source_id=cid,
           impact=15000, team=SYSTEM_OWNERS["billing"], first=b.clock.start, last=None,
           description=f"no tax id, a name nobody has, and an e-mail at {a.domain}, which two sister "
                       "companies share")


def unmapped_records(b: Builder) -> None:
    stray = b.ids.new(country="DE")
    cid = b.stray_id("cus_")
    since = b.clock.start - timedelta(days=200)
    emit_customer(b.late, cid, since, [(since, stray.legal_name)], [(since, stray.tax_id)],
                  f"rechnung@{stray.domain}", "07:30")
    emit_invoices(b.late, cid, since, None, Decimal(200), [(date.min, 12)], "07:30")
    b.case("reseller_sub_account", "UNMAPPED_SOURCE_RECORD", source_system="billing", source_id=cid,
           impact=2400, team=SYSTEM_OWNERS["billing"], first=b.clock.start, last=None,
           description="a customer created directly in billing that matches nothing in the CRM or ops")
    day = b.clock.at(2 / 3) + timedelta(days=3)
    tid = b.stray_id("t-sandbox-")
    emit_tenant(b.late, tid, tid[2:], "", day)
    emit_usage(b.late, b.rng, tid, day, [(date.min, 3)], noise=False)
    b.case("trial_workspace", "UNMAPPED_SOURCE_RECORD", source_system="ops", source_id=tid, impact=0,
           team=SYSTEM_OWNERS["ops"], first=day, last=None,
           description="a self-serve sandbox workspace with no domain appears mid-period")


def natural_key_matches(b: Builder) -> None:
    """Healthy companies whose billing customer or tenant is left out of the map on purpose: each resolves
    by exactly one natural key and must raise nothing."""
    p = b.company(b.ids.new(country="US"), map_billing=False)
    p.billing_tax_id = [(_since(p), p.ident.tax_id.replace("-", " "))]
    b.resolves("billing", p.customer_id, p, "tax_id")

    p = b.company(b.ids.new(country="GB"), map_billing=False)
    p.email = f"invoices@billing.{p.ident.domain}"
    p.billing_tax_id = [(_since(p), "")]
    b.resolves("billing", p.customer_id, p, "domain")

    p = b.company(map_billing=False)
    p.email = f"ap@{p.ident.domain}"
    p.billing_tax_id = [(_since(p), "")]
    b.resolves("billing", p.customer_id, p, "domain")

    p = b.company(b.ids.new(country="US"), map_ops=False)
    p.tenant_domain = f"eu.{p.ident.domain}"
    b.resolves("ops", p.tenant_id, p, "domain")

    llc = _identity_with_form(b.ids, "LLC")
    p = b.company(llc, map_billing=False)
    base = llc.legal_name.rpartition(" ")[0]
    p.billing_name = [(_since(p), f"{base.upper()}, L.L.C.")]
    p.billing_tax_id = [(_since(p), "")]
    p.email = f"{llc.slug}.payables@gmail.com"
    b.resolves("billing", p.customer_id, p, "legal_name")

    umlaut = _identity_with_umlaut(b.ids)
    p = b.company(umlaut, map_billing=False)
    p.billing_name = [(_since(p), fold(umlaut.legal_name).upper())]
    p.billing_tax_id = [(_since(p), "")]
    p.email = f"buchhaltung.{umlaut.slug}@gmx.de"
    b.resolves("billing", p.customer_id, p, "legal_name")


def friday_deals(b: Builder) -> None:
    """The brief's sales-and-billing story, every week: sales closes a deal on Friday, billing sets the customer
    up on Monday. Each is a three-day timing lag on its own; together, in each of the last weeks, they are
    the pattern "a rule nobody wrote down" (`tieout patterns`)."""
    last_friday = b.clock.end - timedelta(days=3)  # its Monday must be inside the world
    last_friday -= timedelta(days=(last_friday.weekday() - 4) % 7)
    for week in range(WEEKLY_DEALS - 1, -1, -1):
        friday = last_friday - timedelta(weeks=week)
        monday = friday + timedelta(days=3)
        ident = b.ids.new()
        p = b.company(ident, account_created=friday - timedelta(days=b.rng.randint(20, 60)),
                      contract_start=friday, contract_visible=friday - timedelta(days=b.rng.randint(2, 6)),
                      contract_end=None, previous_contract=False, billing_from=monday, tenant_created=monday,
                      usage_from=monday, billing_name=[(monday, ident.legal_name)],
                      billing_tax_id=[(monday, ident.tax_id)])
        b.case(f"friday_deal_{friday.isoformat()}", "CRM_ACTIVE_BILLING_INACTIVE", canonical_id=p.canonical_id,
               impact=p.monthly_value, team="ar", first=friday, last=monday - ONE_DAY,
               description="closed in the CRM on a Friday; billing creates the customer on Monday")


def _since(p: Plan) -> date:
    return p.billing_from or p.account_created


def _identity_with_form(ids: IdentityFactory, form: str) -> Identity:
    while not (ident := ids.new(country="US")).legal_name.endswith(form):
        pass
    return ident


def _identity_with_umlaut(ids: IdentityFactory) -> Identity:
    while fold((ident := ids.new(country="DE")).legal_name) == ident.legal_name:
        pass
    return ident


PLANTERS = (brief_timing, never_billed, late_renewal, stopped_using, not_deprovisioned, fte_drift,
            merged_accounts, duplicate_import, hand_edits, ambiguous_domain, unmapped_records,
            natural_key_matches, friday_deals)
WEEKLY_DEALS = 4  # Fridays, the last ones of the world: enough weeks for `tieout patterns` to call it recurring
SPECIAL_COMPANIES = 19 + WEEKLY_DEALS  # companies the planters take: the rest of the world is healthy
# of those, the ones that raise an exception (the others only resolve by natural key)
PROBLEM_COMPANIES = 11 + WEEKLY_DEALS
