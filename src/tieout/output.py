"""Rendering for people (rich tables) and for programs (JSON, CSV). Money stays Decimal all the way:
JSON numbers are written from the Decimal's digits, never through a float.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from tieout.currencies import exponent
from tieout.safe_text import for_spreadsheet, for_terminal

_TOKEN = "\u0000dec:"
_TOKEN_RE = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def money(value: Decimal) -> Decimal:
    """Two decimals when that is exact (5000.00), otherwise every significant digit (33.3333)."""
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _TOKEN + str(money(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any, *, indent: int | None = 1) -> str:
    """JSON with Decimals as exact JSON numbers and dates as ISO strings."""
    plain = _plain(value)
    text = _records(plain) if indent == 1 else None
    return _TOKEN_RE.sub(r"\1", text if text is not None else json.dumps(plain, indent=indent, ensure_ascii=False))


_SCALARS = (str, int, float, bool, type(None))
# json's C encoder, with a line break and the record's indent as its item separator: a flat record in the layout
# `json.dumps(..., indent=1)` gives it inside a list.
_FLAT = json.JSONEncoder(ensure_ascii=False, separators=(",\n  ", ": "))


def _records(value: Any) -> str | None:
    """`json.dumps(value, indent=1)` for a list of records (dicts), written with the C encoder: with an indent,
    json encodes in Python, a second for the 23,000 exceptions of a day at a million companies. A record holding
    a list or a mapping is encoded as json does it; anything but a list of dicts is left to json (None)."""
    if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
        return None
    parts = []
    for record in value:
        # an empty list or mapping is `[]` / `{}` in both layouts (an exception's `ownership_edits`, mostly)
        if record and all(isinstance(v, _SCALARS) or (not v and isinstance(v, list | dict)) for v in record.values()):
            parts.append("{\n  " + _FLAT.encode(record)[1:-1] + "\n }")
        else:  # nested values: json's own layout, one level in
            parts.append(json.dumps(record, indent=1, ensure_ascii=False).replace("\n", "\n "))
    return "[\n " + ",\n ".join(parts) + "\n]"


def csv_cell(value: Any) -> Any:
    """One CSV cell: numbers as their digits, dates ISO, lists and mappings as JSON (empty: no value), text
    neutralised against formula injection (`tieout.safe_text.for_spreadsheet`: `=1+1` is written `'=1+1`)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(money(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):  # bool included: a number, never a formula
        return value
    if isinstance(value, list | tuple | dict):  # a nested value (an exception's ownership edits) as compact JSON
        return for_spreadsheet(to_json(value, indent=None)) if value else ""
    return for_spreadsheet(str(value))


def write_csv(out: IO[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Every CSV tieout writes: a header, then each row's `columns` as `csv_cell`s.

    A row holding a carriage return is written with every field quoted: Python's csv module quotes a field for
    the characters of its line terminator only (`\n` here), and a bare CR ends the row for every reader — the
    rest of the value would land at the start of a new row, where `=1` is a formula again."""
    minimal = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    minimal.writerow(columns)
    for row in rows:
        cells = [csv_cell(row.get(c)) for c in columns]
        (quoted if any(isinstance(c, str) and "\r" in c for c in cells) else minimal).writerow(cells)


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    write_csv(buf, rows, columns)
    return buf.getvalue()


def digits(value: Decimal, at_least: int) -> str:
    """`12,345.67`: thousands separators and at least `at_least` decimals — more when the value has them, so
    that no digit is ever rounded away (`83,333.3333`)."""
    places = max(at_least, -int(value.normalize().as_tuple().exponent))
    return f"{value:,.{places}f}"


def format_money(value: Decimal, currency: str) -> str:
    """`12,345.67 USD`, `1,500 JPY`, `12.345 KWD`: the currency's own decimals (ISO 4217 minor units,
    `tieout.currencies`), thousands separators, the currency named; never rounded away."""
    return f"{digits(value, exponent(currency))} {currency}"


def format_reporting(value: Decimal, currency: str) -> str:
    """An amount in the reporting currency (an impact, money at risk, a threshold): as `format_money`, with at
    least two decimals whatever the currency (`1,500.00 JPY`) — a converted amount carries fractions of its
    unit, and a column of impacts reads the same on every row."""
    return f"{digits(value, max(2, exponent(currency)))} {currency}"


@dataclass(frozen=True)
class Amount:
    """An amount in a currency that is not the reporting currency, as a report cell: it reads as
    `format_money` (`1,500 JPY`), and Excel writes it as a number in its currency's format."""

    value: Decimal
    currency: str

    def __str__(self) -> str:
        return format_money(self.value, self.currency)


def original(value: Decimal | None, currency: str | None) -> Amount | None:
    """The original amount of an exception (`original_amount`, `original_currency`) as an Amount, or None."""
    return None if value is None or currency is None else Amount(value, currency)


def format_impact(impact: Decimal, currency: str, original_amount: Decimal | None = None,
                  original_currency: str | None = None) -> str:
    """An exception's impact, and beside it the amount in the records' own currency when it has one:
    `10,800.00 USD (10,000.00 EUR)`, `10.05 USD (1,500 JPY)`."""
    shown = format_reporting(impact, currency)
    kept = original(original_amount, original_currency)
    return f"{shown} ({kept})" if kept else shown


# Severity in colour at a terminal (rich drops the style in a pipe or a file).
SEVERITY_STYLES = {"P1": "bold red", "P2": "yellow", "P3": "cyan", "INFO": "dim"}


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Iterable[str] = (),
          whole: Iterable[str] = ("ID",), drop: Sequence[str] = ()) -> Any:
    """A table for a person that fits the terminal: `whole` columns (ids people paste into `tieout show`) are
    never cut; the `drop` columns, least useful first, are left out one by one while the table is wider than
    the terminal; any other column wraps. A "Sev" column is coloured at a terminal."""
    return FittingTable(title, tuple(columns), [tuple(r) for r in rows], frozenset(right), frozenset(whole),
                        tuple(drop))


@dataclass(frozen=True)
class FittingTable:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    right: frozenset[str]
    whole: frozenset[str]
    drop: tuple[str, ...]

    def _texts(self) -> list[list[Any]]:
        from rich.text import Text

        # Text, not str: rich reads a str as markup, and a name like `[link=https://…]` from an export would
        # become a hyperlink; control characters are shown, never sent (`for_terminal`). A cell already Text is
        # the caller's own styling and is kept.
        def cell(column: str, v: Any) -> Any:
            if isinstance(v, Text):
                return v
            text = "" if v is None else for_terminal(str(v))
            return Text(text, style=SEVERITY_STYLES.get(text, "") if column == "Sev" else "")

        return [[cell(c, v) for c, v in zip(self.columns, row, strict=True)] for row in self.rows]

    def fitted(self, console: Any, width: int) -> Any:
        """The rich Table at `width` columns: droppable columns left out while it cannot fit, each of the
        others wrapped at its longest word at most."""
        from rich.measure import Measurement

        cells = self._texts()
        natural = {c: max([len(c), *(row[i].cell_len for row in cells)]) for i, c in enumerate(self.columns)}
        shown = list(self.columns)
        built = self._build(cells, shown, natural)
        for column in self.drop:
            if self.fits_unmeasured(natural, shown, width):
                break
            if Measurement.get(console, console.options.update(max_width=10_000), built).minimum <= width:
                break
            if column in shown:
                shown.remove(column)
                built = self._build(cells, shown, natural)
        return built

    @staticmethod
    def fits_unmeasured(natural: dict[str, int], shown: list[str], width: int) -> bool:
        """Whether the `shown` columns at their natural widths, with their padding and rules, fit in `width`: then
        so does the table's minimum width, which rich would measure by walking every cell (a second for a
        thousand rows)."""
        return sum(natural[c] for c in shown) + 3 * len(shown) + 1 <= width

    def _build(self, cells: list[list[Any]], shown: list[str], natural: dict[str, int]) -> Any:
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(for_terminal(self.title), style="table.title"), title_justify="left",
                  header_style="bold", pad_edge=False)
        for c in shown:
            keep = c in self.whole
            t.add_column(c, justify="right" if c in self.right else "left", no_wrap=keep, overflow="fold",
                         min_width=natural[c] if keep else None)
        index = [self.columns.index(c) for c in shown]
        for row in cells:
            t.add_row(*(row[i] for i in index))
        return t

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield self.fitted(console, options.max_width)

    def plain(self, width: int) -> str | None:
        """The table as rich prints it without a terminal (no colour), when every column fits at its natural
        width: written here, line by line, because rich lays out and measures every cell (most of `tieout
        entities`' second for its 900 rows). None when rich must lay it out: a column to drop or wrap, a
        title wider than the table, a cell rich would style or expand (the caller's own Text, a tab)."""
        from rich.cells import cell_len

        texts = [["" if v is None else for_terminal(str(v)) for v in row] for row in self.rows]
        # rich's wrapping strips a cell's leading and trailing spaces and treats other whitespace its own way
        if not self.rows or any(type(v).__module__.startswith("rich") for row in self.rows for v in row) \
                or any(t != " ".join(t.split()) for row in texts for t in row):
            return None
        widths = [max([cell_len(c), *(cell_len(row[i]) for row in texts)]) for i, c in enumerate(self.columns)]
        total = sum(widths) + 3 * len(widths) - 1
        title = for_terminal(self.title)
        if not self.fits_unmeasured(dict(zip(self.columns, widths, strict=True)), list(self.columns), width) \
                or cell_len(title) > total or title != " ".join(title.split()):
            return None
        last = len(widths) - 1

        def line(cells: list[str], bar: str) -> str:
            out = []
            for i, (column, text) in enumerate(zip(self.columns, cells, strict=True)):
                pad = " " * (widths[i] - cell_len(text))
                body = pad + text if column in self.right else text + pad
                out.append(("" if i == 0 else " ") + body + ("" if i == last else " "))
            return bar + bar.join(out) + bar

        def rule(left: str, fill: str, cross: str, right: str) -> str:
            return left + cross.join(fill * (w + (i > 0) + (i < last)) for i, w in enumerate(widths)) + right

        return "\n".join([
            title + " " * (total - cell_len(title)),
            rule("┏", "━", "┳", "┓"), line(list(self.columns), "┃"), rule("┡", "━", "╇", "┩"),
            *(line(row, "│") for row in texts), rule("└", "─", "┴", "┘"),
        ]) + "\n"
