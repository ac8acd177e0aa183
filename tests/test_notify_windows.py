"""What a digest covers and when P1s go out after a backfill, against the local webhook receiver:

- a channel's digest covers everything since its last delivered digest — not only the as-of day;
- a backfill announces the P1s open at its end, never those its history opened and closed again;
- the dedupe rule, one case each: the same episode twice, a reopening, a severity that rises (and falls back),
  an episode whose start moves when earlier days are run, and a failed delivery retried later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import invoke, new_project, run_days
from tests.test_notify import P1_DAY, Receiver, _yml
from tieout.config import load_project
from tieout.notify.log import deliveries
from tieout.store import stored_days

DAYS = ["2026-01-20", "2026-01-21", "2026-01-22", "2026-01-23", "2026-01-24"]
# ACME's January invoice is missing: CRM_ACTIVE_BILLING_INACTIVE and OPS_ACTIVE_BILLING_INACTIVE (ar, P2)
UNBILLED = {"billing_invoices.csv": P1_DAY["billing_invoices.csv"]}
# a billing customer nobody can place: UNMAPPED_SOURCE_RECORD (billing -> ar, INFO)
STRAY = {"billing_customers.csv": (
    "customer_id,name,email,tax_id,updated_at\n"
    "cus_1,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n"
    "cus_9,Nobody Known Ltd,x@nobody.example,99-0000000,2026-01-20T23:00:00Z\n")}
P2_DAY = {**P1_DAY, "crm_contracts.csv": P1_DAY["crm_contracts.csv"].replace("720000.00", "240000.00")}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _hook(receiver: Receiver, extra: str = "  p1_immediately: false\n") -> str:
    return _yml(f"    ar: [\"json://127.0.0.1:{receiver.port}/hook\"]\n", extra)


def _digest(project: Path, day: str) -> list[dict]:
    result = invoke("notify", "digest", "-p", str(project), "--as-of", day, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sections(message: str) -> dict[str, list[str]]:
    """The digest's lists: heading -> the rules listed under it."""
    out: dict[str, list[str]] = {}
    heading = None
    for line in message.splitlines():
        if line.endswith("):"):
            heading = line.split(" (")[0]
            out[heading] = []
        elif line.startswith("- ") and heading:
            out[heading].append(line.split("] ", 1)[1].split(" ")[0])
    return out


def test_a_digest_covers_everything_since_the_last_one(tmp_path: Path, receiver: Receiver) -> None:
    # day 2 ACME goes unbilled, day 3 it is billed again; day 4 a stray billing customer appears and stays
    project = new_project(tmp_path / "p", {DAYS[0]: {}, DAYS[1]: UNBILLED, DAYS[2]: {}, DAYS[3]: STRAY,
                                           DAYS[4]: STRAY}, _hook(receiver))
    run_days(project, *DAYS)
    first = _digest(project, DAYS[1])
    assert [(o["since"], o["exceptions"], o["ok"]) for o in first] == [(DAYS[0], 2, True)]
    assert _sections(receiver.posts[0]["message"]) == {
        "New": ["CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE"]}

    fifth = _digest(project, DAYS[4])
    assert [(o["since"], o["exceptions"]) for o in fifth] == [(DAYS[1], 3)]
    message = receiver.posts[1]["message"]
    assert f"as of {DAYS[4]} — changes since {DAYS[1]}" in message
    # resolved on day 3 and new on day 4: neither is of the as-of day, both are news since the last digest
    assert _sections(message) == {"New": ["UNMAPPED_SOURCE_RECORD"],
                                  "Resolved": ["CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE"]}
    assert f"resolved {DAYS[2]}" in message and f"first seen {DAYS[3]}" in message
    assert "1 open (0 P1), 0.00 USD at risk." in message
    # told once: the same digest again has nothing left to say
    assert _digest(project, DAYS[4]) == [] and len(receiver.posts) == 2


def test_the_first_digest_covers_the_as_of_day(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: UNBILLED, DAYS[1]: UNBILLED, DAYS[2]: STRAY}, _hook(receiver))
    run_days(project, *DAYS[:3])
    # ACME's exceptions began on day 1 and were resolved on day 3 — before any digest; the stray is day 3's
    assert [(o["since"], o["exceptions"]) for o in _digest(project, DAYS[2])] == [(DAYS[1], 3)]
    assert _sections(receiver.posts[0]["message"]) == {
        "New": ["UNMAPPED_SOURCE_RECORD"], "Resolved": ["CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE"]}


def test_a_quiet_digest_still_moves_the_start_of_the_next(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: {}, DAYS[1]: STRAY, DAYS[2]: STRAY}, _hook(receiver))
    run_days(project, *DAYS[:3])
    assert _digest(project, DAYS[0]) == [] and receiver.posts == []  # nothing on day 1: no message
    # day 3's digest starts after day 1's: the stray that appeared on day 2 is in it
    assert [(o["since"], o["exceptions"]) for o in _digest(project, DAYS[2])] == [(DAYS[0], 1)]
    assert _sections(receiver.posts[0]["message"]) == {"New": ["UNMAPPED_SOURCE_RECORD"]}
    log = invoke("notify", "log", "-p", str(project))
    assert log.exit_code == 0 and "(nothing new)" in log.output


def test_a_failed_digest_leaves_its_days_to_the_next(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: {}, DAYS[1]: UNBILLED, DAYS[2]: {}, DAYS[3]: STRAY},
                          _hook(receiver))
    run_days(project, *DAYS[:4])
    receiver.status = 500
    failed = _digest(project, DAYS[1])
    assert [(o["ok"], o["attempts"]) for o in failed] == [(False, 2)]
    receiver.status = 200
    # the day-2 digest never arrived, so day 4's covers day 2 as well: new on day 2, resolved on day 3 ...
    later = _digest(project, DAYS[3])
    assert [(o["since"], o["ok"]) for o in later] == [(DAYS[0], True)]
    assert _sections(receiver.posts[-1]["message"]) == {
        "New": ["UNMAPPED_SOURCE_RECORD"], "Resolved": ["CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE"]}
    rows = deliveries(load_project(project))
    assert {(r["as_of"].isoformat(), r["outcome"]) for r in rows} == {(DAYS[1], "failed"), (DAYS[3], "sent")}


def test_a_digest_repeats_a_reopening_and_a_rise_but_not_a_fall(tmp_path: Path, receiver: Receiver) -> None:
    # P2 on day 1, P1 on day 2, P2 again on day 3, gone on day 4, back (P2) on day 5
    project = new_project(tmp_path / "p", {DAYS[0]: P2_DAY, DAYS[1]: P1_DAY, DAYS[2]: P2_DAY, DAYS[3]: {},
                                           DAYS[4]: P2_DAY}, _hook(receiver))
    crm = "CRM_ACTIVE_BILLING_INACTIVE"
    sent: list[dict[str, list[str]]] = []
    for day in DAYS:
        run_days(project, day)
        before = len(receiver.posts)
        _digest(project, day)
        sent.append(_sections(receiver.posts[-1]["message"]) if len(receiver.posts) > before else {})
    assert crm in sent[0]["New"]
    # risen to P1: it leads the digest, in the P1 list
    assert sent[1] == {"P1": [crm, "OPS_ACTIVE_BILLING_INACTIVE"]}
    assert ("CRM_ACTIVE_BILLING_INACTIVE Acme Analytics Inc. (ACME): 60,000.00 USD at risk"
            in receiver.posts[1]["message"])
    assert "(more severe)" in receiver.posts[1]["message"]
    assert crm not in sum(sent[2].values(), [])  # back to P2: told at P1 already
    assert crm in sent[3]["Resolved"]
    assert crm in sent[4]["Reopened"] and "reopened (episode 2)" in receiver.posts[-1]["message"]


def test_a_backfill_announces_the_p1s_open_at_its_end_only(tmp_path: Path, receiver: Receiver) -> None:
    # ACME is a P1 on days 1-2 (resolved on day 3) and again from day 4: only the open episode is news
    project = new_project(tmp_path / "p", {DAYS[0]: P1_DAY, DAYS[1]: P1_DAY, DAYS[2]: {}, DAYS[3]: P1_DAY,
                                           DAYS[4]: P1_DAY}, _hook(receiver, ""))
    result = invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[4])
    assert result.exit_code == 0, result.output
    assert len(receiver.posts) == 2 and all("reopened (episode 2)" in p["message"] for p in receiver.posts)
    assert {(r["kind"], r["first_seen"].isoformat(), r["as_of"].isoformat()) for r in deliveries(load_project(project))
            } == {("p1", DAYS[3], DAYS[4])}
    # the same backfill again, in parallel this time: nothing new to tell
    assert invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[4], "--jobs", "2").exit_code == 0
    assert len(receiver.posts) == 2


def test_a_backfill_of_history_does_not_announce_what_is_resolved_since(tmp_path: Path, receiver: Receiver
                                                                        ) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: P1_DAY, DAYS[1]: P1_DAY, DAYS[4]: {}}, _hook(receiver, ""))
    run_days(project, DAYS[4])
    # P1s open on the backfill's last day, resolved by the latest stored day: old news, not sent
    assert invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[1], "--jobs", "1").exit_code == 0
    assert receiver.posts == [] and deliveries(load_project(project)) == []


def test_a_backfill_stopped_by_a_bad_day_announces_the_p1s_of_the_days_it_stored(tmp_path: Path,
                                                                                 receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: P1_DAY, DAYS[1]: P1_DAY}, _hook(receiver, ""))
    result = invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[2], "--jobs", "1")
    assert result.exit_code == 4  # day 3 is missing
    assert [str(d) for d in stored_days(load_project(project))] == DAYS[:2]
    assert len(receiver.posts) == 2 and {r["as_of"].isoformat() for r in deliveries(load_project(project))} == {DAYS[1]}


def test_an_episode_run_further_back_is_not_announced_again(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: P1_DAY, DAYS[1]: P1_DAY}, _hook(receiver, ""))
    run_days(project, DAYS[1])
    assert len(receiver.posts) == 2
    # running the day before moves the episode's first_seen back a day: the same episode, already told
    run_days(project, DAYS[0])
    assert len(receiver.posts) == 2


def test_a_failed_p1_is_sent_by_the_next_run(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {DAYS[0]: P1_DAY, DAYS[1]: P1_DAY}, _hook(receiver, ""))
    receiver.status = 500
    result = invoke("run", "-p", str(project), "--as-of", DAYS[0])
    assert result.exit_code == 0 and "failed after 2 attempt(s)" in result.stderr
    assert [str(d) for d in stored_days(load_project(project))] == DAYS[:1]
    assert len(receiver.posts) == 4  # two P1s, each tried twice
    receiver.status = 200
    run_days(project, DAYS[1])
    assert len(receiver.posts) == 6
    rows = deliveries(load_project(project))
    assert sorted((r["outcome"], r["attempts"]) for r in rows) == [("failed", 2)] * 2 + [("sent", 1)] * 2
    run_days(project, DAYS[1])
    assert len(receiver.posts) == 6
