"""The `salesforce` CRM format (contract §3b): Data Loader extracts read onto the standard layout.

The realdata samples (`../shared/realdata/salesforce/`, latin-1, Account and Opportunity) are read in place:
their bytes are copied at test time into a temporary day folder under the names a project uses, never into
the repository. A generated world rendered in the Data Loader's shape reads into exactly the standard layout's
tables and reconciles to exactly its findings.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SHARED, invoke, new_project, tree_digest
from tieout.config import load_project
from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world
from tieout.errors import InputError
from tieout.ingest import resolve_day
from tieout.sources.formats.salesforce import id18
from tieout.sources.read import read_day

DAY = "2026-01-20"
REALDATA = SHARED / "realdata" / "salesforce"
ACCOUNT_HEADER = ["ID", "ISDELETED", "MASTERRECORDID", "NAME", "WEBSITE", "OWNERID", "TAX_ID__C", "LASTMODIFIEDDATE"]
CONTRACT_HEADER = ["ID", "ISDELETED", "ACCOUNTID", "STATUS", "STARTDATE", "ENDDATE", "CURRENCYISOCODE",
                   "ANNUAL_VALUE__C", "SEATS__C", "LASTMODIFIEDDATE"]
# The contract's example: the org's custom fields.
SALESFORCE = """\
sources:
  crm:
    format: salesforce
    path: salesforce
    encoding: {encoding}
    fields:
      crm_accounts.tax_id: TAX_ID__C
      crm_contracts.annual_value: ANNUAL_VALUE__C
      crm_contracts.contracted_fte: SEATS__C
"""
needs_realdata = pytest.mark.skipif(not (REALDATA / "dataloader_accountData.csv").is_file(),
                                    reason=f"the realdata Salesforce samples are not at {REALDATA}")


# --- writing Data Loader extracts ------------------------------------------------------------------------------

def dataloader(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """A Data Loader CSV: every cell quoted, CRLF line ends."""
    return "".join(",".join('"' + v.replace('"', '""') + '"' for v in row) + "\r\n" for row in rows).encode(encoding)


def sf_time(timestamp: str) -> str:
    """A standard ISO 8601 timestamp as Salesforce writes it: 2026-01-20T23:00:00.000Z."""
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(timestamp).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def short(record_id: str, index: int) -> str:
    """Every other id in its 15-character form, where its suffix is the true case checksum."""
    return record_id[:15] if index % 2 and id18(record_id[:15]) == record_id else record_id


STATUS_SPELLINGS = {"active": ["Activated"], "draft": ["Draft", "In Approval Process"], "expired": ["Expired"],
                    "cancelled": ["Cancelled", "Terminated"]}


def render_crm(standard: Path, target: Path, *, deleted: bool = True) -> None:
    """A standard day's CRM files as Data Loader extracts (Account.csv, Contract.csv) in `target`, with ids in
    both forms, every contract status spelling, WEBSITE URLs in several shapes and, if `deleted`, a deleted
    account and contract that are no live records."""
    accounts = list(csv.DictReader(io.StringIO((standard / "crm_accounts.csv").read_text(encoding="utf-8"))))
    contracts = list(csv.DictReader(io.StringIO((standard / "crm_contracts.csv").read_text(encoding="utf-8"))))
    websites = ["https://www.{}/", "http://{}", "{}", "https://{}/about?x=1", "HTTPS://WWW.{}"]
    rows = [ACCOUNT_HEADER] + [
        [short(a["account_id"], i), "false", "", a["legal_name"],
         websites[i % len(websites)].format(a["domain"]) if a["domain"] else "", a["owner"], a["tax_id"],
         sf_time(a["updated_at"])] for i, a in enumerate(accounts)]
    if deleted:
        rows.append(["001x0000009ZZZZAAA", "true", "", "Deleted Corp", "https://deleted.example", "005x00000000001",
                     "", "2026-01-02T00:00:00.000Z"])
    target.mkdir(parents=True, exist_ok=True)
    (target / "Account.csv").write_bytes(dataloader(rows))
    rows = [CONTRACT_HEADER] + [
        [short(c["contract_id"], i + 1), "false", short(c["account_id"], i),
         (spellings := STATUS_SPELLINGS[c["status"].lower()])[i % len(spellings)], c["start_date"], c["end_date"],
         c["currency"], c["annual_value"], c["contracted_fte"], sf_time(c["updated_at"])]
        for i, c in enumerate(contracts)]
    if deleted:
        rows.append(["800x0000009ZZZZAAA", "true", "001x0000009ZZZZAAA", "Bogus", "", "", "", "", "",
                     "2026-01-02T00:00:00.000Z"])
    (target / "Contract.csv").write_bytes(dataloader(rows))


def _sf_project(root: Path, days: list[str], yml: str = SALESFORCE.format(encoding="utf-8"),
                render=render_crm) -> Path:  # type: ignore[no-untyped-def]
    new_project(root, dict.fromkeys(days, {}), yml)
    for day in days:
        folder = root / "exports" / day
        render(folder, folder / "salesforce")
        for name in ("crm_accounts.csv", "crm_contracts.csv"):
            (folder / name).unlink()
    return root


def _tables(root: Path, day: str = DAY, tables: tuple[str, ...] = ("crm_accounts", "crm_contracts")
            ) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(day))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def _refusal(root: Path, day: str = DAY) -> InputError:
    with pytest.raises(InputError) as caught:
        read_day(duckdb.connect(), load_project(root), date.fromisoformat(day))
    return caught.value


# --- a generated world in the Data Loader's shape --------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("world")
    generate_world(root, companies=MIN_COMPANIES, days=MIN_DAYS)
    return root


def _vendor_world(world: Path, root: Path) -> Path:
    """A copy of `world` whose CRM is Salesforce Data Loader extracts."""
    import shutil

    shutil.copytree(world, root)
    with (root / "tieout.yml").open("a", encoding="utf-8") as f:
        f.write(SALESFORCE.format(encoding="utf-8"))
    for folder in sorted((root / "exports").iterdir()):
        render_crm(folder, folder / "salesforce")
        for name in ("crm_accounts.csv", "crm_contracts.csv"):
            (folder / name).unlink()
    return root


def test_a_generated_world_in_data_loader_shape_reads_as_the_standard_layout(world: Path, tmp_path: Path) -> None:
    vendor = _vendor_world(world, tmp_path / "vendor")
    for day in ("2026-01-01", "2026-02-01", "2026-03-01"):
        standard = _tables(world, day)
        assert standard["crm_accounts"] and standard["crm_contracts"]
        assert _tables(vendor, day) == standard


# --- the realdata samples ----------------------------------------------------------------------------------------

def _realdata_project(tmp_path: Path, encoding: str) -> Path:
    """The realdata Account and Opportunity extracts as one day's salesforce/ folder (no Contract.csv)."""
    yml = f"sources:\n  crm:\n    format: salesforce\n    encoding: {encoding}\n"
    root = new_project(tmp_path / "p", {DAY: {}}, yml)
    folder = root / "exports" / DAY
    for name in ("crm_accounts.csv", "crm_contracts.csv"):
        (folder / name).unlink()
    (folder / "salesforce").mkdir()
    (folder / "salesforce" / "Account.csv").write_bytes((REALDATA / "dataloader_accountData.csv").read_bytes())
    (folder / "salesforce" / "Opportunity.csv").write_bytes(
        (REALDATA / "dataloader_opportunityData.csv").read_bytes())
    return root


def _by_id(rows: list[tuple[object, ...]]) -> dict[object, tuple[object, ...]]:
    return {r[0]: r for r in rows}


@needs_realdata
def test_the_realdata_latin1_accounts_and_opportunities_read(tmp_path: Path) -> None:
    tables = _tables(_realdata_project(tmp_path, "latin-1"))
    accounts, contracts = _by_id(tables["crm_accounts"]), _by_id(tables["crm_contracts"])
    assert (len(accounts), len(contracts)) == (423, 38)
    # latin-1 decoded: é and ó are letters, not replacement characters
    assert accounts["001x0000002xLDgAAM"][1] == "Crédito Inmobiliario Terras"
    assert accounts["001x0000002xLHlAAM"][1] == "Pébéo of America"
    assert accounts["001x0000002xLChAAM"][1] == "RHL Associates, LLC"
    # WEBSITE is a URL: the domain is its host
    assert accounts["001x0000002lBtoAAE"][1:3] == ("Acme", "acme.com")
    assert accounts["001x0000002lBtnAAE"][2] == "globalmedia.com"
    assert accounts["001x0000002xLCVAA2"][4] == "005x0000000fNSiAAM"
    assert accounts["001x0000002xLCVAA2"][5] == datetime(2006, 4, 15, 3, 28, 53)
    # Without a Contract.csv the opportunities are the contracts: won = active, open = draft
    won = contracts["006x0000001YtCrAAK"]
    assert won[1:6] == ("001x0000002xLD0AAM", "active", date(2005, 11, 9), None, 500000)
    assert contracts["006x0000001YtCtAAK"][2] == "draft"
    statuses = [c[2] for c in contracts.values()]
    assert (statuses.count("active"), statuses.count("draft")) == (8, 30)
    assert {c[1] for c in contracts.values()} <= set(accounts)


@needs_realdata
def test_the_realdata_in_a_python_codec_reads_the_same(tmp_path: Path) -> None:
    """Windows-1252 is decoded in Python (DuckDB's reader knows UTF-8 and latin-1 only); the sample's bytes
    are the same letters in both codecs."""
    latin1 = _tables(_realdata_project(tmp_path / "latin1", "latin-1"))
    assert _tables(_realdata_project(tmp_path / "cp1252", "cp1252")) == latin1
    assert _tables(_realdata_project(tmp_path / "iso", "ISO-8859-1")) == latin1


@needs_realdata
def test_the_realdata_read_as_utf8_is_refused_with_a_hint_about_encoding(tmp_path: Path) -> None:
    root = _realdata_project(tmp_path, "utf-8")
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("Account.csv", 87, "NAME")
    assert "not UTF-8" in str(error) and "`encoding:`" in str(error)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 4 and "Account.csv, row 87, column 'NAME'" in result.output
    assert not (root / ".tieout").exists()


@needs_realdata
def test_the_realdata_day_reconciles(tmp_path: Path) -> None:
    root = _realdata_project(tmp_path, "latin-1")
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output


# --- encodings -------------------------------------------------------------------------------------------------

def _one_account(tmp_path: Path, name: bytes, encoding: str) -> Path:
    """The healthy day with its CRM as Data Loader extracts, the account's NAME written as `name` bytes."""
    def render(standard: Path, target: Path) -> None:
        render_crm(standard, target, deleted=False)
        data = (target / "Account.csv").read_bytes()
        (target / "Account.csv").write_bytes(data.replace(b"Acme Analytics Inc.", name))

    return _sf_project(tmp_path / "p", [DAY], SALESFORCE.format(encoding=encoding), render)


def test_a_windows_1252_export_reads_its_curly_quotes_and_euro_sign(tmp_path: Path) -> None:
    name = "“Acme” Analytics € Inc."
    root = _one_account(tmp_path, name.encode("cp1252"), "cp1252")
    assert _tables(root)["crm_accounts"][0][1] == name


def test_a_byte_a_codec_has_no_character_for_is_refused_with_its_row_and_column(tmp_path: Path) -> None:
    root = _one_account(tmp_path, b"Acme \x81 Inc.", "cp1252")
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("Account.csv", 2, "NAME")
    assert "0x81: not cp1252" in str(error) and "`encoding:`" in str(error)


def test_windows_1252_bytes_read_as_latin1_are_refused_with_a_hint(tmp_path: Path) -> None:
    root = _one_account(tmp_path, "“Acme”".encode("cp1252"), "latin-1")
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("Account.csv", 2, "NAME")
    assert "byte 0x93" in str(error) and "encoding: cp1252" in str(error)


def test_a_truncated_record_in_a_python_decoded_file_is_refused_with_its_row(tmp_path: Path) -> None:
    def render(standard: Path, target: Path) -> None:
        render_crm(standard, target, deleted=False)
        data = (target / "Contract.csv").read_bytes()
        (target / "Contract.csv").write_bytes(data[: data.rindex(b'","')] + b'"\r\n')

    root = _sf_project(tmp_path / "p", [DAY], SALESFORCE.format(encoding="cp1252"), render)
    error = _refusal(root)
    assert (Path(error.file).name, error.row) == ("Contract.csv", 2)
    assert "missing columns (9 cells where the header has 10)" in str(error)


def test_a_bad_value_in_a_python_decoded_file_is_named_by_row_and_column(tmp_path: Path) -> None:
    def render(standard: Path, target: Path) -> None:
        render_crm(standard, target)
        data = (target / "Contract.csv").read_bytes()
        (target / "Contract.csv").write_bytes(data.replace(b'"2025-06-01"', b'"01/06/2025"', 1))

    error = _refusal(_sf_project(tmp_path / "p", [DAY], SALESFORCE.format(encoding="cp1252"), render))
    assert (Path(error.file).name, error.row, error.column) == ("Contract.csv", 2, "STARTDATE")
    assert "'01/06/2025' is not a date" in str(error)


# --- ids, statuses, deleted rows ---------------------------------------------------------------------------------

ACME = "001x0000002xLCVAA2"  # a real 18-character id; its 15-character form is 001x0000002xLCV


def _acme_day(tmp_path: Path, account_id: str, map_id: str, extra_map: str = "",
              accounts: list[list[str]] | None = None) -> Path:
    """The healthy day with a Salesforce CRM whose account is `account_id` and whose map names `map_id`."""
    def render(standard: Path, target: Path) -> None:
        target.mkdir(parents=True)
        (target / "Account.csv").write_bytes(dataloader([ACCOUNT_HEADER, [
            account_id, "false", "", "Acme Analytics Inc.", "https://www.acme.com", "005x0000000fNSi",
            "12-3456789", "2026-01-20T23:00:00.000Z"], *(accounts or [])]))
        (target / "Contract.csv").write_bytes(dataloader([CONTRACT_HEADER, [
            "800x0000000K1AA", "false", account_id, "Activated", "2025-06-01", "", "USD", "120000.00", "50",
            "2026-01-20T23:00:00.000Z"]]))

    root = _sf_project(tmp_path / "p", [DAY], render=render)
    (root / "entity_map.csv").write_text(
        "canonical_id,source_system,source_id,effective_from,effective_to,notes\n"
        f"ACME,crm,{map_id},2025-01-01,,\nACME,billing,cus_1,2025-01-01,,\nACME,ops,t-1,2025-01-01,,\n" + extra_map)
    return root


def _records(root: Path) -> list[tuple[object, ...]]:
    con, _ = resolve_day(load_project(root), date.fromisoformat(DAY))
    return con.sql("SELECT source_id, canonical_id, resolved_by FROM source_records WHERE source_system = 'crm'"
                   ).fetchall()


@pytest.mark.parametrize(("exported", "mapped"), [(ACME, ACME[:15]), (ACME[:15], ACME), (ACME[:15], ACME[:15])])
def test_15_and_18_character_ids_are_the_same_record(tmp_path: Path, exported: str, mapped: str) -> None:
    assert _records(_acme_day(tmp_path, exported, mapped)) == [(ACME, "ACME", "map")]
    tables = _tables(_acme_day(tmp_path / "again", exported, mapped))
    assert tables["crm_accounts"][0][0] == ACME and tables["crm_accounts"][0][4] == "005x0000000fNSiAAM"
    assert tables["crm_contracts"][0][:2] == (id18("800x0000000K1AA"), ACME)


def test_a_case_different_15_character_id_is_another_record(tmp_path: Path) -> None:
    """The checksum is what tells 001x0000002xLCV from 001X0000002XLCV: a different record."""
    assert _records(_acme_day(tmp_path, ACME, ACME[:15].upper()))[0][2] != "map"


def test_a_map_naming_one_record_in_both_forms_with_overlapping_ranges_is_refused(tmp_path: Path) -> None:
    root = _acme_day(tmp_path, ACME, ACME, extra_map=f"OTHER,crm,{ACME[:15]},2025-06-01,,\n")
    with pytest.raises(InputError) as caught:
        resolve_day(load_project(root), date.fromisoformat(DAY))
    error = caught.value
    assert (Path(error.file).name, error.row, error.column) == ("entity_map.csv", 5, "source_id")
    assert "the same salesforce record" in str(error)


def test_every_contract_status_spelling_maps_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    spellings = {"Activated": "active", "Draft": "draft", "In Approval Process": "draft", "Expired": "expired",
                 "Cancelled": "cancelled", "Terminated": "cancelled", " activated ": "active"}

    def render(standard: Path, target: Path, extra: str = "") -> None:
        render_crm(standard, target, deleted=False)
        rows = [CONTRACT_HEADER] + [[f"800x00000000{i:03d}AAA", "false", "001x0000009AAAAAAA", s, "2025-06-01", "",
                                     "", "", "", ""] for i, s in enumerate([*spellings, *([extra] if extra else [])])]
        (target / "Contract.csv").write_bytes(dataloader(rows))

    contracts = _tables(_sf_project(tmp_path / "p", [DAY], render=render))["crm_contracts"]
    assert [c[2] for c in sorted(contracts)] == list(spellings.values())
    error = _refusal(_sf_project(tmp_path / "q", [DAY], render=lambda s, t: render(s, t, "Pending")))
    assert (Path(error.file).name, error.row, error.column) == ("Contract.csv", 9, "STATUS")
    assert "'Pending' is not one of Activated" in str(error) and "statuses:" in str(error)


def test_a_missing_column_is_refused_naming_the_standard_column_it_feeds(tmp_path: Path) -> None:
    def render(standard: Path, target: Path) -> None:
        render_crm(standard, target)
        data = (target / "Account.csv").read_bytes()
        (target / "Account.csv").write_bytes(data.replace(b'"WEBSITE"', b'"WEB_SITE"', 1))

    root = _sf_project(tmp_path / "p", [DAY], render=render)
    before = tree_digest(root)
    error = _refusal(root)
    assert (Path(error.file).name, error.row, error.column) == ("Account.csv", 1, "WEB_SITE")
    assert "missing column 'WEBSITE' (read as crm_accounts.domain" in str(error)
    assert invoke("run", "-p", str(root), "--as-of", DAY).exit_code == 4
    assert tree_digest(root) == before


def test_a_healthy_day_from_data_loader_extracts_raises_nothing(tmp_path: Path) -> None:
    root = _sf_project(tmp_path / "p", [DAY])
    assert _tables(root)["crm_accounts"] == _tables(new_project(tmp_path / "s", {DAY: {}}))["crm_accounts"]
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


def test_opportunities_are_read_only_without_contracts_or_when_named(tmp_path: Path) -> None:
    opportunity = dataloader([
        ["ID", "ISDELETED", "ACCOUNTID", "STAGENAME", "AMOUNT", "CLOSEDATE", "ISCLOSED", "ISWON", "LASTMODIFIEDDATE"],
        ["006x0000001YtCr", "false", "A1", "Closed Won", "120000.0", "2025-06-01", "true", "true", ""],
        ["006x0000001YtCs", "false", "A1", "Closed Lost", "5.0", "2025-06-01", "true", "false", ""],
        ["006x0000001YtCt", "false", "A1", "Prospecting", "", "2026-06-01", "false", "false", ""],
        ["006x0000001YtCu", "false", "", "Prospecting", "", "2026-06-01", "false", "false", ""],  # on no account
        ["006x0000001YtCv", "true", "A1", "Closed Won", "", "2026-06-01", "true", "true", ""],  # deleted
    ])

    def render(standard: Path, target: Path) -> None:
        render_crm(standard, target)
        (target / "Opportunity.csv").write_bytes(opportunity)

    plain = "sources:\n  crm:\n    format: salesforce\n"
    both = _sf_project(tmp_path / "both", [DAY], plain, render=render)
    assert [c[0] for c in _tables(both)["crm_contracts"]] == ["K1"]  # Contract.csv wins
    (both / "exports" / DAY / "salesforce" / "Contract.csv").unlink()
    assert [c[:3] for c in _tables(both)["crm_contracts"]] == [
        ("006x0000001YtCrAAK", "A1", "active"), ("006x0000001YtCsAAK", "A1", "cancelled"),
        ("006x0000001YtCtAAK", "A1", "draft")]
    named = _sf_project(tmp_path / "named", [DAY], plain + "    tables:\n      crm_contracts: {file: Opportunity.csv, "
                        "statuses: {Closed Lost: expired}}\n", render)
    contracts = _tables(named)["crm_contracts"]
    assert [c[2] for c in contracts] == ["active", "expired", "draft"]
    assert [c[5] for c in contracts] == [120000, 5, None]


# --- merges --------------------------------------------------------------------------------------------------------

LOSER = "001x0000003AbCdAAK"  # 001x0000003AbCd: in the third chunk, A (bit 1) and C (bit 3) are upper case


def test_id18_is_the_checksum_salesforce_writes() -> None:
    assert id18("001x0000003AbCd") == LOSER
    assert id18("001x0000002xLCV") == ACME
    assert id18("800x0000000K1AA") == "800x0000000K1AAAA0"


def _merged_day(tmp_path: Path, survivor: str = ACME, loser_map: str = f"OLDCO,crm,{LOSER[:15]},2025-01-01,,\n"
                ) -> Path:
    loser = [LOSER, "true", survivor[:15], "ACME ANALYTICS", "acme.com", "005x0000000fNSi", "",
             "2026-01-15T10:00:00.000Z"]
    return _acme_day(tmp_path, ACME, ACME, extra_map=loser_map, accounts=[loser])


def test_a_merged_loser_is_no_live_record(tmp_path: Path) -> None:
    root = _merged_day(tmp_path)
    assert [a[0] for a in _tables(root)["crm_accounts"]] == [ACME]
    assert invoke("run", "-p", str(root), "--as-of", DAY).exit_code == 0
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


def test_a_merge_is_reported_as_proposed_map_rows_and_never_applied(tmp_path: Path) -> None:
    root = _merged_day(tmp_path)
    before = (root / "entity_map.csv").read_bytes()
    shown = invoke("entities", "-p", str(root), "--as-of", DAY)
    assert shown.exit_code == 0, shown.output
    assert "proposed from Salesforce merges" in shown.output and LOSER in shown.output
    result = invoke("entities", "propose", "-p", str(root), "--as-of", DAY, "--out", "proposed.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((root / "proposed.csv").open(encoding="utf-8")))
    merge = [r for r in rows if r["matched_on"] == "salesforce_merge"]
    assert [(r["canonical_id"], r["source_system"], r["source_id"], r["effective_from"], r["effective_to"])
            for r in merge] == [("OLDCO", "crm", LOSER, "2025-01-01", "2026-01-14"),
                                ("ACME", "crm", LOSER, "2026-01-15", "")]
    assert all(f"Salesforce merged {LOSER} into {ACME} on 2026-01-15" in r["notes"] for r in merge)
    assert (root / "entity_map.csv").read_bytes() == before  # proposed, not applied
    # Accepted, the rows make the map say what Salesforce did: nothing more is proposed.
    accepted = before.decode().replace(f"OLDCO,crm,{LOSER[:15]},2025-01-01,,\n", "") + "".join(
        f"{r['canonical_id']},crm,{r['source_id']},{r['effective_from']},{r['effective_to']},merged\n"
        for r in merge)
    (root / "entity_map.csv").write_text(accepted)
    assert "proposed from Salesforce merges" not in invoke("entities", "-p", str(root), "--as-of", DAY).output


def test_a_loser_already_in_the_survivors_entity_proposes_nothing(tmp_path: Path) -> None:
    root = _merged_day(tmp_path, loser_map=f"ACME,crm,{LOSER},2025-01-01,2026-01-14,merged\n")
    result = invoke("entities", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0 and "proposed from" not in result.output


def test_a_merge_into_an_unmapped_survivor_waits_for_its_mapping(tmp_path: Path) -> None:
    other = "001x0000004XyZwAAA"
    root = _merged_day(tmp_path, survivor=other)
    result = invoke("entities", "propose", "-p", str(root), "--as-of", DAY, "--out", "proposed.csv")
    assert result.exit_code == 0, result.output
    assert f"not written: proposed: Salesforce merged {LOSER} into {id18(other[:15])}" in result.output
    assert "map it first" in result.output
    assert not [r for r in csv.DictReader((root / "proposed.csv").open(encoding="utf-8"))
                if r["matched_on"] == "salesforce_merge"]


@needs_realdata
def test_sources_check_says_the_opportunities_are_the_contracts(tmp_path: Path) -> None:
    root = _realdata_project(tmp_path, "latin-1")
    result = invoke("sources", "check", "-p", str(root), "--as-of", DAY, "--format", "json")
    assert result.exit_code == 0, result.output
    contracts = next(t for t in json.loads(result.stdout)["tables"] if t["table"] == "crm_contracts")
    assert contracts["rows"] == 38
    assert "salesforce/Opportunity.csv" in contracts["read_from"] and "Contract" not in contracts["read_from"]
    status = next(c for c in contracts["columns"] if c["column"] == "status")
    assert status["read_from"] == ["STAGENAME", "ISWON", "ISCLOSED"]
