"""`sla:` (ages and due dates on the as-of day) and `links:` (URL templates to each source record) in tieout.yml:
their defaults, their validation and what they compute — a hostile record id never leaves its template's host
or scheme."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke
from tieout.config import load_project
from tieout.due import Sla, due_of
from tieout.errors import ConfigError
from tieout.links import record_url
from tieout.timeline import QueuedException

BASE = "exports: e/{date}\nentity_map: m.csv\n"
E = QueuedException(id="0123456789abcdef", rule="R", canonical_id="C1", source_system=None, source_id=None,
                    field=None, severity="P2", impact=Decimal("12000.00"), team="ar", details=None,
                    first_seen=date(2026, 3, 1), last_seen=date(2026, 3, 31), resolved_on=None,
                    original_amount=None, original_currency=None, currency="USD", status="open",
                    classification="structural", episodes=1)


def _load(tmp_path: Path, text: str) -> object:
    (tmp_path / "tieout.yml").write_text(BASE + text)
    return load_project(tmp_path)


def test_the_default_sla_and_a_partial_override(tmp_path: Path) -> None:
    assert Sla().days("P1") == 2 and Sla().days("P2") == 5 and Sla().days("P3") == 10 and Sla().days("INFO") is None
    sla = _load(tmp_path, "sla: {P1: 1, INFO: 30, P3: null}\n").sla  # type: ignore[attr-defined]
    assert (sla.days("P1"), sla.days("P2"), sla.days("P3"), sla.days("INFO")) == (1, 5, None, 30)


@pytest.mark.parametrize(("text", "phrase"), [
    ("sla: {P1: -1}\n", "key 'sla.P1': Input should be greater than or equal to 0"),
    ("sla: {P4: 3}\n", "unknown key 'sla.P4'"),
    ("sla: {P2: soon}\n", "key 'sla.P2'"),
    ("links: {erp: 'https://x.example/{source_id}'}\n", "'erp' is neither a system (crm, billing, ops) nor a table"),
    ("links: {crm: 'https://x.example/'}\n", "has no {source_id}"),
    ("links: {crm: 'javascript:alert(1)//{source_id}'}\n", "is not an http:// or https:// URL with a host"),
    ("links: {crm: 'ftp://x.example/{source_id}'}\n", "is not an http:// or https:// URL with a host"),
    ("links: {crm: '/relative/{source_id}'}\n", "is not an http:// or https:// URL with a host"),
    ("links: {crm: 'https://{source_id}.example.com/'}\n", "the record's id may not be part of the host"),
    ("links: {crm: 'https://x.example/{source_id}/{name}'}\n", "is the only placeholder"),
    ("links: {ops_usage: 'https://x.example/{source_id}'}\n", "nor a table with record ids"),
])
def test_bad_sla_and_links_are_config_errors_naming_the_key(tmp_path: Path, text: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    assert phrase in str(e.value) and "tieout.yml" in str(e.value)


def test_a_config_error_exits_3(tmp_path: Path) -> None:
    (tmp_path / "tieout.yml").write_text(BASE + "sla: {P1: -2}\n")
    result = invoke("exceptions", "-p", str(tmp_path))
    assert result.exit_code == 3 and "sla.P1" in result.output


def test_due_is_first_seen_plus_the_sla_and_overdue_only_after_it_while_open() -> None:
    sla = Sla()
    on_due = due_of(E, sla, date(2026, 3, 6))
    assert (on_due.age_days, on_due.due_on, on_due.overdue) == (5, date(2026, 3, 6), False)  # due today: not late
    late = due_of(E, sla, date(2026, 3, 7))
    assert (late.age_days, late.overdue) == (6, True)
    resolved = replace(E, status="resolved", resolved_on=date(2026, 3, 20))
    done = due_of(resolved, sla, date(2026, 3, 31))
    assert (done.age_days, done.due_on, done.overdue) == (19, date(2026, 3, 6), False)  # aged to its resolution
    info = due_of(replace(E, severity="INFO"), sla, date(2026, 12, 31))
    assert (info.due_on, info.overdue) == (None, False)


def test_a_record_link_quotes_the_whole_id_and_keeps_its_template_host() -> None:
    links = {"crm": "https://example.my.salesforce.com/{source_id}",
             "billing_invoices": "https://dashboard.stripe.com/invoices/{source_id}?x=1"}
    assert record_url(links, "crm", None, "001ABC") == "https://example.my.salesforce.com/001ABC"
    assert record_url(links, "crm", "crm_accounts", "001ABC") == "https://example.my.salesforce.com/001ABC"
    # a contract has an id of its own: the account's template does not cover it
    assert record_url(links, "crm", "crm_contracts", "800X") is None
    assert record_url(links, "billing", "billing_invoices", "in 1") == "https://dashboard.stripe.com/invoices/in%201?x=1"
    assert record_url(links, "billing", "billing_customers", "cus_1") is None
    assert record_url(links, "crm", None, None) is None
    for hostile in ("javascript:alert(1)", "//evil.example/x", "../../admin?a=b#c", "@evil.example",
                    '"><script>alert(1)</script>'):
        url = record_url(links, "crm", None, hostile)
        assert url is not None and url.startswith("https://example.my.salesforce.com/")
        tail = url.removeprefix("https://example.my.salesforce.com/")
        assert not set(tail) & set('/:?#@"<> ')
