"""The names of the rules a project has, read from the file names alone: what the ownership registry checks a
handoff's `missed_as` against without loading (or checking the SQL of) any rule."""

from __future__ import annotations

from pathlib import Path

BUILTIN_DIR = Path(__file__).parent / "builtin"


def rule_names(rules_path: Path | None = None) -> set[str]:
    """The built-in rules and those of a project's rules folder (a `NAME.yml` with or without its SQL)."""
    folders = [BUILTIN_DIR] + ([rules_path] if rules_path is not None and rules_path.is_dir() else [])
    return {p.stem for folder in folders for p in folder.glob("*.yml")}
