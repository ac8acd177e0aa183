"""The demo world's data model: planted cases, per-company plans, and records as dated versions of a CSV line.

A record is a list of `Version`s — the exact CSV line the system exports while nothing about the record
changes. A day's export is then just "the version of every record that is live on D", so 90 days of 300
companies reuse a few thousand pre-formatted lines instead of formatting millions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tieout.demo.names import Identity

ONE_DAY = timedelta(days=1)
# Contract §5 defaults; the demo states its expectations against them.
SEVERITY_THRESHOLDS = ((Decimal(50_000), "P1"), (Decimal(10_000), "P2"), (Decimal(1_000), "P3"))
SYSTEM_OWNERS = {"crm": "account_managers", "billing": "ar", "ops": "product"}


def severity_of(impact: Decimal) -> str:
    return next((sev for floor, sev in SEVERITY_THRESHOLDS if impact >= floor), "INFO")


@dataclass(frozen=True)
class PlantedCase:
    """One exception the demo world is built to raise, with the dates a correct run reports it on.

    Identity follows contract §6/§7: `canonical_id` for entity rules, (`source_system`, `source_id`) for a
    record no entity owns, and `source_system` (+ `field`) where the rule names one.
    """

    name: str
    rule: str
    canonical_id: str | None
    source_system: str | None
    source_id: str | None
    field: str | None
    impact: Decimal
    severity: str
    team: str
    first_seen: date
    last_seen: date | None  # None: still open on the world's last as-of date
    description: str

    @property
    def resolved_on(self) -> date | None:
        return self.last_seen + ONE_DAY if self.last_seen else None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "rule": self.rule, "canonical_id": self.canonical_id,
            "source_system": self.source_system, "source_id": self.source_id, "field": self.field,
            "impact": f"{self.impact:.2f}", "severity": self.severity, "team": self.team,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "resolved_on": self.resolved_on.isoformat() if self.resolved_on else None,
            "description": self.description,
        }


@dataclass(frozen=True)
class Version:
    start: date
    end: date | None  # inclusive; None = still live at the end of the world
    line: str

    def live(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)


Timeline = list[tuple[date, str]]  # (from this day, the value) — sorted, the first entry is the initial value


def value_at(timeline: Timeline, d: date) -> str:
    current = timeline[0][1]
    for since, value in timeline:
        if since <= d:
            current = value
    return current


@dataclass
class Plan:
    """What one company does in the three systems over the world's life; healthy unless a case edits it."""

    canonical_id: str
    ident: Identity
    account_id: str
    contract_id: str
    customer_id: str
    tenant_id: str
    owner: str
    stamp: str  # time of day of this company's updates, "HH:MM"
    fte: int
    price: Decimal  # per FTE and month
    account_created: date
    contract_start: date
    contract_visible: date  # the contract row appears (as a draft while its start is still ahead)
    billing_from: date | None  # customer created and first invoice issued; None = billing never starts
    tenant_created: date | None
    usage_from: date | None
    billing_name: Timeline
    billing_tax_id: Timeline
    email: str
    tenant_domain: str
    display_name: str
    previous_contract: bool = False  # an expired earlier contract: renewal history
    contract_end: date | None = None
    renewal_visible: date | None = None  # a renewal from contract_end + 1, entered in the CRM on this day
    billing_until: date | None = None  # last invoiced month (its first day); None = invoices every month
    billed_fte: list[tuple[date, int]] = field(default_factory=list)  # (month start, FTE) true-ups
    ops_fte: list[tuple[date, int]] = field(default_factory=list)  # (day, FTE operations counts)
    active_until: date | None = None  # after this day the tenant's usage rows show no active users
    noise: bool = True  # small FTE wobble in ops (always well inside the 10 % tolerance)
    map_billing: bool = True
    map_ops: bool = True

    @property
    def monthly_value(self) -> Decimal:
        return self.price * self.fte
