"""Where the suite's time goes, test by test: a pytest plugin that appends one JSON line per test to the file
TIEOUT_TIMING names (docs/testing.md). Loaded on request only:
`TIEOUT_TIMING=/tmp/t.jsonl .venv/bin/python -m pytest -p tests.timing` (`python -m` puts the repository on the
path, so that the plugin imports).

Each line: `w` the xdist worker, `id` the test, `s`/`e` wall start and end, `cpu` the worker's own CPU seconds for
the test (setup and teardown included), `child` the CPU of child processes it waited for (the kill battery's
fork server and its children, subprocess CLIs). A Spark JVM is never waited for by a test: its CPU is not here.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator

import pytest


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    out = os.environ.get("TIEOUT_TIMING")
    start, (own, children) = time.time(), _cpu()
    yield
    if not out:
        return
    own_after, children_after = _cpu()
    line = {"w": os.environ.get("PYTEST_XDIST_WORKER", "main"), "id": item.nodeid, "s": start, "e": time.time(),
            "cpu": own_after - own, "child": children_after - children}
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
