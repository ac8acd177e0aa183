"""Each entity's display name, and what a person may search it by, for one stored day — the one place names
are worked out; the queue, `tieout exceptions`, `show`, `entities`, `patterns`, the reports and the
notifications all take them from here.

**The display name** of an entity is, in this order (docs/architecture.md, "Entity names"):

1. the golden record's legal name: the registry's `legal_name` field (ownership.yml; by default the CRM
   account's `legal_name`, then billing's copy, the customer's `name`) — the owner's record first, then the
   other systems that hold it in the order of `tieout.systems.SYSTEMS`, as `tieout golden` stands in for an
   owner without a value (a handover of `legal_name` under `after:` is not followed: the base owner is read);
2. else the first source name there is: the CRM account's `legal_name`, the billing customer's `name`, the
   ops tenant's `display_name` (a workspace name, not a legal name: last).

Within one system the record with the smallest source id wins; a blank value is no name. A record that
resolves to no entity (unmapped, ambiguous) is shown by its own name, read the same way, else nothing.

**Search** finds an exception by the text of its entity: every name its records carry, its canonical id,
every source id, domain (CRM and ops `domain`, billing `email`) and tax id — case- and accent-insensitive
(`fold`: "grunwald" finds "Grünwald Robotics AG"), a tax id also without its spaces and dashes.

Names are values from the exports, so untrusted: every renderer escapes them as it escapes any export value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

import duckdb
from unidecode import unidecode

from tieout.config import Project
from tieout.errors import NotFound, StoreError
from tieout.ownership.model import Registry, columns, load_registry
from tieout.sql import quote_name
from tieout.store import RECORD_TABLES, open_day, stored_days
from tieout.systems import SYSTEMS

# What a terminal table shows of a name at most: a name is never an id to paste, and one hostile 500-character
# name must not turn every row into a paragraph.
TABLE_NAME_WIDTH = 40

# The record tables of each system with their id column and the columns a person searches them by.
_RECORDS = {
    "crm": ("crm_accounts", "account_id", ("legal_name", "domain", "tax_id")),
    "billing": ("billing_customers", "customer_id", ("name", "email", "tax_id")),
    "ops": ("ops_tenants", "tenant_id", ("display_name", "domain")),
}
_TAX_COLUMNS = ("tax_id",)
# Step 2 of the display name: the source names, in order, after the golden record's legal name.
_FALLBACK_NAMES = (("crm", "legal_name"), ("billing", "name"), ("ops", "display_name"))
Record = tuple[str, str]  # (source_system, source_id)


# --- folding, for search -------------------------------------------------------------------------------------

def fold(text: str | None) -> str:
    """`text` as search compares it: case-folded, and also transliterated to ASCII without accents
    (`Grünwald` → `grünwald grunwald`), so that a query typed either way finds it."""
    if not text:
        return ""
    plain = unicodedata.normalize("NFKC", text).casefold()
    ascii_ = unidecode(plain).casefold()
    return plain if ascii_ == plain else f"{plain} {ascii_}"


def _compact(text: str) -> str:
    """A tax id as written without its separators (`DE 741-433` → `de741433`)."""
    return re.sub(r"[\W_]+", "", text.casefold())


def matches(query: str, haystack: str) -> bool:
    """Whether `query` (as typed) occurs in `haystack` (a `fold`ed text): as typed, without accents, or — a
    query holding a digit, as a tax id does — without its spaces and dashes."""
    q = " ".join(query.split())
    if not q:
        return True
    plain = unicodedata.normalize("NFKC", q).casefold()
    if plain in haystack or unidecode(plain).casefold().strip() in haystack:
        return True
    compact = _compact(plain)
    return any(c.isdigit() for c in compact) and len(compact) >= 3 and compact in haystack


# --- the names of one day ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntityNames:
    """The names and search keys of a day's entities and records (those asked for, or every one)."""

    day: date | None
    entities: dict[str, str] = field(default_factory=dict)  # canonical_id -> display name
    records: dict[Record, str] = field(default_factory=dict)  # record -> its own best name
    # What search reads, folded only when asked (`keys`): most readers show names and never search (folding
    # every record's text is most of the cost of reading a day's names). record -> its search text as read;
    # canonical_id -> its records, in the order their names rank.
    record_texts: dict[Record, str] = field(default_factory=dict, repr=False)
    entity_records: dict[str, list[Record]] = field(default_factory=dict, repr=False)
    _folded: dict[Record, str] = field(default_factory=dict, repr=False, compare=False)

    def _record_key(self, record: Record) -> str:
        if record not in self._folded:
            self._folded[record] = fold(self.record_texts[record])
        return self._folded[record]

    def name(self, canonical_id: str | None, source_system: str | None = None, source_id: str | None = None) -> str:
        """The entity's display name; for no entity, the record's own name; "" when there is none."""
        if canonical_id:
            return self.entities.get(canonical_id, "")
        if source_system and source_id:
            return self.records.get((source_system, source_id), "")
        return ""

    def keys(self, canonical_id: str | None, source_system: str | None = None, source_id: str | None = None) -> str:
        """The folded text an exception about this entity (or record) is found by."""
        if canonical_id:
            records = self.entity_records.get(canonical_id)
            if records is None:
                return fold(canonical_id)
            return " ".join([fold(canonical_id), *(self._record_key(r) for r in records)])
        if source_system and source_id:
            if (source_system, source_id) not in self.record_texts:
                return fold(f"{source_system}:{source_id}")
            return self._record_key((source_system, source_id))
        return ""


NO_NAMES = EntityNames(None)


def _name_sources(registry: Registry) -> list[tuple[str, str, str, str]]:
    """(system, table, id column, name column) in the order of the display name: the registry's legal name
    (owner first), then the fallbacks."""
    out: list[tuple[str, str, str, str]] = []
    legal = registry.fields.get("legal_name")
    if legal is not None:
        held = sorted(columns(legal), key=lambda c: (c.system != legal.owner, SYSTEMS.index(c.system)))
        out += [(c.system, c.view.table, c.view.record_id, c.column) for c in held if not c.view.is_child]
    out += [(s, _RECORDS[s][0], _RECORDS[s][1], column) for s, column in _FALLBACK_NAMES]
    return out


def read_names(con: duckdb.DuckDBPyConnection, registry: Registry, *, day: date | None = None,
               entities: Iterable[str] | None = None, records: Iterable[Record] | None = None) -> EntityNames:
    """The names on the day `con` holds (a stored day's tables, `tieout.store.open_day`): of the `entities`
    and `records` given — with every record of those entities — or, both None, of every one. One query."""
    everything = entities is None and records is None
    wanted_ids = sorted(set(entities or ()))
    wanted_records = sorted({f"{s}:{i}" for s, i in records or ()})
    names = " UNION ALL ".join(
        f"SELECT '{system}' AS source_system, CAST({quote_name(id_col)} AS VARCHAR) AS source_id, "
        f"CAST({quote_name(col)} AS VARCHAR) AS name, {rank} AS rank FROM {table}"
        for rank, (system, table, id_col, col) in enumerate(_name_sources(registry)))
    keys = " UNION ALL ".join(
        f"SELECT '{system}' AS source_system, CAST({quote_name(id_col)} AS VARCHAR) AS source_id, "
        f"[{', '.join(f'CAST({quote_name(c)} AS VARCHAR)' for c in cols)}] AS texts, "
        f"[{', '.join(f'CAST({quote_name(c)} AS VARCHAR)' for c in cols if c in _TAX_COLUMNS)}]::VARCHAR[] AS tax_ids "
        f"FROM {table}"
        for system, (table, id_col, cols) in _RECORDS.items())
    chosen = "true" if everything else (
        "(r.canonical_id IN (SELECT unnest($ids)) OR r.source_system || ':' || r.source_id IN (SELECT unnest($recs)))")
    cur = con.execute(f"""
        WITH chosen AS (
            SELECT r.source_system, r.source_id, r.canonical_id FROM source_records AS r WHERE {chosen}
        ), named AS (
            SELECT c.source_system, c.source_id, c.canonical_id,
                   arg_min(n.name, n.rank) FILTER (WHERE trim(n.name) <> '') AS name,
                   min(n.rank) FILTER (WHERE trim(n.name) <> '') AS rank
            FROM chosen AS c LEFT JOIN ({names}) AS n USING (source_system, source_id)
            GROUP BY ALL
        )
        SELECT n.source_system, n.source_id, n.canonical_id, n.name, n.rank, k.texts, k.tax_ids
        FROM named AS n LEFT JOIN ({keys}) AS k USING (source_system, source_id)
        ORDER BY n.rank NULLS LAST, n.source_id, n.source_system
    """, {} if everything else {"ids": wanted_ids or [""], "recs": wanted_records or [""]})
    entity_names: dict[str, str] = {}
    record_names: dict[Record, str] = {}
    entity_records: dict[str, list[Record]] = {}
    record_texts: dict[Record, str] = {}
    for system, source_id, cid, name, _, texts, tax_ids in cur.fetchall():
        # rows come best name first: the first name met is the one shown
        if name is not None:
            record_names.setdefault((system, source_id), name)
            if cid is not None:
                entity_names.setdefault(cid, name)
        record_texts[(system, source_id)] = " ".join([f"{system}:{source_id}", *(t for t in texts or () if t),
                                                      *(_compact(t) for t in tax_ids or () if t)])
        if cid is not None:
            entity_records.setdefault(cid, []).append((system, source_id))
    return EntityNames(day, entity_names, record_names, record_texts, entity_records)


def entity_names(project: Project, day: date | None, *, entities: Iterable[str] | None = None,
                 records: Iterable[Record] | None = None, registry: Registry | None = None) -> EntityNames:
    """The names on stored `day` (see `read_names`). A day the store cannot give back — none stored, the
    source history gone — has no names: a name is for people, and its absence must never hide an exception."""
    if day is None:
        return NO_NAMES
    try:
        con = open_day(project, day, tables=RECORD_TABLES, normalisers=False)  # the names are read as they are
    except (NotFound, StoreError):
        return EntityNames(day)
    try:
        return read_names(con, load_registry(project) if registry is None else registry, day=day,
                          entities=entities, records=records)
    finally:
        con.close()


# --- names on exceptions -------------------------------------------------------------------------------------

E = TypeVar("E")


def _subjects(found: Iterable[Any]) -> tuple[set[str], set[Record]]:
    ids: set[str] = set()
    recs: set[Record] = set()
    for e in found:
        if e.canonical_id:
            ids.add(e.canonical_id)
        elif e.source_system and e.source_id:
            recs.add((e.source_system, e.source_id))
    return ids, recs


def names_for(project: Project, found: Iterable[Any], day: date | None) -> EntityNames:
    """The names of the entities and records that the exceptions (or episodes, report items) `found` are
    about, on stored `day`."""
    found = list(found)
    if not found:
        return EntityNames(day)
    ids, recs = _subjects(found)
    return entity_names(project, day, entities=ids, records=recs)


def named(found: list[E], names: EntityNames) -> list[E]:
    """`found` (dataclasses with `canonical_id`, `source_system`, `source_id` and an `entity_name` field, and
    maybe a `search_text` one) with their entity's name, and what they are found by."""
    out = []
    for e in found:
        who = (e.canonical_id, e.source_system, e.source_id)  # type: ignore[attr-defined]
        changes: dict[str, str] = {"entity_name": names.name(*who)}
        if hasattr(e, "search_text"):
            changes["search_text"] = names.keys(*who)
        out.append(replace(e, **changes))  # type: ignore[type-var]
    return out


def stored_day_of(project: Project, as_of: date | None) -> date | None:
    """The stored day a reading "as of `as_of`" stands on: the latest stored day up to it."""
    days = stored_days(project, until=as_of)
    return days[-1] if days else None


def with_names(project: Project, found: list[E], as_of: date | None = None) -> list[E]:
    """`found` named as of `as_of` (default: the latest stored day): `named(found, names_for(…))`."""
    return named(found, names_for(project, found, stored_day_of(project, as_of)))


def exception_text(e: Any) -> str:
    """The folded text an exception is searched in: its own id, rule, entity or record, field, team and
    evidence, and its entity's `search_text` (names, ids, domains, tax ids)."""
    own = " ".join(str(x) for x in (e.id, e.rule, e.canonical_id, e.source_system, e.source_id, e.field, e.team,
                                     e.details, getattr(e, "entity_name", "")) if x)
    return f"{fold(own)} {getattr(e, 'search_text', '')}"


# --- showing a name ------------------------------------------------------------------------------------------

def clipped(name: str | None, width: int = TABLE_NAME_WIDTH) -> str:
    """`name` cut to `width` characters with an ellipsis, for a table cell of a terminal."""
    text = " ".join((name or "").split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _getter(e: Any) -> Any:
    return e.get if isinstance(e, dict) else lambda k, d=None: getattr(e, k, d)


def label(e: Any, *, width: int | None = None) -> str:
    """The entity (or record) by its name and id, on one line: `Acme Inc. (C00042)`, `Grünwald AG
    (billing:cus_1)`, `C00042` without a name; the name cut to `width` characters when given. `e`: an object or
    a dict with `canonical_id`, `source_system`, `source_id` and perhaps `entity_name`."""
    get = _getter(e)
    ident = get("canonical_id") or f"{get('source_system')}:{get('source_id')}"
    name = clipped(get("entity_name", ""), width) if width else " ".join((get("entity_name", "") or "").split())
    return f"{name} ({ident})" if name else ident


def subject(e: Any) -> str:
    """What an exception is about, in one line, for a person: `Acme Inc. (C00042) · billing · legal_name`,
    `Grünwald AG (billing:cus_1)`: its `label`, then the system and field. `e` as for `label`, with `field`."""
    get = _getter(e)
    parts = [label(e)]
    if get("canonical_id") and get("source_system"):
        parts.append(get("source_system"))
    if get("field"):
        parts.append(get("field"))
    return " · ".join(parts)
