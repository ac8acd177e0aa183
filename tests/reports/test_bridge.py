"""The bridge's arithmetic on hand-made sets, and the month-end pack on a one-customer world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke, new_project, run_days
from tieout.reports.bridge import UNEXPLAINED, Activity, Findings, Plan, bridge, plan
from tieout.rules.registry import load_rules

BUILTIN: Plan = plan(load_rules())


def _activity(crm: list[str], billing: list[str], ops: list[str]) -> Activity:
    return Activity({"crm": [(f"a-{c}", c) for c in crm], "billing": [(f"cus-{c}", c) for c in billing],
                     "ops": [(f"t-{c}", c) for c in ops]})


def test_every_difference_is_named_and_the_walk_balances() -> None:
    act = _activity(["A", "B", "C"], ["A", "B", "D"], ["A", "D", "E"])
    found = Findings({"CRM_ACTIVE_BILLING_INACTIVE": {"C"}, "BILLING_ACTIVE_CRM_INACTIVE": {"D"},
                      "BILLING_ACTIVE_OPS_INACTIVE": {"B"}, "OPS_ACTIVE_BILLING_INACTIVE": {"E"}}, {}, {})
    out = bridge(act, found, BUILTIN)
    assert out["active_customers"] == {"crm": 3, "billing": 3, "ops": 3}
    assert [(b["from"], b["to"], b["rule"], b["count"], b["effect"]) for b in out["bridge"]] == [
        ("crm", "billing", "CRM_ACTIVE_BILLING_INACTIVE", 1, -1),
        ("crm", "billing", "BILLING_ACTIVE_CRM_INACTIVE", 1, 1),
        ("billing", "ops", "BILLING_ACTIVE_OPS_INACTIVE", 1, -1),
        ("billing", "ops", "OPS_ACTIVE_BILLING_INACTIVE", 1, 1),
    ]
    assert out["unexplained"] == {"crm_billing": 0, "billing_ops": 0}


def test_differences_without_an_exception_are_unexplained_and_never_cancel_out() -> None:
    # C only in CRM, D only in billing, neither reported: the counts agree, the customers do not
    out = bridge(_activity(["A", "C"], ["A", "D"], ["A", "D"]), Findings({}, {}, {}), BUILTIN)
    assert out["active_customers"] == {"crm": 2, "billing": 2, "ops": 2}
    assert out["unexplained"] == {"crm_billing": 2, "billing_ops": 0}
    lines = [(b["rule"], b["effect"], b["entities"]) for b in out["bridge"]]
    assert lines == [(UNEXPLAINED, -1, ["C"]), (UNEXPLAINED, 1, ["D"])]


def test_ops_active_8_to_30_days_ago_is_explained_only_by_a_named_exception() -> None:
    # E: ops-active over 30 days, not billing-active, not reported by the 7-day OPS rule
    act = _activity(["A", "E"], ["A"], ["A", "E"])
    bare = bridge(act, Findings({"CRM_ACTIVE_BILLING_INACTIVE": {"E"}}, {}, {}), BUILTIN)
    assert bare["unexplained"] == {"crm_billing": 0, "billing_ops": 0}
    assert [b["rule"] for b in bare["bridge"] if b["from"] == "billing"] == ["CRM_ACTIVE_BILLING_INACTIVE"]
    act = _activity(["A"], ["A"], ["A", "E"])
    assert bridge(act, Findings({}, {}, {}), BUILTIN)["unexplained"]["billing_ops"] == 1


def test_records_bridge_to_entities_through_duplicates_and_unresolved_records() -> None:
    act = Activity({"crm": [("a1", "A"), ("a2", "A")], "billing": [("c1", "A"), ("c9", None), ("c8", None)],
                    "ops": [("t1", "A")]})
    found = Findings({}, {("A", "crm"): "DUPLICATE_SOURCE_RECORD"}, {("billing", "c9"): "UNMAPPED_SOURCE_RECORD"})
    rows = {r["system"]: r for r in bridge(act, found, BUILTIN)["records_to_entities"]}
    assert rows["crm"] == {"system": "crm", "records": 2, "entities": 1, "unexplained": 0,
                           "lines": [{"rule": "DUPLICATE_SOURCE_RECORD", "count": 1}]}
    assert rows["billing"]["lines"] == [{"rule": UNEXPLAINED, "count": 1},
                                        {"rule": "UNMAPPED_SOURCE_RECORD", "count": 1}]
    assert rows["billing"]["unexplained"] == 1


UNBILLED = {"billing_invoices.csv": "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,"
                                    "billed_fte,updated_at\n"
                                    "in_0,cus_1,2025-12-01,2025-12-31,2025-12-01,paid,10000.00,USD,50,"
                                    "2026-01-20T23:00:00Z\n"}  # only last month's invoice: nothing covers the day


def _pack(project: Path, *args: str) -> dict:
    result = invoke("report", "monthly", "-p", str(project), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_pack_on_a_small_world(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {"2026-01-30": {}, "2026-01-31": UNBILLED})
    run_days(project, "2026-01-30", "2026-01-31")
    pack = _pack(project, "--period", "2026-01")
    assert pack["active_customers"] == {"crm": 1, "billing": 0, "ops": 1}
    # ACME's last active usage is 2026-01-20: ops-active over 30 days, not over the OPS rule's 7, so its
    # missing billing is explained by CRM_ACTIVE_BILLING_INACTIVE on both steps
    assert {(b["from"], b["to"], b["rule"], b["count"]) for b in pack["bridge"]} == {
        ("crm", "billing", "CRM_ACTIVE_BILLING_INACTIVE", 1), ("billing", "ops", "CRM_ACTIVE_BILLING_INACTIVE", 1)}
    assert pack["unexplained"] == {"crm_billing": 0, "billing_ops": 0}
    assert pack["configuration_changes"] == {"changes": [], "days_not_recorded": [], "first_recorded": "2026-01-30"}
    assert [s for s in ("Prepared by", "Reviewed by", "Approved by")
            if s in invoke("report", "monthly", "-p", str(project), "--period", "2026-01").stdout] == [
        "Prepared by", "Reviewed by", "Approved by"]


def test_a_disabled_rule_leaves_its_difference_unexplained_and_the_change_is_listed(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {"2026-01-30": {}, "2026-01-31": UNBILLED})
    run_days(project, "2026-01-30")
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text()
                                        + "rules:\n  CRM_ACTIVE_BILLING_INACTIVE:\n    enabled: false\n")
    run_days(project, "2026-01-31")
    pack = _pack(project, "--period", "2026-01")
    # and ACME, ops-active 11 days ago, is no longer covered on the billing → ops step either
    assert pack["unexplained"] == {"crm_billing": 1, "billing_ops": 1}
    assert [(c["day"], c["what"], c["detail"]) for c in pack["configuration_changes"]["changes"]] == [
        ("2026-01-31", "rules", "changed: CRM_ACTIVE_BILLING_INACTIVE")]


def test_the_last_day_must_be_stored_and_its_exports_need_not_be(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {"2026-01-30": {}})
    run_days(project, "2026-01-30")
    missing = invoke("report", "monthly", "-p", str(project), "--period", "2026-01", "--format", "json")
    assert missing.exit_code == 7 and "2026-01-31, the last day of period 2026-01, is not a reconciled day" in \
        missing.output
    pack = _pack(project, "--as-of", "2026-01-30")
    assert pack["period"]["label"] == "2026-01 to 2026-01-30"
    for f in (project / "exports" / "2026-01-30").iterdir():
        f.unlink()
    (project / "exports" / "2026-01-30").rmdir()
    # The bridge counts each system's active customers on the day as the store holds it.
    assert _pack(project, "--as-of", "2026-01-30") == pack



def _forget_counts(project: Path) -> None:
    """The manifest as a tieout from before the stored counts wrote it."""
    manifest = project / ".tieout" / "days" / "manifest.json"
    body = json.loads(manifest.read_text())
    for day in body["days"]:
        day.pop("active")
    manifest.write_text(json.dumps(body))


def test_the_months_average_is_the_mean_of_each_days_stored_count(tmp_path: Path) -> None:
    # ACME is billed on the 30th, not on the 31st: billing counts 1 then 0, an average of 0.5
    project = new_project(tmp_path / "p", {"2026-01-30": {}, "2026-01-31": UNBILLED})
    run_days(project, "2026-01-30", "2026-01-31")
    pack = _pack(project, "--period", "2026-01")
    assert pack["daily_active_customers"] == [{"date": "2026-01-30", "crm": 1, "billing": 1, "ops": 1},
                                              {"date": "2026-01-31", "crm": 1, "billing": 0, "ops": 1}]
    assert pack["average_active_customers"] == {"days": 2, "crm": 1.0, "billing": 0.5, "ops": 1.0}
    # the last day's stored count is the month-end count the bridge builds from the store
    assert {k: v for k, v in pack["daily_active_customers"][-1].items() if k != "date"} == pack["active_customers"]
    # a store from before the counts: each day is counted again from the store, to the same figures
    _forget_counts(project)
    assert _pack(project, "--period", "2026-01") == pack
    text = invoke("report", "monthly", "-p", str(project), "--period", "2026-01", "--format", "md").stdout
    assert "Average over 2 day(s)" in text and "Daily active customers" in text


def test_days_counted_over_another_ops_window_are_counted_again(tmp_path: Path) -> None:
    # ACME was last active on 2026-01-20: ops-active on the 31st over 30 days, not over 10
    project = new_project(tmp_path / "p", {"2026-01-31": {}})
    run_days(project, "2026-01-31")
    assert _pack(project, "--period", "2026-01")["average_active_customers"]["ops"] == 1.0
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text()
                                        + "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params: {window_days: 10}\n")
    assert _pack(project, "--period", "2026-01")["average_active_customers"]["ops"] == 0.0


@pytest.mark.parametrize("window", [None, 10])
def test_the_bridge_counts_ops_activity_over_the_window_of_its_rule(tmp_path: Path, window: int | None) -> None:
    # ACME is billed for January and last active on 2026-01-20: on the 31st, ops-active over 30 days, not over 10.
    # The bridge's ops count and BILLING_ACTIVE_OPS_INACTIVE must use the same window, the project's if it sets one.
    yml = f"rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params: {{window_days: {window}}}\n" if window else ""
    project = new_project(tmp_path / "p", {"2026-01-31": {}}, yml)
    run_days(project, "2026-01-31")
    fired = [e["rule"] for e in json.loads(invoke("exceptions", "-p", str(project), "--format", "json").stdout)]
    pack = _pack(project, "--period", "2026-01")
    assert pack["ops_window_days"] == (window or 30)
    if window is None:
        assert "BILLING_ACTIVE_OPS_INACTIVE" not in fired
        assert pack["active_customers"] == {"crm": 1, "billing": 1, "ops": 1} and pack["bridge"] == []
    else:
        assert "BILLING_ACTIVE_OPS_INACTIVE" in fired
        assert pack["active_customers"] == {"crm": 1, "billing": 1, "ops": 0}
        assert [(b["from"], b["to"], b["rule"], b["effect"], b["why"]) for b in pack["bridge"]] == [
            ("billing", "ops", "BILLING_ACTIVE_OPS_INACTIVE", -1, "billing-active, not ops-active over 10 days")]
    assert pack["unexplained"] == {"crm_billing": 0, "billing_ops": 0}
    text = invoke("report", "monthly", "-p", str(project), "--period", "2026-01", "--format", "md").stdout
    assert f"Ops-active customers ({window or 30} days)" in text
    assert f"ops-active: active users in the last {window or 30} days" in text


def test_the_waterfall_walks_the_bridge_from_a_floor_below_its_smallest_count() -> None:
    from tieout.reports.bridge import waterfall

    act = _activity(["A", "B", "C"], ["A", "B", "D"], ["A", "D", "E", "F"])
    found = Findings({"CRM_ACTIVE_BILLING_INACTIVE": {"C"}, "BILLING_ACTIVE_CRM_INACTIVE": {"D"},
                      "BILLING_ACTIVE_OPS_INACTIVE": {"B"}}, {}, {})
    shape = waterfall(bridge(act, found, BUILTIN))
    steps = shape["steps"]
    assert [s["kind"] for s in steps] == ["total", "down", "up", "total", "down", "up", "total"]
    # an unexplained difference on each side of one step: one label each
    assert [s["label"] for s in steps][4:6] == ["BILLING_ACTIVE_OPS_INACTIVE -1", "UNEXPLAINED +2"]
    assert [(s["start"], s["end"]) for s in steps if s["kind"] != "total"] == [(3, 2), (2, 3), (3, 2), (2, 4)]
    assert [s["end"] for s in steps if s["kind"] == "total"] == [3, 3, 4]
    # each step starts where the one before ended; each total is where the steps before it arrived
    running = steps[0]["end"]
    for s in steps[1:]:
        if s["kind"] == "total":
            assert s["end"] == running
        else:
            assert s["start"] == running
            running = s["end"]
    assert shape["floor"] < 2 and all(s["start"] == shape["floor"] for s in steps if s["kind"] == "total")


def test_the_roll_forward_balances_and_finds_who_came_back() -> None:
    from tieout.entity_names import EntityNames
    from tieout.reports.rollforward import roll

    names = EntityNames(None, entities={"A": "Acme", "E": "Echo"})
    january = _activity(["A", "E"], ["A"], ["A"])
    february = _activity(["A", "B"], ["A", "B"], ["B"])  # E left CRM
    march = _activity(["A", "C", "E"], ["A", "B", "C"], ["B", "A"])  # E is back; A back in ops
    got = roll(february, march, [january], names)
    crm = got["crm"]
    assert (crm["opening"], crm["new"], crm["reactivated"], crm["churned"], crm["closing"]) == (2, 2, 1, 1, 3)
    assert crm["reactivated_customers"] == [{"canonical_id": "E", "entity_name": "Echo"}]
    assert crm["new_customers"] == [{"canonical_id": "C", "entity_name": ""}]
    assert crm["churned_customers"] == [{"canonical_id": "B", "entity_name": ""}]
    assert got["ops"]["reactivated_customers"] == [{"canonical_id": "A", "entity_name": "Acme"}]
    for r in got.values():
        assert r["opening"] + r["new"] - r["churned"] == r["closing"]
        assert r["new"] == len(r["new_customers"]) + len(r["reactivated_customers"])
