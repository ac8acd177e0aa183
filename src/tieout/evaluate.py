"""Run every enabled rule over the canonical tables and collect one `findings` table: each row a
mismatch observed on the as-of date with its identity, impact, severity and team.
"""

from __future__ import annotations

from datetime import date

from tieout.config import Project
from tieout.engines.base import Engine, EngineError, NotOneStatement
from tieout.errors import ConfigError
from tieout.routing import team_sql
from tieout.rules.registry import Rule
from tieout.severity import severity_sql

_OPTIONAL = ("source_system", "source_id", "field", "details")


def _identity_sql() -> str:
    # Stable across days: (rule, entity or source record, field/system) — contract §6.
    return (
        "substr(md5(concat_ws('|', rule, coalesce(canonical_id, ''), coalesce(source_system, ''), "
        "coalesce(source_id, ''), coalesce(field, ''))), 1, 16)"
    )


def _original_sql(columns: set[str], reporting_currency: str) -> str:
    """The rule's `original_amount` and `original_currency` (the impact in the records' own currency), kept only
    when both are there and the currency is not the reporting one: for money already in the reporting
    currency the impact says it all, and the findings stay what they were before currencies were kept."""
    if not {"original_amount", "original_currency"} <= columns:
        return "CAST(NULL AS DECIMAL(20, 4)), CAST(NULL AS VARCHAR)"
    # A user's rule may return anything there: a currency is kept only when it is a currency code.
    code = "upper(CAST(original_currency AS VARCHAR))"
    kept = (f"original_amount IS NOT NULL AND regexp_full_match(coalesce({code}, ''), '[A-Z]{{3}}') "
            f"AND {code} <> '{reporting_currency}'")
    return (f"CASE WHEN {kept} THEN CAST(original_amount AS DECIMAL(20, 4)) END, "
            f"CASE WHEN {kept} THEN {code} END")


def run_rule(engine: Engine, rule: Rule, as_of: date, reporting_currency: str = "USD") -> None:
    """Append `rule`'s findings to `raw_findings`."""
    params = rule.bound_params(as_of)
    try:
        # The rule check has already refused a second statement; the engine makes sure of it where it would do
        # harm the lockdown cannot stop (a DROP or INSERT on the run's own tables), so it never runs.
        engine.select_into("rule_out", rule.sql, params)
    except NotOneStatement as e:
        raise ConfigError(f"{rule.source}: rule {rule.name} refused: {e}") from e
    except EngineError as e:
        raise ConfigError(f"{rule.source}: rule {rule.name} failed: {e}") from e
    columns = set(engine.columns("rule_out"))
    missing = {"canonical_id", "impact"} - columns
    if missing:
        raise ConfigError(
            f"{rule.source}: rule {rule.name} must return columns canonical_id and impact "
            f"(missing: {', '.join(sorted(missing))})"
        )
    optional = ", ".join(
        f"CAST({c} AS VARCHAR)" if c in columns else "CAST(NULL AS VARCHAR)" for c in _OPTIONAL
    )
    engine.execute(
        f"INSERT INTO raw_findings SELECT '{rule.name}', CAST(canonical_id AS VARCHAR), {optional}, "
        f"CAST(coalesce(impact, 0) AS DECIMAL(20, 4)), {_original_sql(columns, reporting_currency)} FROM rule_out"
    )


def _has_rows(engine: Engine, table: str) -> bool:
    # (Not EXISTS in a SELECT list: Spark takes EXISTS only in a WHERE.)
    return engine.one(f"SELECT 1 FROM {table} LIMIT 1") is not None


def evaluate(engine: Engine, project: Project, rules: dict[str, Rule], as_of: date) -> int:
    """Create table `findings` for `as_of`; return its row count. The canonical views must exist."""
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE raw_findings (rule VARCHAR, canonical_id VARCHAR, source_system VARCHAR, "
        "source_id VARCHAR, field VARCHAR, details VARCHAR, impact DECIMAL(20, 4), original_amount DECIMAL(20, 4), "
        "original_currency VARCHAR)"
    )
    for rule in rules.values():
        if rule.enabled and all(_has_rows(engine, table) for table in rule.needs_rows):
            run_rule(engine, rule, as_of, project.reporting_currency)
    engine.execute("DROP TABLE IF EXISTS rule_out")
    engine.execute(f"""
        CREATE OR REPLACE TABLE findings AS
        WITH graded AS (
            SELECT *, {severity_sql("impact", project.severity)} AS severity FROM raw_findings
        )
        SELECT {_identity_sql()} AS id, rule, canonical_id, source_system, source_id, field, impact,
               severity, {team_sql(rules, project)} AS team, details, original_amount, original_currency
        FROM graded
        ORDER BY rule, canonical_id, source_system, source_id, field
    """)
    dup = engine.one("SELECT rule, id, count(*) FROM findings GROUP BY ALL HAVING count(*) > 1 LIMIT 1")
    if dup:
        raise ConfigError(
            f"rule {dup[0]} reported exception {dup[1]} {dup[2]} times on {as_of}: a rule must "
            "return one row per entity (or source record, field and system)"
        )
    return engine.one("SELECT count(*) FROM findings")[0]  # type: ignore[index]
