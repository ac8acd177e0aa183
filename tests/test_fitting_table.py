"""A terminal table leaves out its `drop` columns only while it does not fit: the shortcut that skips measuring a
table whose natural width fits must print exactly what measuring it prints."""

from __future__ import annotations

import io
import random

from rich.console import Console
from rich.measure import Measurement

from tieout.output import FittingTable, table


def measured(t: FittingTable, console: Console, width: int) -> object:
    """`FittingTable.fitted` without the shortcut: every step measured, as rich measures it."""
    cells = t._texts()
    natural = {c: max([len(c), *(row[i].cell_len for row in cells)]) for i, c in enumerate(t.columns)}
    shown = list(t.columns)
    built = t._build(cells, shown, natural)
    for column in t.drop:
        if Measurement.get(console, console.options.update(max_width=10_000), built).minimum <= width:
            break
        if column in shown:
            shown.remove(column)
            built = t._build(cells, shown, natural)
    return built


def printed(renderable: object, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, soft_wrap=False, color_system=None).print(renderable)
    return out.getvalue()


def test_the_shortcut_prints_what_measuring_prints() -> None:
    rng = random.Random(15)
    words = ["Acme", "Analytics", "Grünwald", "Robotics", "AG", "structural", "C00042", "billing:cus_1",
             "a-very-long-identifier-without-spaces", "10,800.00 USD", ""]
    columns = ("ID", "Rule", "Entity", "Name", "Impact", "Team", "Class")
    shortcut_taken = cases = 0
    for _ in range(60):
        rows = [[" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in columns]
                for _ in range(rng.randint(1, 6))]
        t = table("Some exceptions", columns, rows, whole=("ID",), drop=("Class", "Team", "Name"))
        assert isinstance(t, FittingTable)
        for width in (30, 60, 90, 120, 200, 400):
            console = Console(file=io.StringIO(), width=width)
            natural = sum(max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns))
            shortcut_taken += natural + 3 * len(columns) + 1 <= width
            cases += 1
            assert printed(t, width) == printed(measured(t, console, width), width), (rows, width)
    assert 0 < shortcut_taken < cases  # both paths were compared: the shortcut and measuring
