"""Stacked bar charts as inline SVG, drawn on the server from `timeline.daily_counts`.

No chart library and nothing fetched: the page works offline and prints, a screen reader gets each bar's
`<title>`, and the numbers are in a table beside the chart. The SVG scales to its container (viewBox).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

# Calm, distinguishable colours (Okabe–Ito and neighbours), assigned in series order.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c8c00", "#6a3d9a", "#999999",
           "#b15928")
CLASS_COLOURS = {"pending": "#e69f00", "structural": "#c0392b", "ownership": "#6a3d9a", "timing": "#009e73"}


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    colour: str


def day_label(day: date) -> str:
    return day.isoformat()


def _nice_max(top: int) -> tuple[int, int]:
    """An axis maximum at or above `top` and a tick step, in whole exceptions."""
    if top <= 5:
        return max(top, 1), 1
    step = 10 ** math.floor(math.log10(top / 5))
    for m in (1, 2, 5, 10):
        if top / (m * step) <= 6:
            step *= m
            break
    return math.ceil(top / step) * step, step


def stacked_bars(days: Sequence[date], series: Sequence[Series], *, label: str, width: int = 960,
                 height: int = 230) -> Markup:
    left, right, top, bottom = 44, 8, 8, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(days), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    y_max, step = _nice_max(max(totals, default=0))
    slot = plot_w / n
    bar = max(slot * 0.78, 1.0)
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for tick in range(0, y_max + 1, step):
        y = top + plot_h - tick / y_max * plot_h
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for s in series:
            v = s.values[i]
            if not v:
                continue
            h = v / y_max * plot_h
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{s.colour}">'
                       f'<title>{day.isoformat()} · {escape(s.name)}: {v}</title></rect>')
    # about eight date labels: every `every`-th day, and the last day unless a label sits too close to it
    every = max(1, math.ceil(n / 8))
    shown = [i for i in range(0, n, every) if n - 1 - i >= every / 2 or i == 0] + ([n - 1] if n > 1 else [])
    for i in shown:
        # the first and last labels align with the plot's edges, so that they are not cut off
        anchor, offset = ("start", 0.0) if i == 0 else ("end", 1.0) if i == n - 1 else ("middle", 0.5)
        x = left + (i + offset) * slot
        out.append(f'<text class="axis" x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}">'
                   f'{day_label(days[i])}</text>')
    out.append(f'<line class="baseline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    out.append("</svg>")
    return Markup("".join(out))
