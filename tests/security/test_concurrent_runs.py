"""Sixteen runs and backfills started at once on one project: exactly one commits, the fifteen others stop with
exit 6 and the documented message having written nothing, and the store is what one clean run makes of it
(docs/security.md, "Crashes and concurrent runs").

All sixteen are forked from one preloaded process and released together (a pipe they all wait on is closed).
So that "at once" is not left to the scheduler on a busy machine, the one that wins the lock holds it until
every other has tried it (a test-side wrapper of `fcntl.flock`, `boundaries._hold_won_lock`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import new_project
from tests.security.boundaries import Request, Server
from tests.store_checks import assert_consistent, seen, store_content
from tests.test_source_history import WORLD

PROCESSES = 16
REFUSED = "another tieout run is in progress on this project; nothing was done"

ROUNDS = [
    # a fresh project (no store yet), then the next days on the store the first round made
    (("run", "--as-of", "2026-01-20"), ("backfill", "--from", "2026-01-20", "--to", "2026-01-21", "--jobs", "2")),
    (("run", "--as-of", "2026-01-22"), ("backfill", "--from", "2026-01-22", "--to", "2026-01-23", "--jobs", "1")),
]


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with Server() as s:
        yield s


def _alone(server: Server, before: Path, target: Path, argv: tuple[str, ...]) -> Path:
    """`argv` run alone on a copy of `before`: what the store must be after the race."""
    shutil.copytree(before, target)
    out = server.one(Request([*argv, "-p", str(target)], str(target)))
    assert out.exit_code == 0
    return target


def test_sixteen_runs_at_once_exactly_one_commits(server: Server, tmp_path: Path) -> None:
    project = new_project(tmp_path / "project", WORLD)
    for round_no, commands in enumerate(ROUNDS):
        before = tmp_path / f"before-{round_no}"
        shutil.copytree(project, before)
        alone = {argv: _alone(server, before, tmp_path / f"alone-{round_no}-{i}", argv)
                 for i, argv in enumerate(commands)}
        gate = tmp_path / f"gate-{round_no}"
        gate.mkdir()
        argvs = [commands[i % len(commands)] for i in range(PROCESSES)]
        outs = tmp_path / f"outs-{round_no}"
        outs.mkdir()
        outcomes = server.run(*(
            Request([*argv, "-p", str(project)], str(project), stdout=str(outs / f"{i}.out"),
                    stderr=str(outs / f"{i}.err"), barrier=True, lock_gate=str(gate), gate_count=PROCESSES)
            for i, argv in enumerate(argvs)))

        codes = [o.exit_code for o in outcomes]
        assert sorted(codes) == [0] + [6] * (PROCESSES - 1), codes
        # every one of them tried the lock while the winner held it
        assert len(list(gate.glob("won.*"))) == 1 and len(list(gate.glob("refused.*"))) == PROCESSES - 1
        winner = codes.index(0)
        for i, code in enumerate(codes):
            err = (outs / f"{i}.err").read_text()
            if code == 6:
                assert REFUSED in err and str(project) in err, err
                assert (outs / f"{i}.out").read_text() == ""
                assert "Traceback" not in err
        # nothing interleaved: the store is exactly what the winner's command makes alone
        reference = alone[argvs[winner]]
        assert assert_consistent(project) == seen(reference)
        assert store_content(project) == store_content(reference)
