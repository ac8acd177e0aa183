"""Charts for the HTML reports: Vega-Lite specs built with Vega-Altair, rendered to SVG by vl-convert.

vl-convert embeds the Vega engine (no browser, no network), so a report is one self-contained HTML file with
its charts inline — it opens offline and prints. Both are imported only when an HTML report is rendered.
Amounts go into the chart data as floats: a chart is a picture, the exact figures are in the tables beside it.
"""

from __future__ import annotations

from typing import Any

WIDTH = 560


def _alt() -> Any:
    import altair as alt

    return alt


def trend(rows: list[dict[str, Any]]) -> dict[str, Any]:
    alt = _alt()
    data = alt.Data(values=[{"day": r["date"].isoformat(), "series": s, "count": r[k]}
                            for r in rows for s, k in (("open", "open"), ("new", "opened"), ("resolved", "resolved"))])
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("day:T", title=None), y=alt.Y("count:Q", title="exceptions"),
        color=alt.Color("series:N", title=None, sort=["open", "new", "resolved"]),
    ).properties(width=WIDTH, height=180, title="Open, new and resolved per reconciled day")
    return dict(chart.to_dict())


def bars(rows: list[dict[str, Any]], *, label: str, value: str, title: str, color: str | None = None,
         sort: list[str] | None = None) -> dict[str, Any]:
    alt = _alt()
    values = [{"label": str(r[label]), "value": float(r[value] or 0), **({"color": r[color]} if color else {})}
              for r in rows]
    enc: dict[str, Any] = {
        "y": alt.Y("label:N", title=None, sort=sort or None),
        "x": alt.X("value:Q", title=None),
    }
    if color:
        enc["color"] = alt.Color("color:N", title=None, sort=["P1", "P2", "P3", "INFO"])
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(**enc).properties(
        width=WIDTH - 160, height=max(40, 22 * len({v["label"] for v in values})), title=title)
    return dict(chart.to_dict())


KIND_COLOURS = {"total": "#4c78a8", "up": "#54a24b", "down": "#e45756"}


def waterfall(shape: dict[str, Any], *, title: str) -> dict[str, Any]:
    """`tieout.reports.bridge.waterfall` as bars from each step's start to its end, the axis from its floor."""
    alt = _alt()
    steps = shape["steps"]
    top = max((max(s["start"], s["end"]) for s in steps), default=0)
    chart = alt.Chart(alt.Data(values=steps)).mark_bar(clip=True).encode(
        x=alt.X("label:N", title=None, sort=[s["label"] for s in steps], axis=alt.Axis(labelAngle=-30, labelLimit=220)),
        y=alt.Y("start:Q", title="customers", scale=alt.Scale(domain=[shape["floor"], top + 1], zero=False)),
        y2="end:Q",
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=list(KIND_COLOURS),
                                                               range=list(KIND_COLOURS.values()))),
    ).properties(width=WIDTH, height=220, title=f"{title} (axis from {shape['floor']})")
    return dict(chart.to_dict())


def charts_for(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's charts as Vega-Lite specs, by the name its sections refer to."""
    kind = report["report"]
    if kind == "weekly":
        return {"trend": trend(report["trend"]),
                "aging": bars(report["aging"], label="bucket", value="open", title="Open exceptions by age (days)",
                              sort=[b["bucket"] for b in report["aging"]])}
    if kind == "monthly":
        from tieout.reports.bridge import waterfall as bridge_waterfall

        money = [{"label": r["rule"], "value": r["money_at_risk"], "color": r["severity"]}
                 for r in report["money_at_risk"]["by_rule_severity"]]
        return {"bridge": waterfall(bridge_waterfall(report), title="Active customers: CRM → billing → ops"),
                "money": bars(money, label="label", value="value", color="color",
                              title=f"Money at risk by rule ({report['currency']})")}
    return {}


def svg(spec: dict[str, Any]) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(spec))
