"""Write boundaries of a tieout command, counted and killed at, from the test side only (no hook in the product).

`serve()` is a small fork server: it imports tieout once, then for each request (one JSON line on stdin) forks a
child that patches every operation that writes (below), runs the CLI with the request's argv and either counts
the boundaries it passed under the project folder (a dry run) or kills itself with SIGKILL just before or just
after the N-th. Forking a preloaded process keeps the hundreds of kills of the battery cheap (a fresh interpreter
would spend a second importing DuckDB, pyarrow and SQLAlchemy each time).

A boundary is one call of: os.replace/rename/unlink/remove/rmdir/mkdir, shutil.rmtree, os.fsync, os.ftruncate,
os.open or io.open for writing, pyarrow's Parquet writers (open and close), a DuckDB `COPY … TO`, and a commit of
the state database (SQLAlchemy). Calls outside the project folder (a backfill's staging folder in /tmp) and
removals of files that are not there change nothing in the store and are not counted. Calls made inside a
counted one (the unlinks of an rmtree) are boundaries of their own: a kill lands halfway through it.

Only this module's standard-library imports load in the server before the fork; the test side imports
`Server` and `Request` from here.
"""

from __future__ import annotations

import builtins
import importlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Request:
    argv: list[str]  # after `tieout`
    root: str  # the project folder: only boundaries under it count
    kill_at: int | None = None  # the N-th boundary (1-based); None runs to the end
    when: str = "before"  # kill just "before" or just "after" that operation
    kill_after: float | None = None  # or kill it this many seconds after it starts (a random point)
    stdout: str | None = None  # file for the command's stdout
    stderr: str | None = None
    barrier: bool = False  # wait until the server releases every waiting child at once (concurrency test)
    lock_gate: str | None = None  # folder: hold the won run lock until `gate_count` children tried it
    gate_count: int = 0
    record_states: bool = False  # a dry run: note the store's state on disk at each boundary
    # with record_states: copy the project into this folder at the first point of each new state on disk, as
    # `{N}-{before|after}` — the state a SIGKILL at that point leaves (a kill writes nothing)
    snapshots: str | None = None


@dataclass
class Outcome:
    exit_code: int | None  # None when killed
    signal: int | None
    pid: int  # the command's process: its temporary files carry this id (`disk_state`)
    boundaries: list[str] = field(default_factory=list)  # the counted boundaries, in order
    # with record_states: (N, "before"|"after", the state on disk) at the start and the end of each boundary,
    # in the order they happened — every point a kill can land between two writes
    states: list[tuple[int, str, str]] = field(default_factory=list)


# --- in the child -------------------------------------------------------------------------------------------


class _Counter:
    def __init__(self, root: str, kill_at: int | None, when: str, record_states: bool,
                 snapshots: str | None = None) -> None:
        self.root = os.path.realpath(root)
        self.kill_at = kill_at
        self.when = when
        self.record_states = record_states
        self.seen: list[str] = []
        self.states: list[tuple[int, str, str]] = []
        self.depth = 0  # inside a counted operation: its inner calls count whatever their path
        self.snapshots = snapshots
        self.known = {disk_state(self.root)} if snapshots else set()  # the states already copied
        self.copying = False  # a snapshot's own writes are no boundaries

    def under_root(self, path: Any) -> bool:
        if self.depth:
            return True
        if isinstance(path, int):  # a file descriptor
            try:
                path = os.readlink(f"/proc/self/fd/{path}")
            except OSError:
                return False
        if not isinstance(path, str | bytes | os.PathLike):
            return False
        text = os.fsdecode(path)
        real = os.path.realpath(text if os.path.isabs(text) else os.path.join(os.getcwd(), text))
        return real == self.root or real.startswith(self.root + os.sep)

    def boundary(self, label: str, path: Any, op: Callable[[], Any]) -> Any:
        if self.copying or not self.under_root(path):
            return op()
        self.seen.append(f"{label} {os.fsdecode(path) if not isinstance(path, int) else path}")
        n = len(self.seen)
        self.point(n, "before")
        self.depth += 1
        try:
            result = op()
        finally:
            self.depth -= 1
        self.point(n, "after")
        return result

    def point(self, n: int, when: str) -> None:
        if self.record_states:
            state = disk_state(self.root)
            self.states.append((n, when, state))
            if self.snapshots and state not in self.known:
                self.known.add(state)
                self.copying = True
                try:
                    shutil.copytree(self.root, os.path.join(self.snapshots, f"{n}-{when}"), symlinks=True)
                finally:
                    self.copying = False
        if n == self.kill_at and when == self.when:
            _die()


# What is inside the store's spill folder is scratch, not state: DuckDB's spill files and the days a parallel
# backfill's workers staged (written by the workers at their own pace, so not the same at a given parent write).
# The next run empties it (tests/security/test_killed_run_leftovers.py); the folder itself is state.
SCRATCH = os.path.join(".tieout", "spill") + os.sep


def disk_state(root: str, pid: int | None = None) -> str:
    """A digest of every file and folder under `root` but the spill folder's scratch, names and bytes, with the
    id of the process that wrote them (this one by default) taken out of the names (temporary files carry it):
    equal digests are states a kill cannot tell apart."""
    import hashlib

    digest = hashlib.sha256()
    marker = f".{os.getpid() if pid is None else pid}."
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        relative = os.path.relpath(folder, root)
        if relative.startswith(SCRATCH):
            continue
        digest.update(f"d {relative}\n".encode())
        for name in sorted(files):
            with io.FileIO(os.path.join(folder, name), "r") as f:
                body = hashlib.sha256(f.readall()).hexdigest()
            digest.update(f"f {name.replace(marker, '.PID.')} {body}\n".encode())
    return digest.hexdigest()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _path_arg(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    return args[0] if args else kwargs.get(name)


def _patch(owner: Any, name: str, counter: _Counter, label: str,
           counts: Callable[[tuple[Any, ...], dict[str, Any]], Any | None]) -> None:
    """Make `owner.name` a boundary when `counts(args, kwargs)` names a path (None: not a write)."""
    real = getattr(owner, name)

    def patched(*args: Any, **kwargs: Any) -> Any:
        path = counts(args, kwargs)
        if path is None:
            return real(*args, **kwargs)
        return counter.boundary(label, path, lambda: real(*args, **kwargs))

    setattr(owner, name, patched)


def _first(name: str) -> Callable[[tuple[Any, ...], dict[str, Any]], Any | None]:
    return lambda args, kwargs: _path_arg(args, kwargs, name)


def _existing(name: str) -> Callable[[tuple[Any, ...], dict[str, Any]], Any | None]:
    """A removal counts only when there is something to remove (`unlink(missing_ok=True)` after a replace)."""
    def counts(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any | None:
        path = _path_arg(args, kwargs, name)
        if kwargs.get("dir_fd") is not None:
            return path  # inside an rmtree: counted when the rmtree is
        try:
            os.lstat(path)
        except (OSError, TypeError, ValueError):
            return None
        return path
    return counts


def _writing_open(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any | None:
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
    return _path_arg(args, kwargs, "file") if any(c in str(mode) for c in "wax+") else None


def _writing_os_open(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any | None:
    flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
    return _path_arg(args, kwargs, "path") if flags & WRITE_FLAGS else None


def install(counter: _Counter) -> None:
    """Patch every write operation tieout uses (see the module docstring)."""
    for name in ("replace", "rename"):
        _patch(os, name, counter, f"os.{name}", _first("src"))
    for name in ("unlink", "remove", "rmdir"):
        _patch(os, name, counter, f"os.{name}", _existing("path"))
    _patch(os, "mkdir", counter, "os.mkdir",
           lambda a, k: None if os.path.isdir(_path_arg(a, k, "path")) else _path_arg(a, k, "path"))
    _patch(shutil, "rmtree", counter, "shutil.rmtree", _existing("path"))
    _patch(os, "fsync", counter, "os.fsync", _first("fd"))
    _patch(os, "ftruncate", counter, "os.ftruncate", _first("fd"))
    _patch(os, "open", counter, "os.open(write)", _writing_os_open)
    _patch(io, "open", counter, "open(write)", _writing_open)
    builtins.open = io.open  # type: ignore[assignment]

    import pyarrow.parquet as pq

    _patch(pq, "write_table", counter, "pq.write_table", lambda a, k: a[1] if len(a) > 1 else k.get("where"))
    writer = pq.ParquetWriter
    _patch(writer, "__init__", counter, "pq.ParquetWriter.open", lambda a, k: a[1] if len(a) > 1 else k.get("where"))
    real_close = writer.close

    def close(self: Any) -> Any:
        if getattr(self, "is_open", False) is False:
            return real_close(self)
        return counter.boundary("pq.ParquetWriter.close", getattr(self, "where", counter.root),
                                lambda: real_close(self))

    writer.close = close  # type: ignore[method-assign]
    _patch_duckdb(counter)
    _patch_state_commits(counter)


def _patch_duckdb(counter: _Counter) -> None:
    """DuckDB's connection is a C type: wrap the connections `duckdb.connect` hands out so that a `COPY … TO`
    into the project folder is a boundary."""
    import duckdb

    real_connect = duckdb.connect

    class Connection:
        def __init__(self, con: Any) -> None:
            self._con = con

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

        def __enter__(self) -> Connection:
            return self

        def __exit__(self, *exc: object) -> None:
            self._con.close()

        def cursor(self) -> Connection:
            return Connection(self._con.cursor())

        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            target = _copy_target(query)
            if target is None:
                return self._con.execute(query, *args, **kwargs)
            return counter.boundary("duckdb COPY TO", target, lambda: self._con.execute(query, *args, **kwargs))

    def connect(*args: Any, **kwargs: Any) -> Any:
        return Connection(real_connect(*args, **kwargs))

    duckdb.connect = connect


def _copy_target(query: Any) -> str | None:
    """The file a `COPY (…) TO '<file>'` writes, else None."""
    if not isinstance(query, str) or not query.lstrip().upper().startswith("COPY"):
        return None
    tail = query.rsplit(" TO ", 1)
    if len(tail) != 2 or not tail[1].lstrip().startswith("'"):
        return None
    return tail[1].lstrip()[1:].split("'", 1)[0]


def _patch_state_commits(counter: _Counter) -> None:
    """Every commit of the state database goes through SQLAlchemy's `Connection._commit_impl`."""
    from sqlalchemy.engine import base

    real = base.Connection._commit_impl

    def commit(self: Any) -> Any:
        return counter.boundary("state.db commit", counter.root, lambda: real(self))

    base.Connection._commit_impl = commit  # type: ignore[method-assign]


def _hold_won_lock(gate: str, count: int) -> None:
    """The concurrency test: a child that tried the run lock says so in `gate`; the one that won it waits until
    every child has tried, so that all of them really did run at once."""
    import fcntl

    real = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        try:
            real(fd, operation)
        except BlockingIOError:
            Path(gate, f"refused.{os.getpid()}").touch()
            raise
        Path(gate, f"won.{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while len(os.listdir(gate)) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    fcntl.flock = flock


def _child(request: Request, barrier: int | None, report_fd: int) -> None:
    os.setsid()  # the command's own process group: its workers die with it
    for fd, target in ((1, request.stdout), (2, request.stderr)):
        out = os.open(target or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    if barrier is not None:
        os.read(barrier, 1)  # returns (empty) when the server closes the other end
    if request.lock_gate:
        _hold_won_lock(request.lock_gate, request.gate_count)
    counter = _Counter(request.root, request.kill_at, request.when, request.record_states, request.snapshots)
    install(counter)
    from tieout.cli import main

    sys.argv = ["tieout", *request.argv]
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as exit 1 like an uncaught error
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    with io.FileIO(report_fd, "w", closefd=False) as report:  # the boundaries passed, for the server
        report.write((json.dumps([counter.seen, counter.states]) + "\n").encode())
    os._exit(code)


# --- the server -----------------------------------------------------------------------------------------------


def serve() -> None:
    """Answer each request line with an outcome line; a list of requests runs its children together (released
    at once when `barrier` is set)."""
    import sqlalchemy.engine  # noqa: F401 - preload: every child starts from here

    import tieout.cli
    import tieout.run  # noqa: F401

    for module, _command, _summary in tieout.cli.COMMANDS.values():  # the CLI imports them as each command runs
        importlib.import_module(module)
    # The cached tables every run loads into DuckDB (the Public Suffix List, the free-mail domains), built once
    # here rather than in each child: pure Python, so safe to fork (DuckDB itself never runs in the server: its
    # threads do not survive a fork). About 7 % of each child's CPU.
    from tieout.entities import normalise, psl

    psl.psl_tables()
    normalise.free_mail_domains()

    for line in sys.stdin:
        batch = [Request(**r) for r in json.loads(line)]
        results = _run_batch(batch)
        sys.stdout.write(json.dumps([asdict(o) for o in results]) + "\n")
        sys.stdout.flush()


def _run_batch(batch: list[Request]) -> list[Outcome]:
    barrier_r, barrier_w = os.pipe() if any(r.barrier for r in batch) else (None, None)
    children: list[tuple[int, int]] = []
    for request in batch:
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(report_r)
                if barrier_w is not None:
                    os.close(barrier_w)
                _child(request, barrier_r if request.barrier else None, report_w)
            finally:
                os._exit(99)
        os.close(report_w)
        children.append((pid, report_r))
        if request.kill_after is not None:
            time.sleep(request.kill_after)
            os.kill(pid, signal.SIGKILL)
    if barrier_w is not None and barrier_r is not None:
        os.close(barrier_r)
        os.close(barrier_w)  # every child blocked on the barrier wakes now
    outcomes = []
    for pid, report_r in children:
        with os.fdopen(report_r, "rb") as report:
            said = report.read()
        _, status = os.waitpid(pid, 0)
        try:
            os.killpg(pid, signal.SIGKILL)  # whatever it started (a backfill's workers) goes with it
        except (ProcessLookupError, PermissionError):
            pass
        seen, states = json.loads(said) if said.strip() else ([], [])
        killed = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        outcomes.append(Outcome(os.WEXITSTATUS(status) if os.WIFEXITED(status) else None, killed, pid, seen,
                                [tuple(s) for s in states]))
    return outcomes


class Server:
    """The test side: one fork server, for one test."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from tests.security.boundaries import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, env=env, text=True)

    def run(self, *requests: Request) -> list[Outcome]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([asdict(r) for r in requests]) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        assert answer, "the fork server died"
        return [Outcome(**o) for o in json.loads(answer)]

    def one(self, request: Request) -> Outcome:
        return self.run(request)[0]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
