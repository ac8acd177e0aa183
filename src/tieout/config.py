"""`tieout.yml` → a validated `Project`; every key but `exports` and `entity_map` has the contract's default.

Unknown keys and bad values are refused with the file, the key and what was expected, because a typo in a
control plane's configuration silently changes what finance sees.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tieout import fx
from tieout.due import Sla
from tieout.errors import ConfigError
from tieout.systems import DEFAULT_OWNERS, SYSTEMS, System

if TYPE_CHECKING:
    from tieout.sources.layout import ExportFile

CONFIG_FILE = "tieout.yml"
SEVERITIES = ("P1", "P2", "P3", "INFO")
STATE_URL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityThresholds(_Strict):
    """Impact (reporting currency) at or above which an exception takes each severity; below P3 is INFO."""

    P1: Decimal = Decimal("50000")
    P2: Decimal = Decimal("10000")
    P3: Decimal = Decimal("1000")

    @model_validator(mode="after")
    def _descending(self) -> SeverityThresholds:
        if not (self.P1 >= self.P2 >= self.P3 >= 0):
            raise ValueError("thresholds must satisfy P1 >= P2 >= P3 >= 0")
        return self


class RuleOverride(_Strict):
    """Per-rule settings in tieout.yml; they win over the rule's own metadata."""

    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)
    team: str | None = None
    expected_lag_days: int | None = Field(default=None, ge=0)


class RouteCondition(_Strict):
    rule: str | list[str] | None = None
    severity: Literal["P1", "P2", "P3", "INFO"] | list[Literal["P1", "P2", "P3", "INFO"]] | None = None
    source_system: System | None = None
    field: str | None = None
    min_impact: Decimal | None = None


class Route(_Strict):
    """Send exceptions matching `when` to `team`; the first matching route wins."""

    when: RouteCondition
    team: str


class Notifications(_Strict):
    """Where each team hears about its exceptions: apprise URLs per team (json://, mailto://, slack://, msteams://…).
    P1s go out right after the run that finds them (unless `p1_immediately` is false); everything else in the
    team's daily digest (`tieout notify digest`)."""

    channels: dict[str, list[str]] = Field(default_factory=dict)
    p1_immediately: bool = True
    retries: int = Field(default=3, ge=0, le=10)  # further attempts after a failed delivery
    backoff_seconds: Decimal = Field(default=Decimal("0.5"), ge=0, le=60)  # doubled before each retry

    @field_validator("channels")
    @classmethod
    def _urls(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for team, urls in v.items():
            for url in urls:
                if "://" not in url:
                    raise ValueError(f"{team}: {url!r} is not a notification URL (e.g. json://host/path, "
                                     "mailto://user:pass@host?to=a@b.com, slack://…)")
        return v


class Workflow(_Strict):
    """The workflow's settings. `correction_approval_over`: a correction whose impact (tieout.corrections.
    approval) is above this amount, in the reporting currency, waits for a second person's approval before it
    enters the corrections log; None (the default) applies every correction at once."""

    correction_approval_over: Decimal | None = Field(default=None, ge=0)


SourceFormat = Literal["standard", "salesforce", "hubspot", "stripe", "chargebee", "zuora", "csv", "parquet", "json",
                       "sql"]


class TableSource(_Strict):
    """Where one standard table is read from, in a `sources:` entry (contract §3b)."""

    file: str | None = None  # a file (or a glob such as invoices_*.json) inside the source's folder
    query: str | None = None  # `sql`: a table name or one SELECT
    columns: dict[str, str] = Field(default_factory=dict)  # standard column -> the source's column (field)
    statuses: dict[str, str] = Field(default_factory=dict)  # the source's status -> the standard status


class Source(_Strict):
    """How one system's exports are read (contract §3b): a format, a folder inside the day's folder, an
    encoding, the org's own fields and per-table files and column maps."""

    format: SourceFormat
    path: str | None = None  # default: the format's name (`standard`: the day's folder itself)
    encoding: str = "utf-8"
    url: str | None = None  # a database URL (SQLAlchemy); `${VAR}` is read from the environment
    fields: dict[str, str] = Field(default_factory=dict)  # `table.column` -> the source's column (field)
    tables: dict[str, TableSource] = Field(default_factory=dict)

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as e:
            raise ValueError(f"unknown encoding {v!r} (expected a Python codec name such as utf-8 or latin-1)") from e
        return v

    @field_validator("path")
    @classmethod
    def _inside(cls, v: str | None) -> str | None:
        if v is not None and (Path(v).is_absolute() or ".." in Path(v).parts):
            raise ValueError("must be a folder inside the day's folder (no absolute path, no '..')")
        return v

    @model_validator(mode="after")
    def _needs_url(self) -> Source:
        if self.format == "sql" and not self.url:
            raise ValueError("a sql source needs `url:` (a database URL; ${VAR} reads it from the environment)")
        return self


class SparkSettings(_Strict):
    """How `engine: spark` reaches Spark (docs/spark.md): the master URL of the session tieout starts, and extra
    Spark configuration. A session passed to `tieout.run_day(..., spark=session)` is used as it is."""

    master: str = Field(default="local[*]", min_length=1)
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if not key.startswith("spark."):
                raise ValueError(f"{key!r} is not a Spark configuration key (they start with 'spark.')")
        return v


# The engines a run can use (`tieout.engines`); named here so that reading tieout.yml imports no engine.
EngineName = Literal["duckdb", "spark"]


class Project(_Strict):
    exports: str
    entity_map: str
    rules_dir: str = "rules"
    store: str = ".tieout"
    # Where people-facing state (corrections, later workflow and audit) lives: None = SQLite `<store>/state.db`;
    # a SQLAlchemy URL (`postgresql://…`) for a shared server. `TIEOUT_STATE_URL` overrides it.
    state_url: str | None = None
    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Per currency, the rate that turns one unit of it into the reporting currency: one rate, or a rate in effect
    # from each date (`tieout.fx`).
    fx_rates: dict[str, Annotated[fx.Rates, PlainValidator(fx.parse_rates)]] = Field(default_factory=dict)
    timezone: str = "UTC"
    severity: SeverityThresholds = SeverityThresholds()
    system_owners: dict[System, str] = Field(default_factory=lambda: dict(DEFAULT_OWNERS))
    expected_lag_days: int = Field(default=30, ge=0)
    rules: dict[str, RuleOverride] = Field(default_factory=dict)
    routing: list[Route] = Field(default_factory=list)
    notifications: Notifications = Notifications()
    workflow: Workflow = Workflow()
    sources: dict[System, Source] = Field(default_factory=dict)
    # Days from first seen to due, per severity (tieout.due); the queue's ages and overdue flags.
    sla: Sla = Sla()
    # URL templates to each source record in its own system, by system or table (tieout.links).
    links: dict[str, str] = Field(default_factory=dict)
    # Where the day's canonical tables and rules run (docs/spark.md): the embedded DuckDB, or Apache Spark.
    engine: EngineName = "duckdb"
    spark: SparkSettings = SparkSettings()

    # Set by `load_project`, not by the file.
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("exports")
    @classmethod
    def _has_date(cls, v: str) -> str:
        if "{date}" not in v:
            raise ValueError("must contain '{date}', e.g. exports/{date}")
        return v

    @field_validator("state_url")
    @classmethod
    def _known_database(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(STATE_URL_SCHEMES):
            raise ValueError("expected a database URL starting with sqlite:/// or postgresql://")
        return v

    @field_validator("fx_rates")
    @classmethod
    def _currency_codes(cls, v: dict[str, fx.Rates], info: ValidationInfo) -> dict[str, fx.Rates]:
        for currency, rates in v.items():
            fx.check_code(currency)
            # A rate for the reporting currency itself can only be 1: anything else converts it into itself.
            if currency == info.data.get("reporting_currency") and any(r != 1 for r in fx.all_rates(rates)):
                raise ValueError(f"{currency}: the reporting currency converts at 1 (leave it out of fx_rates)")
        return v

    @field_validator("links")
    @classmethod
    def _safe_links(cls, v: dict[str, str]) -> dict[str, str]:
        from tieout.links import check_links

        return check_links(v)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as e:
            raise ValueError(f"unknown time zone {v!r} (expected an IANA name such as Europe/Berlin)") from e
        return v

    @model_validator(mode="after")
    def _owners_complete(self) -> Project:
        missing = [s for s in SYSTEMS if s not in self.system_owners]
        if missing:
            raise ValueError(f"system_owners must name a team for every system; missing {missing}")
        return self

    @model_validator(mode="after")
    def _sources_name_standard_tables(self) -> Project:
        from tieout.sources.layout import STANDARD_LAYOUT

        for system, source in self.sources.items():
            tables = {f.table: f for f in STANDARD_LAYOUT if f.system == system}
            key = f"sources.{system}"
            for table, given in source.tables.items():
                if table not in tables:
                    raise ValueError(f"{key}.tables: unknown table {table!r} (the {system} tables are "
                                     f"{', '.join(tables)})")
                for name in given.columns:
                    _known_column(tables[table], name, f"{key}.tables.{table}.columns")
                if given.query is not None and source.format != "sql" and source.url is None:
                    raise ValueError(f"{key}.tables.{table}.query: only a source with `url:` runs queries")
            for field in source.fields:
                table, _, name = field.partition(".")
                if table not in tables or not name:
                    raise ValueError(f"{key}.fields: {field!r} is not table.column of a {system} table (expected "
                                     f"e.g. {next(iter(tables))}.{tables[next(iter(tables))].column_names[1]})")
                _known_column(tables[table], name, f"{key}.fields")
            if source.format in ("csv", "parquet", "json", "sql"):
                missing = [t for t in tables if t not in source.tables or not (
                    source.tables[t].file or source.tables[t].query)]
                if missing:
                    what = "a query (or table name)" if source.format == "sql" else "a file"
                    raise ValueError(f"{key}.tables: a {source.format} source names {what} for each {system} "
                                     f"table; missing for {', '.join(missing)}")
        return self

    def export_dir(self, as_of: date) -> Path:
        return self.root / self.exports.replace("{date}", as_of.isoformat())

    @property
    def entity_map_path(self) -> Path:
        return self.root / self.entity_map

    @property
    def rules_path(self) -> Path:
        return self.root / self.rules_dir

    @property
    def store_path(self) -> Path:
        return self.root / self.store

    def fx_rate(self, currency: str, on: date | None = None) -> Decimal | None:
        """Rate that turns one unit of `currency` into the reporting currency on as-of day `on`, or None if
        there is none that day. Without `on`, the latest rate (the one in effect from the latest date)."""
        if currency == self.reporting_currency:
            return Decimal(1)
        rates = self.fx_rates.get(currency)
        return None if rates is None else fx.rate_on(rates, on)

    def fx_rates_on(self, on: date) -> dict[str, Decimal]:
        """Every currency with a rate on as-of day `on` (the reporting currency at 1) and that rate."""
        found = {c: fx.rate_on(rates, on) for c, rates in self.fx_rates.items() if c != self.reporting_currency}
        return {self.reporting_currency: Decimal(1), **{c: r for c, r in found.items() if r is not None}}


def _known_column(spec: ExportFile, name: str, where: str) -> None:
    """Refuse `name` unless it is a column of the standard table `spec`."""
    if name not in spec.column_names:
        raise ValueError(f"{where}: {spec.table} has no column {name!r} (expected one of "
                         f"{', '.join(spec.column_names)})")


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, except that a scalar shaped like a date but not one (`2026-13-01`) stays text: the
    key it sits under then names the problem, instead of the YAML parser failing with no key at all."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _describe(error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r}"
    if error["type"] == "missing":
        return f"missing required key {key!r}"
    msg = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a check across keys names its keys itself
        return msg
    return f"key {key!r}: {msg} (got {error.get('input')!r})"


def load_project(project_dir: Path | str = ".") -> Project:
    """Read and validate `tieout.yml` in `project_dir`."""
    root = Path(project_dir)
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: no tieout.yml here (create a project with `tieout init DIR`)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values at the top level")
    if "root" in raw:
        raise ConfigError(f"{path}: unknown key 'root'")
    try:
        project = Project.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(_describe(err) for err in e.errors())
        raise ConfigError(f"{path}: {problems}") from e
    return project.model_copy(update={"root": root})
