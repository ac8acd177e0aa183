"""`to_json` writes a list of records with json's C encoder (json encodes in Python once it indents): the text
must be exactly what `json.dumps(..., indent=1)` writes, whatever the records hold."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal

from tieout.output import _TOKEN_RE, _plain, _records, to_json


def _json_module(value: object) -> str:
    return _TOKEN_RE.sub(r"\1", json.dumps(_plain(value), indent=1, ensure_ascii=False))


def test_records_are_written_as_json_writes_them() -> None:
    rng = random.Random(15)
    values = ["a", "é\u2028x", "<script>alert(1)</script>", '=HYPERLINK("x")', "\n\t\"q\"\\", "\x00\x1b", "🙂",
              1, -2.5, True, False, None, Decimal("1.50"), Decimal("-0.0001"), date(2026, 1, 2), [], {},
              [1, {"x": [2]}], {"k": "v", "n": None}, (Decimal("3"),), float("nan")]
    keys = ["id", "é", '"', "a b", ""]
    fast = 0
    for _ in range(2000):
        value: object = [{rng.choice(keys) + str(j): rng.choice(values) for j in range(rng.randint(0, 6))}
                         for _ in range(rng.randint(0, 5))]
        if rng.random() < 0.1:
            value = rng.choice([{"a": 1}, "x", [1, 2], [{"a": 1}, 3], []])
        fast += _records(_plain(value)) is not None
        assert to_json(value) == _json_module(value), value
    assert fast > 1000  # most of them went the C encoder's way


def test_other_indents_are_json_s_own() -> None:
    records = [{"a": Decimal("1.10"), "b": date(2026, 2, 3)}]
    assert to_json(records, indent=None) == '[{"a": 1.10, "b": "2026-02-03"}]'
    assert to_json(records, indent=2) == _TOKEN_RE.sub(r"\1", json.dumps(_plain(records), indent=2))
