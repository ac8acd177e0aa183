"""`tieout golden` in each format, and `tieout ownership doc`."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import HEALTHY_DAY, invoke, new_project, run_days
from tests.ownership.helpers import STATUS_REGISTRY, with_registry

H = HEALTHY_DAY
RENAMED = H["billing_customers.csv"].replace("Acme Analytics Inc.,", "Acme Data Ltd,")
NO_CRM_NAME = H["crm_accounts.csv"].replace("Acme Analytics Inc.", "")


@pytest.fixture
def world(tmp_path: Path) -> Path:
    project = with_registry(new_project(tmp_path / "p", {
        "2026-01-20": {"billing_customers.csv": RENAMED},
        "2026-01-21": {"billing_customers.csv": RENAMED,
                       "crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")},
        "2026-01-22": {"crm_accounts.csv": NO_CRM_NAME},
    }), STATUS_REGISTRY)
    run_days(project, "2026-01-20", "2026-01-21")
    return project


def _by_field(rows: list[dict]) -> dict[str, dict]:
    return {r["field"]: r for r in rows}


def test_json_the_owner_wins_and_the_disagreement_is_named(world: Path) -> None:
    result = invoke("golden", "-p", str(world), "--format", "json")
    assert result.exit_code == 0
    assert "as of 2026-01-21, read from the store's 2026-01-21 (the latest reconciled day)" in result.stderr
    rows = _by_field(json.loads(result.stdout))
    assert {k: rows["legal_name"][k] for k in ("canonical_id", "value", "source_system", "owner_system",
                                                "ruled_by", "disagreeing")} == {
        "canonical_id": "ACME", "value": "Acme Analytics Inc.", "source_system": "crm", "owner_system": "crm",
        "ruled_by": "owner", "disagreeing": "billing"}
    # Billing owns the status once the first invoice is posted: its word wins, the CRM's 'cancelled' disagrees.
    assert {k: rows["customer_status"][k] for k in ("value", "source_system", "row_id", "ruled_by",
                                                     "disagreeing")} == {
        "value": "paid", "source_system": "billing", "row_id": "in_1", "ruled_by": "first_invoice_posted",
        "disagreeing": "crm"}


def test_csv_as_of_a_day_and_to_a_file(world: Path) -> None:
    out = world / "golden.csv"
    result = invoke("golden", "-p", str(world), "--as-of", "2026-01-20", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["as_of"], r["field"], r["value"], r["disagreeing"]) for r in rows] == [
        ("2026-01-20", "customer_status", "paid", ""), ("2026-01-20", "legal_name", "Acme Analytics Inc.", "billing")]


def test_the_owner_without_a_value_is_stood_in_for(world: Path) -> None:
    # 2026-01-22 was never run: --as-of reads its exports all the same.
    rows = _by_field(json.loads(invoke("golden", "-p", str(world), "--as-of", "2026-01-22",
                                       "--format", "json").stdout))
    assert (rows["legal_name"]["value"], rows["legal_name"]["source_system"], rows["legal_name"]["owner_system"]) \
        == ("Acme Analytics Inc.", "billing", "crm")


def test_parquet_needs_a_file_and_writes_one(world: Path) -> None:
    assert invoke("golden", "-p", str(world), "--format", "parquet").exit_code == 2
    out = world / "golden.parquet"
    assert invoke("golden", "-p", str(world), "--format", "parquet", "-o", str(out)).exit_code == 0
    got = pq.read_table(out).to_pylist()
    assert sorted((r["field"], r["value"]) for r in got) == [("customer_status", "paid"),
                                                             ("legal_name", "Acme Analytics Inc.")]


def test_nothing_reconciled_says_what_to_do(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {"2026-01-20": {}})
    result = invoke("golden", "-p", str(project))
    assert result.exit_code == 3 and "--as-of DATE" in result.output


def test_doc_markdown_has_the_table_and_the_mermaid_map(world: Path) -> None:
    result = invoke("ownership", "doc", "-p", str(world))
    assert result.exit_code == 0
    md = (world / "ownership.md").read_text()
    assert "| field | held in | starts in | when | owner | may edit | record that wins a dispute" in md
    status_rows = [line for line in md.splitlines() if line.startswith("| **customer_status**")]
    assert len(status_rows) == 2 and "| billing | billing | the billing record (invoices.status) | finance |" \
        in status_rows[1]
    mermaid = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert mermaid.startswith("flowchart LR")
    assert re.search(r"crm -->\|\".*legal_name → customers.name.*\"\| billing", mermaid)
    assert re.search(r"billing -->\|\".*customer_status → contracts.status.*first_invoice_posted.*\"\| crm", mermaid)


def test_doc_html_is_self_contained(world: Path, tmp_path: Path) -> None:
    assert invoke("ownership", "doc", "-p", str(world), "--output-dir", str(tmp_path / "out")).exit_code == 0
    page = (tmp_path / "out" / "ownership.html").read_text()
    assert '<pre class="mermaid">\nflowchart LR' in page
    assert "<th>from</th><th>event</th><th>to</th>" in page  # the readable fallback of the diagram
    assert "customer_status → contracts.status" in page
    assert not re.search(r"https?:|//cdn|<script", page, re.IGNORECASE)


def test_doc_of_the_default_registry(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {})
    assert invoke("ownership", "doc", "-p", str(project)).exit_code == 0
    md = (project / "ownership.md").read_text()
    assert "the contract's default registry" in md and "**legal_name**" in md and "**tax_id**" in md
    assert "| account_managers |" in md
