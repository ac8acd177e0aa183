"""Markdown for chat and wikis: a heading, the headline figures as a list, one table per section."""

from __future__ import annotations

from tieout.reports.render.cells import text
from tieout.reports.sections import Document, Section

RIGHT = ("int", "money", "decimal")


def _escape(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _table(s: Section) -> list[str]:
    head = "| " + " | ".join(c.title for c in s.columns) + " |"
    rule = "| " + " | ".join("---:" if c.kind in RIGHT else "---" for c in s.columns) + " |"
    rows = ["| " + " | ".join(_escape(text(r.get(c.key), c.kind)) for c in s.columns) + " |" for r in s.rows]
    return [head, rule, *rows]


def render(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    out += [f"- **{label}:** {text(value, kind) or '—'}" for label, value, kind in doc.facts]
    for s in doc.sections:
        out += ["", f"## {s.title}", ""]
        if s.note:
            out += [s.note, ""]
        out += _table(s) if s.rows else [f"_{s.empty}_"]
    return "\n".join(out) + "\n"
