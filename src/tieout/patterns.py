"""Exceptions grouped by shared cause (`tieout patterns`), not by team.

A *pattern* is every exception episode (each reopening is another occurrence) with the same signature:

- the rule;
- its classification (`timeline.classify`, as of the as-of date);
- its *change signature*: which system, table and field changed on the episode's first day among the
  records of its entity (or its one record) — read from the stored source history, compared with the stored
  day before. A record added or removed counts as `table:added` / `table:removed`; a moved `updated_at` is
  never a change by itself (as in `tieout show`); the usage export's daily window (a new day's row in, the
  oldest out) is routine, so usage counts only as a change of the latest reading's `fte_count` or of
  whether it has active users;
- its *origin*: per system, how the records resolved that day (the entity map, a natural key — tax id,
  domain, legal name — or unmapped, ambiguous) and whether each was new that day or existed before.

Everything is read set-based: one DuckDB query over the source history for all episodes at once (the
resolution rows of the whole chain of history files, and the diffs of the episodes' first days and the
days before them), never one history query per exception.

A pattern that had new occurrences in at least `min_weeks` of the last `weeks` ISO weeks is *recurring*:
"a rule nobody wrote down".
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from tieout.config import Project
from tieout.db import connect
from tieout.entity_names import named, names_for
from tieout.exposure import at_risk
from tieout.record_versions import IGNORED_FOR_CHANGE
from tieout.rules.registry import Rule
from tieout.store import source_history, stored_days
from tieout.systems import CHILD_TABLE, RECORD_TABLE, SYSTEMS
from tieout.systems import label as system_label
from tieout.timeline import Causes, Episode, causes, episodes

STATUSES = ("open", "resolved", "all")
DEFAULT_TREND_WEEKS = 8
DEFAULT_MIN_WEEKS = 3  # recurring: new occurrences in at least 3 ...
DEFAULT_OF_WEEKS = 4  # ... of the last 4 ISO weeks
DEFAULT_EXAMPLES = 3
# A kind of change (table, field) that touched at least half of a system's records on a day — and at least
# this many — is that day's routine (a month's invoices issued, last month's marked paid), not a cause.
ROUTINE_SHARE = Decimal("0.5")
ROUTINE_MIN_RECORDS = 10

# What the change signature can say about an episode's first day.
COMPARED = "compared"  # its diff against the stored day before was read
FIRST_DAY = "first_day"  # it began on the first day of the stored history: nothing to compare with
UNAVAILABLE = "unavailable"  # no stored history covers that day

METHOD_TEXT = {"map": "the entity map", "tax_id": "tax id", "domain": "domain", "legal_name": "legal name"}


@dataclass(frozen=True, order=True)
class ChangeItem:
    """One kind of change on an episode's first day: `field` for a changed row, None for an added or
    removed one."""

    system: str
    table: str
    change: str  # added | removed | changed
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "table": self.table, "change": self.change, "field": self.field}

    def label(self) -> str:
        return f"{self.table}.{self.field}" if self.change == "changed" else f"{self.table}:{self.change}"


@dataclass(frozen=True, order=True)
class Origin:
    """How one of an episode's records came to be: its system, how it resolved, and whether it was new."""

    system: str
    method: str  # map | tax_id | domain | legal_name | unmapped | ambiguous
    lifecycle: str  # new | existing | removed (gone that day) | first_day (the history's first day)

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "method": self.method, "lifecycle": self.lifecycle}


@dataclass(frozen=True)
class Signature:
    rule: str
    classification: str
    history: str  # compared | first_day | unavailable
    changes: tuple[ChangeItem, ...]
    origins: tuple[Origin, ...]

    @property
    def id(self) -> str:
        """Stable across runs and days: a hash of the signature's parts."""
        body = json.dumps([self.rule, self.classification, self.history, [c.as_dict() for c in self.changes],
                           [o.as_dict() for o in self.origins]], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Occurrence:
    """One exception episode with its classification and signature."""

    episode: Episode
    classification: str
    signature: Signature

    @property
    def open(self) -> bool:
        return self.episode.resolved_on is None


@dataclass(frozen=True)
class Week:
    week: str  # ISO week, e.g. 2026-W09
    start: date  # its Monday
    new: int  # occurrences first seen that week


@dataclass
class Pattern:
    signature: Signature
    count: int
    open: int
    first_seen: date  # the first day any of its episodes was reported
    last_seen: date  # the last day any of its episodes was reported
    last_new: date  # the first day of its latest episode
    money_at_risk: Decimal  # the impact of its open episodes, in the reporting currency
    currency: str
    trend: list[Week]
    week_over_week: int  # new occurrences in the last week minus the week before
    recurring_weeks: int  # of the last `of_weeks` weeks, those with a new occurrence
    recurring: bool
    examples: list[Episode]
    sentence: str = ""
    occurrences: list[Occurrence] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Report:
    as_of: date | None
    since: date | None
    status: str
    min_weeks: int
    of_weeks: int
    patterns: list[Pattern]


# --- the signature of every episode, in one query ------------------------------------------------------------

def _key_sql(table: str, column: str) -> str:
    return f'coalesce("{table}", "{table}__old")."{column}"'


def _touched_sql() -> str:
    """Every row of the read diffs as (day, system, source_id, table, change, fields): the source record it
    belongs to. Usage rows only when restated (`changed`): a day's new row and the row leaving the trailing
    window are the export's routine, compared below as the latest reading instead."""
    parts = []
    for system in SYSTEMS:
        for table, column in (RECORD_TABLE[system], CHILD_TABLE[system]):
            only = " AND change = 'changed'" if table == "ops_usage" else ""
            parts.append(f"""SELECT day, '{system}' AS system, {_key_sql(table, column)} AS source_id,
                "table", change, fields FROM hist WHERE "table" = '{table}'{only}""")
    sr = "source_records"
    parts.append(f"""SELECT day, {_key_sql(sr, 'source_system')}, {_key_sql(sr, 'source_id')},
        "table", change, fields FROM hist WHERE "table" = 'source_records'""")
    return "\nUNION ALL\n".join(parts)


# `eps`: one row per episode whose first day the history covers — ep, canonical_id, source_system, source_id,
# f (first day), b (the stored day before it, NULL when f is the history's first day).
_SIGNATURE_SQL = """
WITH sr_raw AS (
    SELECT day, key, change, coalesce(source_records, source_records__old) AS r
    FROM read_parquet($chain, union_by_name = true) WHERE "table" = 'source_records'
),
wanted AS (  -- only the resolution rows that can matter: of the episodes' entities and records
    SELECT DISTINCT key FROM sr_raw
    WHERE r.canonical_id IN (SELECT canonical_id FROM eps WHERE canonical_id IS NOT NULL)
       OR r.source_system || ':' || r.source_id IN (
           SELECT source_system || ':' || source_id FROM eps WHERE source_id IS NOT NULL)
),
sr AS (  -- each version of a resolution row, valid from its day until the next version's
    SELECT day AS valid_from, lead(day) OVER (PARTITION BY key ORDER BY day) AS valid_to, change, r
    FROM sr_raw SEMI JOIN wanted USING (key)
),
live AS (
    SELECT valid_from, valid_to, r.source_system, r.source_id, r.canonical_id, r.status, r.resolved_by
    FROM sr WHERE change <> 'removed'
),
members AS (  -- an entity's records resolved to it on the day before or on the first day; else the record
    SELECT DISTINCT e.ep, l.source_system AS system, l.source_id
    FROM eps AS e JOIN live AS l ON l.canonical_id = e.canonical_id AND l.status = 'resolved'
    WHERE (l.valid_from <= e.f AND (l.valid_to IS NULL OR l.valid_to > e.f))
       OR (e.b IS NOT NULL AND l.valid_from <= e.b AND (l.valid_to IS NULL OR l.valid_to > e.b))
    UNION
    SELECT ep, source_system, source_id FROM eps WHERE canonical_id IS NULL AND source_id IS NOT NULL
),
origins AS (
    SELECT m.ep, m.system,
           coalesce(CASE WHEN now.status = 'resolved' THEN now.resolved_by ELSE now.status END,
                    CASE WHEN bef.status = 'resolved' THEN bef.resolved_by ELSE bef.status END) AS method,
           CASE WHEN e.b IS NULL THEN 'first_day' WHEN now.source_id IS NULL THEN 'removed'
                WHEN bef.source_id IS NULL THEN 'new' ELSE 'existing' END AS lifecycle
    FROM members AS m JOIN eps AS e USING (ep)
    LEFT JOIN live AS now ON now.source_system = m.system AND now.source_id = m.source_id
         AND now.valid_from <= e.f AND (now.valid_to IS NULL OR now.valid_to > e.f)
    LEFT JOIN live AS bef ON e.b IS NOT NULL AND bef.source_system = m.system AND bef.source_id = m.source_id
         AND bef.valid_from <= e.b AND (bef.valid_to IS NULL OR bef.valid_to > e.b)
),
hist AS (SELECT * FROM read_parquet($days, union_by_name = true) __NONE__),  -- the first days' diffs
touched AS (__TOUCHED__),
kinds AS (  -- every read first day's changes, one row per record and kind of change
    SELECT day, system, "table", change, source_id,
           unnest(CASE WHEN change = 'changed' THEN list_filter(fields, lambda x: NOT list_contains($ignored, x))
                       ELSE [NULL] END) AS field
    FROM touched
),
sizes AS (SELECT unnest($size_days) AS day, unnest($size_systems) AS system, unnest($size_records) AS records),
routine AS (  -- a kind of change that touched most of a system's records that day is the day's routine
    SELECT k.day, k.system, k."table", k.change, k.field
    FROM kinds AS k JOIN sizes AS z ON z.day = k.day AND z.system = k.system
    GROUP BY ALL
    HAVING count(DISTINCT k.source_id) >= $routine_min
       AND count(DISTINCT k.source_id) >= $routine_share * any_value(z.records)
),
items AS (
    SELECT DISTINCT e.ep, k.system, k."table", k.change, k.field
    FROM members AS m JOIN eps AS e USING (ep)
    JOIN kinds AS k ON k.day = e.f AND k.system = m.system AND k.source_id = m.source_id
    WHERE e.b IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM routine AS r
        WHERE r.day = k.day AND r.system = k.system AND r."table" = k."table" AND r.change = k.change
          AND r.field IS NOT DISTINCT FROM k.field)
),
ops_members AS (
    SELECT DISTINCT e.ep, e.f, e.b, m.source_id FROM members AS m JOIN eps AS e USING (ep)
    WHERE m.system = 'ops' AND e.b IS NOT NULL
),
readings AS (  -- each tenant's latest usage row added on a read day
    SELECT day, r.tenant_id, r.fte_count, r.active_users > 0 AS active
    FROM (SELECT day, ops_usage AS r FROM read_parquet($usage_days, union_by_name = true)
          WHERE __ANY__ AND "table" = 'ops_usage' AND change = 'added'
            AND ops_usage.tenant_id IN (SELECT source_id FROM ops_members))
    QUALIFY row_number() OVER (PARTITION BY day, r.tenant_id ORDER BY r.date DESC) = 1
),
usage_items AS (
    SELECT o.ep, 'ops' AS system, 'ops_usage' AS "table", 'changed' AS change,
           unnest(list_filter([CASE WHEN n.fte_count IS DISTINCT FROM p.fte_count THEN 'fte_count' END,
                               CASE WHEN n.active IS DISTINCT FROM p.active THEN 'active_users' END],
                              lambda x: x IS NOT NULL)) AS field
    FROM ops_members AS o
    JOIN readings AS n ON n.day = o.f AND n.tenant_id = o.source_id
    JOIN readings AS p ON p.day = o.b AND p.tenant_id = o.source_id
)
SELECT 'change' AS kind, ep, system, "table" AS a, change AS b, field AS c FROM items
UNION ALL SELECT 'change', ep, system, "table", change, field FROM usage_items
UNION ALL SELECT 'origin', ep, system, method, lifecycle, NULL FROM origins
"""


def _history_days(project: Project, until: date) -> list[date]:
    """The stored days, up to `until`, whose history replays from a baseline: the chain of `until`'s file
    (the first of them is the baseline). Empty if no stored history reaches `until`."""
    stored = stored_days(project, until=until)
    metas = {d: m for d in stored if (m := source_history.read_meta(source_history.history_path(project, d)))}
    files = source_history.chain(metas, project, stored[-1]) if stored else None
    return [date.fromisoformat(Path(p).name[:10]) for p in files or []]


def _system_sizes(project: Project, days: list[date]) -> list[tuple[date, str, int]]:
    """(day, system, how many records the system exported that day), from the row counts each history file
    records for its day; a day or table whose count cannot be read is left out (nothing is routine there)."""
    out = []
    for d in days:
        meta = source_history.read_meta(source_history.history_path(project, d))
        for system in SYSTEMS:
            token = meta.tokens.get(RECORD_TABLE[system][0], "") if meta is not None else ""
            count = token.partition(":")[0]
            if count.isdigit():
                out.append((d, system, int(count)))
    return out or [(date.min, "", 0)]  # unnest of an empty list has no type


def signatures(project: Project, found: list[tuple[Episode, str]], as_of: date) -> list[Occurrence]:
    """Each (episode, classification) with its signature — one query for all of them."""
    covered = _history_days(project, as_of)
    index = {d: i for i, d in enumerate(covered)}
    history: list[str] = []
    rows: dict[str, list[Any]] = {k: [] for k in ("ep", "canonical_id", "source_system", "source_id", "f", "b")}
    for n, (e, _) in enumerate(found):
        i = index.get(e.first_seen)
        if i is None:
            history.append(UNAVAILABLE)
            continue
        history.append(COMPARED if i > 0 else FIRST_DAY)
        for k, v in (("ep", n), ("canonical_id", e.canonical_id), ("source_system", e.source_system),
                     ("source_id", e.source_id), ("f", e.first_seen), ("b", covered[i - 1] if i else None)):
            rows[k].append(v)
    changes: dict[int, set[ChangeItem]] = defaultdict(set)
    origins: dict[int, set[Origin]] = defaultdict(set)
    if rows["ep"]:
        # the first days' diffs, and for the usage readings those of the days before them too
        compared = [(f, b) for f, b in zip(rows["f"], rows["b"], strict=True) if b is not None]
        firsts = sorted({f for f, _ in compared})
        usage_days = sorted({d for pair in compared for d in pair})
        sizes = _system_sizes(project, firsts)
        with connect() as con:
            con.register("eps", pa.table({
                "ep": pa.array(rows["ep"], pa.int64()),
                "canonical_id": pa.array(rows["canonical_id"], pa.string()),
                "source_system": pa.array(rows["source_system"], pa.string()),
                "source_id": pa.array(rows["source_id"], pa.string()),
                "f": pa.array(rows["f"], pa.date32()),
                "b": pa.array(rows["b"], pa.date32()),
            }))
            # Every episode may have begun on the history's first day: then no diff is read (the baseline
            # file stands in for the schema only).
            sql = (_SIGNATURE_SQL.replace("__TOUCHED__", _touched_sql())
                   .replace("__NONE__", "" if firsts else "LIMIT 0").replace("__ANY__", str(bool(firsts)).lower()))
            result = con.execute(sql, {
                "chain": [str(source_history.history_path(project, d)) for d in covered],
                "days": [str(source_history.history_path(project, d)) for d in firsts or covered[:1]],
                "usage_days": [str(source_history.history_path(project, d)) for d in usage_days or covered[:1]],
                "ignored": sorted(IGNORED_FOR_CHANGE),
                "size_days": [d for d, _, _ in sizes], "size_systems": [x for _, x, _ in sizes],
                "size_records": [n for _, _, n in sizes],
                "routine_min": ROUTINE_MIN_RECORDS, "routine_share": ROUTINE_SHARE,
            }).fetchall()
        for kind, ep, system, a, b, c in result:
            if kind == "change":
                changes[ep].add(ChangeItem(system, a, b, c))
            elif a is not None:
                origins[ep].add(Origin(system, a, b))
    out = []
    for n, (e, classification) in enumerate(found):
        sig = Signature(e.rule, classification, history[n], tuple(sorted(changes[n])), tuple(sorted(origins[n])))
        out.append(Occurrence(e, classification, sig))
    return out


# --- grouping ------------------------------------------------------------------------------------------------

def iso_week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def window_start(as_of: date, weeks: int) -> date:
    """The Monday of the ISO week `weeks - 1` weeks before `as_of`'s: the last `weeks` weeks begin there."""
    return _monday(as_of) - timedelta(weeks=weeks - 1)


def patterns(
    project: Project,
    rules: dict[str, Rule],
    *,
    as_of: date | None = None,
    status: str = "all",
    since: date | None = None,
    rule_names: tuple[str, ...] = (),
    trend_weeks: int | None = None,
    min_weeks: int = DEFAULT_MIN_WEEKS,
    of_weeks: int = DEFAULT_OF_WEEKS,
    examples: int = DEFAULT_EXAMPLES,
    found: list[Episode] | None = None,
    why: Causes | None = None,
) -> Report:
    """The patterns among the episodes first seen on or after `since` (default: all) up to `as_of` (default:
    the latest stored day), most recurring first, then by count and by money at risk. `found` and `why`: every
    episode up to `as_of` and the causes of (at least) those, when the caller has read them already."""
    days = stored_days(project, until=as_of)
    if not days:
        return Report(None, since, status, min_weeks, of_weeks, [])
    today = days[-1] if as_of is None else as_of
    chosen = [e for e in (episodes(project, until=as_of) if found is None else found)
              if (status == "all" or (e.resolved_on is None) == (status == "open"))
              and (since is None or e.first_seen >= since) and (not rule_names or e.rule in rule_names)]
    why = causes(project, chosen) if why is None else why
    classified = [(e, why.classify(e, rules, today)) for e in chosen]
    groups: dict[Signature, list[Occurrence]] = defaultdict(list)
    for occ in signatures(project, classified, today):
        groups[occ.signature].append(occ)
    if trend_weeks is None:
        trend_weeks = DEFAULT_TREND_WEEKS if since is None else (_monday(today) - _monday(since)).days // 7 + 1
    trend_weeks = max(trend_weeks, of_weeks, 1)
    out = [_pattern(sig, occs, rules, project.reporting_currency, today, trend_weeks, min_weeks, of_weeks, examples)
           for sig, occs in groups.items()]
    names = names_for(project, [e for p in out for e in p.examples], days[-1])
    for p in out:
        p.examples = named(p.examples, names)
    out.sort(key=lambda p: (not p.recurring, -p.recurring_weeks, -p.count, -p.money_at_risk, p.signature.rule,
                            p.signature.id))
    return Report(today, since, status, min_weeks, of_weeks, out)


def _pattern(sig: Signature, occs: list[Occurrence], rules: dict[str, Rule], currency: str, today: date,
             trend_weeks: int, min_weeks: int, of_weeks: int, examples: int) -> Pattern:
    occs.sort(key=lambda o: (o.episode.first_seen, o.episode.id))
    per_week: dict[date, int] = defaultdict(int)
    for o in occs:
        per_week[_monday(o.episode.first_seen)] += 1
    mondays = [window_start(today, trend_weeks) + timedelta(weeks=k) for k in range(trend_weeks)]
    trend = [Week(iso_week(m), m, per_week.get(m, 0)) for m in mondays]
    recent = sum(1 for w in trend[-of_weeks:] if w.new > 0)
    p = Pattern(
        signature=sig,
        count=len(occs),
        open=sum(1 for o in occs if o.open),
        first_seen=occs[0].episode.first_seen,
        last_seen=max(o.episode.last_seen for o in occs),
        last_new=occs[-1].episode.first_seen,
        money_at_risk=at_risk((o.episode for o in occs if o.open), rules),
        currency=currency,
        trend=trend,
        week_over_week=trend[-1].new - (trend[-2].new if len(trend) > 1 else 0),
        recurring_weeks=recent,
        recurring=recent >= min_weeks,
        # the latest first: what someone looking into the pattern opens first
        examples=[o.episode for o in reversed(occs[-examples:])] if examples > 0 else [],
        occurrences=occs,
    )
    p.sentence = sentence(p, of_weeks)
    return p


# --- one plain sentence, from the parts ----------------------------------------------------------------------

def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _change_phrase(c: ChangeItem) -> str:
    if c.table == "source_records":  # how a record resolved, rather than the record itself
        if c.change == "changed":
            return f"a record's resolution ({c.field}) changed"
        return ("a record was resolved for the first time" if c.change == "added"
                else "a record's resolution was dropped")
    if c.change == "changed":
        return f"{c.table}.{c.field} changed"
    return f"a row was {c.change} {'to' if c.change == 'added' else 'from'} {c.table}"


def _change_text(sig: Signature, many: bool) -> str:
    if sig.history == UNAVAILABLE:
        return "began on a day the stored source history does not cover, so what changed is unknown"
    if sig.history == FIRST_DAY:
        return f"{'were' if many else 'was'} already there on the first day of the stored history"
    if not sig.changes:
        return ("began on a day when none of the records involved changed in any system (a date or a window "
                "was crossed)")
    by_system: dict[str, list[str]] = defaultdict(list)
    for c in sig.changes:
        by_system[c.system].append(_change_phrase(c))
    said = [f"in {system_label(s)} {_join(v)}" for s, v in by_system.items()]
    quiet = [system_label(s) for s in SYSTEMS if s not in by_system]
    tail = f", and {_join(quiet)} had no change" if quiet else ""
    return f"began on a day when {_join(said)}{tail}"


def _origin_text(sig: Signature) -> str:
    if not sig.origins:
        return ""
    by_how: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in sig.origins:
        by_how[(o.method, o.lifecycle)].append(system_label(o.system))
    parts = []
    for (method, lifecycle), systems in by_how.items():
        names = sorted(set(systems), key=systems.index)
        many = len(systems) > 1
        whose = f"the {_join(names)} record{'s' if many else ''}"
        if method == "unmapped":
            how = f"{whose} matched no entity"
        elif method == "ambiguous":
            how = f"{whose} matched several entities"
        else:
            how = (f"{whose} {'were' if many else 'was'} matched by "
                   f"{'the entity map' if method == 'map' else 'its natural key, ' + METHOD_TEXT.get(method, method)}")
        if lifecycle == "new":
            how += ", new that day"
        elif lifecycle == "removed":
            how += ", gone that day"
        parts.append(how)
    return "; " + "; ".join(parts)


def _class_text(p: Pattern) -> str:
    c = p.signature.classification
    n = p.count
    if c == "timing":
        return f"{'all' if n > 1 else 'it'} closed on {'their' if n > 1 else 'its'} own within the expected lag " \
               "(timing)"
    if c == "structural":
        return "open, or once open, longer than the expected lag (structural)"
    if c == "pending":
        return "still within the expected lag (pending)"
    if c == "ownership":
        return "a system that does not own the field disagrees with the owner (ownership)"
    return c


def sentence(p: Pattern, of_weeks: int) -> str:
    """One plain sentence, generated from the pattern's parts — nothing in it is not in the signature."""
    sig = p.signature
    head = f"{p.count} exception{'s' if p.count != 1 else ''} of {sig.rule} {_change_text(sig, p.count != 1)}"
    still = f"{p.open} still open" if p.open else "none still open"
    text = f"{head}{_origin_text(sig)}; {_class_text(p)}, {still}"
    if p.recurring:
        text += (f"; new ones appeared in {p.recurring_weeks} of the last {of_weeks} weeks: "
                 "a rule nobody wrote down")
    return text + "."


# --- JSON ----------------------------------------------------------------------------------------------------

def example_record(e: Episode) -> dict[str, Any]:
    return {"id": e.id, "canonical_id": e.canonical_id, "source_system": e.source_system,
            "source_id": e.source_id, "field": e.field, "first_seen": e.first_seen, "resolved_on": e.resolved_on,
            "entity_name": e.entity_name}


def pattern_record(p: Pattern) -> dict[str, Any]:
    """A pattern's JSON object; the keys are documented in docs/patterns.md."""
    sig = p.signature
    return {
        "id": sig.id,
        "rule": sig.rule,
        "classification": sig.classification,
        "history": sig.history,
        "changes": [c.as_dict() for c in sig.changes],
        "origins": [o.as_dict() for o in sig.origins],
        "count": p.count,
        "open": p.open,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "last_new": p.last_new,
        "money_at_risk": p.money_at_risk,
        "currency": p.currency,
        "trend": [{"week": w.week, "start": w.start, "new": w.new} for w in p.trend],
        "week_over_week": p.week_over_week,
        "recurring_weeks": p.recurring_weeks,
        "recurring": p.recurring,
        "examples": [example_record(e) for e in p.examples],
        "sentence": p.sentence,
    }


def report_record(r: Report) -> dict[str, Any]:
    return {"as_of": r.as_of, "since": r.since, "status": r.status,
            "recurring_rule": {"min_weeks": r.min_weeks, "of_weeks": r.of_weeks},
            "patterns": [pattern_record(p) for p in r.patterns]}
