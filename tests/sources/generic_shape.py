"""Standard-layout rows written as the files a `json` or `parquet` source reads (contract §3b): under the
system's own column names, with the values typed as an API or a data pipeline writes them. For the tests of
those formats (tests/sources/test_generic_formats.py) and the differential over every shape
(tests/sources/test_every_shape_differential.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

Typed = Mapping[str, Callable[[str], object]]  # the system's column -> its value made from the standard text


def renamed(rows: list[dict[str, str]], columns: Mapping[str, str], typed: Typed | None = None
            ) -> list[dict[str, object]]:
    """`rows` (standard column -> text) under the system's names (`columns`: standard column -> the system's),
    each value converted where `typed` names its column; an empty cell is null."""
    typed = typed or {}
    out = []
    for row in rows:
        record: dict[str, object] = {}
        for standard, own in columns.items():
            text = row[standard]
            record[own] = None if text == "" else typed[own](text) if own in typed else text
        out.append(record)
    return out


def write_json(path: Path, records: list[dict[str, object]], shape: str) -> None:
    """`records` as a JSON array (`array`), an API's list object (`list`) or JSON Lines (`lines`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if shape == "array":
        path.write_text(json.dumps(records))
    elif shape == "list":
        path.write_text(json.dumps({"object": "list", "data": records, "has_more": False}, indent=2))
    elif shape == "lines":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        raise ValueError(f"no JSON shape {shape!r}")


def write_parquet(path: Path, records: list[dict[str, object]]) -> None:
    """`records` as one Parquet file, each column typed by its values (text, integers, dates, decimals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({k: [r[k] for r in records] for k in records[0]}), path)
