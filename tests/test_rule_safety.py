from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke
from tieout.errors import UnsafeRuleError
from tieout.rules.safety import check_rule_sql


def test_a_select_over_canonical_tables_passes_and_reports_its_parameters() -> None:
    used = check_rule_sql(
        "WITH x AS (SELECT canonical_id FROM usage WHERE date > $as_of - $days) SELECT * FROM x",
        name="OK",
    )
    assert used == {"as_of", "days"}


@pytest.mark.parametrize(
    ("sql", "phrase"),
    [
        ("DELETE FROM invoices", "expected a SELECT"),
        ("SELECT 1; DROP TABLE invoices", "exactly one"),
        ("CREATE TABLE x AS SELECT 1", "expected a SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
        ("SELECT * FROM '/etc/passwd'", "reading from '/etc/passwd' is not allowed"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT * FROM secrets", "unknown table 'secrets'"),
        ("SELECT * FROM other.main.invoices", "qualified table"),
        ("ATTACH 'x.db'", "expected a SELECT"),
        ("COPY invoices TO 'x.csv'", "expected a SELECT"),
        ("SELEC 1", "refused"),
    ],
)
def test_anything_but_a_read_only_select_is_refused(sql: str, phrase: str) -> None:
    with pytest.raises(UnsafeRuleError) as err:
        check_rule_sql(sql, name="BAD", path=Path("rules/BAD.sql"))
    assert "rules/BAD.sql" in str(err.value) and phrase in str(err.value)


def test_an_unsafe_user_rule_stops_before_anything_runs(project: Path) -> None:
    (project / "rules").mkdir()
    (project / "rules" / "EVIL.sql").write_text("SELECT * FROM read_text('/etc/passwd')")
    (project / "rules" / "EVIL.yml").write_text("description: reads a file\nteam: ar\n")
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3
    assert "EVIL" in result.output and "not allowed" in result.output
    assert not (project / ".tieout").exists()


def _custom_rule(project: Path, needs: str) -> None:
    (project / "rules").mkdir(exist_ok=True)
    (project / "rules" / "EVERY_ENTITY.sql").write_text("SELECT canonical_id, 0 AS impact FROM entities")
    (project / "rules" / "EVERY_ENTITY.yml").write_text(f"description: flags every entity\nneeds_rows: {needs}\n")


def test_a_rule_that_needs_rows_runs_only_on_a_day_they_are_there(project: Path) -> None:
    # The rule would flag every entity, but it declares it can find nothing without corrections — and this
    # project has none, so it does not run. Needing a table that has rows (entities) changes nothing.
    for needs, flagged in (("[corrections]", False), ("[entities]", True)):
        _custom_rule(project, needs)
        result = invoke("run", "--project", str(project), "--as-of", "2026-01-20", "--format", "json")
        assert result.exit_code == 0, result.output
        assert ("EVERY_ENTITY" in result.output) is flagged, needs


def test_needs_rows_must_name_a_canonical_table(project: Path) -> None:
    _custom_rule(project, "[secrets]")
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3
    assert "EVERY_ENTITY" in result.output and "needs_rows names 'secrets'" in result.output


@pytest.mark.parametrize("call", ['"current_setting"', '"CURRENT_SETTING"', "Current_Setting", '"Current_Setting"'])
def test_a_function_is_refused_however_its_name_is_quoted_or_cased(call: str) -> None:
    # The probe: a quoted name passed a check that compared the name as sqlglot kept it.
    with pytest.raises(UnsafeRuleError, match=r"function current_setting\(\) is not allowed"):
        check_rule_sql(f"SELECT {call}('enable_external_access') AS impact, NULL AS canonical_id", name="BAD")


@pytest.mark.parametrize(
    "sql",
    [
        # The probe: a CTE named anywhere made its name readable everywhere, so this read the run's own table.
        "SELECT * FROM raw_findings, (WITH raw_findings AS (SELECT 1 AS x) SELECT * FROM raw_findings) AS q",
        # The same with a name no rule may take: the CTE is out of scope where the table is read.
        "SELECT * FROM secrets, (WITH secrets AS (SELECT 1 AS x) SELECT * FROM secrets) AS q",
        "SELECT * FROM (WITH secrets AS (SELECT 1 AS x) SELECT x FROM secrets) AS q WHERE x IN (FROM secrets)",
        # A CTE sees only the CTEs before it (unless RECURSIVE).
        "WITH a AS (SELECT * FROM secrets), secrets AS (SELECT 1 AS x) SELECT * FROM a",
    ],
)
def test_a_cte_name_is_a_table_only_where_the_cte_is_in_scope(sql: str) -> None:
    with pytest.raises(UnsafeRuleError, match="unknown table|takes the name of a table"):
        check_rule_sql(sql, name="BAD")


def test_ctes_in_scope_and_recursive_ctes_still_pass() -> None:
    check_rule_sql("WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) "
                   "SELECT * FROM b, (WITH c AS (SELECT * FROM b) SELECT * FROM c) AS q", name="OK")
    check_rule_sql("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
                   name="OK")


@pytest.mark.parametrize("cte", ["raw_findings", "invoices", "Rule_Out", '"findings"', "crm_accounts__raw"])
def test_a_cte_may_not_take_the_name_of_a_table(cte: str) -> None:
    with pytest.raises(UnsafeRuleError, match="takes the name of a table"):
        check_rule_sql(f"WITH {cte} AS (SELECT 1 AS canonical_id, 0 AS impact) SELECT * FROM {cte}", name="BAD")


def _user_rule(project: Path, sql: bytes | str, yml: str = "description: d\nteam: ar\n") -> None:
    (project / "rules").mkdir(exist_ok=True)
    sql_bytes = sql.encode("utf-8") if isinstance(sql, str) else sql
    (project / "rules" / "BROKEN.sql").write_bytes(sql_bytes)
    (project / "rules" / "BROKEN.yml").write_text(yml)


@pytest.mark.parametrize(
    ("sql", "yml", "phrases"),
    [
        # The probe: an unterminated string was a sqlglot TokenError traceback and exit 1.
        ("SELECT canonical_id,\n       'no end AS details FROM entities", None,
         ["BROKEN.sql", "rule BROKEN refused", "line 2, column 8", "unterminated"]),
        ('SELECT "no end FROM entities', None, ["BROKEN.sql", "line 1, column 8"]),
        ("SELECT $$no end FROM entities", None, ["BROKEN.sql", "not valid DuckDB SQL"]),
        ("SELECT canonical_id, 0 AS impact FROM entities WHERE", None, ["BROKEN.sql", "not valid DuckDB SQL"]),
        ("SELECT (" * 3000 + "1" + ")" * 3000, None, ["BROKEN.sql", "refused"]),
        (b"SELECT '\xff' AS canonical_id, 0 AS impact", None, ["BROKEN.sql", "not UTF-8"]),
        ("SELECT canonical_id, 0 AS impact FROM entities", "description: [unclosed\n",
         ["BROKEN.yml", "not valid YAML"]),
        ("SELECT canonical_id, 0 AS impact FROM entities", "- a list\n", ["BROKEN.yml", "mapping"]),
        ("SELECT canonical_id, 0 AS impact FROM entities", "description: d\ncolour: red\n",
         ["BROKEN.yml", "unknown key 'colour'"]),
    ],
)
def test_a_rule_file_that_cannot_be_read_is_a_configuration_error(
    project: Path, sql: str | bytes, yml: str | None, phrases: list[str]
) -> None:
    _user_rule(project, sql, *([yml] if yml else []))
    result = invoke("run", "--project", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3, result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)
    assert "Traceback" not in result.output
    assert not (project / ".tieout").exists()


def test_a_rule_saved_with_a_byte_order_mark_loads(project: Path) -> None:
    # Editors on Windows put one at the start of a UTF-8 file; it is not part of the SQL.
    _user_rule(project, b"\xef\xbb\xbfSELECT canonical_id, 0 AS impact FROM entities")
    result = invoke("rules", "list", "-p", str(project))
    assert result.exit_code == 0, result.output
    assert "BROKEN" in result.output


def test_a_parse_error_on_a_long_line_names_its_true_column() -> None:
    # DuckDB shows a long line as a window around the error; the column is in the whole line.
    columns = ", ".join(f"c{i}" for i in range(150))
    sql = f"SELECT canonical_id,\n       {columns}, 'no end FROM entities"
    column = sql.splitlines()[1].index("'") + 1
    assert column > 500
    with pytest.raises(UnsafeRuleError, match=f"at line 2, column {column}: unterminated"):
        check_rule_sql(sql, name="LONG")


def test_a_check_that_trips_over_the_sql_refuses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fail closed: hostile input that makes a check itself fail is refused, as a configuration error.
    def trips(*_: object, **__: object) -> None:
        raise TypeError("unhashable type: 'dict'")

    monkeypatch.setattr("tieout.rules.duckdb_view.check", trips)
    with pytest.raises(UnsafeRuleError, match=r"rule ODD refused: the rule check could not read it \(TypeError"):
        # a text no other test checks: one that passed before in this process is not checked again
        check_rule_sql("SELECT canonical_id, 0 AS odd_impact FROM entities", name="ODD")


def test_a_refused_text_is_refused_every_time_with_the_rule_that_brings_it() -> None:
    sql = "SELECT canonical_id, 0 AS impact FROM entities; DROP TABLE entities"
    for name in ("FIRST", "SECOND"):
        with pytest.raises(UnsafeRuleError, match=f"rule {name} refused"):
            check_rule_sql(sql, name=name)
