"""The queue in pages: the queue page shows PAGE_ROWS rows of its view at a time, `GET /api/exceptions` takes
`limit` and `offset`; the pages together are the whole view, in its order, and the facets and counts still
count the whole view."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

import tieout.web.pages as pages
import tieout.web.queue_view as queue_view


def _ids(html: str) -> list[str]:
    body = html.split('<table class="queue-table">')[1].split("</table>")[0] if "queue-table" in html else ""
    return re.findall(r'class="id mono">([0-9a-f]{16})<', body)


@pytest.fixture
def rows_of(monkeypatch: pytest.MonkeyPatch) -> int:
    """Pages of 3 rows: the shared world's queue spans several."""
    monkeypatch.setattr(queue_view, "PAGE_ROWS", 3)
    monkeypatch.setattr(pages, "PAGE_ROWS", 3)
    return 3


def test_the_pages_of_the_queue_are_its_whole_view_in_order(client: TestClient, rows_of: int) -> None:
    query = "view=all&status=all&sort=age"
    every = [e["id"] for e in client.get(f"/api/exceptions?{query}").json()]
    assert len(every) > 2 * rows_of
    first = client.get(f"/?{query}").text
    assert _ids(first) == every[:rows_of]
    pages_count = -(-len(every) // rows_of)
    assert f"rows 1–{rows_of} of {len(every)} · page 1 of {pages_count}" in first
    assert 'id="page-previous"' not in first and 'id="page-next"' in first
    seen = []
    for page in range(1, pages_count + 1):
        html = client.get(f"/?{query}&page={page}").text
        seen += _ids(html)
        assert ('id="page-next"' in html) == (page < pages_count)
        assert f"<strong>{len(every)} " in html  # the summary counts the whole view, not the page
    assert seen == every
    assert _ids(client.get(f"/?{query}&page={pages_count + 1}").text) == []  # past the end: no row, no error


def test_a_filter_or_a_sort_goes_back_to_the_first_page(client: TestClient, rows_of: int) -> None:
    html = client.get("/?view=all&status=all&page=2").text
    links = re.findall(r'href="/(\?[^"]*)"', html)
    facet_links = [link for link in links if "severity=" in link or "sort=" in link]
    assert facet_links and not [link for link in facet_links if "page=" in link]
    assert any("page=3" in link for link in links) and any("page=" not in link for link in links)


def test_the_api_pages_with_limit_and_offset(client: TestClient) -> None:
    every = [e["id"] for e in client.get("/api/exceptions?status=all").json()]
    assert len(every) > 4
    assert [e["id"] for e in client.get("/api/exceptions?status=all&limit=2").json()] == every[:2]
    assert [e["id"] for e in client.get("/api/exceptions?status=all&limit=2&offset=3").json()] == every[3:5]
    assert [e["id"] for e in client.get("/api/exceptions?status=all&offset=4").json()] == every[4:]
    assert client.get(f"/api/exceptions?status=all&offset={len(every)}").json() == []


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=ten", "offset=-2", "page=0", "page=x"])
def test_a_bad_page_limit_or_offset_is_named(client: TestClient, query: str) -> None:
    response = client.get(f"/api/exceptions?{query}")
    assert response.status_code == 422
    assert json.loads(response.text)["detail"].startswith(query.split("=")[0] + ":")
