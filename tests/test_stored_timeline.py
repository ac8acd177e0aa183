"""The stored timeline (tieout.store.episodes) answers exactly what deriving it from the day files answers, in
every world, whatever order its days were stored in, re-run or not — the derivation is the oracle."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import new_project, tree_digest
from tieout.config import Project, load_project
from tieout.store.days import FINDING_COLUMNS, commit_day
from tieout.store.manifest import MANIFEST, days_dir, named_files, read
from tieout.timeline import daily_counts, derived, episodes, exceptions

START = date(2026, 1, 25)  # the days run into February: the stored timeline is kept by month
# A small pool of exceptions, so that they come and go, change and come back across a few days.
IDENTITIES = [(rule, cid) for rule in ("CRM_ACTIVE_BILLING_INACTIVE", "FTE_THRESHOLD_DRIFT")
              for cid in ("C1", "C2", "C3")]
_TYPES = pa.schema([(c, pa.decimal128(20, 4) if c in ("impact", "original_amount") else pa.string())
                    for c in FINDING_COLUMNS])


def _id(rule: str, cid: str) -> str:
    return hashlib.md5(f"{rule}|{cid}".encode()).hexdigest()[:16]


# One day's findings: for each exception reported, which version of its attributes (impact, severity).
Day = dict[int, int]


def _findings(day: Day) -> pa.Table:
    rows = []
    for i, version in sorted(day.items()):
        rule, cid = IDENTITIES[i]
        rows.append({"id": _id(rule, cid), "rule": rule, "canonical_id": cid, "source_system": None,
                     "source_id": None, "field": None, "impact": Decimal(100 * (version + 1)),
                     "severity": ("P1", "P2", "P3")[version], "team": "ar", "details": f"v{version}",
                     "original_amount": None, "original_currency": None})
    return pa.Table.from_pylist(rows, schema=_TYPES)


days_st = st.dictionaries(st.integers(0, len(IDENTITIES) - 1), st.integers(0, 2), max_size=len(IDENTITIES))


@dataclass(frozen=True)
class World:
    """What each stored day reports in the end, and the order the commits came in (a day may be committed
    with other findings first, then again with its final ones)."""

    final: dict[date, Day]
    commits: list[tuple[date, Day]]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    offsets = draw(st.lists(st.integers(0, 12), min_size=1, max_size=7, unique=True))
    final = {START + timedelta(days=o): draw(days_st) for o in offsets}
    commits = [(day, final[day]) for day in draw(st.permutations(sorted(final)))]
    # Runs with other findings, each somewhere before the day's final run, which supersedes it.
    for day, findings in draw(st.lists(st.tuples(st.sampled_from(sorted(final)), days_st), max_size=5)):
        last = max(i for i, (d, _) in enumerate(commits) if d == day)
        commits.insert(draw(st.integers(0, last)), (day, findings))
    tail = draw(st.lists(st.sampled_from(sorted(final)), max_size=3))  # re-runs of the same findings
    return World(final, commits + [(d, final[d]) for d in tail])


# An exception that ended on the last day, reported again on a re-run of it as the day before reported it: only
# the end stored before tells the update that the exception is touched.
_ENDED_THEN_NOT = World({START: {0: 0}, START + timedelta(days=1): {0: 0}},
                        [(START, {0: 0}), (START + timedelta(days=1), {}), (START + timedelta(days=1), {0: 0})])


def _store(root: Path, commits: list[tuple[date, Day]]) -> Project:
    project = load_project(new_project(root, {}))
    for day, findings in commits:
        commit_day(project, day, _findings(findings))
    return project


def _segments(project: Project) -> dict[str, list[tuple]]:
    """The stored timeline's rows by segment (`open`, or the month its episodes ended)."""
    out = {}
    for name in read(project).episodes or ():
        rows = pq.read_table(days_dir(project) / name).to_pylist()
        out[name.split(".")[1]] = sorted(tuple(r.values()) for r in rows)
    return out


def _everything(project: Project) -> object:
    """Every answer of the timeline: the queue (all statuses) as of each stored day, every episode up to each
    stored day, of one exception and of one entity, and the open queue per day."""
    stored = [d.day for d in read(project).days]
    return (
        [exceptions(project, {}, as_of=d, status="all") for d in stored],
        [episodes(project, until=d) for d in stored],
        [episodes(project, exception_id=_id(*IDENTITIES[0]))],
        [episodes(project, canonical_id="C2", until=d) for d in stored],
        daily_counts(project, {}),
        daily_counts(project, {}, start=stored[len(stored) // 2]),
    )


@pytest.mark.slow  # about 2 s a world on a busy machine
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
@example(_ENDED_THEN_NOT)
def test_the_stored_timeline_is_the_derived_one_in_any_order(world: World) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = _store(Path(tmp) / "shuffled", world.commits)
        assert read(project).episodes is not None
        stored = _everything(project)
        with derived():
            assert stored == _everything(project)
        # The same as the days stored once each in date order: it depends on what is stored, not how.
        in_order = _store(Path(tmp) / "in-order", sorted(world.final.items()))
        assert read(project).days == read(in_order).days
        assert _segments(project) == _segments(in_order)


def test_a_store_from_before_the_stored_timeline_is_derived_then_gains_it(tmp_path: Path) -> None:
    world = {START + timedelta(days=i): {i % 3: 0, 3 + i % 2: i % 3} for i in range(6)}
    project = _store(tmp_path / "p", sorted(world.items())[:5])
    with derived():
        expected = _everything(project)
    # An older tieout wrote the manifest without it (and the file is gone).
    path = days_dir(project) / MANIFEST
    body = json.loads(path.read_text())
    for segment in body.pop("episodes"):
        (days_dir(project) / segment).unlink()
    path.write_text(json.dumps(body))
    assert read(project).episodes is None
    files = tree_digest(project.store_path)
    assert _everything(project) == expected  # readers derive it, and write nothing
    assert tree_digest(project.store_path) == files

    last, findings = sorted(world.items())[5]
    commit_day(project, last, _findings(findings))  # the next commit writes it, from every day file
    assert set(read(project).episodes or ()) <= named_files(project)
    stored = _everything(project)
    with derived():
        assert stored == _everything(project)
