"""Hash-chained, append-only logs: how an entry is serialised and linked, appended, and verified.

Entry n stores `seq` n, `body` — the canonical serialisation of its fields and its seq (JSON, keys sorted,
no spaces, decimals, dates and timestamps as strings) — `prev_hash`, the hash of entry n − 1 (64 zeros for
the first), and `hash = sha256(prev_hash + body)`. The log's head (`log_heads`) keeps the last seq and hash.

`verify` walks the entries in seq order and names the first one that breaks the chain, and how:

- **edited** — its columns no longer serialise to its body, or its hash is not sha256(prev_hash + body);
  or it was re-hashed after an edit, so the entry after it (or the head) no longer links to it;
- **deleted** — the entry after a gap was written to follow an entry that is no longer there (its written
  seq jumps), or the head names entries past the last one;
- **reordered** — an entry was written to follow an entry stored after it;
- **inserted** — two entries carry one seq; or the chain runs around an entry (the entry after it links
  to the one before it and nothing links to it); or an entry was written to follow one stored further back
  (those between were inserted); or entries lie past the head.

A log rewritten whole, every hash recomputed and the head updated, verifies: a chain proves the log was not
changed piecemeal, not who wrote it. Keep the head hash that `verify` prints somewhere else to catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from tieout.state.tables import log_heads

GENESIS = "0" * 64
EDITED, DELETED, REORDERED, INSERTED = "edited", "deleted", "reordered", "inserted"


def utc_text(moment: datetime) -> str:
    """A timestamp as the chain writes it: UTC, microseconds, `Z` (a naive one is taken to be UTC already,
    as SQLite hands timestamps back without their zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot serialise {type(value).__name__} into a log entry")


def serialise(fields: Mapping[str, Any]) -> str:
    """The canonical serialisation a hash covers: stable whatever the database hands back."""
    return json.dumps({k: _plain(v) for k, v in fields.items()}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def link(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(connection: Connection, table: Table, log: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Append one entry to `log` (stored in `table`) inside the caller's write transaction; return its row.

    The head row is read FOR UPDATE (Postgres: a second appender waits for this transaction); on SQLite the
    caller's BEGIN IMMEDIATE already made this the only writer. Either way seq and prev_hash come from a
    head nobody else can move until this commits, so the chain stays one line.
    """
    head = connection.execute(
        select(log_heads.c.seq, log_heads.c.hash).where(log_heads.c.log == log).with_for_update()
    ).one()
    seq = head.seq + 1
    body = serialise({"seq": seq, **fields})
    row = {**fields, "seq": seq, "body": body, "prev_hash": head.hash, "hash": link(head.hash, body)}
    connection.execute(insert(table).values(**row))
    connection.execute(update(log_heads).where(log_heads.c.log == log).values(seq=seq, hash=row["hash"]))
    return row


@dataclass(frozen=True)
class Entry:
    """One stored entry as verify sees it: the chain's columns and the fields its body must match."""

    id: int
    seq: int
    body: str
    prev_hash: str
    hash: str
    fields: Mapping[str, Any]

    def written_seq(self) -> int | None:
        try:
            seq = json.loads(self.body).get("seq")
        except (ValueError, AttributeError):
            return None
        return seq if isinstance(seq, int) and not isinstance(seq, bool) else None

    def changed_fields(self) -> list[str]:
        """The fields whose column no longer holds what the body says was written."""
        try:
            written = json.loads(self.body)
        except ValueError:
            return ["body"]
        if not isinstance(written, dict):
            return ["body"]
        changed = [k for k, v in self.fields.items() if k not in written or written[k] != _plain(v)]
        # A field written once and emptied since (an optional one, left out of `fields` when empty).
        return changed + [k for k in written if k != "seq" and k not in self.fields]

    def consistent(self) -> bool:
        """Its columns serialise to its body (its written seq aside) and its hash covers that body."""
        written = self.written_seq()
        return (written is not None and serialise({"seq": written, **self.fields}) == self.body
                and link(self.prev_hash, self.body) == self.hash)


@dataclass(frozen=True)
class Verdict:
    log: str
    entries: int
    head_seq: int
    head_hash: str
    problem: str | None = None  # edited | deleted | reordered | inserted
    broken_seq: int | None = None
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.ok:
            span = f" (seq 1–{self.head_seq})" if self.entries else ""
            return f"OK: {self.log} log intact: {self.entries} entr{'y' if self.entries == 1 else 'ies'}{span}, " \
                   f"head {self.head_hash}"
        at = f" at seq {self.broken_seq}" if self.broken_seq is not None else ""
        return f"{self.log} log broken{at}: {self.problem} — {self.why}"


def verify(log: str, entries: Sequence[Entry], head: tuple[int, str] | None) -> Verdict:
    """Check `entries` (in seq order, then id) against each other and the head; name the first break."""
    found = _first_break(entries, head)
    head_seq, head_hash = head if head is not None else (0, GENESIS)
    if found is None:
        return Verdict(log, len(entries), head_seq, head_hash)
    problem, seq, why = found
    return Verdict(log, len(entries), head_seq, head_hash, problem, seq, why)


def _first_break(entries: Sequence[Entry], head: tuple[int, str] | None) -> tuple[str, int | None, str] | None:
    if head is None:
        return DELETED, None, "the log's head record is missing"
    head_seq, head_hash = head
    at = {e.hash: i for i, e in reversed(list(enumerate(entries)))}
    linked_to = {e.prev_hash for e in entries} | {head_hash}
    prev_hash, prev_written = GENESIS, 0
    for i, e in enumerate(entries):
        following = entries[i + 1].prev_hash if i + 1 < len(entries) else head_hash
        if i + 1 < len(entries) and entries[i + 1].seq == e.seq:
            twins = [x for x in entries if x.seq == e.seq]
            genuine = {x.id for x in twins if x.hash in linked_to and x.prev_hash == prev_hash}
            strays = ", ".join(str(x.id) for x in twins if x.id not in genuine) or "?"
            return INSERTED, e.seq, f"{len(twins)} entries carry seq {e.seq}; the chain does not run through " \
                                    f"the one(s) stored with id {strays}"
        if following == prev_hash and e.hash not in linked_to:
            after = "the entry after it" if i + 1 < len(entries) else "the log's head"
            return INSERTED, e.seq, f"the chain runs around it: {after} follows the entry before it, and nothing " \
                                    "follows it"
        written = e.written_seq()
        if written is None or not e.consistent():
            changed = e.changed_fields() if written is not None else ["body"]
            return EDITED, e.seq, "its content no longer matches its hash" + \
                (f" ({', '.join(changed)} changed since it was written)" if changed else "")
        if e.prev_hash != prev_hash:
            j = at.get(e.prev_hash)
            if j is None:
                if written > prev_written + 1:
                    missing = f"seq {prev_written + 1}" + (f"–{written - 1}" if written - 1 > prev_written + 1
                                                           else "")
                    return DELETED, prev_written + 1, f"{missing} missing: the entry written as seq {written} " \
                                                      "follows an entry that is no longer there"
                if i > 0:
                    return EDITED, entries[i - 1].seq, f"it was re-hashed: the entry after it (seq {e.seq}) " \
                                                       "was written to follow something else"
                return EDITED, e.seq, "it no longer links to the start of the log"
            if j > i:
                return REORDERED, e.seq, f"it was written as seq {written}, after an entry now stored later " \
                                         f"(seq {entries[j].seq})"
            if j < i - 1:
                return INSERTED, entries[j + 1].seq, f"the entry stored as seq {e.seq} was written to follow " \
                                                     f"seq {entries[j].seq}; the entries between were inserted"
            return EDITED, e.seq, "it links to itself"
        if written != e.seq:
            return EDITED, e.seq, f"its seq was changed (it was written as seq {written})"
        if written != prev_written + 1:
            return EDITED, e.seq, f"it was written as seq {written} but follows seq {prev_written}"
        prev_hash, prev_written = e.hash, written
    if head_hash != prev_hash:
        j = at.get(head_hash)
        if j is not None:
            return INSERTED, entries[j + 1].seq, f"the log's head is seq {entries[j].seq}; the entries after it " \
                                                 "were inserted"
        if head_seq > prev_written:
            missing = f"seq {prev_written + 1}" + (f"–{head_seq}" if head_seq > prev_written + 1 else "")
            return DELETED, prev_written + 1, f"{missing} missing: the log's head records seq {head_seq}"
        last = entries[-1].seq if entries else None
        return EDITED, last, "it was re-hashed: the log's head records another hash for it"
    if head_seq != prev_written:
        return EDITED, None, f"the log's head records seq {head_seq}, its entries end at seq {prev_written}"
    return None
