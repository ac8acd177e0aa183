"""The corrections log (issue 4): hand corrections recorded append-only and hash-chained, verified on demand,
and checked at every run for having landed in the source systems (rule CORRECTION_NOT_APPLIED).

    >>> record_correction(project, canonical_id="ACME", system="billing", field="legal_name",
    ...                   old_value="Acme Inc", new_value="Acme Analytics Inc.", reason="typo",
    ...                   who="ana", ticket="FIN-12")                       # doctest: +SKIP
    >>> corrections_for(project, "ACME")                                   # doctest: +SKIP
    >>> verify_corrections(project).ok                                     # doctest: +SKIP

Above `workflow.correction_approval_over`, `request_correction` holds a correction for a second person's
approval (`decide`) instead of appending it (tieout.corrections.approval).

The names are loaded on first use: a run imports `tieout.corrections.landed`, which needs SQLAlchemy only
when there is a state database to read.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tieout.corrections.approval import CorrectionRequest, Submitted, decide, request_correction, requests
    from tieout.corrections.fields import FieldSpec, field_spec, registry_fields
    from tieout.corrections.log import Correction, corrections_for, record_correction, verify_corrections

_WHERE = {"CorrectionRequest": "approval", "Submitted": "approval", "decide": "approval",
          "request_correction": "approval", "requests": "approval",
          "FieldSpec": "fields", "field_spec": "fields", "registry_fields": "fields", "Correction": "log",
          "corrections_for": "log", "record_correction": "log", "verify_corrections": "log"}
__all__ = ["Correction", "CorrectionRequest", "FieldSpec", "Submitted", "corrections_for", "decide", "field_spec",
           "record_correction", "registry_fields", "request_correction", "requests", "verify_corrections"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"tieout.corrections.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tieout.corrections' has no attribute {name!r}")
