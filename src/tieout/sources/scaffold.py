"""The `sources:` block `tieout init --crm FORMAT --billing FORMAT --ops FORMAT` writes: every key of contract
§3b present, the ones that keep their default commented, and the format's own column map shown so a person
sees what each standard column is read from and how to read another.

Everything shown comes from the registered formats (`tieout.sources.formats.FORMATS`) through the same column
map the reader uses (`tieout.sources.read.columns`): a vendor registered later appears by itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import get_args

from tieout.config import Source, SourceFormat
from tieout.sources.convert import Conversion
from tieout.sources.formats import FORMATS, Format, TableMap
from tieout.sources.layout import BY_TABLE, STANDARD_LAYOUT, ExportFile
from tieout.sources.read import columns
from tieout.systems import SYSTEMS

STANDARD = "standard"
# Where a generic format's template reads each table from: the standard table's name.
_EXTENSIONS = {"csv": "csv", "json": "json", "parquet": "parquet"}
_COMMENT_AT = 34  # the column explanations start at


def tables_of(system: str) -> list[ExportFile]:
    return [spec for spec in STANDARD_LAYOUT if spec.system == system]


def systems_of(name: str) -> tuple[str, ...]:
    """The systems a format reads: every system for the standard layout and the generic formats."""
    fmt = FORMATS.get(name)
    if fmt is None or fmt.generic:
        return SYSTEMS
    return tuple(s for s in SYSTEMS if any(BY_TABLE[t].system == s for t in fmt.tables if t in BY_TABLE))


def names() -> list[str]:
    """Every format a `sources:` entry may name that is registered: `standard` first, then by name."""
    allowed = set(get_args(SourceFormat))
    return [STANDARD, *sorted(n for n in FORMATS if n in allowed)]


def choices(system: str) -> list[str]:
    return [n for n in names() if system in systems_of(n)]


def refusal(system: str, name: str) -> str | None:
    """Why `name` cannot read `system` (a usage error naming the choices), or None."""
    if name not in names():
        return f"unknown format {name!r} (choose one of: {', '.join(choices(system))})"
    if system not in systems_of(name):
        reads = ", ".join(t for t in FORMATS[name].tables if t in BY_TABLE)
        return (f"{name} reads {'/'.join(systems_of(name))} tables ({reads}), not {system}'s (for {system} choose one "
                f"of: {', '.join(choices(system))})")
    return None


def folder_of(name: str) -> str:
    return "" if name == STANDARD else name


def files_of(system: str, name: str) -> list[str]:
    """The files a day's folder holds for `system` read as `name` (for the next-steps message)."""
    if name == STANDARD:
        return [spec.filename for spec in tables_of(system)]
    fmt = FORMATS[name]
    if fmt.generic:
        ext = _EXTENSIONS.get(name)
        return [f"{spec.table}.{ext}" for spec in tables_of(system)] if ext else []
    out: list[str] = []
    for spec in tables_of(system):
        table = fmt.tables.get(spec.table, TableMap())
        for files in (table.files[:1], *(r.files[:1] for r in table.related.values())):
            out += [f for f in files if f not in out]
    return out


def _line(text: str, comment: str) -> str:
    if not comment:
        return text
    return f"{text:<{_COMMENT_AT}}# {comment}" if len(text) < _COMMENT_AT - 1 else f"{text}  # {comment}"


def yaml_scalar(value: str) -> str:
    """A YAML scalar: plain when YAML reads it back as the same string, else JSON-quoted."""
    import yaml

    try:
        plain = yaml.safe_load(f"k: {value}")
    except yaml.YAMLError:
        plain = None
    same = isinstance(plain, dict) and plain.get("k") == value and value.strip() == value
    return value if same else json.dumps(value)


def _flow(mapping: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{yaml_scalar(k)}: {yaml_scalar(v)}" for k, v in mapping.items()) + "}"


def _shown(conversion: Conversion) -> str:
    """How the column map's comment explains a conversion."""
    others = [c for c in conversion.inputs[1:]]
    how = conversion.note or "converted"
    return f"{how} (also reads {', '.join(others)})" if others and not conversion.derived else how


def _fields(system: str, name: str, fmt: Format) -> list[str]:
    source = Source(format=name, url="${URL}" if name == "sql" else None)  # type: ignore[arg-type]
    lines = [_line("    # fields:", "standard column <- your own column (uncomment a line to read another one)")]
    for spec in tables_of(system):
        mapped = columns(fmt, source, spec)
        for col in spec.columns:
            key = f"{spec.table}.{col.name}"
            conversion = mapped.get(col.name)
            if conversion is None:
                lines.append(_line(f"    #   {key}: your_column", "not read by default"))
            elif conversion.derived:
                lines.append(_line(f"    #   {key}: your_column", f"default: {_shown(conversion)}"))
            else:
                lines.append(_line(f"    #   {key}: {yaml_scalar(conversion.inputs[0])}", _shown(conversion)))
    return lines


def _vendor_tables(system: str, name: str, fmt: Format) -> list[str]:
    lines = []
    for spec in tables_of(system):
        table = fmt.tables.get(spec.table, TableMap())
        single = len(table.files) == 1 and not any(ch in table.files[0] for ch in "*?[")
        body = []
        if single:
            body.append(_line(f"        file: {yaml_scalar(table.files[0])}", "inside the source's folder"))
        elif table.files:
            body.append(_line(f"        # file: {yaml_scalar(table.files[0])}",
                              "default: the first of " + ", ".join(table.files) + " found (several pages of one "
                              "pattern are one table)"))
        others = [f for alt in fmt.alternatives for f in alt.tables.get(spec.table, TableMap()).files[:1]]
        if others and table.files:
            body.append(f"        # (without {table.files[0]}: {' or '.join(others)} is read instead — or name it as "
                        "file:)")
        related = [f for r in table.related.values() for f in r.files[:1]]
        if related:
            body.append(f"        # (also reads {', '.join(related)} from the same folder)")
        if table.query:
            body.append(_line(f"        # query: {yaml_scalar(table.query)}",
                              "with url: the table (or one SELECT) to read"))
        body.append(_line("        # columns: {}", "standard column: your column, for this table only"))
        if table.statuses:
            body.append(_line(f"        # statuses: {_flow(table.statuses)}",
                              "your status words -> the standard ones"))
        elif any(c.kind in ("contract_status", "invoice_status") for c in spec.columns):
            body.append(_line("        # statuses: {Your Word: standard_word}",
                              "your own status words (over the format's)"))
        header = f"      {spec.table}:"
        lines.append(header if single else f"      # {spec.table}:")
        lines += body
    uncommented = any(not line.lstrip().startswith("#") for line in lines)
    return [_line("    tables:" if uncommented else "    # tables:",
                  "per standard table: a file (or with url: a query), columns and statuses")] + lines


def _generic_tables(system: str, name: str) -> list[str]:
    lines = [_line("    tables:", f"a {name} source names {'a query' if name == 'sql' else 'a file'} per table")]
    for spec in tables_of(system):
        lines.append(f"      {spec.table}:")
        if name == "sql":
            lines.append(_line(f"        query: {spec.table}", "a table name, or one SELECT"))
        else:
            lines.append(_line(f"        file: {spec.table}.{_EXTENSIONS[name]}", "inside the source's folder"))
        lines.append(_line("        # columns:", "standard column: your column (default: the same name)"))
        lines += [f"        #   {col.name}: {col.name}" for col in spec.columns]
        if any(c.kind in ("contract_status", "invoice_status") for c in spec.columns):
            lines.append(_line("        # statuses: {Your Word: standard_word}",
                               "your status words -> the standard ones"))
    return lines


def _system(system: str, name: str) -> list[str]:
    if name == STANDARD:
        return [
            f"  {system}:",
            _line("    format: standard", "the standard layout's CSV files (contract §3), read as they are"),
            _line(f"    # path: {system}", "a folder inside the day's folder (default: the day's folder itself)"),
        ]
    fmt = FORMATS[name]
    url = f"${{{system.upper()}_DATABASE_URL}}"
    lines = [
        f"  {system}:",
        _line(f"    format: {name}", f"see docs/sources/{'README' if fmt.generic else name}.md"),
    ]
    if name != "sql":
        lines += [
            _line(f"    path: {system if fmt.generic else name}",
                  "folder inside the day's folder (default: the format's name)"),
            _line("    encoding: utf-8", "the files' encoding: any Python codec name (latin-1, cp1252, …)"),
            _line(f"    # url: {url}", "read tables from a database instead of files (${VAR}: from the environment)"),
        ]
    else:
        lines.append(_line(f"    url: {url}", "a database URL (SQLAlchemy); ${VAR} is read from the environment"))
    if fmt.generic:
        lines.append(_line("    # fields: {}", "standard column <- your column as table.column: columns: below says it "
                                               "per table"))
        lines += _generic_tables(system, name)
    else:
        lines += _fields(system, name, fmt)
        lines += _vendor_tables(system, name, fmt)
    return lines


def sources_yaml(chosen: Mapping[str, str]) -> str:
    """The commented `sources:` block for `chosen` (system -> format name, each already checked)."""
    lines = [
        "",
        "# Where each system's exports are read from, and in what shape (contract §3b; docs/sources/README.md).",
        "# A system left out keeps the standard layout. Check a day before its first run:",
        "#   tieout sources check --as-of YYYY-MM-DD",
        "sources:",
    ]
    for system in SYSTEMS:
        if system in chosen:
            lines += _system(system, chosen[system])
    return "\n".join(lines) + "\n"
