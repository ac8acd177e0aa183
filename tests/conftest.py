"""Shared fixtures: a tiny, healthy project written from text, so each test can break one thing."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BRIEF_TIMING = SHARED / "spec" / "examples" / "brief-timing"

HEALTHY_DAY = {
    "crm_accounts.csv": (
        "account_id,legal_name,domain,tax_id,owner,updated_at\n"
        "A1,Acme Analytics Inc.,acme.com,12-3456789,ana,2026-01-20T23:00:00Z\n"
    ),
    "crm_contracts.csv": (
        "contract_id,account_id,status,start_date,end_date,annual_value,currency,contracted_fte,updated_at\n"
        "K1,A1,active,2025-06-01,,120000.00,USD,50,2026-01-20T23:00:00Z\n"
    ),
    "billing_customers.csv": (
        "customer_id,name,email,tax_id,updated_at\n"
        "cus_1,Acme Analytics Inc.,ap@acme.com,12-3456789,2026-01-20T23:00:00Z\n"
    ),
    "billing_invoices.csv": (
        "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
        "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,paid,10000.00,USD,50,2026-01-20T23:00:00Z\n"
    ),
    "ops_tenants.csv": "tenant_id,display_name,domain,created_on,status\nt-1,acme-prod,acme.com,2025-06-01,active\n",
    "ops_usage.csv": (
        "tenant_id,date,active_users,fte_count\n"
        "t-1,2026-01-19,45,50\n"
        "t-1,2026-01-20,44,50\n"
    ),
}

ENTITY_MAP = (
    "canonical_id,source_system,source_id,effective_from,effective_to,notes\n"
    "ACME,crm,A1,2025-01-01,,\n"
    "ACME,billing,cus_1,2025-01-01,,\n"
    "ACME,ops,t-1,2025-01-01,,\n"
)


def pytest_configure(config: pytest.Config) -> None:
    """Refuse `--dist loadgroup` where it would not group: pytest 9.2 ignores the node id suffix through which
    pytest-xdist 3.8 groups tests (pytest-xdist issue 1386), so the Spark tests would start a JVM on every worker
    and run their Spark stretch more than once. requirements.lock pins a pytest that works."""
    from importlib.metadata import version

    def release(package: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version(package).split(".")[:2] if part.isdigit())

    if (config.getoption("dist", default="no") == "loadgroup" and not hasattr(config, "workerinput")
            and release("pytest") >= (9, 2) and release("pytest-xdist") <= (3, 8)):
        raise pytest.UsageError(f"--dist loadgroup does not group with pytest {version('pytest')} and "
                                f"pytest-xdist {version('pytest-xdist')} (pytest-xdist issue 1386): "
                                "install requirements.lock (make install)")


def write_day(project: Path, day: str, files: dict[str, str | bytes] | None = None) -> Path:
    folder = project / "exports" / day
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**HEALTHY_DAY, **(files or {})}.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def new_project(root: Path, days: dict[str, dict[str, str]], yml: str = "") -> Path:
    """A project at `root` holding the given days (each the healthy day with some files replaced)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n" + yml)
    (root / "entity_map.csv").write_text(ENTITY_MAP)
    for day, files in days.items():
        write_day(root, day, files)
    return root


def run_days(project: Path, *days: str) -> None:
    """`tieout run` each day in the order given, asserting each succeeds."""
    for day in days:
        result = invoke("run", "-p", str(project), "--as-of", day)
        assert result.exit_code == 0, result.output


# A password hashed and checked at the product's cost (scrypt N = 2^14, ~40 ms each) was about 40 % of the web
# tests' CPU (tests/web/test_flow.py: 372 hashes, 14.5 of 38 CPU s). The tests' own processes hash at N = 2^4:
# the same code, and the cost is written into each hash, so a check reads it from there (a hash made at the
# product's cost, by a `tieout` subprocess, is checked at that cost). tests/workflow/test_workflow.py holds the
# product's cost.
TEST_SCRYPT_N = 2**4


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    from tieout.people import passwords

    with pytest.MonkeyPatch.context() as m:
        m.setattr(passwords, "N", TEST_SCRYPT_N)
        yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with one healthy day, 2026-01-20, not yet reconciled."""
    (tmp_path / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n")
    (tmp_path / "entity_map.csv").write_text(ENTITY_MAP)
    write_day(tmp_path, "2026-01-20")
    return tmp_path


def invoke(*args: str):
    from tieout.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes: to prove nothing was written."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder `name` built by `build` once per test run and shared by every xdist worker: the first worker
    that asks builds it under a file lock, the others wait and reuse it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, ready = shared / name, shared / f"{name}.ready"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            ready.touch()
    return folder


def full_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`tieout demo` as a new user runs it (300 companies × 90 days) and what it printed; built once per test
    run and shared by every worker, so tests only read it."""
    def build(folder: Path) -> None:
        result = invoke("demo", str(folder))
        assert result.exit_code == 0, result.output
        folder.with_suffix(".out").write_text(result.output, encoding="utf-8")

    folder = built_once(tmp_path_factory, "full-demo", build)
    return folder, folder.with_suffix(".out").read_text(encoding="utf-8")


# The brief's worked example (contract, ../shared/spec/examples/brief-timing) over all its days.
BRIEF_FIRST, BRIEF_LAST = "2026-01-01", "2026-02-05"


def brief_backfilled(tmp_path_factory: pytest.TempPathFactory, copy_to: Path | None = None) -> Path:
    """The brief's example backfilled serially over all its days, once per test run and shared by every worker;
    with `copy_to`, a copy there for a test that writes to it."""
    def build(folder: Path) -> None:
        shutil.copytree(BRIEF_TIMING, folder, ignore=shutil.ignore_patterns(".tieout"))
        result = invoke("backfill", "-p", str(folder), "--from", BRIEF_FIRST, "--to", BRIEF_LAST, "--jobs", "1")
        assert result.exit_code == 0, result.output

    shared = built_once(tmp_path_factory, "brief-timing-backfilled", build)
    if copy_to is None:
        return shared
    shutil.copytree(shared, copy_to)
    return copy_to


# The demo world most slow suites share (60 companies over 60 days, backfilled): built once per test run.
DEMO_FIRST, DEMO_LAST = "2026-01-01", "2026-03-01"


def backfilled_demo(tmp_path_factory: pytest.TempPathFactory, *, vendor: bool = False) -> Path:
    """The small demo world (`vendor`: its exports in the systems' own shapes) backfilled from DEMO_FIRST to
    DEMO_LAST; shared by every worker, so a test that changes it works on a copy."""
    from tieout.demo import MIN_COMPANIES, generate_world

    def build(folder: Path) -> None:
        generate_world(folder, companies=MIN_COMPANIES, days=60, start=date.fromisoformat(DEMO_FIRST), vendor=vendor)
        result = invoke("backfill", "-p", str(folder), "--from", DEMO_FIRST, "--to", DEMO_LAST, "--jobs", "2")
        assert result.exit_code == 0, result.output

    return built_once(tmp_path_factory, "vendor-demo-world" if vendor else "demo-world", build)


@pytest.fixture
def state_in_the_project(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each project's state database in its own folder (no TIEOUT_STATE_URL from outside), its engines closed
    after the test."""
    from tieout import state

    monkeypatch.delenv(state.ENV_URL, raising=False)
    yield
    state.dispose_all()


def invoke_as(*args: str, account: str | None = None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    """`tieout ARGS` as the person `--as` or `--who` names, from an OS account of their own (`os-<name>`, or
    `account`): maker-checker on the command line compares OS accounts (tests/security/test_os_user.py proves
    it with a real second account), so each person needs one."""
    from tieout import os_account
    from tieout.cli import cli

    named = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--as", "--who")]
    who = account or (f"os-{named[0]}" if named else "os-admin")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(os_account, "os_user", lambda: who)
        return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
