"""`create_app(project)`: the FastAPI application behind `tieout serve`.

Pages are server-rendered (Jinja2) and work without JavaScript; the vendored htmx only spares a full reload
when the queue is filtered. Every asset is served from `static/`, so the interface runs with no network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from tieout import __version__
from tieout.config import Project
from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound, TieoutError
from tieout.systems import label as system_label
from tieout.web import format as fmt
from tieout.web.auth import CurrentUser
from tieout.web.queue import BadFilter
from tieout.web.reads import Reads

HERE = Path(__file__).parent
# What `tieout serve --workers N` hands its worker processes (tieout.cli.serve): the project folder (absolute)
# and the sessions' idle timeout. Each worker is a new process that imports `app_from_environment` by name.
SERVE_PROJECT = "TIEOUT_SERVE_PROJECT"
SERVE_IDLE_MINUTES = "TIEOUT_SERVE_IDLE_MINUTES"


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=HERE / "templates")
    # Escape every template, whatever its file name: Starlette's default escapes only *.html, *.htm, *.xml,
    # so a template named otherwise would print names from the exports as markup.
    t.env.autoescape = True
    t.env.filters.update(money=fmt.money, amount=fmt.amount, original=fmt.original, number=fmt.number,
                         iso=fmt.iso, cell=fmt.cell, system=fmt.system, subject=fmt.subject, code=fmt.code_spans,
                         breakable=fmt.breakable)
    t.env.globals.update(SEVERITY_CLASS=fmt.SEVERITY_CLASS, system_label=system_label, version=__version__,
                         sev_chip=fmt.sev_chip, cls_chip=fmt.cls_chip, status_chip=fmt.status_chip,
                         flow_chip_html=fmt.flow_chip, subject_html=fmt.subject_link)
    return t


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(project: Project, *, auth: bool = True, idle_minutes: int = 30,
               clock: Callable[[], datetime] = _now) -> FastAPI:
    """The web interface over `project`'s store. With `auth` (the default, what `tieout serve` runs) every
    page and API call needs a session (`/login`); sessions end after `idle_minutes` without a request.
    `auth=False` serves one anonymous read-only user (tests, embedding): every write is refused. `clock` is
    what sessions and the sign-in throttle take as now (tests move it instead of sleeping)."""
    from tieout.web import api, bulk, corrections, downloads, flow, mapping, months, pages, review, signin
    from tieout.web.headers import SecurityHeaders

    # No documentation pages: FastAPI's load Swagger UI or ReDoc from a CDN. The OpenAPI document is served
    # below, to a signed-in user only.
    app = FastAPI(title="tieout", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  swagger_ui_oauth2_redirect_url=None)
    app.add_middleware(SecurityHeaders)
    app.state.project = project
    app.state.auth = auth
    app.state.idle_minutes = idle_minutes
    app.state.clock = clock
    app.state.reads = Reads(project)
    app.state.templates = templates()
    # A store written by an older tieout is converted now, under the run lock, like any command would; after
    # this the app only reads.
    app.state.reads.days()

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: CurrentUser) -> dict[str, Any]:
        return app.openapi()

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(flow.router)
    app.include_router(corrections.router)
    app.include_router(bulk.router)
    app.include_router(downloads.router)
    app.include_router(mapping.router)
    app.include_router(months.router)
    app.include_router(review.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    _errors(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of `tieout serve --workers N`: `create_app` over the project named by
    TIEOUT_SERVE_PROJECT, sign-in on, with TIEOUT_SERVE_IDLE_MINUTES (default 30).

    Several processes serve one store and one state database correctly because a worker keeps nothing of its
    own that another could change: sessions, CSRF tokens (derived from the session's token), the sign-in
    throttle and the workflow are read from the state database at every request, and the cached readings
    (`Reads`) are keyed on the store's file identities and on the workflow read for the request, so a commit or
    an action through any worker gives every worker new keys."""
    import os

    from tieout.config import load_project

    folder = os.environ.get(SERVE_PROJECT)
    if not folder:
        raise RuntimeError(f"{SERVE_PROJECT} is not set: this factory is what `tieout serve --workers N` runs")
    idle = os.environ.get(SERVE_IDLE_MINUTES, "30")
    return create_app(load_project(folder), idle_minutes=int(idle))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    """Errors as JSON under /api/, as a page elsewhere — with the library's own message."""
    def page(request: Request, code: int, title: str, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=code)
        t: Jinja2Templates = request.app.state.templates
        return t.TemplateResponse(request, "error.html", {"title": title, "message": message, "code": code,
                                                          "as_of": None, "nav": None}, status_code=code)

    # tieout's errors as pages (or JSON under /api/): status and title per class; Starlette picks the handler
    # of the nearest class in the error's MRO, so TieoutError catches only what none of the others does.
    shown = {NotFound: (404, "Not found"), BadFilter: (422, "Unknown filter"), Conflict: (409, "Conflict"),
             NotAllowed: (403, "Not allowed"), BadArgument: (422, "Refused"),
             TieoutError: (500, "The store cannot be read")}
    for error, (code, title) in shown.items():
        def handler(request: Request, e: Exception, code: int = code, title: str = title) -> Response:
            return page(request, code, title, str(e))

        app.add_exception_handler(error, handler)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, e: StarletteHTTPException) -> Response:
        if e.status_code == 401 and not _wants_json(request) and request.method == "GET":
            # A page asked for without a session: sign in, then come back here.
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if _wants_json(request) or e.status_code == 401:
            return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=e.headers)
        return page(request, e.status_code, "Not found" if e.status_code == 404 else "Error", str(e.detail))

