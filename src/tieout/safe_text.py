"""Untrusted text made safe for the two output formats that would otherwise execute it.

Names, ids, reasons and comments come from exports and people (docs/security.md, "Output escaping"). HTML is
escaped by Jinja's autoescape; these two helpers cover the rest:

- `for_spreadsheet`: a text cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, per
  OWASP's "CSV injection") is a formula to Excel and LibreOffice — `=HYPERLINK(...)` or DDE
  `=cmd|' /C calc'!A0`. Prefixing `'` makes it text: a spreadsheet shows `'=1+1` as typed, never computes it.
  Only text is touched; numbers written as numbers (a negative amount) stay numbers.
- `for_markdown`: a table cell that can neither carry raw HTML nor break its table.
- `for_terminal`: text for a terminal table, its control characters shown rather than sent (an escape
  sequence in a name could recolour the screen or plant a hyperlink); `tieout.output.table` also hands it
  to rich as plain text, never as markup (`[link=…]`).
- `for_workbook`: an XLSX text cell: never a formula, and the control characters a workbook cannot hold
  written out as for a terminal (openpyxl refuses the whole report for one escape character).
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@")
# Tab and carriage return start a formula too when a spreadsheet drops them on import (OWASP).
LEADING_CONTROL = ("\t", "\r")


def starts_a_formula(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula. Leading spaces are looked past: some importers
    trim them ("  =1+1")."""
    return text.startswith(LEADING_CONTROL) or text.lstrip().startswith(FORMULA_TRIGGERS)


def for_spreadsheet(text: str) -> str:
    """`text` as a CSV/XLSX text cell: prefixed with `'` when it could start a formula, else unchanged."""
    return "'" + text if starts_a_formula(text) else text


# Order matters: the backslash first, so that the escapes added after it are not escaped again.
_MARKDOWN = (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`"),
             ("[", "\\["), ("]", "\\]"))


def for_markdown(text: str, *, code_spans: bool = False) -> str:
    """`text` as one Markdown table cell or list item: no raw HTML (`<`, `>`, `&` as entities), no link
    (`[`, `]` escaped), no extra column (`|` escaped), on one line (line breaks as spaces), and no code span
    unless `code_spans` keeps its backticks (the ownership document's convention for names from the
    registry; nothing inside a code span is HTML)."""
    for raw, escaped in _MARKDOWN:
        if raw != "`" or not code_spans:
            text = text.replace(raw, escaped)
    return " ".join(text.splitlines())


# C0 controls but tab and line feed, DEL, and C1 controls (ESC starts ANSI and OSC sequences; CSI is 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def for_terminal(text: str) -> str:
    """`text` with its control characters written out as `\\x1b`, so that a terminal shows them."""
    return _written_out(_CONTROL, text)


def _written_out(controls: re.Pattern[str], text: str) -> str:
    return controls.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# The characters XML 1.0 (so a workbook) cannot hold: C0 controls but tab, line feed and carriage return.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def for_workbook(text: str) -> str:
    """`text` as an XLSX text cell: the controls a workbook cannot hold written out (`\\x1b`), then never a
    formula."""
    return for_spreadsheet(_written_out(_NOT_IN_XML, text))
