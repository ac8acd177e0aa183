"""The ownership breaks of every stored day, kept at commit rather than found again in the source history on
every read.

An exception first seen on a day when a system that may not edit an owned field of its entity did so is an
`ownership` exception (tieout.timeline.causes). Finding those edits (tieout.ownership.breaks) reads the day's
source history and replays the state of the entities concerned: seconds per read, growing with the history.
So each commit stores them for the days whose source history it moved (the day, and the next stored day
re-based against it) in `ownership.<hash>.json`, named by the manifest with the day; the other days' are
carried over from the file before. Per day, the edits are kept with their *basis* — what else they depend on:
the registry (`ownership.yml`), the reporting currency and the day's exchange rates. A reader uses a day's
stored edits while its basis is the current one and finds them again in the history otherwise (a registry
edited since, or a store from before this file), as every read did before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tieout.config import Project
from tieout.errors import StoreError
from tieout.store.manifest import days_dir, write_whole

FORMAT = 1
Edit = dict[str, Any]  # one forbidden edit, as `tieout.timeline.ownership_edits` lists it, with its entity
# day -> (its basis, its edits); None when they could not be stored (a value tieout cannot write back exactly)
Stored = dict[date, tuple[str, list[Edit]]]
# The edits of `days` given the stored days (the manifest about to be committed): `find`, for one project.
Finder = Callable[[set[date], list[date]], dict[date, list[Edit]]]


def registry_digest(project: Project) -> str:
    """What every day's edits depend on besides the history: the registry and the reporting currency."""
    from tieout.ownership.model import load_registry  # pydantic and the registry only where edits are read

    body = {"registry": load_registry(project).model_dump(mode="json"), "currency": project.reporting_currency}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def basis(project: Project, registry: str, day: date) -> str:
    """A day's basis: `registry` (registry_digest) and the day's exchange rates (the registry's conditions and
    the copies' agreement read money in the reporting currency)."""
    rates = {c: str(r) for c, r in sorted(project.fx_rates_on(day).items())}
    return hashlib.sha256(json.dumps([FORMAT, registry, rates]).encode()).hexdigest()[:16]


# Values of the exports' columns (tieout.sources.layout.KIND_TYPES) as JSON, tagged where JSON has no type, so
# that a stored edit reads back as the very value the history gives.
def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    raise TypeError(type(value).__name__)


_DECODERS: dict[str, Callable[[str], Any]] = {"decimal": Decimal, "datetime": datetime.fromisoformat,
                                              "date": date.fromisoformat}


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    (kind, text), = value.items()
    return _DECODERS[kind](text)


def _day_entry(basis_: str, edits: list[Edit]) -> dict[str, Any] | None:
    try:
        return {"basis": basis_, "edits": [{**e, "day": e["day"].isoformat(), "old": _encode(e["old"]),
                                            "new": _encode(e["new"])} for e in edits]}
    except TypeError:
        return None  # read from the history every time, as before


def _raw(project: Project, name: str | None) -> dict[str, Any] | None:
    """The days of file `name` as stored (a file the manifest names and is gone: FileNotFoundError)."""
    if name is None:
        return None
    days = json.loads((days_dir(project) / name).read_text(encoding="utf-8"))["days"]
    if not isinstance(days, dict):
        raise TypeError("days")
    return days


def read(project: Project, name: str | None) -> Stored:
    """The stored edits of file `name` (none when there is no such file yet)."""
    try:
        return {date.fromisoformat(day): (entry["basis"],
                                          [{**e, "day": date.fromisoformat(e["day"]), "old": _decode(e["old"]),
                                            "new": _decode(e["new"])} for e in entry["edits"]])
                for day, entry in (_raw(project, name) or {}).items()}
    except (ValueError, KeyError, TypeError, ArithmeticError) as e:
        raise StoreError(f"{days_dir(project) / str(name)}: not tieout's stored ownership breaks ({e})") from e


def write(project: Project, before: str | None, stored: list[date], touched: Iterable[date], find: Finder) -> str:
    """Store the edits of the days `stored`: found again for the `touched` ones (every one if there is no file
    `before`), carried over from `before` for the others. Returns the file's name."""
    try:
        old = _raw(project, before) if before is not None and (days_dir(project) / before).is_file() else None
    except (ValueError, KeyError, TypeError):
        old = None  # damaged: every day's are found again
    again = set(stored) if old is None else set(touched) & set(stored)
    found = find(again, stored) if again else {}
    registry = registry_digest(project)
    days = {day.isoformat(): _day_entry(basis(project, registry, day), found.get(day, [])) if day in again
            else (old or {}).get(day.isoformat()) for day in stored}
    text = json.dumps({"format": FORMAT, "days": {d: e for d, e in days.items() if e is not None}},
                      separators=(",", ":")) + "\n"  # keys in the order the edits list them
    name = f"ownership.{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not (days_dir(project) / name).is_file():
        write_whole(days_dir(project) / name, text)
    return name
