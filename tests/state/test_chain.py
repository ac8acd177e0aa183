"""The hash chain's format, on its own: what a hash covers and how an entry is serialised."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tieout.state import chain


def test_serialisation_is_canonical() -> None:
    a = chain.serialise({"b": 1, "a": "é", "when": datetime(2026, 1, 20, 9, 30, tzinfo=UTC), "amount": Decimal("1.50")})
    b = chain.serialise({"amount": Decimal("1.50"), "when": datetime(2026, 1, 20, 9, 30), "a": "é", "b": 1})
    assert a == b == '{"a":"é","amount":"1.50","b":1,"when":"2026-01-20T09:30:00.000000Z"}'


def test_timestamps_are_written_in_utc() -> None:
    berlin = datetime(2026, 1, 20, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert chain.serialise({"t": berlin, "d": date(2026, 1, 20)}) == \
        '{"d":"2026-01-20","t":"2026-01-20T09:30:00.000000Z"}'


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        chain.serialise({"amount": 1.5})


def test_hash_covers_the_previous_hash_and_the_body() -> None:
    assert chain.link(chain.GENESIS, "{}") == hashlib.sha256((chain.GENESIS + "{}").encode()).hexdigest()
    assert chain.link("1" * 64, "{}") != chain.link(chain.GENESIS, "{}")


def _entries(n: int) -> list[chain.Entry]:
    out, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        fields = {"note": f"n{seq}"}
        body = chain.serialise({"seq": seq, **fields})
        out.append(chain.Entry(id=seq, seq=seq, body=body, prev_hash=prev, hash=chain.link(prev, body),
                               fields=fields))
        prev = out[-1].hash
    return out


def test_an_empty_log_verifies() -> None:
    verdict = chain.verify("audit", [], (0, chain.GENESIS))
    assert verdict.ok and verdict.message == f"OK: audit log intact: 0 entries, head {chain.GENESIS}"


def test_a_body_that_is_not_json_is_an_edit() -> None:
    entries = _entries(3)
    broken = [entries[0], chain.Entry(2, 2, "not json", entries[1].prev_hash, entries[1].hash, {"note": "n2"}),
              entries[2]]
    verdict = chain.verify("audit", broken, (3, entries[2].hash))
    assert (verdict.problem, verdict.broken_seq) == ("edited", 2)


def test_a_head_behind_its_entries_means_entries_were_appended_behind_tieout() -> None:
    entries = _entries(4)
    verdict = chain.verify("audit", entries, (2, entries[1].hash))
    assert (verdict.problem, verdict.broken_seq) == ("inserted", 3)
