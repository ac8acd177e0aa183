"""tieout — a reconciliation control plane for CRM, billing and product-usage systems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tieout.api import run_day

__all__ = ["run_day"]


def __getattr__(name: str) -> Any:
    # Lazy: `import tieout` (and so every command's start-up) loads no run machinery until it is used.
    if name == "run_day":
        from tieout.api import run_day

        return run_day
    raise AttributeError(f"module 'tieout' has no attribute {name!r}")
