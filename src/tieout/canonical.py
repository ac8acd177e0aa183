"""The canonical tables every rule reads: source records joined to their canonical entity, money in the
reporting currency, and the contract's activity definitions at the as-of date (contract §5).

Rules see views, not the raw exports, so that a rule never re-derives what "active" means.
"""

from __future__ import annotations

from datetime import date

import duckdb

from tieout import fx
from tieout.config import Project
from tieout.corrections import landed as corrections_landed
from tieout.engines.base import Engine
from tieout.engines.duckdb import DuckDBEngine
from tieout.ownership import sql as ownership_sql
from tieout.ownership.model import Registry, load_registry


def _one_currency(amount: str) -> str:
    """Aggregates of a group's `amount` in its records' own currency (`original_currency`): the sum and the
    currency when every record is in one currency, else NULL for both (no single original amount exists)."""
    same = "min(original_currency) = max(original_currency)"
    return (f"CASE WHEN {same} THEN sum({amount}) END AS {amount}, "
            f"CASE WHEN {same} THEN min(original_currency) END AS original_currency")


def _id_list(column: str) -> str:
    """A group's ids, sorted and joined with ', ' — what `string_agg(column, ', ' ORDER BY column)` gives, at
    half the cost at a million groups: DuckDB sorts every row for an ordered aggregate, here each small list."""
    return f"array_to_string(list_sort(list({column}) FILTER (WHERE {column} IS NOT NULL)), ', ')"


def _record_table(system: str, table: str, id_column: str) -> str:
    return (
        f"CREATE OR REPLACE TABLE {table.split('_', 1)[1]} AS "
        f"SELECT r.canonical_id, t.* FROM {table} AS t "
        f"LEFT JOIN source_records AS r ON r.source_system = '{system}' AND r.source_id = t.{id_column}"
    )


def build(target: duckdb.DuckDBPyConnection | Engine, project: Project, as_of: date, *,
          registry: Registry | None = None) -> None:
    """Create the canonical tables from the typed exports and `source_records` already in `target` (a DuckDB
    connection, or any engine: the SQL is DuckDB's, which an engine of another dialect transpiles).

    The tables several rules read are materialised; the two largest exports (`invoices`, `usage`) stay
    views, and the built-in rules read the small tables derived from them (`covering_invoices`,
    `billing_active`, `tenant_activity`), so 35 M usage rows are aggregated once, not joined per rule.
    """
    import pyarrow as pa

    engine = target if isinstance(target, Engine) else DuckDBEngine(target)
    engine.define_functions()  # tieout_div, used below; tieout_normalise, for field_values' readers
    # The rates in effect on the as-of day: a day is converted at its own rates, so re-running it gives the
    # same impact whatever rates later dates bring.
    rates = project.fx_rates_on(as_of)
    engine.write_table("fx_rates", pa.table({
        "currency": pa.array(list(rates), pa.string()),
        "rate": pa.array(list(rates.values()), pa.decimal128(*fx.RATE_PRECISION)),
    }))
    for system, table, id_column in (("crm", "crm_accounts", "account_id"),
                                     ("billing", "billing_customers", "customer_id"),
                                     ("ops", "ops_tenants", "tenant_id")):
        engine.execute(_record_table(system, table, id_column))
    d = f"DATE '{as_of.isoformat()}'"
    engine.execute(f"""
        CREATE OR REPLACE TABLE contracts AS
        SELECT a.canonical_id, c.*,
               tieout_div(c.annual_value * fx.rate, 12) AS monthly_value,
               -- the same money in the contract's own currency, which the reports show beside the converted one
               tieout_div(c.annual_value, 12) AS original_monthly_value,
               coalesce(c.currency, '{project.reporting_currency}') AS original_currency
        FROM crm_contracts AS c
        LEFT JOIN accounts AS a ON a.account_id = c.account_id
        LEFT JOIN fx_rates AS fx ON fx.currency = coalesce(c.currency, '{project.reporting_currency}')
    """)
    engine.execute("""
        CREATE OR REPLACE VIEW invoices AS
        SELECT cu.canonical_id, i.*, CAST(i.amount * fx.rate AS DECIMAL(20, 4)) AS amount_rc
        FROM billing_invoices AS i
        LEFT JOIN customers AS cu ON cu.customer_id = i.customer_id
        LEFT JOIN fx_rates AS fx ON fx.currency = i.currency
    """)
    # Usage is the largest export (a row per tenant and day). Rules see it two ways: `usage`, every row
    # with its entity (a view: joined only when a rule reads it), and `tenant_activity`, one row per
    # tenant, which answers "active within W days" and "latest FTE count within W days" for any W —
    # aggregated before the join, so 35 M rows become 1 M before they meet the tenants.
    engine.execute("""
        CREATE OR REPLACE VIEW usage AS
        SELECT t.canonical_id, u.* FROM ops_usage AS u LEFT JOIN tenants AS t ON t.tenant_id = u.tenant_id
    """)
    engine.execute(f"""
        CREATE OR REPLACE TABLE tenant_activity AS
        WITH per_tenant AS (
            SELECT tenant_id,
                   max(date) FILTER (WHERE active_users > 0) AS last_active_on,
                   max(date) FILTER (WHERE fte_count IS NOT NULL) AS fte_counted_on,
                   arg_max(fte_count, date) FILTER (WHERE fte_count IS NOT NULL) AS fte_count
            FROM ops_usage
            WHERE date <= {d}
            GROUP BY tenant_id
        )
        SELECT t.canonical_id, p.*
        FROM per_tenant AS p LEFT JOIN tenants AS t ON t.tenant_id = p.tenant_id
    """)
    engine.execute("""
        CREATE OR REPLACE VIEW entities AS
        SELECT DISTINCT canonical_id FROM source_records WHERE canonical_id IS NOT NULL
    """)
    engine.execute(f"""
        CREATE OR REPLACE TABLE crm_active AS
        SELECT canonical_id, sum(monthly_value) AS monthly_value,
               {_id_list('contract_id')} AS contract_ids,
               {_one_currency("original_monthly_value")}
        FROM contracts
        WHERE canonical_id IS NOT NULL AND status = 'active' AND start_date <= {d}
          AND (end_date IS NULL OR end_date >= {d})
        GROUP BY canonical_id
    """)
    engine.execute(f"""
        CREATE OR REPLACE TABLE covering_invoices AS
        SELECT canonical_id, customer_id, invoice_id, period_start, period_end, amount_rc AS amount,
               billed_fte, amount AS original_amount, currency AS original_currency
        FROM invoices
        WHERE status NOT IN ('void', 'draft') AND period_start <= {d} AND {d} <= period_end
    """)
    engine.execute(f"""
        CREATE OR REPLACE TABLE billing_active AS
        SELECT canonical_id, sum(amount) AS amount, sum(billed_fte) AS billed_fte,
               {_id_list('invoice_id')} AS invoice_ids,
               {_one_currency("original_amount")}
        FROM covering_invoices WHERE canonical_id IS NOT NULL
        GROUP BY canonical_id
    """)
    # The ownership registry (ownership.yml, else the contract's default): field values and their owners.
    registry = load_registry(project) if registry is None else registry
    ownership_sql.install(engine, registry, as_of, project.reporting_currency)
    # The hand corrections recorded so far, for CORRECTION_NOT_APPLIED (the state database is only read).
    corrections_landed.load(engine, project, as_of)
