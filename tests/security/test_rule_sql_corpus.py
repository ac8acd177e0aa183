"""The rule-SQL battery: every hostile rule in the corpus is refused when the rules are loaded — before any
export is read or any SQL runs — with a message that names the rule file and the reason; what rule writers
really write still passes; and the run's lockdown (the second wall) would stop a sample of the corpus too.
"""

from __future__ import annotations

import re
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import pytest

from tests.conftest import invoke, new_project
from tests.security.rule_sql_corpus import BENIGN, CORPUS, INERT, REASONS, Case
from tieout.config import load_project
from tieout.engines import DuckDBEngine
from tieout.errors import ConfigError, UnsafeRuleError
from tieout.evaluate import run_rule
from tieout.rules import duckdb_view
from tieout.rules.functions import ALLOWED_FUNCTIONS, PARSER_REWRITES
from tieout.rules.registry import Rule, load_rules
from tieout.rules.safety import CANONICAL_TABLES, _refuse, check_rule_sql, is_internal
from tieout.run import evaluate_day

AS_OF = date(2026, 1, 20)
PATH = Path("rules/HOSTILE.sql")


def _ids(cases: list[Case]) -> list[str]:
    return [f"{i:03d} {case.group}" for i, case in enumerate(cases)]


def test_the_corpus_is_large_and_covers_every_kind_of_attack() -> None:
    assert len(CORPUS) >= 100
    groups = " ".join(case.group for case in CORPUS)
    for kind in ("function quoted", "function cased", "function qualified", "cte shadows", "cte in subquery",
                 "recursive cte", "table function", "string table", "setting", "extension", "file", "secret",
                 "database", "write", "multiple", "comment", "dollar quote", "e-string", "homoglyph",
                 "dotted identifier", "pivot", "unpivot", "lambda", "columns", "summarize", "describe", "show",
                 "call", "explain", "values", "from first"):
        assert kind in groups, kind


@pytest.mark.parametrize("case", CORPUS, ids=_ids(CORPUS))
def test_hostile_rule_sql_is_refused_with_the_rule_and_the_reason(case: Case) -> None:
    with pytest.raises(UnsafeRuleError) as refused:
        check_rule_sql(case.sql, name="HOSTILE", path=PATH)
    message = str(refused.value)
    assert message.startswith(f"{PATH}: rule HOSTILE refused: "), message
    reasons = "|".join(REASONS[key] for key in case.reasons.split("|"))
    assert re.search(reasons, message), (case.reasons, message)


_BOTH = [case for case in CORPUS if not case.sqlglot_only]


@pytest.mark.parametrize("case", _BOTH, ids=_ids(_BOTH))
def test_duckdbs_own_reading_refuses_it_too(case: Case) -> None:
    # The second reading on its own: what DuckDB (which runs the SQL) parses must pass the same rules.
    with pytest.raises(UnsafeRuleError):
        duckdb_view.check(case.sql, partial(_refuse, "HOSTILE", PATH), tables=CANONICAL_TABLES)


def test_most_of_the_corpus_is_refused_by_each_reading_alone() -> None:
    assert len(_BOTH) >= 0.85 * len(CORPUS)


@pytest.mark.parametrize("sql", BENIGN)
def test_what_rule_writers_write_still_passes(sql: str) -> None:
    check_rule_sql(sql, name="OK")


def test_the_builtin_rules_and_the_documented_example_pass() -> None:
    rules = load_rules()  # checks every built-in rule's SQL
    assert len(rules) == 10
    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    example = re.search(r"```sql\n(.*?)```", doc, re.S)
    assert example is not None
    assert check_rule_sql(example.group(1), name="BIG_CONTRACT_NO_USAGE") == {"as_of", "min_monthly", "window_days"}


# A sample through the command line: refused at load, exit 3, the rule file named, nothing read or written.
_CLI_SAMPLE = [CORPUS[i] for i in range(0, len(CORPUS), len(CORPUS) // 8)]


@pytest.mark.parametrize("case", _CLI_SAMPLE, ids=_ids(_CLI_SAMPLE))
def test_a_hostile_rule_file_stops_the_run_before_anything_runs(tmp_path: Path, case: Case) -> None:
    project = new_project(tmp_path / "p", {AS_OF.isoformat(): {}})
    (project / "rules").mkdir()
    (project / "rules" / "HOSTILE.sql").write_text(case.sql, encoding="utf-8", newline="")
    (project / "rules" / "HOSTILE.yml").write_text("description: hostile\nteam: ar\n")
    result = invoke("run", "--project", str(project), "--as-of", AS_OF.isoformat())
    assert result.exit_code == 3, result.output
    assert "HOSTILE.sql: rule HOSTILE refused: " in result.output
    assert not (project / ".tieout").exists()


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A day's connection as the rules see it: canonical tables built, external access off, settings locked."""
    project = new_project(tmp_path_factory.mktemp("locked") / "p", {AS_OF.isoformat(): {}})
    one = {"AMBIGUOUS_ENTITY_MATCH": load_rules()["AMBIGUOUS_ENTITY_MATCH"]}
    con, _ = evaluate_day(load_project(project), AS_OF, rules=one)
    return con


def _unchecked(sql: str) -> Rule:
    # Straight to the runtime, past the check: what the lockdown alone does with it.
    return Rule(name="HOSTILE", sql=sql, description="", impact="0", team="ar", expected_lag_days=0, source=PATH)


# The cases the lockdown is there for: reaching a file, a URL or the secrets store.
_LOCKDOWN_SQL = {
    "SELECT * FROM read_csv('exports/2026-01-20/crm_accounts.csv')", "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('store/findings.parquet')", "SELECT * FROM read_json('x.json')",
    "SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM read_blob('state.db')", "SELECT * FROM glob('*')",
    "SELECT * FROM parquet_scan('x.parquet')", "SELECT * FROM duckdb_secrets()", "SELECT * FROM 'file.csv'",
    "SELECT * FROM 'http://example.com/x.csv'", "SELECT * FROM 's3://bucket/x.parquet'",
    """SELECT * FROM "READ_CSV"('exports/x.csv')""", "SELECT * FROM main.read_csv('exports/x.csv')",
    "SELECT * FROM entities JOIN read_csv('x.csv') AS f ON true",
    "SELECT (SELECT content FROM read_text('/etc/passwd')) AS x",
}
_LOCKDOWN_SAMPLE = [case for case in CORPUS if case.sql in _LOCKDOWN_SQL]


@pytest.mark.parametrize("case", _LOCKDOWN_SAMPLE, ids=_ids(_LOCKDOWN_SAMPLE))
def test_the_runtime_lockdown_would_refuse_it_too(locked: duckdb.DuckDBPyConnection, case: Case) -> None:
    with pytest.raises(ConfigError, match="rule HOSTILE failed: Permission Error"):
        run_rule(DuckDBEngine(locked), _unchecked(case.sql), AS_OF)


def test_the_lockdown_sample_is_drawn_from_the_corpus() -> None:
    assert len(_LOCKDOWN_SAMPLE) == len(_LOCKDOWN_SQL)  # each one is in the corpus


def test_the_runtime_runs_one_statement_only(locked: duckdb.DuckDBPyConnection) -> None:
    # The lockdown cannot stop a DROP of the run's own table; the rule's runner refuses a second statement.
    with pytest.raises(ConfigError, match="holds 2 statements"):
        run_rule(DuckDBEngine(locked), _unchecked("SELECT 1 AS canonical_id, 0 AS impact; DROP TABLE raw_findings"),
                 AS_OF)
    assert locked.execute("SELECT count(*) FROM raw_findings").fetchone() is not None


@pytest.mark.parametrize("case", INERT, ids=_ids(INERT))
def test_a_statement_hidden_in_a_string_is_only_text(locked: duckdb.DuckDBPyConnection, case: Case) -> None:
    check_rule_sql(case.sql, name="INERT")
    before = locked.execute("SELECT count(*) FROM raw_findings").fetchone()
    with pytest.raises(ConfigError, match="must return columns canonical_id and impact"):
        run_rule(DuckDBEngine(locked), _unchecked(case.sql), AS_OF)
    assert locked.execute("SELECT count(*) FROM raw_findings").fetchone() == before


def test_every_table_beside_the_canonical_ones_is_known_internal(locked: duckdb.DuckDBPyConnection) -> None:
    # A CTE may not take an internal table's name: the list of them must be complete.
    names = {row[0] for row in locked.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal"
    ).fetchall()}
    assert "raw_findings" in names
    assert sorted(n for n in names if n not in CANONICAL_TABLES and not is_internal(n)) == []


def test_every_allowed_function_is_a_scalar_aggregate_or_window_function(
    locked: duckdb.DuckDBPyConnection,
) -> None:
    kinds: dict[str, set[str]] = {}
    for name, kind in locked.execute("SELECT function_name, function_type FROM duckdb_functions()").fetchall():
        kinds.setdefault(name, set()).add(kind)
    for name in sorted(ALLOWED_FUNCTIONS - PARSER_REWRITES):
        assert name in kinds, f"{name} is not a DuckDB function"
        assert kinds[name] <= {"scalar", "aggregate", "macro", "window"}, (name, kinds[name])


def test_docs_rules_md_lists_exactly_the_allowed_functions() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    table = doc[doc.index("| kind | functions |"):doc.index("The list lives in")]
    listed = set(re.findall(r"`([a-z_0-9]+)`", table))
    assert listed == set(ALLOWED_FUNCTIONS)
