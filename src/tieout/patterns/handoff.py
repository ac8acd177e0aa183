"""Which systems and fields a pattern involves, and the handoff of the ownership registry it crosses.

A handoff (`tieout.ownership.doc.handoffs`) is one system's event that should update another: a lifecycle
handoff (a contract going live should make billing create the customer) or an owner's field copied to the
other systems. A pattern crosses the one that best explains it, in this order:

1. `field` — its exceptions name a registry field (OWNED_FIELD_MISMATCH): the handoff carrying that field to
   the disagreeing system;
2. `lifecycle` — its first day changed one of a lifecycle handoff's columns (or added a row to its table), and
   the handoff's `missed_as` names the pattern's rule (or names none);
3. `column` — its first day changed a column that holds a registry field: the handoff carrying that field,
   from the system that changed it when it is the owner.

Never a handoff that neither the exceptions' field nor a change of the first day touches: a handoff between
the same two systems about something else would name the wrong event. With none, the sentence says that no
handoff is recorded for that change and where to add one.

Among equals, the handoff from a system that changed that day comes first, then the registry's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tieout.ownership.doc import Handoff, handoffs
from tieout.ownership.lifecycle import export_columns
from tieout.ownership.model import Registry, columns
from tieout.patterns.model import FIRST_DAY, UNAVAILABLE, Crossing, Occurrence, Signature
from tieout.patterns.sentence import change_phrase, join
from tieout.rules.registry import Rule
from tieout.systems import SYSTEMS
from tieout.systems import label as system_label

MATCHES = ("field", "lifecycle", "column")  # the strongest first


@dataclass(frozen=True)
class Involved:
    systems: tuple[str, ...]  # in the catalogue's order
    fields: tuple[str, ...]  # table.column, sorted
    compared: frozenset[str]  # the systems the rule compares (or the exceptions name)
    named: frozenset[tuple[str, str | None]]  # (registry field, disagreeing system) the exceptions name


def _ordered(systems: Iterable[str]) -> tuple[str, ...]:
    found = set(systems)
    return tuple(s for s in SYSTEMS if s in found) + tuple(sorted(found - set(SYSTEMS)))


def involved(sig: Signature, occurrences: list[Occurrence], rule: Rule | None, registry: Registry) -> Involved:
    """The systems and the columns a pattern involves: those its rule compares, those its exceptions name,
    and those that changed on its first days."""
    # The rule's own comparison is its first bridge line (CRM_ACTIVE_BILLING_INACTIVE: CRM and billing); a
    # later line only says where else the bridge counts its exceptions.
    lines = sorted(rule.bridge, key=lambda line: line.order) if rule is not None else []
    compared = {s for line in lines[:1] for s in line.systems}
    compared |= {o.episode.source_system for o in occurrences if o.episode.source_system}
    named = {(o.episode.field, o.episode.source_system) for o in occurrences
             if o.episode.field and o.episode.field in registry.fields}
    fields = {f"{c.table}.{c.field}" for c in sig.changes if c.change == "changed" and c.table != "source_records"}
    systems = set(compared) | {c.system for c in sig.changes}
    for name, _ in named:
        for col in columns(registry.fields[name]):
            fields.add(f"{col.view.table}.{col.column}")
            systems.add(col.system)
    return Involved(_ordered(systems), tuple(sorted(fields)), frozenset(compared), frozenset(named))


def _field_names(h: Handoff) -> tuple[str, ...]:
    # `handoffs` lists each field as "name → view.column"; a registry field name has no spaces
    return tuple(f.partition(" → ")[0] for f in h.fields)


def _match(h: Handoff, sig: Signature, who: Involved, registry: Registry) -> str | None:
    changed = {(c.table, c.field) for c in sig.changes if c.change == "changed"}
    if h.lifecycle:
        if h.missed_as and sig.rule not in h.missed_as:
            return None  # another event on the same columns: the exception it leaves says which
        added = {c.table for c in sig.changes if c.change == "added"}  # a new row sets each of its columns
        if any(col in changed or col[0] in added for col in export_columns(h.columns)):
            return "lifecycle"
        return None
    names = _field_names(h)
    if any(name in names and (system is None or system == h.target) for name, system in who.named):
        return "field"
    for name in names:
        for col in columns(registry.fields[name]):
            if col.system in (h.source, h.target) and (col.view.table, col.column) in changed:
                return "column"
    return None


def crossing(sig: Signature, who: Involved, registry: Registry) -> Crossing | None:
    """The handoff the pattern crosses, or None when no handoff of the registry is about its field or a change
    of its first day."""
    changed_in = {c.system for c in sig.changes}
    best: tuple[int, int, int, Handoff, str] | None = None
    for n, h in enumerate(handoffs(registry)):
        how = _match(h, sig, who, registry)
        if how is None:
            continue
        key = (MATCHES.index(how), 0 if h.source in changed_in else 1, n)
        if best is None or key < best[:3]:
            best = (*key, h, how)
    if best is None:
        return None
    h, how = best[3], best[4]
    return Crossing(h.source, h.target, h.event, h.fields, how, update_sentence(h, registry), h.columns)


def update_sentence(h: Handoff, registry: Registry) -> str:
    """What event should update both systems, in one sentence, from the handoff: a lifecycle handoff's event
    and what the other system should do; for a field, its own words when the registry gives them
    (`handoff:`), else the owner setting or changing the fields."""
    if h.lifecycle:
        return f"when {h.event}, {h.effect()}"
    names = _field_names(h)
    source, target = system_label(h.source), system_label(h.target)
    default = f"{source} changes it"  # what `handoffs` says when the registry gives no words
    if h.event.startswith(default) and not any(registry.fields[n].handoff for n in names):
        listed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else list(names))
        event = f"the {source} sets or changes {listed}{h.event[len(default):]}"
    else:
        event = h.event
    return f"when {event}, {target} should be updated the same day ({', '.join(h.fields)})"


def no_crossing(sig: Signature, who: Involved) -> str:
    """What to say when no handoff of the registry is about the pattern's field or its first day's change:
    that none is recorded for that change, and where to add the event that should update both systems."""
    if len(who.compared) == 1:
        return "no handoff of the ownership registry covers it"  # one system's own records: nothing to hand off
    changes = [change_phrase(c) for c in sig.changes if c.table != "source_records"]
    if changes:
        # the systems the rule compares, when its metadata says (a bridge line) or its exceptions name them
        between = [system_label(s) for s in _ordered(who.compared)]
        update = f"update {join(between)}" if between else "update the other system"
        return (f"no handoff of the ownership registry is recorded for that change ({join(changes)}): add the "
                f"event that should {update} under `handoffs:` in ownership.yml")
    if sig.history in (FIRST_DAY, UNAVAILABLE):
        return "no handoff of the ownership registry can be named, as what changed on its first day is not stored"
    return "no handoff of the ownership registry applies, as none of its records changed on its first day"
