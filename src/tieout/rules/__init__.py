"""Named, deterministic mismatch rules: SQL files over the canonical tables, each with its metadata."""

from tieout.rules.registry import Rule, load_rules

__all__ = ["Rule", "load_rules"]
