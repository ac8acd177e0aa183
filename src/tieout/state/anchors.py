"""Log anchors: the head of every hash-chained log, written outside the database it protects.

A hash chain proves a log was not changed piecemeal; it cannot prove that it was not cut short (delete the last
entries, copy the surviving hash into `log_heads`) or rewritten from some entry on, every hash recomputed. So
each committed day writes the head (seq and hash) of every log into the day store's manifest, in the same
`os.replace` that commits the day (tieout.store.manifest), and the monthly pack prints them. `verify` checks that every
anchored entry is still there with the anchored hash: an entry removed, a log re-chained or emptied after a day
was committed no longer matches its anchor.

Anchors live beside the findings, in files the state database does not hold, so a change to the database alone
is caught. Whoever can rewrite both the database and the day store can rewrite both consistently; the anchors
printed in a monthly pack that has left the building are the copy they cannot reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tieout.config import Project
from tieout.state.location import may_exist

if TYPE_CHECKING:
    from sqlalchemy import Table

# Every hash-chained log of the state database, and the table that holds it.
LOGS = ("audit", "corrections")


@dataclass(frozen=True)
class Anchor:
    log: str
    seq: int
    hash: str


@dataclass(frozen=True)
class BrokenAnchor:
    """An anchor the log no longer matches: which day wrote it, and what the log holds at its seq now."""

    day: date
    anchor: Anchor
    found: str | None  # the hash stored at that seq now; None when no entry has that seq

    @property
    def problem(self) -> str:
        return "deleted" if self.found is None else "edited"

    @property
    def message(self) -> str:
        a = self.anchor
        now = ("there is no such entry now: the log was cut short, emptied or deleted" if self.found is None else
               f"the entry there now has hash {self.found}: the log was edited or re-chained since")
        return (f"{a.log} log broken at seq {a.seq}: {self.problem} — the day {self.day} anchored seq {a.seq} "
                f"with hash {a.hash} in the day store's manifest; {now}")


def current_heads(project: Project) -> tuple[Anchor, ...]:
    """The head of every log that has entries, as `log_heads` records it now (none without a state database:
    a project that never recorded anything has nothing to anchor, and SQLAlchemy is not even imported)."""
    if not may_exist(project):
        return ()
    from sqlalchemy import select

    from tieout import state
    from tieout.state.tables import log_heads

    if not state.exists(project):
        return ()
    with state.open(project) as connection:
        rows = connection.execute(select(log_heads.c.log, log_heads.c.seq, log_heads.c.hash)
                                  .where(log_heads.c.log.in_(LOGS), log_heads.c.seq > 0)
                                  .order_by(log_heads.c.log)).all()
    return tuple(Anchor(r.log, r.seq, r.hash) for r in rows)


def _table(log: str) -> Table:
    from tieout.state.tables import audit, corrections

    return {"audit": audit, "corrections": corrections}[log]


def check(project: Project, anchored: Iterable[tuple[date, Anchor]], logs: Iterable[str] = LOGS
          ) -> list[BrokenAnchor]:
    """Every anchor (of `logs`) that the state database no longer matches, the lowest seq of each log first."""
    wanted = [(day, a) for day, a in anchored if a.log in set(logs)]
    if not wanted:
        return []
    from sqlalchemy import select

    from tieout import state

    stored: dict[tuple[str, int], set[str]] = {}
    if state.exists(project):
        with state.open(project) as connection:
            for log in sorted({a.log for _, a in wanted}):
                table = _table(log)
                seqs = sorted({a.seq for _, a in wanted if a.log == log})
                for start in range(0, len(seqs), 500):
                    for seq, digest in connection.execute(select(table.c.seq, table.c.hash)
                                                          .where(table.c.seq.in_(seqs[start:start + 500]))):
                        stored.setdefault((log, seq), set()).add(digest)
    broken = []
    for day, a in wanted:
        there = stored.get((a.log, a.seq), set())
        if a.hash not in there:
            broken.append(BrokenAnchor(day, a, min(there) if there else None))
    return sorted(broken, key=lambda b: (b.anchor.log, b.anchor.seq, b.day))
