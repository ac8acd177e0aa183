"""SIGKILL at every write boundary of `run`, `backfill` and the day commit, and at random moments: the store
stays consistent, shows either the state before the command or a state the command commits on its way, and
running the same command again gives exactly the result of a run never killed (docs/security.md, "Crashes and
concurrent runs").

How: `boundaries.py` runs the command once (a dry run) to list its write boundaries and the state on disk just
before and just after each one, and copies the project at the first point (before or after boundary N) where
each distinct state appears. Every write is a boundary, so these are all the states a SIGKILL between two
writes can leave, partly written files included (a kill before a Parquet writer's close); points that leave the
same bytes on disk (before an fsync and after the write it follows) are one state. A kill writes nothing, so the
copy is the store a kill at that point leaves: each copy is checked and the command run again on it. Real
SIGKILLs of fresh copies of the project, at every 4th point, show that they leave exactly the copied state
(every point with TIEOUT_KILL_EVERY_POINT=1).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import new_project
from tests.security.boundaries import Outcome, Request, Server, disk_state
from tests.store_checks import assert_consistent, seen, store_content
from tests.test_source_history import WORLD

pytestmark = pytest.mark.slow

# Known gap (docs/security.md, "Not guaranteed"): a stored day run again moves its own new source history into
# place before its commit; killed in between, the names read from the store are the new exports' while the
# findings are the old run's. The battery holds everything else of that state to the exact commit.
NAMES_AHEAD = "entity names of a re-run day read from its new source history before its commit"
# A day commit: the day manifest's temporary file moved into place (days.py).
COMMIT = re.compile(r"os\.replace .*/\.tieout/days/\.manifest\.json\.\d+\.tmp")
CHANGED_22 = WORLD["2026-01-23"]
# A real SIGKILL at every 4th distinct point of each command (the first and the last always) shows that a kill
# there leaves the very state the dry run copied.
KILL_EVERY = 4  # the 22nd's exports corrected after it was stored: its findings change


@dataclass(frozen=True)
class Scenario:
    name: str
    stored: tuple[str, ...]  # days stored before the command, in this order
    argv: tuple[str, ...]
    # each state the command commits on its way (the store before it comes first): a day after another
    milestones: tuple[tuple[str, ...], ...] = ()
    exports: tuple[tuple[str, dict[str, str]], ...] = ()  # exports replaced once the days are stored
    # The command replaces a stored day's own source history before its commit: see NAMES_AHEAD.
    replaces_own_history: bool = False
    # Check the store left at every `every`-th distinct point and run the command again on it (the first and
    # the last always). A daily run's first and next day are checked at every point; the other commands' points
    # are mostly those points again, so `make test` samples them to stay within its time;
    # TIEOUT_KILL_EVERY_POINT=1 checks (and kills at) every point of every command.
    every: int = 1


def _run(day: str) -> tuple[str, ...]:
    return ("run", "--as-of", day, "--format", "json")


def _backfill(start: str, end: str, jobs: int) -> tuple[str, ...]:
    return ("backfill", "--from", start, "--to", end, "--jobs", str(jobs), "--format", "json")


SCENARIOS = [
    Scenario("first run of a fresh store", (), _run("2026-01-20")),
    Scenario("the next day", ("2026-01-20", "2026-01-21"), _run("2026-01-22")),
    Scenario("a stored day run again on corrected exports", ("2026-01-20", "2026-01-21", "2026-01-22"),
             _run("2026-01-22"), exports=(("2026-01-22", CHANGED_22),), replaces_own_history=True, every=2),
    Scenario("an earlier day out of order", ("2026-01-20", "2026-01-22"), _run("2026-01-21"), every=2),
    Scenario("backfill --jobs 1", ("2026-01-20",), _backfill("2026-01-21", "2026-01-22", 1),
             milestones=(_run("2026-01-21"),), every=3),
    Scenario("backfill --jobs 2", ("2026-01-20",), _backfill("2026-01-21", "2026-01-22", 2),
             milestones=(_run("2026-01-21"),), every=5),
]


class Battery:
    """One scenario: its project before the command, the command's references, and the kills."""

    def __init__(self, server: Server, tmp: Path, scenario: Scenario) -> None:
        self.server = server
        self.tmp = tmp
        self.scenario = scenario
        self.gaps: list[str] = []  # kill points that showed NAMES_AHEAD
        self.before = new_project(tmp / "before", WORLD)
        for day in scenario.stored:
            self.command(self.before, _run(day))
        for day, files in scenario.exports:
            new_project(self.before, {day: files})
        # What the store may show after a kill: as it was, or as each commit on the way left it.
        self.allowed = [seen(self.before)]
        for i, milestone in enumerate(scenario.milestones):
            partway = self.copy(f"milestone-{i}")
            self.command(partway, milestone)
            self.allowed.append(seen(partway))
        self.clean = self.copy("clean")
        self.snapshots = tmp / "snapshots"
        dry = self.command(self.clean, scenario.argv, record_states=True, snapshots=str(self.snapshots))
        self.boundaries, self.states = dry.boundaries, dry.states
        self.state_at = {(n, when): state for n, when, state in dry.states}
        self.output = self.stdout(self.clean)
        self.final = seen(self.clean)
        self.allowed.append(self.final)
        self.content = store_content(self.clean)

    def copy(self, name: str) -> Path:
        target = self.tmp / name
        shutil.copytree(self.before, target)
        return target

    def argv(self, project: Path, argv: tuple[str, ...]) -> list[str]:
        return [*argv, "-p", str(project)]

    def command(self, project: Path, argv: tuple[str, ...], **how: object) -> Outcome:
        # the command's output beside the project, not in it: the states on disk are the project's alone
        out = self.server.one(Request(self.argv(project, argv), str(project), stdout=str(self._out(project)),
                                      stderr=str(self._err(project)), **how))  # type: ignore[arg-type]
        if how.get("kill_at") is None and how.get("kill_after") is None:
            assert out.exit_code == 0, self._err(project).read_text()
        return out

    @staticmethod
    def _out(project: Path) -> Path:
        return project.with_name(project.name + ".out.json")

    @staticmethod
    def _err(project: Path) -> Path:
        return project.with_name(project.name + ".err.txt")

    def stdout(self, project: Path) -> object:
        """The command's JSON output without its timings."""
        def untimed(record: dict) -> dict:
            return {k: v for k, v in record.items() if k != "seconds"}

        got = json.loads(self._out(project).read_text())
        return [untimed(r) for r in got] if isinstance(got, list) else untimed(got)

    def kill_points(self) -> list[tuple[int, str]]:
        """(N, before|after): the first point at which each distinct state on disk appears, each with the dry
        run's copy of the project there."""
        known = {disk_state(str(self.before))}
        points = []
        for n, when, state in self.states:
            if state not in known:
                known.add(state)
                points.append((n, when))
        assert sorted(p.name for p in self.snapshots.iterdir()) == sorted(f"{n}-{when}" for n, when in points)
        return points

    @staticmethod
    def sample(points: list[tuple[int, str]], every: int) -> list[tuple[int, str]]:
        """Every `every`-th point, the first and the last always; every point with TIEOUT_KILL_EVERY_POINT=1."""
        every = 1 if os.environ.get("TIEOUT_KILL_EVERY_POINT") == "1" else every
        return [p for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1]

    def check_killed(self, project: Path, where: str, commits: int | None = None) -> None:
        """Consistent, and showing the store as it was before the command or as one of its commits left it:
        the one after `commits` commits when the kill point is known."""
        now = assert_consistent(project)
        if self.scenario.replaces_own_history and now not in self.allowed:  # NAMES_AHEAD, and nothing else
            now, allowed = now.without_entity_names(), [a.without_entity_names() for a in self.allowed]
            self.gaps.append(where)
        else:
            allowed = self.allowed
        assert now in allowed, f"{where}: the store shows a state that no commit made"
        if commits is not None:
            assert now == allowed[commits], f"{where}: not the store as the last commit before it left it"

    def commits_before(self, n: int, when: str) -> int:
        """How many day commits (the manifest's replacement) the command made before the kill point."""
        done = self.boundaries[: n if when == "after" else n - 1]
        return sum(bool(COMMIT.fullmatch(b)) for b in done)

    def check_rerun(self, project: Path, where: str) -> None:
        self.command(project, self.scenario.argv)
        assert self.stdout(project) == self.output, where
        # The same store as a clean run's, file by file: so every reader shows what it shows after a clean run.
        assert store_content(project) == self.content, f"{where}: the store differs from a clean run's"

    def where(self, n: int, when: str) -> str:
        return f"{self.scenario.name}: killed {when} boundary {n} ({self.boundaries[n - 1]})"

    def check_at(self, n: int, when: str) -> None:
        """The store a kill at this point leaves (the dry run's copy of it) is consistent, and the command run
        again on it gives what a run never killed gives."""
        project = self.snapshots / f"{n}-{when}"
        self.check_killed(project, self.where(n, when), self.commits_before(n, when))
        self.check_rerun(project, self.where(n, when))
        shutil.rmtree(project)

    def kill_at(self, n: int, when: str) -> Path:
        """SIGKILL the command at this point on a fresh copy of the project: it leaves exactly the state on disk
        the dry run passed there (so the dry run's copy stands for it in `check_at`)."""
        project = self.copy(f"killed-{n}-{when}")
        out = self.command(project, self.scenario.argv, kill_at=n, when=when)
        assert out.signal == signal.SIGKILL, self.where(n, when)
        assert disk_state(str(project), out.pid) == self.state_at[(n, when)], self.where(n, when)
        return project


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with Server() as s:
        yield s


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_sigkill_at_every_write_boundary(server: Server, tmp_path: Path, scenario: Scenario) -> None:
    battery = Battery(server, tmp_path, scenario)
    # the hooks see the writes that matter: each day's commit point and the source history among them
    assert battery.commits_before(len(battery.boundaries), "after") == len(battery.allowed) - 1
    assert any("/history/" in b for b in battery.boundaries)
    points = battery.kill_points()
    assert len(points) >= 10
    for n, when in battery.sample(points, KILL_EVERY):
        shutil.rmtree(battery.kill_at(n, when))
    for n, when in battery.sample(points, scenario.every):
        battery.check_at(n, when)


def test_a_kill_between_the_next_days_history_and_the_commit(server: Server, tmp_path: Path) -> None:
    """A run of an earlier day moves the next stored day's re-based source history into place before its own
    commit. Killed in between, the queue still lists that next day's ownership edits: they were stored with the
    day (tieout.store.breaks), not found again in a history that is ahead of the commit — once a known gap."""
    battery = Battery(server, tmp_path, SCENARIOS[3])
    rebased = next(n for n, b in enumerate(battery.boundaries, start=1) if b.endswith(".2026-01-22.pending.parquet"))
    project = battery.kill_at(rebased, "after")
    assert seen(project) == battery.allowed[0]


def test_sigkill_at_random_moments_of_a_backfill(server: Server, tmp_path: Path) -> None:
    """Ten kills at random moments, one after another on the same project (each restart goes further), then
    the backfill completes it as if nothing had happened."""
    scenario = Scenario("random kills", (), _backfill("2026-01-20", "2026-01-23", 2),
                        milestones=tuple(_backfill("2026-01-20", end, 2) for end in
                                         ("2026-01-20", "2026-01-21", "2026-01-22")))
    battery = Battery(server, tmp_path, scenario)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    project = battery.copy("killed")
    for i in range(10):
        delay = rng.uniform(0.2, 4.0)
        where = f"random kill {i} after {delay:.2f}s (seed {seed})"
        out = battery.command(project, scenario.argv, kill_after=delay)
        if out.signal is None:  # it finished first: start again from the store before it
            assert out.exit_code == 0, where
            shutil.rmtree(project)
            project = battery.copy(f"killed-{i}")
            continue
        battery.check_killed(project, where)
    battery.check_rerun(project, f"after the random kills (seed {seed})")
