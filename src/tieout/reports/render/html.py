"""HTML: one self-contained, printable file — inline CSS, charts as inline SVG, nothing fetched."""

from __future__ import annotations

from functools import cache
from typing import Any

from tieout.reports.render.cells import text
from tieout.reports.sections import Document

RIGHT = ("int", "money", "decimal")


@cache
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("tieout.reports", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = text
    env.globals["RIGHT"] = RIGHT
    return env


def render(doc: Document, charts: dict[str, str] | None = None) -> str:
    """`charts`: SVG text by chart name (`tieout.reports.charts`); a section whose chart is missing has none."""
    from markupsafe import Markup

    svgs = {name: Markup(svg) for name, svg in (charts or {}).items()}  # noqa: S704 - our own SVG from vl-convert
    return str(_env().get_template("report.html.j2").render(doc=doc, charts=svgs))
