"""Mapping a record from the command line (`tieout entities candidates|map`, `tieout approve MR-n`), through the same
maker-checker and audit as corrections, and `entities propose` with accented and non-Latin names and ties.

The entity map is written only on approval, atomically, keeping every byte a person wrote, one writer at a time;
the next run resolves the record by the new row.
"""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import pytest

from tests.conftest import invoke_as, run_days
from tests.entities.mapping_world import mapping_project
from tests.test_correction_approval_cli import PASSWORD
from tieout.config import load_project
from tieout.entities.candidates import Candidate, Evidence, explain
from tieout.entities.map_file import append_row
from tieout.entities.map_requests import map_requests_list, new_canonical_id
from tieout.store import open_day
from tieout.workflow.audit import entries

pytestmark = pytest.mark.usefixtures("state_in_the_project")

@pytest.fixture
def p(tmp_path: Path) -> Path:
    folder = mapping_project(tmp_path / "p")
    run_days(folder, "2026-01-20")
    for name, role, teams in (("ana", "team_member", ("ar",)), ("carol", "approver", ()), ("dave", "auditor", ()),
                              ("root", "admin", ())):
        result = invoke_as("users", "add", name, "--role", role, *[a for t in teams for a in ("--team", t)],
                      "--password-stdin", "-p", str(folder), stdin=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    return folder


def _record(folder: Path, day: str, system: str, source_id: str) -> tuple[str, str, str | None]:
    con = open_day(load_project(folder), __import__("datetime").date.fromisoformat(day))
    try:
        found = con.execute("SELECT status, resolved_by, canonical_id FROM source_records WHERE source_system = ? "
                            "AND source_id = ?", [system, source_id]).fetchone()
    finally:
        con.close()
    assert found is not None
    return found


def test_propose_folds_accents_and_non_latin_legal_forms_and_explains_a_tie(p: Path) -> None:
    done = invoke_as("entities", "propose", "-p", str(p))
    assert done.exit_code == 0, done.output
    with (p / "proposed_map_rows.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    best = {r["source_id"]: r for r in reversed(rows)}  # the first row of each record wins
    assert (best["cus_9"]["canonical_id"], best["cus_9"]["score"]) == ("GRUN", "100.0")  # Grünwald ~ Gruenwald
    assert (best["cus_7"]["canonical_id"], best["cus_7"]["score"]) == ("ROMA", "100.0")  # ООО «Ромашка»
    assert (best["cus_6"]["canonical_id"], best["cus_6"]["score"]) == ("TOYO", "100.0")  # 株式会社トヨタ
    tied = [r for r in rows if r["source_id"] == "cus_8"]
    assert {r["canonical_id"] for r in tied} == {"NORTH", "SOUTH"} and {r["score"] for r in tied} == {"100.0"}
    assert all("a tie" in r["explanation"] and "a person must choose" in r["explanation"] for r in tied)
    assert "tie: billing cus_8: a tie: NORTH, SOUTH match equally (each shares the domain)" in done.output
    assert all(r["explanation"] == "" for r in rows if r["source_id"] != "cus_8")


def test_candidates_show_the_evidence_on_both_sides(p: Path) -> None:
    done = invoke_as("entities", "candidates", "billing", "cus_8", "-p", str(p), "--format", "json")
    assert done.exit_code == 0, done.output
    found = json.loads(done.output)
    assert found["status"] == "ambiguous" and [c["canonical_id"] for c in found["candidates"]] == ["NORTH", "SOUTH"]
    north = found["candidates"][0]
    assert north["name"] == "Initech North LLC"
    exact = [e for e in north["evidence"] if e["exact"]]
    assert exact == [{**exact[0], "key": "domain", "normalised": "shared-north.com", "ours": "ap@shared-north.com",
                      "theirs": "shared-north.com", "their_record": "crm A4"}]
    assert "a tie" in found["explanation"]
    text = invoke_as("entities", "candidates", "billing", "cus_9", "-p", str(p))
    assert "GRUN (Gruenwald Robotics GmbH)" in text.output and "legal name similar (score 100)" in text.output
    assert invoke_as("entities", "candidates", "billing", "nope", "-p", str(p)).exit_code == 7


def test_explain_names_what_puts_one_candidate_first() -> None:
    def candidate(cid: str, *keys: str, score: float = 0) -> Candidate:
        evidence = [Evidence(k, "k", "a", "b", "crm X") for k in keys]
        fuzzy = [Evidence("fuzzy:legal_name", "", "a", "b", "", score)] if score else []
        return Candidate(cid, None, evidence + fuzzy)

    assert explain([candidate("A", "tax_id", "domain"), candidate("B", "domain")]) == (
        "A ranks first: it shares the tax id with this record and B does not")
    assert explain([candidate("A", score=92), candidate("B", score=81)]) == (
        "A ranks first: its name is closer (score 92 against 81 for B)")
    assert explain([candidate("A", "domain"), candidate("B", "domain"), candidate("C", score=70)]).startswith(
        "a tie: A, B match equally (each shares the domain)")
    assert explain([candidate("A", "domain")]) is None


def test_a_map_row_waits_for_a_second_person_and_the_next_run_resolves_the_record(p: Path) -> None:
    before = (p / "entity_map.csv").read_bytes()
    asked = invoke_as("entities", "map", "billing", "cus_9", "--to", "GRUN", "--reason",
                      "same company, umlaut spelled out", "--who", "ana", "-p", str(p))
    assert asked.exit_code == 0, asked.output
    assert "map request MR-1: billing cus_9 → GRUN from 2026-01-21, by ana" in asked.output
    assert (p / "entity_map.csv").read_bytes() == before  # nothing lands before approval
    [waiting] = map_requests_list(load_project(p), status="pending")
    assert "legal name similar (score 100)" in (waiting.evidence or "")

    own = invoke_as("approve", "MR-1", "--as", "ana", "-p", str(p))
    assert own.exit_code == 10 and "only an approver or an admin" in own.output
    auditor = invoke_as("approve", "MR-1", "--as", "dave", "-p", str(p))
    assert auditor.exit_code == 10 and "read-only" in auditor.output
    assert (p / "entity_map.csv").read_bytes() == before

    approved = invoke_as("approve", "MR-1", "--as", "carol", "--comment", "checked the order form", "-p", str(p))
    assert approved.exit_code == 0, approved.output
    after = (p / "entity_map.csv").read_bytes()
    assert after.startswith(before)  # every byte a person wrote is kept
    added = after[len(before):].decode()
    assert added.startswith("GRUN,billing,cus_9,2026-01-21,,") and added.count("\n") == 1
    assert "MR-1 by ana, approved by carol" in added
    again = invoke_as("reject", "MR-1", "--as", "carol", "-p", str(p))
    assert again.exit_code == 9 and "already approved" in again.output

    run_days(p, "2026-01-21")
    assert _record(p, "2026-01-20", "billing", "cus_9")[0] == "unmapped"  # a past day keeps what its run stored
    assert _record(p, "2026-01-21", "billing", "cus_9") == ("resolved", "map", "GRUN")
    unmapped = json.loads(invoke_as("exceptions", "-p", str(p), "--format", "json", "--status", "all").output)
    [episode] = [e for e in unmapped if e["rule"] == "UNMAPPED_SOURCE_RECORD" and e["source_id"] == "cus_9"]
    assert episode["status"] == "resolved" and episode["resolved_on"] == "2026-01-21"

    audit = entries(load_project(p), object="map:MR-1", limit=10)
    assert [(a["action"], a["actor"], a["outcome"]) for a in reversed(audit)] == [
        ("map.request", "ana", "allowed"), ("map.approve", "ana", "refused"), ("map.approve", "dave", "refused"),
        ("map.approve", "carol", "allowed"), ("map.reject", "carol", "conflict")]


def test_a_new_entity_a_rejection_and_a_row_that_would_overlap(p: Path) -> None:
    before = (p / "entity_map.csv").read_bytes()
    assert invoke_as("entities", "map", "billing", "cus_6", "--new-entity", "--reason", "r", "--who", "ana",
                "-p", str(p)).exit_code == 0
    rejected = invoke_as("reject", "MR-1", "--as", "carol", "-p", str(p))
    assert rejected.exit_code == 0 and "the entity map is unchanged" in rejected.output
    assert (p / "entity_map.csv").read_bytes() == before
    assert invoke_as("entities", "map", "billing", "cus_6", "--new-entity", "--reason", "r", "--who", "ana",
                "-p", str(p)).exit_code == 0
    waiting_twice = invoke_as("entities", "map", "billing", "cus_6", "--to", "TOYO", "--reason", "r", "--who", "ana",
                         "-p", str(p))
    assert waiting_twice.exit_code == 9 and "MR-2 already asks" in waiting_twice.output
    assert invoke_as("approve", "MR-2", "--as", "carol", "-p", str(p)).exit_code == 0
    assert (p / "entity_map.csv").read_text().splitlines()[-1].startswith("E000001,billing,cus_6,2026-01-21,,")

    assert invoke_as("entities", "map", "billing", "cus_7", "--to", "ROMA", "--reason", "r", "--who", "root",
                "-p", str(p)).exit_code == 0
    own = invoke_as("approve", "MR-3", "--as", "root", "-p", str(p))  # an admin, but the requester
    assert own.exit_code == 10 and "maker-checker" in own.output

    mapped = invoke_as("entities", "map", "billing", "cus_1", "--to", "GRUN", "--reason", "r", "--who", "ana",
                       "-p", str(p))
    assert mapped.exit_code == 9 and "already maps billing 'cus_1' to ACME" in mapped.output
    assert invoke_as("entities", "map", "billing", "cus_9", "--to", "NOPE", "--reason", "r", "--who", "ana",
                "-p", str(p)).exit_code == 7
    assert invoke_as("entities", "map", "billing", "cus_9", "--reason", "r", "--who", "ana",
                     "-p", str(p)).exit_code == 2


def test_new_ids_follow_the_maps_own_pattern() -> None:
    assert new_canonical_id({"C00001", "C00299", "ACME"}) == "C00300"
    assert new_canonical_id({"ACME", "GLOBEX"}) == "E000001"
    assert new_canonical_id({"E000001"}) == "E000002"


def test_appends_are_atomic_keep_line_endings_and_never_clobber_each_other(tmp_path: Path) -> None:
    path = tmp_path / "entity_map.csv"
    original = (b"canonical_id,source_system,source_id,effective_from,effective_to,notes\r\n"
                b"ACME,crm,A1,2025-01-01,,\"hand note, kept\"\r\n")
    path.write_bytes(original)
    path.chmod(0o640)
    rows = [{"canonical_id": "ACME", "source_system": "billing", "source_id": f"cus_{i}",
             "effective_from": "2026-01-21", "effective_to": "", "notes": "=HYPERLINK(\"x\")\n<script>"}
            for i in range(16)]
    threads = [threading.Thread(target=append_row, args=(path, r)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = path.read_bytes()
    assert data.startswith(original) and data.count(b"\r\n") == 2 + 16 and b"\n" not in data.replace(b"\r\n", b"")
    with path.open(encoding="utf-8", newline="") as f:
        found = list(csv.DictReader(f))
    assert sorted(r["source_id"] for r in found[1:]) == sorted(f"cus_{i}" for i in range(16))
    assert {r["notes"] for r in found[1:]} == {'=HYPERLINK("x") <script>'}  # one line, read back as written
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    with pytest.raises(Exception, match="overlapping effective ranges"):
        append_row(path, {**rows[0], "effective_from": "2026-02-01"})
    assert path.read_bytes() == data
