"""One exception's story and one entity's, as data: what `tieout show` prints and the web interface shows.

Moved out of `cli/show.py` so that the command and the web pages gather the same thing the same way; the
renderers (text, JSON, HTML) stay with their callers. Both take a `DayReader`, so a caller that wants more
from the same day (the web page's owned-field comparison) opens that stored day only once.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tieout.config import Project
from tieout.entity_names import EntityNames, named, read_names
from tieout.errors import NotFound
from tieout.ownership.model import load_registry
from tieout.record_versions import (
    DayReader,
    FirstDay,
    Subject,
    records_on,
    subject_ids,
    what_changed,
)
from tieout.rules.registry import Rule
from tieout.store import stored_days
from tieout.store.source_history import RESOLUTION_COLUMNS
from tieout.timeline import Causes, Episode, QueuedException, causes, episodes

# Exception ids are the first 16 hex digits of an md5 (evaluate._identity_sql); anything else is an entity.
EXCEPTION_ID = re.compile(r"^[0-9a-f]{16}$")

# The keys of contract §7, in its order; programs rely on them (`tieout exceptions`, the web API). Keys added
# later go at the end, so that a CSV read by column position keeps its columns where they were:
# `original_amount` and `original_currency` are the impact in the currency of the records it comes from, when
# that is not the reporting currency (null otherwise, and when those records are in several currencies);
# `entity_name` the entity's display name (tieout.entity_names; "" when there is none).
JSON_KEYS = ("id", "rule", "canonical_id", "source_system", "source_id", "field", "severity", "impact",
             "currency", "team", "status", "classification", "first_seen", "last_seen", "resolved_on",
             "episodes", "details", "ownership_edits", "original_amount", "original_currency", "entity_name")


def exception_record(e: QueuedException) -> dict[str, Any]:
    """`e` as `tieout exceptions --format json` lists it."""
    d = e.as_dict()
    return {k: d[k] for k in JSON_KEYS}


def _names(reader: DayReader, day: date, subjects: list[Episode], entities: tuple[str, ...] = (),
           records: tuple[tuple[str, str], ...] = ()) -> EntityNames:
    """The names of the entities and records of `subjects`, and of `entities` and `records`, on stored `day`,
    read from the day `reader` opened (a day the store cannot give back has no names)."""
    wanted = {*entities, *(e.canonical_id for e in subjects if e.canonical_id)}
    named_records = {*records, *((e.source_system, e.source_id) for e in subjects
                                 if not e.canonical_id and e.source_system and e.source_id)}
    con = reader.get(day, wanted, named_records)
    if isinstance(con, str):
        return EntityNames(day)
    return read_names(con, load_registry(reader.project), day=day, entities=wanted, records=named_records)


def _episode(e: Episode, rules: dict[str, Rule], today: date, why: Causes) -> dict[str, Any]:
    return {"first_seen": e.first_seen, "last_seen": e.last_seen, "resolved_on": e.resolved_on,
            "severity": e.severity, "impact": e.impact, "classification": why.classify(e, rules, today),
            "details": e.details, "ownership_edits": list(why.edits_of(e, rules)),
            "original_amount": e.original_amount, "original_currency": e.original_currency}


def _as_exception(latest: Episode, count: int, project: Project, rules: dict[str, Rule],
                  today: date, why: Causes) -> QueuedException:
    """The same record `tieout exceptions` lists for this id (its latest episode)."""
    d = latest.as_dict()
    return QueuedException(**d, currency=project.reporting_currency, episodes=count,
                      status="open" if latest.resolved_on is None else "resolved",
                      classification=why.classify(latest, rules, today),
                      ownership_edits=why.edits_of(latest, rules))


def exception_story(reader: DayReader, rules: dict[str, Rule], ident: str, *,
                    as_of: date | None = None) -> dict[str, Any] | None:
    """The exception `ident` as it stood on `as_of` (default: the latest stored day): its record, every
    episode, its records side by side on the day it was last seen, and what changed on its first day.
    None when `ident` is not an exception id stored up to `as_of`."""
    if not EXCEPTION_ID.match(ident):
        return None
    days = stored_days(reader.project, until=as_of)
    found = episodes(reader.project, until=as_of, exception_id=ident) if days else []
    if not found:
        return None
    today = days[-1] if as_of is None else as_of
    latest = found[-1]
    why = causes(reader.project, found)
    # named as on the day it was last seen, the day its records are shown for
    (latest,) = named([latest], _names(reader, latest.last_seen, [latest]))
    e = _as_exception(latest, len(found), reader.project, rules, today, why)
    subject = Subject(latest.canonical_id, latest.source_system, latest.source_id)
    con = reader.get_subject(latest.last_seen, subject)
    records: dict[str, Any] = {"day": latest.last_seen, "unavailable": con if isinstance(con, str) else None}
    if not isinstance(con, str):
        records.update(records_on(con, latest.last_seen, subject_ids(con, subject)))
    # read on the last seen day's connection: the chain's files it replayed are most of the first day's
    first: FirstDay = what_changed(reader.project, subject, latest.first_seen,
                                   con=None if isinstance(con, str) else con)
    return {
        "kind": "exception",
        "exception": exception_record(e),
        "episodes": [_episode(x, rules, today, why) for x in found],
        "records": records,
        "first_day": first.as_dict(),
    }


def entity_story(reader: DayReader, rules: dict[str, Rule], canonical_id: str, *,
                 as_of: date | None = None) -> dict[str, Any]:
    """How each source record of the entity resolved on the latest stored day up to `as_of`, and every
    exception episode of the entity and of those records. NotFound when there is neither."""
    days = stored_days(reader.project, until=as_of)
    if not days:
        raise NotFound(f"no exception or entity {canonical_id!r}: nothing reconciled in {reader.project.store_path}"
                       + (f" on or before {as_of}" if as_of else ""))
    day, today = days[-1], (days[-1] if as_of is None else as_of)
    con = reader.get(day)
    resolved: list[dict[str, Any]] = []
    if not isinstance(con, str):
        # Ambiguous records that name this entity among their candidates belong to its story too.
        cur = con.execute(
            f"SELECT {', '.join(RESOLUTION_COLUMNS)} FROM source_records "
            "WHERE canonical_id = $id OR list_contains(candidates, $id) ORDER BY source_system, source_id",
            {"id": canonical_id})
        resolved = [dict(zip(RESOLUTION_COLUMNS, r, strict=True)) for r in cur.fetchall()]
    pairs = [(r["source_system"], r["source_id"]) for r in resolved]
    found = episodes(reader.project, until=today, canonical_id=canonical_id, records=pairs)
    why = causes(reader.project, found)
    if not resolved and not found:
        raise NotFound(f"no exception or entity {canonical_id!r} in {reader.project.store_path}"
                       + (f" (and no record resolves to it on {day})" if not isinstance(con, str) else f" ({con})"))
    names = _names(reader, day, found, (canonical_id,), tuple(pairs))
    for r in resolved:  # each record's own name: an ambiguous record's may be another entity's
        r["record_name"] = names.records.get((r["source_system"], r["source_id"]), "")
    return {
        "kind": "entity",
        "canonical_id": canonical_id,
        "entity_name": names.name(canonical_id),
        "as_of": day,
        "unavailable": con if isinstance(con, str) else None,
        "source_records": resolved,
        "episodes": [{"id": e.id, "rule": e.rule, "source_system": e.source_system, "source_id": e.source_id,
                      "field": e.field, "team": e.team, "entity_name": e.entity_name,
                      **_episode(e, rules, today, why)} for e in named(found, names)],
    }
