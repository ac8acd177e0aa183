"""The rule registry: the built-in rules, then the project's `rules/` folder, then `tieout.yml`.

A rule is `NAME.sql` (one read-only SELECT) with `NAME.yml` beside it (its metadata). In the project's
`rules/`, a `NAME.yml` without SQL overrides a built-in rule's metadata and parameters; a `NAME.sql`
with its `NAME.yml` adds a rule (or replaces a built-in one's SQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tieout.config import Project
from tieout.engines import engine_functions
from tieout.errors import ConfigError, NotFound
from tieout.rules.checked import inspect_rule_sql
from tieout.rules.names import BUILTIN_DIR
from tieout.rules.tables import CANONICAL_TABLES
from tieout.systems import BRIDGE_STEPS

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# The team of a rule whose exceptions belong to the system they name (DUPLICATE_SOURCE_RECORD, ...).
SYSTEM_OWNER = "system_owner"

# What kind of source edit can cause a rule's exception (`caused_by`, docs/rules.md): an edit of a contract,
# invoice or usage row; of a record's own fields; of the very field the exception names. No kind: any edit.
Cause = Literal["activity", "record", "field"]
# The parameters the month-end bridge may read from a rule (`bridge_params`): the window of its ops-active set.
BridgeParam = Literal["ops_window_days"]
_STEP_NAMES = {f"{a}_{b}": (a, b) for a, b in BRIDGE_STEPS}


class BridgeLine(BaseModel):
    """One bridge line a rule's exceptions explain: on `step`, the entities active on its `side` only (`from`:
    active in the step's first system, not its second; `to`: the reverse); rules are tried by `order`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    side: Literal["from", "to"]
    order: int = Field(default=1, ge=1)

    @field_validator("step")
    @classmethod
    def _known_step(cls, v: str) -> str:
        if v not in _STEP_NAMES:
            raise ValueError(f"expected one of {', '.join(_STEP_NAMES)}, got {v!r}")
        return v

    @property
    def systems(self) -> tuple[str, str]:
        return _STEP_NAMES[self.step]


class RuleMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    impact: str = "0"
    team: str = SYSTEM_OWNER
    expected_lag_days: int | None = Field(default=None, ge=0)
    classification: Literal["ownership"] | None = None
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)
    # Canonical tables the rule can find nothing without: on a day one of them is empty it is not run at all,
    # which spares planning its SQL (CORRECTION_NOT_APPLIED on a project with no corrections).
    needs_rows: list[str] = Field(default_factory=list)
    # How the timeline and the month-end bridge read the rule's exceptions (docs/rules.md, "Metadata").
    caused_by: Cause | None = None
    bridge: list[BridgeLine] = Field(default_factory=list)
    bridge_records: Literal["duplicate", "unresolved"] | None = None
    bridge_params: dict[BridgeParam, str] = Field(default_factory=dict)
    # The gap its exceptions measure: on one entity, rules naming the same gap count once in every total of
    # money at risk, at the largest impact (`tieout.exposure`).
    exposure: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    # The functions beyond SQL the rule calls, which the engine running it must provide (its capabilities,
    # `tieout.engines`): `tieout rules check --dialect` names them.
    requires: list[str] = Field(default_factory=list)


class RuleOverrideMeta(BaseModel):
    """A project's `NAME.yml` for a built-in rule: every key optional."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    impact: str | None = None
    team: str | None = None
    expected_lag_days: int | None = Field(default=None, ge=0)
    classification: Literal["ownership"] | None = None
    enabled: bool | None = None
    params: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    name: str
    sql: str
    description: str
    impact: str
    team: str
    expected_lag_days: int
    params: dict[str, Any] = field(default_factory=dict)
    classification: str | None = None
    enabled: bool = True
    builtin: bool = True
    source: Path | None = None
    needs_rows: tuple[str, ...] = ()
    # The engine functions the SQL calls: those its .yml declares, and once the SQL has passed the safety
    # check, any it calls undeclared (a project's rule written before `requires:` still runs on DuckDB).
    requires: tuple[str, ...] = ()
    # The $parameters the SQL uses, filled in once the SQL has passed the safety check.
    used: frozenset[str] = frozenset()
    caused_by: str | None = None
    bridge: tuple[BridgeLine, ...] = ()
    bridge_records: str | None = None
    bridge_params: dict[str, str] = field(default_factory=dict)
    exposure: str | None = None

    def bridge_param(self, name: str) -> Any:
        """The value of the parameter the bridge reads as `name` (the project's override included)."""
        return self.params[self.bridge_params[name]]

    def bound_params(self, as_of: Any) -> dict[str, Any]:
        """The values of the parameters the SQL uses; numbers become Decimal so comparisons stay exact."""
        values = {**{k: _exact(v) for k, v in self.params.items()}, "as_of": as_of}
        return {k: values[k] for k in self.used}


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    return value


# The shipped rules' metadata is parsed by libyaml when PyYAML has it (30 ms less on every command); anyone
# else's file by the pure-Python loader, whose error messages point into the file.
_SHIPPED_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, *, shipped: bool = False) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = (yaml.load(text, Loader=_SHIPPED_LOADER) if shipped else yaml.safe_load(text)) or {}  # noqa: S506
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    return data


def _read_sql(path: Path) -> str:
    try:
        # utf-8-sig: an editor's byte-order mark at the start is not part of the SQL.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}): save the rule as UTF-8") from e


def _validate(model: type[BaseModel], path: Path, *, shipped: bool = False) -> Any:
    try:
        return model.model_validate(_read_yaml(path, shipped=shipped))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}" if err["type"] != "extra_forbidden"
            else f"unknown key {'.'.join(map(str, err['loc']))!r}"
            for err in e.errors()
        )
        raise ConfigError(f"{path}: {problems}") from e


def _check_requires(rule: Rule, called: set[str]) -> tuple[str, ...]:
    """The engine functions `rule` calls; a declared one must be an engine's and called by the SQL."""
    provided = engine_functions()
    for function in rule.requires:
        if function not in provided:
            raise ConfigError(f"{rule.source}: rule {rule.name}: requires names {function!r}, not a function an "
                              f"engine provides (known: {', '.join(provided)})")
        if function not in called:
            raise ConfigError(f"{rule.source}: rule {rule.name}: requires names {function!r}, which its SQL "
                              "never calls")
    undeclared = sorted((called & provided.keys()) - set(rule.requires))
    return (*rule.requires, *undeclared)


def _check_params(rule: Rule) -> Rule:
    used, called = inspect_rule_sql(rule.sql, name=rule.name, path=rule.source)
    requires = _check_requires(rule, called)
    unread = sorted(set(rule.needs_rows) - CANONICAL_TABLES)
    if unread:
        raise ConfigError(f"{rule.source}: rule {rule.name}: needs_rows names {unread[0]!r}, not a canonical "
                          f"table (known: {', '.join(sorted(CANONICAL_TABLES))})")
    for reads, param in sorted(rule.bridge_params.items()):
        value = rule.params.get(param)
        if param not in rule.params:
            raise ConfigError(f"{rule.source}: rule {rule.name}: bridge_params.{reads} names {param!r}, not one of "
                              f"its parameters ({', '.join(sorted(rule.params)) or 'none'})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{rule.source}: rule {rule.name}: parameter {param!r} is the bridge's {reads}: "
                              f"expected a whole number of days, at least 1, got {value!r}")
    unknown = sorted(used - set(rule.params) - {"as_of"})
    if unknown:
        raise ConfigError(
            f"{rule.source}: rule {rule.name} uses ${unknown[0]} but declares no parameter {unknown[0]!r} "
            "(add it under params: in its .yml)"
        )
    return replace(rule, used=frozenset(used), requires=requires)


def _load_dir(folder: Path, *, builtin: bool, default_lag: int) -> tuple[dict[str, Rule], dict[str, Path]]:
    rules: dict[str, Rule] = {}
    overrides: dict[str, Path] = {}
    if not folder.is_dir():
        return rules, overrides
    for meta_path in sorted(folder.glob("*.yml")):
        name = meta_path.stem
        if not _NAME.match(name):
            raise ConfigError(f"{meta_path}: rule names are UPPER_SNAKE_CASE, got {name!r}")
        sql_path = meta_path.with_suffix(".sql")
        if not sql_path.is_file():
            overrides[name] = meta_path
            continue
        meta = _validate(RuleMeta, meta_path, shipped=builtin)
        rules[name] = Rule(
            name=name,
            sql=_read_sql(sql_path),
            description=meta.description,
            impact=meta.impact,
            team=meta.team,
            expected_lag_days=meta.expected_lag_days if meta.expected_lag_days is not None else default_lag,
            params=dict(meta.params),
            classification=meta.classification,
            enabled=meta.enabled,
            builtin=builtin,
            source=sql_path,
            needs_rows=tuple(meta.needs_rows),
            caused_by=meta.caused_by,
            bridge=tuple(meta.bridge),
            bridge_records=meta.bridge_records,
            bridge_params=dict(meta.bridge_params),
            exposure=meta.exposure,
            requires=tuple(meta.requires),
        )
    for sql_path in sorted(folder.glob("*.sql")):
        if not sql_path.with_suffix(".yml").is_file():
            raise ConfigError(f"{sql_path}: a rule needs its metadata beside it in {sql_path.stem}.yml "
                              "(description, impact, team, expected_lag_days, params)")
    return rules, overrides


def _apply(rule: Rule, *, where: str, params: dict[str, Any], **changes: Any) -> Rule:
    unknown = sorted(set(params) - set(rule.params))
    if unknown:
        raise ConfigError(f"{where}: rule {rule.name} has no parameter {unknown[0]!r} "
                          f"(its parameters: {', '.join(sorted(rule.params)) or 'none'})")
    kept = {k: v for k, v in changes.items() if v is not None}
    return replace(rule, params={**rule.params, **params}, **kept)


def load_rules(project: Project | None = None) -> dict[str, Rule]:
    """Every rule the project runs, by name, with user overrides applied and all SQL checked."""
    default_lag = project.expected_lag_days if project else 30
    rules, _ = _load_dir(BUILTIN_DIR, builtin=True, default_lag=default_lag)
    if project is not None:
        user_rules, overrides = _load_dir(project.rules_path, builtin=False, default_lag=default_lag)
        rules.update(user_rules)
        for name, path in overrides.items():
            if name not in rules:
                raise ConfigError(f"{path}: no rule {name} to override and no {name}.sql beside it")
            meta = _validate(RuleOverrideMeta, path)
            rules[name] = _apply(
                rules[name], where=str(path), params=meta.params, description=meta.description,
                impact=meta.impact, team=meta.team, expected_lag_days=meta.expected_lag_days,
                classification=meta.classification, enabled=meta.enabled,
            )
        for name, override in project.rules.items():
            if name not in rules:
                raise ConfigError(f"{project.root / 'tieout.yml'}: key 'rules.{name}': no such rule "
                                  f"(known: {', '.join(sorted(rules))})")
            rules[name] = _apply(
                rules[name], where=f"{project.root / 'tieout.yml'}", params=override.params,
                team=override.team, expected_lag_days=override.expected_lag_days, enabled=override.enabled,
            )
    checked = {name: _check_params(rule) for name, rule in sorted(rules.items())}
    _check_bridge(checked)
    return checked


def _check_bridge(rules: dict[str, Rule]) -> None:
    """Two rules may not claim the same place in the bridge, nor the same bridge parameter: the bridge would
    depend on which was read first."""
    claimed: dict[str, Rule] = {}
    for rule in rules.values():
        places = [f"bridge step {line.step}, side {line.side}, order {line.order}" for line in rule.bridge]
        for what in places + [f"bridge_params.{name}" for name in rule.bridge_params]:
            other = claimed.setdefault(what, rule)
            if other is not rule:
                raise ConfigError(f"{rule.source}: rule {rule.name} claims {what}, as rule {other.name} "
                                  f"({other.source}) does: give it another place")


def get_rule(rules: dict[str, Rule], name: str) -> Rule:
    try:
        return rules[name]
    except KeyError:
        raise NotFound(f"no rule {name!r} (known: {', '.join(sorted(rules))})") from None
