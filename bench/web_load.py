"""Load-test the web queue: `tieout serve` on 127.0.0.1, N signed-in clients at once, a bounded number of requests.

    python bench/web_load.py --project bench/out/history-100000x30           # 20 clients, 600 requests
    python bench/web_load.py --project bench/out/history-1000000x30 --requests 400
    python bench/web_load.py --project bench/out/history-100000x30 --workers 2  # tieout serve --workers 2

Starts `tieout serve` on a free port of this machine over the project (bench/history_world.py builds one with a
history), creates the bench's users in the project's state database when they are missing (`bench-1` ... one a
client, team members of every team the queue routes to), signs each client in through /login as a browser does
(the login form's token, then the session cookie), and fires `--requests` requests spread over the endpoints
below from `--clients` threads at once, each with its own keep-alive connection and session. Prints, per
endpoint, the first (cold) request's time, then p50 / p95 / p99 of the rest, requests a second and failures;
and the server's CPU time a request (on Linux: the server's process and all its descendants, so every worker
of `--workers N`), the steadier figure on a shared machine.

Before the timed run, every client asks for every endpoint once, all at once and untimed (the warm-up): with
several worker processes each reads the day for itself on its first request, and the clients' keep-alive
connections are spread over the workers by the kernel. `--workers N` is passed to `tieout serve` (left out
when not given, so the bench also drives a tieout from before the option: `PYTHONPATH=<its src>`).

Endpoints: the queue page and `GET /api/exceptions` — each as opened (first page), filtered (a severity and a
team) and sorted (oldest first). The client is the standard library's `http.client` (the least work on the
client's side of a 2-core machine that also runs the server). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
PASSWORD = "bench-password-not-secret"
ENDPOINTS = {
    "queue page, first page": "/",
    "queue page, filtered": "/?view=all&severity=P1&severity=P2&team={team}",
    "queue page, sorted by age": "/?view=all&sort=age",
    "api, first page": "/api/exceptions?limit=50",
    "api, filtered": "/api/exceptions?limit=50&severity=P1&severity=P2&team={team}",
    "api, sorted by age": "/api/exceptions?limit=50&sort=age",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _users(project: Path, clients: int) -> tuple[list[str], str]:
    """The bench's users (created once), members of the team with the most open exceptions; that team."""
    from tieout.config import load_project
    from tieout.errors import TieoutError
    from tieout.people.users import add_user
    from tieout.rules.registry import load_rules
    from tieout.timeline import exceptions

    p = load_project(project)
    teams: dict[str, int] = {}
    for e in exceptions(p, load_rules(p)):
        teams[e.team or ""] = teams.get(e.team or "", 0) + 1
    team = max((t for t in teams if t), key=lambda t: teams[t], default="ar")
    names = [f"bench-{i + 1}" for i in range(clients)]
    for name in names:
        try:
            add_user(p, name, "team_member", PASSWORD, (team,))
        except TieoutError:
            pass  # there from an earlier run
    return names, team


class Client:
    """One signed-in browser: a keep-alive connection and its session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # uvicorn closes a connection idle for 5 s (its keep-alive timeout): open a new one, as a browser does
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, data

    def sign_in(self, name: str) -> None:
        status, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"GET /login answered {status} without the form's token")
        status, _ = self.request("POST", "/login", urlencode(
            {"name": name, "password": PASSWORD, "csrf": token.group(1).decode(), "next": "/"}))
        if status != 303 or "tieout_session" not in self.cookies:
            raise SystemExit(f"signing in as {name} answered {status}")


def _serve(project: Path, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    more = ["--workers", str(workers)] if workers is not None else []
    server = subprocess.Popen([sys.executable, "-m", "tieout", "serve", "-p", str(project), "--port", str(port),
                               *more], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"tieout serve exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("tieout serve did not answer /healthz within 300 s")


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system, all threads) process `pid` and its live descendants (the workers of
    `tieout serve --workers N`) have used, from /proc; None where there is none. The server's CPU a request is
    the steadier figure on a shared machine: wall times there measure the other work too."""
    own = _stat(pid)
    if own is None:
        return None
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) is not None:
            parents[int(entry.name)] = int(fields[1])
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    ticks = 0
    for member in family:
        fields = own if member == pid else _stat(member)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=HERE / "out" / "history-100000x30")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600, help="in all, spread evenly over the endpoints")
    parser.add_argument("--workers", type=int, help="`tieout serve --workers N` (default: the option left out)")
    args = parser.parse_args()
    if not (args.project / ".tieout").is_dir():
        raise SystemExit(f"{args.project} holds no store: build one with bench/history_world.py")
    names, team = _users(args.project, args.clients)
    port = _free_port()
    started = time.perf_counter()
    server = _serve(args.project, port, args.workers)
    print(f"tieout serve on 127.0.0.1:{port} over {args.project}"
          f"{f' with {args.workers} workers' if args.workers else ''}: up in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    try:
        clients = [Client(port) for _ in names]
        for client, name in zip(clients, names, strict=True):
            client.sign_in(name)
        paths = {label: path.format(team=team) for label, path in ENDPOINTS.items()}
        cold: dict[str, float] = {}
        sizes: dict[str, int] = {}
        for label, path in paths.items():  # each reading's first request, alone: what fills the caches
            t0 = time.perf_counter()
            status, body = clients[0].request("GET", path)
            cold[label] = time.perf_counter() - t0
            sizes[label] = len(body)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
            if label.startswith("api, first"):
                shown = len(json.loads(body))
                print(f"{label}: {shown} exceptions listed", file=sys.stderr)
        def warm(client: Client) -> None:
            for path in paths.values():
                client.request("GET", path)

        t0 = time.perf_counter()
        warming = [threading.Thread(target=warm, args=(c,)) for c in clients]
        for t in warming:
            t.start()
        for t in warming:
            t.join()
        print(f"warm-up (every client, every endpoint, untimed): {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        plan = [label for _ in range(args.requests // len(paths)) for label in paths]
        lock = threading.Lock()
        times: dict[str, list[float]] = {label: [] for label in paths}
        failures: dict[str, int] = {label: 0 for label in paths}
        next_job = iter(range(len(plan)))

        def work(client: Client, offset: int) -> None:
            while True:
                with lock:
                    job = next(next_job, None)
                if job is None:
                    return
                label = plan[(job + offset) % len(plan)]
                t0 = time.perf_counter()
                try:
                    status, _ = client.request("GET", paths[label])
                except (OSError, http.client.HTTPException):
                    status = 0
                    client.conn.close()
                elapsed = time.perf_counter() - t0
                with lock:
                    (times[label].append(elapsed) if status == 200 else None)
                    failures[label] += status != 200

        load0 = os.getloadavg()[0]
        cpu0 = os.times()
        server0 = _cpu_seconds(server.pid)
        wall0 = time.perf_counter()
        threads = [threading.Thread(target=work, args=(c, i)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall0
        server1 = _cpu_seconds(server.pid)
        cpu = os.times()
        client_cpu = (cpu.user - cpu0.user) + (cpu.system - cpu0.system)
        load1 = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{args.clients} clients, {len(plan)} requests in {wall:.1f} s ({len(plan) / wall:.1f}/s in all; "
          f"the clients' own CPU {client_cpu:.1f} s; load average {load0:.1f} before, {load1:.1f} after)")
    if server0 is not None and server1 is not None:
        print(f"the server's CPU: {server1 - server0:.1f} s, {(server1 - server0) / len(plan) * 1000:.1f} ms a request")
    print("| endpoint | first (cold) | p50 | p95 | p99 | requests/s | failed | body |")
    print("|---|---|---|---|---|---|---|---|")
    for label in paths:
        got = times[label]
        if not got:
            print(f"| {label} | {cold[label] * 1000:.0f} ms | | | | | {failures[label]} | |")
            continue
        ms = [t * 1000 for t in got]
        print(f"| {label} | {cold[label] * 1000:.0f} ms | {statistics.median(ms):.0f} ms | "
              f"{_percentile(ms, 95):.0f} ms | {_percentile(ms, 99):.0f} ms | {len(got) / wall:.1f} | "
              f"{failures[label]} | {sizes[label] / 1024:.0f} KiB |", flush=True)


if __name__ == "__main__":
    main()
