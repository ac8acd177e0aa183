"""The ownership registry as data. The default is contract §5's: the CRM owns legal_name and tax_id, and
billing's `name` is its copy of the legal name.
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> SQL normaliser (a macro installed by tieout.entities.sql), %s is the value
NORMALISERS = {
    "name": "tieout_legal_name(%s)",
    "tax_id": "tieout_tax_id(%s)",
    "domain": "tieout_domain(%s)",
    "text": "nullif(lower(trim(%s)), '')",
}

# system -> (canonical view, id column)
RECORD_VIEWS = {"crm": ("accounts", "account_id"), "billing": ("customers", "customer_id"),
                "ops": ("tenants", "tenant_id")}


@dataclass(frozen=True)
class OwnedField:
    name: str
    kind: str
    owner: str
    columns: tuple[tuple[str, str], ...]  # (system, column of that system's record view)


DEFAULT_REGISTRY: tuple[OwnedField, ...] = (
    OwnedField("legal_name", "name", "crm", (("crm", "legal_name"), ("billing", "name"))),
    OwnedField("tax_id", "tax_id", "crm", (("crm", "tax_id"), ("billing", "tax_id"))),
)


def normalise_macro_sql() -> str:
    """`tieout_normalise(kind, value)`: a registry field's value in the form two systems are compared in."""
    cases = " ".join(f"WHEN '{kind}' THEN {sql % 'v'}" for kind, sql in NORMALISERS.items())
    return f"CREATE OR REPLACE MACRO tieout_normalise(kind, v) AS CASE kind {cases} END"


def field_values_sql(registry: tuple[OwnedField, ...] = DEFAULT_REGISTRY) -> str:
    """One row per (entity, field, system, record) with the raw value."""
    parts = []
    for owned in registry:
        for system, column in owned.columns:
            view, id_column = RECORD_VIEWS[system]
            parts.append(
                f"SELECT canonical_id, '{owned.name}' AS field, '{owned.kind}' AS kind, "
                f"'{system}' AS source_system, {id_column} AS source_id, CAST({column} AS VARCHAR) AS value, "
                f"CAST(NULL AS DECIMAL(20,4)) AS amount "
                f"FROM {view} WHERE canonical_id IS NOT NULL"
            )
    return " UNION ALL ".join(parts)


def ownership_sql(registry: tuple[OwnedField, ...] = DEFAULT_REGISTRY) -> str:
    rows = ", ".join(f"('{f.name}', '{f.owner}')" for f in registry)
    return f"SELECT * FROM (VALUES {rows}) AS t(field, owner_system)"
