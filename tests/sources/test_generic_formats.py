"""`csv`, `json` and `parquet` sources (contract §3b): any file with a column map reads into exactly the typed
tables the standard layout gives, and a refusal names the source's own file, row (or object) and column."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project
from tests.sources.generic_shape import renamed, write_json, write_parquet
from tieout.config import load_project
from tieout.errors import InputError
from tieout.sources.read import read_day

DAY = "2026-01-20"
# The contract's example: the ops system's own names for the standard columns.
TENANTS = {"tenant_id": "id", "display_name": "workspace", "domain": "primary_domain", "created_on": "created_at",
           "status": "state"}
USAGE = {"tenant_id": "tenant_id", "date": "day", "active_users": "dau", "fte_count": "seats_in_use"}
NUMBERS = {"dau": int, "seats_in_use": int}
OPS_CSV = f"""\
sources:
  ops:
    format: csv
    path: ops
    tables:
      ops_tenants: {{file: tenants.csv, columns: {json.dumps(TENANTS)}}}
      ops_usage: {{file: usage.csv, columns: {json.dumps(USAGE)}}}
"""


def _records(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(HEALTHY_DAY[name])))


def _renamed(name: str, mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{mapping[k]: v for k, v in r.items()} for r in _records(name)]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _project(tmp_path: Path, yml: str, writer) -> Path:  # type: ignore[no-untyped-def]
    root = new_project(tmp_path / "p", {DAY: {}}, yml)
    folder = root / "exports" / DAY
    for name in ("ops_tenants.csv", "ops_usage.csv"):
        (folder / name).unlink()  # the ops system's standard files are not there: only its own
    writer(folder)
    return root


def _tables(root: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(DAY))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("ops_tenants", "ops_usage")}


@pytest.fixture
def standard(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    return _tables(new_project(tmp_path / "standard", {DAY: {}}))


def _csv_files(folder: Path) -> None:
    _write_csv(folder / "ops" / "tenants.csv", _renamed("ops_tenants.csv", TENANTS))
    _write_csv(folder / "ops" / "usage.csv", _renamed("ops_usage.csv", USAGE))


def test_csv_with_a_column_map_reads_as_the_standard_layout(tmp_path: Path, standard) -> None:  # type: ignore[no-untyped-def]
    assert _tables(_project(tmp_path, OPS_CSV, _csv_files)) == standard


def test_a_csv_day_reconciles_like_the_standard_one(tmp_path: Path) -> None:
    root = _project(tmp_path, OPS_CSV, _csv_files)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []


def _json_files(folder: Path, shape: str) -> None:
    for table, mapping, name in (("ops_tenants.csv", TENANTS, "tenants"), ("ops_usage.csv", USAGE, "usage")):
        # JSON numbers, as an API gives them
        write_json(folder / "ops" / f"{name}.json", renamed(_records(table), mapping, NUMBERS), shape)


@pytest.mark.parametrize("shape", ["array", "list", "lines"])
def test_json_in_every_shape_reads_as_the_standard_layout(tmp_path: Path, standard, shape: str) -> None:  # type: ignore[no-untyped-def]
    yml = OPS_CSV.replace("format: csv", "format: json").replace(".csv", ".json")
    assert _tables(_project(tmp_path, yml, lambda f: _json_files(f, shape))) == standard


def test_parquet_reads_as_the_standard_layout(tmp_path: Path, standard) -> None:  # type: ignore[no-untyped-def]
    def write(folder: Path) -> None:
        for table, mapping, name in (("ops_tenants.csv", TENANTS, "tenants"), ("ops_usage.csv", USAGE, "usage")):
            # typed columns, as a data pipeline writes them
            write_parquet(folder / "ops" / f"{name}.parquet",
                          renamed(_records(table), mapping, {"dau": int, "day": date.fromisoformat}))

    yml = OPS_CSV.replace("format: csv", "format: parquet").replace(".csv", ".parquet")
    assert _tables(_project(tmp_path, yml, write)) == standard


def _refusal(root: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        read_day(duckdb.connect(), load_project(root), date.fromisoformat(DAY))
    return caught.value


def test_a_bad_value_is_named_by_the_sources_file_row_and_column(tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        _csv_files(folder)
        usage = folder / "ops" / "usage.csv"
        usage.write_text(usage.read_text().replace("2026-01-20", "20/01/2026"))

    error = _refusal(_project(tmp_path, OPS_CSV, write))
    assert (Path(error.file).name, error.row, error.column) == ("usage.csv", 3, "day")
    assert "'20/01/2026' is not a date as YYYY-MM-DD" in str(error)


def test_a_missing_source_column_names_the_standard_column_it_feeds(tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        _csv_files(folder)
        usage = folder / "ops" / "usage.csv"
        usage.write_text(usage.read_text().replace("seats_in_use", "seats"))

    error = _refusal(_project(tmp_path, OPS_CSV, write))
    assert (Path(error.file).name, error.row, error.column) == ("usage.csv", 1, "seats_in_use")
    assert "missing column 'seats_in_use' (read as ops_usage.fte_count" in str(error)


def test_json_refusals_name_the_object_and_the_field(tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        _json_files(folder, "list")
        path = folder / "ops" / "usage.json"
        data = json.loads(path.read_text())
        data["data"][1]["day"] = "yesterday"
        data["data"][1]["id"] = "u_2"
        path.write_text(json.dumps(data))

    yml = OPS_CSV.replace("format: csv", "format: json").replace(".csv", ".json")
    error = _refusal(_project(tmp_path, yml, write))
    assert str(error).endswith("usage.json, object 1 (u_2), field 'day': 'yesterday' is not a date as YYYY-MM-DD")


def test_a_duplicate_key_across_json_pages_names_both_places(tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        _json_files(folder, "lines")
        usage = folder / "ops" / "usage.json"
        lines = usage.read_text().splitlines(keepends=True)
        usage.unlink()
        (folder / "ops" / "usage_1.json").write_text("".join(lines))
        (folder / "ops" / "usage_2.json").write_text(lines[0])

    yml = OPS_CSV.replace("format: csv", "format: json").replace("usage.csv", "usage_*.json").replace(
        "tenants.csv", "tenants.json")
    error = _refusal(_project(tmp_path, yml, write))
    assert Path(error.file).name == "usage_2.json" and error.row == "object 0"
    assert "duplicate tenant_id + date" in str(error) and "(also at object 0 of " in str(error)


def _lake_parquet(extra: dict[str, object]):  # type: ignore[no-untyped-def]
    """The ops system's tables as Parquet, each row with `extra` columns (a lakehouse's lineage, say)."""
    def write(folder: Path) -> None:
        for table, mapping, name in (("ops_tenants.csv", TENANTS, "tenants"), ("ops_usage.csv", USAGE, "usage")):
            rows = [{**r, **extra} for r in renamed(_records(table), mapping, {"dau": int, "day": date.fromisoformat})]
            write_parquet(folder / "ops" / f"{name}.parquet", rows)

    return write


PARQUET_YML = OPS_CSV.replace("format: csv", "format: parquet").replace(".csv", ".parquet")


def test_a_parquet_export_with_its_own_filename_column_reads(tmp_path: Path, standard) -> None:  # type: ignore[no-untyped-def]
    """DuckDB names the column it adds `filename` unless told otherwise: tieout names its own."""
    root = _project(tmp_path, PARQUET_YML, _lake_parquet({"filename": "s3://lake/ops/part-0001.parquet"}))
    assert _tables(root) == standard


@pytest.mark.parametrize("name", ["file_row_number", "File_Row_Number", "tieout__position"])
def test_a_parquet_column_named_as_the_reads_own_is_refused_by_name(tmp_path: Path, name: str) -> None:
    root = _project(tmp_path, PARQUET_YML, _lake_parquet({name: 7}))
    refusal = str(_refusal(root))
    assert "tenants.parquet" in refusal and f"column {name!r}" in refusal and "rename it" in refusal
    assert "Binder Error" not in refusal


def test_a_csv_table_in_parts_with_its_own_filename_column_reads(tmp_path: Path, standard) -> None:  # type: ignore[no-untyped-def]
    """Parts of one table are read with each row's file beside it, in a column of tieout's own name."""
    def write(folder: Path) -> None:
        _write_csv(folder / "ops" / "tenants.csv", _renamed("ops_tenants.csv", TENANTS))
        rows = [{**r, "filename": f"export-{i}.csv"} for i, r in enumerate(_renamed("ops_usage.csv", USAGE))]
        assert len(rows) >= 2
        _write_csv(folder / "ops" / "usage_1.csv", rows[:1])
        _write_csv(folder / "ops" / "usage_2.csv", rows[1:])

    root = _project(tmp_path, OPS_CSV.replace("file: usage.csv", "file: usage_*.csv"), write)
    assert _tables(root) == standard
