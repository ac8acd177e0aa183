from __future__ import annotations

import csv
import datetime as dt

from tieout.entities import propose, resolve, write_proposals

from .helpers import make_map, make_sources

D = dt.date(2026, 1, 20)


def test_proposals_for_unmapped_and_csv(con, tmp_path):
    make_sources(
        con,
        crm=[("a1", "Initech Systems Ltd", "initech.co.uk", None), ("a2", "Globex Labs", "globex.io", None)],
        billing=[("c1", "Initech Sytems Limited", "ap@initech-payables.example", None)],
        ops=[("t1", "initech-hq", None)],
    )
    make_map(con, [("INITECH", "crm", "a1", "2025-01-01", None), ("GLOBEX", "crm", "a2", "2025-01-01", None)])
    resolve(con, D)
    before = con.execute("SELECT * FROM source_records ORDER BY ALL").fetchall()
    rows = propose(con, D)
    assert con.execute("SELECT * FROM source_records ORDER BY ALL").fetchall() == before  # never resolves
    by_record = {(r["source_system"], r["source_id"]): r for r in rows}
    assert by_record[("billing", "c1")]["canonical_id"] == "INITECH"
    assert by_record[("billing", "c1")]["matched_on"] == "legal_name"
    assert by_record[("ops", "t1")]["canonical_id"] == "INITECH"
    assert all(r["score"] >= 80 for r in rows)

    path = tmp_path / "proposals.csv"
    write_proposals(rows, path)
    with path.open() as f:
        reader = csv.reader(f)
        header = next(reader)
        first = next(reader)
    assert header == [
        "canonical_id",
        "source_system",
        "source_id",
        "effective_from",
        "effective_to",
        "notes",
        "score",
        "matched_on",
        "explanation",
    ]
    assert first[3] == "2026-01-20" and first[4] == "" and first[5].startswith("proposed: score ")


def test_nothing_to_propose(con):
    make_sources(con, crm=[("a1", "Acme", None, None)])
    make_map(con, [("ACME", "crm", "a1", "2025-01-01", None)])
    resolve(con, D)
    assert propose(con, D) == []


def test_min_score_and_limit(con):
    make_sources(
        con,
        crm=[(f"a{i}", f"Acme Widgets {i}", None, None) for i in range(6)],
        billing=[("c1", "Acme Widgets", None, None)],
    )
    make_map(con, [(f"E{i}", "crm", f"a{i}", "2025-01-01", None) for i in range(6)])
    resolve(con, D)
    assert len(propose(con, D, limit_per_record=2, min_score=50)) == 2
    assert propose(con, D, min_score=100) == []
