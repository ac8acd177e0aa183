"""The tables a rule may read, and the names the run keeps for itself (docs/rules.md, "What is refused").

Apart from the safety check (tieout.rules.safety) so that what only needs the names — the registry's check of
`needs_rows` — imports no SQL parser.
"""

from __future__ import annotations

# What a rule may read: the canonical views the run builds (docs/rules.md describes each).
CANONICAL_TABLES = frozenset({
    "accounts", "contracts", "customers", "invoices", "tenants", "usage",
    "source_records", "entities", "crm_active", "billing_active", "covering_invoices",
    "field_values", "ownership", "ownership_conditions", "tenant_activity", "corrections", "corrected_values",
    "crm_accounts", "crm_contracts", "billing_customers", "billing_invoices", "ops_tenants", "ops_usage",
})
