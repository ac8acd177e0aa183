"""The daily digest (`tieout notify digest`): each team's channels hear what changed since their last digest.

A channel whose last digest went out for day D0 gets, for the as-of day D1, everything of its team in
(D0, D1]: exceptions new or reopened (still open on D1), open ones whose severity rose since D0, and those
resolved — P1s first in each list, with the team's open count and money at risk. A channel that has had no
digest yet gets the as-of day's changes, i.e. those since the stored day before it. Only a delivered digest
moves D0: after a failed one, the next digest covers its days again (for a channel never reached, from the
stored day before its first attempt). Whatever a channel has been told already
(by a P1 message or an earlier digest, see `ledger`) is left out; a digest with nothing left is not sent,
only marked in the log (`log.record_nothing_new`) so that the next one starts after it.
"""

from __future__ import annotations

from datetime import date

from tieout.config import Project
from tieout.exposure import at_risk
from tieout.notify.deliver import channel_key, masked
from tieout.notify.ledger import Entry, Ledger, Outcome, line, send
from tieout.notify.log import DigestMarks, digest_marks, record_nothing_new
from tieout.output import format_reporting
from tieout.reports.data import (
    Item,
    changes,
    items_until,
    open_on,
    previous_stored_day,
    report_day,
    worst_first,
)
from tieout.rules.registry import Rule
from tieout.severity import RANK
from tieout.timeline import episodes

SECTIONS = (("new", "New"), ("reopened", "Reopened"), ("risen", "More severe"), ("resolved", "Resolved"))
LABEL = {"new": "new", "reopened": "reopened", "risen": "more severe"}


def _severities_on(project: Project, day: date) -> dict[tuple[str, date], str]:
    """Each episode begun by `day` with its severity as it stood that day."""
    return {(e.id, e.first_seen): e.severity for e in episodes(project, until=day)}


def _window(items: list[Item], since: date | None, day: date, before: dict[tuple[str, date], str]) -> list[Entry]:
    """The entries of (since, day]: begun and still open, risen since `since`, resolved — each worst first."""
    happened = changes(items, since, day)
    still_open = {(i.id, i.first_seen) for i in open_on(items, day)}
    risen = [i for i in open_on(items, day) if since is not None and i.first_seen <= since
             and RANK.get(i.severity, len(RANK)) < RANK.get(before.get((i.id, i.first_seen), ""), len(RANK))]
    return ([(i, "new") for i in happened.new if (i.id, i.first_seen) in still_open]
            + [(i, "reopened") for i in happened.reopened if (i.id, i.first_seen) in still_open]
            + [(i, "risen") for i in worst_first(risen)]
            + [(i, "resolved") for i in happened.resolved])


def _body(team: str, entries: list[Entry], team_items: list[Item], since: date | None, day: date,
          currency: str, rules: dict[str, Rule]) -> str:
    still = open_on(team_items, day)
    p1 = sum(1 for i in still if i.severity == "P1")
    span = f"changes since {since}" if since is not None else "changes since the first stored day"
    lines = [f"Daily digest for {team}, as of {day} — {span}.",
             f"{len(still)} open ({p1} P1), {format_reporting(at_risk(still, rules), currency)} at risk."]
    # The open P1s lead, whatever brought them here; the other sections list the rest.
    urgent = sorted(((i, s) for i, s in entries if s != "resolved" and i.severity == "P1"),
                    key=lambda e: (-e[0].impact, e[0].rule, e[0].id))
    if urgent:
        lines += ["", f"P1 ({len(urgent)}):", *(f"- {line(i, currency)} ({LABEL[s]})" for i, s in urgent)]
    for section, heading in SECTIONS:
        listed = [i for i, s in entries if s == section and (i, s) not in urgent]
        if listed:
            lines += ["", f"{heading} ({len(listed)}):"]
            lines += [f"- {line(i, currency)}" + (f", resolved {i.resolved_on}" if section == "resolved" else "")
                      for i in listed]
    return "\n".join(lines)


def _since(marks: DigestMarks | None, days: list[date], day: date) -> date | None:
    """Where a channel's digest of `day` starts (exclusive): its last delivered digest, else the stored day
    before its first attempt, else the stored day before `day`."""
    if marks is not None and marks.last_sent is not None:
        return marks.last_sent
    return previous_stored_day(days, min(day, marks.first_tried) if marks else day)


def send_digests(project: Project, rules: dict[str, Rule], *, as_of: date | None = None, team: str | None = None
                 ) -> list[Outcome]:
    """Send each team (or only `team`) its digest of stored day `as_of` (default: the latest), per channel."""
    cfg = project.notifications
    day, days = report_day(project, as_of)
    items = items_until(project, rules, day)
    teams = [t for t in cfg.channels if team is None or t == team]
    keys = [channel_key(url) for t in teams for url in cfg.channels[t]]
    marks = digest_marks(project, keys, day)
    before: dict[date, dict[tuple[str, date], str]] = {}
    plans: list[tuple[str, str, date | None, list[Entry]]] = []
    for t in teams:
        team_items = [i for i in items if i.team == t]
        for url in cfg.channels[t]:
            since = _since(marks.get(channel_key(url)), days, day)
            if since is not None and since not in before:
                before[since] = _severities_on(project, since)
            plans.append((t, url, since, _window(team_items, since, day, before[since] if since else {})))
    ledger = Ledger(project, items, [i for *_, entries in plans for i, _ in entries], keys)
    out: list[Outcome] = []
    for t, url, since, entries in plans:
        due = [(i, s) for i, s in entries if ledger.due(i, s, channel_key(url))]
        if not due:
            record_nothing_new(project, team=t, channel=masked(url), key=channel_key(url), as_of=day)
        else:
            body = _body(t, due, [i for i in items if i.team == t], since, day, project.reporting_currency, rules)
            out.append(send(project, t, url, "digest", f"tieout daily digest — {t} — {day}", body, due, day, since))
    return out
