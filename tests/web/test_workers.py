"""`tieout serve --workers 2` for real: two server processes on one port, over one store and one state database.

A session started through one worker is good on the other, with its CSRF token; an action through one worker
shows on the other's next page although both had the view cached; an idle session ends on both; SIGTERM and
Ctrl+C (SIGINT) stop every worker. Which worker answers a connection is read from Linux's /proc (the process
holding the connection's socket), so each step is known to have crossed from one process to the other.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.web.flow import PASSWORD, add_people
from tieout import state
from tieout.config import load_project

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")

TIEOUT = Path(sys.executable).parent / "tieout"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, grew = set(), True
    while grew:
        more = {c for c, p in parents.items() if p == pid or p in found} - found
        found |= more
        grew = bool(more)
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the TCP connection from `client_port` (IPv4, /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return fields[9]
    return None


class Browser:
    """One keep-alive connection (so one worker) and a cookie jar that can be shared with another."""

    def __init__(self, port: int, server_pid: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = cookies if cookies is not None else {}
        self.request("GET", "/healthz")  # the connection is accepted by now
        self.worker = self._owner(server_pid)

    def _owner(self, server_pid: int) -> int:
        assert self.conn.sock is not None
        inode = _socket_inode(self.port, self.conn.sock.getsockname()[1])
        assert inode is not None, "the connection is not in /proc/net/tcp"
        for pid in _descendants(server_pid):
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError("no worker process holds the connection")

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                value = rest.split(";")[0]
                if value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return response.status, data

    def json(self, path: str) -> object:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def sign_in(self, name: str) -> None:
        status, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf" value="([^"]+)"', page)
        assert status == 200 and token is not None
        status, _ = self.request("POST", "/login", urlencode(
            {"name": name, "password": PASSWORD, "csrf": token.group(1).decode(), "next": "/"}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303 and "tieout_session" in self.cookies

    def close(self) -> None:
        self.conn.close()


def _on_each_worker(port: int, server_pid: int, cookies: dict[str, str], workers: int = 2,
                    tries: int = 200) -> dict[int, Browser]:
    """One connection on each worker (new connections until each worker has accepted one), sharing `cookies`."""
    found: dict[int, Browser] = {}
    for _ in range(tries):
        b = Browser(port, server_pid, cookies)
        if b.worker in found:
            b.close()
        else:
            found[b.worker] = b
        if len(found) == workers:
            return found
    raise AssertionError(f"{tries} connections reached only {len(found)} worker(s)")


@pytest.fixture
def served(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`tieout serve --workers 2` over a copy of the world with people, started from another folder with the
    project given as a relative path; stopped (SIGTERM) at the end if the test has not stopped it."""
    folder = tmp_path / "world"
    shutil.copytree(world, folder)
    monkeypatch.delenv(state.ENV_URL, raising=False)  # the project's own state.db, here and in the server
    add_people(load_project(folder))
    state.dispose_all()
    port = _free_port()
    server = subprocess.Popen([str(TIEOUT), "serve", "-p", "world", "--port", str(port), "--workers", "2"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        assert time.monotonic() < deadline, "tieout serve --workers 2 did not answer within 120 s"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200 and len(_descendants(server.pid)) >= 2:
                conn.close()
                break
        except OSError:
            pass
        time.sleep(0.2)
    yield server, port, folder
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=30)


def _stops_everything(server: subprocess.Popen[bytes], sig: int) -> None:
    workers = _descendants(server.pid)
    assert len(workers) >= 2
    server.send_signal(sig)
    assert server.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "a worker outlived its parent"


def test_two_workers_share_sessions_workflow_and_stop_together(
        served: tuple[subprocess.Popen[bytes], int, Path]) -> None:
    server, port, folder = served
    cookies: dict[str, str] = {}
    by_worker = _on_each_worker(port, server.pid, cookies)
    a, b = by_worker.values()
    assert a.worker != b.worker

    # Signed in through worker A; worker B knows the session and gives the same CSRF token.
    a.sign_in("alice")
    session_a, session_b = a.json("/api/session"), b.json("/api/session")
    assert isinstance(session_a, dict) and isinstance(session_b, dict)
    assert session_a["name"] == session_b["name"] == "alice"
    assert session_a["csrf"] == session_b["csrf"]
    csrf = str(session_a["csrf"])

    # An open exception of alice's team nobody acted on; both workers cache the views that will change.
    listed = a.json("/api/exceptions?limit=1&team=ar&workflow=open")
    assert isinstance(listed, list) and listed
    ident = listed[0]["id"]
    acknowledged = "/api/exceptions?view=all&workflow=acknowledged&limit=500"
    page = "/?view=all&workflow=acknowledged"
    for browser in (a, b):
        assert ident not in {e["id"] for e in browser.json(acknowledged)}  # type: ignore[union-attr]
        status, html = browser.request("GET", page)
        assert status == 200 and f"/exceptions/{ident}".encode() not in html

    # A wrong CSRF token is refused on either worker; the session's own, got through A, is good on B.
    status, _ = b.request("POST", f"/api/exceptions/{ident}/actions", json.dumps({"kind": "ack"}),
                          {"Content-Type": "application/json", "X-CSRF-Token": "0" * 64})
    assert status == 403
    version = b.json(f"/api/exceptions/{ident}/actions")["status"]["version"]  # type: ignore[index]
    status, body = b.request("POST", f"/api/exceptions/{ident}/actions",
                             json.dumps({"kind": "ack", "expected_version": version}),
                             {"Content-Type": "application/json", "X-CSRF-Token": csrf})
    assert status == 200, body

    # Written through B: every worker's next page shows it, on the connections above and on new ones.
    readers = [a, b] + [Browser(port, server.pid, cookies) for _ in range(16)]
    assert {r.worker for r in readers} == {a.worker, b.worker}
    for browser in readers:
        assert ident in {e["id"] for e in browser.json(acknowledged)}  # type: ignore[union-attr]
        status, html = browser.request("GET", page)
        assert status == 200 and f"/exceptions/{ident}".encode() in html
    for browser in readers[2:]:
        browser.close()

    # Then a comment through A shows on B's exception page.
    version = a.json(f"/api/exceptions/{ident}/actions")["status"]["version"]  # type: ignore[index]
    note = "called the customer from worker A"
    status, body = a.request("POST", f"/api/exceptions/{ident}/actions",
                             json.dumps({"kind": "comment", "expected_version": version, "comment": note}),
                             {"Content-Type": "application/json", "X-CSRF-Token": csrf})
    assert status == 200, body
    status, html = b.request("GET", f"/exceptions/{ident}")
    assert status == 200 and note.encode() in html

    # The session left idle past the timeout (its last request moved back in the state database) ends on both.
    with sqlite3.connect(state.default_path(load_project(folder))) as db:
        stale = (datetime.now(UTC) - timedelta(hours=2)).replace(tzinfo=None)
        assert db.execute("UPDATE sessions SET last_seen = ?", (stale.isoformat(sep=" "),)).rowcount == 1
    assert b.request("GET", "/api/session")[0] == 401
    assert a.request("GET", "/api/session")[0] == 401

    a.close()
    b.close()
    _stops_everything(server, signal.SIGTERM)


def test_ctrl_c_stops_every_worker(served: tuple[subprocess.Popen[bytes], int, Path]) -> None:
    server, port, _ = served
    by_worker = _on_each_worker(port, server.pid, {})
    for browser in by_worker.values():
        browser.close()
    _stops_everything(server, signal.SIGINT)
