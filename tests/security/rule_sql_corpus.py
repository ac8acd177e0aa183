"""Hostile rule SQL: each case is text a project member might put in `rules/NAME.sql` to reach beyond the
canonical tables — and the reason the check must give for refusing it.

Reasons (what the refusal message must say):
  fn     a function off the allow-list, or called by a qualified name
  table  a table that is not canonical (or a CTE in scope), a file, a URL or a table function
  stmt   not exactly one SELECT (a write, a setting, a second statement)
  syntax not SQL both parsers read
  chars  a character parsers or reviewers read differently (controls, line separators, bidi overrides)
  comment a nested /* comment */
Some cases accept more than one reason: the first wall that stops it is enough.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    group: str
    sql: str
    reasons: str  # "|"-separated keys of REASONS
    # Refused by the sqlglot reading only, by design: CTE scope (DuckDB's tree is checked without it),
    # characters and nested comments both parsers read alike today, harmless SQL DuckDB reads as a SELECT.
    sqlglot_only: bool = False


def Sqlglot(group: str, sql: str, reasons: str) -> Case:  # noqa: N802 - reads as a kind of Case
    return Case(group, sql, reasons, sqlglot_only=True)


REASONS = {
    "fn": r"function \S+\(\) is not allowed|qualified function .* is not allowed",
    "table": r"unknown table|reading from .* is not allowed|qualified table|takes the name of a table"
             r"|table function|SUMMARIZE, DESCRIBE or SHOW",
    "stmt": r"expected a SELECT|expected exactly one SELECT|is not allowed: rules only read",
    "syntax": r"not valid DuckDB SQL|nested too deeply|DuckDB cannot read it",
    "pivot": r"PIVOT",
    "chars": r"character U\+[0-9A-F]{4} at line \d+, column \d+ is not allowed",
    "comment": r"a comment inside a /\* comment \*/ is not allowed",
}

OK = "SELECT canonical_id, 0 AS impact FROM entities"

_FUNCTIONS = [
    Case("function quoted", """SELECT "current_setting"('enable_external_access') AS x""", "fn"),
    Case("function quoted", """SELECT "CURRENT_SETTING"('enable_external_access') AS x""", "fn"),
    Case("function cased", """SELECT Current_Setting('enable_external_access') AS x""", "fn"),
    Case("function cased", """SELECT CURRENT_SETTING('lock_configuration') AS x""", "fn"),
    Case("function quoted", """SELECT "getenv"('HOME') AS x""", "fn"),
    Case("function cased", """SELECT GetEnv('HOME') AS x""", "fn"),
    Case("function quoted", """SELECT "GETENV"('AWS_SECRET_ACCESS_KEY') AS x""", "fn"),
    Case("function spaced", """SELECT current_setting ('memory_limit') AS x""", "fn"),
    Case("function commented", """SELECT current_setting/**/('memory_limit') AS x""", "fn"),
    Case("function qualified", """SELECT main.getenv('HOME') AS x""", "fn"),
    Case("function qualified", """SELECT system.main.current_setting('threads') AS x""", "fn"),
    Case("function qualified", """SELECT "main"."read_text"('/etc/passwd') AS x""", "fn|table"),
    Case("function qualified", """SELECT * FROM main.read_csv('exports/x.csv')""", "fn|table"),
    Case("function qualified", """SELECT * FROM system.main.duckdb_settings()""", "fn|table"),
    Case("function quoted", """SELECT * FROM "READ_CSV"('exports/x.csv')""", "fn|table"),
    Case("function quoted", """SELECT * FROM "read_text"('/etc/passwd')""", "fn|table"),
    Case("function scalar", """SELECT Read_Text('/etc/passwd') AS x""", "fn"),
    Case("function method call", """SELECT 'HOME'.getenv() AS x""", "fn"),
    Case("function method call", """SELECT canonical_id.current_setting() AS x FROM entities""", "fn"),
    Case("function escaped identifier", """SELECT "get""env"('HOME') AS x""", "fn"),
    Case("function unicode identifier", """SELECT U&"\\0067etenv"('HOME') AS x""", "fn|syntax"),
    Case("function catalogue", """SELECT version() AS x""", "fn"),
    Case("function catalogue", """SELECT getvariable('secret') AS x""", "fn"),
    Case("function executes sql", """SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))""",
         "fn|table"),
    Case("function by name", """SELECT list_aggregate([1], 'getenv') AS x""", "fn"),
    Case("function in subquery", f"""{OK} WHERE canonical_id = (SELECT getenv('USER'))""", "fn"),
    Case("function in order by", f"""{OK} ORDER BY current_setting('threads')""", "fn"),
    Case("function in window", """SELECT canonical_id, sum(0) OVER (PARTITION BY getenv('X')) AS impact
                                    FROM entities""", "fn"),
]

_CTES = [
    Sqlglot("cte shadows internal", "WITH raw_findings AS (SELECT 1 AS x) SELECT * FROM raw_findings", "table"),
    Sqlglot("cte in subquery", "SELECT * FROM raw_findings, (WITH raw_findings AS (SELECT 1 AS x) "
                            "SELECT * FROM raw_findings) AS q", "table"),
    Case("cte reads internal", "WITH x AS (SELECT * FROM raw_findings) SELECT * FROM x", "table"),
    Case("cte shadows canonical", "WITH invoices AS (SELECT * FROM raw_findings) SELECT * FROM invoices", "table"),
    Sqlglot("cte shadows canonical", "WITH invoices AS (SELECT 1 AS canonical_id) SELECT * FROM invoices", "table"),
    Sqlglot("cte shadows quoted", 'WITH "Raw_Findings" AS (SELECT 1 AS x) SELECT * FROM raw_findings', "table"),
    Sqlglot("recursive cte shadows", "WITH RECURSIVE raw_findings AS (SELECT 1 AS n UNION ALL "
                                  "SELECT n + 1 FROM raw_findings WHERE n < 2) SELECT * FROM raw_findings", "table"),
    Case("recursive cte reads internal", "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL "
                                         "SELECT n + 1 FROM r, findings WHERE n < 2) SELECT * FROM r", "table"),
    Sqlglot("cte out of scope",
            "SELECT * FROM (WITH rule_out AS (SELECT 1 AS x) SELECT x FROM rule_out) AS q, rule_out", "table"),
    Sqlglot("cte out of scope", "SELECT (WITH f AS (SELECT 1 AS x) SELECT x FROM f) AS y, * FROM f", "table"),
    Sqlglot("cte out of scope", "SELECT * FROM entities WHERE EXISTS (WITH q AS (SELECT 1 AS x) SELECT * FROM q) "
                             "AND canonical_id IN (SELECT x FROM q)", "table"),
    Sqlglot("cte forward reference", "WITH a AS (SELECT * FROM fx_rates), fx_rates AS (SELECT 1 AS x) SELECT * FROM a",
         "table"),
    Case("cte materialized", "WITH x AS MATERIALIZED (SELECT * FROM entity_map) SELECT * FROM x", "table"),
    Sqlglot("cte shadows macro table", "WITH tieout_fold AS (SELECT 1 AS x) SELECT * FROM tieout_fold", "table"),
    Case("cte data-modifying", "WITH gone AS (DELETE FROM raw_findings RETURNING *) SELECT * FROM gone",
         "stmt|syntax|table"),
    Case("internal table", "SELECT * FROM crm_accounts__raw", "table"),
    Case("internal table", "SELECT * FROM findings", "table"),
    Case("internal table", "SELECT * FROM billing_invoices__rejects", "table"),
    Case("catalogue view", "SELECT * FROM duckdb_tables", "table"),
    Case("catalogue view", "SELECT * FROM sqlite_master", "table"),
    Case("catalogue view", "SELECT * FROM information_schema.tables", "table"),
    Case("catalogue view", "SELECT * FROM pg_catalog.pg_settings", "table"),
    Case("catalogue view", "SELECT * FROM temp.main.tieout_fold", "table"),
]

_TABLE_FUNCTIONS = [
    Case("table function", f"SELECT * FROM {call}", "fn|table")
    for call in (
        "read_csv('exports/2026-01-20/crm_accounts.csv')", "read_csv_auto('/etc/passwd')",
        "read_parquet('store/findings.parquet')", "read_json('x.json')", "read_json_auto('x.json')",
        "read_ndjson('x.ndjson')", "read_text('/etc/passwd')", "read_blob('state.db')", "glob('*')",
        "parquet_scan('x.parquet')", "parquet_metadata('x.parquet')", "duckdb_settings()", "duckdb_secrets()",
        "duckdb_tables()", "duckdb_functions()", "duckdb_extensions()", "pragma_table_info('invoices')",
        "pragma_version()", "query('SELECT * FROM raw_findings')", "query_table('raw_findings')", "range(10)",
        "generate_series(1, 3)", "sniff_csv('x.csv')", "which_secret('s3://bucket/x', 's3')",
        "read_duckdb('state.db')", "sqlite_scan('state.db', 'users')",
    )
] + [
    Case("table function joined", "SELECT * FROM entities JOIN read_csv('x.csv') AS f ON true", "fn|table"),
    Case("table function in subquery", f"{OK} WHERE canonical_id IN (SELECT file FROM glob('*'))", "fn|table"),
    Case("table function lateral", "SELECT * FROM entities, LATERAL (SELECT * FROM read_text(canonical_id))",
         "fn|table"),
    Case("table function scalar subquery", "SELECT (SELECT content FROM read_text('/etc/passwd')) AS x", "fn|table"),
]

_STRING_TABLES = [
    Case("string table", f"SELECT * FROM {ref}", "table|syntax")
    for ref in ("'file.csv'", "'/etc/passwd'", "'http://example.com/x.csv'", "'s3://bucket/x.parquet'",
                "'~/.ssh/id_rsa'", "E'/etc/passwd'", "$$/etc/passwd$$", '"/etc/passwd"',
                "'exports/2026-01-20/*.csv'")
] + [
    # DuckDB reads this as the canonical table; refused all the same, as a string is a file path to DuckDB.
    Sqlglot("string table", "SELECT * FROM 'invoices'", "table"),
    Case("string table joined", "SELECT * FROM entities JOIN 'x.csv' AS f ON true", "table"),
    Case("string table in subquery", f"{OK} WHERE canonical_id IN (FROM 'ids.csv')", "table"),
]

_SETTINGS_AND_EXTENSIONS = [
    Case("setting", "SET enable_external_access = true", "stmt"),
    Case("setting", "SET GLOBAL lock_configuration = false", "stmt"),
    Case("setting", "RESET lock_configuration", "stmt|syntax"),
    Case("setting", "PRAGMA enable_profiling", "stmt"),
    Case("setting", "SET VARIABLE x = 1", "stmt"),
    Case("setting", "SELECT current_setting('enable_external_access') AS x", "fn"),
    Case("setting", "SELECT getenv('HOME') AS x", "fn"),
    Case("setting", "SELECT * FROM duckdb_settings()", "fn|table"),
    Case("extension", "INSTALL httpfs", "stmt"),
    Case("extension", "LOAD httpfs", "stmt"),
    Case("extension", "FORCE INSTALL httpfs FROM 'http://example.com'", "stmt|syntax"),
    Case("extension", "INSTALL evil FROM community", "stmt|syntax"),
]

_FILES_AND_NETWORK = [
    Case("file", "COPY invoices TO 'invoices.csv'", "stmt"),
    Case("file", "COPY (SELECT * FROM raw_findings) TO '/tmp/x.parquet' (FORMAT parquet)", "stmt"),
    Case("file", "COPY invoices FROM 'x.csv'", "stmt"),
    Case("file", "EXPORT DATABASE 'out'", "stmt"),
    Case("file", "IMPORT DATABASE 'in'", "stmt|syntax"),
    Case("database", "ATTACH 'state.db' AS s", "stmt"),
    Case("database", "ATTACH ':memory:' AS m", "stmt"),
    Case("database", "DETACH s", "stmt"),
    Case("database", "USE s", "stmt"),
    Case("database", "CHECKPOINT", "stmt"),
    Case("secret", "CREATE SECRET (TYPE S3, KEY_ID 'k', SECRET 's')", "stmt"),
    Case("secret", "CREATE PERSISTENT SECRET s (TYPE HTTP, BEARER_TOKEN 't')", "stmt"),
]

_WRITES = [
    Case("write", "INSERT INTO raw_findings VALUES ('X', NULL, NULL, NULL, NULL, NULL, 0)", "stmt"),
    Case("write", "INSERT INTO raw_findings SELECT * FROM raw_findings", "stmt"),
    Case("write", "INSERT OR REPLACE INTO raw_findings SELECT * FROM raw_findings", "stmt"),
    Case("write", "UPDATE raw_findings SET impact = 0", "stmt"),
    Case("write", "DELETE FROM raw_findings", "stmt"),
    Case("write", "TRUNCATE raw_findings", "stmt"),
    Case("write", "CREATE TABLE x AS SELECT 1", "stmt"),
    Case("write", "CREATE VIEW invoices AS SELECT 1", "stmt"),
    Case("write", "CREATE OR REPLACE MACRO tieout_div(x, y) AS 0", "stmt"),
    Case("write", "CREATE TEMP MACRO m() AS TABLE SELECT * FROM raw_findings", "stmt"),
    Case("write", "CREATE SEQUENCE s", "stmt"),
    Case("write", "CREATE INDEX i ON raw_findings (rule)", "stmt"),
    Case("write", "DROP TABLE raw_findings", "stmt"),
    Case("write", "DROP MACRO tieout_div", "stmt"),
    Case("write", "ALTER TABLE raw_findings RENAME TO y", "stmt"),
    Case("write", "SELECT * INTO copied FROM invoices", "stmt"),
    Case("write", "MERGE INTO raw_findings USING invoices ON false WHEN NOT MATCHED THEN DO NOTHING",
         "stmt|syntax"),
    Case("write", "COMMENT ON TABLE invoices IS 'x'", "stmt"),
    Case("write", "VACUUM", "stmt"),
    Case("write", "BEGIN TRANSACTION", "stmt"),
    Case("write", "PREPARE p AS SELECT * FROM raw_findings", "stmt"),
    Case("write", "EXECUTE p", "stmt"),
]

_MULTIPLE = [
    Case("multiple", f"{OK}; DROP TABLE raw_findings", "stmt"),
    Case("multiple", f"{OK};DELETE FROM raw_findings", "stmt"),
    Case("multiple", f"{OK};;SELECT 1", "stmt"),
    Case("multiple", f"{OK};\n-- the next line is just a note\nINSERT INTO raw_findings SELECT * FROM raw_findings",
         "stmt"),
    Case("multiple", f"{OK}; SET enable_external_access = true", "stmt"),
    Case("multiple", "SELECT ';' AS x; DROP TABLE raw_findings", "stmt"),
    Case("multiple", "SELECT 'it''s;' AS x; DROP TABLE raw_findings", "stmt"),
    Case("multiple", f"{OK} UNION ALL SELECT 1, 2; CREATE TABLE x AS SELECT 1", "stmt"),
]

_PARSER_TRICKS = [
    Case("comment hides", f"{OK} /* ; DROP TABLE raw_findings */; DROP TABLE raw_findings", "stmt"),
    Sqlglot("nested comment", f"{OK} /* outer /* inner */ ; DROP TABLE raw_findings; */", "comment"),
    Case("nested comment", f"{OK} /* a /* b */ */; DROP TABLE raw_findings", "comment|stmt|syntax"),
    Sqlglot("bidi override", f"{OK} -- \u202e; DROP TABLE raw_findings", "chars"),
    Case("zero-width space", "SELECT current_setting\u200b('threads') AS x", "chars"),
    Case("line comment \\r", f"{OK} -- note\rDROP TABLE raw_findings", "stmt|syntax"),
    Sqlglot("line comment U+2028", f"{OK} -- note\u2028; DROP TABLE raw_findings", "chars"),
    Sqlglot("line comment U+2029", f"{OK} -- note\u2029; DROP TABLE raw_findings", "chars"),
    Sqlglot("line comment U+0085", f"{OK} -- note\u0085; DROP TABLE raw_findings", "chars"),
    Sqlglot("line comment \\v", f"{OK} -- note\x0b; DROP TABLE raw_findings", "chars"),
    Sqlglot("line comment \\f", f"{OK} -- note\x0c; DROP TABLE raw_findings", "chars"),
    Case("line comment hash", f"{OK} # note\n; DROP TABLE raw_findings", "stmt|syntax"),
    Case("nul byte", f"{OK}\x00; DROP TABLE raw_findings", "chars"),
    Case("dollar quote", "SELECT $$ ; $$ AS x; DROP TABLE raw_findings", "stmt"),
    Case("dollar quote tagged", "SELECT $t$ ; $$ $t$ AS x; DROP TABLE raw_findings", "stmt|syntax"),
    Case("dollar quote with function", "SELECT $$x$$ AS y FROM read_text('/etc/passwd')", "fn|table"),
    Case("backslash string", "SELECT '\\'; DROP TABLE raw_findings; --' AS x", "stmt|syntax"),
    Case("e-string hides", "SELECT E'\\''; DROP TABLE raw_findings; --' AS x", "stmt|syntax"),
    Case("homoglyph quote", "SELECT \uff02current_setting\uff02('threads') AS x", "fn|syntax"),
    Case("homoglyph quote", "SELECT \u201cgetenv\u201d('HOME') AS x", "fn|syntax"),
    Case("homoglyph quote", "SELECT * FROM \u2018/etc/passwd\u2019", "table|syntax"),
    Case("homoglyph semicolon", f"{OK}\u037e DROP TABLE raw_findings", "stmt|syntax"),
    Case("dotted identifier", 'SELECT * FROM "main.raw_findings"', "table"),
    Case("dotted identifier", 'SELECT * FROM "memory.main.raw_findings"', "table"),
    Case("dotted identifier", 'SELECT * FROM "system"."main"."duckdb_settings"', "table"),
    Case("dotted identifier", 'SELECT * FROM "temp"."main"."tieout_fold"', "table"),
    Case("pivot", "PIVOT invoices ON status USING sum(amount)", "stmt|pivot"),
    Case("pivot", "SELECT * FROM (PIVOT invoices ON status USING sum(amount))", "stmt|pivot|syntax"),
    Case("pivot", "SELECT * FROM invoices PIVOT (sum(amount) FOR status IN ('paid'))", "pivot"),
    Case("pivot", "SELECT * FROM (SELECT * FROM raw_findings) PIVOT (sum(impact) FOR rule IN ('X'))", "pivot|table"),
    Case("unpivot", "UNPIVOT invoices ON COLUMNS(*) INTO NAME k VALUE v", "stmt|pivot"),
    Case("unpivot", "SELECT * FROM invoices UNPIVOT (v FOR k IN (amount, billed_fte))", "pivot"),
    Case("lambda", "SELECT list_transform(['/etc/passwd'], p -> read_text(p)) AS x", "fn"),
    Case("lambda", "SELECT list_transform(['HOME'], v -> getenv(v)) AS x", "fn"),
    Case("lambda", "SELECT list_filter([1], x -> current_setting('threads') = '1') AS x", "fn"),
    Case("list comprehension", "SELECT [getenv(x) FOR x IN ['HOME']] AS y", "fn|syntax"),
    Case("columns", "SELECT COLUMNS(*) FROM raw_findings", "fn|table"),
    Case("columns", "SELECT COLUMNS(c -> getenv(c) IS NULL) FROM entities", "fn"),
    Sqlglot("columns", "SELECT COLUMNS('.*') FROM entities", "fn"),
    Case("summarize", "SUMMARIZE invoices", "stmt|table"),
    Case("summarize", "SUMMARIZE SELECT * FROM raw_findings", "stmt|table"),
    Case("describe", "DESCRIBE invoices", "stmt|table"),
    Case("describe", "DESCRIBE raw_findings", "stmt|table"),
    Case("show", "SHOW TABLES", "stmt|table"),
    Case("show", "SHOW ALL TABLES", "stmt|table"),
    Case("call", "CALL duckdb_settings()", "stmt"),
    Case("call", "CALL pragma_version()", "stmt"),
    Case("explain", "EXPLAIN SELECT * FROM entities", "stmt"),
    Case("explain", "EXPLAIN ANALYZE SELECT * FROM read_csv('x.csv')", "stmt"),
    Sqlglot("values", "VALUES ('X', 0)", "stmt"),
    Case("values", "VALUES ('X', 0); DROP TABLE raw_findings", "stmt"),
    Case("from first", "FROM raw_findings SELECT *", "table"),
    Case("from first", "FROM raw_findings", "table"),
    Case("from first", "FROM read_csv('x.csv') SELECT *", "fn|table"),
    Case("table statement", "TABLE raw_findings", "table"),
    Case("deep nesting", "SELECT " + "(" * 5000 + "1" + ")" * 5000, "syntax"),
    Case("unterminated", "SELECT 'x AS canonical_id, 0 AS impact", "syntax"),
    Case("unterminated", "SELECT $$x AS canonical_id, 0 AS impact", "syntax"),
    Case("unterminated comment", f"{OK} /* DROP TABLE raw_findings", "syntax"),
]

CORPUS: list[Case] = [*_FUNCTIONS, *_CTES, *_TABLE_FUNCTIONS, *_STRING_TABLES, *_SETTINGS_AND_EXTENSIONS,
                      *_FILES_AND_NETWORK, *_WRITES, *_MULTIPLE, *_PARSER_TRICKS]

# Tricks both parsers read the same way: the "hidden" statement is inside a string, so the rule is one SELECT
# and passes the check. The corpus test runs each under the run's lockdown to show it changes nothing.
INERT = [
    Case("dollar quote hides", "SELECT $a$ $$ ; DROP TABLE raw_findings; $$ $a$ AS x", ""),
    Case("e-string backslash", "SELECT E'\\'; DROP TABLE raw_findings; --' AS x", ""),
]

# What a rule writer uses every day: none of it may be refused (the check's false positives).
BENIGN = [
    f"SELECT canonical_id, 0 AS impact, {expr} AS details FROM invoices"
    for expr in (
        "EXTRACT(year FROM period_start)", "amount::INTEGER", "TRY_CAST(amount AS INTEGER)", "[1, 2]", "{'a': 1}",
        "period_start + INTERVAL 1 DAY", "[1, 2][1]", "count(*) OVER ()", "amount BETWEEN 1 AND 2",
        "status LIKE 'p%'", "status ILIKE 'P%'", "status SIMILAR TO 'p.*'", "status IN ('paid', 'open')",
        "CASE WHEN amount > 0 THEN 'x' ELSE 'y' END", "coalesce(status, '')", "ifnull(status, '')",
        "date_trunc('month', period_start)", "year(period_start)", "list_transform([1], x -> x + 1)",
        "nullif(status, '')", "greatest(amount, 0)", "round(amount, 2)", "concat(status, 'x')",
        "DATE '2026-01-01'", "amount % 2", "amount // 2", "lower(status)", "strftime(period_start, '%Y')",
        "date_diff('day', period_start, period_end)", "regexp_matches(status, 'p')", "split_part(status, ',', 1)",
        "position('a' IN status)", "quantile_cont(amount, 0.5) OVER ()", "lag(amount) OVER (ORDER BY invoice_id)",
        "sum(amount) OVER (PARTITION BY canonical_id ORDER BY invoice_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
        "string_agg(status, ', ' ORDER BY status) OVER ()", "tieout_div(amount, 3)", "'a;b'", "$$a;b$$",
        "E'a\\tb'", "status IS DISTINCT FROM 'x'", "typeof(amount)", "list_contains([1], 1)",
    )
] + [
    "WITH a AS (SELECT canonical_id FROM entities), b AS (SELECT * FROM a) "
    "SELECT canonical_id, 0 AS impact FROM b WHERE canonical_id IN (WITH c AS (SELECT * FROM a) SELECT * FROM c)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT NULL AS canonical_id, n "
    "AS impact FROM r",
    "SELECT canonical_id, sum(amount) FILTER (WHERE amount > 0) AS impact FROM invoices GROUP BY ALL "
    "QUALIFY row_number() OVER (ORDER BY canonical_id) = 1",
    "FROM invoices SELECT canonical_id, amount AS impact -- DuckDB's FROM-first form\n",
    "SELECT canonical_id, 0 AS impact FROM invoices UNION ALL BY NAME SELECT canonical_id, 1 AS impact FROM usage;",
    "SELECT e.canonical_id, 0 AS impact FROM entities AS e /* a plain comment */ "
    "SEMI JOIN corrections AS c ON c.canonical_id = e.canonical_id",
    "SELECT * EXCLUDE (amount) REPLACE (canonical_id || '' AS canonical_id), 0 AS impact FROM invoices",
    "SELECT canonical_id, sum(amount) OVER w AS impact FROM invoices WINDOW w AS (PARTITION BY canonical_id)",
    "SELECT canonical_id, 0 AS impact FROM invoices GROUP BY GROUPING SETS ((canonical_id), ())",
    "SELECT i.canonical_id, 0 AS impact FROM invoices AS i ASOF JOIN usage AS u "
    "ON i.canonical_id = u.canonical_id AND i.period_start >= u.date",
    "SELECT canonical_id, 0 AS impact, [x * 2 FOR x IN [1, 2] IF x > 1] AS l FROM invoices",
    "SELECT canonical_id, 0 AS impact FROM invoices USING SAMPLE 10 PERCENT (bernoulli, 42)",
    "SELECT DISTINCT ON (canonical_id) canonical_id, amount AS impact FROM invoices ORDER BY ALL",
    "SELECT canonical_id, 0 AS impact FROM invoices AS i ANTI JOIN usage AS u USING (canonical_id) "
    "EXCEPT SELECT canonical_id, 0 FROM usage",
]
