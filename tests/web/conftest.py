"""A small demo world, reconciled once per test run and shared by every xdist worker, the app over it, a real
uvicorn server, and Debian's headless Chromium driven by Playwright.

The world is `tieout.demo`'s generator at its smallest (55 companies over 60 days) with every fifth day and
the last reconciled: enough days for episodes, resolutions and a chart, at a fifth of the backfill's cost.
Tests only read it; a test that writes works on a copy.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import built_once
from tests.web.flow import add_people, guarded, state_env
from tieout import state
from tieout.config import Project, load_project
from tieout.demo import MIN_COMPANIES, generate_world
from tieout.rules.registry import load_rules
from tieout.run import run_days
from tieout.store import run_lock
from tieout.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# What the machine notes ask of Chromium here: headless, no sandbox (root), and no calls home — the network is
# closed, and without these flags Chromium keeps trying.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START = date(2026, 1, 1)
WORLD_DAYS = 60
STORED = sorted({START + timedelta(days=i) for i in range(0, WORLD_DAYS, 5)} | {START + timedelta(days=WORLD_DAYS - 1)})


def _build_world(folder: Path) -> None:
    generate_world(folder, companies=MIN_COMPANIES, days=WORLD_DAYS, start=START)
    project = load_project(folder)
    with run_lock(project):
        run_days(project, STORED, rules=load_rules(project), jobs=2)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reconciled world's folder; built by the first worker that asks, under a file lock."""
    return built_once(tmp_path_factory, "web-world", _build_world)


@pytest.fixture(scope="session")
def client(world: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_project(world), auth=False)) as c:
        yield c


@pytest.fixture(scope="session")
def server(world: Path) -> Iterator[str]:
    """`tieout serve`'s app in a real uvicorn on a free port of this machine (the socket is bound first, so
    no other process can take the port between choosing and listening)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(load_project(world), auth=False), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _serve(app: object) -> Iterator[str]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def app(world: Path) -> FastAPI:
    """The signed-in app over the shared world, maker-checker on (tests.web.flow.guarded): one per module."""
    return create_app(guarded(load_project(world)), auth=True)


@pytest.fixture
def project(app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """`app`'s project, its people (tests.web.flow.PEOPLE) and workflow in a state database of this test's own."""
    monkeypatch.setenv(state.ENV_URL, state_env(tmp_path))
    project: Project = app.state.project
    add_people(project)
    yield project
    state.dispose_all()


@pytest.fixture(scope="session")
def flow_world(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the world with people in its own state database, and corrections above USD 1,000.00 waiting
    for approval: the signed-in browser tests write to it."""
    from tests.web.flow import add_people

    folder = tmp_path_factory.mktemp("flow") / "world"
    shutil.copytree(world, folder)
    with open(folder / "tieout.yml", "a", encoding="utf-8") as config:  # maker-checker for corrections on
        config.write("workflow:\n  correction_approval_over: '1000.00'\n")
    add_people(load_project(folder))
    return folder


@pytest.fixture(scope="session")
def auth_server(flow_world: Path) -> Iterator[str]:
    """The signed-in app (what `tieout serve` runs) over `flow_world`, in a real uvicorn."""
    yield from _serve(create_app(load_project(flow_world)))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, never a downloaded browser. Missing, it fails the test with what to do — a browser
    test that skips silently proves nothing — unless TIEOUT_SKIP_BROWSER=1 says to skip."""
    if not CHROMIUM.exists():
        if os.environ.get("TIEOUT_SKIP_BROWSER") == "1":
            pytest.skip("TIEOUT_SKIP_BROWSER=1 and no /usr/bin/chromium")
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium), or set "
                    "TIEOUT_SKIP_BROWSER=1 to skip the browser tests", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    """A fresh page at a laptop's size (1366×768), its base URL the test server."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server)  # type: ignore[attr-defined]
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def screenshot(page: object, name: str) -> Path:
    """Keep a full-page screenshot as a test artefact: test-artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
