"""Month-end sign-off on the web: each month's state and signatures, its pack to download, and prepare / review /
reopen for the people allowed to (tieout.month_close: the same roles, maker-checker and audit as the command
line). Every POST goes through `writer` (session + CSRF); the page only hides what a user may not do.

    GET  /months                             the months, newest first
    GET  /months/{period}/pack.{fmt}         the pack (md, html, xlsx, json): a closed month's as it was signed
    POST /months/{period}/{step}             prepare, review or reopen (form; `reason` for a reopening)
    GET  /api/months                         the months as JSON
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tieout.errors import NotFound
from tieout.output import to_json
from tieout.web.auth import CurrentUser, User, Writer, current_user

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _may(user: User) -> dict[str, bool]:
    """Which steps the page offers `user` (the server decides again on each POST)."""
    if user.anonymous or user.role == "auditor":
        return {"prepare": False, "review": False, "reopen": False}
    decides = user.role in ("admin", "approver")
    return {"prepare": True, "review": decides, "reopen": decides}


@router.get("/months", name="months")
def months_page(request: Request, user: CurrentUser) -> Response:
    from tieout.month_close import ALLOWED, DONE, PACK_FORMATS, months
    from tieout.web.pages import render_page

    return render_page(request, "months.html", user, "months", months=months(request.app.state.project),
                   allowed=ALLOWED, done=DONE, may=_may(user), formats=PACK_FORMATS,
                   flash=request.query_params.get("done", ""))


@router.post("/months/{period}/{step}")
def sign_form(request: Request, period: str, step: Literal["prepare", "review", "reopen"], user: Writer,
              reason: Annotated[str, Form()] = "") -> Response:
    from tieout.reports.signoff import sign

    month = sign(request.app.state.project, period, step, user.name, reason=reason)
    return RedirectResponse(f"/months?done={step}-{month.period}#m-{month.period}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/months/{period}/pack.{fmt}")
def pack(request: Request, period: str, fmt: Literal["md", "html", "xlsx", "json"], user: CurrentUser) -> Response:
    """A closed month's pack byte for byte as signed; any other month's as it stands."""
    from tieout.month_close import frozen_pack, month_state
    from tieout.reports import build, render, write_xlsx
    from tieout.rules.registry import load_rules

    project = request.app.state.project
    month = month_state(project, period)
    body = frozen_pack(project, month, fmt)
    if body is None:
        report = build(project, load_rules(project), "monthly", period=month.period)
        if report["period"]["label"] != month.period:
            raise NotFound(f"{month.period} is not a whole reconciled month")
        if fmt == "xlsx":
            with tempfile.TemporaryDirectory() as tmp:
                write_xlsx(report, Path(tmp) / "pack.xlsx")
                body = (Path(tmp) / "pack.xlsx").read_bytes()
        else:
            body = render(report, fmt).encode("utf-8")
    return Response(body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="tieout-monthly-{month.period}.{fmt}"'})


@router.get("/api/months", tags=["api"], summary="Every month: its state (open, prepared, closed, reopened) and "
                                                 "who signed it")
def months_api(request: Request, user: CurrentUser) -> Response:
    from tieout.month_close import months

    return Response(to_json([m.as_dict() for m in months(request.app.state.project)], indent=None),
                    media_type="application/json")
