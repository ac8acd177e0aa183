"""One plain sentence per pattern, generated from its parts: what keeps happening, since when, on which day
and for how long, what it costs, and which event should update both systems. Nothing in it is not in the
pattern."""

from __future__ import annotations

from collections import defaultdict

from tieout.output import format_reporting
from tieout.patterns.model import FIRST_DAY, MAPPED, UNAVAILABLE, ChangeItem, Origin, Pattern, Signature
from tieout.systems import SYSTEMS
from tieout.systems import label as system_label

METHOD_TEXT = {"map": "the entity map", "tax_id": "tax id", "domain": "domain", "legal_name": "legal name"}
# The classifications in the order a sentence lists them, with what each means of its occurrences.
CLASS_TEXT = {
    "timing": ("closed by itself within the expected lag", "closed by themselves within the expected lag"),
    "structural": ("stayed open longer than the expected lag", "stayed open longer than the expected lag"),
    "pending": ("is still within the expected lag", "are still within the expected lag"),
    "ownership": ("began with an edit by a system that does not own the field",
                  "began with an edit by a system that does not own the field"),
}


def join(parts: list[str], word: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def change_phrase(c: ChangeItem) -> str:
    if c.table == "source_records":  # how a record resolved, rather than the record itself
        if c.change == "changed":
            return f"a record's resolution ({c.field}) changed"
        return ("a record was resolved for the first time" if c.change == "added"
                else "a record's resolution was dropped")
    if c.change == "changed":
        return f"{c.table}.{c.field} changed"
    return f"a row was {c.change} {'to' if c.change == 'added' else 'from'} {c.table}"


def change_text(sig: Signature, many: bool) -> str:
    if sig.history == UNAVAILABLE:
        return "began on a day the stored source history does not cover, so what changed is unknown"
    if sig.history == FIRST_DAY:
        return f"{'were' if many else 'was'} already there on the first day of the stored history"
    if not sig.changes:
        return ("began on a day when none of the records involved changed in any system (a date or a window "
                "was crossed)")
    by_system: dict[str, list[str]] = defaultdict(list)
    for c in sig.changes:
        by_system[c.system].append(change_phrase(c))
    said = [f"in {system_label(s)} {join(v)}" for s, v in by_system.items()]
    quiet = [system_label(s) for s in SYSTEMS if s not in by_system]
    tail = f", and {join(quiet)} had no change" if quiet else ""
    return f"began on a day when {join(said)}{tail}"


def origin_text(origins: tuple[Origin, ...]) -> str:
    """How the records came to be, where it says something: a record resolved by anything but the map, or
    one new or gone that day (a mapped record that was there is how every healthy record looks)."""
    by_how: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in origins:
        if o.method != MAPPED or o.lifecycle in ("new", "removed"):
            by_how[(o.method, o.lifecycle)].append(system_label(o.system))
    parts = []
    for (method, lifecycle), systems in by_how.items():
        names = sorted(set(systems), key=systems.index)
        many = len(names) > 1
        whose = f"the {join(names)} record{'s' if many else ''}"
        if method == "unmapped":
            how = f"{whose} matched no entity"
        elif method == "ambiguous":
            how = f"{whose} matched several entities"
        else:
            how = (f"{whose} {'were' if many else 'was'} matched by "
                   f"{'the entity map' if method == MAPPED else 'its natural key, ' + METHOD_TEXT.get(method, method)}")
        if lifecycle == "new":
            how += ", new that day"
        elif lifecycle == "removed":
            how += ", gone that day"
        parts.append(how)
    return "".join(f"; {p}" for p in parts)


def class_text(p: Pattern) -> str:
    """How its occurrences are classified, e.g. "all 4 closed by themselves within the expected lag (timing)"
    or "3 closed by themselves … (timing), 1 stayed open longer … (structural)"."""
    if len(p.classifications) == 1:
        c = next(iter(p.classifications))
        one, many = CLASS_TEXT.get(c, (c, c))
        return f"it {one} ({c})" if p.count == 1 else f"all {p.count} {many} ({c})"
    return ", ".join(f"{n} {CLASS_TEXT.get(c, (c, c))[n != 1]} ({c})" for c, n in p.classifications.items())


def _when(p: Pattern) -> str:
    lag = p.lag.text if p.lag is not None else ""
    if p.count == 1:
        return f"it {lag}"
    if p.cadence is not None:
        c = p.cadence
        return f"the pattern {c.text} ({c.count} of the {c.of} days one opened) and {lag}"
    return f"the pattern {lag}"


def _money(p: Pattern) -> str:
    """The exposure open now and, when it was larger before, the most held open at once."""
    still = f"{p.open} still open" if p.open else "none still open"
    if p.peak_at_risk == 0:
        return f"{still}, no money at risk"
    now = f"{still}, {format_reporting(p.money_at_risk, p.currency)} at risk now" if p.open else still
    if p.peak_at_risk <= p.money_at_risk:
        return now
    peak = format_reporting(p.peak_at_risk, p.currency)
    if p.count == 1:
        return f"{now}; {peak} was at risk while it was open"
    return f"{now}; at most {peak} was at risk at once while open ({p.peak_on})"


def _handoff(p: Pattern, fallback: str) -> str:
    h = p.handoff
    if h is None:
        return fallback
    return f"it crosses the {system_label(h.source)} → {system_label(h.target)} handoff: {h.update}"


def sentence(p: Pattern, of_weeks: int, no_handoff: str) -> str:
    """One plain sentence, generated from the pattern's parts. `no_handoff`: what to say when it crosses none."""
    sig = p.signature
    head = f"{p.count} exception{'s' if p.count != 1 else ''} of {sig.rule} {change_text(sig, p.count != 1)}"
    text = (f"{head}{origin_text(p.origins)}; {_when(p)}; {class_text(p)}; {_money(p)}; "
            f"{_handoff(p, no_handoff)}")
    if p.recurring:
        text += (f"; new ones appeared in {p.recurring_weeks} of the last {of_weeks} weeks: "
                 "a rule nobody wrote down")
    return text + "."
