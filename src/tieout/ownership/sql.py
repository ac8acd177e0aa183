"""The registry as SQL over the canonical tables: which conditions hold per entity, and every registry field's
value per entity, system and record with its owner that day.

`install(con, registry, as_of, reporting_currency)` creates, on a connection holding the canonical tables:

- `ownership_conditions (canonical_id, condition)`: the named conditions the registry uses that hold on
  the day (only those: the default registry uses none, so it costs nothing);
- `field_values`: one row per (entity, field, system, record) — `value` as typed, `mapped` (a status in the
  shared vocabulary, else `value`), `amount` (amounts in the reporting currency), `tolerance`,
  `owner_system`, the field's owner for that entity that day, and `original_amount`, `original_currency` (an
  amount as the record holds it, in its own currency);
- `ownership (canonical_id, field, owner_system)`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tieout.ownership.catalogue import CONDITIONS, CURRENCY_OF, KINDS, MONEY, MONEY_RC
from tieout.ownership.model import Column, OwnedField, Registry, columns, stages
from tieout.sql import literal

if TYPE_CHECKING:
    from tieout.engines.base import Engine


def _day(as_of: date) -> str:
    return f"DATE '{as_of.isoformat()}'"


def normalise_macro_sql() -> str:
    """`tieout_normalise(kind, value)`: a registry field's value in the form two systems are compared in."""
    cases = " ".join(f"WHEN '{kind}' THEN {sql % 'v'}" for kind, (sql, _, _) in KINDS.items())
    return f"CREATE OR REPLACE MACRO tieout_normalise(kind, v) AS CASE kind {cases} END"


def used_conditions(registry: Registry) -> list[str]:
    return sorted({h.when for f in registry.fields.values() for h in f.after})


def conditions_sql(registry: Registry, as_of: date) -> str:
    parts = [f"SELECT canonical_id, {literal(c)} AS condition FROM ({CONDITIONS[c].sql.format(d=_day(as_of))})"
             for c in used_conditions(registry)]
    return " UNION ALL ".join(parts) or "SELECT NULL::VARCHAR AS canonical_id, NULL::VARCHAR AS condition WHERE false"


def owner_sql(f: OwnedField) -> str:
    """The field's owner for the row's entity: the last handover whose condition holds, else the base owner."""
    all_stages = stages(f)
    if len(all_stages) == 1:
        return literal(f.owner)
    whens = " ".join(
        f"WHEN canonical_id IN (SELECT canonical_id FROM ownership_conditions WHERE condition = {literal(s.when)}) "
        f"THEN {literal(s.owner)}" for s in reversed(all_stages[1:]) if s.when is not None)
    return f"CASE {whens} ELSE {literal(f.owner)} END"


def _mapped(f: OwnedField, system: str, value: str) -> str:
    mapping = (f.statuses or {}).get(system)
    if not mapping:
        return value
    whens = " ".join(f"WHEN {literal(k.strip().lower())} THEN {literal(v)}" for k, v in mapping.items())
    return f"CASE lower(trim({value})) {whens} ELSE {value} END"


def _source(col: Column, as_of: date, *, all_rows: bool) -> str:
    view = col.view
    if not view.is_child or all_rows:
        return f"(SELECT * FROM {view.name} WHERE canonical_id IS NOT NULL)"
    d = _day(as_of)
    return (f"(SELECT * FROM {view.name} WHERE canonical_id IS NOT NULL AND {view.pick_where.format(d=d)} "  # type: ignore[union-attr]
            f"QUALIFY row_number() OVER (PARTITION BY canonical_id ORDER BY {view.pick_order.format(d=d)}) = 1)")  # type: ignore[union-attr]


def value_sql(name: str, f: OwnedField, col: Column, as_of: date, reporting_currency: str, *,
              all_rows: bool = False) -> str:
    """One field's rows in one system (`all_rows`: every row of a child view, not the entity's chosen one)."""
    view, kind_class = col.view, col.view.columns[col.column]
    join = ""
    # the amount in the record's own currency: what the exception shows beside the converted difference
    original, original_currency = "CAST(NULL AS DECIMAL(20, 4))", "CAST(NULL AS VARCHAR)"
    if kind_class == MONEY:
        currency = CURRENCY_OF[(view.name, col.column)]
        amount = f"CAST(t.{col.column} * fx.rate AS DECIMAL(20, 4))"
        join = f" LEFT JOIN fx_rates AS fx ON fx.currency = coalesce(t.{currency}, {literal(reporting_currency)})"
        original = f"CAST(t.{col.column} AS DECIMAL(20, 4))"
        original_currency = f"coalesce(t.{currency}, {literal(reporting_currency)})"
    elif kind_class == MONEY_RC:
        amount = f"CAST(t.{col.column} AS DECIMAL(20, 4))"
    else:
        amount = "CAST(NULL AS DECIMAL(20, 4))"
    value = f"CAST({amount} AS VARCHAR)" if f.kind == "amount" else f"CAST(t.{col.column} AS VARCHAR)"
    tolerance = f"CAST({f.tolerance or 0} AS DECIMAL(20, 4))" if f.kind == "amount" else "CAST(NULL AS DECIMAL(20, 4))"
    return (
        f"SELECT t.canonical_id, {literal(name)} AS field, {literal(f.kind)} AS kind, "
        f"{literal(col.system)} AS source_system, "
        f"t.{view.record_id} AS source_id, t.{view.row_id} AS row_id, {value} AS value, "
        f"{_mapped(f, col.system, value)} AS mapped, {amount} AS amount, {tolerance} AS tolerance, "
        f"{owner_sql(f)} AS owner_system, {original} AS original_amount, {original_currency} AS original_currency "
        f"FROM {_source(col, as_of, all_rows=all_rows)} AS t{join}"
    )


def field_values_sql(registry: Registry, as_of: date, reporting_currency: str) -> str:
    return " UNION ALL ".join(value_sql(name, f, col, as_of, reporting_currency)
                              for name, f in registry.fields.items() for col in columns(f))


def install(engine: Engine, registry: Registry, as_of: date, reporting_currency: str) -> None:
    """Create `ownership_conditions`, `field_values` and `ownership` on `engine` (see the module docstring)."""
    engine.execute(f"CREATE OR REPLACE TABLE ownership_conditions AS {conditions_sql(registry, as_of)}")
    engine.execute(f"CREATE OR REPLACE VIEW field_values AS {field_values_sql(registry, as_of, reporting_currency)}")
    engine.execute("CREATE OR REPLACE VIEW ownership AS "
                   "SELECT DISTINCT canonical_id, field, owner_system FROM field_values")


def agree_sql(kind: str, a: str, b: str) -> str:
    """SQL that is true when two field_values rows `a` and `b` (aliases) hold the same value."""
    if kind == "amount":
        return f"abs({a}.amount - {b}.amount) <= {a}.tolerance"
    return f"tieout_normalise({a}.kind, {a}.mapped) = tieout_normalise({b}.kind, {b}.mapped)"

