"""Markdown for chat and wikis: a heading, the headline figures as a list, one table per section."""

from __future__ import annotations

from tieout.reports.render.cells import text
from tieout.reports.sections import Document, Section
from tieout.safe_text import for_markdown as _escape

RIGHT = ("int", "money", "amount", "decimal")


def _table(s: Section) -> list[str]:
    head = "| " + " | ".join(_escape(c.title) for c in s.columns) + " |"
    rule = "| " + " | ".join("---:" if c.kind in RIGHT else "---" for c in s.columns) + " |"
    rows = ["| " + " | ".join(_escape(text(r.get(c.key), c.kind)) for c in s.columns) + " |" for r in s.rows]
    return [head, rule, *rows]


def render(doc: Document) -> str:
    out = [f"# {_escape(doc.title)}", ""]
    out += [f"- **{_escape(label)}:** {_escape(text(value, kind)) or '—'}" for label, value, kind in doc.facts]
    for s in doc.sections:
        out += ["", f"## {_escape(s.title)}", ""]
        body = _table(s) if s.rows else [f"_{_escape(s.empty)}_"] if s.empty else []
        out += ([_escape(s.note)] + ([""] if body else []) if s.note else []) + body
    return "\n".join(out) + "\n"
