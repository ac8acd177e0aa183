"""Where the suite's time goes, test by test: a pytest plugin that appends one JSON line per test to the file
TIEOUT_TIMING names (docs/testing.md). Loaded on request only:
`TIEOUT_TIMING=/tmp/t.jsonl .venv/bin/python -m pytest -p tests.timing` (`python -m` puts the repository on the
path, so that the plugin imports).

Each line: `w` the xdist worker, `id` the test, `s`/`e` wall start and end, `cpu` the worker's own CPU seconds for
the test (setup and teardown included), `child` the CPU of child processes it waited for (the kill battery's
fork server and its children, subprocess CLIs), and `jvm` the CPU of the Spark JVM this worker started, which no
test waits for (its start-up counts in the first Spark test's).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator

import pytest


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _ticks(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system clock ticks) of process `pid`, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


class _SparkJVM:
    """This worker's Spark JVM (a descendant running SparkSubmit), looked for until it is found."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.seen = 0.0  # its CPU when last read: kept once it has ended, so no test gets a negative figure

    def _find(self) -> int | None:
        parents = {int(e.name): t[0] for e in os.scandir("/proc") if e.name.isdigit() and (t := _ticks(int(e.name)))}
        for pid in parents:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"org.apache.spark.deploy.SparkSubmit" not in f.read():
                        continue
            except OSError:
                continue
            ancestor = pid
            while ancestor in parents and ancestor != os.getpid():
                ancestor = parents[ancestor]
            if ancestor == os.getpid():
                return pid
        return None

    def cpu(self) -> float:
        if self.pid is None and "pyspark" in sys.modules:  # no JVM before PySpark is imported
            self.pid = self._find()
        got = _ticks(self.pid) if self.pid is not None else None
        if got:
            self.seen = got[1] / os.sysconf("SC_CLK_TCK")
        return self.seen


_JVM = _SparkJVM()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    out = os.environ.get("TIEOUT_TIMING")
    jvm = _JVM.cpu() if out else 0.0
    start, (own, children) = time.time(), _cpu()
    yield
    if not out:
        return
    own_after, children_after = _cpu()
    end = time.time()
    line = {"w": os.environ.get("PYTEST_XDIST_WORKER", "main"), "id": item.nodeid, "s": start, "e": end,
            "cpu": own_after - own, "child": children_after - children, "jvm": _JVM.cpu() - jvm}
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
