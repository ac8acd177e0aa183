"""Excel's own charts for the sections that have one (`Section.chart_data`): the numbers drawn are cells of the
sheet, under the table, so the chart stays live and checkable in Excel.

- a **waterfall** (the month-end bridge): a stacked column chart — an unfilled base up to each step's lower
  end, then the step down or up, or the total — with the value axis from the waterfall's floor, so a difference
  of one customer in three hundred shows;
- **bars**: one value per label (money at risk by rule).
"""

from __future__ import annotations

from typing import Any

from tieout.safe_text import for_workbook

# The series of a waterfall, left to right in each column, and their fill (none: the base is not drawn).
WATERFALL_SERIES = (("Base", None), ("Down", "E45756"), ("Up", "54A24B"), ("Total", "4C78A8"))


def _waterfall_rows(steps: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for s in steps:
        low, high = sorted((s["start"], s["end"]))
        if s["kind"] == "total":
            rows.append([s["label"], 0, 0, 0, s["end"]])
        else:
            rows.append([s["label"], low, high - low if s["kind"] == "down" else 0,
                         high - low if s["kind"] == "up" else 0, 0])
    return rows


def chart_for(ws: Any, title: str, data: dict[str, Any], *, row: int) -> None:
    """Write the chart's cells from `row` down in columns A… and the chart beside them."""
    from openpyxl.chart import BarChart, Reference

    if "waterfall" in data:
        header = ["Step", *(name for name, _ in WATERFALL_SERIES)]
        rows = _waterfall_rows(data["waterfall"]["steps"])
    else:
        header, rows = ["Label", "Value"], [[b["label"], b["value"]] for b in data["bars"]]
    for j, text in enumerate(header, start=1):
        ws.cell(row=row, column=j).value = for_workbook(text)
        ws.cell(row=row, column=j).data_type = "s"
    for i, values in enumerate(rows, start=row + 1):
        for j, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=j)
            if isinstance(value, str):
                cell.value, cell.data_type = for_workbook(value), "s"
            else:
                cell.value = value
    chart = BarChart()
    chart.type, chart.title, chart.legend = "col", title[:250], None
    chart.height, chart.width = 9, 18
    last = row + len(rows)
    chart.add_data(Reference(ws, min_col=2, max_col=len(header), min_row=row, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=row + 1, max_row=last))
    if "waterfall" in data:
        chart.grouping, chart.overlap = "stacked", 100
        for series, (_, colour) in zip(chart.series, WATERFALL_SERIES, strict=True):
            if colour is None:
                series.graphicalProperties.noFill = True
                series.graphicalProperties.line.noFill = True
            else:
                series.graphicalProperties.solidFill = colour
        chart.y_axis.scaling.min = data["waterfall"]["floor"]
    ws.add_chart(chart, f"{chr(ord('A') + len(header) + 1)}{row}")
