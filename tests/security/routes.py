"""Every route of the app, as (method, path): what the battery walks so that a new route cannot go untested."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def _walk(routes: list[Any], prefix: str) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found += [(method, prefix + route.path) for method in sorted(route.methods)]
        elif hasattr(route, "original_router"):  # FastAPI ≥ 0.16x keeps included routers as they were
            found += _walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes") and not hasattr(route, "app"):
            found += _walk(route.routes, prefix + getattr(route, "prefix", ""))
    return found


def app_routes(app: FastAPI, method: str) -> list[str]:
    """The paths of `app`'s routes answering `method` (GET, POST), in the order they match."""
    return [path for m, path in _walk(app.router.routes, "") if m == method]
