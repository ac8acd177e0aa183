"""A patterns report as JSON (`tieout patterns --format json`); the keys are documented in docs/patterns.md.
The keys of the first version keep their place and meaning; the newer ones follow them."""

from __future__ import annotations

from typing import Any

from tieout.patterns.model import Pattern, Report
from tieout.timeline import Episode


def example_record(e: Episode) -> dict[str, Any]:
    return {"id": e.id, "canonical_id": e.canonical_id, "source_system": e.source_system,
            "source_id": e.source_id, "field": e.field, "first_seen": e.first_seen, "resolved_on": e.resolved_on,
            "entity_name": e.entity_name}


def pattern_record(p: Pattern) -> dict[str, Any]:
    sig = p.signature
    return {
        "id": p.id,
        "rule": sig.rule,
        "classification": p.classification,
        "history": sig.history,
        "changes": [c.as_dict() for c in sig.changes],
        "origins": [o.as_dict() for o in p.origins],
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
        "classifications": p.classifications,
        "cadence": p.cadence.as_dict() if p.cadence is not None else None,
        "lag": p.lag.as_dict() if p.lag is not None else None,
        "peak_at_risk": p.peak_at_risk,
        "peak_on": p.peak_on,
        "systems": list(p.systems),
        "fields": list(p.fields),
        "handoff": p.handoff.as_dict() if p.handoff is not None else None,
    }


def report_record(r: Report) -> dict[str, Any]:
    return {"as_of": r.as_of, "since": r.since, "status": r.status,
            "recurring_rule": {"min_weeks": r.min_weeks, "of_weeks": r.of_weeks},
            "patterns": [pattern_record(p) for p in r.patterns]}
