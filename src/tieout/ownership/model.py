"""`ownership.yml` → a validated `Registry`: for each shared field, where it starts, who may edit it, which record
settles a dispute, who approves exceptions — and the explicit conditions under which any of that changes.

"It depends" is only accepted as a named condition (catalogue.CONDITIONS): a field with two owners and nothing
between them, an unknown system, column or condition is refused with the file, the field and the problem,
because an ambiguous registry would silently decide which system finance believes.

Besides the fields, `handoffs:` lists lifecycle handoffs (`lifecycle.py`): events in one system that should
create or change a record in another, compared by nothing, named by `tieout patterns`.

    fields:
      billing_status:
        kind: status
        held_in: {crm: contracts.status, billing: invoices.status}
        owner: crm
        after:
          - {when: first_invoice_posted, owner: billing}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tieout.config import Project
from tieout.errors import ConfigError
from tieout.ownership.catalogue import CONDITIONS, KINDS, VIEWS, View
from tieout.ownership.lifecycle import Lifecycle
from tieout.ownership.lifecycle import problems as lifecycle_problems
from tieout.rules.names import rule_names
from tieout.systems import SYSTEMS
from tieout.systems import label as system_label

REGISTRY_FILE = "ownership.yml"
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_owner(value: Any) -> Any:
    if isinstance(value, list | tuple):
        if len(value) == 1:
            return value[0]
        raise ValueError(f"two owners ({', '.join(map(str, value))}) and no condition between them: name one "
                         "owner, and hand the field to the other under `after:` with the condition that decides "
                         f"(one of {', '.join(CONDITIONS)})")
    return value


class Handover(_Strict):
    """From the day `when` holds for an entity, `owner` owns the field (and `editors` may edit it)."""

    when: str
    owner: str
    editors: list[str] | None = None
    settled_by: str | None = None
    approver: str | None = None

    _owner = field_validator("owner", mode="before")(_one_owner)


class OwnedField(_Strict):
    kind: str
    held_in: dict[str, str]  # system -> "view.column" (or a column name unique in that system's views)
    owner: str
    starts_in: str | None = None  # default: the owner
    editors: list[str] | None = None  # systems that may edit it later; the owner always may
    after: list[Handover] = Field(default_factory=list)
    settled_by: str | None = None  # the record that settles a dispute; default: the owner's column
    approver: str | None = None  # team that approves exceptions; default: the owner system's team
    tolerance: Decimal | None = Field(default=None, ge=0)  # amounts only
    statuses: dict[str, dict[str, str]] | None = None  # status only: system -> {its word: shared word}
    description: str | None = None
    handoff: str | None = None  # the event that should copy the owner's value to the other systems

    _owner = field_validator("owner", mode="before")(_one_owner)

    @field_validator("after", mode="before")
    @classmethod
    def _listed(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v


class Registry(_Strict):
    fields: dict[str, OwnedField]
    # Not in the dump on purpose: the store's fingerprints and edit digests read `model_dump`, and a lifecycle
    # handoff changes no finding and no edit (stored days stay current when one is added).
    handoffs: list[Lifecycle] = Field(default_factory=list, exclude=True)
    path: Path | None = Field(default=None, exclude=True)  # the file it came from; None for the default

    @property
    def source(self) -> str:
        return str(self.path) if self.path is not None else "the contract's default registry"


@dataclass(frozen=True)
class Column:
    """Where one system holds a field."""

    system: str
    view: View
    column: str

    @property
    def ref(self) -> str:
        return f"{self.view.name}.{self.column}"


@dataclass(frozen=True)
class Stage:
    """Who owns and may edit a field while `when` holds (None: the field's base rule)."""

    when: str | None
    owner: str
    editors: tuple[str, ...]
    settled_by: str
    approver: str | None


def column(f: OwnedField, system: str) -> Column:
    """`f`'s column in `system` (validated: every reference resolves)."""
    ref = f.held_in[system]
    view, _, name = ref.rpartition(".")
    if view:
        return Column(system, VIEWS[view], name)
    (only,) = [v for v in VIEWS.values() if v.system == system and ref in v.columns]
    return Column(system, only, ref)


def columns(f: OwnedField) -> list[Column]:
    return [column(f, s) for s in SYSTEMS if s in f.held_in]


def stages(f: OwnedField) -> list[Stage]:
    """The base rule, then each handover in order; the last whose condition holds applies."""
    def editors(owner: str, listed: list[str] | None) -> tuple[str, ...]:
        return tuple(s for s in SYSTEMS if s == owner or s in (listed or ()))

    def settled(owner: str, text: str | None) -> str:
        return text or f"the {system_label(owner)} record ({column(f, owner).ref})"

    out = [Stage(None, f.owner, editors(f.owner, f.editors), settled(f.owner, f.settled_by), f.approver)]
    for h in f.after:
        out.append(Stage(h.when, h.owner, editors(h.owner, h.editors), settled(h.owner, h.settled_by or
                                                                            (f.settled_by if h.owner == f.owner
                                                                             else None)),
                         h.approver or f.approver))
    return out


def stage_for(f: OwnedField, holding: set[str] | frozenset[str]) -> Stage:
    """The stage that applies to an entity for which the conditions `holding` hold."""
    chosen = stages(f)[0]
    for s in stages(f)[1:]:
        if s.when in holding:
            chosen = s
    return chosen


def approver(stage: Stage, project: Project) -> str:
    return stage.approver or project.system_owners[stage.owner]  # type: ignore[index]


# --- validation -----------------------------------------------------------------------------------------------

def _system(value: str, what: str) -> str | None:
    if value in SYSTEMS:
        return None
    hint = (" ('it depends' must be written as a condition under `after:`)" if " " in value or value == "depends"
            else "")
    return f"{what} {value!r} is not a system ({', '.join(SYSTEMS[:-1])} or {SYSTEMS[-1]}){hint}"


def _problems(name: str, f: OwnedField) -> list[str]:
    out: list[str] = []
    if not _FIELD_NAME.match(name):
        out.append("a field name is lower-case letters, digits and underscores")
    if f.kind not in KINDS:
        return [*out, f"unknown kind {f.kind!r} (expected one of {', '.join(KINDS)})"]
    for system, ref in f.held_in.items():
        if (p := _system(system, "held_in names")) is not None:
            out.append(p)
            continue
        view_name, _, col = ref.rpartition(".")
        if view_name:
            view = VIEWS.get(view_name)
            if view is None or view.system != system:
                ours = [v.name for v in VIEWS.values() if v.system == system]
                out.append(f"held_in.{system}: unknown view {view_name!r} for {system} (expected {', '.join(ours)})")
                continue
            if col not in view.columns:
                out.append(f"held_in.{system}: {view_name} has no column {col!r} "
                           f"(it has {', '.join(view.columns)})")
                continue
        else:
            found = [v for v in VIEWS.values() if v.system == system and ref in v.columns]
            known = sorted({f"{v.name}.{c}" for v in VIEWS.values() if v.system == system for c in v.columns})
            if not found:
                out.append(f"held_in.{system}: unknown field {ref!r} (expected one of {', '.join(known)})")
                continue
            if len(found) > 1:
                out.append(f"held_in.{system}: {ref!r} is in several views; write it as "
                           f"{' or '.join(v.name + '.' + ref for v in found)}")
                continue
            view, col = found[0], ref
        if view.columns[col] not in KINDS[f.kind][1]:
            out.append(f"held_in.{system}: {view.name}.{col} cannot hold a {f.kind} field")
    if len(f.held_in) < 2:
        out.append("a shared field is held in at least two systems (held_in names one)")
    owners = [("owner", f.owner, f.editors, None)] + [
        (f"after[{i}]", h.owner, h.editors, h.when) for i, h in enumerate(f.after)]
    seen: dict[str, str] = {}
    for where, owner, editors, when in owners:
        if (p := _system(owner, f"{where}: owner" if where != "owner" else "owner")) is not None:
            out.append(p)
        elif owner not in f.held_in:
            out.append(f"{where}: owner {owner} does not hold the field (held_in names {', '.join(f.held_in)})")
        for e in editors or ():
            if (p := _system(e, f"{where}: editors name")) is not None:
                out.append(p)
        if when is not None:
            if when not in CONDITIONS:
                out.append(f"{where}: unknown condition {when!r} (expected one of {', '.join(CONDITIONS)})")
            elif when in seen:
                out.append(f"{where}: condition {when!r} is given twice ({seen[when]} and {owner}): two owners "
                           "under one condition is an ambiguity, not a rule")
            seen[when] = owner
    if f.starts_in is not None and (p := _system(f.starts_in, "starts_in")) is None and f.starts_in not in f.held_in:
        out.append(f"starts_in: {f.starts_in} does not hold the field")
    elif f.starts_in is not None and p is not None:
        out.append(p)
    if f.tolerance is not None and f.kind != "amount":
        out.append("tolerance applies to amount fields only")
    if f.statuses is not None:
        if f.kind != "status":
            out.append("statuses applies to status fields only")
        for system, mapping in f.statuses.items():
            if system not in f.held_in:
                out.append(f"statuses.{system}: the field is not held in {system}")
                continue
            if out:
                continue  # the columns themselves are wrong: their vocabulary is unknown
            held = column(f, system)
            vocab = (held.view.vocabulary or {}).get(held.column)
            unknown = sorted(k for k in mapping if vocab and k.strip().lower() not in vocab)
            if unknown:
                out.append(f"statuses.{system}: {', '.join(map(repr, unknown))} is not a {held.ref} value "
                           f"(expected {', '.join(vocab or ())})")
    return out


def parse_registry(raw: Any, path: Path | None, rules_path: Path | None = None) -> Registry:
    """`raw` (ownership.yml's content) validated; `rules_path`: the project's rules folder, whose rules a
    handoff's `missed_as` may name besides the built-in ones."""
    where = str(path) if path is not None else REGISTRY_FILE
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with the key 'fields'")
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{where}: " + "; ".join(_describe(err) for err in e.errors())) from e
    if not registry.fields:
        raise ConfigError(f"{where}: 'fields' is empty; delete the file to use the default registry")
    problems = [f"field {name!r}: {p}" for name, f in registry.fields.items() for p in _problems(name, f)]
    known = rule_names(rules_path)
    problems += [f"handoffs[{i}]: {p}" for i, h in enumerate(registry.handoffs) for p in lifecycle_problems(h, known)]
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    return registry.model_copy(update={"path": path})


def _describe(error: Any) -> str:
    loc = [str(p) for p in error["loc"]]
    if len(loc) >= 2 and loc[0] == "fields":
        prefix, key = f"field {loc[1]!r}: ", ".".join(loc[2:]) or "(the field)"
    elif len(loc) >= 2 and loc[0] == "handoffs":
        prefix, key = f"handoffs[{loc[1]}]: ", ".".join(loc[2:]) or "(the handoff)"
    else:
        prefix, key = "", ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{prefix}unknown key {key!r}"
    if error["type"] == "missing":
        return f"{prefix}missing required key {key!r}"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{prefix}key {key!r}: {msg} (got {error.get('input')!r})"


def load_registry(project: Project) -> Registry:
    """The project's `ownership.yml`, validated; the contract's default registry when there is none."""
    path = project.root / REGISTRY_FILE
    if not path.is_file():
        return DEFAULT_REGISTRY
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    return parse_registry(raw, path, project.rules_path)


# Contract §5: the CRM owns legal_name and tax_id; billing's `name` is its copy of the legal name. The lifecycle
# handoffs are the customer's life across the three systems: a contract goes live, it ends, billing starts
# invoicing, the head count changes. Each names the rule its miss shows as, so that two events on one column
# (a contract going live, a contract ending) are not confused.
DEFAULT_HANDOFFS: list[dict[str, Any]] = [
    {"from": "crm", "to": "billing", "columns": ["contracts.status", "contracts.start_date"],
     "event": "a contract goes live in the CRM", "should": "create the customer and its first invoice the same day",
     "missed_as": ["CRM_ACTIVE_BILLING_INACTIVE"]},
    {"from": "crm", "to": "billing", "columns": ["contracts.status", "contracts.end_date"],
     "event": "a contract ends or is cancelled in the CRM", "should": "stop invoicing it from its end date",
     "missed_as": ["BILLING_ACTIVE_CRM_INACTIVE"]},
    {"from": "billing", "to": "ops", "columns": ["invoices.status", "invoices.issued_on"],
     "event": "billing invoices a new customer", "should": "provision its tenant the same day",
     "missed_as": ["BILLING_ACTIVE_OPS_INACTIVE"]},
    {"from": "ops", "to": "billing", "columns": ["usage.fte_count"],
     "event": "ops counts a different number of FTEs for a customer",
     "should": "bill that FTE count on the customer's next invoice", "missed_as": ["FTE_THRESHOLD_DRIFT"]},
]
DEFAULT_REGISTRY = parse_registry({"handoffs": DEFAULT_HANDOFFS, "fields": {
    "legal_name": {"kind": "name", "held_in": {"crm": "accounts.legal_name", "billing": "customers.name"},
                   "owner": "crm",
                   "description": "The customer's legal name. Billing's `name` is its copy of it."},
    "tax_id": {"kind": "tax_id", "held_in": {"crm": "accounts.tax_id", "billing": "customers.tax_id"},
               "owner": "crm", "description": "The customer's tax id."},
}}, None)
