"""The standard export layout (contract §3) as data: one `ExportFile` per file, columns in order.

Column kinds say how a cell is validated and which DuckDB type it becomes. Money is DECIMAL, never
floating point: four decimal places keep every real currency exact (KWD has three).
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> DuckDB type of the typed column
KIND_TYPES = {
    "id": "VARCHAR",  # required, non-empty text
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "money": "DECIMAL(20,4)",
    "quantity": "DECIMAL(18,4)",  # FTE counts may be fractional
    "count": "BIGINT",
    "currency": "VARCHAR",
    "contract_status": "VARCHAR",
    "invoice_status": "VARCHAR",
}

CONTRACT_STATUSES = ("active", "cancelled", "expired", "draft")
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class ExportFile:
    table: str  # also the file's stem: crm_accounts -> crm_accounts.csv
    system: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.table}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _cols(*spec: str) -> tuple[Column, ...]:
    """'name:kind' or 'name:kind!' (required)."""
    out = []
    for item in spec:
        name, kind = item.split(":")
        out.append(Column(name, kind.rstrip("!"), kind.endswith("!")))
    return tuple(out)


STANDARD_LAYOUT: tuple[ExportFile, ...] = (
    ExportFile(
        "crm_accounts",
        "crm",
        _cols("account_id:id!", "legal_name:text", "domain:text", "tax_id:text", "owner:text",
              "updated_at:timestamp"),
        ("account_id",),
    ),
    ExportFile(
        "crm_contracts",
        "crm",
        _cols("contract_id:id!", "account_id:id!", "status:contract_status!", "start_date:date",
              "end_date:date", "annual_value:money", "currency:currency", "contracted_fte:quantity",
              "updated_at:timestamp"),
        ("contract_id",),
    ),
    ExportFile(
        "billing_customers",
        "billing",
        _cols("customer_id:id!", "name:text", "email:text", "tax_id:text", "updated_at:timestamp"),
        ("customer_id",),
    ),
    ExportFile(
        "billing_invoices",
        "billing",
        _cols("invoice_id:id!", "customer_id:id!", "period_start:date!", "period_end:date!",
              "issued_on:date", "status:invoice_status!", "amount:money!", "currency:currency!",
              "billed_fte:quantity", "updated_at:timestamp"),
        ("invoice_id",),
    ),
    ExportFile(
        "ops_tenants",
        "ops",
        _cols("tenant_id:id!", "display_name:text", "domain:text", "created_on:date", "status:text"),
        ("tenant_id",),
    ),
    ExportFile(
        "ops_usage",
        "ops",
        _cols("tenant_id:id!", "date:date!", "active_users:count!", "fte_count:quantity"),
        ("tenant_id", "date"),
    ),
)

BY_TABLE = {f.table: f for f in STANDARD_LAYOUT}
