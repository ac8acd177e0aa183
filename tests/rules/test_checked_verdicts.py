"""The shipped verdicts on the built-in rules' SQL (`rules/builtin/checked.json`) are what the safety check gives.

After an intended change to a built-in rule's SQL or to the check, rewrite the file with
`TIEOUT_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/rules/test_checked_verdicts.py` and review its diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tieout.rules import checked, safety
from tieout.rules.registry import BUILTIN_DIR, load_rules

UPDATE = os.environ.get("TIEOUT_UPDATE_SNAPSHOTS") == "1"


def computed() -> dict[str, dict[str, list[str]]]:
    """Each built-in rule's verdict, from the check itself (never from the shipped file)."""
    out = {}
    for path in sorted(BUILTIN_DIR.glob("*.sql")):
        sql = path.read_text(encoding="utf-8-sig")  # as the registry reads it
        safety._PASSED.pop(sql, None)  # a verdict this process already holds is no check
        params, calls = safety.inspect_rule_sql(sql, name=path.stem, path=path)
        out[checked.digest(sql)] = {"rule": path.stem, "params": sorted(params), "calls": sorted(calls)}
    return dict(sorted(out.items(), key=lambda kv: kv[1]["rule"]))


def test_the_shipped_verdicts_are_the_checks() -> None:
    verdicts = computed()
    assert len(verdicts) == len(list(BUILTIN_DIR.glob("*.sql"))) >= 10
    if UPDATE:
        checked.VERDICTS.write_text(json.dumps(verdicts, indent=1) + "\n", encoding="utf-8")
    assert checked.VERDICTS.is_file(), "no rules/builtin/checked.json: run with TIEOUT_UPDATE_SNAPSHOTS=1"
    shipped = json.loads(checked.VERDICTS.read_text(encoding="utf-8"))
    assert shipped == verdicts, "rules/builtin/checked.json is stale: run with TIEOUT_UPDATE_SNAPSHOTS=1"


def test_a_text_not_shipped_is_checked() -> None:
    """A built-in rule's SQL changed by one byte gets no shipped verdict: the check reads it and refuses."""
    sql = (BUILTIN_DIR / "DUPLICATE_SOURCE_RECORD.sql").read_text(encoding="utf-8-sig")
    assert checked.digest(sql) in checked.shipped()
    edited = sql.replace("SELECT", "SELECT getenv('HOME') AS leak,", 1)
    assert checked.digest(edited) not in checked.shipped()
    with pytest.raises(safety.UnsafeRuleError, match="getenv"):
        checked.inspect_rule_sql(edited, name="DUPLICATE_SOURCE_RECORD")


def test_loading_the_builtin_rules_imports_no_sql_parser() -> None:
    code = ("import sys\nfrom tieout.rules.registry import load_rules\nrules = load_rules()\n"
            "print(len(rules), sorted(m for m in sys.modules if m.split('.')[0] == 'sqlglot'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(load_rules())), "[]"]


def test_the_shipped_verdicts_give_the_rules_the_check_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded through the shipped verdicts or through the check, the rules are the same."""
    shipped = load_rules()
    monkeypatch.setattr(checked, "shipped", dict)  # no verdict shipped: every text goes through the check
    assert load_rules() == shipped
    assert any(rule.used for rule in shipped.values())
