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
        ("SELECT * FROM '/etc/passwd'", "unknown table '/etc/passwd'"),
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
