"""Exceptions over time (contract §6): identity, episodes, status and classification.

The timeline is derived from the stored days, never kept as mutable state: an exception's episodes are
the runs of consecutive stored as-of dates on which it was reported. That is what makes re-running a
date idempotent and running dates in any order give the same result. Each stored day holds only what
changed since the day before (`tieout.store.days`), so an episode is read off the changes directly: it starts
with a change that reports an exception the day before did not, and ends with the change that drops it.
Each commit keeps those episodes in the stored timeline (`tieout.store.episodes`), updated by what the day
changed, so a read costs what it returns rather than the length of the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tieout.config import Project
from tieout.db import scratch
from tieout.rules.registry import Rule
from tieout.store import breaks as stored_breaks
from tieout.store import days as day_store
from tieout.store import episodes as stored_episodes
from tieout.store import manifest, stored_days

STATUSES = ("open", "resolved", "all")


@dataclass(frozen=True)
class Episode:
    """One run of consecutive stored days on which an exception was reported; attributes of its last day."""

    id: str
    rule: str
    canonical_id: str | None
    source_system: str | None
    source_id: str | None
    field: str | None
    severity: str
    impact: Decimal
    team: str | None
    details: str | None
    first_seen: date
    last_seen: date
    resolved_on: date | None
    # The impact in the currency of the records it comes from, when that is not the reporting currency (None
    # otherwise, and for days stored before currencies were kept).
    original_amount: Decimal | None
    original_currency: str | None
    # The entity's display name (of the record, for one that resolves to no entity), for people: set by
    # `tieout.entity_names.named`, "" until then and when there is none.
    entity_name: str = dataclasses.field(default="", kw_only=True)  # `field`: a column of the exception

    def as_dict(self) -> dict[str, Any]:
        # Field by field, not `asdict`: its deep copies of every value were most of `tieout exceptions
        # --format json` at a million companies. No field holds a dataclass; the edits' dicts are shared. The
        # names are the class's, worked out once (`dataclasses.fields` costs as much as the copy).
        return {name: getattr(self, name) for name in _field_names(type(self))}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


@dataclass(frozen=True)
class QueuedException(Episode):
    """An exception as the queue shows it: its latest episode, with its status and classification."""

    currency: str
    status: str
    classification: str
    episodes: int
    # The forbidden edits of owned fields made on its first day (which make it an `ownership` exception).
    ownership_edits: tuple[dict[str, Any], ...] = ()
    # What the queue's search looks in besides the exception's own fields: its entity's names, ids, domains and
    # tax ids, folded (`tieout.entity_names`); set with `entity_name`.
    search_text: str = dataclasses.field(default="", kw_only=True, repr=False, compare=False)


def classify(*, rule: Rule | None, first_seen: date, resolved_on: date | None, as_of: date,
             edited: bool = False, corrected: bool = False) -> str:
    """ownership, timing, structural or pending — contract §6. `edited`: a system that may not edit an owned
    field of the exception's entity did so on its first day (see `ownership_edits`). `corrected`: a hand
    correction of its entity was recorded while it was open — it did not resolve by itself, so it is not
    `timing`; once resolved it is `structural` (the boundary needed a person)."""
    if edited or (rule is not None and rule.classification == "ownership"):
        return "ownership"
    lag = rule.expected_lag_days if rule is not None else 30
    end = resolved_on or as_of
    if resolved_on is not None and (resolved_on - first_seen).days <= lag and not corrected:
        return "timing"
    if (end - first_seen).days > lag or (resolved_on is not None and corrected):
        return "structural"
    return "pending"


@dataclass(frozen=True)
class _Scope:
    """One consistent reading of the manifest: the stored days up to a date, and where their timeline is."""

    days: list[date]
    files: list[str]  # each day's changes
    stored: list[str] | None  # the stored timeline's segments (of every stored day), None in a store from before it


def _scope(project: Project, until: date | None) -> _Scope:
    stored_days(project)  # migrates a store from an older tieout
    read = manifest.read(project)
    listed = [d for d in read.days if until is None or d.day <= until]
    return _Scope([d.day for d in listed], manifest.files(project, listed),
                  [str(manifest.days_dir(project) / s) for s in read.episodes] if read.episodes else None)


# Every timeline query starts from `episodes`: one row per episode with the attributes of its last report, as
# it stood on the last stored day in scope. Read from the stored timeline, or derived from the day files in a
# store from before it (tieout.store.episodes).
_LATEST_SQL = """,
counted AS (SELECT id, max(first_seen) AS first_seen, count(*) AS episodes FROM episodes GROUP BY id),
latest AS (  -- each exception's latest episode, and how many it had
    SELECT e.*, c.episodes FROM episodes AS e JOIN counted AS c USING (id, first_seen)
)
SELECT id, rule, canonical_id, source_system, source_id, field, severity, impact, team,
       first_seen, last_seen, resolved_on, episodes, details, original_amount, original_currency
FROM latest
WHERE $status = 'all' OR (resolved_on IS NULL) = ($status = 'open')  -- only what is asked for reaches Python
ORDER BY rule, canonical_id NULLS LAST, source_system, source_id, field
"""


Edits = dict[tuple[str, date], tuple[dict[str, Any], ...]]


def ownership_edits(project: Project, first_days: set[date] | None = None) -> Edits:
    """The ownership breaks of the stored source history (on `first_days`, default every stored day), by
    (entity, day): an exception of that entity first seen that day is caused by them — the brief's "sales
    can edit billing fields after finance owns the record", not a timing lag. Stored at commit
    (tieout.store.breaks); found in the history for a day stored without them or with another registry."""
    stored_days(project)  # migrates a store from an older tieout

    def read() -> tuple[list[date], stored_breaks.Stored]:
        listed = manifest.read(project)
        return [d.day for d in listed.days], stored_breaks.read(project, listed.ownership)

    days, stored = manifest.reading(read)
    wanted = set(days) if first_days is None else set(first_days) & set(days)
    registry = stored_breaks.registry_digest(project) if stored and wanted else ""
    again = {d for d in wanted if d not in stored or stored[d][0] != stored_breaks.basis(project, registry, d)}
    from tieout.ownership.breaks import edits_by_day  # it builds on canonical, which builds on us

    by_day = {d: stored[d][1] for d in wanted - again} | (edits_by_day(project, again) if again else {})
    found: dict[tuple[str, date], list[dict[str, Any]]] = {}
    for day in sorted(by_day):
        for edit in by_day[day]:
            cid, rest = edit["canonical_id"], {k: v for k, v in edit.items() if k != "canonical_id"}
            found.setdefault((cid, day), []).append(rest)
    return {k: tuple(v) for k, v in found.items()}


# The canonical views of the records' rows: an edit there is an `activity` edit, elsewhere a `record` one.
_ACTIVITY_VIEWS = frozenset({"contracts", "invoices", "usage"})


def caused_by(rule: Rule | None, field: str | None, edit: dict[str, Any]) -> bool:
    """Whether a forbidden edit on an exception's first day can be its cause, as the rule's `caused_by` says:
    an edit of a contract, invoice or usage row (`activity`), of a record's own field such as its name or tax
    id (`record`), of the very field the exception names (`field`). A rule that does not say — a user's rule,
    whose inputs tieout cannot know, or one no longer configured — counts any edit."""
    cause = rule.caused_by if rule is not None else None
    if cause == "field":
        return edit["field"] == field
    on_activity = edit["column"].split(".")[0] in _ACTIVITY_VIEWS
    if cause == "activity":
        return on_activity
    if cause == "record":
        return not on_activity
    return True


@dataclass(frozen=True)
class Causes:
    """What the store knows of why exceptions began or ended: the ownership breaks of their first days, and
    the hand corrections recorded (`tieout correct`) for their entities."""

    edits: Edits
    corrected_on: dict[str, list[date]]  # canonical_id -> the business days its corrections were recorded

    def edits_of(self, e: Episode, rules: dict[str, Rule]) -> tuple[dict[str, Any], ...]:
        if e.canonical_id is None:
            return ()
        rule = rules.get(e.rule)
        return tuple(x for x in self.edits.get((e.canonical_id, e.first_seen), ()) if caused_by(rule, e.field, x))

    def corrected(self, e: Episode, as_of: date) -> bool:
        end = e.resolved_on or as_of
        return any(e.first_seen <= d <= end for d in self.corrected_on.get(e.canonical_id or "", ()))

    def classify(self, e: Episode, rules: dict[str, Rule], as_of: date) -> str:
        return classify(rule=rules.get(e.rule), first_seen=e.first_seen, resolved_on=e.resolved_on, as_of=as_of,
                        edited=bool(self.edits_of(e, rules)), corrected=self.corrected(e, as_of))


def causes(project: Project, found: list[Episode]) -> Causes:
    """The causes of the episodes `found`."""
    from tieout.corrections.log import corrections_for  # SQLAlchemy only when there is a state database

    corrected: dict[str, list[date]] = {}
    for c in corrections_for(project):
        corrected.setdefault(c.canonical_id, []).append(c.recorded_on(project.timezone))
    return Causes(ownership_edits(project, {e.first_seen for e in found}), corrected)


_Rows = tuple[list[date], list[dict[str, Any]]]


_deriving: ContextVar[bool] = ContextVar("deriving", default=False)


@contextmanager
def derived() -> Iterator[None]:
    """Within it, every timeline query derives the episodes from the day files, as a store without the stored
    timeline is read: the oracle the tests hold the stored timeline to."""
    token = _deriving.set(True)
    try:
        yield
    finally:
        _deriving.reset(token)


def _query(project: Project, sql: str, params: dict[str, Any], *, until: date | None, where: str = "true") -> _Rows:
    """The stored days up to `until` and the rows of `sql` (which follows the `episodes` CTE) over them."""
    def read() -> _Rows:
        scope = _scope(project, until)
        if not scope.days:
            return [], []
        if scope.stored is None or _deriving.get():
            head, files = stored_episodes.DERIVED, day_store.read_sql("files")
            params_ = {**params, "days": scope.days, "files": scope.files}
        else:
            head, files = stored_episodes.STORED, stored_episodes.STORED_FILES
            params_ = {**params, "days": scope.days, "episodes": scope.stored}
        with scratch() as con:  # a cursor of the process's database: a new database costs tens of ms
            cur = con.execute((head + sql).replace("__WHERE__", where).replace("__FILES__", files), params_)
            names = [c[0] for c in cur.description]
            return scope.days, [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    return manifest.reading(read)


def exceptions(
    project: Project,
    rules: dict[str, Rule],
    *,
    as_of: date | None = None,
    status: str = "open",
) -> list[QueuedException]:
    """Every exception's latest episode as it stood on `as_of` (default: the latest stored day)."""
    days, rows = _query(project, _LATEST_SQL, {"status": status}, until=as_of)
    if not days:
        return []
    as_of = days[-1] if as_of is None else as_of
    latest = [Episode(**{k: v for k, v in r.items() if k != "episodes"}) for r in rows]
    why = causes(project, latest)
    return [
        QueuedException(
            **r,
            currency=project.reporting_currency,
            status="open" if r["resolved_on"] is None else "resolved",
            classification=why.classify(e, rules, as_of),
            ownership_edits=why.edits_of(e, rules),
        )
        for r, e in zip(rows, latest, strict=True)
    ]


# --- Every episode, and the open queue of every stored day (`tieout show`, `tieout timeline`) ---------------


_ALL_EPISODES_SQL = """
SELECT id, rule, canonical_id, source_system, source_id, field, severity, impact, team, details,
       first_seen, last_seen, resolved_on, original_amount, original_currency
FROM episodes
ORDER BY first_seen, rule, id
"""


def episodes(
    project: Project,
    *,
    until: date | None = None,
    exception_id: str | None = None,
    canonical_id: str | None = None,
    records: list[tuple[str, str]] | None = None,
) -> list[Episode]:
    """Every episode up to `until`, sorted by first_seen: of one exception, or of one entity — its own
    exceptions and those of its `records` (source_system, source_id) that name no entity."""
    params: dict[str, Any] = {}
    where = []
    if exception_id is not None:
        where.append("id = $id")
        params["id"] = exception_id
    if canonical_id is not None:
        # by id, so that the changes ending its episodes (which carry only the id) come along
        where.append("id IN (SELECT id FROM __FILES__ WHERE canonical_id = $canonical_id OR "
                     "(canonical_id IS NULL AND source_system || ':' || source_id IN (SELECT unnest($records))))")
        params["canonical_id"] = canonical_id
        params["records"] = [f"{s}:{i}" for s, i in records or []] or [""]
    _, rows = _query(project, _ALL_EPISODES_SQL, params, until=until, where=" AND ".join(where) or "true")
    return [Episode(**row) for row in rows]


@dataclass(frozen=True)
class DayCounts:
    """The open queue of one stored day: what `exceptions(as_of=day)` lists, counted."""

    date: date
    open: int
    opened: int  # first seen that day (a new exception or a reopening)
    resolved: int  # reported the stored day before, not that day
    by_rule: dict[str, int]
    by_classification: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# An exception open on day D is in its episode containing D, with resolved_on unknown as of D, so `classify`
# reduces to: ownership, else structural past the lag, else pending (timing needs a resolution). Episodes up
# to D do not depend on later days, so the episodes of all stored days serve every D.
_DAILY_SQL = """,
rules AS (
    SELECT unnest($rule_names) AS rule, unnest($lags) AS lag, unnest($ownership) AS ownership
),
flagged AS (  -- what classifies an episode on each of its days, worked out once per episode
    SELECT e.rule, e.first_seen, e.resolved_on, coalesce(r.lag, 30) AS lag,
           coalesce(r.ownership, false)
           OR concat_ws('|', e.canonical_id, e.first_seen, e.rule, e.field) IN (SELECT unnest($edited)) AS owned
    FROM episodes AS e LEFT JOIN rules AS r ON r.rule = e.rule
),
classified AS (
    SELECT d.day, f.rule, d.day = f.first_seen AS opened,
           CASE WHEN f.owned THEN 'ownership'
                WHEN d.day - f.first_seen > f.lag THEN 'structural'
                ELSE 'pending' END AS classification
    FROM flagged AS f
    JOIN run_days AS d ON d.day >= f.first_seen AND (f.resolved_on IS NULL OR d.day < f.resolved_on)
),
resolved AS (
    SELECT d.day, count(*) AS resolved FROM episodes AS e JOIN run_days AS d ON d.day = e.resolved_on GROUP BY d.day
)
SELECT 'count' AS kind, day, rule, classification, count(*) AS n, count(*) FILTER (WHERE opened) AS opened
FROM classified GROUP BY ALL
UNION ALL
SELECT 'resolved', day, NULL, NULL, resolved, 0 FROM resolved
ORDER BY ALL
"""


def _edited_keys(project: Project, rules: dict[str, Rule], rule_names: list[str]) -> list[str]:
    """`canonical_id|first_seen|rule|field` of every exception an ownership break could cause (see `caused_by`);
    fields only for the rules whose cause depends on their field (`caused_by: field`)."""
    keys = [""]
    for (cid, day), edits in ownership_edits(project).items():
        for name in rule_names:
            rule = rules.get(name)
            for edit in edits:
                field = edit["field"] if rule is not None and rule.caused_by == "field" else None
                if caused_by(rule, field, edit):
                    keys.append("|".join(str(x) for x in (cid, day, name, field) if x is not None))
    return keys


def daily_counts(project: Project, rules: dict[str, Rule], *, start: date | None = None,
                 end: date | None = None) -> list[DayCounts]:
    """Per stored day from `start` to `end`, the exceptions open that day by rule and by classification,
    each classified as of that day — as `exceptions(project, rules, as_of=day)` would."""
    # A rule no longer configured is classified as `classify(rule=None)` does: lag 30, not ownership.
    names = list(rules) or [""]
    params = {
        "rule_names": names,
        "lags": [rules[n].expected_lag_days if n in rules else 30 for n in names],
        "ownership": [n in rules and rules[n].classification == "ownership" for n in names],
        "edited": _edited_keys(project, rules, names),
    }
    # earlier days too: an episode may have begun before `start`
    days, rows = _query(project, _DAILY_SQL, params, until=end)
    shown = [d for d in days if start is None or d >= start]
    totals: dict[date, dict[str, int]] = {d: {"open": 0, "opened": 0, "resolved": 0} for d in shown}
    by_rule: dict[date, dict[str, int]] = {d: {} for d in shown}
    by_class: dict[date, dict[str, int]] = {d: {} for d in shown}
    for row in rows:
        kind, day, rule, classification, n, opened = row.values()
        if day not in totals:
            continue
        if kind == "resolved":
            totals[day]["resolved"] = n
            continue
        totals[day]["open"] += n
        totals[day]["opened"] += opened
        by_rule[day][rule] = by_rule[day].get(rule, 0) + n
        by_class[day][classification] = by_class[day].get(classification, 0) + n
    return [DayCounts(date=d, **totals[d], by_rule=by_rule[d], by_classification=by_class[d]) for d in shown]
