"""Healthy companies: plans under which no built-in rule can fire on any as-of date.

What "healthy" takes (contract §5, every day of the world): a live contract; an invoice whose calendar-month
period covers the day; usage with active users within the last 7 (and so 30) days; operations' FTE within
10 % of the billed FTE (we stay within 4 %); billing's name and tax id equal to the CRM's after
normalisation (or empty); one record per system; and every record mapped or resolvable by a natural key.
Churn is deliberately absent: a contract ending at a month end still shows usage in the next days, which
is a real OPS_ACTIVE_BILLING_INACTIVE timing lag, not health.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tieout.demo.emit import add_months, add_years
from tieout.demo.model import ONE_DAY, Plan
from tieout.demo.names import AP_MAILBOXES, REPS, Identity, name_variant, slugify, tax_id_variant

PRICES = (20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120)  # per FTE and month
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de")


@dataclass
class Clock:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day(self, n: int) -> date:
        """The n-th as-of date, 1-based."""
        return self.start + timedelta(days=n - 1)

    def at(self, share: float) -> date:
        """The as-of date a share of the way through the world (rounded down)."""
        return self.day(1 + int((self.days - 1) * share))


def source_ids(number: int, rng: random.Random) -> tuple[str, str, str]:
    """(CRM account id, contract id, billing customer id) for company `number`, in each vendor's style."""
    alnum = string.ascii_letters + string.digits
    return (f"0015g0000{number:06d}AAA", f"8005g0000{number:06d}AAA",
            "cus_" + "".join(rng.choice(alnum) for _ in range(14)))


def _fte(rng: random.Random) -> int:
    band = rng.choices(((5, 40), (40, 200), (200, 600)), weights=(50, 38, 12))[0]
    return rng.randint(*band)


def _email(ident: Identity, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return f"{ident.slug}.billing@{rng.choice(FREE_MAIL)}"
    if roll < 0.15:
        return f"{rng.choice(AP_MAILBOXES)}@finance.{ident.domain}"
    return f"{rng.choice(AP_MAILBOXES)}@{ident.domain}"


def _term_end(contract_start: date, clock: Clock, rng: random.Random) -> date | None:
    """Evergreen, or a multi-year term that runs well past the last as-of date."""
    if rng.random() < 0.6:
        return None
    years = 1
    while add_years(contract_start, years) - ONE_DAY < clock.end + timedelta(days=30):
        years += 1
    return add_years(contract_start, years) - ONE_DAY


def healthy_plan(rng: random.Random, clock: Clock, number: int, ident: Identity, *,
                 onboarding: bool = False) -> Plan:
    """A company in good order. `onboarding`: it goes live on a month's first day inside the world, in all
    three systems at once (contract, first invoice and first usage on the same day)."""
    account_id, contract_id, customer_id = source_ids(number, rng)
    if onboarding:
        firsts = [d for d in (add_months(clock.start, k) for k in range(1, 12)) if d <= clock.end]
        contract_start = rng.choice(firsts)
        account_created = contract_start - timedelta(days=rng.randint(30, 90))
    else:
        account_created = clock.start - timedelta(days=rng.randint(150, 900))
        latest = max((clock.start - account_created).days - 60, 15)
        contract_start = account_created + timedelta(days=rng.randint(14, latest))
    visible = max(account_created, contract_start - timedelta(days=rng.randint(3, 20)))
    roll = rng.random()
    billing_tax = ident.tax_id if roll < 0.7 else tax_id_variant(ident.tax_id, rng) if roll < 0.9 else ""
    plan = Plan(
        canonical_id=f"C{number:05d}", ident=ident, account_id=account_id, contract_id=contract_id,
        customer_id=customer_id, tenant_id=f"t-{slugify(ident.legal_name.rpartition(' ')[0])[:24]}",
        owner=rng.choice(REPS), stamp=f"{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}",
        fte=_fte(rng), price=Decimal(rng.choice(PRICES)), account_created=account_created,
        contract_start=contract_start, contract_visible=visible, billing_from=contract_start,
        tenant_created=contract_start, usage_from=contract_start,
        billing_name=[(contract_start, ident.legal_name if rng.random() < 0.5 else name_variant(
            ident.legal_name, rng))],
        billing_tax_id=[(contract_start, billing_tax)], email=_email(ident, rng),
        tenant_domain=ident.domain if rng.random() < 0.9 else "",
        display_name=f"{ident.slug}-{rng.choice(('prod', 'hq', 'main', 'eu', 'us', 'app'))}",
    )
    if not onboarding:
        plan.contract_end = _term_end(contract_start, clock, rng)
        # Renewal history only where the earlier term would have started after the account existed.
        plan.previous_contract = (rng.random() < 0.25
                                  and add_years(contract_start, -1) >= account_created)
    return plan
