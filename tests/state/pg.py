"""A throwaway PostgreSQL cluster for the state suite, when the server's binaries are on this machine.

The cluster lives in a temporary folder and listens on a unix socket there only (no TCP). initdb refuses
to run as root, so as root the server runs as the unprivileged `nobody` (through `runuser`), owning its
folder; the tests connect through the socket with trust authentication, which only this machine can reach.
Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "tieout"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH, then /usr/lib/postgresql/*/bin (newest), /usr/local/bin."""
    candidates = [shutil.which("initdb"),
                  *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version, reverse=True),
                  "/usr/local/bin/initdb"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            folder = Path(candidate).resolve().parent
            if (folder / "pg_ctl").is_file() and (folder / "postgres").is_file():
                return folder
    return None


def _version(initdb: str) -> int:
    try:
        return int(Path(initdb).parts[-3])
    except ValueError:
        return 0


@dataclass(frozen=True)
class Cluster:
    socket_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("PostgreSQL tests: running as root and no runuser to start the server as 'nobody' "
                    "(initdb refuses root)")
    return [runuser, "-u", "nobody", "--", *command]


def _run(command: list[str]) -> None:
    # cwd "/": the server's user may not be allowed into the current folder.
    subprocess.run(_as_server_user(command), check=True, capture_output=True, text=True, cwd="/", timeout=120)


def start_cluster() -> Iterator[Cluster]:
    """Start a cluster in a temporary folder, yield it, stop it and remove the folder."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL tests skipped: no initdb/pg_ctl on PATH, in /usr/lib/postgresql/*/bin or "
                    "/usr/local/bin (install Debian's postgresql package to run them)")
    # Under /tmp, not pytest's tmp_path: a unix socket path must stay short (~100 bytes), and pytest's
    # folders are private to root, which the server's user could not enter.
    folder = Path(tempfile.mkdtemp(prefix="tieout-pg-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    data, log = folder / "data", folder / "server.log"
    port = random.randint(20000, 60000)  # names the socket file only: the server opens no TCP port
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
              "--locale=C.UTF-8", "--no-sync"])
        options = f"-c listen_addresses='' -k {folder} -p {port} -c fsync=off -c max_connections=40"
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"])
    except subprocess.CalledProcessError as e:
        server_log = log.read_text() if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL cluster with {binaries}: {e.stderr}{server_log}")
    try:
        yield Cluster(folder, port)
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, cwd="/", timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(cluster: Cluster) -> Iterator[str]:
    """A new, empty database in `cluster` for one test; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.admin(f'CREATE DATABASE "{name}"')
    try:
        yield cluster.url(name)
    finally:
        from tieout.state import dispose_all

        dispose_all()
        cluster.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
