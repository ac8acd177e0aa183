"""Map from the page: the candidates of an unmapped or ambiguous record, with their evidence, and "map to this
entity" / "new entity" for a person allowed to ask; the map requests waiting for a second person; their JSON API.

Asking and deciding go through `tieout.entities.map_requests` (the same maker-checker, roles and audit as
corrections); every POST goes through `writer` (session + CSRF). The page only hides what a user may not do.

    POST /map-requests                                   ask (form; returns to the page it came from)
    POST /map-requests/{ref}/{approve|reject}            decide (form; returns to the corrections page)
    GET  /api/records/{system}/{source_id}/candidates    the candidates, evidence and explanation
    GET  /api/map-requests                               every map request, newest first
    POST /api/map-requests                               ask (JSON, X-CSRF-Token)
    POST /api/map-requests/{ref}/{approve|reject}        decide (JSON, X-CSRF-Token)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from tieout.errors import BadArgument, NotFound
from tieout.output import to_json
from tieout.systems import SYSTEMS
from tieout.web.auth import CurrentUser, User, Writer, current_user
from tieout.web.reads import Reads

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)
MAPPED_RULES = ("UNMAPPED_SOURCE_RECORD", "AMBIGUOUS_ENTITY_MATCH")


class JSON(Response):
    media_type = "application/json"


def may_ask(user: User) -> bool:
    from tieout.workflow.rules import authorise_correction

    return not user.anonymous and authorise_correction(user, "correct", None) is None


def may_decide(user: User) -> bool:
    from tieout.workflow.rules import authorise_correction

    return not user.anonymous and authorise_correction(user, "approve", None) is None


def _waiting(request: Request, system: str, source_id: str) -> list[Any]:
    from tieout.entities.map_requests import map_requests_list

    return [r for r in map_requests_list(request.app.state.project, status="pending")
            if r.source_system == system and r.source_id == source_id]


def record_mapping(request: Request, user: User, system: str, source_id: str) -> dict[str, Any]:
    """What the mapping section of a page shows for one record."""
    from tieout.entities.map_requests import default_effective_from

    reads: Reads = request.app.state.reads
    return {"found": reads.candidates(system, source_id), "waiting": _waiting(request, system, source_id),
            "may_ask": may_ask(user), "effective_from": default_effective_from(reads.project),
            "back": request.url.path}


def mapping_context(request: Request, user: User, e: dict[str, Any]) -> dict[str, Any]:
    """The exception page's mapping section: for an unmapped or ambiguous record only."""
    if e.get("rule") not in MAPPED_RULES or not e.get("source_system") or not e.get("source_id"):
        return {"mapping": None}
    return {"mapping": record_mapping(request, user, e["source_system"], e["source_id"])}


def entity_mapping_context(request: Request, user: User, canonical_id: str) -> dict[str, Any]:
    """The entity page's section: the records of the latest day that are ambiguous with this entity among their
    candidates, each with the evidence and "map to this entity"."""
    reads: Reads = request.app.state.reads
    records = [record_mapping(request, user, system, sid) for system, sid in reads.ambiguous_with(canonical_id)]
    return {"maybe_records": records, "entity_id": canonical_id}


def _back(path: str) -> str:
    """Only a path of this site to return to: never another host (`//evil`, `https://…`)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.post("/map-requests")
def ask_form(request: Request, user: Writer, source_system: Annotated[str, Form()] = "",
             source_id: Annotated[str, Form()] = "", canonical_id: Annotated[str, Form()] = "",
             new_entity: Annotated[str, Form()] = "", effective_from: Annotated[str, Form()] = "",
             reason: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/") -> Response:
    """Success: back to the page it came from, saying which request waits. A refusal: the error page. Each
    candidate's button sends its id (`canonical_id`); "Map to a new entity" sends `new_entity`."""
    from tieout.entities.map_requests import request_mapping

    target = None if new_entity else canonical_id
    made = request_mapping(request.app.state.project, source_system=source_system, source_id=source_id,
                           canonical_id=target, new_entity=bool(new_entity), effective_from=_date(effective_from),
                           reason=reason, who=user.name, evidence=_evidence(request, source_system, source_id, target),
                           signed_in=user)
    return RedirectResponse(f"{_back(back)}?mapped={made.ref}#mapping", status_code=status.HTTP_303_SEE_OTHER)


def _evidence(request: Request, system: str, source_id: str, canonical_id: str | None) -> str | None:
    """What the requester saw for the chosen entity, kept with the request for the approver: read on the server
    from the store, never taken from the form."""
    if canonical_id is None or system not in SYSTEMS:
        return None
    found = request.app.state.reads.candidates(system, source_id)
    chosen = [c for c in (found.candidates if found else []) if c.canonical_id == canonical_id]
    return "; ".join(e.describe() for c in chosen for e in c.evidence) or "no matching key"


def _date(text: str | None) -> date | None:
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(f"effective from: {text.strip()[:40]!r} is not a date (YYYY-MM-DD)") from None


def _request_id(ref_text: str) -> int:
    from tieout.entities.map_requests import parse_ref

    found = parse_ref(ref_text)
    if found is None:
        raise NotFound(f"no map request {ref_text!r} (they are named MR-1, MR-2, …)")
    return found


@router.post("/map-requests/{ref_text}/{decision}")
def decide_form(request: Request, ref_text: str, decision: Literal["approve", "reject"], user: Writer,
                comment: Annotated[str, Form()] = "") -> Response:
    from tieout.entities.map_requests import decide_mapping

    decided = decide_mapping(request.app.state.project, _request_id(ref_text), user.name, decision, comment=comment)
    return RedirectResponse(f"/corrections?done={decided.status}-{decided.ref}#map-requests",
                            status_code=status.HTTP_303_SEE_OTHER)


# --- JSON ------------------------------------------------------------------------------------------------------

@router.get("/api/records/{system}/{source_id:path}/candidates", tags=["api"], response_class=JSON,
            summary="The entities a source record may belong to, with the evidence for each")
def candidates_api(request: Request, system: str, source_id: str, user: CurrentUser) -> JSON:
    if system not in SYSTEMS:
        raise NotFound(f"no system {system!r} (expected one of {', '.join(SYSTEMS)})")
    reads: Reads = request.app.state.reads
    found = reads.candidates(system, source_id)
    if found is None or found.status is None:
        raise NotFound(f"no {system} record {source_id!r} on the latest reconciled day")
    return JSON(to_json({"as_of": reads.latest(), **found.as_dict()}, indent=None))


@router.get("/api/map-requests", tags=["api"], response_class=JSON, summary="The map requests, newest first")
def map_requests_api(request: Request, user: CurrentUser) -> JSON:
    from tieout.entities.map_requests import map_requests_list

    return JSON(to_json([r.as_dict() for r in map_requests_list(request.app.state.project)], indent=None))


class MapIn(BaseModel):
    source_system: str
    source_id: str
    canonical_id: str | None = None
    new_entity: bool = False
    effective_from: date | None = None
    reason: str


@router.post("/api/map-requests", tags=["api"], response_class=JSON,
             summary="Ask to map a source record to an entity, or to a new one (X-CSRF-Token)")
def ask_api(request: Request, user: Writer, body: Annotated[MapIn, Body()]) -> JSON:
    """200 with the `request` waiting for a second person; 403 not allowed, 404 unknown entity or record, 409 the
    map already places the record then (or a request for it waits), 422 malformed."""
    from tieout.entities.map_requests import request_mapping

    made = request_mapping(request.app.state.project, **body.model_dump(), who=user.name, signed_in=user,
                           evidence=_evidence(request, body.source_system, body.source_id, body.canonical_id))
    return JSON(to_json({"request": made.as_dict()}, indent=None))


class DecisionIn(BaseModel):
    comment: str | None = None


@router.post("/api/map-requests/{ref_text}/{decision}", tags=["api"], response_class=JSON,
             summary="Approve or reject a map request (not your own; X-CSRF-Token)")
def decide_api(request: Request, ref_text: str, decision: Literal["approve", "reject"], user: Writer,
               body: Annotated[DecisionIn | None, Body()] = None) -> JSON:
    """200 with the decided `request` (approved: its row is in the entity map); 403, 404, 409 as corrections."""
    from tieout.entities.map_requests import decide_mapping

    decided = decide_mapping(request.app.state.project, _request_id(ref_text), user.name, decision,
                             comment=body.comment if body else None)
    return JSON(to_json({"request": decided.as_dict()}, indent=None))
