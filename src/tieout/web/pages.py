"""The screens: the queue, an exception, an entity's 360, the timeline chart, the ownership registry.

Each handler gathers through `Reads` (the library, cached) and renders one template; none computes a rule,
an episode or a classification itself. The queue answers an htmx request that targets its panel with the
panel alone, and any other request with the whole page — so every filter is an ordinary link as well.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from tieout.due import due_of
from tieout.errors import NotFound
from tieout.links import record_url
from tieout.ownership.catalogue import CONDITIONS
from tieout.ownership.doc import TITLE, handoffs, mermaid, rows
from tieout.sources.layout import BY_TABLE
from tieout.state.tables import KINDS
from tieout.systems import SYSTEMS
from tieout.web.auth import CurrentUser, User, current_user
from tieout.web.bulk_report import BulkReport, bulk_choices, done_report
from tieout.web.chart import CLASS_COLOURS, PALETTE, Series, stacked_bars
from tieout.web.exception_workflow import workflow_context
from tieout.web.mapping import entity_mapping_context, mapping_context
from tieout.web.queue import (
    AGE_LABELS,
    NO_FLOW,
    PAGE_ROWS,
    SORTS,
    VIEWS,
    Filters,
    facet_links,
    parse_as_of,
)
from tieout.web.queue_view import QueueView, read_view, view_at_risk, view_facets, view_whose
from tieout.web.reads import Reads

if TYPE_CHECKING:
    from tieout.patterns import Pattern

router = APIRouter(dependencies=[Depends(current_user)], default_response_class=HTMLResponse)
PANEL = "queue-panel"
# The column that identifies a row of each export table, to find a record's cell among the owned-field marks.
ROW_ID = {t: spec.primary_key[0] for t, spec in BY_TABLE.items()}


def render_page(request: Request, name: str, user: User, nav: str | None, status_code: int = 200,
            **context: Any) -> Response:
    reads: Reads = request.app.state.reads
    context.setdefault("as_of", reads.latest())
    return request.app.state.templates.TemplateResponse(request, name, {
        "user": user, "nav": nav, "project_name": reads.project.root.name, "latest": reads.latest(),
        "csrf": getattr(request.state, "csrf", ""), **context}, status_code=status_code)


@router.get("/", name="queue")
def queue(request: Request, user: CurrentUser) -> Response:
    return queue_page(request, user)


def queue_page(request: Request, user: User, *, bulk: BulkReport | None = None, status_code: int = 200) -> Response:
    """The queue of the request's view and filters; `bulk`: what a bulk action just did, shown above the table."""
    reads: Reads = request.app.state.reads
    view = read_view(request, user)
    filters, day, flow, shown = view.filters, view.day, view.flows, view.shown
    total, open_shown = view_at_risk(request, view)
    partial = (request.headers.get("HX-Target") == PANEL
               and request.headers.get("HX-History-Restore-Request") != "true")
    choices = bulk_choices(reads.project, user)
    return render_page(request, "queue_panel.html" if partial else "queue.html", user, "queue", status_code=status_code,
                   filters=filters, shown=shown, facets_html=_facets_html(request, view),
                   table_html=_table_html(request, view, bool(choices["bulk_kinds"])) if day and shown else "",
                   flows=flow, view=view, views=VIEWS, bulk=bulk or done_report(request),
                   total=total, open_shown=open_shown,
                   currency=reads.project.reporting_currency, sorts=SORTS, age_labels=AGE_LABELS, panel=PANEL,
                   as_of=day, days=reads.days(), page_rows=PAGE_ROWS, **choices)


# The queue page's facets and table are rendered apart and kept with the view's cached parts (Reads.fragment):
# twenty people paging through the same views render each once per store version and workflow, and what is
# rendered per request is the page around them (the user, the CSRF token, the bulk form, the counts).

def _fragment(request: Request, name: str, context: dict[str, Any]) -> Markup:
    return Markup(request.app.state.templates.get_template(name).render(context))


def _facets_html(request: Request, view: QueueView) -> Markup:
    """The queue's filters (`_queue_facets.html`) for `view`: the facets' counts depend on the view's key
    (`view_facets`), their links on the whole filters."""
    reads: Reads = request.app.state.reads

    def render() -> Markup:
        found = view_facets(request, view)
        return _fragment(request, "_queue_facets.html", {
            "facets": found, "filters": view.filters, "links": facet_links(view.filters, found)})

    return reads.fragment(("facets", view.basis, *view_whose(view), view.filters), render)


def _table_html(request: Request, view: QueueView, may_act: bool) -> Markup:
    """The queue's table (`_queue_table.html`): the page's rows of `view` — their workflow (in the view's key),
    due dates (the as-of day and the SLA, in the store's version) and links (the whole filters) — with a
    checkbox each when the user may act."""
    reads: Reads = request.app.state.reads

    def render() -> Markup:
        return _fragment(request, "_queue_table.html", {
            "filters": view.filters, "view": view, "flows": view.flows, "no_flow": NO_FLOW,
            "bulk_kinds": may_act})

    return reads.fragment(("table", view.basis, *view_whose(view), view.filters, may_act), render)


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
    reads: Reads = request.app.state.reads
    view = read_view(request, user)
    current = next((x for x in reads.exceptions(view.filters.as_of) if x.id == ident), None)
    before, after, position = view.neighbours(ident, current)
    e = story["exception"]
    return render_page(request, "exception.html", user, "queue", status_code=status_code, story=story,
                   e=e, owned=owned, systems=SYSTEMS, row_id=ROW_ID,
                   as_of=as_of or reads.latest(), flash=flash or {},
                   done=done if done in KINDS else None, filters=view.filters, views=VIEWS, view=view,
                   before=before, after=after, position=position,
                   due=due_of(current, reads.project.sla, view.day) if current is not None and view.day else None,
                   links=reads.project.links, record_url=record_url, **workflow_context(request, ident, user),
                   **mapping_context(request, user, e), mapped=request.query_params.get("mapped"))


@router.get("/entities/{canonical_id:path}", name="entity")
def entity_page(request: Request, canonical_id: str, user: CurrentUser) -> Response:
    as_of = parse_as_of(request.query_params.get("as_of"))
    story, records, owned = request.app.state.reads.entity(canonical_id, as_of)
    return render_page(request, "entity.html", user, "queue", story=story, records=records, owned=owned,
                   systems=SYSTEMS, row_id=ROW_ID, currency=request.app.state.reads.project.reporting_currency,
                   links=request.app.state.reads.project.links, record_url=record_url,
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
    return render_page(request, "timeline.html", user, "timeline", daily=daily, by_rule=by_rule, by_class=by_class,
                   rule_chart=stacked_bars(dates, by_rule, label="Open exceptions per day, by rule"),
                   class_chart=stacked_bars(dates, by_class, label="Open exceptions per day, by classification"))


@router.get("/patterns", name="patterns")
def patterns_page(request: Request, user: CurrentUser) -> Response:
    """What `tieout patterns` shows, each pattern linking to its exceptions in the queue."""
    from tieout.cli.patterns import signature_text
    from tieout.patterns.calendar import strip

    reads: Reads = request.app.state.reads
    as_of = parse_as_of(request.query_params.get("as_of"))
    report = reads.patterns(as_of)

    def calendar(p: Pattern) -> list[Any]:  # the weeks of the pattern's trend
        return strip(p, p.trend[0].start, p.trend[-1].start, report.as_of or p.last_seen)

    return render_page(request, "patterns.html", user, "patterns", report=report, as_of=report.as_of,
                   changed=signature_text, strip=calendar, queue_link=lambda p: pattern_queue(p, as_of))


def pattern_queue(p: Pattern, as_of: date | None) -> str:
    """The queue of a pattern's exceptions: every team's, open or resolved, as of the page's day."""
    return "/" + Filters(view="all", status="all", pattern=p.id, as_of=as_of).query()


@router.get("/ownership", name="ownership")
def ownership_page(request: Request, user: CurrentUser) -> Response:
    reads: Reads = request.app.state.reads
    registry = reads.registry()
    used = sorted({h.when for f in registry.fields.values() for h in f.after})
    source = (str(registry.path.relative_to(reads.project.root)) if registry.path is not None
              and registry.path.is_relative_to(reads.project.root) else registry.source)
    return render_page(request, "ownership.html", user, "ownership", title=TITLE, rows=rows(registry, reads.project),
                   handoffs=handoffs(registry), mermaid=mermaid(registry), source=source,
                   conditions=[(c, CONDITIONS[c].description) for c in used])
