"""A terminal table leaves out its `drop` columns only while it does not fit: the shortcut that skips measuring a
table whose natural width fits must print exactly what measuring it prints."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console

from tieout.output import FittingTable, table


def printed(renderable: object, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, soft_wrap=False, color_system=None).print(renderable)
    return out.getvalue()


def test_the_shortcut_prints_what_measuring_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(15)
    words = ["Acme", "Analytics", "Grünwald", "Robotics", "AG", "structural", "C00042", "billing:cus_1",
             "a-very-long-identifier-without-spaces", "10,800.00 USD", ""]
    columns = ("ID", "Rule", "Entity", "Name", "Impact", "Team", "Class")
    shortcut_taken = cases = 0
    for _ in range(60):
        rows = [[" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in columns]
                for _ in range(rng.randint(1, 6))]
        t = table("Some exceptions", columns, rows, whole=("ID",), drop=("Class", "Team", "Name"))
        for width in (30, 60, 90, 120, 200, 400):
            natural = {c: max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)}
            shortcut_taken += FittingTable.fits_unmeasured(natural, list(columns), width)
            cases += 1
            with_shortcut = printed(t, width)
            with monkeypatch.context() as m:
                m.setattr(FittingTable, "fits_unmeasured", staticmethod(lambda *_: False))  # always measure
                assert printed(t, width) == with_shortcut, (rows, width)
    assert 0 < shortcut_taken < cases  # both paths were compared: the shortcut and measuring


def test_the_plain_text_is_what_rich_prints_without_a_terminal() -> None:
    """`FittingTable.plain` writes the table rich would print to a pipe, byte for byte — hostile and wide
    values included — or declines (None) where rich must lay it out."""
    rng = random.Random(16)
    words = ["Acme", "Grünwald", "Robotics", "[link=https://evil.example]x[/link]", "<script>alert(1)</script>",
             "=HYPERLINK(\"http://x\")", "東京商事", "esc\x1b[31mred", "C00042", "10,800.00 USD", "", "[bold]b"]
    columns = ("ID", "Rule", "Name", "Impact", "Team")
    planned = declined = 0
    for _ in range(80):
        rows = [[" ".join(rng.choice(words) for _ in range(rng.randint(0, 3))) for _ in columns]
                for _ in range(rng.randint(1, 5))]
        rows[0][3] = rng.choice([None, 7, "12.50 USD"])  # not only text: None and numbers, as callers pass
        t = table(rng.choice(["Some [b]exceptions[/b]", "x"]), columns, rows, right=("Impact",), whole=("ID",),
                  drop=("Team", "Name"))
        for width in (40, 90, 240):
            text = t.plain(width)
            if text is None:
                declined += 1
                continue
            planned += 1
            assert text == printed(t, width), (rows, width)
    assert planned and declined  # both: written here, and left to rich when it must fit the table


def test_the_plain_text_leaves_styled_cells_and_empty_tables_to_rich() -> None:
    from rich.text import Text

    assert table("t", ("A",), [(Text("x", style="red"),)]).plain(240) is None
    assert table("t", ("A",), []).plain(240) is None
    assert table("t", ("A",), [("a\tb",)]).plain(240) is None
    assert table("t", ("A",), [("a",)]).plain(240) == printed(table("t", ("A",), [("a",)]), 240)
