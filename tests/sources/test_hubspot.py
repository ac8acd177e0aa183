"""The `hubspot` CRM format (contract §3b): companies and deals as a loader lands them, from files or a database.

The realdata tables (`../shared/realdata/hubspot/`, Fivetran's) are read in place: their bytes are copied at
test time into a temporary day folder under the names a project uses, never into the repository. Their deals
have no stage and no company association, so as they are they hold no contract; a second test gives three of
them a real stage of the realdata stage table and a company. A generated world rendered as HubSpot's tables
reads into exactly the standard layout's tables.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SHARED, invoke, new_project
from tests.sources.hubspot_shape import HUBSPOT, render_hubspot
from tieout.config import load_project
from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world
from tieout.errors import InputError
from tieout.sources.layout import BY_TABLE
from tieout.sources.read import read_day, read_table

DAY = "2026-01-20"
REALDATA = SHARED / "realdata" / "hubspot"
TABLES = ("company", "deal", "deal_company", "deal_pipeline_stage")
needs_realdata = pytest.mark.skipif(not (REALDATA / "fivetran_company_data.csv").is_file(),
                                    reason=f"the realdata HubSpot tables are not at {REALDATA}")


def _hubspot_project(root: Path, days: list[str], yml: str = HUBSPOT, render=render_hubspot) -> Path:  # type: ignore[no-untyped-def]
    new_project(root, dict.fromkeys(days, {}), yml)
    for day in days:
        folder = root / "exports" / day
        render(folder, folder / "hubspot")
        for name in ("crm_accounts.csv", "crm_contracts.csv"):
            (folder / name).unlink()
    return root


def _tables(root: Path, day: str = DAY) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(day))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("crm_accounts", "crm_contracts")}


def _read(root: Path, table: str, day: str = DAY) -> list[tuple[object, ...]]:
    """One standard table read alone."""
    con = duckdb.connect()
    project = load_project(root)
    as_of = date.fromisoformat(day)
    read_table(con, project, BY_TABLE[table], project.export_dir(as_of), as_of)
    return con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _refusal(root: Path, table: str = "crm_contracts") -> InputError:
    with pytest.raises(InputError) as caught:
        _read(root, table)
    return caught.value


# --- a generated world -------------------------------------------------------------------------------------------

def test_a_generated_world_as_hubspot_tables_reads_as_the_standard_layout(tmp_path: Path) -> None:
    world = tmp_path / "world"
    generate_world(world, companies=MIN_COMPANIES, days=MIN_DAYS)
    vendor = tmp_path / "vendor"
    days = ["2026-01-01", "2026-02-01", "2026-03-01"]
    _hubspot_project(vendor, [])
    for day in days:
        folder = vendor / "exports" / day
        folder.mkdir(parents=True)
        render_hubspot(world / "exports" / day, folder / "hubspot")
        for name in ("billing_customers.csv", "billing_invoices.csv", "ops_tenants.csv", "ops_usage.csv"):
            (folder / name).write_bytes((world / "exports" / day / name).read_bytes())
    for day in days:
        standard = _tables(world, day)
        assert standard["crm_contracts"] and {c[2] for c in standard["crm_contracts"]} >= {"active", "expired"}
        assert _tables(vendor, day) == standard


def test_a_healthy_day_from_hubspot_tables_raises_nothing(tmp_path: Path) -> None:
    root = _hubspot_project(tmp_path / "p", [DAY])
    assert _tables(root) == _tables(new_project(tmp_path / "s", {DAY: {}}))
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


# --- the realdata tables -----------------------------------------------------------------------------------------

def _realdata_project(tmp_path: Path, edit=None) -> Path:  # type: ignore[no-untyped-def]
    def render(standard: Path, target: Path) -> None:
        target.mkdir(parents=True)
        for table in TABLES:
            (target / f"{table}.csv").write_bytes((REALDATA / f"fivetran_{table}_data.csv").read_bytes())
        if edit is not None:
            edit(target)

    return _hubspot_project(tmp_path / "p", [DAY], "sources:\n  crm:\n    format: hubspot\n", render)


@needs_realdata
def test_the_realdata_companies_read(tmp_path: Path) -> None:
    accounts = {a[0]: a for a in _read(_realdata_project(tmp_path), "crm_accounts")}
    assert len(accounts) == 24
    # names are hashed in the sample; the loader synced no domain, owner or modification time
    assert accounts["2182162682"] == ("2182162682", "4b2c13cca3eb58ee49bbddcf00417130", None, None, None, None)
    assert accounts["858780924"][1] == "8d4cacc32973fa43806d6e743a315e90"


@needs_realdata
def test_the_realdata_deals_are_on_no_company_so_the_day_holds_no_contract(tmp_path: Path) -> None:
    """Its deal_company rows name deals that are not in its deal table: no deal is anybody's contract, and a CRM
    without contracts is refused rather than read as a clean day."""
    root = _realdata_project(tmp_path)
    error = _refusal(root)
    assert Path(error.file).name == "deal.csv"
    assert "holds no live records" in str(error) and "associated with a company in deal_company" in str(error)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 4 and "deal.csv" in result.output
    assert not (root / ".tieout").exists()


@needs_realdata
def test_realdata_deals_on_a_company_take_their_stage_status(tmp_path: Path) -> None:
    """Three real deals given a real (opaque) stage of the realdata stage table and a real company."""
    won, open_, other = "/n0+plNHbWErNq8Ek+NM3g==", "hVXu1Iul7Cc7DcPuxQpOfg==", "B/OFEVwLVVUw4q7QB1Jffw=="

    def edit(target: Path) -> None:
        deals = (target / "deal.csv").read_text(encoding="utf-8")
        for deal, stage in (("1244495215", won), ("1075671446", open_), ("1077598754", other)):
            deals = deals.replace(f"{deal},false,,,", f"{deal},false,,{stage},")
        (target / "deal.csv").write_text(deals, encoding="utf-8")
        links = (target / "deal_company.csv").read_bytes()
        added = ["2182162682,1244495215,5,HUBSPOT_DEFINED", "2319384765,1075671446,341,HUBSPOT_DEFINED",
                 "858780924,1077598754,5,HUBSPOT_DEFINED", "2182162682,1077598754,341,HUBSPOT_DEFINED"]
        # as the sample writes its lines: CRLF, the last one without
        (target / "deal_company.csv").write_bytes(b"\r\n".join([links.rstrip(b"\r\n"), *(a.encode() for a in added)]))

    contracts = _read(_realdata_project(tmp_path, edit), "crm_contracts")
    assert [c[:3] for c in contracts] == [("1075671446", "2319384765", "draft"),
                                          ("1077598754", "858780924", "draft"),
                                          ("1244495215", "2182162682", "active")]


# --- stages, domains, times, refusals ---------------------------------------------------------------------------

def _edited(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    def render(standard: Path, target: Path) -> None:
        render_hubspot(standard, target)
        edit(target)

    return _hubspot_project(tmp_path / "p", [DAY], HUBSPOT, render)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_project_maps_its_own_stage_ids(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: _replace(t / "deal.csv", ",closedwon,", ",Hlo/won==,"))
    assert _read(root, "crm_contracts")[0][2] == "active"
    yml = HUBSPOT.replace("{contractexpired: expired}", "{contractexpired: expired, Hlo/won==: draft}")
    (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n" + yml)
    assert _read(root, "crm_contracts")[0][2] == "draft"


def test_a_stage_the_stage_table_does_not_hold_is_refused(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: _replace(t / "deal.csv", ",closedwon,", ",nosuchstage,"))
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("deal.csv", 2, "deal_pipeline_stage_id")
    assert "'nosuchstage' is not one of closedwon" in str(error) and "a stage_id of deal_pipeline_stage" in str(error)


def test_a_deal_without_a_stage_is_refused(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: _replace(t / "deal.csv", ",closedwon,", ",,"))
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("deal.csv", 2, "deal_pipeline_stage_id")
    assert "a value is required" in str(error)


def test_the_first_additional_domain_stands_in_for_a_missing_main_one(tmp_path: Path) -> None:
    def edit(target: Path) -> None:
        _replace(target / "company.csv", "Acme Analytics Inc.,acme.com,,",
                 "Acme Analytics Inc.,, www.acme.com ;acme-analytics.example,")

    assert _read(_edited(tmp_path, edit), "crm_accounts")[0][2] == "acme.com"


def test_an_unparsable_time_is_refused_with_its_row_and_column(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: _replace(t / "company.csv", ",2026-01-20 23:00:00", ",yesterday"))
    error = _refusal(root, "crm_accounts")
    assert (Path(error.file).name, error.row, error.column) == ("company.csv", 2, "property_hs_lastmodifieddate")
    assert "'yesterday' is not an ISO 8601 date and time" in str(error) and "unix milliseconds" in str(error)


def test_a_missing_association_table_column_is_refused(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: _replace(t / "deal_company.csv", "company_id,", "companyid,"))
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("deal_company.csv", 1, "companyid")
    assert "missing column 'company_id' (read for crm_contracts)" in str(error)


def test_a_broken_association_file_is_named(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: (t / "deal_company.csv").write_text("company_id,deal_id,type_id\n1,K1,5\n4,5\n"))
    error = _refusal(root)
    assert (Path(error.file).name, error.row) == ("deal_company.csv", 3)
    assert "missing columns (2 cells where the header has 3)" in str(error)


def test_a_missing_stage_table_is_refused(tmp_path: Path) -> None:
    root = _edited(tmp_path, lambda t: (t / "deal_pipeline_stage.csv").unlink())
    error = _refusal(root)
    assert Path(error.file).name == "deal_pipeline_stage.csv" and "missing" in str(error)


# --- through a database (`url:`) ---------------------------------------------------------------------------------

def test_the_realdata_tables_read_through_a_warehouse_url(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The same tables as a loader lands them in PostgreSQL (the `warehouse_url` fixture of branch sqlsrc's
    tests/sources/conftest.py): the companies read as from the files, and the deals (on no company) give no
    contract."""
    try:
        url = request.getfixturevalue("warehouse_url")
    except pytest.FixtureLookupError:
        pytest.skip("the warehouse_url fixture (tests/sources/conftest.py, branch sqlsrc) is not here yet")
    if not (REALDATA / "fivetran_company_data.csv").is_file():
        pytest.skip(f"the realdata HubSpot tables are not at {REALDATA}")
    files = _read(_realdata_project(tmp_path / "files"), "crm_accounts")
    root = new_project(tmp_path / "db", {DAY: {}}, f"sources:\n  crm:\n    format: hubspot\n    url: '{url}'\n")
    assert _read(root, "crm_accounts") == files
    error = _refusal(root)
    assert "hubspot.deal" in str(error) and "holds no live records" in str(error)
