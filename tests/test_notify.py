"""Notifications against a local webhook receiver and a local SMTP server: exactly what arrives, no repeats,
and a failing endpoint retried, recorded, and never failing the run."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke, new_project
from tieout.config import load_project
from tieout.notify.log import deliveries
from tieout.store import stored_days

# A P1: CRM-active at 60,000 a month and nothing billed on the day (last month's invoice only).
P1_DAY = {
    "crm_contracts.csv": (
        "contract_id,account_id,status,start_date,end_date,annual_value,currency,contracted_fte,updated_at\n"
        "K1,A1,active,2025-06-01,,720000.00,USD,50,2026-01-20T23:00:00Z\n"),
    "billing_invoices.csv": (
        "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
        "in_0,cus_1,2025-12-01,2025-12-31,2025-12-01,paid,60000.00,USD,50,2026-01-20T23:00:00Z\n"),
}


class Receiver:
    """A local HTTP endpoint: records every POST, answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append(json.loads(body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _yml(channels: str, extra: str = "") -> str:
    return f"notifications:\n  channels:\n{channels}  retries: 1\n  backoff_seconds: 0\n{extra}"


def test_a_p1_goes_out_right_after_the_run_and_only_once(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {"2026-01-20": P1_DAY, "2026-01-21": P1_DAY},
                          _yml(f"    ar: [\"json://127.0.0.1:{receiver.port}/hook\"]\n"))
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    titles = sorted(p["title"] for p in receiver.posts)
    assert len(titles) == 2 and all(t.startswith("tieout P1 — ") for t in titles)
    # the entity by its name, its id beside it
    assert any("CRM_ACTIVE_BILLING_INACTIVE Acme Analytics Inc. (ACME) — 60,000.00 USD" in t for t in titles)
    # the next day and a re-run: the same episodes at the same severity are not sent again
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-21").exit_code == 0
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    assert len(receiver.posts) == 2
    # nor in the digest: there is nothing the team has not been told
    digest = invoke("notify", "digest", "-p", str(project), "--format", "json")
    assert digest.exit_code == 0 and json.loads(digest.stdout) == []
    rows = deliveries(load_project(project))
    # the P1s, and the digest marked as had with nothing new (no message, no exception)
    assert {(r["kind"], r["team"], r["outcome"], r["attempts"], r["exception_id"] == "") for r in rows} == {
        ("p1", "ar", "sent", 1, False), ("digest", "ar", "sent", 0, True)}


def test_a_reopened_p1_is_sent_again(tmp_path: Path, receiver: Receiver) -> None:
    project = new_project(tmp_path / "p", {"2026-01-20": P1_DAY, "2026-01-21": {}, "2026-01-22": P1_DAY},
                          _yml(f"    ar: [\"json://127.0.0.1:{receiver.port}/hook\"]\n"))
    for day in ("2026-01-20", "2026-01-21", "2026-01-22"):
        assert invoke("run", "-p", str(project), "--as-of", day).exit_code == 0
    crm = [p for p in receiver.posts if "CRM_ACTIVE_BILLING_INACTIVE" in p["title"]]
    assert len(crm) == 2 and "reopened (episode 2)" in crm[1]["message"]


def test_the_digest_by_email_to_a_local_smtp_server(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.mails: list[tuple[str, list[str], str]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's
            self.mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    inbox = Inbox()
    with socket.socket() as probe:  # a free port: the controller checks it started by connecting to its port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        url = f"mailto://127.0.0.1:{port}?from=tieout@example.com&to=ar@example.com"
        project = new_project(tmp_path / "p", {"2026-01-20": P1_DAY},
                              _yml(f"    ar: [\"{url}\"]\n", "  p1_immediately: false\n"))
        assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
        assert inbox.mails == []  # P1s wait for the digest when p1_immediately is off
        result = invoke("notify", "digest", "-p", str(project))
        assert result.exit_code == 0, result.output
        assert len(inbox.mails) == 1
        sender, to, raw = inbox.mails[0]
        assert (sender, to) == ("tieout@example.com", ["ar@example.com"])
        mail = email.message_from_string(raw, policy=email.policy.default)
        content = f"{mail['subject']}\n{mail.get_content()}"  # type: ignore[union-attr]
        assert "tieout daily digest — ar — 2026-01-20" in content and (
            "CRM_ACTIVE_BILLING_INACTIVE Acme Analytics Inc. (ACME)" in content)
        again = invoke("notify", "digest", "-p", str(project))
        assert "nothing new to send" in again.output and len(inbox.mails) == 1
    finally:
        smtp.stop()


@pytest.mark.parametrize("status", [None, 500])
def test_a_failing_endpoint_is_retried_recorded_and_never_fails_the_run(tmp_path: Path, status: int | None) -> None:
    down = Receiver(status or 200)
    port = down.port
    if status is None:  # connection refused: nothing listens there any more
        down.close()
    try:
        project = new_project(tmp_path / "p", {"2026-01-20": P1_DAY},
                              _yml(f"    ar: [\"json://127.0.0.1:{port}/hook\"]\n"))
        result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
        assert result.exit_code == 0, result.output
        assert "warning: P1 notification to ar" in result.stderr and "failed after 2 attempt(s)" in result.stderr
        loaded = load_project(project)
        assert [str(d) for d in stored_days(loaded)] == ["2026-01-20"]
        rows = deliveries(loaded)
        assert rows and {(r["outcome"], r["attempts"]) for r in rows} == {("failed", 2)}
        assert all(r["error"] for r in rows)
        if status == 500:
            assert len(down.posts) == 4  # two P1s, each tried twice
    finally:
        if status is not None:
            down.close()


def test_channels_are_validated(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {"2026-01-20": {}}, "notifications:\n  channels:\n    ar: [\"not a url\"]\n")
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3 and "not a notification URL" in result.output


def test_a_severity_rising_to_p1_is_sent(tmp_path: Path, receiver: Receiver) -> None:
    p2 = {**P1_DAY, "crm_contracts.csv": P1_DAY["crm_contracts.csv"].replace("720000.00", "240000.00")}
    project = new_project(tmp_path / "p", {"2026-01-20": p2, "2026-01-21": P1_DAY},
                          _yml(f"    ar: [\"json://127.0.0.1:{receiver.port}/hook\"]\n"))
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    assert receiver.posts == []  # a P2 waits for the digest
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-21").exit_code == 0
    assert {p["title"].split(" — ")[1] for p in receiver.posts} == {
        "CRM_ACTIVE_BILLING_INACTIVE Acme Analytics Inc. (ACME)",
        "OPS_ACTIVE_BILLING_INACTIVE Acme Analytics Inc. (ACME)"}
