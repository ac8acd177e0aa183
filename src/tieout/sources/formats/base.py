"""What a vendor format is (`Format`, `TableMap`, `Related`) and the registry `FORMATS` each format module adds
itself to with `register`. Apart from the package so that the format modules, which the package imports to
register them, need not import the package back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import duckdb

from tieout.sources.convert import Conversion, iso_timestamp

ReaderKind = Literal["csv", "json", "parquet", "sql"]


@dataclass(frozen=True)
class Related:
    """Another of the vendor's tables that a table's conversions read (Zuora's invoice items for an invoice's
    service period): loaded once as the table `<standard table>__<name>`, every column text, for templates to
    join. The columns named in `columns` must be there and hold the converted value (checked: a value that
    does not convert is refused with this table's own file, row and column); rows where `keep` is not true
    (a loader's deleted rows) are left out.

    With `sql`, it is no vendor table but that query over the related tables loaded before it (in order): an
    aggregate the conversions look up by key (an invoice's service period from its items) is computed once,
    not once per row."""

    files: tuple[str, ...] = ()
    query: str = ""
    columns: Mapping[str, Conversion] = field(default_factory=dict)
    keep: Conversion | None = None
    sql: str = ""
    # A file the vendor's export may leave out (Stripe's tax ids, listed apart from their customers): when none
    # is there, the table is empty, with its `columns` as text.
    optional: bool = False


@dataclass(frozen=True)
class TableMap:
    """One standard table in a vendor's shape."""

    files: tuple[str, ...] = ()  # file names (globs allowed) inside the source's folder, the first found wins
    query: str = ""  # the table a warehouse loader lands it in, when the source has `url:`
    columns: Mapping[str, Conversion | str] = field(default_factory=dict)
    statuses: Mapping[str, str] = field(default_factory=dict)  # vendor status -> standard status
    keep: Conversion | None = None  # SQL true for the rows that are live records
    related: Mapping[str, Related] = field(default_factory=dict)
    # The status of a vendor value that `statuses` does not list, e.g. from a deal stage's closed and won flags:
    # its template reads the status column as {0} and its own further inputs from {1} on.
    unmapped_status: Conversion | None = None
    # JSON: paths tried in order for the record inside each object (Chargebee's list entry {"customer": {...}},
    # a webhook event's content.customer); an object holding none of them is the record itself.
    unwrap: tuple[str, ...] = ()


# Told a connection holding the day's typed tables, the resolved `source_records`, the `entity_map` and the
# source's own rows (the view `<standard table>__vendor`, deleted records included), the as-of date and the
# project's time zone; returns proposed map rows (dicts with entity_map.csv's columns, plus `matched_on`) for a
# person to accept — e.g. Salesforce's merges. Never applied by tieout itself.
Proposals = Callable[[duckdb.DuckDBPyConnection, date, str], list[dict[str, object]]]


@dataclass(frozen=True)
class Format:
    name: str
    reader: ReaderKind
    tables: Mapping[str, TableMap] = field(default_factory=dict)
    kinds: Mapping[str, Callable[[str], Conversion]] = field(default_factory=dict)
    # A generic format (csv, json, parquet, sql) reads a column named as the standard column unless mapped.
    generic: bool = False
    # Other shapes of the same vendor's exports (Chargebee's API JSON beside its CSV export, Salesforce's
    # opportunities where there are no contracts): each table is read in the shape whose default files a
    # `tables:` file names, else the shape its suffix names (.json/.jsonl, .parquet, else CSV), else the first
    # shape whose default files are in the source's folder.
    alternatives: tuple[Format, ...] = ()
    proposals: Proposals | None = None
    # The form a record id of the format takes, applied to the entity map's source ids of the format's system
    # too, so that a map row may name a record in any of the vendor's spellings (Salesforce's 15-character ids
    # are the 18-character ones): a template over {0}, the map's source_id.
    source_id: Conversion | None = None


# A date and time without a zone is UTC, as warehouse loaders and Parquet writers leave them.
_GENERIC_KINDS = {"timestamp": iso_timestamp}
FORMATS: dict[str, Format] = {
    name: Format(name, reader, kinds=_GENERIC_KINDS, generic=True)  # type: ignore[arg-type]
    for name, reader in (("csv", "csv"), ("json", "json"), ("parquet", "parquet"), ("sql", "sql"))
}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt
