"""The queue page's cheaper rendering: each facet value's link worked out once per facet (`facet_links`) is the
very text `Filters.toggled(...).query()` gives, escaped; and the facets and the table, kept rendered with the
view's cached parts, are rendered anew after an action. (bench/queue_html.py compares whole pages byte for
byte between two versions of tieout.)"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from markupsafe import escape

from tests.web.flow import client_for
from tieout.config import Project
from tieout.web.queue import Facet, Filters, facet_links

FACETS = [
    Facet("status", "Status", [(v, v, 1, False) for v in ("open", "resolved", "all")]),
    Facet("workflow", "Workflow", [(v, v, 1, False) for v in ("open", "acknowledged", "assigned", "suppressed")]),
    Facet("severity", "Severity", [(v, v, 1, False) for v in ("P1", "P2", "P3", "INFO")]),
    Facet("team", "Team", [(v, v, 1, False) for v in ("ar", "a&b <team>", "x+y=z", "é \"q\" 'r'")]),
    Facet("rule", "Rule", [(v, v, 1, False) for v in ("CRM_ACTIVE_BILLING_INACTIVE", "FTE_THRESHOLD_DRIFT")]),
    Facet("classification", "Classification", [(v, v, 1, False) for v in ("pending", "structural")]),
    Facet("age", "Age", [(v, v, 1, False) for v in ("0-1", "2-7", "8-30", "31+")]),
]


@pytest.mark.parametrize("filters", [
    Filters(),
    Filters(view="all"),
    Filters(status="all", severity=("P1", "P2"), team=("a&b <team>",), sort="age"),
    Filters(view="all", status="resolved", workflow=("assigned",), rule=("FTE_THRESHOLD_DRIFT",), age=("31+",),
            classification=("pending", "structural"), q='acme & "co" <b>% +', as_of=date(2026, 2, 1),
            pattern="0123456789ab", page=7),
    Filters(team=("x+y=z", "é \"q\" 'r'"), page=2, sort="newest"),
])
def test_each_facet_link_is_the_toggled_filters_query_escaped(filters: Filters) -> None:
    links = facet_links(filters, FACETS)
    for facet in FACETS:
        assert links.cleared[facet.name] == escape(filters.cleared(facet.name).query())
        for value, *_ in facet.values:
            assert links.toggled[facet.name][value] == escape(filters.toggled(facet.name, value).query()), \
                (facet.name, value)


def _count(html: str, facet: str, value: str) -> int:
    found = re.search(rf'id="f-{facet}-{value}".*?<span class="count">(\d+)</span>', html, re.S)
    assert found is not None, (facet, value)
    return int(found.group(1))


def test_an_action_gives_new_facets_and_a_new_table(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    url = "/?view=all&team=ar"
    before = alice.get(url).text
    assert before == alice.get(url).text  # the second answer is the kept one, the same
    ident = re.findall(r'class="id mono">([0-9a-f]{16})<', before)[0]
    acknowledged = _count(before, "workflow", "acknowledged")
    version = alice.get(f"/api/exceptions/{ident}/actions").json()["status"]["version"]
    done = alice.post(f"/api/exceptions/{ident}/actions", json={"kind": "ack", "expected_version": version},
                      headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    after = alice.get(url).text
    assert _count(after, "workflow", "acknowledged") == acknowledged + 1
    row = after.split(f'class="id mono">{ident}<')[1].split("</tr>")[0]
    assert "wf-acknowledged" in row
    assert f'value="{ident}:{version + 1}"' in after
