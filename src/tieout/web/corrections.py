"""The corrections log in the web: the page (the log, the requests waiting for a second person with their
approve / reject buttons, the chain's verdict, a form to record a correction) and its JSON API.

Every POST goes through `writer` (session + CSRF). Who may record, approve or reject is decided on the server by
`tieout.corrections.approval` (`authorise_correction`); the page only hides the buttons a user may not use.

    GET  /corrections                                 the page
    POST /corrections                                 record a correction (form), or hold it for approval
    POST /corrections/requests/{ref}/{approve|reject} a decision (form)
    GET  /api/corrections                             the log, the requests and the verdict
    POST /api/corrections                             record one (JSON, X-CSRF-Token)
    POST /api/corrections/requests/{ref}/{approve|reject}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from tieout.errors import BadArgument, Conflict, NotAllowed, NotFound
from tieout.output import to_json
from tieout.systems import SYSTEMS
from tieout.web.auth import CurrentUser, User, Writer, current_user
from tieout.web.reads import Reads

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)
# The form's fields, in the order the page shows them.
FORM_FIELDS = ("canonical_id", "system", "field", "source_id", "old_value", "new_value", "reason", "ticket")


class JSON(Response):
    media_type = "application/json"


def _request_id(ref_text: str) -> int:
    from tieout.corrections.approval import parse_ref

    found = parse_ref(ref_text)
    if found is None:
        raise NotFound(f"no correction request {ref_text!r} (they are named CR-1, CR-2, …)")
    return found


def _may(user: User, kind: str) -> bool:
    """Whether to offer a button at all (each action is still authorised on the server)."""
    from tieout.workflow.rules import authorise_correction

    return authorise_correction(user, kind, None) is None


def _state(request: Request) -> dict[str, Any]:
    from tieout.corrections import corrections_for, requests
    from tieout.corrections.fields import correctable_fields, registry_fields
    from tieout.entities.map_requests import map_requests_list
    from tieout.state.integrity import verify_logs

    project = request.app.state.project
    every = requests(project)
    maps = map_requests_list(project)
    return {"log": corrections_for(project)[::-1], "pending": [r for r in every if r.status == "pending"],
            "map_pending": [r for r in maps if r.status == "pending"],
            "map_decided": [r for r in maps if r.status != "pending"][:20],
            "by_system": {s: correctable_fields(project, s) for s in SYSTEMS},
            "decided": [r for r in every if r.status != "pending"][:20],
            "verdict": verify_logs(project, ["corrections"])[0],  # the chain and the day store's anchors
            "threshold": project.workflow.correction_approval_over, "currency": project.reporting_currency,
            "fields": registry_fields(project)}


def _page(request: Request, user: User, *, flash: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    reads: Reads = request.app.state.reads
    typed = dict(flash.get("typed", {})) if flash else {}
    if not typed and request.query_params.get("entity"):
        typed = _prefilled(request)  # "Record a correction" from an entity's page, or "Look up the current value"
    open_entities = sorted({e.canonical_id for e in reads.exceptions() if e.status == "open" and e.canonical_id})
    return request.app.state.templates.TemplateResponse(request, "corrections.html", {
        "user": user, "nav": "corrections", "project_name": reads.project.root.name, "as_of": reads.latest(),
        "latest": reads.latest(), "csrf": getattr(request.state, "csrf", ""), **_state(request),
        "flash": flash or {}, "done": request.query_params.get("done"), "typed": typed, "systems": SYSTEMS,
        "entities": open_entities, "may_correct": _may(user, "correct"), "may_decide": _may(user, "approve"),
    }, status_code=status_code)


def _prefilled(request: Request) -> dict[str, Any]:
    """The form as the link or the look-up asked for it, with the old value read from the store (the record on
    the latest stored day, tieout.corrections.current) — never typed by the person."""
    from tieout.corrections.current import held_values
    from tieout.corrections.fields import field_spec

    q = request.query_params
    typed: dict[str, Any] = {"canonical_id": q.get("entity", ""), **{k: q.get(k, "") for k in (
        "system", "field", "source_id", "new_value", "reason", "ticket")}}
    if typed["system"] and typed["field"]:
        try:
            spec = field_spec(request.app.state.project, typed["system"], typed["field"])
            held = held_values(request.app.state.project, canonical_id=typed["canonical_id"], system=typed["system"],
                               spec=spec, source_id=typed["source_id"] or None)
            typed["old_value"] = held.agreed(spec.kind) or ""
            typed["held"] = held
        except (BadArgument, NotFound) as e:
            typed["lookup_error"] = str(e)
    return typed


@router.get("/corrections", name="corrections")
def corrections_page(request: Request, user: CurrentUser) -> Response:
    return _page(request, user)


def _code(e: Exception) -> int:
    return 409 if isinstance(e, Conflict) else 403 if isinstance(e, NotAllowed) else \
        404 if isinstance(e, NotFound) else 422


@router.post("/corrections")
def correct_form(request: Request, user: Writer, canonical_id: Annotated[str, Form()] = "",
                 system: Annotated[str, Form()] = "", field: Annotated[str, Form()] = "",
                 old_value: Annotated[str, Form()] = "", new_value: Annotated[str, Form()] = "",
                 reason: Annotated[str, Form()] = "", ticket: Annotated[str, Form()] = "",
                 source_id: Annotated[str, Form()] = "") -> Response:
    """Success: back to the page (POST/redirect/GET) saying what happened; a refusal: the page again with the
    message, and what was typed kept in the form."""
    from tieout.corrections import request_correction

    typed = {"canonical_id": canonical_id, "system": system, "field": field, "old_value": old_value,
             "new_value": new_value, "reason": reason, "ticket": ticket, "source_id": source_id}
    try:
        done = request_correction(request.app.state.project, canonical_id=canonical_id.strip(), system=system,
                                  field=field, old_value=old_value, new_value=new_value, reason=reason,
                                  who=user.name, ticket=ticket, source_id=source_id, signed_in=user,
                                  found=request.app.state.reads.exceptions())
    except (BadArgument, NotFound, NotAllowed) as e:
        return _page(request, user, flash={"error": str(e), "typed": typed}, status_code=_code(e))
    outcome = f"recorded-{done.correction.seq}" if done.correction else f"held-{done.request.ref}"  # type: ignore
    return RedirectResponse(f"/corrections?done={outcome}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/corrections/requests/{ref_text}/{decision}")
def decide_form(request: Request, ref_text: str, decision: Literal["approve", "reject"], user: Writer,
                comment: Annotated[str, Form()] = "") -> Response:
    from tieout.corrections import decide

    try:
        decided, _ = decide(request.app.state.project, _request_id(ref_text), user.name, decision, comment=comment)
    except (Conflict, NotAllowed, NotFound, BadArgument) as e:
        return _page(request, user, flash={"error": str(e)}, status_code=_code(e))
    return RedirectResponse(f"/corrections?done={decided.status}-{decided.ref}#requests",
                            status_code=status.HTTP_303_SEE_OTHER)


# --- JSON ------------------------------------------------------------------------------------------------------

def _verdict(v: Any) -> dict[str, Any]:
    return {"ok": v.ok, "entries": v.entries, "head_seq": v.head_seq, "head_hash": v.head_hash,
            "problem": v.problem, "broken_seq": v.broken_seq, "message": v.message}


@router.get("/api/corrections", tags=["api"], response_class=JSON,
            summary="The corrections log, the correction requests and the chain's verification")
def corrections_api(request: Request, user: CurrentUser) -> JSON:
    found = _state(request)
    log = found["log"][::-1]  # oldest first, as `tieout corrections --format json`
    return JSON(to_json({"approval_over": found["threshold"], "currency": found["currency"],
                         "verify": _verdict(found["verdict"]), "corrections": [c.as_dict() for c in log],
                         "requests": [r.as_dict() for r in found["pending"] + found["decided"]]}, indent=None))


@router.get("/api/corrections/current", tags=["api"], response_class=JSON,
            summary="A field's current value in the records of an entity (the old value of a correction)")
def current_api(request: Request, user: CurrentUser, entity: str, system: str, field: str,
                source_id: str | None = None) -> JSON:
    """`value` (the one value the records hold, None for no value), `day` (the stored day read; None: nothing
    stored), and every record's value; 422 when the records hold different values (name the record)."""
    from tieout.corrections.current import held_values
    from tieout.corrections.fields import check_entity, field_spec

    project = request.app.state.project
    spec = field_spec(project, system, field)
    check_entity(project, entity, system, source_id or None)
    held = held_values(project, canonical_id=entity, system=system, spec=spec, source_id=source_id or None)
    return JSON(to_json({"entity": entity, "system": system, "field": spec.name, "kind": spec.kind,
                         "day": held.day, "value": held.agreed(spec.kind),
                         "records": [v.__dict__ for v in held.values]}, indent=None))


class CorrectionIn(BaseModel):
    canonical_id: str
    system: str
    field: str
    old_value: str | None = None
    new_value: str | None = None
    reason: str
    ticket: str | None = None
    source_id: str | None = None


@router.post("/api/corrections", tags=["api"], response_class=JSON,
             summary="Record a correction, or hold it for approval above the threshold (X-CSRF-Token)")
def correct_api(request: Request, user: Writer, body: Annotated[CorrectionIn, Body()]) -> JSON:
    """200 with `applied` true and the `correction`, or false and the `request` waiting for approval; 403 not
    allowed, 404 unknown entity or record, 422 malformed."""
    from tieout.corrections import request_correction

    done = request_correction(request.app.state.project, **body.model_dump(), who=user.name, signed_in=user,
                              found=request.app.state.reads.exceptions())
    return JSON(to_json({"applied": done.applied, "impact": done.impact, "approval_over": done.threshold,
                         "correction": done.correction.as_dict() if done.correction else None,
                         "request": done.request.as_dict() if done.request else None}, indent=None))


class DecisionIn(BaseModel):
    comment: str | None = None


@router.post("/api/corrections/requests/{ref_text}/{decision}", tags=["api"], response_class=JSON,
             summary="Approve or reject a correction request (not your own; X-CSRF-Token)")
def decide_api(request: Request, ref_text: str, decision: Literal["approve", "reject"], user: Writer,
               body: Annotated[DecisionIn | None, Body()] = None) -> JSON:
    """200 with the decided `request` (and, approved, the `correction` appended); 403 not allowed (role, or
    your own request), 404 no such request, 409 already decided."""
    from tieout.corrections import decide

    decided, correction = decide(request.app.state.project, _request_id(ref_text), user.name, decision,
                                 comment=body.comment if body else None)
    return JSON(to_json({"request": decided.as_dict(),
                         "correction": correction.as_dict() if correction else None}, indent=None))
