"""The systems tieout reconciles, in the order every listing shows them: the one catalogue of them.

Pure data (nothing here imports beyond the standard library), so configuration, the rule registry, the
reports and the web pages can all read it. Adding a system is a row here and a source reader for its exports
(`tieout.sources.layout` and its formats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# For pydantic and mypy, which need the names spelled out; checked against the catalogue below.
System = Literal["crm", "billing", "ops"]


@dataclass(frozen=True)
class SourceSystem:
    name: System  # as exports, the entity map and findings spell it (`source_system`)
    label: str  # as prose shows it: "in CRM", "billing-active", "the ops record"
    record_table: str  # the export table of its records, one row per source id
    id_column: str  # the source id, in the record table and in the child table
    child_table: str  # the export table of its records' rows (contracts, invoices, usage)
    default_owner: str  # the team its exceptions go to unless tieout.yml's system_owners says otherwise

    @property
    def title(self) -> str:
        """The label where it starts a heading or a cell: "CRM", "Billing", "Ops"."""
        return self.label[:1].upper() + self.label[1:]


CATALOGUE: tuple[SourceSystem, ...] = (
    SourceSystem("crm", "CRM", "crm_accounts", "account_id", "crm_contracts", "account_managers"),
    SourceSystem("billing", "billing", "billing_customers", "customer_id", "billing_invoices", "ar"),
    SourceSystem("ops", "ops", "ops_tenants", "tenant_id", "ops_usage", "product"),
)
BY_NAME: dict[str, SourceSystem] = {s.name: s for s in CATALOGUE}
SYSTEMS: tuple[str, ...] = tuple(s.name for s in CATALOGUE)
if get_args(System) != SYSTEMS:  # pragma: no cover - a system added to the catalogue and not here
    raise AssertionError(f"tieout.systems.System {get_args(System)} does not list the catalogue's {SYSTEMS}")

# The month-end bridge (tieout.reports.bridge) walks the systems in catalogue order, one step per neighbouring
# pair, each named `<from>_<to>` as its `unexplained` count is.
BRIDGE_STEPS: tuple[tuple[str, str], ...] = tuple(zip(SYSTEMS, SYSTEMS[1:], strict=False))

DEFAULT_OWNERS: dict[System, str] = {s.name: s.default_owner for s in CATALOGUE}
# Per system: (table, id column) of its records and of their rows.
RECORD_TABLE: dict[str, tuple[str, str]] = {s.name: (s.record_table, s.id_column) for s in CATALOGUE}
CHILD_TABLE: dict[str, tuple[str, str]] = {s.name: (s.child_table, s.id_column) for s in CATALOGUE}


def label(name: str | None) -> str:
    """A system's label in prose; a name the catalogue does not know is shown as it is."""
    system = BY_NAME.get(name or "")
    return system.label if system else name or ""


def title(name: str | None) -> str:
    """A system's label at the start of a heading or a cell; an unknown name is shown as it is."""
    system = BY_NAME.get(name or "")
    return system.title if system else name or ""
