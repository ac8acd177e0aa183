"""How values look on a page: money with its currency and thousands separators, ISO dates, record cells.

Money stays Decimal here too: the digits come from `tieout.output.money` (two decimals when exact, else every
significant digit), never through a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from tieout.currencies import exponent
from tieout.entity_names import subject as entity_subject
from tieout.output import digits
from tieout.output import money as exact
from tieout.systems import title

# Record columns holding an amount in the currency named by the row's `currency` column.
AMOUNT_COLUMNS = frozenset({"annual_value", "amount"})
SEVERITY_CLASS = {"P1": "sev-p1", "P2": "sev-p2", "P3": "sev-p3", "INFO": "sev-info"}


def number(value: Decimal | int | None) -> str:
    """`12,500.00`, `0.3333` — grouped, exact."""
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    shown = exact(value)
    places = max(2, -int(shown.as_tuple().exponent))
    return f"{shown:,.{places}f}"


def money(value: Decimal | None, currency: str | None) -> str:
    """`USD 12,500.00`: the currency first, as finance writes it in a table. For amounts in the reporting
    currency (impacts, totals), which keep at least two decimals (`tieout.output.format_reporting`)."""
    if value is None:
        return ""
    return f"{currency} {number(value)}" if currency else number(value)


def amount(value: Decimal | None, currency: str | None) -> str:
    """`JPY 1,500`, `KWD 12.345`, `EUR 10,000.00`: an amount in its own currency, with that currency's
    decimals (ISO 4217), none rounded away."""
    if value is None:
        return ""
    return f"{currency} {digits(value, exponent(currency))}" if currency else number(value)


def original(e: dict[str, Any] | Any) -> Markup:
    """Beneath an impact, the amount in the records' own currency when it has one (`EUR 10,000.00`)."""
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k, None)
    value, currency = get("original_amount"), get("original_currency")
    if value is None or not currency:
        return Markup("")
    return Markup('<span class="original" title="in the records\' own currency">{}</span>').format(
        amount(value, currency))


def iso(value: date | datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cell(value: Any, column: str = "", row: dict[str, Any] | None = None) -> str:
    """A record's value as text: amounts with the row's currency, dates ISO, lists joined."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column in AMOUNT_COLUMNS and row is not None and row.get("currency"):
            return amount(value, row["currency"])
        return number(value)
    if isinstance(value, date | datetime):
        return iso(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def system(name: str | None) -> str:
    return title(name)


def subject(e: dict[str, Any] | Any) -> str:
    """What an exception is about, in one line: `Acme Inc. (C00042) · billing · legal_name` or
    `billing:cus_1` (tieout.entity_names.subject)."""
    return entity_subject(e)


def code_spans(text: str) -> Markup:
    """Escape `text`, then show its `backticked` parts as code (the ownership document's convention)."""
    parts = escape(text).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


def breakable(text: str | None) -> Markup:
    """`RULE_NAME` with a line-break opportunity after each underscore, so long names wrap in narrow columns."""
    return Markup(str(escape(text or "")).replace("_", "_<wbr>"))


# The chips and the subject of an exception, as the queue's rows and the other pages show them: built here, once,
# for _macros.html's macros of the same names (`sev`, `cls`, `status`, `flow_chip`, `subject_link`) and for the
# queue's table, which calls these directly — fifty rows a page, five macro calls a row were half its rendering.
# Every value is escaped as the templates' autoescape would, and a missing attribute prints as Jinja's undefined
# does (nothing).

_MISSING = object()


def _attr(e: Any, name: str) -> Any:
    """`e.name` as a template reads it: an attribute, else a key of a mapping, else missing."""
    value = getattr(e, name, _MISSING)
    if value is _MISSING and isinstance(e, dict):
        value = e.get(name, _MISSING)
    return value


def _text(value: Any) -> Markup:
    return Markup("") if value is _MISSING else escape(value)


def _truthy(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def sev_chip(s: Any) -> Markup:
    return Markup(f'<span class="chip {escape(SEVERITY_CLASS.get(s, "sev-info"))}">{escape(s)}</span>')


def cls_chip(c: Any) -> Markup:
    text = escape(c)
    return Markup(f'<span class="chip cls cls-{text}">{text}</span>')


def status_chip(e: Any) -> Markup:
    if _attr(e, "status") == "open":
        return Markup('<span class="status-open">open</span>')
    resolved = _attr(e, "resolved_on")
    return Markup(f'<span class="status-resolved">resolved {escape(iso(None if resolved is _MISSING else resolved))}'
                  "</span>")


def flow_chip(flow: Any) -> Markup:
    state = _attr(flow, "state")
    if state == "open":
        return Markup("")
    out = f'<span class="chip wf wf-{_text(state)}">{_text(_attr(flow, "label"))}</span>'
    until = _attr(flow, "suppressed_until")
    if state == "suppressed" and _truthy(until):
        out += f'<span class="small muted until">to {escape(iso(until))}</span>'
    return Markup(out)


def subject_link(e: Any) -> Markup:
    """The entity by its name (an export value: escaped), its id beside it; a record of no entity by its own name."""
    from jinja2.filters import do_urlencode

    canonical, name, field = _attr(e, "canonical_id"), _attr(e, "entity_name"), _attr(e, "field")
    code = f" · <code>{escape(field)}</code>" if _truthy(field) else ""
    if _truthy(canonical):
        cid = escape(canonical)
        shown = (f'<span class="entity-name">{escape(name)}</span> <span class="entity-id mono">{cid}</span>'
                 if _truthy(name) else cid)
        out = f'<a href="/entities/{escape(do_urlencode(canonical))}">{shown}</a>'
        source = _attr(e, "source_system")
        if _truthy(source):
            out += f" · {escape(system(source))}"
        return Markup(out + code)
    named = f'<span class="entity-name">{escape(name)}</span> ' if _truthy(name) else ""
    return Markup(f'{named}<span class="mono">{_text(_attr(e, "source_system"))}:{_text(_attr(e, "source_id"))}'
                  f"</span>{code}")
