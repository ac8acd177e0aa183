"""Money at risk that adds up: every total counts one gap once (docs/rules.md, "Money at risk").

A missing invoice is seen by two rules — the CRM says the customer is active, the product says so too — and
each exception carries the whole monthly value as its impact, which is right for the exception (that much
is at stake if it is not fixed) and wrong for a sum (the money is missing once). So a rule names the gap its
exceptions measure (`exposure:` in its .yml); on one entity, exceptions of rules naming the same gap are one
gap, counted at its largest impact. A rule naming none is a gap of its own per exception.

A total is over the exceptions open together (one day's open queue, one team's, one rule's): the caller
chooses the set, this module only keeps it from counting a gap twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Protocol

from tieout.rules.registry import Rule


class Exposed(Protocol):
    """What a total reads of an exception (a queued exception, a report item, an episode)."""

    @property
    def id(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def canonical_id(self) -> str | None: ...
    @property
    def source_system(self) -> str | None: ...
    @property
    def source_id(self) -> str | None: ...
    @property
    def impact(self) -> Decimal: ...


def gap(item: Exposed, rules: Mapping[str, Rule]) -> tuple[str | None, ...]:
    """The gap `item` measures: its rule's exposure on its entity (or, unresolved, on its source record)."""
    rule = rules.get(item.rule)
    if rule is None or rule.exposure is None:
        return ("exception", item.id)
    if item.canonical_id is not None:
        return (rule.exposure, item.canonical_id)
    return (rule.exposure, item.source_system, item.source_id)


def at_risk(items: Iterable[Exposed], rules: Mapping[str, Rule]) -> Decimal:
    """The money at risk of `items`: each gap at its largest impact, once."""
    largest: dict[tuple[str | None, ...], Decimal] = {}
    for item in items:
        key = gap(item, rules)
        largest[key] = max(largest.get(key, item.impact), item.impact)
    return sum(largest.values(), Decimal(0))
