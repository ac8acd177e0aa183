"""The XSS corpus (`corpus.XSS`) planted in exports (ids, legal names, domains, tax ids, display names), the
corrections log (reason, values, author, ticket), workflow comments and users' names, then looked for in every
web page (signed in as an admin), every report format and every notification body.

Each check is two-sided: nothing that came from a payload is an element or attribute (`html_check.findings`),
and every payload did reach the output — as text a reader sees — so an empty page cannot pass.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.security.corpus import XSS
from tests.security.hostile import ADMIN, DAY2, EXPORTED, PASSWORD, World, acted_on
from tests.security.html_check import findings, tags_written_by, text_of
from tests.test_notify import Receiver
from tests.web.flow import login_token, sign_in
from tieout.config import load_project
from tieout.reports import build as build_report
from tieout.reports import document, render
from tieout.rules.registry import load_rules

SRC = Path(__file__).resolve().parents[2] / "src" / "tieout"
WEB_TAGS = tags_written_by(*(SRC / "web" / "templates").glob("*.html"), SRC / "web" / "chart.py",
                           SRC / "web" / "format.py")
REPORT_TAGS = tags_written_by(SRC / "reports" / "templates" / "report.html.j2")
# What Markdown itself turns a report into (CommonMark with tables).
MARKDOWN_TAGS = {"h1", "h2", "p", "ul", "li", "strong", "em", "table", "thead", "tbody", "tr", "th", "td", "code",
                 "br", "hr"}
EXPORTED_XSS = [h for h in XSS if h in EXPORTED]


def test_the_corpus_is_large_and_varied() -> None:
    assert len(XSS) >= 30
    joined = "\n".join(XSS).lower()
    for kind in ("<script", "onerror=", "javascript:", "<svg", "{{7*7}}", "{%", "</textarea>", "</title>",
                 "<style", "&lt;", "&#60;", "\u202e", "＜"):
        assert kind in joined, kind


def _missing(text: str, payloads: list[str]) -> list[str]:
    return [h for h in payloads if h.strip() not in text]


# -- the web ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(hostile_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The signed-in app (`tieout serve`) over a copy of the world (signing in writes sessions)."""
    from tieout import state
    from tieout.web.app import create_app

    folder = tmp_path_factory.mktemp("xss-web") / "world"
    shutil.copytree(hostile_world.root, folder)
    client = TestClient(create_app(load_project(folder)), follow_redirects=False)
    sign_in(client, ADMIN, PASSWORD)
    yield client
    state.dispose_all()


def _get(client: TestClient, url: str, expect: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == expect, (url, response.status_code)
    assert response.headers["content-type"].startswith("text/html"), url
    return response.text


@pytest.fixture(scope="module")
def web_pages(web: TestClient, hostile_world: World) -> dict[str, str]:
    """Every HTML route, over objects that carry payloads: the queue, exception and entity pages, the
    timeline, the ownership page, the corrections page, the audit log, error pages that echo what was asked
    for, and the sign-in page given a hostile name and `next`."""
    pages: dict[str, str] = {}
    signed_out = TestClient(web.app, follow_redirects=False)
    for h in XSS[:8]:  # first, so that the audit page below lists these hostile names
        pages[f"login next {h}"] = _get(signed_out, f"/login?next={quote(h, safe='')}")
        failed = signed_out.post("/login", data={"name": h, "password": "wrong", "csrf": login_token(signed_out),
                                                 "next": h})
        pages[f"login failed {h}"] = failed.text
    everything = web.get("/api/exceptions?status=all").json()
    pages |= {url: _get(web, url) for url in ("/", "/?status=all", "/?assignee=%40evil", "/timeline", "/ownership",
                                             "/corrections", "/audit", "/?view=all&status=all", "/patterns")}
    # An exception page takes seconds: one of each rule and status, and those with comments and assignees.
    one_each = {(e["rule"], e["status"]): e["id"] for e in everything}
    for ident in sorted(set(one_each.values()) | set(acted_on(hostile_world))):
        pages[f"/exceptions/{ident}"] = _get(web, f"/exceptions/{ident}")
    # A quarter of the entities, and every one whose id holds "/" (opened by the link the pages write: Jinja's
    # urlencode keeps "/", and the route takes it — it answered 404 before).
    ids = sorted({e["canonical_id"] for e in everything if e["canonical_id"]})
    slashed = [cid for cid in ids if "/" in cid]
    assert slashed, "the hostile world plants ids holding '/'"
    for cid in sorted(set(ids[::4]) - set(slashed)):
        pages[f"/entities/{cid}"] = _get(web, f"/entities/{quote(cid, safe='')}")
    for cid in slashed:
        pages[f"/entities/{cid}"] = _get(web, f"/entities/{quote(cid, safe='/')}")
    for h in XSS[:8]:  # pages that echo what was asked for: not found, a bad filter
        pages[f"404 {h}"] = _get(web, f"/entities/{quote(h + 'nobody', safe='')}", 404)
        pages[f"404 exc {h}"] = _get(web, f"/exceptions/{quote(h, safe='')}", 404)
        pages[f"filter {h}"] = web.get(f"/?rule={quote(h, safe='')}").text
    return pages


def test_no_web_page_holds_an_element_or_attribute_from_a_payload(web_pages: dict[str, str]) -> None:
    found = {url: f for url, page in web_pages.items() if (f := findings(page, WEB_TAGS))}
    assert found == {}


def test_every_payload_reached_the_web_as_text(web_pages: dict[str, str]) -> None:
    text = "\n".join(text_of(p) for p in web_pages.values())
    assert _missing(text, XSS) == []  # names and ids (entity pages), reasons (corrections), comments
    assert "@evil" in text_of(web_pages["/?assignee=%40evil"])


def test_web_templates_escape_whatever_their_name() -> None:
    """Regression: Starlette escapes only *.html/*.htm/*.xml by default; a template named otherwise was not."""
    from tieout.web.app import templates

    env = templates().env
    for name in ("page.html", "page.j2", "page.txt", "page"):
        on = env.autoescape(name) if callable(env.autoescape) else env.autoescape
        assert on, name


# -- reports ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(hostile_world: World) -> dict[str, dict[str, Any]]:
    project = load_project(hostile_world.root)
    rules = load_rules(project)
    return {"daily": build_report(project, rules, "daily", as_of=DAY2),
            "weekly": build_report(project, rules, "weekly", as_of=DAY2),
            "monthly": build_report(project, rules, "monthly", as_of=DAY2)}


def _report_html(report: dict[str, Any]) -> tuple[str, set[str]]:
    """The report's HTML with its charts, and the elements it may hold: the template's and the charts'."""
    from tieout.reports.charts import charts_for, svg
    from tieout.reports.render import html

    svgs = {name: svg(spec) for name, spec in charts_for(report).items()}
    return html.render(document(report), svgs), REPORT_TAGS | tags_written_by(*svgs.values())


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def planted(report: dict[str, Any]) -> list[str]:
    """The payloads the report's data holds (its JSON form): what each rendering must show as text. The daily
    report names the entities whose exceptions changed; the monthly pack's corrections carry every payload."""
    found = _strings(json.loads(render(report, "json")))
    return [h for h in XSS if any(h in s for s in found)]


def test_the_reports_carry_the_payloads(reports: dict[str, dict[str, Any]]) -> None:
    assert len(planted(reports["daily"])) >= 10
    assert planted(reports["monthly"]) == XSS


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_html_reports_hold_no_element_from_a_payload(reports: dict[str, dict[str, Any]], kind: str) -> None:
    """Regression (stored XSS, High): `select_autoescape(["html"])` did not match `report.html.j2`."""
    page, allowed = _report_html(reports[kind])
    assert findings(page, allowed) == []
    assert _missing(text_of(page), planted(reports[kind])) == []


def _markdown_html(md: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))


def _broken_tables(md: str) -> list[str]:
    """The Markdown tables with a row whose number of cells differs from the header's (a payload's `|` opened
    a column, or its line break ended the row)."""
    cells = re.compile(r"(?<!\\)\|")
    broken = []
    for block in md.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows and {len(cells.findall(r)) for r in rows} != {len(cells.findall(rows[0]))}:
            broken.append(block[:200])
    return broken


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_markdown_reports_pass_no_raw_html_and_keep_their_tables(reports: dict[str, dict[str, Any]],
                                                                 kind: str) -> None:
    md = render(reports[kind], "md")
    as_html = _markdown_html(md)  # what a wiki or chat makes of it, raw HTML allowed
    assert findings(as_html, MARKDOWN_TAGS) == []
    assert _missing(text_of(as_html), planted(reports[kind])) == []
    assert _broken_tables(md) == []


def test_json_reports_carry_each_payload_unchanged(reports: dict[str, dict[str, Any]]) -> None:
    """JSON is data: escaping is its reader's job, so the text must arrive exactly as it was planted (the
    corrections' reasons are whole payloads)."""
    strings = _strings(json.loads(render(reports["monthly"], "json"), parse_float=Decimal))
    assert [h for h in XSS if h not in strings] == []


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_xlsx_reports_hold_each_payload_as_plain_text(reports: dict[str, dict[str, Any]], kind: str,
                                                      tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tieout.reports import write_xlsx

    write_xlsx(reports[kind], tmp_path / "r.xlsx")
    cells = [c for ws in load_workbook(tmp_path / "r.xlsx").worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = "\n".join(c.value for c in cells if c.data_type == "s")
    assert _missing(texts, planted(reports[kind])) == []


def test_chart_svg_escapes_hostile_labels() -> None:
    """vl-convert's SVG is inserted as markup: its text must be escaped, and anything active is refused."""
    from tieout.reports.charts import bars, svg
    from tieout.reports.render.html import checked_svg

    drawn = svg(bars([{"label": h, "value": i + 1} for i, h in enumerate(XSS)], label="label", value="value",
                     title=XSS[0]))
    assert findings(drawn, tags_written_by(drawn) - {"script", "img", "iframe", "object"}) == []
    assert checked_svg(drawn) == drawn
    for active in ('<svg><script>alert(1)</script></svg>', '<svg><g onload="alert(1)"/></svg>',
                   '<svg><a href="javascript:alert(1)">x</a></svg>', '<svg><foreignObject/></svg>'):
        with pytest.raises(ValueError):
            checked_svg(active)


# -- notifications ------------------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.mails.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture(scope="module")
def delivered(hostile_world: World, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
    """Every P1 message and the digest of day 2, sent to a local webhook and a local SMTP server."""
    from aiosmtpd.controller import Controller

    from tieout import state
    from tieout.notify.digest import send_digests
    from tieout.notify.p1 import notify_p1s

    folder = tmp_path_factory.mktemp("xss-notify") / "world"
    shutil.copytree(hostile_world.root, folder)
    receiver, inbox = Receiver(), _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with open(folder / "tieout.yml", "a", encoding="utf-8") as f:
            f.write(f"notifications:\n  channels:\n    ar: [\"json://127.0.0.1:{receiver.port}/hook\", "
                    f"\"mailto://127.0.0.1:{port}?from=tieout@example.com&to=ar@example.com\"]\n"
                    "  retries: 0\n  backoff_seconds: 0\n")
        project = load_project(folder)
        rules = load_rules(project)
        sent = notify_p1s(project, rules, DAY2) + send_digests(project, rules, as_of=DAY2)
        assert sent and all(o.ok for o in sent), sent
        yield receiver.posts, inbox.mails
    finally:
        smtp.stop()
        receiver.close()
        state.dispose_all()


def _sent(posts: list[dict[str, Any]]) -> list[str]:
    text = "\n".join(f"{p['title']}\n{p['message']}" for p in posts)
    return [h for h in EXPORTED_XSS if h in text]


def test_webhook_bodies_are_plain_text_carrying_each_payload_verbatim(
        delivered: tuple[list[dict[str, Any]], list[str]]) -> None:
    posts, _ = delivered
    assert posts and {p.get("type") for p in posts} <= {"info"}
    assert any(p["title"].startswith("tieout P1 — ") for p in posts)
    assert len(_sent(posts)) >= 10  # the P1s' entity ids, as sent: plain text, for the receiving end to escape


def test_email_bodies_hold_no_element_from_a_payload(delivered: tuple[list[dict[str, Any]], list[str]]) -> None:
    _, mails = delivered
    assert mails
    seen = []
    for raw in mails:
        mail = email.message_from_string(raw, policy=email.policy.default)
        assert len(mail.get_all("To", [])) == 1 and mail.get_all("Bcc") is None  # no header from a payload
        for part in mail.walk():
            if part.get_content_maintype() != "text":
                continue
            body = part.get_content()  # type: ignore[attr-defined]
            if part.get_content_subtype() == "html":
                assert findings(body, {"html", "head", "body", "p", "br", "pre", "div", "span"}) == []
                seen.append(text_of(body))
            else:
                assert part.get_content_subtype() == "plain"
                seen.append(body)
    assert _missing("\n".join(seen), _sent(delivered[0])) == []  # the same messages, by email


# -- the ownership document ---------------------------------------------------------------------------------


def test_the_ownership_document_escapes_a_hostile_registry(tmp_path: Path) -> None:
    """The registry is written by project members, but its text still reaches HTML and Markdown."""
    from tests.conftest import new_project
    from tieout.ownership.doc import html_page, markdown
    from tieout.ownership.model import load_registry

    hostile = " ¶ ".join(XSS)
    project_dir = new_project(tmp_path / "p", {})
    (project_dir / "ownership.yml").write_text(
        "fields:\n  legal_name:\n    kind: name\n    held_in: {crm: accounts.legal_name, billing: customers.name}\n"
        f"    owner: crm\n    description: {json.dumps(hostile)}\n    handoff: {json.dumps(hostile)}\n",
        encoding="utf-8")
    project = load_project(project_dir)
    registry = load_registry(project)
    page = html_page(registry, project)
    assert findings(page, tags_written_by(SRC / "ownership" / "doc.py")) == []
    assert _missing(text_of(page), XSS) == []
    md = markdown(registry, project)
    as_html = _markdown_html(md)
    assert findings(as_html, MARKDOWN_TAGS | {"pre"}) == []
    assert _broken_tables(md) == []
    assert md.count("| **legal_name**") == 1
