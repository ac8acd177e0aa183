"""The project's store: every stored day, and the only way to read one again.

- `days` — per as-of date, the findings that changed since the stored day before (immutable Parquet files);
- `manifest` — `days/manifest.json`, the stored days in order and the checkpoint (every finding of the last
  day); replacing it commits a day;
- `source_history` — every export row's versions per day, and how each source record resolved: what a run
  writes (`prepare`, `repair`) and the replay of a day; `history_files` — its files and their footers (`scan`,
  `read_metas`); `history_reads` — records' past versions read back (`state_rows`, `versions_of`);
- `fingerprints` — the rules, registry and rates each day was reconciled with (`runs/`);
- `version`, `migrations` — the layout's schema version (`store.json`) and the steps from an older one;
- `lock` — the run lock;
- `open` — `open_day`: a stored day's typed tables and resolution, replayed from the source history; `PartDay`:
  the same, loaded only as far as a story asks (one entity's rows);
- `commit` — `prepare_history` and `commit`: the one path by which a reconciled day is stored.

Every write goes to a temporary file moved into place with one `os.replace`, so readers (another command, a
web page) never see half a day, and need no lock. A store whose files cannot be read is a `StoreError`
(exit code 11).
"""

from __future__ import annotations

from tieout.store.lock import run_lock
from tieout.store.migrations import migrate, stored_days
from tieout.store.open import DAY_TABLES, RECORD_TABLES, PartDay, open_day, open_or_read_day
from tieout.store.version import MANIFEST, SCHEMA_VERSION, schema_version

__all__ = ["DAY_TABLES", "MANIFEST", "RECORD_TABLES", "SCHEMA_VERSION", "PartDay", "migrate", "open_day",
           "open_or_read_day", "run_lock", "schema_version", "stored_days"]
