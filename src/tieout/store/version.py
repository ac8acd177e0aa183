"""The store layout's schema version, recorded in `<store>/store.json`.

A newer tieout migrates an older store forward (tieout.store.migrations); an older tieout refuses a store
written by a newer one rather than misreading it.
"""

from __future__ import annotations

import json
import os

from tieout.config import Project
from tieout.errors import StoreError

SCHEMA_VERSION = 5
MANIFEST = "store.json"
# The store's folder of what it keeps only to save work (the run's validated entity map, the month-end pack's
# active records, the patterns' signatures): removing it loses nothing but time.
CACHE = "cache"


def schema_version(project: Project) -> int:
    """The store's schema version; 0 for a store with no manifest (none yet, or older than manifests)."""
    manifest = project.store_path / MANIFEST
    if not manifest.is_file():
        return 0
    try:
        version = json.loads(manifest.read_text(encoding="utf-8"))["schema_version"]
    except (ValueError, KeyError, TypeError) as e:
        raise StoreError(f"{manifest}: not a tieout store manifest ({e})") from e
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(f"{manifest}: store schema {version!r} was written by a newer tieout (this one reads "
                         f"up to {SCHEMA_VERSION}); upgrade tieout")
    return version


def write_version(project: Project, version: int) -> None:
    tmp = project.store_path / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"schema_version": version}) + "\n", encoding="utf-8")
    os.replace(tmp, project.store_path / MANIFEST)
