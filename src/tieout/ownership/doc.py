"""The one-page source of truth: the registry as a document a new hire can read — for each field where it
starts, who may change it, which record wins, who approves exceptions — and the handoff map (which system's
event should update which other system) as a Mermaid diagram: the lifecycle handoffs (`handoffs:`, a contract
going live, …) and the owned fields' copies.

Markdown and HTML carry the same content. The HTML is self-contained: the Mermaid source sits in a
`<pre class="mermaid">` block (rendered wherever Mermaid is already loaded, readable as text anywhere) with a
table of the same handoffs beside it, and nothing is fetched from a network.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from tieout.config import Project
from tieout.ownership.catalogue import CONDITIONS, KINDS
from tieout.ownership.model import OwnedField, Registry, approver, column, columns, stages
from tieout.safe_text import for_markdown
from tieout.systems import label as system_label

TITLE = "Who owns what: the source of truth for shared customer fields"


@dataclass(frozen=True)
class Row:
    field: str
    description: str
    held_in: str
    starts_in: str
    when: str
    owner: str
    editors: str
    settled_by: str
    approver: str
    compared: str


@dataclass(frozen=True)
class Handoff:
    """One system's event that should update another: a lifecycle handoff (`should` says what the other
    system should do) or an owned field's copy (`fields` says which copies it updates)."""

    source: str
    target: str
    event: str
    fields: tuple[str, ...]  # an owned field's handoff: "legal_name → customers.name"; () for a lifecycle one
    should: str = ""  # a lifecycle handoff: what `target` should do, "create the customer …"
    columns: tuple[str, ...] = ()  # a lifecycle handoff: the columns whose change (or a new row) is the event
    missed_as: tuple[str, ...] = ()  # a lifecycle handoff: the rules that report it when missed (none: any)

    @property
    def lifecycle(self) -> bool:
        return bool(self.should)

    def effect(self) -> str:
        """What the other system should do, in words: "billing should create …", "billing updates its copy
        (legal_name → customers.name)"."""
        if self.lifecycle:
            return f"{_name(self.target)} should {self.should}"
        return f"{_name(self.target)} updates its copy ({', '.join(self.fields)})"


def _name(system: str) -> str:
    return system_label(system)


def _compared(f: OwnedField) -> str:
    text = KINDS[f.kind][2]
    if f.kind == "amount":
        text += f" (tolerance {f.tolerance or 0})"
    if f.statuses:
        text += "; " + "; ".join(f"{_name(s)}: " + ", ".join(f"{k} → {v}" for k, v in m.items())
                                 for s, m in f.statuses.items())
    return f"{f.kind}: {text}"


def rows(registry: Registry, project: Project) -> list[Row]:
    out = []
    for name, f in registry.fields.items():
        held = ", ".join(f"{_name(c.system)} `{c.ref}`" for c in columns(f))
        for stage in stages(f):
            when = "always" if not f.after else (
                "until a condition below holds" if stage.when is None
                else f"once {stage.when}: {CONDITIONS[stage.when].description}")
            out.append(Row(
                field=name, description=f.description or "", held_in=held,
                starts_in=_name(f.starts_in or f.owner), when=when, owner=_name(stage.owner),
                editors=", ".join(_name(e) for e in stage.editors), settled_by=stage.settled_by,
                approver=approver(stage, project), compared=_compared(f)))
    return out


def handoffs(registry: Registry) -> list[Handoff]:
    """The lifecycle handoffs in the registry's order, then per (owner, other system holding the field,
    event) the fields the owner's change should copy there."""
    lifecycle = [Handoff(h.source, h.target, h.event, (), h.should, tuple(h.columns), tuple(h.missed_as))
                 for h in registry.handoffs]
    found: dict[tuple[str, str, str], list[str]] = {}
    for name, f in registry.fields.items():
        for stage in stages(f):
            event = f.handoff or f"{_name(stage.owner)} changes it"
            if stage.when is not None:
                event += f" (once {stage.when})"
            for c in columns(f):
                if c.system != stage.owner:
                    found.setdefault((stage.owner, c.system, event), []).append(
                        f"{name} → {column(f, c.system).ref}")
    return lifecycle + [Handoff(s, t, e, tuple(fs)) for (s, t, e), fs in found.items()]


def _edge_label(text: str) -> str:
    """Free text as a Mermaid edge label: one line, no quote or bar to end the label early."""
    return " ".join(text.split()).replace('"', "#quot;").replace("|", "#124;")


def mermaid(registry: Registry) -> str:
    found = handoffs(registry)
    lines = ["flowchart LR"]
    for s in sorted({h.source for h in found} | {h.target for h in found}):
        lines.append(f'    {s}["{_name(s)}"]')
    for h in found:
        label = f"{h.event} — {h.effect()}" if h.lifecycle else "; ".join(h.fields) + " — " + h.event
        lines.append(f'    {h.source} -->|"{_edge_label(label)}"| {h.target}')
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return for_markdown(text, code_spans=True)


def markdown(registry: Registry, project: Project) -> str:
    r = rows(registry, project)
    out = [f"# {TITLE}", "",
           f"Generated by `tieout ownership doc` from {_source(registry, project)}. When two systems disagree "
           "about a field below, the owner's record wins; anyone else who edits it needs the approver's yes, "
           "and the change should reach the other systems through the handoff below.", "",
           "## Fields", "",
           "| field | held in | starts in | when | owner | may edit | record that wins a dispute "
           "| approves exceptions | compared as |",
           "|---|---|---|---|---|---|---|---|---|"]
    for row in r:
        field = f"**{row.field}**" + (f" — {row.description}" if row.description else "")
        out.append("| " + " | ".join(_md_cell(x) for x in (
            field, row.held_in, row.starts_in, row.when, row.owner, row.editors, row.settled_by, row.approver,
            row.compared)) + " |")
    used = sorted({h.when for f in registry.fields.values() for h in f.after})
    if used:
        out += ["", "## Conditions", ""] + [f"- `{c}`: {CONDITIONS[c].description}." for c in used]
    out += ["", "## Handoff map", "", "Which system's event should update which other system.", "",
            "```mermaid", mermaid(registry), "```", ""]
    lifecycle = [h for h in handoffs(registry) if h.lifecycle]
    if lifecycle:
        out += ["Lifecycle events: a record in one system that should create or change one in another.", "",
                "| from | event | to | what it should do | the event's columns | when missed, reported as |",
                "|---|---|---|---|---|---|"]
        out += [f"| {_name(h.source)} | {_md_cell(h.event)} | {_name(h.target)} | {_md_cell(h.effect())} | "
                f"{_md_cell(', '.join(h.columns))} | {_md_cell(', '.join(h.missed_as) or 'any rule')} |"
                for h in lifecycle]
        out += ["", "Owned fields: the owner's change, copied to the other systems.", ""]
    out += ["| from | event | to | fields (owner's field → the copy it updates) |", "|---|---|---|---|"]
    for h in handoffs(registry):
        if not h.lifecycle:
            out.append(f"| {_name(h.source)} | {_md_cell(h.event)} | {_name(h.target)} | "
                       f"{_md_cell(', '.join(h.fields))} |")
    return "\n".join(out) + "\n"


def _source(registry: Registry, project: Project) -> str:
    if registry.path is None:
        return "the contract's default registry (the project has no ownership.yml)"
    try:
        return f"`{registry.path.relative_to(project.root)}`"
    except ValueError:
        return f"`{registry.path.name}`"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d1d1f; max-width: 80rem; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border: 1px solid #ccc; padding: .35rem .6rem;
text-align: left; vertical-align: top; } th { background: #f3f3f3; } code { background: #f3f3f3; padding: 0 .2rem; }
pre.mermaid { background: #fafafa; border: 1px solid #ddd; padding: 1rem; }
"""


def _h(text: str) -> str:
    """Escape, then show `code` spans as code."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def html_page(registry: Registry, project: Project) -> str:
    head = ("field", "held in", "starts in", "when", "owner", "may edit", "record that wins a dispute",
            "approves exceptions", "compared as")
    body = []
    for row in rows(registry, project):
        field = f"<strong>{_h(row.field)}</strong>" + (f" — {_h(row.description)}" if row.description else "")
        cells = [field] + [_h(x) for x in (row.held_in, row.starts_in, row.when, row.owner, row.editors,
                                           row.settled_by, row.approver, row.compared)]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    used = sorted({h.when for f in registry.fields.values() for h in f.after})
    conditions = ("<h2>Conditions</h2><ul>" + "".join(
        f"<li><code>{c}</code>: {_h(CONDITIONS[c].description)}.</li>" for c in used) + "</ul>") if used else ""
    handoff_rows = "".join(
        f"<tr><td>{_h(_name(h.source))}</td><td>{_h(h.event)}</td><td>{_h(_name(h.target))}</td>"
        f"<td>{_h(', '.join(h.fields))}</td></tr>" for h in handoffs(registry) if not h.lifecycle)
    lifecycle_rows = "".join(
        f"<tr><td>{_h(_name(h.source))}</td><td>{_h(h.event)}</td><td>{_h(_name(h.target))}</td>"
        f"<td>{_h(h.effect())}</td><td>{_h(', '.join(h.columns))}</td>"
        f"<td>{_h(', '.join(h.missed_as) or 'any rule')}</td></tr>" for h in handoffs(registry) if h.lifecycle)
    lifecycle = (f"""<p>Lifecycle events: a record in one system that should create or change one in another.</p>
<table>
<thead><tr><th>from</th><th>event</th><th>to</th><th>what it should do</th><th>the event's columns</th>
<th>when missed, reported as</th></tr></thead>
<tbody>
{lifecycle_rows}
</tbody>
</table>
<p>Owned fields: the owner's change, copied to the other systems.</p>""" if lifecycle_rows else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(TITLE)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(TITLE)}</h1>
<p>Generated by <code>tieout ownership doc</code> from {_h(_source(registry, project))}. When two systems disagree
about a field below, the owner's record wins; anyone else who edits it needs the approver's yes, and the change
should reach the other systems through the handoff below.</p>
<h2>Fields</h2>
<table>
<thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
</table>
{conditions}
<h2>Handoff map</h2>
<p>Which system's event should update which other system. The diagram's Mermaid source is below; the table says
the same.</p>
<pre class="mermaid">
{html.escape(mermaid(registry))}
</pre>
{lifecycle}
<table>
<thead><tr><th>from</th><th>event</th><th>to</th><th>fields (owner's field → the copy it updates)</th></tr></thead>
<tbody>
{handoff_rows}
</tbody>
</table>
</body>
</html>
"""


def write_doc(registry: Registry, project: Project, folder: Path) -> tuple[Path, Path]:
    """Write `ownership.md` and `ownership.html` into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / "ownership.md", folder / "ownership.html"
    md.write_text(markdown(registry, project), encoding="utf-8")
    page.write_text(html_page(registry, project), encoding="utf-8")
    return md, page
