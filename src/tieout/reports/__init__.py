"""The reports of the brief's cadence — "run daily, review weekly, audit monthly":

- `daily`: each team's digest (new since the last run, reopened, resolved, P1s first, money at risk);
- `weekly`: the review (by rule and team, new, recurring, closed by themselves, beyond SLA, corrections, patterns
  that grew, the decisions of the reviews and what became of them, aging, mean time to resolve, trend);
- `monthly`: the month-end audit pack (active customers by each system's definition and the bridge between
  them, money at risk, open exceptions and their age, corrections, rule and registry changes, sign-off).

    >>> report = build(project, rules, "monthly", period="2026-01")      # doctest: +SKIP
    >>> report["active_customers"], report["unexplained"]                # doctest: +SKIP
    >>> render(report, "md")                                             # doctest: +SKIP

`build` returns plain data (the JSON format); `render` turns it into Markdown, HTML or JSON text, and
`write_xlsx` into a workbook.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

# The renderers' package is loaded before `render()` below is defined: loading it later (the first render, or
# `tieout.reports.render.xlsx` from the web) would rebind `tieout.reports.render` from the function to the package.
import tieout.reports.render  # noqa: F401  (its __init__ imports nothing)
from tieout.config import Project
from tieout.errors import BadArgument
from tieout.output import to_json
from tieout.rules.registry import Rule

KINDS = ("daily", "weekly", "monthly")
FORMATS = ("md", "html", "xlsx", "json")


def build(project: Project, rules: dict[str, Rule], kind: str, *, as_of: date | None = None,
          period: str | None = None, team: str | None = None) -> dict[str, Any]:
    if kind == "monthly":
        if team is not None:
            raise BadArgument("--team: the month-end pack covers every team")
        from tieout.reports.monthly import monthly

        return monthly(project, rules, period=period, as_of=as_of)
    if period is not None:
        raise BadArgument(f"--period is for the monthly pack; the {kind} report takes --as-of")
    if kind == "daily":
        from tieout.reports.daily import daily

        return daily(project, rules, as_of=as_of, team=team)
    if kind == "weekly":
        from tieout.reports.weekly import weekly

        return weekly(project, rules, as_of=as_of, team=team)
    raise BadArgument(f"unknown report {kind!r} (known: {', '.join(KINDS)})")


def document(report: dict[str, Any]) -> Any:
    from tieout.reports import daily, monthly, weekly

    return {"daily": daily, "weekly": weekly, "monthly": monthly}[report["report"]].document(report)


def render(report: dict[str, Any], fmt: str, *, charts: bool = True) -> str:
    """`report` as text: json, md or html (`charts=False` leaves the HTML without its SVG charts)."""
    if fmt == "json":
        return to_json(report) + "\n"
    doc = document(report)
    if fmt == "md":
        from tieout.reports.render import md

        return md.render(doc)
    if fmt == "html":
        from tieout.reports.render import html

        svgs: dict[str, str] = {}
        if charts:
            from tieout.reports.charts import charts_for, svg

            svgs = {name: svg(spec) for name, spec in charts_for(report).items()}
        return html.render(doc, svgs)
    raise BadArgument(f"--format {fmt}: write it with write_xlsx" if fmt == "xlsx" else f"unknown format {fmt!r}")


def write_xlsx(report: dict[str, Any], path: Path) -> None:
    from tieout.reports.render import xlsx

    xlsx.write(document(report), path)


def default_filename(report: dict[str, Any], fmt: str) -> str:
    """`tieout-monthly-2026-01.xlsx`, `tieout-daily-2026-03-31.xlsx`: where xlsx goes without --output."""
    tag = report["period"]["label"] if report["report"] == "monthly" and "to" not in report["period"]["label"] \
        else report["as_of"].isoformat()
    team = f"-{report['team']}" if report.get("team") else ""
    return f"tieout-{report['report']}{team}-{tag}.{fmt}"
