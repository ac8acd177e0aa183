"""Turn plans into records: dated versions of CSV lines per table, and usage lines per tenant and day."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tieout.demo.model import ONE_DAY, Plan, Timeline, Version, value_at

USAGE_WINDOW_DAYS = 35  # trailing window of ops_usage.csv (contract §3: "35 days is typical")
HISTORY_MONTHS = 2  # invoices before the first as-of month that the billing export still carries


def csv_line(*values: object) -> str:
    """One RFC 4180 line (without the line break)."""
    out = []
    for v in values:
        s = "" if v is None else str(v)
        if any(ch in s for ch in ',"\r\n'):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return ",".join(out)


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(d: date) -> date:
    return next_month(d) - ONE_DAY


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


@dataclass
class Tables:
    """The world's records; `start`/`end` bound the as-of dates that will be exported."""

    start: date
    end: date
    records: dict[str, list[list[Version]]] = field(default_factory=dict)
    usage: list[tuple[date, list[str]]] = field(default_factory=list)  # (first day, one line per day)
    map_rows: list[str] = field(default_factory=list)

    def add(self, table: str, versions: list[Version]) -> None:
        self.records.setdefault(table, []).append(versions)

    def lines_on(self, table: str, d: date) -> list[str]:
        out = []
        for versions in self.records.get(table, ()):
            for v in versions:
                if v.live(d):
                    out.append(v.line)
                    break
        return out

    def usage_on(self, d: date) -> list[str]:
        lo = d - timedelta(days=USAGE_WINDOW_DAYS - 1)
        out: list[str] = []
        for first, lines in self.usage:
            a = max((lo - first).days, 0)
            b = (d - first).days + 1
            if b > 0:
                out.extend(lines[a:b])
        return out

    def map_row(self, canonical_id: str, system: str, source_id: str, since: date,
                until: date | None = None, notes: str = "") -> None:
        self.map_rows.append(csv_line(canonical_id, system, source_id, since.isoformat(),
                                      until.isoformat() if until else "", notes))


def stamp(d: date, hhmm: str) -> str:
    return f"{d.isoformat()}T{hhmm}:00Z"


LineFormat = Callable[[dict[str, str], str], str]  # (values by name, updated_at) -> CSV line


def dated_versions(created: date, removed: date | None, timelines: dict[str, Timeline], hhmm: str,
                   fmt: LineFormat) -> list[Version]:
    """One version per stretch in which none of `timelines` changes; `fmt(values, updated_at)` makes the line.

    `removed` is the first day the record is gone from the export.
    """
    points = sorted({created} | {d for tl in timelines.values() for d, _ in tl if d > created})
    points = [p for p in points if removed is None or p < removed]
    versions = []
    for k, p in enumerate(points):
        end = points[k + 1] - ONE_DAY if k + 1 < len(points) else (removed - ONE_DAY if removed else None)
        values = {name: value_at(tl, p) for name, tl in timelines.items()}
        versions.append(Version(p, end, fmt(values, stamp(p, hhmm))))
    return versions


def emit_account(t: Tables, p: Plan, *, account_id: str | None = None, legal_name: str | None = None,
                 tax_id: str | None = None, created: date | None = None, removed: date | None = None) -> None:
    created = created or p.account_created
    line = csv_line(account_id or p.account_id, legal_name or p.ident.legal_name, p.ident.domain,
                    p.ident.tax_id if tax_id is None else tax_id, p.owner, stamp(created, p.stamp))
    t.add("crm_accounts", [Version(created, removed - ONE_DAY if removed else None, line)])


def emit_contract(t: Tables, p: Plan, contract_id: str, start: date, end: date | None, visible: date) -> None:
    status: Timeline = [(visible, "draft" if visible < start else "active"), (start, "active")]
    if end is not None:
        status.append((end + ONE_DAY, "expired"))
    annual = money(p.monthly_value * 12)

    def fmt(v: dict[str, str], updated: str) -> str:
        return csv_line(contract_id, p.account_id, v["status"], start.isoformat(),
                        end.isoformat() if end else "", annual, "USD", p.fte, updated)

    t.add("crm_contracts", dated_versions(visible, None, {"status": status}, p.stamp, fmt))


def sibling_contract_id(contract_id: str, k: int) -> str:
    """The id of the company's k-th other contract (1: the earlier term, 2: the renewal).

    Salesforce ids are 15 characters plus a 3-character case checksum, and the 15- and 18-character forms name
    the same record: siblings must differ inside the first 15 characters (here the digit before the company
    number), not only in the suffix — the suffix of an all-digit, lower-case id stays "AAA".
    """
    return contract_id[:8] + str(k) + contract_id[9:]


def emit_contracts(t: Tables, p: Plan) -> None:
    if p.previous_contract:
        prev_start = add_years(p.contract_start, -1)
        emit_contract(t, p, sibling_contract_id(p.contract_id, 1), prev_start, p.contract_start - ONE_DAY,
                      prev_start)
    emit_contract(t, p, p.contract_id, p.contract_start, p.contract_end, p.contract_visible)
    if p.renewal_visible is not None and p.contract_end is not None:
        emit_contract(t, p, sibling_contract_id(p.contract_id, 2), p.contract_end + ONE_DAY, None,
                      p.renewal_visible)


def emit_customer(t: Tables, customer_id: str, created: date, names: Timeline, tax_ids: Timeline, email: str,
                  hhmm: str) -> None:
    def fmt(v: dict[str, str], updated: str) -> str:
        return csv_line(customer_id, v["name"], email, v["tax_id"], updated)

    t.add("billing_customers", dated_versions(created, None, {"name": names, "tax_id": tax_ids}, hhmm, fmt))


def emit_invoices(t: Tables, customer_id: str, first_issue: date, until: date | None, price: Decimal,
                  fte: list[tuple[date, int]], hhmm: str) -> None:
    """Monthly invoices: period = calendar month, issued on the 1st (the first one on `first_issue`), open
    during its month and paid from the next month on."""
    first = month_start(first_issue)
    m = max(first, add_months(t.start, -HISTORY_MONTHS))
    last = min(month_start(t.end), until) if until else month_start(t.end)
    while m <= last:
        issued = first_issue if m == first else m
        billed = int(value_at([(d, str(n)) for d, n in fte], m))
        amount = money(price * billed)
        paid_from = next_month(m)
        head = (f"in_{customer_id}_{m:%Y%m}", customer_id, m.isoformat(), month_end(m).isoformat(),
                issued.isoformat())
        t.add("billing_invoices", [
            Version(issued, paid_from - ONE_DAY, csv_line(*head, "open", amount, "USD", billed,
                                                          stamp(issued, hhmm))),
            Version(paid_from, None, csv_line(*head, "paid", amount, "USD", billed, stamp(paid_from, hhmm))),
        ])
        m = next_month(m)


def emit_tenant(t: Tables, tenant_id: str, display_name: str, domain: str, created: date) -> None:
    line = csv_line(tenant_id, display_name, domain, created.isoformat(), "active")
    t.add("ops_tenants", [Version(created, None, line)])


def emit_usage(t: Tables, rng: random.Random, tenant_id: str, first: date, fte: list[tuple[date, int]], *,
               active_until: date | None = None, noise: bool = True) -> None:
    """Daily rows from `first` to the end; active users > 0 on every day up to `active_until`."""
    first = max(first, t.start - timedelta(days=USAGE_WINDOW_DAYS - 1))
    rate = rng.uniform(0.45, 0.9)
    fte_tl = [(d, str(n)) for d, n in fte]
    lines, wobble, d = [], 0, first
    while d <= t.end:
        base = int(value_at(fte_tl, d))
        if noise and (d - first).days % 7 == 0:
            span = base * 4 // 100  # at most 4 %: well inside the rule's 10 % tolerance
            wobble = rng.randint(-span, span)
        count = base + wobble
        users = 0
        if active_until is None or d <= active_until:
            share = rate * (0.3 if d.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.1)
            users = min(count, max(1, round(count * share)))
        lines.append(csv_line(tenant_id, d.isoformat(), users, count))
        d += ONE_DAY
    t.usage.append((first, lines))


def emit_company(t: Tables, rng: random.Random, p: Plan) -> None:
    """All records and map rows of one company, as its plan says."""
    emit_account(t, p)
    emit_contracts(t, p)
    t.map_row(p.canonical_id, "crm", p.account_id, p.account_created)
    if p.billing_from is not None:
        emit_customer(t, p.customer_id, p.billing_from, p.billing_name, p.billing_tax_id, p.email, p.stamp)
        fte = p.billed_fte or [(date.min, p.fte)]
        emit_invoices(t, p.customer_id, p.billing_from, p.billing_until, p.price, fte, p.stamp)
        if p.map_billing:
            t.map_row(p.canonical_id, "billing", p.customer_id, p.account_created)
    if p.tenant_created is not None:
        emit_tenant(t, p.tenant_id, p.display_name, p.tenant_domain, p.tenant_created)
        if p.usage_from is not None:
            fte = p.ops_fte or [(date.min, p.fte)]
            emit_usage(t, rng, p.tenant_id, p.usage_from, fte, active_until=p.active_until, noise=p.noise)
        if p.map_ops:
            t.map_row(p.canonical_id, "ops", p.tenant_id, p.account_created)
