"""The store's schema version: created on first write, migrated forward, refused when too new."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import invoke
from tieout.config import load_project
from tieout.store import MANIFEST, SCHEMA_VERSION, migrate, schema_version


def test_first_write_records_the_schema(project: Path) -> None:
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    manifest = json.loads((project / ".tieout" / MANIFEST).read_text())
    assert manifest == {"schema_version": SCHEMA_VERSION}


def test_a_store_from_before_manifests_is_migrated(project: Path) -> None:
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    (project / ".tieout" / MANIFEST).unlink()
    p = load_project(project)
    assert schema_version(p) == 0
    assert migrate(p) == 0
    assert schema_version(p) == SCHEMA_VERSION
    assert invoke("exceptions", "-p", str(project)).exit_code == 0


def test_a_store_from_a_newer_tieout_is_refused(project: Path) -> None:
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    (project / ".tieout" / MANIFEST).write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    for args in (("exceptions",), ("run", "--as-of", "2026-01-20")):
        result = invoke(*args, "-p", str(project))
        assert result.exit_code == 3
        assert "newer tieout" in result.output
