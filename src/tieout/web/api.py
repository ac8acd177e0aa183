"""The JSON API under /api/ for other tools: the same data and keys as the CLI's `--format json`.

Amounts are exact JSON numbers (written from the Decimal's digits by `tieout.output.to_json`, never through
a float — FastAPI's own encoder would turn a Decimal into a float), dates ISO strings.

    GET /api/exceptions            the queue; the queue page's filters as query parameters
    GET /api/exceptions/{id}       one exception, as `tieout show ID --format json`, with its owned fields
    GET /api/entities/{id}         one entity, as `tieout show CANONICAL_ID --format json`, with its records
    GET /api/timeline              open exceptions per stored day, as `tieout timeline --format json`
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from tieout.cli.timeline import day_record
from tieout.errors import NotFound
from tieout.output import to_json
from tieout.story import exception_record
from tieout.web.auth import CurrentUser, current_user
from tieout.web.fields import OwnedFields
from tieout.web.queue import count, parse_as_of
from tieout.web.queue_view import read_view
from tieout.web.reads import Reads

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(current_user)])


class JSON(Response):
    media_type = "application/json"


def _json(value: Any) -> JSON:
    return JSON(to_json(value, indent=None))


def _reads(request: Request) -> Reads:
    return request.app.state.reads  # type: ignore[no-any-return]


def fields_json(owned: OwnedFields) -> dict[str, Any]:
    return {"day": owned.day, "unavailable": owned.unavailable,
            "fields": [{**asdict(f), "differs": f.differs} for f in owned.fields]}


@router.get("/exceptions", summary="The exception queue, filtered and sorted")
def list_exceptions(
    request: Request,
    user: CurrentUser,
    status: Annotated[str, Query(description="open, resolved or all")] = "open",
    workflow: Annotated[list[str] | None, Query(description="open (not acted on), acknowledged, assigned, "
                                                "pending_approval, suppressed, resolved (repeatable)")] = None,
    severity: Annotated[list[str] | None, Query(description="P1, P2, P3, INFO (repeatable)")] = None,
    team: Annotated[list[str] | None, Query(description="repeatable")] = None,
    rule: Annotated[list[str] | None, Query(description="repeatable")] = None,
    classification: Annotated[list[str] | None,
                              Query(description="pending, structural, timing, ownership (repeatable)")] = None,
    age: Annotated[list[str] | None, Query(description="0-1, 2-7, 8-30, 31+ days open (repeatable)")] = None,
    q: Annotated[str, Query(description="text in the id, rule, field, team or details, or in the entity: a name "
                                        "(any case, accents or not), canonical id, source id, domain or tax id")] = "",
    sort: Annotated[str, Query(description="impact, severity, age or newest")] = "impact",
    as_of: Annotated[str | None, Query(description="the queue as it stood on this day (YYYY-MM-DD)")] = None,
    view: Annotated[str, Query(description="all (every team's) or mine (the signed-in user's teams, assigned "
                                           "to them or to nobody)")] = "all",
    pattern: Annotated[str | None, Query(description="only the exceptions of this `tieout patterns` id")] = None,
    limit: Annotated[str | None, Query(description="at most this many exceptions (a page; default: every one)")]
    = None,
    offset: Annotated[str, Query(description="leave out this many first (the pages before)")] = "0",
) -> JSON:
    """The keys of `tieout exceptions --format json`, in its order (`age_days`, `due_on` and `overdue`
    included); `impact` an exact decimal number. The parameters above document the query string; it is parsed
    once, by the queue's own `Filters.parse` (`limit` and `offset` here: they page the list it gives)."""
    found = read_view(request, user, default_view="all")
    start = count("offset", offset)
    end = None if limit is None else start + count("limit", limit, least=1)
    return _json([{**exception_record(e), **found.due[e.id].as_dict()} for e in found.shown[start:end]])


@router.get("/exceptions/{ident}", summary="One exception's story")
def get_exception(request: Request, ident: str, as_of: str | None = None) -> JSON:
    found = _reads(request).exception(ident, parse_as_of(as_of))
    if found is None:
        raise NotFound(f"no exception {ident!r}")
    story, owned = found
    return _json({**story, "owned_fields": fields_json(owned)})


@router.get("/entities/{canonical_id:path}", summary="One entity's 360")
def get_entity(request: Request, canonical_id: str, as_of: str | None = None) -> JSON:
    story, records, owned = _reads(request).entity(canonical_id, parse_as_of(as_of))
    return _json({**story, "records": records, "owned_fields": fields_json(owned)})


@router.get("/timeline", summary="Open exceptions per stored day, by rule and classification")
def get_timeline(request: Request) -> JSON:
    return _json([day_record(d) for d in _reads(request).daily()])
