"""Every built-in rule in every dialect `tieout rules check` knows: portable (sqlglot writes it and reads it back
in that dialect; in PostgreSQL it also runs, on a real server, and finds what DuckDB finds), or a strict xfail
whose reason is exactly what the check names as blocking it. A rule made portable, or a new blocker, fails here
until this list says so."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tests.conftest import invoke, new_project, write_day
from tests.rules.test_builtin_rules import AS_OF, SCENARIOS
from tests.state.pg import Cluster, start_cluster
from tieout.config import load_project
from tieout.engines import DuckDBEngine
from tieout.rules.portability import DIALECTS, check_portability
from tieout.rules.registry import load_rules
from tieout.rules.safety import CANONICAL_TABLES
from tieout.run import evaluate_day

RULES = load_rules()

_NORMALISE = "tieout_normalise(), a function only the duckdb and spark engines provide"
_DIV = "tieout_div(), a function only the duckdb and spark engines provide"
_DATE_DAYS = "a DATE plus or minus a bare number of days (DuckDB syntax bigquery does not have)"
_BQ_STRING_AGG = ("sqlglot cannot write it for bigquery: 'NULLS LAST' translation not supported for aggregate "
                  "function GROUP_CONCAT with  sort order")

# What blocks a built-in rule in a dialect, exactly as `tieout rules check` says it ("; " between blockers).
BLOCKED = {
    **{("CORRECTION_NOT_APPLIED", d): _NORMALISE for d in ("postgres", "snowflake")},
    ("CORRECTION_NOT_APPLIED", "bigquery"): f"{_NORMALISE}; {_DATE_DAYS}; {_BQ_STRING_AGG}",
    **{("OWNED_FIELD_MISMATCH", d): _NORMALISE for d in DIALECTS if d != "spark"},
    **{("FTE_THRESHOLD_DRIFT", d): _DIV for d in ("postgres", "snowflake")},
    ("FTE_THRESHOLD_DRIFT", "bigquery"): f"{_DIV}; {_DATE_DAYS}",
    ("BILLING_ACTIVE_OPS_INACTIVE", "bigquery"): _DATE_DAYS,
    ("OPS_ACTIVE_BILLING_INACTIVE", "bigquery"): _DATE_DAYS,
    ("DUPLICATE_SOURCE_RECORD", "bigquery"): _BQ_STRING_AGG,
}


class NotPortable(Exception):
    """The check names a blocker (the expected failure of an xfail case)."""


def _cases() -> Iterator[Any]:
    for rule in RULES:
        for dialect in DIALECTS:
            reason = BLOCKED.get((rule, dialect))
            marks = [pytest.mark.xfail(strict=True, raises=NotPortable, reason=reason)] if reason else []
            yield pytest.param(rule, dialect, reason, marks=marks, id=f"{rule}-{dialect}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    yield from start_cluster()


def _scenario(rule: str) -> tuple[dict[str, str], str]:
    """The files of test_builtin_rules' scenario in which `rule` fires."""
    files, entity_map, expected = next(v for k, v in SCENARIOS.items() if k.split(" ")[0] == rule and v[2])
    assert {finding[0] for finding in expected} == {rule}
    return files, entity_map


def _read_tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    return {t.name.lower() for t in tree.find_all(exp.Table)} & CANONICAL_TABLES


def _comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(v.normalize() if isinstance(v, Decimal) else v for v in row) for row in rows), key=repr)


def _runs_the_same_in_postgres(rule_name: str, sql: str, cluster: Cluster, tmp_path: Path) -> None:
    """Load the canonical tables the rule reads, from a DuckDB day where it fires, into PostgreSQL; run the
    transpiled SQL there; it must return exactly the rows DuckDB's rule returns."""
    import psycopg

    rule = RULES[rule_name]
    files, entity_map = _scenario(rule_name)
    project = new_project(tmp_path / "p", {})
    (project / "entity_map.csv").write_text(entity_map)
    write_day(project, AS_OF.isoformat(), files)
    con, _ = evaluate_day(load_project(project), AS_OF, rules={rule_name: rule})
    engine = DuckDBEngine(con)
    params = rule.bound_params(AS_OF)
    engine.select_into("rule_expected", rule.sql, params)
    expected = engine.rows("SELECT * FROM rule_expected")
    assert expected, f"{rule_name} finds nothing in its scenario: the comparison would prove nothing"
    database = f"portability_{rule_name.lower()}"
    cluster.admin(f'DROP DATABASE IF EXISTS "{database}"')
    cluster.admin(f'CREATE DATABASE "{database}"')
    try:
        with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user="tieout", dbname=database) as pg:
            for table in sorted(_read_tables(rule.sql)):
                described = engine.rows(f'DESCRIBE "{table}"')
                columns = ", ".join(
                    f'"{name}" {exp.DataType.build(kind, dialect="duckdb").sql("postgres")}'
                    for name, kind, *_ in described)
                pg.execute(f'CREATE TABLE "{table}" ({columns})')  # type: ignore[arg-type]
                rows = engine.rows(f'SELECT * FROM "{table}"')
                if rows:
                    marks = ", ".join(["%s"] * len(described))
                    pg.cursor().executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)  # type: ignore[arg-type]
            found = pg.execute(sql, params).fetchall()  # type: ignore[arg-type]
    finally:
        cluster.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    assert _comparable(found) == _comparable(expected)


@pytest.mark.parametrize(("rule", "dialect", "reason"), list(_cases()))
def test_a_builtin_rule_is_portable_or_names_its_blocker(rule: str, dialect: str, reason: str | None,
                                                         request: pytest.FixtureRequest, tmp_path: Path) -> None:
    result = check_portability(RULES[rule], dialect)
    if not result.portable:
        # The exact reason: a blocker other than the listed one fails the test instead of being the xfail.
        assert "; ".join(result.blockers) == reason
        raise NotPortable(reason)
    assert reason is None, f"{rule} is portable to {dialect} now: take it off BLOCKED"
    assert result.sql is not None
    sqlglot.parse_one(result.sql, read=dialect)
    if dialect == "postgres":
        _runs_the_same_in_postgres(rule, result.sql, request.getfixturevalue("pg_cluster"), tmp_path)


def test_every_blocked_case_is_a_builtin_rule_in_a_known_dialect() -> None:
    assert {rule for rule, _ in BLOCKED} <= set(RULES)
    assert {dialect for _, dialect in BLOCKED} <= set(DIALECTS)


def test_a_builtin_rule_declares_exactly_the_engine_functions_it_calls() -> None:
    # The registry fills in an undeclared call for a project's rule; a built-in one must say it in its .yml.
    import yaml

    from tieout.rules.registry import BUILTIN_DIR

    for name, rule in RULES.items():
        declared = (yaml.safe_load((BUILTIN_DIR / f"{name}.yml").read_text()) or {}).get("requires", [])
        assert tuple(declared) == rule.requires, name


def test_rules_check_names_each_blocker_and_exits_3(project: Path) -> None:
    result = invoke("rules", "check", "--dialect", "postgres", "-p", str(project))
    assert result.exit_code == 3, result.output
    lines = {line.split()[0]: " ".join(line.split()[1:]) for line in result.output.splitlines()[1:-1]}
    assert lines["CORRECTION_NOT_APPLIED"] == f"blocked by {_NORMALISE}"
    assert lines["FTE_THRESHOLD_DRIFT"] == f"blocked by {_DIV}"
    assert lines["UNMAPPED_SOURCE_RECORD"] == "portable"
    assert len(lines) == len(RULES)
    assert "7 of 10 rules portable to postgres." in result.output


def test_rules_check_json_and_exit_0_once_the_blocked_rules_are_off(project: Path) -> None:
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text() + "rules:\n" + "".join(
        f"  {name}:\n    enabled: false\n"
        for name in ("CORRECTION_NOT_APPLIED", "OWNED_FIELD_MISMATCH", "FTE_THRESHOLD_DRIFT")))
    result = invoke("rules", "check", "--dialect", "postgres", "--format", "json", "-p", str(project))
    assert result.exit_code == 0, result.output
    import json

    out = json.loads(result.output)
    assert out["dialect"] == "postgres" and out["portable"] is True
    by_rule = {r["rule"]: r for r in out["rules"]}
    assert by_rule["FTE_THRESHOLD_DRIFT"]["enabled"] is False
    assert by_rule["FTE_THRESHOLD_DRIFT"]["blockers"] == [_DIV]
    assert by_rule["FTE_THRESHOLD_DRIFT"]["requires"] == ["tieout_div"]
    assert by_rule["CRM_ACTIVE_BILLING_INACTIVE"]["portable"] is True
    assert "%(as_of)s" in by_rule["CRM_ACTIVE_BILLING_INACTIVE"]["sql"]


_DIV_RULE = "SELECT canonical_id, tieout_div(amount, 3) AS impact FROM billing_active\n"


@pytest.mark.parametrize(("requires", "refusal"), [
    ("requires: [tieout_sqrt]\n", "requires names 'tieout_sqrt', not a function an engine provides"),
    ("requires: [tieout_normalise]\n", "requires names 'tieout_normalise', which its SQL never calls"),
])
def test_requires_names_only_engine_functions_the_sql_calls(project: Path, requires: str, refusal: str) -> None:
    from tieout.errors import ConfigError

    (project / "rules").mkdir()
    (project / "rules" / "THIRDS.sql").write_text(_DIV_RULE)
    (project / "rules" / "THIRDS.yml").write_text("description: x\n" + requires)
    with pytest.raises(ConfigError, match=refusal):
        load_rules(load_project(project))


def test_an_undeclared_engine_function_is_read_from_the_sql(project: Path) -> None:
    # A project's rule written before requires: still loads, and rules check still names what it needs.
    (project / "rules").mkdir()
    (project / "rules" / "THIRDS.sql").write_text(_DIV_RULE)
    (project / "rules" / "THIRDS.yml").write_text("description: x\n")
    rule = load_rules(load_project(project))["THIRDS"]
    assert rule.requires == ("tieout_div",)
    assert check_portability(rule, "postgres").blockers == (_DIV,)
    assert check_portability(rule, "spark").blockers == ()  # the spark engine writes it as Spark SQL
