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
