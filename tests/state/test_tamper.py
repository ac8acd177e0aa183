"""`verify` names the first broken entry of a corrections log changed behind tieout's back with SQL, and
how it was changed: edited, deleted, reordered or inserted. Each case on SQLite and on Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from tieout import state
from tieout.config import Project
from tieout.corrections import record_correction, verify_corrections
from tieout.corrections.log import FIELDS
from tieout.state import chain
from tieout.state.tables import corrections

START = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
COLUMNS = ("seq", *FIELDS, "body", "prev_hash", "hash")


def _log_of_five(project: Project) -> None:
    for n in range(1, 6):
        record_correction(project, canonical_id="ACME", system="billing", field="legal_name",
                          old_value=f"Acme {n - 1}", new_value=f"Acme {n}", reason=f"fix {n}", who="ana",
                          ticket=f"FIN-{n}", at=START + timedelta(hours=n))


def _unguard(connection: Connection) -> None:
    """Drop the append-only triggers, as someone with the database's owner rights could."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER corrections_append_only ON corrections"))
    else:
        connection.execute(text("DROP TRIGGER corrections_no_update"))
        connection.execute(text("DROP TRIGGER corrections_no_delete"))


def _row(connection: Connection, seq: int) -> dict[str, Any]:
    # Through the typed table, so that timestamps come back as tieout reads them.
    return dict(connection.execute(select(corrections).where(corrections.c.seq == seq)).mappings().one())


def _forge(connection: Connection, *, seq: int, after: dict[str, Any], new_value: str, consistent: bool = True
           ) -> None:
    """Insert an entry of a forger's making at `seq`, written to follow `after` (with a correct hash, or not)."""
    fields = {k: after[k] for k in FIELDS} | {"new_value": new_value, "reason": "forged"}
    body = chain.serialise({"seq": seq, **fields})
    digest = chain.link(after["hash"], body) if consistent else "f" * 64
    connection.execute(insert(corrections).values(**fields, seq=seq, body=body, prev_hash=after["hash"],
                                                  hash=digest))


def _rehash(connection: Connection, seq: int, **changes: Any) -> None:
    """Edit entry `seq` and recompute its body and hash, as a forger who knows the format would."""
    row = _row(connection, seq) | changes
    body = chain.serialise({"seq": seq, **{k: row[k] for k in FIELDS}})
    connection.execute(text("UPDATE corrections SET new_value = :v, body = :b, hash = :h WHERE seq = :s"),
                       {"v": row["new_value"], "b": body, "h": chain.link(row["prev_hash"], body), "s": seq})


def _swap_seqs(connection: Connection, a: int, b: int) -> None:
    connection.execute(text("UPDATE corrections SET seq = -1 WHERE seq = :a"), {"a": a})
    connection.execute(text("UPDATE corrections SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    connection.execute(text("UPDATE corrections SET seq = :b WHERE seq = -1"), {"b": b})


def _swap_contents(connection: Connection, a: int, b: int) -> None:
    """Swap everything but seq and id between two entries: the rows stay put, their entries move."""
    ra, rb = _row(connection, a), _row(connection, b)
    for seq, source in ((a, rb), (b, ra)):
        connection.execute(update(corrections).where(corrections.c.seq == seq)
                           .values(**{c: source[c] for c in COLUMNS if c != "seq"}))


def _renumber_from(connection: Connection, seq: int, by: int) -> None:
    # In two steps, so that no statement meets the unique index on seq halfway.
    connection.execute(text("UPDATE corrections SET seq = seq + 1000 WHERE seq >= :s"), {"s": seq})
    connection.execute(text("UPDATE corrections SET seq = seq - 1000 + :by WHERE seq >= 1000"), {"by": by})


def _insert_renumbered(consistent: bool) -> Callable[[Connection], None]:
    def tamper(c: Connection) -> None:
        before = _row(c, 2)
        _renumber_from(c, 3, by=1)
        _forge(c, seq=3, after=before, new_value="Forged", consistent=consistent)
    return tamper


def _insert_duplicate(c: Connection) -> None:
    c.execute(text("DROP INDEX ux_corrections_seq"))
    _forge(c, seq=3, after=_row(c, 2), new_value="Forged")


def _set(sql: str) -> Callable[[Connection], None]:
    return lambda c: c.execute(text(sql))


CASES: dict[str, tuple[Callable[[Connection], None], str, int | None]] = {
    "a value edited": (_set("UPDATE corrections SET new_value = 'Forged' WHERE seq = 3"), "edited", 3),
    "the reason edited": (_set("UPDATE corrections SET reason = 'other' WHERE seq = 1"), "edited", 1),
    "who edited, last entry": (_set("UPDATE corrections SET who = 'bob' WHERE seq = 5"), "edited", 5),
    "the time edited": (lambda c: c.execute(text("UPDATE corrections SET recorded_at = :t WHERE seq = 2"),
                                            {"t": START - timedelta(days=3)}), "edited", 2),
    "edited and re-hashed": (lambda c: _rehash(c, 3, new_value="Forged"), "edited", 3),
    "the last entry edited and re-hashed": (lambda c: _rehash(c, 5, new_value="Forged"), "edited", 5),
    "a middle entry deleted": (_set("DELETE FROM corrections WHERE seq = 3"), "deleted", 3),
    "the first entry deleted": (_set("DELETE FROM corrections WHERE seq = 1"), "deleted", 1),
    "the last entry deleted": (_set("DELETE FROM corrections WHERE seq = 5"), "deleted", 5),
    "two entries deleted": (_set("DELETE FROM corrections WHERE seq IN (2, 3)"), "deleted", 2),
    "deleted and the rest renumbered": (
        lambda c: (c.execute(text("DELETE FROM corrections WHERE seq = 3")), _renumber_from(c, 4, by=-1)),
        "deleted", 3),
    "two entries' seqs swapped": (lambda c: _swap_seqs(c, 2, 4), "reordered", 2),
    "the last two swapped": (lambda c: _swap_seqs(c, 4, 5), "reordered", 4),
    "two rows' contents swapped": (lambda c: _swap_contents(c, 2, 3), "reordered", 2),
    "inserted, the rest renumbered, hash computed": (_insert_renumbered(consistent=True), "inserted", 3),
    "inserted, the rest renumbered, hash made up": (_insert_renumbered(consistent=False), "inserted", 3),
    "inserted with a seq already taken": (_insert_duplicate, "inserted", 3),
    "appended past the head": (lambda c: _forge(c, seq=6, after=_row(c, 5), new_value="Forged"), "inserted", 6),
    "appended past the head, hash made up": (
        lambda c: _forge(c, seq=6, after=_row(c, 5), new_value="Forged", consistent=False), "inserted", 6),
    "the head record deleted": (_set("DELETE FROM log_heads WHERE log = 'corrections'"), "deleted", None),
}


def test_an_intact_log_verifies(state_project: Project) -> None:
    _log_of_five(state_project)
    verdict = verify_corrections(state_project)
    assert verdict.ok, verdict.message
    assert (verdict.entries, verdict.head_seq) == (5, 5)
    assert verdict.message.startswith("OK: corrections log intact: 5 entries (seq 1–5), head ")


@pytest.mark.parametrize("case", CASES)
def test_tampering_is_named(state_project: Project, case: str) -> None:
    tamper, problem, seq = CASES[case]
    _log_of_five(state_project)
    with state.engine_for(state_project).begin() as connection:
        _unguard(connection)
        tamper(connection)
    verdict = verify_corrections(state_project)
    assert (verdict.problem, verdict.broken_seq) == (problem, seq), verdict.message
    assert f"{problem} — " in verdict.message
    if seq is not None:
        assert f"broken at seq {seq}:" in verdict.message


@pytest.mark.parametrize("statement", ["UPDATE corrections SET reason = 'x' WHERE seq = 1",
                                       "DELETE FROM corrections WHERE seq = 1"])
def test_the_database_refuses_updates_and_deletes(state_project: Project, statement: str) -> None:
    _log_of_five(state_project)
    with pytest.raises(Exception, match="append-only"), state.engine_for(state_project).begin() as connection:
        connection.execute(text(statement))
    assert verify_corrections(state_project).ok


def test_an_edit_names_the_changed_field(state_project: Project) -> None:
    _log_of_five(state_project)
    with state.engine_for(state_project).begin() as connection:
        _unguard(connection)
        connection.execute(text("UPDATE corrections SET new_value = 'Forged' WHERE seq = 2"))
    assert "(new_value changed since it was written)" in verify_corrections(state_project).message
