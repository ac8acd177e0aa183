"""Lifecycle handoffs: an event in one system's records that should create or change a record in another —
a contract going live, a contract ending, a customer billed for the first time, usage restated — without any
field being copied. Nothing compares them (no OWNED_FIELD_MISMATCH); they say which event a pattern of
exceptions follows, so `tieout patterns` can name it, and the ownership document draws them on its map.

    handoffs:
      - from: crm
        to: billing
        columns: [contracts.status, contracts.start_date]   # the event: one of these changes, or a row is added
        event: a contract goes live in the CRM
        should: create the customer and its first invoice the same day
        missed_as: [CRM_ACTIVE_BILLING_INACTIVE]            # optional: the rules that report it when missed

`columns` name the exports' own tables (contract §3, without the system's prefix: `contracts` is
`crm_contracts`), since an event is read from the stored source history, and `ops_usage` holds no registry
field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tieout.sources.layout import BY_TABLE
from tieout.systems import SYSTEMS

# The tables an event may name, by the short name a registry uses: "contracts" -> crm_contracts.
EVENT_TABLES = {f.table.removeprefix(f"{f.system}_"): f for f in BY_TABLE.values()}


class Lifecycle(BaseModel):
    """One lifecycle handoff: when `event` happens in `source` (one of `columns` changes, or a row is added to
    their table), `target` should do `should`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    columns: list[str] = Field(min_length=1)  # "table.column", the export's table without its system prefix
    event: str = Field(min_length=1)  # "a contract goes live in the CRM"
    should: str = Field(min_length=1)  # "create the customer and its first invoice the same day"
    # The rules that report the event when it is missed; empty: any rule. Two events on one column (a
    # contract going live, a contract ending) are told apart by the exception they leave.
    missed_as: list[str] = Field(default_factory=list)


def export_columns(refs: tuple[str, ...] | list[str]) -> set[tuple[str, str]]:
    """(export table, column) of each validated `table.column`: what the stored source history calls them."""
    return {(EVENT_TABLES[t].table, c) for t, _, c in (ref.partition(".") for ref in refs)}


def problems(h: Lifecycle, rules: set[str]) -> list[str]:
    """What is wrong with one lifecycle handoff, each naming its key and what was expected; `rules`: the
    names `missed_as` may use."""
    out: list[str] = []
    for key, system in (("from", h.source), ("to", h.target)):
        if system not in SYSTEMS:
            out.append(f"{key}: {system!r} is not a system (expected {', '.join(SYSTEMS[:-1])} or {SYSTEMS[-1]})")
    if h.source == h.target:
        out.append(f"from and to are both {h.source}: a handoff goes from one system to another")
    for ref in h.columns:
        table, _, column = ref.partition(".")
        export = EVENT_TABLES.get(table)
        if export is None or not column:
            out.append(f"columns: {ref!r} is not table.column (tables: {', '.join(EVENT_TABLES)})")
        elif column not in export.column_names:
            out.append(f"columns: {table} has no column {column!r} (it has {', '.join(export.column_names)})")
        elif export.system != h.source and h.source in SYSTEMS:
            ours = [t for t, f in EVENT_TABLES.items() if f.system == h.source]
            out.append(f"columns: {ref} is a {export.system} column; the event happens in {h.source} "
                       f"(expected a column of {', '.join(ours)})")
    for name in h.missed_as:
        if name not in rules:
            out.append(f"missed_as: no rule {name!r} (known: {', '.join(sorted(rules))})")
    return out
