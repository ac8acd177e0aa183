"""Write the HTML of many queue pages to a folder, to compare two versions of tieout byte for byte.

    python bench/queue_html.py --project bench/out/history-100000x30 --out /tmp/html-branch
    PYTHONPATH=<other>/src python bench/queue_html.py --project bench/out/history-100000x30 --out /tmp/html-main
    diff -r /tmp/html-main /tmp/html-branch && echo identical

The pages: the queue in each view, sort, status, workflow state, severity, classification, age bucket, team
and rule, searched, as of the first stored day, on page 2 and past the last page, and the htmx panel alone;
then a dozen exception and entity pages, the patterns and the review (the pages sharing the queue's chips) —
for the anonymous reader (`create_app(auth=False)`) and for every user of the project's state database,
signed in (a session started directly; its CSRF token, random, is written as `CSRF`). Each page is asked for
twice and the second answer must equal the first (what a page's cached parts give); a difference is reported
and the exit status is 1. Writes files; times nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient

from tieout.config import load_project
from tieout.web.app import create_app


def _urls(client: TestClient) -> list[tuple[str, dict[str, str]]]:
    """(path with query, extra headers): the pages to write, from what the project holds."""
    every = client.get("/api/exceptions?status=all&limit=100000").json()
    teams = sorted({e["team"] for e in every if e.get("team")})
    rules = sorted({e["rule"] for e in every})
    names = [e["entity_name"] for e in every if e.get("entity_name")]
    days = client.get("/api/timeline").json()
    queries: list[list[tuple[str, str]]] = [[]]
    for view in ("mine", "all"):
        for sort in ("impact", "severity", "age", "newest"):
            for status in ("open", "all", "resolved"):
                queries.append([("view", view), ("sort", sort), ("status", status)])
    for state in ("open", "acknowledged", "assigned", "pending_approval", "suppressed", "resolved"):
        queries.append([("view", "all"), ("status", "all"), ("workflow", state)])
    for severity in ("P1", "P2", "P3", "INFO"):
        queries.append([("view", "all"), ("severity", severity)])
    queries.append([("view", "all"), ("severity", "P1"), ("severity", "P2")])
    for classification in ("pending", "structural", "timing", "ownership"):
        queries.append([("view", "all"), ("status", "all"), ("classification", classification)])
    for bucket in ("0-1", "2-7", "8-30", "31+"):
        queries.append([("view", "all"), ("age", bucket)])
    for team in teams[:4]:
        queries.append([("view", "all"), ("team", team)])
        queries.append([("team", team), ("sort", "age")])
    for rule in rules[:6]:
        queries.append([("view", "all"), ("status", "all"), ("rule", rule)])
    if names:
        queries.append([("view", "all"), ("q", names[0][:6])])
        queries.append([("view", "all"), ("status", "all"), ("q", names[-1])])
    queries.append([("view", "all"), ("q", "no such thing at all")])
    if days:
        queries.append([("view", "all"), ("as_of", days[0]["date"])])
    queries += [[("page", "2")], [("view", "all"), ("page", "2")], [("view", "all"), ("page", "100000")],
                [("view", "all"), ("status", "all"), ("page", "3"), ("sort", "newest")]]
    urls = [("/" + (f"?{urlencode(q)}" if q else ""), {}) for q in queries]
    urls += [("/?view=all", {"HX-Request": "true", "HX-Target": "queue-panel"}),
             ("/?view=all&severity=P1", {"HX-Request": "true", "HX-Target": "queue-panel"})]
    # the other pages that show the same chips and subjects (tieout.web.format): exceptions, entities, patterns
    picked = every[:: max(1, len(every) // 12)][:12]
    urls += [(f"/exceptions/{e['id']}?view=all", {}) for e in picked]
    urls += [(f"/entities/{quote(e['canonical_id'], safe='/')}", {}) for e in picked if e.get("canonical_id")]
    urls += [("/patterns", {}), ("/review", {})]
    return urls


def _write(client: TestClient, out: Path, who: str, secrets: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    differ = 0
    for i, (url, headers) in enumerate(_urls(client)):
        first = client.get(url, headers=headers)
        second = client.get(url, headers=headers)
        text = first.text
        for secret in secrets:
            text = text.replace(secret, "CSRF")
        (out / f"{i:03d}.html").write_text(f"<!-- {who} GET {url} {headers} -> {first.status_code} -->\n{text}",
                                            encoding="utf-8")
        if (first.status_code, first.content) != (second.status_code, second.content):
            print(f"{who} {url}: the second answer differs from the first", file=sys.stderr)
            differ += 1
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--users", type=int, default=8, help="at most this many of the state database's users")
    args = parser.parse_args()
    project = load_project(args.project)
    differ = 0
    with TestClient(create_app(project, auth=False)) as anonymous:
        differ += _write(anonymous, args.out / "anonymous", "anonymous", [])
    from tieout.people import sessions
    from tieout.people.users import list_users

    app = create_app(project)
    users = list_users(project)[:args.users]
    for user in users:
        token, csrf = sessions.start(project, user.name)
        with TestClient(app, cookies={"tieout_session": token}) as client:
            folder = re.sub(r"[^A-Za-z0-9_.-]", "_", user.name) or "_"
            differ += _write(client, args.out / f"user-{folder}", user.name, [csrf])
        sessions.end(project, token)
    print(f"{args.out}: anonymous and {len(users)} user(s); {differ} page(s) answered differently the second time")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
