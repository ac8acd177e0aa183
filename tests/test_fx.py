"""Multi-currency: `fx_rates` per date, ISO 4217 exponents, exact conversion, and the original amount shown beside
the converted impact from the rules to every place an exception is listed."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days
from tieout import fx
from tieout.config import load_project
from tieout.currencies import exponent, known
from tieout.errors import ConfigError
from tieout.output import format_impact, format_money, format_reporting
from tieout.store.days import _DAY_FILE as DAY_FILE
from tieout.store.days import ADDED_COLUMNS
from tieout.store.manifest import MANIFEST, days_dir

H = HEALTHY_DAY
MINIMAL = "exports: exports/{date}\nentity_map: entity_map.csv\n"
# The contract cancelled: the invoice is billed with no live contract (BILLING_ACTIVE_CRM_INACTIVE, the
# invoice's amount at risk).
NO_CONTRACT = H["crm_contracts.csv"].replace(",active,", ",cancelled,")
FEBRUARY = "2026-02-01,2026-02-28"


def invoice(amount: str, currency: str, period: str = "2026-01-01,2026-01-31") -> str:
    """The healthy day's invoice in another amount, currency and period."""
    return (H["billing_invoices.csv"].replace(",10000.00,USD,", f",{amount},{currency},")
            .replace("2026-01-01,2026-01-31", period))


def exceptions_json(project: Path, *args: str) -> list[dict]:
    result = invoke("exceptions", "-p", str(project), "--status", "all", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout, parse_float=Decimal)


def money_of(found: list[dict]) -> list[tuple]:
    return [(e["rule"], e["impact"], e["currency"], e["original_amount"], e["original_currency"]) for e in found]


# --- the configuration --------------------------------------------------------------------------------------


def write_config(tmp_path: Path, fx_rates: str) -> Path:
    (tmp_path / "tieout.yml").write_text(MINIMAL + f"fx_rates: {fx_rates}\n")
    return tmp_path


def test_a_rate_per_date_is_picked_by_the_as_of_day(tmp_path: Path) -> None:
    project = load_project(write_config(tmp_path, "{EUR: {2026-01-01: 1.08, 2026-02-01: 1.10}, JPY: 0.0067}"))
    eur = [project.fx_rate("EUR", on=date.fromisoformat(d)) for d in
           ("2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01", "2026-12-31")]
    assert eur == [None, Decimal("1.08"), Decimal("1.08"), Decimal("1.10"), Decimal("1.10")]
    # one rate is every day's, beside a schedule; the reporting currency is 1
    assert project.fx_rate("JPY", on=date(1999, 1, 1)) == Decimal("0.0067")
    assert project.fx_rate("USD", on=date(1999, 1, 1)) == 1
    assert project.fx_rate("GBP", on=date(2026, 1, 1)) is None
    # without a day: the latest rate (the old call, `fx_rate(currency)`, keeps working)
    assert project.fx_rate("EUR") == Decimal("1.10") and project.fx_rate("JPY") == Decimal("0.0067")
    assert project.fx_rates_on(date(2025, 12, 31)) == {"USD": 1, "JPY": Decimal("0.0067")}
    assert project.fx_rates_on(date(2026, 1, 15)) == {"USD": 1, "EUR": Decimal("1.08"), "JPY": Decimal("0.0067")}


def test_rates_are_the_decimals_written_in_the_file(tmp_path: Path) -> None:
    project = load_project(write_config(tmp_path, '{VND: 0.000039370079, EUR: "1.0823", JPY: 0.0066666667}'))
    assert project.fx_rates == {"VND": Decimal("0.000039370079"), "EUR": Decimal("1.0823"),
                                "JPY": Decimal("0.0066666667")}
    assert all(isinstance(r, Decimal) for r in project.fx_rates.values())


def test_dates_may_be_written_in_any_order_and_quoted(tmp_path: Path) -> None:
    project = load_project(write_config(tmp_path, '{EUR: {"2026-02-01": 1.10, 2026-01-01: 1.08}}'))
    assert project.fx_rates["EUR"] == {date(2026, 1, 1): Decimal("1.08"), date(2026, 2, 1): Decimal("1.10")}


@pytest.mark.parametrize(("fx_rates", "phrases"), [
    ("{EUR: lots}", ["key 'fx_rates.EUR'", "expected a rate > 0", "or dates each with the rate"]),
    ("{EUR: 0}", ["key 'fx_rates.EUR'", "expected a rate > 0"]),
    ("{EUR: true}", ["key 'fx_rates.EUR'", "expected a rate > 0"]),
    ("{EUR: {}}", ["key 'fx_rates.EUR'", "at least one date"]),
    ("{EUR: {2026-01-01: 1.08, 2026-02-01: -1}}", ["key 'fx_rates.EUR'", "2026-02-01: expected a rate > 0"]),
    ("{EUR: {2026-13-01: 1.08}}", ["key 'fx_rates.EUR'", "'2026-13-01': expected a date YYYY-MM-DD"]),
    ("{EUR: {soon: 1.08}}", ["key 'fx_rates.EUR'", "'soon': expected a date YYYY-MM-DD"]),
    ("{EUR: 1.0000000000001}", ["key 'fx_rates.EUR'", "at most 12 decimal places"]),
    ("{eur: 1.08}", ["key 'fx_rates'", "eur: expected a 3-letter upper-case currency code"]),
    ("{USD: 1.08}", ["key 'fx_rates'", "USD: the reporting currency converts at 1"]),
])
def test_bad_rates_name_the_key_and_what_was_expected(tmp_path: Path, fx_rates: str, phrases: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        load_project(write_config(tmp_path, fx_rates))
    assert "tieout.yml" in str(err.value)
    for phrase in phrases:
        assert phrase in str(err.value)


def test_the_reporting_currency_at_par_is_harmless(tmp_path: Path) -> None:
    project = load_project(write_config(tmp_path, "{USD: 1, EUR: 1.08}"))
    assert project.fx_rates_on(date(2026, 1, 1)) == {"USD": 1, "EUR": Decimal("1.08")}


def test_schedule_helpers() -> None:
    schedule = fx.parse_rates({"2026-02-01": 1.1, date(2026, 1, 1): "1.08"})
    assert fx.first_day(schedule) == date(2026, 1, 1) and fx.first_day(Decimal(1)) is None
    assert fx.rate_on(schedule, date(2026, 1, 31)) == Decimal("1.08")
    assert fx.rate_on(schedule, date(2026, 2, 1)) == Decimal("1.1")


# --- currencies and how amounts look -------------------------------------------------------------------------


def test_iso_4217_exponents() -> None:
    assert [exponent(c) for c in ("JPY", "KRW", "CLP", "VND", "ISK", "XOF")] == [0] * 6
    assert [exponent(c) for c in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")] == [3] * 7
    assert [exponent(c) for c in ("CLF", "UYW")] == [4, 4]
    assert [exponent(c) for c in ("USD", "EUR", "GBP", "usd", "XAU", "ABC")] == [2] * 6
    assert known("EUR") and known("jpy") and known("XAU") and not known("ABC") and not known("EURO")


def test_amounts_show_their_currencys_decimals_and_never_lose_a_digit() -> None:
    assert format_money(Decimal("1500"), "JPY") == "1,500 JPY"
    assert format_money(Decimal("1500.0000"), "JPY") == "1,500 JPY"
    assert format_money(Decimal("12.345"), "KWD") == "12.345 KWD"
    assert format_money(Decimal("12.3"), "KWD") == "12.300 KWD"
    assert format_money(Decimal("0.5"), "CLF") == "0.5000 CLF"
    assert format_money(Decimal("1234567.5"), "EUR") == "1,234,567.50 EUR"
    assert format_money(Decimal("83333.3333"), "JPY") == "83,333.3333 JPY"  # a twelfth of a year: kept
    # the reporting currency's impact: at least two decimals, whatever the currency, and every digit
    assert format_reporting(Decimal("10050.0000"), "USD") == "10,050.00 USD"
    assert format_reporting(Decimal("40.2447"), "USD") == "40.2447 USD"
    assert format_reporting(Decimal("1500"), "JPY") == "1,500.00 JPY"
    assert format_impact(Decimal("10800"), "USD", Decimal("10000"), "EUR") == "10,800.00 USD (10,000.00 EUR)"
    assert format_impact(Decimal("10800"), "USD", None, None) == "10,800.00 USD"


# --- conversion, end to end ----------------------------------------------------------------------------------


@pytest.fixture
def eur_project(tmp_path: Path) -> Path:
    """An EUR invoice billed with no live contract, on both sides of a rate change (1.08, then 1.10)."""
    return new_project(tmp_path / "eur", {
        "2026-01-31": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("10000.00", "EUR")},
        "2026-02-01": {"crm_contracts.csv": NO_CONTRACT,
                       "billing_invoices.csv": invoice("10000.00", "EUR", FEBRUARY)},
    }, "fx_rates:\n  EUR: {2026-01-01: 1.08, 2026-02-01: 1.10}\n")


def test_each_day_converts_at_its_own_rate(eur_project: Path) -> None:
    run_days(eur_project, "2026-01-31")
    on_31 = exceptions_json(eur_project)
    assert money_of(on_31) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10800.00"), "USD", Decimal("10000.00"), "EUR")]
    run_days(eur_project, "2026-02-01")
    assert money_of(exceptions_json(eur_project)) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("11000.00"), "USD", Decimal("10000.00"), "EUR")]
    # the day before the change still reads as it was converted then
    assert exceptions_json(eur_project, "--as-of", "2026-01-31") == on_31


def test_the_month_end_pack_lists_the_day_a_rate_changed(tmp_path: Path) -> None:
    days = {d: {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("10000.00", "EUR")}
            for d in ("2026-01-09", "2026-01-10", "2026-01-11")}
    project = new_project(tmp_path / "pack", days, "fx_rates:\n  EUR: {2026-01-01: 1.08, 2026-01-10: 1.10}\n")
    run_days(project, *days)
    pack = json.loads(invoke("report", "monthly", "-p", str(project), "--as-of", "2026-01-11", "--format",
                             "json").stdout)
    assert pack["configuration_changes"]["changes"] == [
        {"day": "2026-01-10", "what": "exchange rates", "detail": "EUR 1.08 → 1.1", "since": "2026-01-09"}]
    # a record written before rates were kept is not taken for a change
    record = project / ".tieout" / "runs" / "2026-01-09.json"
    record.write_text(json.dumps({k: v for k, v in json.loads(record.read_text()).items() if k != "fx_rates"}))
    pack = json.loads(invoke("report", "monthly", "-p", str(project), "--as-of", "2026-01-11", "--format",
                             "json").stdout)
    assert pack["configuration_changes"]["changes"] == []


def test_re_running_a_day_after_a_new_rate_is_added_keeps_its_rate(eur_project: Path) -> None:
    run_days(eur_project, "2026-01-31")
    config = eur_project / "tieout.yml"
    config.write_text(config.read_text().replace("2026-02-01: 1.10", "2026-02-01: 1.10, 2026-03-01: 2"))
    run_days(eur_project, "2026-01-31")
    assert exceptions_json(eur_project)[0]["impact"] == Decimal("10800.00")


def test_the_original_amount_in_json_csv_the_table_and_show(eur_project: Path) -> None:
    run_days(eur_project, "2026-01-31")
    found = exceptions_json(eur_project)
    keys = list(found[0])
    # added at the end, nothing renamed; the entity's name (added later still) after them
    assert keys[-6:] == ["original_amount", "original_currency", "entity_name", "age_days", "due_on", "overdue"]
    table = list(csv.DictReader(io.StringIO(invoke("exceptions", "-p", str(eur_project), "--format", "csv").stdout)))
    assert (table[0]["impact"], table[0]["original_amount"], table[0]["original_currency"]) == (
        "10800.00", "10000.00", "EUR")
    people = invoke("exceptions", "-p", str(eur_project)).stdout
    assert "10,800.00 USD" in people and "10,000.00 EUR" in people and "Original" in people
    shown = invoke("show", found[0]["id"], "-p", str(eur_project))
    assert shown.exit_code == 0, shown.output
    assert "impact 10,800.00 USD (10,000.00 EUR)" in shown.output
    story = json.loads(invoke("show", found[0]["id"], "-p", str(eur_project), "--format", "json").stdout,
                       parse_float=Decimal)
    assert story["exception"]["original_amount"] == Decimal("10000.00")
    assert [(x["impact"], x["original_amount"], x["original_currency"]) for x in story["episodes"]] == [
        (Decimal("10800.00"), Decimal("10000.00"), "EUR")]


def test_the_daily_report_shows_both_amounts(eur_project: Path) -> None:
    run_days(eur_project, "2026-01-31")
    report = json.loads(invoke("report", "daily", "-p", str(eur_project), "--format", "json").stdout,
                        parse_float=Decimal)
    (new,) = [i for team in report["teams"] for i in team["new"]]
    assert (new["impact"], new["original_amount"], new["original_currency"]) == (
        Decimal("10800.00"), Decimal("10000.00"), "EUR")
    md = invoke("report", "daily", "-p", str(eur_project), "--format", "md").stdout
    assert "| Impact | Original amount |" in md
    assert "| 10,800.00 | 10,000.00 EUR |" in md
    html = invoke("report", "daily", "-p", str(eur_project), "--format", "html").stdout
    assert "10,000.00 EUR" in html
    pack = invoke("report", "monthly", "-p", str(eur_project), "--period", "2026-01", "--format", "md").stdout
    assert "| 10,800.00 | 10,000.00 EUR |" in pack.split("Exceptions open on 2026-01-31")[1]


def test_excel_writes_the_original_as_a_number_in_its_currency(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    project = new_project(tmp_path / "xlsx", {
        "2026-01-31": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("1500000", "JPY")}},
        "fx_rates: {JPY: 0.0067}\n")
    run_days(project, "2026-01-31")
    out = tmp_path / "daily.xlsx"
    assert invoke("report", "daily", "-p", str(project), "--format", "xlsx", "-o", str(out)).exit_code == 0
    cells = [c for ws in load_workbook(out) for row in ws.iter_rows() for c in row]
    (yen,) = [c for c in cells if c.number_format == '#,##0 "JPY"']
    assert yen.value == 1500000
    assert any(c.value == Decimal("10050") and c.number_format == '#,##0.00 "USD"' for c in cells)


def test_a_notification_line_names_both_amounts() -> None:
    from tieout.notify.ledger import line
    from tieout.reports.data import Item

    item = Item(id="e1", rule="BILLING_ACTIVE_CRM_INACTIVE", canonical_id="ACME", source_system=None,
                source_id=None, field=None, severity="P2", impact=Decimal("10800.0000"), team="ar",
                classification="pending", first_seen=date(2026, 1, 31), last_seen=date(2026, 1, 31),
                resolved_on=None, episode=1, age_days=0, original_amount=Decimal("10000.0000"),
                original_currency="EUR")
    assert "ACME: 10,800.00 USD (10,000.00 EUR) at risk" in line(item, "USD")


def test_a_project_in_one_currency_shows_no_original_column(tmp_path: Path) -> None:
    project = new_project(tmp_path / "usd", {"2026-01-31": {"crm_contracts.csv": NO_CONTRACT}})
    run_days(project, "2026-01-31")
    assert money_of(exceptions_json(project)) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10000.00"), "USD", None, None)]
    assert "Original" not in invoke("exceptions", "-p", str(project)).stdout
    assert "Original amount" not in invoke("report", "daily", "-p", str(project), "--format", "md").stdout


def test_zero_and_three_decimal_currencies_convert_exactly(tmp_path: Path) -> None:
    project = new_project(tmp_path / "jpy", {
        "2026-01-31": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("1500000", "JPY")},
        "2026-02-01": {"crm_contracts.csv": NO_CONTRACT,
                       "billing_invoices.csv": invoice("3000.125", "KWD", FEBRUARY)},
    }, "fx_rates: {JPY: 0.0067, KWD: 3.26}\n")
    run_days(project, "2026-01-31", "2026-02-01")
    # 1,500,000 × 0.0067 = 10,050 to the cent; 3,000.125 × 3.26 = 9,780.4075, every digit kept
    assert money_of(exceptions_json(project, "--as-of", "2026-01-31")) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10050.00"), "USD", Decimal("1500000"), "JPY")]
    assert money_of(exceptions_json(project, "--as-of", "2026-02-01")) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("9780.4075"), "USD", Decimal("3000.125"), "KWD")]
    yen = invoke("exceptions", "-p", str(project), "--as-of", "2026-01-31").stdout
    assert "1,500,000 JPY" in yen and "1,500,000.00 JPY" not in yen and "10,050.00 USD" in yen
    dinar = invoke("exceptions", "-p", str(project)).stdout
    assert "3,000.125 KWD" in dinar and "9,780.4075 USD" in dinar


def test_a_contract_in_another_currency(tmp_path: Path) -> None:
    # A live EUR contract and no invoice: a month of the contract (120,000 / 12 EUR) at 1.08.
    project = new_project(tmp_path / "crm", {"2026-01-31": {
        "crm_contracts.csv": H["crm_contracts.csv"].replace(",USD,", ",EUR,"),
        "billing_invoices.csv": invoice("10000.00", "USD", "2025-01-01,2025-01-31")}}, "fx_rates: {EUR: 1.08}\n")
    run_days(project, "2026-01-31")
    assert money_of(exceptions_json(project, "--rule", "CRM_ACTIVE_BILLING_INACTIVE")) == [
        ("CRM_ACTIVE_BILLING_INACTIVE", Decimal("10800.00"), "USD", Decimal("10000.00"), "EUR")]


def test_invoices_in_several_currencies_have_no_single_original(tmp_path: Path) -> None:
    two = (invoice("10000.00", "EUR")
           + "in_2,cus_1,2026-01-01,2026-01-31,2026-01-01,paid,500.00,USD,0,2026-01-20T23:00:00Z\n")
    project = new_project(tmp_path / "mixed", {"2026-01-31": {"crm_contracts.csv": NO_CONTRACT,
                                                              "billing_invoices.csv": two}}, "fx_rates: {EUR: 1.08}\n")
    run_days(project, "2026-01-31")
    assert money_of(exceptions_json(project, "--rule", "BILLING_ACTIVE_CRM_INACTIVE")) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("11300.00"), "USD", None, None)]


def test_a_day_before_a_currencys_first_rate_is_refused(eur_project: Path) -> None:
    (eur_project / "exports" / "2026-01-31").rename(eur_project / "exports" / "2025-12-31")
    result = invoke("run", "-p", str(eur_project), "--as-of", "2025-12-31")
    assert result.exit_code == 4
    assert ("billing_invoices.csv, row 2, column 'currency': 'EUR': tieout.yml's fx_rates.EUR has no rate in effect "
            "on 2025-12-31 (its first rate is from 2026-01-01; add a rate from a date on or before 2025-12-31)"
            ) in " ".join(result.output.split())
    assert not (eur_project / ".tieout").exists()


def test_an_amount_field_that_differs_between_systems_in_one_currency(tmp_path: Path) -> None:
    # The CRM's contract says 12,000 EUR, billing's invoice 10,000 EUR: 2,000 EUR apart, 2,160 USD at 1.08.
    project = new_project(tmp_path / "owned", {"2026-01-31": {
        "crm_contracts.csv": H["crm_contracts.csv"].replace("120000.00,USD", "12000.00,EUR"),
        "billing_invoices.csv": invoice("10000.00", "EUR")}}, "fx_rates: {EUR: 1.08}\n")
    (project / "ownership.yml").write_text(
        "fields:\n  agreed_value:\n    kind: amount\n"
        "    held_in: {crm: contracts.annual_value, billing: invoices.amount}\n    owner: crm\n")
    run_days(project, "2026-01-31")
    assert money_of(exceptions_json(project, "--rule", "OWNED_FIELD_MISMATCH")) == [
        ("OWNED_FIELD_MISMATCH", Decimal("2160.00"), "USD", Decimal("2000.00"), "EUR")]


def test_a_users_rule_may_report_an_original_amount(tmp_path: Path) -> None:
    project = new_project(tmp_path / "rule", {"2026-01-31": {}}, "fx_rates: {EUR: 1.08}\n")
    (project / "rules").mkdir()
    (project / "rules" / "FOREIGN.yml").write_text("description: x\nteam: ar\n")
    (project / "rules" / "FOREIGN.sql").write_text(
        "SELECT canonical_id, 108 AS impact, 100 AS original_amount, 'eur' AS original_currency FROM entities\n"
        "UNION ALL SELECT 'NOT_A_CODE', 1, 1, 'euro'\n"
        "UNION ALL SELECT 'SAME', 5, 5, 'USD'")
    run_days(project, "2026-01-31")
    got = {e["canonical_id"]: (e["original_amount"], e["original_currency"])
           for e in exceptions_json(project, "--rule", "FOREIGN")}
    # kept when it is a currency code other than the reporting currency
    assert got == {"ACME": (Decimal("100.00"), "EUR"), "NOT_A_CODE": (None, None), "SAME": (None, None)}


# --- the web interface -----------------------------------------------------------------------------------------


def test_the_web_queue_and_exception_page_show_the_original(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tieout.web.app import create_app

    project = new_project(tmp_path / "web", {
        "2026-01-31": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("3000.125", "KWD")}},
        "fx_rates: {KWD: 3.26}\n")
    run_days(project, "2026-01-31")
    (e,) = exceptions_json(project)
    with TestClient(create_app(load_project(project), auth=False)) as client:
        queue = client.get("/").text
        page = client.get(f"/exceptions/{e['id']}").text
        entity = client.get("/entities/ACME").text
        api = client.get("/api/exceptions").json()
    for html in (queue, page, entity):
        assert "USD 9,780.4075" in html and "KWD 3,000.125" in html
    assert "KWD 3,000.125" in page.split("Records side by side")[1]  # the invoice itself, in its currency
    assert (api[0]["original_amount"], api[0]["original_currency"]) == (3000.125, "KWD")


# --- days stored before the original amount was kept ---------------------------------------------------------


def _strip_added_columns(project: Path) -> int:
    """Rewrite every stored day file as a tieout before this change wrote it: without the added columns — and,
    as that tieout, without the stored timeline and ownership breaks that came after them (the manifest names
    none, so readers derive from the day files)."""
    stripped = 0
    folder = days_dir(load_project(project))
    for path in folder.glob("*.parquet"):
        if DAY_FILE.match(path.name):
            table = pq.read_table(path)
            pq.write_table(table.drop_columns([c for c in ADDED_COLUMNS if c in table.column_names]), path)
            stripped += 1
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({k: v for k, v in manifest.items()
                                               if k not in ("episodes", "ownership")}))
    return stripped


def test_days_stored_without_the_new_columns_still_read(tmp_path: Path) -> None:
    project = new_project(tmp_path / "old", {
        "2026-01-30": {"crm_contracts.csv": NO_CONTRACT},
        "2026-01-31": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("10000.00", "EUR")},
        "2026-02-01": {"crm_contracts.csv": NO_CONTRACT, "billing_invoices.csv": invoice("10000.00", "USD", FEBRUARY)},
    }, "fx_rates: {EUR: 1.08}\n")
    run_days(project, "2026-01-30")
    assert _strip_added_columns(project) >= 2  # the day's changes and the checkpoint
    old = exceptions_json(project)
    assert money_of(old) == [("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10000.00"), "USD", None, None)]
    # A new day after the old one: its changes are taken against the old checkpoint.
    run_days(project, "2026-02-01")
    _strip_added_columns(project)
    # A day between them: the next day's changes are rebuilt from a mix of old and new files.
    run_days(project, "2026-01-31")
    assert money_of(exceptions_json(project, "--as-of", "2026-01-31")) == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10800.00"), "USD", Decimal("10000.00"), "EUR")]
    assert money_of(exceptions_json(project)) == money_of(old)
    assert exceptions_json(project, "--as-of", "2026-01-30") == old
    assert [e["first_seen"] for e in exceptions_json(project)] == ["2026-01-30"]
    for args in (("report", "daily"), ("report", "monthly", "--period", "2026-01"), ("timeline",)):
        result = invoke(*args, "-p", str(project), "--format", "json")
        assert result.exit_code == 0, (args, result.output)
    assert invoke("show", old[0]["id"], "-p", str(project)).exit_code == 0


def test_the_currencies_example_of_docs_reports_md_loads(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text()
    example = re.search(r"## Currencies.*?```yaml\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    (tmp_path / "tieout.yml").write_text(MINIMAL + example)
    project = load_project(tmp_path)
    assert project.fx_rate("EUR", on=date(2026, 1, 31)) == Decimal("1.08")
    assert project.fx_rate("EUR", on=date(2026, 2, 1)) == Decimal("1.10")
    assert project.fx_rate("JPY", on=date(2026, 2, 1)) == Decimal("0.0067")
