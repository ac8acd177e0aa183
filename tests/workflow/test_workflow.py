"""The workflow over the state store: maker-checker, reopening, conflicts, refusals audited."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.conftest import TEST_SCRYPT_N
from tests.workflow.conftest import AR
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed
from tieout.people import list_users, passwords
from tieout.people.passwords import check_password, hash_password
from tieout.workflow import act, actions_on, status_of
from tieout.workflow.audit import entries, verify_audit

LATER = date.today() + timedelta(days=30)
# The product's cost, read when the tests are collected: the tests' session hashes at TEST_SCRYPT_N.
PRODUCT_N = passwords.N


def test_passwords_are_salted_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "N", PRODUCT_N)  # the product's cost, not the tests' (tests/conftest.py)
    a, b = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert a != b and a.startswith(f"scrypt${PRODUCT_N}$8$1$") and PRODUCT_N >= 2**14
    assert check_password("s3cret-pass", a) and not check_password("s3cret-pasS", a)
    assert not check_password("x", "garbage")


def test_a_hash_is_checked_at_the_cost_written_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = hash_password("s3cret-pass")
    assert cheap.startswith(f"scrypt${TEST_SCRYPT_N}$")
    monkeypatch.setattr(passwords, "N", PRODUCT_N)
    assert check_password("s3cret-pass", cheap) and not check_password("s3cret-pasS", cheap)


def test_users_listed_without_hashes(people_project: Project) -> None:
    found = {u.name: u for u in list_users(people_project)}
    assert found["alice"].teams == ("ar",) and found["carol"].role == "approver"


def test_a_full_flow_with_maker_checker(people_project: Project) -> None:
    p = people_project
    assert act(p, "alice", AR.id, "ack", expected_version=0, target=AR).status == "acknowledged"
    st = act(p, "alice", AR.id, "assign", expected_version=1, assignee="bob", target=AR)
    assert (st.status, st.assignee, st.version) == ("assigned", "bob", 2)
    st = act(p, "bob", AR.id, "suppress", expected_version=2, until=LATER, comment="vendor fix", target=AR)
    assert st.pending is not None and st.pending["actor"] == "bob" and st.status == "assigned"
    with pytest.raises(NotAllowed, match="only an approver or an admin"):
        act(p, "bob", AR.id, "approve", expected_version=3, target=AR)
    st = act(p, "carol", AR.id, "approve", expected_version=3, target=AR)
    assert (st.status, st.suppressed_until, st.pending) == ("suppressed", LATER, None)
    kinds = [(a["kind"], a["actor"]) for a in actions_on(p, AR.id)]
    assert kinds == [("ack", "alice"), ("assign", "alice"), ("suppress", "bob"), ("approve", "carol")]
    suppress = actions_on(p, AR.id)[2]
    assert (suppress["approved_by"], suppress["decision"]) == ("carol", "approved")
    log = entries(p, object=f"exception:{AR.id}")
    assert [(e["actor"], e["action"], e["outcome"]) for e in log][:2] == [("carol", "approve", "allowed"),
                                                                        ("bob", "approve", "refused")]
    assert verify_audit(p).ok


def test_an_admin_does_not_approve_their_own_suppression_either(people_project: Project) -> None:
    act(people_project, "root", AR.id, "suppress", expected_version=0, until=LATER, target=AR)
    with pytest.raises(NotAllowed, match="maker-checker"):
        act(people_project, "root", AR.id, "approve", expected_version=1, target=AR)
    assert act(people_project, "cora", AR.id, "reject", expected_version=1, target=AR).pending is None


def test_reopening_starts_a_new_episode_with_the_old_actions_as_history(people_project: Project) -> None:
    p = people_project
    act(p, "alice", AR.id, "resolve", expected_version=0, reason_code="fixed_in_source", target=AR)
    assert status_of(p, AR).status == "resolved"
    back = replace(AR, first_seen=date(2026, 2, 1))
    st = status_of(p, back)
    assert (st.status, st.reopened, st.version) == ("open", True, 1)
    act(p, "alice", AR.id, "ack", expected_version=1, target=back)
    episodes = [a["episode_first_seen"] for a in actions_on(p, AR.id)]
    assert episodes == [date(2026, 1, 10), date(2026, 2, 1)]


@pytest.mark.parametrize(("kind", "kwargs", "message"), [
    ("resolve", {"reason_code": "because"}, "reason code"),
    ("suppress", {"until": date.today()}, "after the latest reconciled day"),
    ("assign", {"assignee": "olga"}, "not a member of the routed team"),
    ("comment", {"comment": "  "}, "needs text"),
    ("approve", {}, "nothing is waiting"),
])
def test_malformed_actions_are_refused_and_audited(people_project: Project, kind: str, kwargs: dict,
                                                   message: str) -> None:
    actor = "carol" if kind == "approve" else "alice"
    with pytest.raises(BadArgument, match=message):
        act(people_project, actor, AR.id, kind, expected_version=0, target=AR, **kwargs)
    assert status_of(people_project, AR).version == 0
    assert entries(people_project)[0]["outcome"] == "refused"


def test_two_people_on_one_version_one_wins_the_other_gets_a_conflict(people_project: Project) -> None:
    p = people_project
    outcomes: dict[str, str] = {}
    start = threading.Barrier(2)

    def go(who: str, text: str) -> None:
        start.wait()
        try:
            act(p, who, AR.id, "comment", expected_version=0, comment=text, target=AR)
            outcomes[who] = "ok"
        except Conflict as e:
            outcomes[who] = str(e)

    threads = [threading.Thread(target=go, args=(w, f"from {w}")) for w in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v == "ok" for v in outcomes.values()) == [False, True]
    loser = next(w for w, v in outcomes.items() if v != "ok")
    assert "changed since version 0" in outcomes[loser]
    assert len(actions_on(p, AR.id)) == 1 and status_of(p, AR).version == 1
    log = {(e["actor"], e["outcome"]) for e in entries(p, object=f"exception:{AR.id}")}
    assert (loser, "conflict") in log
    # nothing lost: the losing comment's text is in the audit log
    assert any(f"from {loser}" in e["detail"] for e in entries(p) if e["outcome"] == "conflict")


def test_a_suppression_runs_to_an_as_of_day_not_the_wall_clock(people_project: Project) -> None:
    """The project's today is its latest reconciled day (a demo's or a lagging export's dates are not the
    wall clock's): a date after it is accepted, and the suppression runs out once a later day is stored."""
    from tests.conftest import run_days, write_day

    p = people_project
    run_days(p.root, "2026-01-20")
    with pytest.raises(BadArgument, match=r"after the latest reconciled day \(2026-01-20\)"):
        act(p, "root", AR.id, "suppress", expected_version=0, until=date(2026, 1, 20), target=AR)
    act(p, "root", AR.id, "suppress", expected_version=0, until=date(2026, 1, 25), target=AR)
    st = act(p, "carol", AR.id, "approve", expected_version=1, target=AR)
    assert (st.status, st.suppressed_until) == ("suppressed", date(2026, 1, 25))
    write_day(p.root, "2026-01-26")
    run_days(p.root, "2026-01-26")
    assert status_of(p, AR).status == "open"  # it ran out on the 25th
