"""Snapshots of every report on the demo world (300 companies × 90 days), at fixed as-of dates.

Regenerate after an intended change with `TIEOUT_UPDATE_SNAPSHOTS=1 pytest tests/reports` and review the
diff. HTML snapshots are taken without charts (the SVG is vl-convert's, whose bytes follow its version);
one test checks the charts separately.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import full_demo, invoke
from tieout.config import load_project
from tieout.reports import build, render, write_xlsx
from tieout.rules.registry import load_rules

pytestmark = pytest.mark.slow
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TIEOUT_UPDATE_SNAPSHOTS") == "1"
CASES = {
    "daily": {"as_of": date(2026, 3, 6)},  # a Friday deal is new that day
    "weekly": {"as_of": date(2026, 3, 27)},
    "monthly": {"period": "2026-01"},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tieout demo`'s world: generated with the default arguments and reconciled 2026-01-01 to 2026-03-31."""
    return full_demo(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def reports(world: Path) -> dict[str, dict]:
    project = load_project(world)
    rules = load_rules(project)
    return {kind: build(project, rules, kind, **args) for kind, args in CASES.items()}  # type: ignore[arg-type]


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path}; run with TIEOUT_UPDATE_SNAPSHOTS=1 to write it")
        path.write_text(text, encoding="utf-8")
        return
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot (TIEOUT_UPDATE_SNAPSHOTS=1)"


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_report_snapshot(reports: dict[str, dict], kind: str, fmt: str) -> None:
    _check(f"{kind}.{fmt}", render(reports[kind], fmt, charts=False))


def test_the_demo_worlds_bridge_is_fully_explained(reports: dict[str, dict]) -> None:
    pack = json.loads(render(reports["monthly"], "json"), parse_float=Decimal)
    # C00025 is never billed: CRM- and ops-active, one step of each bridge (planted.json, enterprise_*)
    assert pack["active_customers"] == {"crm": 289, "billing": 288, "ops": 289}
    assert pack["unexplained"] == {"crm_billing": 0, "billing_ops": 0}
    assert [(b["from"], b["to"], b["rule"], b["count"]) for b in pack["bridge"]] == [
        ("crm", "billing", "CRM_ACTIVE_BILLING_INACTIVE", 1), ("billing", "ops", "OPS_ACTIVE_BILLING_INACTIVE", 1)]


def test_march_bridges_every_system(world: Path) -> None:
    result = invoke("report", "monthly", "-p", str(world), "--period", "2026-03", "--format", "json")
    pack = json.loads(result.stdout)
    assert pack["active_customers"] == {"crm": 299, "billing": 298, "ops": 299}
    assert pack["unexplained"] == {"crm_billing": 0, "billing_ops": 0}
    assert {(b["from"], b["to"], b["rule"], b["count"]) for b in pack["bridge"]} == {
        ("crm", "billing", "CRM_ACTIVE_BILLING_INACTIVE", 1), ("billing", "ops", "BILLING_ACTIVE_OPS_INACTIVE", 1),
        ("billing", "ops", "OPS_ACTIVE_BILLING_INACTIVE", 2)}
    records = {r["system"]: r for r in pack["records_to_entities"]}
    assert records["billing"]["lines"] == [{"rule": "AMBIGUOUS_ENTITY_MATCH", "count": 1},
                                           {"rule": "UNMAPPED_SOURCE_RECORD", "count": 1}]
    assert records["ops"]["lines"] == [{"rule": "UNMAPPED_SOURCE_RECORD", "count": 1}]


def test_html_charts_are_inline_svg_with_nothing_to_fetch(reports: dict[str, dict]) -> None:
    for kind in ("weekly", "monthly"):
        page = render(reports[kind], "html")
        assert page.count("<svg") == 2, kind
        urls = set(re.findall(r"""(?:src|href)\s*=\s*["']?(https?:)?//""", page)) | \
            {u for u in re.findall(r"https?://[^\s\"'<>)]+", page) if not u.startswith("http://www.w3.org/")}
        assert not urls, urls
        assert "@media print" in page


@pytest.mark.parametrize("kind", list(CASES))
def test_xlsx_has_a_sheet_per_section_and_real_numbers(reports: dict[str, dict], kind: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tieout.reports import document

    path = tmp_path / f"{kind}.xlsx"
    write_xlsx(reports[kind], path)
    wb = load_workbook(path)
    doc = document(reports[kind])
    assert len(wb.sheetnames) == 1 + len(doc.sections)
    assert wb.sheetnames[0] == "Summary"
    numeric = dated = 0
    for ws, section in zip(wb.worksheets[1:], doc.sections, strict=True):
        header = 3 if section.note else 2
        for j, column in enumerate(section.columns, start=1):
            for row in range(header + 1, header + 1 + len(section.rows)):
                value = ws.cell(row=row, column=j).value
                if value is None:
                    continue
                if column.kind in ("int", "money", "decimal"):
                    assert isinstance(value, int | float), (ws.title, column.key, value)
                    numeric += 1
                if column.kind == "date":
                    assert hasattr(value, "year"), (ws.title, column.key, value)
                    dated += 1
    assert numeric and dated
    if kind == "monthly":
        assert wb.sheetnames == ["Summary", "Active customers", "Daily active customers", "Roll-forward", "Bridge",
                                 "Records to entities", "Money at risk", "Open at period end", "Activity",
                                 "Corrections", "Rule and registry changes", "Log anchors", "CRM-active customers",
                                 "Billing-active customers", "Ops-active customers", "Sign-off"]
        money = wb["Money at risk"]
        assert money.cell(row=3, column=4).number_format == '#,##0.00 "USD"'
        # columns fit what they hold: the longest rule name, a count with its separators
        rules = [r["rule"] for r in reports[kind]["money_at_risk"]["by_rule_severity"]]
        assert money.column_dimensions["A"].width >= max(map(len, rules))
        _assert_native_charts(path, reports[kind])


def _assert_native_charts(path: Path, report: dict) -> None:
    """The workbook's own charts (openpyxl does not read them back: the chart XML itself): a stacked waterfall
    of the bridge whose value axis starts at the waterfall's floor, and the money at risk by rule."""
    import re
    import zipfile

    from tieout.reports.bridge import waterfall

    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 2, charts
        bridge_xml, money_xml = (z.read(n).decode() for n in charts)
    assert re.search(r'<(c:)?grouping val="stacked" ?/>', bridge_xml)
    assert re.search(rf'<(c:)?min val="{waterfall(report)["floor"]}" ?/>', bridge_xml)
    assert "'Bridge'!" in bridge_xml and "'Money at risk'!" in money_xml


def test_the_lists_and_the_roll_forward_recompute_from_two_packs(world: Path) -> None:
    """February's and March's packs: each system's list is its count, by name and with its records, and March
    rolls forward from February's closing list — new, churned and reactivated are the differences of the lists."""
    project = load_project(world)
    rules = load_rules(project)
    feb, mar = (build(project, rules, "monthly", period=p) for p in ("2026-02", "2026-03"))
    assert feb["roll_forward"]["from"] == date(2026, 1, 31) and mar["roll_forward"]["from"] == date(2026, 2, 28)
    for system in ("crm", "billing", "ops"):
        before = {c["canonical_id"] for c in feb["active_customer_lists"][system]}
        after = {c["canonical_id"] for c in mar["active_customer_lists"][system]}
        assert len(after) == mar["active_customers"][system] == len(mar["active_customer_lists"][system])
        assert all(c["records"] and c["entity_name"] for c in mar["active_customer_lists"][system])
        r = mar["roll_forward"]["systems"][system]
        assert (r["opening"], r["closing"]) == (feb["active_customers"][system], mar["active_customers"][system])
        came = {c["canonical_id"] for c in r["new_customers"] + r["reactivated_customers"]}
        assert came == after - before and r["new"] == len(came)
        assert {c["canonical_id"] for c in r["churned_customers"]} == before - after
        assert r["opening"] + r["new"] - r["churned"] == r["closing"]
    # the demo's customers come and go between February and March
    assert any(mar["roll_forward"]["systems"][s]["new"] + mar["roll_forward"]["systems"][s]["churned"]
               for s in ("crm", "billing", "ops"))


def test_the_months_average_recomputes_from_the_stored_days(world: Path) -> None:
    """Each day's count in February's pack is the size of that day's active set, built again from the store;
    the average is their mean."""
    from tieout.reports.bridge import load_activity

    project = load_project(world)
    rules = load_rules(project)
    feb = build(project, rules, "monthly", period="2026-02")
    assert [row["date"] for row in feb["daily_active_customers"]] == [
        date(2026, 2, d) for d in range(1, 29)]
    for row in feb["daily_active_customers"]:
        activity = load_activity(project, row["date"], rules)
        assert {s: row[s] for s in ("crm", "billing", "ops")} == {
            s: len(activity.entities(s)) for s in ("crm", "billing", "ops")}, row["date"]
    for system in ("crm", "billing", "ops"):
        counts = [row[system] for row in feb["daily_active_customers"]]
        assert abs(feb["average_active_customers"][system] - Decimal(sum(counts)) / 28) < Decimal("0.05")
    assert feb["average_active_customers"]["days"] == 28
