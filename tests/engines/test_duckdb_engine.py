"""The DuckDB engine on its own: what it installs, its lockdown, tables in and out, one statement per rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from tieout.engines import DuckDBEngine, EngineError, NotOneStatement, engine_functions
from tieout.sql import literal, quote_name


def test_quoting_makes_any_text_one_name_or_one_string() -> None:
    assert quote_name('a "b"') == '"a ""b"""'
    assert literal("it's") == "'it''s'"
    engine = DuckDBEngine.open()
    hostile, name = "'; DROP TABLE x; --", 'we"ird'
    assert engine.one(f"SELECT {literal(hostile)} AS {quote_name(name)}") == (hostile,)
    assert engine.rows(f"DESCRIBE SELECT 1 AS {quote_name(name)}")[0][0] == name


def test_it_installs_the_functions_it_declares() -> None:
    engine = DuckDBEngine.open()
    engine.install()
    assert set(DuckDBEngine.functions) == {"tieout_div", "tieout_normalise"}
    assert engine_functions() == {"tieout_div": ("duckdb", "spark"), "tieout_normalise": ("duckdb", "spark")}
    # exact, half up: 1/3 and 2/3 to four decimals, and 0.00005 rounds away from zero
    assert engine.rows("SELECT tieout_div(1.00, 3.00), tieout_div(2.00, 3.00), tieout_div(0.0001, 2.0)") == [
        (Decimal("0.3333"), Decimal("0.6667"), Decimal("0.0001"))]
    assert engine.one("SELECT tieout_normalise('domain', 'WWW.Acme.com')") == ("acme.com",)
    engine.install()  # a second time is harmless


def test_tables_go_in_and_out_as_arrow_and_parquet(tmp_path: Path) -> None:
    engine = DuckDBEngine.open()
    data = pa.table({"id": ["a", "b"], "amount": pa.array([Decimal("1.50"), None], pa.decimal128(20, 4))})
    engine.write_table("money", data)
    assert engine.columns("money") == ["id", "amount"]
    assert engine.read_table("money").equals(data)
    engine.write_parquet("money", tmp_path / "money.parquet")
    engine.read_parquet("again", tmp_path / "money.parquet")
    assert engine.read_table("again").equals(data)


def test_the_lockdown_closes_files_and_settings(tmp_path: Path) -> None:
    engine = DuckDBEngine.open()
    (tmp_path / "x.csv").write_text("a\n1\n")
    engine.lock_down()
    with pytest.raises(EngineError, match="Permission Error"):
        engine.select_into("out", f"SELECT * FROM read_csv({literal(str(tmp_path / 'x.csv'))})")
    with pytest.raises(Exception, match="lock"):
        engine.execute("SET enable_external_access = true")


def test_a_rule_runs_as_exactly_one_statement() -> None:
    engine = DuckDBEngine.open()
    engine.execute("CREATE TABLE keep AS SELECT 1 AS x")
    with pytest.raises(NotOneStatement, match="it holds 2 statements") as refused:
        engine.select_into("out", "SELECT 1 AS x; DROP TABLE keep")
    assert refused.value.count == 2
    assert engine.one("SELECT count(*) FROM keep") == (1,)
    engine.select_into("out", "SELECT $n + 1 AS x", {"n": 41})
    assert engine.rows("SELECT x FROM out") == [(42,)]


def test_natural_keys_are_the_normalisers_keys_of_each_distinct_value() -> None:
    from tests.entities.helpers import DOMAINS, NAME_WORDS, TAXES
    from tieout.entities import normalise as n

    engine = DuckDBEngine.open()
    values = [*DOMAINS, *NAME_WORDS, " ".join(NAME_WORDS[:5]), *TAXES, None, "acme.com"]  # a repeat and a NULL
    engine.write_table("raw", pa.table({"x": pa.array(values, pa.string())}))
    for kind, keyer in (("tax_id", n.tax_id), ("domain", n.registrable_domain), ("legal_name", n.legal_name)):
        engine.natural_keys("keys", kind, "SELECT x FROM raw")
        expected = {v: keyer(v) for v in values if v is not None and keyer(v) is not None}
        found = engine.rows("SELECT v, key FROM keys")
        assert len(found) == len(expected) > 3 and dict(found) == expected, kind
    with pytest.raises(ValueError, match="no natural key of kind 'iban'"):
        engine.natural_keys("keys", "iban", "SELECT x FROM raw")
