"""Two processes appending corrections at the same moment: one waits for the other, and the chain stays one
line with no seq lost or taken twice (SQLite: BEGIN IMMEDIATE; Postgres: the head row locked FOR UPDATE)."""

from __future__ import annotations

import multiprocessing.synchronize
from pathlib import Path

from tests.state.processes import run_together
from tieout.config import load_project
from tieout.corrections import corrections_for, record_correction, verify_corrections

PER_WRITER = 12


def _append(project_dir: str, writer: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    project = load_project(project_dir)
    record_correction(project, canonical_id="ACME", system="crm", field="tax_id", old_value="", new_value="warm-up",
                      reason="open the database before the race", who=writer)
    barrier.wait()
    for n in range(PER_WRITER):
        record_correction(project, canonical_id="ACME", system="crm", field="tax_id", old_value="",
                          new_value=f"{writer}-{n}", reason="race", who=writer)


def test_two_writers_at_once_keep_one_chain(project_dir: Path) -> None:
    outcomes = run_together(_append, (str(project_dir), "w1"), (str(project_dir), "w2"))
    assert outcomes == ["ok", "ok"], "\n".join(outcomes)
    project = load_project(project_dir)
    log = corrections_for(project)
    assert [c.seq for c in log] == list(range(1, 2 * (PER_WRITER + 1) + 1))
    # Each writer's own entries are all there and in the order it wrote them.
    for name in ("w1", "w2"):
        mine = [c.new_value for c in log if c.who == name and c.reason == "race"]
        assert mine == [f"{name}-{n}" for n in range(PER_WRITER)]
    # They really did write at the same time (else this proved nothing about concurrency): each takes over a
    # second for its entries, started together, so the log alternates between them.
    order = [c.who for c in log if c.reason == "race"]
    assert sum(a != b for a, b in zip(order, order[1:], strict=False)) >= 2, order
    verdict = verify_corrections(project)
    assert verdict.ok, verdict.message
    assert verdict.entries == 2 * (PER_WRITER + 1)
