"""The malformed-export corpus (docs/security.md, "Exports"): byte-level and cell-level damage to every file of
the standard layout and to the entity map, each applied to a project that already holds a stored day.

Every case must be refused with exit code 4, a message naming the file, the row and — where one is meaningful
— the column, and not one byte changed under `.tieout/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import ENTITY_MAP, HEALTHY_DAY, invoke, new_project, run_days, tree_digest, write_day

pytestmark = pytest.mark.slow

STORED, NEXT = "2026-01-20", "2026-01-21"


class Case(NamedTuple):
    file: str  # a file of the day's export, or entity_map.csv
    content: bytes
    row: int | None
    column: str | None  # None where no column is meaningful (the whole file, a line too long)


def _healthy(name: str) -> bytes:
    return ENTITY_MAP.encode() if name == "entity_map.csv" else HEALTHY_DAY[name].encode()


def _sub(name: str, old: str | bytes, new: str | bytes) -> bytes:
    """The healthy `name` with its first `old` replaced by `new` (bytes allowed, for byte-level damage)."""
    data = _healthy(name)
    old_b = old.encode() if isinstance(old, str) else old
    new_b = new.encode() if isinstance(new, str) else new
    assert old_b in data, (name, old)
    return data.replace(old_b, new_b, 1)


def _add(name: str, row: str | bytes) -> bytes:
    """The healthy `name` with one more line (bytes allowed) after its last."""
    return _healthy(name) + (row.encode() if isinstance(row, str) else row)


ACC, CON, CUS, INV, TEN, USE, MAP = ("crm_accounts.csv", "crm_contracts.csv", "billing_customers.csv",
                                     "billing_invoices.csv", "ops_tenants.csv", "ops_usage.csv", "entity_map.csv")
TS = "2026-01-20T23:00:00Z"


def _cases() -> dict[str, Case]:
    c: dict[str, Case] = {}

    def case(name: str, file: str, content: bytes, row: int | None, column: str | None) -> None:
        assert name not in c, name
        c[name] = Case(file, content, row, column)

    # --- bytes and encodings --------------------------------------------------------------------------------
    case("truncated mid-row", ACC, _add(ACC, "A2,Foo Ltd"), 3, "domain")
    case("truncated mid-multibyte char", ACC, _add(ACC, "A2,Müller".encode()[:-5]), 3, "legal_name")
    case("latin-1 byte", ACC, _add(ACC, "A2,Müller GmbH,mueller.de,,bo,\n".encode("latin-1")), 3, "legal_name")
    case("overlong encoding of a slash", ACC, _sub(ACC, "Acme", b"Ac\xc0\xafme"), 2, "legal_name")
    case("overlong encoding of A", ACC, _sub(ACC, "Acme", b"\xc1\x81cme"), 2, "legal_name")
    case("UTF-16 surrogate in UTF-8", ACC, _sub(ACC, "Acme", b"A\xed\xa0\x80me"), 2, "legal_name")
    case("lone continuation byte", INV, _sub(INV, "cus_1,2026", b"cus\x80_1,2026"), 2, "customer_id")
    case("UTF-16 with BOM", ACC, HEALTHY_DAY[ACC].encode("utf-16"), 1, None)
    case("UTF-16 tenants", TEN, HEALTHY_DAY[TEN].encode("utf-16"), 1, None)
    case("BOM in the middle", ACC, _add(ACC, "\ufeffA2,Foo Ltd,foo.com,,bo,\n"), 3, "account_id")
    case("BOM inside a name", CUS, _sub(CUS, "Acme", "\ufeffAcme"), 2, "name")
    case("NUL in a name", ACC, _sub(ACC, "Acme", b"Ac\x00me"), 2, "legal_name")
    case("NUL in an id", ACC, _sub(ACC, "A1,", b"A\x001,"), 2, "account_id")
    case("NUL in a customer name", CUS, _sub(CUS, "Acme", b"Acme\x00"), 2, "name")
    case("NUL in a tenant id", USE, _sub(USE, "t-1,2026-01-20", b"t-\x001,2026-01-20"), 3, "tenant_id")
    case("NUL in a currency", INV, _sub(INV, ",USD,", b",US\x00,"), 2, "currency")
    case("escape sequence in owner", ACC, _sub(ACC, ",ana,", ",\x1b[31mana,"), 2, "owner")
    case("escape sequence in e-mail", CUS, _sub(CUS, "ap@acme.com", "ap@acme.com\x1b]0;x\x07"), 2, "email")
    case("bell in a domain", ACC, _sub(ACC, "acme.com", "acme\x07.com"), 2, "domain")
    case("DEL in a tax id", ACC, _sub(ACC, "12-3456789", "12-345\x7f6789"), 2, "tax_id")
    case("vertical tab in a display name", TEN, _sub(TEN, "acme-prod", "acme\x0bprod"), 2, "display_name")
    case("line break inside a quoted name", ACC, _add(ACC, 'A2,"Foo\nBar",foo.com,,bo,\n'), 3, "legal_name")
    # --- line endings and quoting ---------------------------------------------------------------------------
    case("CR-only line endings", ACC, _healthy(ACC).replace(b"\n", b"\r"), 1, "updated_at")
    case("CR-only usage", USE, _healthy(USE).replace(b"\n", b"\r"), 1, "fte_count")
    case("CRLF header, LF rows", ACC, _add(ACC, "A2,Foo Ltd,foo.com,,bo,\n").replace(b"\n", b"\r\n", 1), 2,
         "updated_at")
    case("LF header, a CRLF row", USE, _add(USE, "t-1,2026-01-18,40,50\r\n"), 4, "fte_count")
    case("stray CR inside a cell", ACC, _add(ACC, "A2,Foo\rLtd,foo.com,,bo,\n"), 3, "legal_name")
    case("unbalanced quote", ACC, _add(ACC, 'A2,"Foo Ltd,foo.com,,bo,\n'), 3, "legal_name")
    case("text after a closing quote", CUS, _add(CUS, 'cus_2,"Foo"Ltd,x@foo.com,,\n'), 3, "name")
    case("extra field in a row", ACC, _add(ACC, "A2,Foo,foo.com,1,bo,,extra\n"), 3, None)
    case("missing field in a row", CON, _add(CON, "K2,A1,active,2025-06-01,,1.00,USD,50\n"), 3, "updated_at")
    case("blank cells only", TEN, _add(TEN, ",,,,\n"), 3, "tenant_id")
    # --- header ---------------------------------------------------------------------------------------------
    case("duplicate header", ACC, _sub(ACC, "updated_at\n", "updated_at,owner\n").replace(TS.encode() + b"\n",
         TS.encode() + b",bo\n"), 1, "owner")
    case("header with spaces", ACC, _sub(ACC, "legal_name", " legal_name "), 1, " legal_name ")
    case("header case changed", CUS, _sub(CUS, "name", "Name"), 1, "Name")
    case("header upper-cased", USE, _sub(USE, "active_users", "ACTIVE_USERS"), 1, "ACTIVE_USERS")
    case("empty file", TEN, b"", 1, None)
    case("header only", INV, _healthy(INV).split(b"\n", 1)[0] + b"\n", 2, None)
    case("huge field", ACC, _add(ACC, "A2," + "x" * 2_100_000 + ",foo.com,,bo,\n"), 3, None)
    # --- numbers --------------------------------------------------------------------------------------------
    case("amount with 17 integer digits", INV, _sub(INV, "10000.00", "12345678901234567.00"), 2, "amount")
    case("amount with 30 digits", INV, _sub(INV, "10000.00", "9" * 30), 2, "amount")
    case("contract value with 17 digits", CON, _sub(CON, "120000.00", "99999999999999999"), 2, "annual_value")
    case("amount NaN", INV, _sub(INV, "10000.00", "NaN"), 2, "amount")
    case("amount sNaN", INV, _sub(INV, "10000.00", "sNaN"), 2, "amount")
    case("amount Infinity", INV, _sub(INV, "10000.00", "Infinity"), 2, "amount")
    case("amount -inf", CON, _sub(CON, "120000.00", "-inf"), 2, "annual_value")
    case("amount with a plus sign", INV, _sub(INV, "10000.00", "+10000.00"), 2, "amount")
    case("amount with an exponent", INV, _sub(INV, "10000.00", "1e4"), 2, "amount")
    case("amount with 5 decimals", INV, _sub(INV, "10000.00", "10000.00001"), 2, "amount")
    case("amount with a thousands separator", INV, _sub(INV, ",10000.00,", ',"10,000.00",'), 2, "amount")
    case("amount missing", INV, _sub(INV, ",10000.00,", ",,"), 2, "amount")
    case("negative contracted FTE", CON, _sub(CON, ",USD,50,", ",USD,-50,"), 2, "contracted_fte")
    case("negative billed FTE", INV, _sub(INV, ",USD,50,", ",USD,-0.5,"), 2, "billed_fte")
    case("negative FTE count", USE, _sub(USE, ",45,50", ",45,-50"), 2, "fte_count")
    case("negative active users", USE, _sub(USE, ",45,", ",-45,"), 2, "active_users")
    case("FTE with an exponent", CON, _sub(CON, ",USD,50,", ",USD,1e3,"), 2, "contracted_fte")
    case("FTE with a capital exponent", INV, _sub(INV, ",USD,50,", ",USD,1E3,"), 2, "billed_fte")
    case("FTE with a plus sign", USE, _sub(USE, ",45,50", ",45,+50"), 2, "fte_count")
    case("FTE NaN", CON, _sub(CON, ",USD,50,", ",USD,NaN,"), 2, "contracted_fte")
    case("FTE Infinity", USE, _sub(USE, ",45,50", ",45,Infinity"), 2, "fte_count")
    case("FTE with 5 decimals", CON, _sub(CON, ",USD,50,", ",USD,50.00001,"), 2, "contracted_fte")
    case("FTE with a leading blank", INV, _sub(INV, ",USD,50,", ",USD, 50,"), 2, "billed_fte")
    case("FTE with digit grouping", CON, _sub(CON, ",USD,50,", ",USD,1_000,"), 2, "contracted_fte")
    case("users as a decimal", USE, _sub(USE, ",45,", ",45.0,"), 2, "active_users")
    case("users with an exponent", USE, _sub(USE, ",45,", ",1e2,"), 2, "active_users")
    case("users in hex", USE, _sub(USE, ",45,", ",0x2d,"), 2, "active_users")
    case("users with a plus sign", USE, _sub(USE, ",44,", ",+44,"), 3, "active_users")
    case("huge integer of users", USE, _sub(USE, ",45,", ",99999999999999999999,"), 2, "active_users")
    case("users missing", USE, _sub(USE, ",44,", ",,"), 3, "active_users")
    # --- dates and timestamps -------------------------------------------------------------------------------
    case("date without zero padding", CON, _sub(CON, "2025-06-01", "2025-6-1"), 2, "start_date")
    case("date 2026-2-3", INV, _sub(INV, "2026-01-01,2026-01-31", "2026-2-3,2026-01-31"), 2, "period_start")
    case("impossible date", INV, _sub(INV, "2026-01-31", "2026-01-32"), 2, "period_end")
    case("29 February of a common year", USE, _sub(USE, "2026-01-19", "2026-02-29"), 2, "date")
    case("usage date unpadded", USE, _sub(USE, "2026-01-20", "2026-1-20"), 3, "date")
    case("date of year 0", CON, _sub(CON, "2025-06-01,,", "2025-06-01,0000-12-31,"), 2, "end_date")
    case("date of year 10000", CON, _sub(CON, "2025-06-01", "10000-06-01"), 2, "start_date")
    case("date infinity", CON, _sub(CON, "2025-06-01", "infinity"), 2, "start_date")
    case("date with slashes", INV, _sub(INV, ",2026-01-01,paid", ",2026/01/01,paid"), 2, "issued_on")
    case("date with a blank", TEN, _sub(TEN, "2025-06-01", " 2025-06-01"), 2, "created_on")
    case("date as a timestamp", TEN, _sub(TEN, "2025-06-01", "2025-06-01T00:00:00Z"), 2, "created_on")
    case("timestamp without a time zone", ACC, _sub(ACC, TS, "2026-01-20T23:00:00"), 2, "updated_at")
    case("timestamp date only", CUS, _sub(CUS, TS, "2026-01-20"), 2, "updated_at")
    case("timestamp garbled", CON, _sub(CON, TS, "2026-01-20X23:00Z"), 2, "updated_at")
    case("timestamp hour 25", INV, _sub(INV, TS, "2026-01-20T25:00:00Z"), 2, "updated_at")
    case("timestamp offset +25:00", ACC, _sub(ACC, TS, "2026-01-20T23:00:00+25:00"), 2, "updated_at")
    case("timestamp as epoch seconds", CUS, _sub(CUS, TS, "1768950000"), 2, "updated_at")
    case("timestamp infinity", CON, _sub(CON, TS, "infinity"), 2, "updated_at")
    # --- ids, keys, vocabularies ----------------------------------------------------------------------------
    case("duplicate key", ACC, _add(ACC, "A1,Acme Again,acme.com,,bo,\n"), 3, "account_id")
    case("duplicate composite key", USE, _add(USE, "t-1,2026-01-19,40,50\n"), 4, "tenant_id")
    case("duplicate invoice", INV, _add(INV, HEALTHY_DAY[INV].split("\n")[1] + "\n"), 3, "invoice_id")
    case("empty id", CUS, _add(CUS, ",Nameless,n@x.com,,\n"), 3, "customer_id")
    case("quoted empty id", TEN, _add(TEN, '"",nameless,x.com,2025-06-01,active\n'), 3, "tenant_id")
    case("whitespace-only id", CON, _add(CON, "   ,A1,active,2025-06-01,,1.00,USD,1,\n"), 3, "contract_id")
    case("tab-only id", USE, _add(USE, "\t,2026-01-18,1,1\n"), 4, "tenant_id")
    case("no-break-space id", ACC, _add(ACC, "\u00a0,Foo,foo.com,,bo,\n"), 3, "account_id")
    case("unknown contract status", CON, _sub(CON, ",active,", ",pending,"), 2, "status")
    case("invoice status with a blank", INV, _sub(INV, ",paid,", ",paid ,"), 2, "status")
    case("currency of 2 letters", INV, _sub(INV, ",USD,", ",US,"), 2, "currency")
    case("currency with a digit", CON, _sub(CON, ",USD,", ",US1,"), 2, "currency")
    # --- the entity map -------------------------------------------------------------------------------------
    case("map: NUL in a canonical id", MAP, _sub(MAP, "ACME,crm", b"AC\x00ME,crm"), 2, "canonical_id")
    case("map: escape in notes", MAP, _sub(MAP, "t-1,2025-01-01,,", "t-1,2025-01-01,,\x1b[2J"), 4, "notes")
    case("map: BOM inside a source id", MAP, _sub(MAP, "cus_1", "\ufeffcus_1"), 3, "source_id")
    case("map: date 2025-1-1", MAP, _sub(MAP, "A1,2025-01-01", "A1,2025-1-1"), 2, "effective_from")
    case("map: date of year 0", MAP, _sub(MAP, "t-1,2025-01-01,", "t-1,0000-01-01,"), 4, "effective_from")
    case("map: impossible end date", MAP, _sub(MAP, "cus_1,2025-01-01,", "cus_1,2025-01-01,2025-02-30"), 3,
         "effective_to")
    case("map: CR-only line endings", MAP, _healthy(MAP).replace(b"\n", b"\r"), 1, "notes")
    case("map: mixed line endings", MAP, _healthy(MAP).replace(b"\n", b"\r\n", 2), 3, "notes")
    case("map: duplicate header", MAP, _sub(MAP, ",notes\n", ",notes,notes\n").replace(b",,\n", b",,,\n"), 1,
         "notes")
    case("map: invalid UTF-8", MAP, _sub(MAP, "ACME,ops", b"AC\xffME,ops"), 4, "canonical_id")
    case("map: empty source id", MAP, _sub(MAP, "crm,A1,", "crm,,"), 2, "source_id")
    case("map: unknown system", MAP, _sub(MAP, "ops,t-1", "erp,t-1"), 4, "source_system")
    return c


CASES = _cases()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose first day is stored: each case is copied from it."""
    project = new_project(tmp_path_factory.mktemp("corpus") / "project", {STORED: {}})
    run_days(project, STORED)
    return project


def test_the_corpus_is_large_and_covers_every_file() -> None:
    assert len(CASES) >= 60
    assert {case.file for case in CASES.values()} == set(HEALTHY_DAY) | {MAP}


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_malformed_input_is_refused_with_file_row_column_and_the_store_unchanged(
        stored: Path, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    if case.file == MAP:
        write_day(project, NEXT)
        (project / MAP).write_bytes(case.content)
    else:
        write_day(project, NEXT, {case.file: case.content})
    before = tree_digest(project / ".tieout")
    assert before, "the baseline day must be stored"

    result = invoke("run", "-p", str(project), "--as-of", NEXT)

    assert result.exit_code == 4, result.output
    where = f"{case.file}, row {case.row}" + (f", column {case.column!r}:" if case.column else ":")
    assert where in result.output, result.output
    assert "Traceback" not in result.output and "Error:" not in result.output.replace("error:", ""), result.output
    assert tree_digest(project / ".tieout") == before


