"""Each committed day anchors the head of every hash-chained log in the day store; `tieout audit verify` checks
every log and every anchor, so a log cut short, re-chained, emptied or edited after a day was committed is caught
even when the change left a chain that verifies on its own. Each case on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.engine import Connection

from tests.conftest import new_project, run_days
from tests.state.conftest import backend, pg_cluster  # noqa: F401 - the fixtures, on both databases
from tieout import state
from tieout.cli import cli
from tieout.config import Project, load_project
from tieout.corrections import record_correction
from tieout.corrections.log import FIELDS, chained_fields
from tieout.state import chain
from tieout.state.tables import audit, corrections, log_heads
from tieout.store.manifest import read_manifest
from tieout.workflow.audit import record_alone

START = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def anchored(tmp_path: Path, backend: str | None) -> Iterator[Project]:  # noqa: F811
    """Five corrections and four audit entries, anchored by the day 2026-01-20 (run after them)."""
    folder = new_project(tmp_path / "p", {"2026-01-20": {}, "2026-01-21": {}},
                         yml=f"state_url: '{backend}'\n" if backend else "")
    project = load_project(folder)
    for n in range(1, 6):
        record_correction(project, canonical_id="ACME", system="billing", field="legal_name",
                          old_value=f"Acme {n - 1}", new_value=f"Acme {n}", reason=f"fix {n}", who="ana",
                          at=START + timedelta(hours=n))
    for n in range(1, 5):
        record_alone(project, actor="ana", action="comment", object=f"exception:{n}", outcome="allowed")
    run_days(folder, "2026-01-20")
    yield project
    state.dispose_all()


def _verify(project: Project) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["audit", "verify", "-p", str(project.root)])
    return done.exit_code, done.output


def _unguard(c: Connection) -> None:
    if c.dialect.name == "postgresql":
        c.execute(text("DROP TRIGGER corrections_append_only ON corrections"))
        c.execute(text("DROP TRIGGER audit_append_only ON audit"))
    else:
        for trigger in ("corrections_no_update", "corrections_no_delete", "audit_no_update", "audit_no_delete"):
            c.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))


def _table(log: str) -> Table:
    return corrections if log == "corrections" else audit


def _truncate(log: str, keep: int) -> Callable[[Connection], None]:
    """Delete the entries after `keep` and copy the surviving hash into log_heads: the chain still verifies."""
    def tamper(c: Connection) -> None:
        t = _table(log)
        c.execute(delete(t).where(t.c.seq > keep))
        last = c.execute(select(t.c.hash).where(t.c.seq == keep)).scalar() if keep else chain.GENESIS
        c.execute(update(log_heads).where(log_heads.c.log == log).values(seq=keep, hash=last))
    return tamper


def _rechain_corrections_from(seq: int) -> Callable[[Connection], None]:
    """Rewrite the corrections log from `seq` on, every body and hash recomputed, the head updated: a chain of
    a forger's making that verifies on its own, as long as the original (or longer)."""
    def tamper(c: Connection) -> None:
        rows = c.execute(select(corrections).where(corrections.c.seq >= seq).order_by(corrections.c.seq)).all()
        prev = c.execute(select(corrections.c.hash).where(corrections.c.seq == seq - 1)).scalar() or chain.GENESIS
        for r in rows:
            fields = chained_fields(r) | ({"new_value": "Forged"} if r.seq == seq else {})
            body = chain.serialise({"seq": r.seq, **fields})
            digest = chain.link(prev, body)
            c.execute(update(corrections).where(corrections.c.id == r.id)
                      .values(**{k: fields[k] for k in FIELDS}, body=body, prev_hash=prev, hash=digest))
            prev = digest
        c.execute(update(log_heads).where(log_heads.c.log == "corrections").values(hash=prev))
    return tamper


def _edit(c: Connection) -> None:
    c.execute(text("UPDATE corrections SET reason = 'other' WHERE seq = 5"))


CASES: dict[str, tuple[Callable[[Connection], None], str, int]] = {
    "corrections cut short, log_heads fixed": (_truncate("corrections", 3), "corrections log broken at seq 5: "
                                               "deleted", 5),
    "audit cut short, log_heads fixed": (_truncate("audit", 2), "audit log broken at seq 4: deleted", 4),
    "corrections re-chained from an earlier entry": (_rechain_corrections_from(2), "corrections log broken at "
                                                     "seq 5: edited", 5),
    "every correction deleted": (_truncate("corrections", 0), "corrections log broken at seq 5: deleted", 5),
    "the anchored entry edited": (_edit, "corrections log broken at seq 5: edited", 5),
    "the anchored entry edited and the log re-chained": (_rechain_corrections_from(5), "corrections log broken "
                                                         "at seq 5: edited", 5),
}


def test_each_committed_day_anchors_every_log(anchored: Project) -> None:
    (day,) = read_manifest(anchored)
    assert [(a.log, a.seq) for a in day.anchors] == [("audit", 4), ("corrections", 5)]
    manifest = json.loads((anchored.store_path / "days" / "manifest.json").read_text())
    assert manifest["days"][0]["anchors"]["corrections"] == {"seq": 5, "hash": day.anchors[1].hash}
    code, output = _verify(anchored)
    assert code == 0, output
    assert output.splitlines() == [
        f"OK: corrections log intact: 5 entries (seq 1–5), head {day.anchors[1].hash}; 1 anchor in the day store "
        "match",
        f"OK: audit log intact: 4 entries (seq 1–4), head {day.anchors[0].hash}; 1 anchor in the day store match"]


@pytest.mark.parametrize("case", CASES)
def test_tampering_after_a_day_is_anchored_is_caught(anchored: Project, case: str) -> None:
    from tieout.state.integrity import verify_logs

    tamper, message, seq = CASES[case]
    with state.engine_for(anchored).begin() as connection:
        _unguard(connection)
        tamper(connection)
    code, output = _verify(anchored)
    assert code == 8 and output.startswith(f"error: {message}"), output
    assert [(c.verdict.log, c.broken_seq) for c in verify_logs(anchored) if not c.ok][0][1] == seq


def test_a_later_day_does_not_launder_an_earlier_truncation(anchored: Project) -> None:
    """Re-running or adding a day anchors the log as it is now; the earlier day's anchor still names what was
    cut."""
    with state.engine_for(anchored).begin() as connection:
        _unguard(connection)
        _truncate("corrections", 3)(connection)
    run_days(anchored.root, "2026-01-21")
    assert [a.seq for a in read_manifest(anchored)[1].anchors if a.log == "corrections"] == [3]
    code, output = _verify(anchored)
    assert code == 8 and "the day 2026-01-20 anchored seq 5" in output, output


def test_the_state_database_deleted_is_caught(anchored: Project, backend: str | None) -> None:  # noqa: F811
    if backend is not None:
        pytest.skip("a server database is not a file in the project")
    state.dispose_all()
    for leftover in anchored.store_path.glob("state.db*"):
        leftover.unlink()
    code, output = _verify(anchored)
    assert code == 8 and "corrections log broken at seq 5: deleted" in output, output
    assert "there is no such entry now" in output


def test_audit_verify_checks_the_audit_log_without_being_asked(anchored: Project) -> None:
    with state.engine_for(anchored).begin() as connection:
        _unguard(connection)
        connection.execute(text("UPDATE audit SET actor = 'bob' WHERE seq = 2"))
    code, output = _verify(anchored)
    assert code == 8 and output.startswith("error: audit log broken at seq 2: edited"), output
    one = CliRunner().invoke(cli, ["audit", "verify", "--log", "corrections", "-p", str(anchored.root)])
    assert one.exit_code == 0, one.output


def test_the_monthly_pack_shows_the_anchors_in_every_format(anchored: Project, tmp_path: Path,
                                                            backend: str | None) -> None:  # noqa: F811
    if backend is not None:
        pytest.skip("the pack reads the manifest, whatever the database: once is enough")
    from openpyxl import load_workbook

    (day,) = read_manifest(anchored)
    heads = {a.log: a for a in day.anchors}
    p = str(anchored.root)
    pack = json.loads(CliRunner().invoke(cli, ["report", "monthly", "-p", p, "--format", "json"]).output)
    assert pack["log_anchors"] == [{"day": "2026-01-20", "log": "audit", "seq": 4, "hash": heads["audit"].hash},
                                   {"day": "2026-01-20", "log": "corrections", "seq": 5,
                                    "hash": heads["corrections"].hash}]
    for fmt in ("md", "html"):
        text_ = CliRunner().invoke(cli, ["report", "monthly", "-p", p, "--format", fmt]).output
        assert "Heads of the hash-chained logs" in text_
        assert heads["audit"].hash in text_ and heads["corrections"].hash in text_
    target = tmp_path / "pack.xlsx"
    assert CliRunner().invoke(cli, ["report", "monthly", "-p", p, "--format", "xlsx", "-o", str(target)]).exit_code == 0
    sheet = load_workbook(target)["Log anchors"]
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert {heads["audit"].hash, heads["corrections"].hash} <= cells


def test_the_web_verdict_checks_the_anchors_too(anchored: Project, backend: str | None) -> None:  # noqa: F811
    if backend is not None:
        pytest.skip("the page reads the same verifier: once is enough")
    from fastapi.testclient import TestClient

    from tests.web.flow import PASSWORD, sign_in
    from tieout.people import add_user
    from tieout.web.app import create_app

    with state.engine_for(anchored).begin() as connection:
        _unguard(connection)
        _truncate("corrections", 3)(connection)
    add_user(anchored, "dave", "auditor", PASSWORD, ())
    client = TestClient(create_app(anchored, auth=True), follow_redirects=False)
    sign_in(client, "dave")
    verdict = client.get("/api/corrections").json()["verify"]
    assert (verdict["ok"], verdict["problem"], verdict["broken_seq"]) == (False, "deleted", 5), verdict
    assert "the day 2026-01-20 anchored seq 5" in client.get("/corrections").text
