"""`tieout audit verify`: every hash-chained log checked on its own (tieout.state.chain) and against the anchors
the stored days wrote of it (tieout.state.anchors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tieout.config import Project
from tieout.state import chain
from tieout.state.anchors import BrokenAnchor, check

# Every log of tieout.state.anchors.LOGS, in the order `audit verify` reports them: the corrections log first, as
# it always was. A new hash-chained log is added to both, and to `_chain` here and `_table` there.
VERIFIED_LOGS = ("corrections", "audit")


@dataclass(frozen=True)
class LogCheck:
    verdict: chain.Verdict  # the chain on its own
    anchors: int  # how many of the stored days' anchors name this log
    broken: list[BrokenAnchor] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not self.broken

    @property
    def entries(self) -> int:
        return self.verdict.entries

    @property
    def head_seq(self) -> int:
        return self.verdict.head_seq

    @property
    def head_hash(self) -> str:
        return self.verdict.head_hash

    @property
    def problem(self) -> str | None:
        return self.verdict.problem or (self.broken[0].problem if self.broken else None)

    @property
    def broken_seq(self) -> int | None:
        if not self.verdict.ok:
            return self.verdict.broken_seq
        return self.broken[0].anchor.seq if self.broken else None

    @property
    def message(self) -> str:
        """The chain's first break; else the first anchor it no longer matches; else OK, with the anchors."""
        if not self.verdict.ok:
            return self.verdict.message
        if self.broken:
            return self.broken[0].message
        matched = f"; {self.anchors} anchor{'s' if self.anchors != 1 else ''} in the day store match" \
            if self.anchors else "; no stored day anchors it yet"
        return self.verdict.message + matched

    def as_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {"log": v.log, "ok": self.ok, "entries": v.entries, "head_seq": v.head_seq, "head_hash": v.head_hash,
                "problem": self.problem, "broken_seq": self.broken_seq, "message": self.message,
                "anchors_checked": self.anchors, "anchors_broken": [
                    {"day": b.day.isoformat(), "seq": b.anchor.seq, "hash": b.anchor.hash, "found": b.found}
                    for b in self.broken]}


def _chain(project: Project, log: str) -> chain.Verdict:
    if log == "audit":
        from tieout.workflow.audit import verify_audit

        return verify_audit(project)
    from tieout.corrections.log import verify_corrections

    return verify_corrections(project)


def verify_logs(project: Project, logs: Iterable[str] = VERIFIED_LOGS) -> list[LogCheck]:
    """Check each of `logs`: its chain, and every anchor the day store holds of it."""
    from tieout.store.manifest import anchored

    chosen = list(logs)
    anchors = anchored(project)
    broken = check(project, anchors, chosen)
    return [LogCheck(_chain(project, log), sum(1 for _, a in anchors if a.log == log),
                     [b for b in broken if b.anchor.log == log]) for log in chosen]
