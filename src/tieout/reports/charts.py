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


def charts_for(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's charts as Vega-Lite specs, by the name its sections refer to."""
    kind = report["report"]
    if kind == "weekly":
        return {"trend": trend(report["trend"]),
                "aging": bars(report["aging"], label="bucket", value="open", title="Open exceptions by age (days)",
                              sort=[b["bucket"] for b in report["aging"]])}
    if kind == "monthly":
        ac = report["active_customers"]
        steps = [{"label": "CRM-active", "value": ac["crm"]}, {"label": "billing-active", "value": ac["billing"]},
                 {"label": "ops-active (30 days)", "value": ac["ops"]}]
        money = [{"label": r["rule"], "value": r["money_at_risk"], "color": r["severity"]}
                 for r in report["money_at_risk"]["by_rule_severity"]]
        return {"bridge": bars(steps, label="label", value="value", title="Active customers by definition",
                               sort=[s["label"] for s in steps]),
                "money": bars(money, label="label", value="value", color="color",
                              title=f"Money at risk by rule ({report['currency']})")}
    return {}


def svg(spec: dict[str, Any]) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(spec))
