"""`tieout entities` and `tieout entities propose` from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import HEALTHY_DAY, invoke, write_day

H = HEALTHY_DAY


def test_entities_lists_every_record_and_how_it_resolved(project: Path) -> None:
    write_day(project, "2026-01-20", {
        "billing_customers.csv": H["billing_customers.csv"] + "cus_2,ACME ANALYTICS INC,,,\n",
    })
    rows = json.loads(invoke("entities", "-p", str(project), "--as-of", "2026-01-20", "--format", "json").stdout)
    by_id = {r["source_id"]: r for r in rows}
    assert set(by_id) == {"A1", "cus_1", "cus_2", "t-1"}
    assert (by_id["A1"]["resolved_by"], by_id["A1"]["canonical_id"]) == ("map", "ACME")
    assert (by_id["cus_2"]["resolved_by"], by_id["cus_2"]["matched_key"]) == ("legal_name", "acme analytics")


def test_entities_needs_a_day(project: Path) -> None:
    result = invoke("entities", "-p", str(project))
    assert result.exit_code == 3 and "--as-of" in result.output


def test_propose_writes_rows_for_a_person_and_resolves_nothing(project: Path) -> None:
    write_day(project, "2026-01-20", {
        "billing_customers.csv": H["billing_customers.csv"] + "cus_9,Acme Analytic Incorporated,,,\n",
    })
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    result = invoke("entities", "propose", "-p", str(project), "--min-score", "70")
    assert result.exit_code == 0, result.output
    with (project / "proposed_map_rows.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:6] == ["canonical_id", "source_system", "source_id", "effective_from", "effective_to",
                                 "notes"]
    assert [(r["canonical_id"], r["source_id"]) for r in rows] == [("ACME", "cus_9")]
    assert 70 <= float(rows[0]["score"]) <= 100
    # still unmapped: a proposal is not a resolution
    listed = json.loads(invoke("entities", "-p", str(project), "--status", "unmapped", "--format", "json").stdout)
    assert [r["source_id"] for r in listed] == ["cus_9"]
