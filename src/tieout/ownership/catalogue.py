"""What an ownership registry may name: the columns of the canonical record views (contract §3 and the views
`canonical.build` makes), the field kinds and how each compares, and the named conditions that hand a field
from one owner to another.

Everything here is data, so the registry validator, the SQL generator, the golden record and the document
all read the same tables and cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from tieout.sources.layout import CONTRACT_STATUSES, INVOICE_STATUSES

# A column's type class: which kinds may read it.
TEXT, DATE, MONEY, MONEY_RC, FTE = "text", "date", "money", "money_rc", "fte"


@dataclass(frozen=True)
class View:
    """A canonical view a field may live in. A record view has one row per source record; a child view
    (contracts, invoices) has many per record, and a field reads one representative row per entity."""

    name: str
    system: str
    table: str  # the typed export it is built from (and that source history stores)
    row_id: str  # the id of one row
    record_id: str  # the id of the source record the row belongs to (account, customer, tenant)
    columns: dict[str, str]  # column -> type class
    # For a child view: the representative row per entity, as an ORDER BY (first wins) and a WHERE, with
    # {d} the as-of date literal.
    pick_where: str | None = None
    pick_order: str | None = None
    # Vocabulary of a status column, when the layout fixes it (a mapping naming anything else is a typo).
    vocabulary: dict[str, tuple[str, ...]] | None = None

    @property
    def is_child(self) -> bool:
        return self.row_id != self.record_id


VIEWS: dict[str, View] = {v.name: v for v in (
    View("accounts", "crm", "crm_accounts", "account_id", "account_id",
         {"legal_name": TEXT, "domain": TEXT, "tax_id": TEXT, "owner": TEXT}),
    View("contracts", "crm", "crm_contracts", "contract_id", "account_id",
         {"status": TEXT, "start_date": DATE, "end_date": DATE, "annual_value": MONEY, "monthly_value": MONEY_RC,
          "currency": TEXT, "contracted_fte": FTE},
         # The contract that is live on the day, else the latest one to start.
         pick_where="true",
         pick_order="(status = 'active' AND start_date <= {d} AND (end_date IS NULL OR end_date >= {d})) DESC, "
                    "start_date DESC NULLS LAST, contract_id DESC",
         vocabulary={"status": CONTRACT_STATUSES}),
    View("customers", "billing", "billing_customers", "customer_id", "customer_id",
         {"name": TEXT, "email": TEXT, "tax_id": TEXT}),
    View("invoices", "billing", "billing_invoices", "invoice_id", "customer_id",
         {"status": TEXT, "period_start": DATE, "period_end": DATE, "issued_on": DATE, "amount": MONEY,
          "amount_rc": MONEY_RC, "currency": TEXT, "billed_fte": FTE},
         # The latest invoice that is not a draft and whose period has started.
         pick_where="status <> 'draft' AND period_start <= {d}",
         pick_order="period_start DESC, issued_on DESC NULLS LAST, invoice_id DESC",
         vocabulary={"status": INVOICE_STATUSES}),
    View("tenants", "ops", "ops_tenants", "tenant_id", "tenant_id",
         {"display_name": TEXT, "domain": TEXT, "created_on": DATE, "status": TEXT}),
)}

# The raw export columns a derived column is computed from: an edit to any of them edits the field.
RAW_COLUMNS = {("contracts", "monthly_value"): ("annual_value", "currency"),
               ("contracts", "annual_value"): ("annual_value", "currency"),
               ("invoices", "amount_rc"): ("amount", "currency"),
               ("invoices", "amount"): ("amount", "currency")}
# Money columns held in their own currency: converted into the reporting currency with this column's rate.
CURRENCY_OF = {("contracts", "annual_value"): "currency", ("invoices", "amount"): "currency"}

# kind -> (SQL normaliser with %s the value, the column type classes it reads, what it means)
KINDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "name": ("tieout_legal_name(%s)", (TEXT,),
             "folded to ASCII, lower-cased, punctuation to spaces, trailing legal forms (inc, llc, gmbh…) dropped"),
    "tax_id": ("tieout_tax_id(%s)", (TEXT,), "letters and digits only, upper-cased"),
    "domain": ("tieout_domain(%s)", (TEXT,), "the registrable domain (of a URL, host or e-mail address)"),
    "text": ("nullif(lower(trim(%s)), '')", (TEXT,), "trimmed and lower-cased"),
    "status": ("nullif(lower(trim(%s)), '')", (TEXT,),
               "each system's word mapped to the shared vocabulary of `statuses`, then lower-cased"),
    "date": ("CAST(try_cast(%s AS DATE) AS VARCHAR)", (DATE,), "compared as calendar dates"),
    "amount": ("CAST(try_cast(trim(%s) AS DECIMAL(20, 4)) AS VARCHAR)", (MONEY, MONEY_RC),
               "in the reporting currency; equal within `tolerance` (default 0)"),
    "fte": ("CAST(try_cast(trim(%s) AS DECIMAL(20, 4)) AS VARCHAR)", (FTE,),
            "a head count (FTE), compared as a number (`12` equals `12.0`)"),
}


@dataclass(frozen=True)
class Condition:
    description: str
    sql: str  # SELECT canonical_id of the entities for which it holds on {d}, over the canonical tables


CONDITIONS: dict[str, Condition] = {
    "first_invoice_posted": Condition(
        "the entity has an invoice that is not a draft or void, issued on or before the day",
        "SELECT DISTINCT canonical_id FROM invoices WHERE canonical_id IS NOT NULL "
        "AND status NOT IN ('draft', 'void') AND coalesce(issued_on, period_start) <= {d}"),
    "first_invoice_paid": Condition(
        "the entity has a paid invoice issued on or before the day",
        "SELECT DISTINCT canonical_id FROM invoices WHERE canonical_id IS NOT NULL "
        "AND status = 'paid' AND coalesce(issued_on, period_start) <= {d}"),
    "contract_signed": Condition(
        "the entity has a contract past draft (active, cancelled or expired)",
        "SELECT DISTINCT canonical_id FROM contracts WHERE canonical_id IS NOT NULL AND status <> 'draft'"),
    "contract_active": Condition(
        "the entity is CRM-active on the day (a live contract, contract §5)",
        "SELECT canonical_id FROM crm_active"),
    "billing_active": Condition(
        "the entity is billing-active on the day (an invoice covers it, contract §5)",
        "SELECT canonical_id FROM billing_active"),
    "tenant_provisioned": Condition(
        "the entity has an ops tenant created on or before the day",
        "SELECT DISTINCT canonical_id FROM tenants WHERE canonical_id IS NOT NULL "
        "AND coalesce(created_on, {d}) <= {d}"),
}
