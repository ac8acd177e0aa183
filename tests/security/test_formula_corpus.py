"""The formula-injection corpus (`corpus.FORMULAS`) over every CSV and XLSX writer: `exceptions`, `entities`,
`corrections` (the log and the requests), `golden` and `entities propose`'s CSV, and the daily, weekly and
monthly workbooks.

Every cell that holds text must not start a formula once written (`'` prefixed), every payload must have
reached a writer (so that an empty file cannot pass), numbers must stay numbers, and no workbook cell is a
formula. The helper itself and the monthly pack's own labels have regression tests of their own.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke
from tests.security.corpus import FORMULAS, TRIGGERS
from tests.security.hostile import DAY2, EXPORTED, HOSTILE_USERS, World
from tieout.safe_text import for_spreadsheet, starts_a_formula

EXPORTED_FORMULAS = [h for h in FORMULAS if h in EXPORTED]


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def _live(cell: str) -> bool:
    """Would a spreadsheet compute `cell`? Text starting with a trigger, leading spaces looked past."""
    return cell.startswith(TRIGGERS) or cell.lstrip().startswith(TRIGGERS)


# -- the helper ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", FORMULAS + [f"-{u}" for u in HOSTILE_USERS])
def test_the_helper_neutralises_every_trigger(payload: str) -> None:
    safe = for_spreadsheet(payload)
    assert safe == "'" + payload and not _live(safe) and starts_a_formula(payload)


@pytest.mark.parametrize("text", ["Acme Inc.", "12-3456789", "a=b", "", "'quoted", "→ billing", "− minus sign"])
def test_the_helper_leaves_plain_text_alone(text: str) -> None:
    assert for_spreadsheet(text) == text


def test_numbers_stay_numbers_in_csv_and_text_is_always_neutralised() -> None:
    from tieout.output import to_csv

    out = to_csv([{"amount": Decimal("-1250.50"), "count": -3, "name": "-3", "note": "=1+1"}],
                 ["amount", "count", "name", "note"])
    assert out.splitlines()[1] == "-1250.50,-3,'-3,'=1+1"


def test_a_carriage_return_never_ends_a_csv_row() -> None:
    """Regression: csv quotes only for its line terminator (`\n`), so `x\r=1` was written bare and every
    reader saw a new row starting with the formula `=1`."""
    from tieout.output import to_csv

    out = to_csv([{"a": "x\r=1", "b": Decimal("2.50")}, {"a": "plain", "b": None}], ["a", "b"])
    assert _csv_cells(out) == [["a", "b"], ["x\r=1", "2.50"], ["plain", ""]]


# -- CSV writers --------------------------------------------------------------------------------------------


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def csv_outputs(hostile_world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every CSV tieout writes, over the hostile world."""
    root = str(hostile_world.root)
    out: dict[str, str] = {}
    for name, args in {"exceptions": ["exceptions", "--status", "all"], "entities": ["entities"],
                       "corrections": ["corrections"], "correction requests": ["corrections", "--pending"],
                       "golden": ["golden"]}.items():
        result = invoke(*args, "-p", root, "--format", "csv")
        assert result.exit_code == 0, result.output
        out[name] = result.stdout
    proposals = tmp_path_factory.mktemp("propose") / "proposed_map_rows.csv"
    result = invoke("entities", "propose", "-p", root, "--out", str(proposals))
    assert result.exit_code == 0, result.output
    out["entities propose"] = proposals.read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("writer", ["exceptions", "entities", "corrections", "correction requests", "golden",
                                    "entities propose"])
def test_no_csv_cell_starts_a_formula(csv_outputs: dict[str, str], writer: str) -> None:
    """Regression (Medium): values starting with `=`, `+`, `-`, `@` came out raw in these CSVs."""
    rows = _csv_cells(csv_outputs[writer])
    assert len(rows) > 1
    live = [c for row in rows for c in row if _live(c) and not _is_number(c)]
    assert live == []


def test_every_formula_payload_reached_a_csv_neutralised(csv_outputs: dict[str, str]) -> None:
    for log in ("corrections", "correction requests"):  # each carries every payload
        cells = {c for row in _csv_cells(csv_outputs[log]) for c in row}
        assert [h for h in FORMULAS if "'" + h not in cells] == [], log
    ids = {c for row in _csv_cells(csv_outputs["exceptions"]) for c in row}
    assert [h for h in EXPORTED_FORMULAS if "'" + h.strip() not in ids and "'" + h not in ids] == []
    proposed = {c for row in _csv_cells(csv_outputs["entities propose"]) for c in row}
    assert any(c.startswith("'") for c in proposed)  # a proposal for a hostile record, neutralised


def test_numbers_in_csv_stay_numbers(csv_outputs: dict[str, str]) -> None:
    rows = _csv_cells(csv_outputs["exceptions"])
    impact = rows[0].index("impact")
    assert all(_is_number(r[impact]) for r in rows[1:])


# -- XLSX writers -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbooks(hostile_world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from openpyxl import load_workbook

    folder = tmp_path_factory.mktemp("xlsx")
    out = {}
    for kind in ("daily", "weekly", "monthly"):
        path = folder / f"{kind}.xlsx"
        result = invoke("report", kind, "-p", str(hostile_world.root), "--as-of", DAY2.isoformat(), "--format",
                        "xlsx", "-o", str(path))
        assert result.exit_code == 0, result.output
        out[kind] = load_workbook(path)
    return out


def _cells(wb: Any) -> list[Any]:
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_no_xlsx_cell_is_a_formula_or_starts_one(workbooks: dict[str, Any], kind: str) -> None:
    """Regression (Medium): the monthly xlsx held live formulas from the exports and the corrections log."""
    cells = _cells(workbooks[kind])
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [(c.parent.title, c.coordinate, c.value) for c in cells
            if c.data_type == "s" and _live(c.value)] == []


def _canonical_ids(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_canonical_ids(v) for v in value)) if value else set()
    if isinstance(value, dict):
        own = {value["canonical_id"]} if isinstance(value.get("canonical_id"), str) else set()
        return own.union(*(_canonical_ids(v) for v in value.values()))
    return set()


def test_every_formula_payload_reached_a_workbook_as_neutralised_text(workbooks: dict[str, Any],
                                                                     hostile_world: World) -> None:
    texts = {c.value for c in _cells(workbooks["monthly"]) if c.data_type == "s"}
    # (XML reads a stored carriage return back as a line feed)
    assert [h for h in FORMULAS if "'" + h.replace("\r", "\n") not in texts] == []  # the corrections section
    # the daily report names the entities whose exceptions changed: those of its data (JSON), neutralised
    result = invoke("report", "daily", "-p", str(hostile_world.root), "--as-of", DAY2.isoformat(), "--format",
                    "json")
    ids = _canonical_ids(json.loads(result.stdout)) & set(EXPORTED_FORMULAS)
    daily = {c.value for c in _cells(workbooks["daily"]) if c.data_type == "s"}
    assert ids and [h for h in ids if "'" + h not in daily] == []


def test_amounts_stay_numeric_cells(workbooks: dict[str, Any]) -> None:
    ws = workbooks["daily"].worksheets[0]
    numbers = [c for row in ws.iter_rows() for c in row if isinstance(c.value, int | float | Decimal)]
    assert numbers and all(c.data_type == "n" for c in numbers)


def test_the_monthly_packs_own_labels_are_text_not_formulas(workbooks: dict[str, Any]) -> None:
    """Regression: `Bridge!A6` was the formula `= billing active customers` (Excel: #NAME?)."""
    for name in ("Bridge", "Records to entities"):
        ws = workbooks["monthly"][name]
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        assert [c.coordinate for c in cells if c.data_type == "f" or (c.data_type == "s" and _live(c.value))] == []
    steps = [r[0] for r in workbooks["monthly"]["Bridge"].iter_rows(values_only=True)]
    assert "→ billing active customers" in steps and "→ ops active customers" in steps


def test_a_hostile_text_cell_is_written_as_a_string_even_without_its_prefix(tmp_path: Path) -> None:
    """Defence in depth: the writer sets the string type itself, not only by way of the prefix."""
    from openpyxl import load_workbook

    from tieout.reports.render import xlsx
    from tieout.reports.sections import Column, Document, Section

    doc = Document("daily", "=title", [("=label", "=value", "text"), ("amount", Decimal("-5.25"), "money")],
                   [Section("S", "=section", [Column("a", "=col")], [{"a": "=1+1"}], note="=note")], "USD")
    xlsx.write(doc, tmp_path / "d.xlsx")
    wb = load_workbook(tmp_path / "d.xlsx")
    cells = _cells(wb)
    assert [c.value for c in cells if c.data_type != "s" and not isinstance(c.value, Decimal | int | float)] == []
    assert {c.value for c in cells} >= {"'=title", "'=label", "'=value", "'=section", "'=col", "'=1+1", "'=note"}
    assert wb["Summary"]["B4"].value == Decimal("-5.25") or float(wb["Summary"]["B4"].value) == -5.25
    assert wb["Summary"]["B4"].data_type == "n"


# -- the web queue's downloads ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def queue_downloads(hostile_world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`/queue.csv` and `/queue.xlsx` of every team's exceptions, any status, signed in on a copy of the world."""
    import shutil

    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from tests.security.hostile import ADMIN, PASSWORD
    from tests.web.flow import sign_in
    from tieout import state
    from tieout.config import load_project
    from tieout.web.app import create_app

    folder = tmp_path_factory.mktemp("downloads") / "world"
    shutil.copytree(hostile_world.root, folder)
    client = TestClient(create_app(load_project(folder)))
    sign_in(client, ADMIN, PASSWORD)
    out = {"csv": client.get("/queue.csv?view=all&status=all").text,
           "xlsx": load_workbook(io.BytesIO(client.get("/queue.xlsx?view=all&status=all").content))}
    state.dispose_all()
    return out


def test_the_queue_downloads_neutralise_every_exported_payload(queue_downloads: dict[str, Any]) -> None:
    rows = _csv_cells(queue_downloads["csv"])
    assert len(rows) > 1 and [c for row in rows for c in row if _live(c) and not _is_number(c)] == []
    cells = {c for row in rows for c in row}
    assert [h for h in EXPORTED_FORMULAS if "'" + h.strip() not in cells and "'" + h not in cells] == []
    sheet = _cells(queue_downloads["xlsx"])
    assert [c.coordinate for c in sheet if c.data_type == "f"] == []
    assert [c.value for c in sheet if c.data_type == "s" and _live(c.value)] == []
    texts = {c.value for c in sheet if c.data_type == "s"}
    assert [h for h in EXPORTED_FORMULAS if "'" + h.strip() not in texts and "'" + h not in texts] == []
