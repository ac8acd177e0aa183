"""The SQL macros equal the Python normalisers, on tricky real cases and on generated values."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieout.entities.normalise import legal_name, registrable_domain, tax_id
from tieout.entities.psl import public_rules
from tieout.entities.sql import fold_non_ascii, install_normalisers

TRICKY = [
    "RHL Associates, LLC",
    "Société Générale S.A.",
    "Müller GmbH & Co. KG",
    "billing.acme.co.uk",
    "ap@initech-payables.example",
    "foo.github.io",
    "user@GMAIL.com",
    "https://www.Acme.com/path",
    "55 1234567",
    "55-1234567",
    "GLOBEX LABS, L.L.C.",
    "x.city.kawasaki.jp",
    "a.b.kawasaki.jp",
    "foo.sch.uk",
    "a.foo.sch.uk",
    "www.ck",
    "co.uk",
    "1.2.3.4",
    "müller.de",
    "ÆRØ ApS",
    "東京株式会社",
    "İstanbul A.Ş.",
    "acme.com\n/x",
    "ACME.COM.",
    " \t",
    "",
    "@",
    "://",
    "a@b@c.com",
    "Straße GmbH",
    "ﬁnance.com",
]

_CONNECTION: duckdb.DuckDBPyConnection | None = None


def _con() -> duckdb.DuckDBPyConnection:
    global _CONNECTION
    if _CONNECTION is None:
        _CONNECTION = duckdb.connect()
        install_normalisers(_CONNECTION)
    return _CONNECTION


def _sql(values: list[str | None]) -> list[tuple[str | None, str | None, str | None]]:
    con = _con()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v AS "
        "SELECT unnest(?::VARCHAR[]) AS x, generate_subscripts(?::VARCHAR[], 1) AS i",
        [values, values],
    )
    fold_non_ascii(con, "SELECT x FROM v")
    return [
        tuple(r)
        for r in con.execute(
            "SELECT tieout_tax_id(x), tieout_domain(x), tieout_legal_name(x) FROM v ORDER BY i"
        ).fetchall()
    ]


def _check(values: list[str | None]) -> None:
    expected = [(tax_id(v), registrable_domain(v), legal_name(v)) for v in values]
    got = _sql(values)
    for value, e, g in zip(values, expected, got, strict=True):
        assert g == e, value


def test_tricky_cases():
    _check([*TRICKY, None])


def test_psl_rule_samples():
    # Every rule shape of the snapshot, prefixed with one and two labels.
    rules = [r for r in public_rules() if r.isascii()][::7]
    values = []
    for rule in rules:
        bare = rule.lstrip("!*.") if rule[0] in "!*" else rule
        values += [bare, f"x.{bare}", f"y.x.{bare}", f"https://a.b.{bare}/p"]
    _check(values)


_label = st.text(alphabet="abcxyz019-_", min_size=1, max_size=6)
_tld = st.sampled_from(
    [
        "com",
        "co.uk",
        "uk",
        "jp",
        "kawasaki.jp",
        "ck",
        "sch.uk",
        "io",
        "github.io",
        "de",
        "example",
        "com.au",
        "gmail.com",
        "xn--mller-kva.de",
        "bd",
    ]
)
_domain = st.builds(lambda ls, t: ".".join([*ls, t]), st.lists(_label, max_size=3), _tld)
_decorated = st.one_of(
    _domain,
    st.builds(lambda d: f"https://{d}/path?q=1", _domain),
    st.builds(lambda u, d: f"{u}@{d.upper()}", _label, _domain),
    st.builds(lambda d, p: f" {d}:{p}. ", _domain, st.integers(0, 99999)),
)
_words = st.sampled_from(
    [
        "Acme",
        "Globex",
        "Müller",
        "Société",
        "Générale",
        "inc",
        "Inc.",
        "LLC",
        "L.L.C.",
        "GmbH",
        "&",
        "Co.",
        "KG",
        "S.A.",
        "ag",
        "Ltd",
        "-",
        "'",
        "Straße",
        "東京",
        "(",
        "ApS",
    ]
)
_name = st.builds(" ".join, st.lists(_words, min_size=0, max_size=5))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_decorated, _name, st.text(max_size=12), st.none()), min_size=1, max_size=40))
def test_sql_equals_python_generated(values):
    _check(values)


def test_unfolded_non_ascii_gives_no_key():
    con = duckdb.connect()
    install_normalisers(con)
    assert con.execute("SELECT tieout_legal_name('Müller GmbH'), tieout_domain('müller.de')").fetchall() == [
        (None, None)
    ]


@pytest.mark.parametrize("value", ["acme.com", None])
def test_install_is_idempotent(value):
    con = duckdb.connect()
    install_normalisers(con)
    install_normalisers(con)
    assert con.execute("SELECT tieout_domain(?)", [value]).fetchall()[0][0] == registrable_domain(value)
