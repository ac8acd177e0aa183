"""Everything the pages and the API read, from the library, cached per version of the store.

The store's readers take no lock: a run commits a day by replacing `days/manifest.json` in one move, and
every file it lists is immutable. So a reading's result depends only on that manifest (and on the project's
configuration), and is cached under their file identities: a commit, or an edited rule or ownership.yml,
makes a new key and the next request reads afresh. Nothing here opens a DuckDB file — the library reads
Parquet into in-memory DuckDB connections that live for one call — so a run can write while pages are read.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from tieout.config import CONFIG_FILE, Project
from tieout.entities.candidates import RecordCandidates
from tieout.entity_names import with_names
from tieout.ownership.model import REGISTRY_FILE, Registry, load_registry
from tieout.record_versions import DayReader, day_reader
from tieout.rules.registry import Rule, load_rules
from tieout.store import stored_days
from tieout.store.manifest import MANIFEST, days_dir
from tieout.story import entity_story, exception_story
from tieout.timeline import DayCounts, QueuedException, daily_counts, exceptions
from tieout.web.fields import OwnedFields, owned_fields

if TYPE_CHECKING:
    from tieout.patterns import Report

T = TypeVar("T")
_CACHED = 32  # readings kept: a handful of as-of days of the queue, the timeline, a few stories
# Parts of queue views kept (tieout.web.queue_view): the rows that pass each set of filters, per team, and their
# facets — a few hundred of them at a million companies are tens of megabytes of references to shared rows.
_VIEW_PARTS = 256
# Rendered HTML of queue views' parts (the facets, the table of a page): a few tens of kilobytes each.
_FRAGMENTS = 256


def _identity(path: str) -> tuple[Any, ...]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (path, None)
    return (path, st.st_ino, st.st_mtime_ns, st.st_size)


class Reads:
    """The project's store, read for the web: one instance per app, safe to share between threads."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._views: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._fragments: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._files = (str(days_dir(project) / MANIFEST), str(project.root / CONFIG_FILE),
                       str(project.root / REGISTRY_FILE))
        self._rules_dir = str(project.root / project.rules_dir)

    def version(self) -> tuple[Any, ...]:
        """What a reading depends on: the day manifest, the configuration, the ownership registry, the rules
        (the files of the rules folder now, each by its identity). Asked for by every cached reading, a dozen
        times a request: the paths are worked out once, in __init__."""
        try:
            rule_files = sorted(os.path.join(self._rules_dir, name) for name in os.listdir(self._rules_dir))
        except (FileNotFoundError, NotADirectoryError):
            rule_files = []
        return (*(_identity(p) for p in self._files), *(_identity(p) for p in rule_files))

    def _cached(self, key: tuple[Any, ...], read: Callable[[], T], *, views: bool = False,
                fragments: bool = False) -> T:
        cache, size = ((self._fragments, _FRAGMENTS) if fragments else (self._views, _VIEW_PARTS) if views
                       else (self._cache, _CACHED))
        key = (self.version(), *key)
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]  # type: ignore[no-any-return]
        value = read()  # outside the lock: two first readers may both read, which is only wasted work
        with self._lock:
            cache[key] = value
            while len(cache) > size:
                cache.popitem(last=False)
        return value

    def view_part(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        """A part of a queue view, cached under `key` — which must name everything it depends on besides the
        store's version (the filters, the workflow of every exception acted on, whose view)."""
        return self._cached(key, read, views=True)

    def fragment(self, key: tuple[Any, ...], render: Callable[[], T]) -> T:
        """A rendered part of a queue page (its HTML), cached under `key` — which, like `view_part`'s, must name
        everything the HTML depends on besides the store's version: the view's key, the whole filters (the
        links carry them, the page and the sort included) and anything of the user's it shows."""
        return self._cached(key, render, fragments=True)

    def days(self) -> list[date]:
        # read once per version of the manifest: a page asks for the days and the latest one several times
        return list(self._cached(("days",), lambda: stored_days(self.project)))

    def latest(self) -> date | None:
        days = self.days()
        return days[-1] if days else None

    def rules(self) -> dict[str, Rule]:
        return self._cached(("rules",), lambda: load_rules(self.project))

    def registry(self) -> Registry:
        return self._cached(("registry",), lambda: load_registry(self.project))

    def exceptions(self, as_of: date | None = None) -> list[QueuedException]:
        """Every exception's latest episode as of `as_of` (default: the latest stored day), any status, with
        its entity's name and search text (tieout.entity_names)."""
        return self._cached(("exceptions", as_of), lambda: with_names(
            self.project, exceptions(self.project, self.rules(), as_of=as_of, status="all"), as_of))

    def ordered(self, as_of: date | None, order: str, day: date) -> list[QueuedException]:
        """`exceptions(as_of)` in one of the queue's sort orders (tieout.web.queue.SORTS) as of `day`: sorted once
        per reading of the exceptions (the list is kept beside its order, so that the order is only ever served
        for that very list)."""
        from tieout.web.queue import sort

        every = self.exceptions(as_of)
        held, ordered = self._cached(("ordered", as_of, order, day, id(every)),
                                     lambda: (every, sort(order, every, day)))
        return ordered if held is every else sort(order, every, day)

    def by_id(self, as_of: date | None = None) -> dict[str, QueuedException]:
        """`exceptions(as_of)` by id (kept beside the list it was made from, like `ordered`)."""
        every = self.exceptions(as_of)
        held, found = self._cached(("by_id", as_of, id(every)), lambda: (every, {e.id: e for e in every}))
        return found if held is every else {e.id: e for e in every}

    def patterns(self, as_of: date | None = None) -> Report:
        """`tieout patterns` as of `as_of` (default: the latest stored day), every episode counted."""
        from tieout.patterns import patterns

        return self._cached(("patterns", as_of), lambda: patterns(self.project, self.rules(), as_of=as_of))

    def pattern_members(self, pattern_id: str, as_of: date | None = None) -> set[str]:
        """The ids of the exceptions with an episode in pattern `pattern_id`. Raises BadFilter if there is none."""
        from tieout.web.queue import BadFilter

        for p in self.patterns(as_of).patterns:
            if p.id == pattern_id:
                return {o.episode.id for o in p.occurrences}
        raise BadFilter(f"pattern: no pattern {pattern_id!r}" + (f" as of {as_of}" if as_of else "")
                        + " (see /patterns)")

    def daily(self) -> list[DayCounts]:
        return self._cached(("daily",), lambda: daily_counts(self.project, self.rules()))

    def exception(self, ident: str, as_of: date | None = None) -> tuple[dict[str, Any], OwnedFields] | None:
        """`tieout show ID` as data, with the owned fields of its entity on the day it was last seen."""
        def read() -> tuple[dict[str, Any], OwnedFields] | None:
            with day_reader(self.project) as reader:
                story = exception_story(reader, self.rules(), ident, as_of=as_of)
                if story is None:
                    return None
                e = story["exception"]
                return story, self._fields(reader, e["canonical_id"], story["records"]["day"])
        return self._cached(("exception", ident, as_of), read)

    def entity(self, canonical_id: str,
               as_of: date | None = None) -> tuple[dict[str, Any], dict[str, Any], OwnedFields]:
        """`tieout show CANONICAL_ID` as data, with the entity's records side by side and its owned fields on
        the same day. Raises NotFound."""
        def read() -> tuple[dict[str, Any], dict[str, Any], OwnedFields]:
            from tieout.record_versions import Subject, records_on, subject_ids

            with day_reader(self.project) as reader:
                story = entity_story(reader, self.rules(), canonical_id, as_of=as_of)
                day, subject = story["as_of"], Subject(canonical_id)
                con = reader.get_subject(day, subject)
                records: dict[str, Any] = {"day": day, "unavailable": con if isinstance(con, str) else None}
                if not isinstance(con, str):
                    records.update(records_on(con, day, subject_ids(con, subject)))
                return story, records, self._fields(reader, canonical_id, day)
        return self._cached(("entity", canonical_id, as_of), read)

    def _fields(self, reader: DayReader, canonical_id: str | None, day: date) -> OwnedFields:
        if canonical_id is None:
            return OwnedFields(day=day, unavailable="the record belongs to no entity", fields=[])
        con = reader.get(day, [canonical_id])  # the canonical tables are built over its rows only
        if isinstance(con, str):
            return OwnedFields(day=day, unavailable=con, fields=[])
        return owned_fields(con, self.project, day, canonical_id, self.registry())

    def candidates(self, system: str, source_id: str) -> RecordCandidates | None:
        """The entities a source record may belong to on the latest stored day, with their evidence
        (tieout.entities.candidates); None when nothing is stored or that day cannot be read back."""
        def read() -> RecordCandidates | None:
            from tieout.entities.candidates import candidates_for
            from tieout.store import RECORD_TABLES

            day = self.latest()
            con = self._day(day, tables=RECORD_TABLES)
            if con is None or day is None:
                return None
            try:
                return candidates_for(con, day, system, source_id)
            finally:
                con.close()
        return self._cached(("candidates", system, source_id), read)

    def ambiguous_with(self, canonical_id: str) -> list[tuple[str, str]]:
        """The (system, source id) of the latest stored day's ambiguous records that have `canonical_id` among
        their candidates."""
        def read() -> list[tuple[str, str]]:
            con = self._day(self.latest(), tables=("source_records",))
            if con is None:
                return []
            try:
                return [(s, i) for s, i in con.execute(
                    "SELECT source_system, source_id FROM source_records WHERE status = 'ambiguous' AND "
                    "list_contains(candidates, ?) ORDER BY ALL", [canonical_id]).fetchall()]
            finally:
                con.close()
        return self._cached(("ambiguous_with", canonical_id), read)

    def _day(self, day: date | None, **kwargs: Any) -> Any:
        from tieout.errors import StoreError
        from tieout.store import open_day

        if day is None:
            return None
        try:
            return open_day(self.project, day, **kwargs)
        except StoreError:
            return None
