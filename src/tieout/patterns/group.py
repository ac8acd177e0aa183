"""Grouping the episodes into patterns by signature, and each pattern's figures: its weekly trend and the
recurring flag, its cadence and lag, its money, the systems, fields and handoff involved, and its sentence."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from tieout.config import Project
from tieout.entity_names import EntityNames, named, names_for
from tieout.exposure import at_risk
from tieout.ownership.model import Registry, load_registry
from tieout.patterns.handoff import crossing, involved, no_crossing
from tieout.patterns.model import Occurrence, Pattern, Report, Signature, Week
from tieout.patterns.sentence import sentence
from tieout.patterns.signature import signatures
from tieout.patterns.timing import cadence, lag, peak_at_risk
from tieout.rules.registry import Rule
from tieout.store import stored_days
from tieout.timeline import Causes, Episode, causes, episodes

STATUSES = ("open", "resolved", "all")
DEFAULT_TREND_WEEKS = 8
DEFAULT_MIN_WEEKS = 3  # recurring: new occurrences in at least 3 ...
DEFAULT_OF_WEEKS = 4  # ... of the last 4 ISO weeks
DEFAULT_EXAMPLES = 3
# The order a pattern's classifications are listed in (and the tie-break for its main one): the classes a
# person must act on first.
CLASS_ORDER = ("ownership", "structural", "pending", "timing")


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
    registry: Registry | None = None,
    names: EntityNames | None = None,
) -> Report:
    """The patterns among the episodes first seen on or after `since` (default: all) up to `as_of` (default:
    the latest stored day), most recurring first, then by count and by money at risk. `found` and `why`: every
    episode up to `as_of` and the causes of (at least) those, when the caller has read them already;
    `registry`: the ownership registry whose handoffs patterns cross (default: the project's); `names`: every
    name on the latest stored day up to `as_of` (`entity_names`), when the caller has read them already."""
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
    registry = load_registry(project) if registry is None else registry
    out = [_pattern(sig, occs, rules, registry, project.reporting_currency, today, trend_weeks, min_weeks,
                    of_weeks, examples) for sig, occs in groups.items()]
    if names is None:
        names = names_for(project, [e for p in out for e in p.examples], days[-1])
    for p in out:
        p.examples = named(p.examples, names)
    out.sort(key=lambda p: (not p.recurring, -p.recurring_weeks, -p.count, -p.money_at_risk, -p.peak_at_risk,
                            p.signature.rule, p.id))
    return Report(today, since, status, min_weeks, of_weeks, out)


def _classifications(occs: list[Occurrence]) -> tuple[str, dict[str, int]]:
    """The pattern's main classification — the most common among its occurrences; of equals, the one to act
    on first — and how many occurrences each has, in CLASS_ORDER."""
    counts = Counter(o.classification for o in occs)
    rank = {c: i for i, c in enumerate(CLASS_ORDER)}
    ordered = dict(sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    main = max(ordered, key=lambda c: (ordered[c], -rank.get(c, len(rank))))
    return main, ordered


def _pattern(sig: Signature, occs: list[Occurrence], rules: dict[str, Rule], registry: Registry, currency: str,
             today: date, trend_weeks: int, min_weeks: int, of_weeks: int, examples: int) -> Pattern:
    occs.sort(key=lambda o: (o.episode.first_seen, o.episode.id))
    per_week: dict[date, int] = defaultdict(int)
    for o in occs:
        per_week[_monday(o.episode.first_seen)] += 1
    mondays = [window_start(today, trend_weeks) + timedelta(weeks=k) for k in range(trend_weeks)]
    trend = [Week(iso_week(m), m, per_week.get(m, 0)) for m in mondays]
    recent = sum(1 for w in trend[-of_weeks:] if w.new > 0)
    main, breakdown = _classifications(occs)
    peak, peak_on = peak_at_risk(occs, rules)
    who = involved(sig, occs, rules.get(sig.rule), registry)
    p = Pattern(
        signature=sig,
        classification=main,
        classifications=breakdown,
        origins=tuple(sorted({x for o in occs for x in o.origins})),
        count=len(occs),
        open=sum(1 for o in occs if o.open),
        first_seen=occs[0].episode.first_seen,
        last_seen=max(o.episode.last_seen for o in occs),
        last_new=occs[-1].episode.first_seen,
        money_at_risk=at_risk((o.episode for o in occs if o.open), rules),
        peak_at_risk=peak,
        peak_on=peak_on,
        currency=currency,
        trend=trend,
        week_over_week=trend[-1].new - (trend[-2].new if len(trend) > 1 else 0),
        recurring_weeks=recent,
        recurring=recent >= min_weeks,
        # the latest first: what someone looking into the pattern opens first
        examples=[o.episode for o in reversed(occs[-examples:])] if examples > 0 else [],
        cadence=cadence(o.episode.first_seen for o in occs),
        lag=lag(occs, today),
        systems=who.systems,
        fields=who.fields,
        handoff=crossing(sig, who, registry),
        occurrences=occs,
    )
    p.sentence = sentence(p, of_weeks, no_crossing(sig, who))
    return p
