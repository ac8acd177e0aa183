"""Exceptions grouped by cause (`tieout patterns`), not by team.

A *pattern* is one cause: every exception episode (each reopening is another occurrence) with the same
signature — the rule, what changed on the episode's first day among its entity's records (read from the stored
source history) and how records resolved when not by the entity map. Its timing and structural episodes are one
pattern: the classification is a breakdown of it, not a part of the cause.

Each pattern says when it happens (the weekday or day of the month its occurrences open on, when they cluster),
how long it lasts (the usual lag to closing), what it costs (the exposure open now and the most held open at
once), the systems and fields involved, the handoff of the ownership registry it crosses, and one sentence with
all of it. A pattern with new occurrences in at least `min_weeks` of the last `of_weeks` ISO weeks is
*recurring*: "a rule nobody wrote down".

- `model` — the dataclasses; `signature` — every episode's signature in one query, kept per first day by
  `signature_cache`; `timing` — cadence, lag and peak exposure; `handoff` — systems, fields and the handoff
  crossed; `sentence` — the sentence; `group` — the grouping (`patterns`); `record` — JSON.
"""

from __future__ import annotations

from tieout.patterns.group import (
    DEFAULT_EXAMPLES,
    DEFAULT_MIN_WEEKS,
    DEFAULT_OF_WEEKS,
    DEFAULT_TREND_WEEKS,
    STATUSES,
    iso_week,
    patterns,
    window_start,
)
from tieout.patterns.model import Cadence, ChangeItem, Crossing, Lag, Occurrence, Origin, Pattern, Report, Signature
from tieout.patterns.record import example_record, pattern_record, report_record

__all__ = ["DEFAULT_EXAMPLES", "DEFAULT_MIN_WEEKS", "DEFAULT_OF_WEEKS", "DEFAULT_TREND_WEEKS", "STATUSES", "Cadence",
           "ChangeItem", "Crossing", "Lag", "Occurrence", "Origin", "Pattern", "Report", "Signature",
           "example_record", "iso_week", "pattern_record", "patterns", "report_record", "window_start"]
