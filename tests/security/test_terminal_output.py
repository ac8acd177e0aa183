"""Terminal tables (`tieout exceptions`, `show`, `entities`, …): a value from an export is shown as text — never
read as rich markup (`[link=…]` made a hyperlink, `[reverse]` restyled the table) and never sent as control
characters (an ANSI or OSC escape could recolour the screen or plant a hyperlink)."""

from __future__ import annotations

import io

import pytest

from tieout.output import table

HOSTILE = ["[link=https://evil.example]click[/link]", "[reverse]x[/reverse]", "\x1b[31mred\x1b[0m",
           "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "\x9b31mcsi", "bell\x07"]


def _shown(renderable: object) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=400)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_table_cell_is_shown_as_text(value: str) -> None:
    out = _shown(table(value, ["a"], [[value]]))
    assert "\x1b]8;" not in out and "\x07" not in out and "\x9b" not in out  # no hyperlink, no bell, no CSI
    assert "\x1b[31m" not in out and "\x1b[7m" not in out  # no colour or reverse from the value
    if value.startswith("["):
        assert out.count(value) == 2  # the title and the cell, literally
    else:
        assert "\\x" in out  # the control characters written out


def test_the_records_side_by_side_keep_their_bold_names_and_show_values_as_text() -> None:
    from tieout.cli.show import _row_text

    out = _shown(table("t", ["crm"], [[_row_text("crm_accounts", {"legal_name": HOSTILE[0] + HOSTILE[2]})]]))
    assert "\x1b[1mcrm_accounts" in out and HOSTILE[0] in out and "\x1b[31m" not in out
