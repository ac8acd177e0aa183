"""`tieout init DIR --crm FORMAT --billing FORMAT --ops FORMAT`: a `sources:` block with every key of contract
§3b, written from the registered formats (a vendor registered later appears by itself), that loads as it is
and reads a day as the format's defaults do; without the flags, init is what it always was."""

from __future__ import annotations

import dataclasses
import re
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke
from tests.sources.test_zuora import DAY, _read
from tests.sources.zuora_shape import healthy_zuora
from tieout.config import SYSTEMS, load_project
from tieout.sources import scaffold
from tieout.sources.formats import FORMATS
from tieout.sources.layout import STANDARD_LAYOUT

PAIRS = [(system, name) for system in SYSTEMS for name in scaffold.choices(system)]


def _init(tmp_path: Path, *flags: str) -> tuple[Path, str]:
    root = tmp_path / "p"
    result = invoke("init", str(root), *flags)
    assert result.exit_code == 0, result.output
    return root, result.output


def _block(root: Path, system: str) -> str:
    """The lines of `system`'s entry under `sources:`."""
    text = (root / "tieout.yml").read_text()
    found = re.search(rf"^  {system}:\n((?:    .*\n|\n)*?)(?=^  \w+:|\Z)", text.split("\nsources:\n", 1)[1], re.M)
    assert found, text
    return found.group(1)


def test_without_flags_init_writes_what_it_always_wrote(tmp_path: Path) -> None:
    root, output = _init(tmp_path)
    assert (root / "tieout.yml").read_text() == files("tieout").joinpath("scaffold/tieout.yml").read_text()
    assert "sources:" not in (root / "tieout.yml").read_text()
    assert output == (f"Created a tieout project in {root}.\nNext: put each day's exports in "
                      f"{root}/exports/YYYY-MM-DD/ (six CSV files), fill in entity_map.csv, then run: "
                      f"tieout run --project {root} --as-of YYYY-MM-DD\n")


def test_every_system_has_the_standard_layout_and_the_generic_formats() -> None:
    for system in SYSTEMS:
        assert {"standard", "csv", "json", "parquet", "sql"} <= set(scaffold.choices(system))
    assert "zuora" in scaffold.choices("billing") and "zuora" not in scaffold.choices("crm")


@pytest.mark.parametrize(("system", "name"), PAIRS, ids=[f"{s}-{n}" for s, n in PAIRS])
def test_every_format_writes_a_block_that_loads(tmp_path: Path, system: str, name: str) -> None:
    root, output = _init(tmp_path, f"--{system}", name)
    text = (root / "tieout.yml").read_text()
    assert "tieout sources check --as-of YYYY-MM-DD" in text and f"{system} as {name}" in output
    source = load_project(root).sources[system]  # type: ignore[index]
    assert source.format == name and set(load_project(root).sources) == {system}
    block = _block(root, system)
    tables = [spec for spec in STANDARD_LAYOUT if spec.system == system]
    if name == "standard":
        assert f"    # path: {system}" in block and source.path is None
        return
    fmt = FORMATS[name]
    if name == "sql":
        assert f"    url: ${{{system.upper()}_DATABASE_URL}}" in block
    else:
        assert f"    # url: ${{{system.upper()}_DATABASE_URL}}" in block and "    encoding: utf-8" in block
        assert source.path == (system if fmt.generic else name) and source.encoding == "utf-8"
    if fmt.generic:  # a file (or query) per standard table, named after it, and every column shown
        assert "    # fields: {}" in block
        for spec in tables:
            given = source.tables[spec.table]
            assert (given.query if name == "sql" else given.file) == (
                spec.table if name == "sql" else f"{spec.table}.{name}")
            for col in spec.columns:
                assert f"        #   {col.name}: {col.name}\n" in block
        return
    # A vendor: every standard column of the system in the commented field map, every table's file.
    assert "    # fields:" in block
    for spec in tables:
        for col in spec.columns:
            assert re.search(rf"^    #   {spec.table}\.{col.name}: \S", block, re.M), (spec.table, col.name)
        default = fmt.tables[spec.table]
        if default.files:
            assert re.search(rf"^        (# )?file: {re.escape(scaffold.yaml_scalar(default.files[0]))}", block, re.M)
            if len(default.files) == 1 and not any(c in default.files[0] for c in "*?["):
                assert source.tables[spec.table].file == default.files[0]
        if default.query:
            assert f"        # query: {scaffold.yaml_scalar(default.query)}" in block


def test_the_zuora_block_shows_zuoras_map(tmp_path: Path) -> None:
    root, output = _init(tmp_path, "--billing", "zuora")
    block = _block(root, "billing")
    for line in ("    format: zuora                 # see docs/sources/zuora.md",
                 "    path: zuora                   # folder inside the day's folder (default: the format's name)",
                 "    #   billing_customers.customer_id: id  # as written",
                 "    #   billing_customers.tax_id: vatid  # as written",
                 "    #   billing_invoices.status: status  # Draft -> draft, Posted -> paid when its balance is 0 "
                 "(open while one remains), Canceled -> void, Error -> draft (also reads balance)",
                 "    #   billing_invoices.period_start: your_column  # default: the earliest service_start_date of "
                 "the invoice's items (invoice_item)",
                 "        file: invoice.csv         # inside the source's folder",
                 "        # query: zuora.invoice    # with url: the table (or one SELECT) to read",
                 "        # (also reads invoice_item.csv, rate_plan_charge.csv, account.csv from the same folder)"):
        assert line + "\n" in block, line
    assert "  billing: zuora/account.csv, invoice.csv, invoice_item.csv, rate_plan_charge.csv" in output
    assert "  crm:     (the day folder) crm_accounts.csv, crm_contracts.csv" in output


def test_the_written_map_is_the_format_s_own(tmp_path: Path) -> None:
    """Uncommented, the field map shown reads a day exactly as the format's defaults do."""
    root, _ = _init(tmp_path, "--billing", "zuora")
    text = (root / "tieout.yml").read_text()
    text = re.sub(r"^    # fields:.*$", "    fields:", text, flags=re.M)
    text = re.sub(r"^    #   (billing_\w+\.\w+: (?!your_column)\S+).*$", r"      \1", text, flags=re.M)
    (root / "tieout.yml").write_text(text)
    assert len(load_project(root).sources["billing"].fields) == 12  # all but the three made from several tables
    folder = root / "exports" / DAY
    (folder / "zuora").mkdir(parents=True)
    for name, content in HEALTHY_DAY.items():
        if not name.startswith("billing_"):
            (folder / name).write_text(content)
    for name, content in healthy_zuora().items():
        (folder / "zuora" / f"{name}.csv").write_text(content)
    default = tmp_path / "default"
    _init(default, "--billing", "zuora")
    shutil.copytree(folder, default / "p" / "exports" / DAY)
    assert _read(root) == _read(default / "p")


def test_the_block_follows_the_registered_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zuora = FORMATS["zuora"]
    invoices = dataclasses.replace(zuora.tables["billing_invoices"], files=("Invoice.csv",), query="z.inv")
    monkeypatch.setitem(FORMATS, "zuora", dataclasses.replace(
        zuora, tables={**zuora.tables, "billing_invoices": invoices}))
    root, output = _init(tmp_path, "--billing", "zuora")
    block = _block(root, "billing")
    assert "        file: Invoice.csv" in block and "        # query: z.inv" in block
    assert "zuora/account.csv, Invoice.csv, invoice_item.csv" in output


def test_three_systems_at_once_and_the_project_runs(tmp_path: Path) -> None:
    root, output = _init(tmp_path, "--crm", "csv", "--billing", "zuora", "--ops", "standard")
    assert set(load_project(root).sources) == {"crm", "billing", "ops"}
    assert f"tieout sources check --project {root} --as-of YYYY-MM-DD" in output
    folder = root / "exports" / DAY
    (folder / "crm").mkdir(parents=True)
    (folder / "zuora").mkdir()
    for name, content in HEALTHY_DAY.items():
        if name.startswith("crm_"):
            (folder / "crm" / name).write_text(content)
        elif name.startswith("ops_"):
            (folder / name).write_text(content)
    for name, content in healthy_zuora().items():
        (folder / "zuora" / f"{name}.csv").write_text(content)
    (root / "entity_map.csv").write_text(
        "canonical_id,source_system,source_id,effective_from,effective_to,notes\n"
        "ACME,crm,A1,2025-01-01,,\nACME,billing,cus_1,2025-01-01,,\nACME,ops,t-1,2025-01-01,,\n")
    checked = invoke("sources", "check", "-p", str(root), "--as-of", DAY)
    assert checked.exit_code == 0, checked.output
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("flags", "message"), [
    (("--crm", "salesforse"), "Invalid value for --crm: unknown format 'salesforse' (choose one of: standard, "),
    (("--billing", "CSV"), "Invalid value for --billing: unknown format 'CSV' (choose one of: standard, "),
    (("--crm", "zuora"), "Invalid value for --crm: zuora reads billing tables (billing_customers, billing_invoices), "
                         "not crm's (for crm choose one of: standard, "),
])
def test_an_unknown_format_is_a_usage_error_naming_the_choices(
        tmp_path: Path, flags: tuple[str, ...], message: str) -> None:
    result = invoke("init", str(tmp_path / "p"), *flags)
    assert result.exit_code == 2
    assert message in result.output
    system = flags[0].removeprefix("--")
    assert ", ".join(scaffold.choices(system)) + ")" in result.output
    assert not (tmp_path / "p").exists()  # nothing written
