"""tieout — a reconciliation control plane for CRM, billing and product-usage systems."""

from __future__ import annotations

__version__ = "0.1.0"
