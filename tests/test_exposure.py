"""Money at risk that adds up (docs/rules.md, "Money at risk"): a gap two rules see counts once, in every total.

The demo world plants one such gap — a customer the CRM and the product both call active whom billing never
set up — so the demo's totals are checked against the definition computed here from the documented outputs
(`tieout rules list --format json` and `tieout exceptions --format json`), not from tieout's own function."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import DEMO_LAST, backfilled_demo, invoke
from tieout.config import load_project
from tieout.exposure import at_risk
from tieout.notify.digest import _body
from tieout.reports.data import items_until
from tieout.rules.registry import load_rules
from tieout.store import stored_days

RULES = load_rules()


@dataclass(frozen=True)
class Seen:
    id: str
    rule: str
    impact: Decimal
    canonical_id: str | None = None
    source_system: str | None = None
    source_id: str | None = None


def test_one_missing_invoice_seen_by_two_rules_counts_once() -> None:
    found = [Seen("a", "CRM_ACTIVE_BILLING_INACTIVE", Decimal("5000"), "C1"),
             Seen("b", "OPS_ACTIVE_BILLING_INACTIVE", Decimal("5000"), "C1"),
             Seen("c", "FTE_THRESHOLD_DRIFT", Decimal("8000"), "C1")]
    assert at_risk(found, RULES) == Decimal("13000")  # the 18,000 said, 13,000 meant


def test_a_gap_counts_at_its_largest_impact_and_per_entity() -> None:
    found = [Seen("a", "CRM_ACTIVE_BILLING_INACTIVE", Decimal("5000.00"), "C1"),
             Seen("b", "OPS_ACTIVE_BILLING_INACTIVE", Decimal("1800.50"), "C1"),
             Seen("c", "OPS_ACTIVE_BILLING_INACTIVE", Decimal("1800.50"), "C2"),
             Seen("d", "BILLING_ACTIVE_CRM_INACTIVE", Decimal("700"), "C1"),
             Seen("e", "BILLING_ACTIVE_OPS_INACTIVE", Decimal("900"), "C1")]
    assert at_risk(found, RULES) == Decimal("5000.00") + Decimal("1800.50") + Decimal("900")


def test_rules_without_an_exposure_and_unresolved_records_are_gaps_of_their_own() -> None:
    found = [Seen("a", "OWNED_FIELD_MISMATCH", Decimal("10"), "C1"),
             Seen("b", "OWNED_FIELD_MISMATCH", Decimal("20"), "C1"),  # another field of the same entity
             Seen("c", "UNMAPPED_SOURCE_RECORD", Decimal("300"), None, "billing", "cus_1"),
             Seen("d", "UNMAPPED_SOURCE_RECORD", Decimal("400"), None, "billing", "cus_2"),
             Seen("e", "NOT_A_LOADED_RULE", Decimal("5"), "C1")]
    assert at_risk(found, RULES) == Decimal("735")
    assert at_risk([], RULES) == Decimal(0)


def test_a_rule_names_its_exposure_in_lower_snake_case(tmp_path: Path) -> None:
    from tests.conftest import new_project
    from tieout.errors import ConfigError

    project = new_project(tmp_path / "p", {})
    (project / "rules").mkdir(exist_ok=True)
    (project / "rules" / "MY_RULE.sql").write_text("SELECT canonical_id, 0 AS impact FROM entities")
    (project / "rules" / "MY_RULE.yml").write_text("description: mine\nexposure: 'Unbilled; DROP'\n")
    with pytest.raises(ConfigError, match="exposure"):
        load_rules(load_project(project))


def _documented_exposure(exceptions: list[dict], rules: list[dict]) -> Decimal:
    """docs/rules.md's definition, from the documented JSON of the two commands."""
    gap_of = {r["name"]: r["exposure"] for r in rules}
    largest: dict[tuple, Decimal] = {}
    for e in exceptions:
        assert e["status"] == "open"
        gap = gap_of[e["rule"]]
        who = e["canonical_id"] or (e["source_system"], e["source_id"])
        key = (gap, who) if gap else ("exception", e["id"])
        largest[key] = max(largest.get(key, Decimal(0)), Decimal(str(e["impact"])))
    return sum(largest.values(), Decimal(0))


@pytest.mark.slow
def test_every_total_of_the_demo_is_its_exposure(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = backfilled_demo(tmp_path_factory)
    p = str(folder)
    rules = json.loads(invoke("rules", "list", "-p", p, "--format", "json").output)
    found = json.loads(invoke("exceptions", "-p", p, "--format", "json").output, parse_float=Decimal)
    expected = _documented_exposure(found, rules)
    naive = sum((e["impact"] for e in found), Decimal(0))
    twice = [e for e in found if e["canonical_id"] and e["rule"] in
             ("CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE")]
    assert len({e["canonical_id"] for e in twice}) < len(twice), "the demo plants one gap two rules see"
    assert expected < naive

    project = load_project(folder)
    loaded = load_rules(project)
    shown = f"{expected:,.2f} USD at risk"
    assert shown in invoke("exceptions", "-p", p).output.splitlines()[0]
    assert f"{expected:,.2f} USD at risk in the {len(found)} open" in invoke(
        "exceptions", "-p", p, "--status", "all").output.splitlines()[0]
    for kind in ("daily", "weekly"):
        report = json.loads(invoke("report", kind, "-p", p, "--format", "json").output, parse_float=Decimal)
        total = report["money_at_risk"] if kind == "daily" else report["summary"]["money_at_risk"]
        assert total == expected, kind
    monthly = json.loads(invoke("report", "monthly", "-p", p, "--format", "json", "--as-of", DEMO_LAST
                                ).output, parse_float=Decimal)
    assert monthly["money_at_risk"]["total"] == expected
    assert sum(r["money_at_risk"] for r in monthly["money_at_risk"]["by_rule_severity"]) == naive  # by rule: each

    day = stored_days(project)[-1]
    ar = [i for i in items_until(project, loaded, day) if i.team == "ar"]
    body = _body("ar", [], ar, None, day, "USD", loaded)
    assert f"{_documented_exposure([e for e in found if e['team'] == 'ar'], rules):,.2f} USD at risk." in body
