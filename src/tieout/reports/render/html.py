"""HTML: one self-contained, printable file — inline CSS, charts as inline SVG, nothing fetched.

Every value is escaped: the environment autoescapes whatever the template's name (`select_autoescape(["html"])`
did not match `report.html.j2`, and a customer id from an export ran as script). The charts' SVG is inserted
as markup, so it is checked first: vl-convert escapes the text it draws, and `checked_svg` refuses an SVG that
holds a script, an event handler or a `javascript:` link all the same.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

from tieout.reports.render.cells import text
from tieout.reports.sections import Document

RIGHT = ("int", "money", "amount", "decimal")
# What would run in a browser: a script or foreignObject element, an on* attribute, a script URL.
_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "object", "embed"})
_SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data:text/html)", re.IGNORECASE)


class _ActiveParts(HTMLParser):
    """Collects the elements and attributes of an SVG that would run: parsed, so that escaped text such as
    `&lt;img onerror=…&gt;` inside a label (which is only text) is not mistaken for markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ACTIVE_ELEMENTS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in ("href", "xlink:href", "src") and _SCRIPT_URL.match(value or ""):
                self.found.append(f"<{tag} {name}={value!r}>")


@cache
def _env() -> Any:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("tieout.reports", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = text
    env.globals["RIGHT"] = RIGHT
    return env


def checked_svg(svg: str) -> str:
    """`svg` unchanged, or ValueError when it holds anything that would run in a browser."""
    parts = _ActiveParts()
    parts.feed(svg)
    parts.close()
    if parts.found:
        raise ValueError(f"chart SVG holds {', '.join(parts.found)}: refusing to insert it into the report")
    return svg


def render(doc: Document, charts: dict[str, str] | None = None) -> str:
    """`charts`: SVG text by chart name (`tieout.reports.charts`); a section whose chart is missing has none."""
    from markupsafe import Markup

    svgs = {name: Markup(checked_svg(svg))  # noqa: S704 - vl-convert's SVG, its text escaped, checked above
            for name, svg in (charts or {}).items()}
    return str(_env().get_template("report.html.j2").render(doc=doc, charts=svgs))
