"""The README and docs/ are read by people following their links: every relative link must reach a file, and
every command the README's first screen shows must be one tieout has."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tieout.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file(page: Path) -> None:
    targets = [m.group(1) for m in LINK.finditer(page.read_text(encoding="utf-8"))]
    missing = [t for t in targets if "://" not in t and not t.startswith("mailto:")
               and not (page.parent / t).exists()]
    assert missing == []


def test_readme_commands_exist() -> None:
    """Each `tieout WORD …` line of the README names a command (and, for a group, a subcommand) tieout has."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^(?:\.venv/bin/)?tieout ([a-z]+)(?: ([a-z]+))?", readme, re.M)
    assert len(lines) >= 10
    context = click.Context(cli)
    for command, sub in lines:
        found = cli.get_command(context, command)  # tieout's group loads its commands lazily
        assert found is not None, command
        if isinstance(found, click.Group):
            assert found.get_command(context, sub) is not None, (command, sub)
