"""What a stored day was reconciled with: a fingerprint of the effective rule set and of the ownership registry.

The month-end pack lists the days the rules or the registry changed; nothing else records that (rules are
files people edit in place). Each run writes `<store>/runs/DATE.json` right after the day commits — beside
the day, under the run lock, replaced by a re-run of the date like the day itself — so the record needs no
state database (a run on a project without one stays free of SQLAlchemy).

    {"day": "2026-02-10", "rules": "<sha256>", "registry": "<sha256>",
     "rule_hashes": {"FTE_THRESHOLD_DRIFT": "<sha256>", ...}, "fx_rates": {"EUR": "1.08"}}

`fx_rates` are the exchange rates in effect that day (tieout.fx): a new rate changes every impact in that
currency, and so the severities and the money at risk, without a rule or the registry changing. A record from
before rates were kept has none, and the pack does not guess a change from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tieout.config import Project
from tieout.rules.registry import Rule

RUNS_DIR = "runs"


def _digest(value: Any) -> str:
    body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def rule_hash(rule: Rule) -> str:
    """Everything that changes what a rule reports or where it goes: its SQL, parameters, team, impact, lag."""
    return _digest({"name": rule.name, "sql": rule.sql, "params": rule.params, "team": rule.team,
                    "impact": rule.impact, "lag": rule.expected_lag_days, "enabled": rule.enabled,
                    "classification": rule.classification,
                    # a rule skipped on the days a table is empty reports less; absent when undeclared, so
                    # the fingerprints of rules that declare nothing stay what they were
                    **({"needs_rows": list(rule.needs_rows)} if rule.needs_rows else {})})


@dataclass(frozen=True)
class Fingerprint:
    day: date
    rules: str
    registry: str
    rule_hashes: dict[str, str]
    fx_rates: dict[str, str] | None = None  # currency -> the day's rate into the reporting currency (its digits)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "rules": self.rules, "registry": self.registry,
                "rule_hashes": self.rule_hashes, "fx_rates": self.fx_rates}


def fingerprint(project: Project, day: date, rules: dict[str, Rule]) -> Fingerprint:
    from tieout.ownership.model import load_registry

    hashes = {name: rule_hash(rule) for name, rule in sorted(rules.items())}
    registry = load_registry(project).model_dump(mode="json")
    # Routing and system owners decide the team as much as a rule's own `team` does.
    registry_and_routing = {"registry": registry, "routing": [r.model_dump(mode="json") for r in project.routing],
                            "system_owners": project.system_owners}
    rates = {c: str(r) for c, r in sorted(project.fx_rates_on(day).items()) if c != project.reporting_currency}
    return Fingerprint(day, _digest(hashes), _digest(registry_and_routing), hashes, rates)


def runs_dir(project: Project) -> Path:
    return project.store_path / RUNS_DIR


def record(project: Project, day: date, rules: dict[str, Rule]) -> None:
    """Write `day`'s fingerprint; call under the run lock once the day has committed."""
    folder = runs_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{day.isoformat()}.json"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(fingerprint(project, day, rules).as_dict(), indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def sweep(project: Project) -> None:
    """Remove the temporary files of a run killed while it wrote a fingerprint (`record` cleans up after itself
    otherwise, but not after SIGKILL). Safe only under the run lock."""
    folder = runs_dir(project)
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def recorded(project: Project, days: list[date]) -> dict[date, Fingerprint]:
    """The fingerprints recorded for `days` (a day stored by an older tieout has none)."""
    found: dict[date, Fingerprint] = {}
    folder = runs_dir(project)
    for day in days:
        path = folder / f"{day.isoformat()}.json"
        if not path.is_file():
            continue
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            rates = raw.get("fx_rates")
            found[day] = Fingerprint(day, raw["rules"], raw["registry"], dict(raw["rule_hashes"]),
                                     None if rates is None else {str(c): str(r) for c, r in rates.items()})
        except (ValueError, KeyError, TypeError):
            continue  # a damaged record is reported as missing, not guessed
    return found
