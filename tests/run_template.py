"""Stored days as templates: `run_days` on a fresh project copies the store a real run of the same days on the
same inputs left, once such a run has happened in this worker (docs/testing.md, "Project templates").

Many tests store the same day or two of the same small exports before they test something else; each real run
costs about half a second of CPU. The key is everything a run's store depends on: every file of the project
(its tieout.yml, entity map, exports and rules, by their bytes and relative paths), the days in their order,
tieout's own source and the TIEOUT_* environment. Only projects whose run reads and writes nothing outside the
project folder qualify: a fresh project (no store yet, so no state database either), a tieout.yml with only the
keys in PURE_KEYS (no notifications, state URL, database sources, other store folder or engine) and relative
paths inside the project, and no TIEOUT_STATE_URL. The store holds no absolute path (tests/test_run_template.py
proves a copy equal to a fresh run elsewhere, file for file). A test that changes tieout's behaviour before its
first run (a monkeypatch) must run it with `invoke("run", ...)`: a template cannot see a patch.
TIEOUT_TEST_TEMPLATES=0 turns templates off.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

import tieout

STORE = ".tieout"  # the default store folder: a tieout.yml that names another does not qualify
# tieout.yml keys that change what a run stores but make it read or write nothing outside the project
PURE_KEYS = frozenset({"exports", "entity_map", "rules_dir", "reporting_currency", "fx_rates", "timezone",
                       "severity", "system_owners", "expected_lag_days", "rules", "routing", "sla"})
_PATH_KEYS = ("exports", "entity_map", "rules_dir")

_folder: Path | None = None  # this worker's templates, removed when it exits
_kept: set[str] = set()
_inputs: dict[str, str] = {}  # key -> the project's inputs it was computed from (`keep` checks them again)
_source: str | None = None


def _source_digest() -> str:
    """Every file of the tieout package by path and bytes: a changed line of tieout is another template."""
    global _source
    if _source is None:
        package = Path(tieout.__file__).parent
        digest = hashlib.sha256()
        for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{path.relative_to(package)}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
        _source = digest.hexdigest()
    return _source


def _inputs_digest(project: Path) -> str:
    """Every file of the project outside its store, by relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if relative.parts[0] == STORE or not path.is_file():
            continue
        digest.update(f"{relative}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def key(project: Path, days: Sequence[str]) -> str | None:
    """The template key of running `days` in this order on `project`; None when the run does not qualify."""
    if os.environ.get("TIEOUT_TEST_TEMPLATES") == "0" or os.environ.get("TIEOUT_STATE_URL"):
        return None
    if (project / STORE).exists() or not (project / "tieout.yml").is_file():
        return None
    try:
        config = yaml.safe_load((project / "tieout.yml").read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    if not isinstance(config, dict) or not set(config) <= PURE_KEYS:
        return None
    for name in _PATH_KEYS:
        value = config.get(name)
        if value is not None and (not isinstance(value, str) or os.path.isabs(value) or ".." in Path(value).parts):
            return None
    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith("TIEOUT_"))
    inputs = _inputs_digest(project)
    template = hashlib.sha256(repr((list(days), environment, _source_digest(), inputs)).encode()).hexdigest()
    _inputs[template] = inputs
    return template


def restore(template: str, project: Path) -> bool:
    """Copy the template's store into `project`; False when this worker has none yet. Copied without the
    template's file times, as a run would have written the files now."""
    if template not in _kept or _folder is None:
        return False
    shutil.copytree(_folder / template, project / STORE, copy_function=shutil.copy)
    return True


def keep(template: str, project: Path) -> None:
    """Keep the store a real run left in `project` as the template `template`, if the run changed nothing of the
    project outside its store."""
    global _folder
    if template in _kept or not (project / STORE).is_dir() or _inputs_digest(project) != _inputs.get(template):
        return
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="tieout-test-templates-"))
        atexit.register(shutil.rmtree, _folder, True)
    shutil.copytree(project / STORE, _folder / template)
    _kept.add(template)
