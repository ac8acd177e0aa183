"""tieout — a reconciliation control plane for CRM, billing and product-usage systems."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tieout.api import exceptions as exceptions
    from tieout.api import run_day as run_day

__all__ = ["exceptions", "run_day"]


def __getattr__(name: str) -> Any:
    # Lazy: `import tieout` (and so every command's start-up, and every `from tieout import fx`) loads no run
    # machinery until `tieout.run_day` is used. By name, not an import statement: the package itself is below
    # every module in the import graph (tests/test_import_graph.py), its front door `tieout.api` above them.
    if name in __all__:
        return getattr(import_module("tieout.api"), name)
    raise AttributeError(f"module 'tieout' has no attribute {name!r}")
