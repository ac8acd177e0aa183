"""The screens: the queue, an exception, an entity's 360, the timeline chart, the ownership registry.

Each handler gathers through `Reads` (the library, cached) and renders one template; none computes a rule,
an episode or a classification itself. The queue answers an htmx request that targets its panel with the
panel alone, and any other request with the whole page — so every filter is an ordinary link as well.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from tieout.errors import NotFound
from tieout.ownership.catalogue import CONDITIONS
from tieout.ownership.doc import TITLE, handoffs, mermaid, rows
from tieout.sources.layout import BY_TABLE
from tieout.state.tables import KINDS
from tieout.systems import SYSTEMS
from tieout.web.auth import CurrentUser, User, current_user
from tieout.web.chart import CLASS_COLOURS, PALETTE, Series, stacked_bars
from tieout.web.exception_workflow import workflow_context
from tieout.web.mapping import entity_mapping_context, mapping_context
from tieout.web.queue import (
    AGE_LABELS,
    NO_FLOW,
    SORTS,
    Filters,
    age,
    facets,
    flows,
    parse_as_of,
    total_impact,
)
from tieout.web.reads import Reads

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)
PANEL = "queue-panel"
# The column that identifies a row of each export table, to find a record's cell among the owned-field marks.
ROW_ID = {t: spec.primary_key[0] for t, spec in BY_TABLE.items()}


def _render(request: Request, name: str, user: User, nav: str | None, status_code: int = 200,
            **context: Any) -> Response:
    reads: Reads = request.app.state.reads
    context.setdefault("as_of", reads.latest())
    return request.app.state.templates.TemplateResponse(request, name, {
        "user": user, "nav": nav, "project_name": reads.project.root.name, "latest": reads.latest(),
        "csrf": getattr(request.state, "csrf", ""), **context}, status_code=status_code)


@router.get("/", name="queue")
def queue(request: Request, user: CurrentUser) -> Response:
    reads: Reads = request.app.state.reads
    filters = Filters.parse(request.query_params, rules=reads.rules())
    day = filters.as_of or reads.latest()
    every = reads.exceptions(filters.as_of) if day is not None else []
    flow = flows(reads.project, every)
    shown = filters.apply(every, day, flow) if day is not None else []
    partial = (request.headers.get("HX-Target") == PANEL
               and request.headers.get("HX-History-Restore-Request") != "true")
    return _render(request, "queue_panel.html" if partial else "queue.html", user, "queue",
                   filters=filters, shown=shown, facets=facets(filters, every, day, flow) if day else [],
                   flows=flow, no_flow=NO_FLOW,
                   ages={e.id: age(e, day) for e in shown} if day else {}, total=total_impact(shown),
                   currency=reads.project.reporting_currency, sorts=SORTS, age_labels=AGE_LABELS, panel=PANEL,
                   as_of=day, days=reads.days())


@router.get("/exceptions/{ident}", name="exception")
def exception_route(request: Request, ident: str, user: CurrentUser) -> Response:
    return exception_page(request, ident, user)


def exception_page(request: Request, ident: str, user: User, *, flash: dict[str, Any] | None = None,
                   status_code: int = 200) -> Response:
    """The exception's story and its workflow; `flash` carries a refused action's message back to the form."""
    as_of = parse_as_of(request.query_params.get("as_of"))
    found = request.app.state.reads.exception(ident, as_of)
    if found is None:
        raise NotFound(f"no exception {ident!r}" + (f" on or before {as_of}" if as_of else ""))
    story, owned = found
    done = request.query_params.get("done")
    return _render(request, "exception.html", user, "queue", status_code=status_code, story=story,
                   e=story["exception"], owned=owned, systems=SYSTEMS, row_id=ROW_ID,
                   as_of=as_of or request.app.state.reads.latest(), flash=flash or {},
                   done=done if done in KINDS else None, **workflow_context(request, ident, user),
                   **mapping_context(request, user, story["exception"]), mapped=request.query_params.get("mapped"))


@router.get("/entities/{canonical_id:path}", name="entity")
def entity_page(request: Request, canonical_id: str, user: CurrentUser) -> Response:
    as_of = parse_as_of(request.query_params.get("as_of"))
    story, records, owned = request.app.state.reads.entity(canonical_id, as_of)
    return _render(request, "entity.html", user, "queue", story=story, records=records, owned=owned,
                   systems=SYSTEMS, row_id=ROW_ID, currency=request.app.state.reads.project.reporting_currency,
                   as_of=as_of or request.app.state.reads.latest(), mapped=request.query_params.get("mapped"),
                   **entity_mapping_context(request, user, canonical_id))


@router.get("/timeline", name="timeline")
def timeline_page(request: Request, user: CurrentUser) -> Response:
    reads: Reads = request.app.state.reads
    daily = reads.daily()
    dates = [d.date for d in daily]
    rules = sorted({r for d in daily for r in d.by_rule})
    by_rule = [Series(r, [d.by_rule.get(r, 0) for d in daily], PALETTE[i % len(PALETTE)])
               for i, r in enumerate(rules)]
    # Timing never counts as open (it needs a resolution), so it is not a series here.
    by_class = [Series(c, [d.by_classification.get(c, 0) for d in daily], CLASS_COLOURS[c])
                for c in ("structural", "pending", "ownership")]
    return _render(request, "timeline.html", user, "timeline", daily=daily, by_rule=by_rule, by_class=by_class,
                   rule_chart=stacked_bars(dates, by_rule, label="Open exceptions per day, by rule"),
                   class_chart=stacked_bars(dates, by_class, label="Open exceptions per day, by classification"))


@router.get("/ownership", name="ownership")
def ownership_page(request: Request, user: CurrentUser) -> Response:
    reads: Reads = request.app.state.reads
    registry = reads.registry()
    used = sorted({h.when for f in registry.fields.values() for h in f.after})
    source = (str(registry.path.relative_to(reads.project.root)) if registry.path is not None
              and registry.path.is_relative_to(reads.project.root) else registry.source)
    return _render(request, "ownership.html", user, "ownership", title=TITLE, rows=rows(registry, reads.project),
                   handoffs=handoffs(registry), mermaid=mermaid(registry), source=source,
                   conditions=[(c, CONDITIONS[c].description) for c in used])
