"""The safety check's verdicts on the built-in rules' SQL, shipped beside them (`builtin/checked.json`), so that
loading the rules — which every command does, most of them only to read the rules' metadata — parses none of the
SQL tieout itself ships (sqlglot's import and two parses of each rule: a third of a second).

A verdict is keyed by the SHA-256 of the SQL text, so any other text — a project's own rule, a built-in one edited
by a byte — is checked as ever (`tieout.rules.safety`), and the verdict of a shipped text is the one the check
gives it: tests/rules/test_checked_verdicts.py recomputes each with the check itself and fails when the file is
not what it computes (`TIEOUT_UPDATE_SNAPSHOTS=1` rewrites it after an intended change).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

VERDICTS = Path(__file__).parent / "builtin" / "checked.json"

# (the $parameters the SQL uses, the functions it calls that sqlglot does not know), as `inspect_rule_sql` gives
Verdict = tuple[frozenset[str], frozenset[str]]


def digest(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


@cache
def shipped() -> dict[str, Verdict]:
    """The verdicts in `builtin/checked.json`, by digest of the SQL they were given on."""
    data = json.loads(VERDICTS.read_text(encoding="utf-8")) if VERDICTS.is_file() else {}
    return {key: (frozenset(v["params"]), frozenset(v["calls"])) for key, v in data.items()}


def inspect_rule_sql(sql: str, *, name: str, path: Path | None = None) -> tuple[set[str], set[str]]:
    """`tieout.rules.safety.inspect_rule_sql`, answered from the shipped verdicts when `sql` is a text they hold."""
    known = shipped().get(digest(sql))
    if known is not None:
        return set(known[0]), set(known[1])
    from tieout.rules.safety import inspect_rule_sql as check

    return check(sql, name=name, path=path)
