"""Impact in the reporting currency → P1 / P2 / P3 / INFO (contract §5: thresholds configurable)."""

from __future__ import annotations

from decimal import Decimal

from tieout.config import SEVERITIES, SeverityThresholds

RANK = {s: i for i, s in enumerate(SEVERITIES)}  # P1 = 0 is the most severe


def severity_of(impact: Decimal, thresholds: SeverityThresholds) -> str:
    for level in ("P1", "P2", "P3"):
        if impact >= getattr(thresholds, level):
            return level
    return "INFO"


def severity_sql(column: str, thresholds: SeverityThresholds) -> str:
    """The same mapping as a SQL CASE, so it runs inside the engine at any scale."""
    return (
        f"CASE WHEN {column} >= {thresholds.P1} THEN 'P1' WHEN {column} >= {thresholds.P2} THEN 'P2' "
        f"WHEN {column} >= {thresholds.P3} THEN 'P3' ELSE 'INFO' END"
    )


def at_or_above(severity: str, floor: str) -> bool:
    return RANK[severity] <= RANK[floor]
