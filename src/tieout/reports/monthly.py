"""The month-end audit pack: one document finance closes the month with.

Its sections: active customers at period end by each system's own definition and the bridge between them
(`tieout.reports.bridge`); money at risk by rule and severity; the exceptions open at period end with their
age; the month's activity; the hand corrections recorded in the period with their reasons; the days the rule
set or the ownership registry changed; the heads of the hash-chained logs each day of the period anchored
(tieout.state.anchors: a copy outside the database, to check `tieout audit verify` against); and a sign-off.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from typing import Any

import tieout.reports.bridge as bridge_
from tieout.config import Project
from tieout.entity_names import entity_names, label
from tieout.errors import BadArgument, NotFound
from tieout.exposure import at_risk
from tieout.reports.data import Item, corrections_between, items_until, open_on, worst_first
from tieout.reports.rollforward import average, customer_lists, daily_counts, roll_forward
from tieout.reports.sections import (
    CORRECTION_COLUMNS,
    ITEM_COLUMNS,
    Column,
    Document,
    Section,
    item_columns,
    item_rows,
)
from tieout.rules.registry import Rule
from tieout.severity import RANK
from tieout.store import fingerprints, stored_days
from tieout.store.manifest import read_manifest
from tieout.systems import title as system_title

SIGN_OFF_ROLES = ("Prepared by", "Reviewed by", "Approved by")


def period_bounds(period: str | None, as_of: date | None, days: list[date]) -> tuple[date, date, str]:
    """(first day, last day, label) of the pack: a calendar month (`--period YYYY-MM`), the month to date of
    `--as-of`, or the month of the latest stored day."""
    if period is not None:
        try:
            year, month = (int(x) for x in period.split("-"))
            start = date(year, month, 1)
        except ValueError:
            raise BadArgument(f"--period: expected YYYY-MM, got {period!r}") from None
        return start, date(year, month, calendar.monthrange(year, month)[1]), period
    end = as_of or days[-1]
    whole = end.day == calendar.monthrange(end.year, end.month)[1]
    return end.replace(day=1), end, f"{end:%Y-%m}" if whole else f"{end:%Y-%m} to {end}"


def _money_by_rule(still: list[Item], rules: dict[str, Rule]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for i in still:
        groups[(i.rule, i.severity)].append(i)
    return [{"rule": r, "severity": s, "open": len(v), "money_at_risk": at_risk(v, rules)}
            for (r, s), v in sorted(groups.items(), key=lambda kv: (kv[0][0], RANK.get(kv[0][1], 9)))]


def _rate_changes(before: dict[str, str], after: dict[str, str]) -> str:
    """`EUR 1.08 → 1.10; GBP added (1.27)`: how the exchange rates in effect differ between two days."""
    parts = []
    for currency in sorted(before.keys() | after.keys()):
        old, new = before.get(currency), after.get(currency)
        if old == new:
            continue
        if old is None:
            parts.append(f"{currency} added ({new})")
        elif new is None:
            parts.append(f"{currency} removed (was {old})")
        else:
            parts.append(f"{currency} {old} → {new}")
    return "; ".join(parts)


def _changes(project: Project, days: list[date], start: date, end: date) -> dict[str, Any]:
    """The stored days of the period on which the rule set, the registry or the exchange rates in effect differed
    from the day before."""
    recorded = fingerprints.recorded(project, days)
    rows: list[dict[str, Any]] = []
    previous: fingerprints.Fingerprint | None = None
    for day in days:
        fp = recorded.get(day)
        if fp is None:
            continue
        if previous is not None and start <= day <= end:
            if fp.rules != previous.rules:
                before, after = previous.rule_hashes, fp.rule_hashes
                changed = sorted(n for n in set(before) & set(after) if before[n] != after[n])
                parts = [f"{what}: {', '.join(names)}" for what, names in (
                    ("added", sorted(set(after) - set(before))), ("removed", sorted(set(before) - set(after))),
                    ("changed", changed)) if names]
                rows.append({"day": day, "what": "rules", "detail": "; ".join(parts), "since": previous.day})
            if fp.registry != previous.registry:
                rows.append({"day": day, "what": "ownership registry and routing",
                             "detail": "the registry, routing or system owners differ", "since": previous.day})
            if fp.fx_rates is not None and previous.fx_rates is not None and fp.fx_rates != previous.fx_rates:
                rows.append({"day": day, "what": "exchange rates",
                             "detail": _rate_changes(previous.fx_rates, fp.fx_rates), "since": previous.day})
        previous = fp
    missing = [d for d in days if start <= d <= end and d not in recorded]
    return {"changes": rows, "days_not_recorded": missing,
            "first_recorded": min((d for d in recorded if start <= d <= end), default=None)}


def _anchors(project: Project, start: date, end: date) -> list[dict[str, Any]]:
    """The log heads each stored day of the period wrote into the day store's manifest when it was committed."""
    return [{"day": d.day, "log": a.log, "seq": a.seq, "hash": a.hash}
            for d in read_manifest(project) if start <= d.day <= end for a in d.anchors]


def monthly(project: Project, rules: dict[str, Rule], *, period: str | None = None, as_of: date | None = None
            ) -> dict[str, Any]:
    if period is not None and as_of is not None:
        raise BadArgument("give --period or --as-of, not both")
    all_days = stored_days(project)
    if not all_days:
        raise NotFound(f"{project.store_path}: nothing reconciled yet; run `tieout run --as-of DATE` first")
    start, end, label = period_bounds(period, as_of, all_days)
    if end not in all_days:
        raise NotFound(f"{end}, the last day of period {label}, is not a reconciled day (stored: {all_days[0]} to "
                       f"{all_days[-1]}); run `tieout run --as-of {end}` first")
    days = [d for d in all_days if d <= end]
    period_whole = " to " not in label  # a month to date rolls forward from nothing: it is not a month yet
    in_period = [d for d in days if d >= start]
    # Every entity by name, as on the period's last day: the items, the lists, the bridge, the roll-forward, the
    # corrections.
    names = entity_names(project, end)
    items = items_until(project, rules, end, names=names)
    still = worst_first(open_on(items, end))
    how = bridge_.plan(rules)
    activity = bridge_.load_activity(project, end, rules)
    counts = bridge_.bridge(activity, bridge_.stored_findings(project, end, how), how)
    daily = daily_counts(project, rules, in_period)
    for line in counts["bridge"]:
        line["entity_names"] = [names.name(cid) for cid in line["entities"]]
    report = {
        "report": "monthly",
        "period": {"label": label, "start": start, "end": end, "days_reconciled": len(in_period),
                   "calendar_days": (end - start).days + 1},
        "as_of": end,
        "currency": project.reporting_currency,
        **counts,
        "average_active_customers": average(daily),
        "daily_active_customers": daily,
        "active_customer_lists": customer_lists(activity, names),
        "roll_forward": roll_forward(project, rules, activity, start, all_days, names) if period_whole else None,
        "money_at_risk": {"total": at_risk(still, rules), "by_rule_severity": _money_by_rule(still, rules)},
        "open_at_period_end": [i.as_dict() for i in still],
        "activity": {"opened": sum(1 for i in items if start <= i.first_seen <= end),
                     "resolved": sum(1 for i in items if i.resolved_on and start <= i.resolved_on <= end),
                     "open_at_start": len(open_on([i for i in items if i.first_seen < start], start))
                     if any(d < start for d in days) else 0,
                     "open_at_end": len(still)},
        "corrections": corrections_between(project, start, end, names),
        "configuration_changes": _changes(project, days, start, end),
        "log_anchors": _anchors(project, start, end),
        "sign_off": {role.lower().replace(" ", "_"): None for role in SIGN_OFF_ROLES},
    }
    return _signed(project, report, label)


def _signed(project: Project, report: dict[str, Any], label: str) -> dict[str, Any]:
    """`report` with who prepared and reviewed its month (tieout.month_close) and, for a month closed and then
    reopened, its figures against the ones signed (`adjustments`)."""
    from tieout.state.location import may_exist

    # A month to date is never signed; without a state database nothing is, and SQLAlchemy need not load to say so.
    if " to " in label or not may_exist(project):
        report["adjustments"] = None
        return report
    from tieout.month_close import adjustments, month_state

    month = month_state(project, label)
    report["sign_off"].update(month.sign_off())
    report["adjustments"] = adjustments(project, month, report)
    return report


def _subject(i: dict[str, Any]) -> str:
    return i["canonical_id"] or f"{i['source_system']}:{i['source_id']}"


def _named(ids: list[str], names: list[str]) -> str:
    """`Acme Inc. (C00042), C00043`: a bridge line's entities, each by its name and id."""
    return ", ".join(label({"canonical_id": cid, "entity_name": name}) for cid, name in zip(ids, names, strict=True))


def document(report: dict[str, Any]) -> Document:
    cur = report["currency"]
    ac = report["active_customers"]
    avg = report["average_active_customers"]
    un = report["unexplained"]
    end = report["period"]["end"]
    window = report["ops_window_days"]
    bridge_rows: list[dict[str, Any]] = []
    for n, (a, b) in enumerate(bridge_.STEPS):
        if n == 0:  # each later step starts where the one before ended
            bridge_rows.append({"step": f"{a} active customers", "rule": "", "count": ac[a], "effect": None})
        bridge_rows += [{"step": f"  {line['why']}", "rule": line["rule"], "count": line["count"],
                         "effect": line["effect"], "entities": _named(line["entities"], line["entity_names"])}
                        for line in report["bridge"] if line["from"] == a]
        bridge_rows.append({"step": f"→ {b} active customers", "rule": "", "count": ac[b], "effect": None,
                            "entities": f"unexplained: {un[f'{a}_{b}']}"})
    records_rows = []
    for r in report["records_to_entities"]:
        records_rows.append({"system": r["system"], "rule": "active records", "count": r["records"]})
        records_rows += [{"system": r["system"], "rule": f"  − {line['rule']}", "count": line["count"]}
                         for line in r["lines"]]
        records_rows.append({"system": r["system"], "rule": "→ active customers (entities)", "count": r["entities"]})
    changes = report["configuration_changes"]
    change_note = (f"No fingerprint recorded for {len(changes['days_not_recorded'])} day(s) of the period "
                   "(stored by an older tieout): changes on those days are unknown."
                   if changes["days_not_recorded"] else "Every reconciled day of the period has its fingerprint.")
    open_rows = item_rows(report["open_at_period_end"], _subject)
    return Document(
        kind="monthly",
        title=f"Month-end audit pack — {report['period']['label']}",
        facts=[("Period", f"{report['period']['start']} to {end}", "text"),
               ("Reconciled days", report["period"]["days_reconciled"], "int"),
               ("CRM-active customers", ac["crm"], "int"), ("Billing-active customers", ac["billing"], "int"),
               (f"Ops-active customers ({window} days)", ac["ops"], "int"),
               ("Unexplained CRM ↔ billing", un["crm_billing"], "int"),
               ("Unexplained billing ↔ ops", un["billing_ops"], "int"),
               (f"Money at risk at period end ({cur})", report["money_at_risk"]["total"], "money"),
               ("Open at period end", len(report["open_at_period_end"]), "int")],
        sections=[
            Section("Active customers", f"Active customers on {end}, by each system's own definition",
                    [Column("definition", "Definition"), Column("count", f"On {end}", "int"),
                     Column("average", f"Average over {avg['days']} day(s)", "decimal")],
                    [{"definition": "CRM-active: a live contract", "count": ac["crm"], "average": avg["crm"]},
                     {"definition": "billing-active: an invoice covers the day", "count": ac["billing"],
                      "average": avg["billing"]},
                     {"definition": f"ops-active: active users in the last {window} days", "count": ac["ops"],
                      "average": avg["ops"]}],
                    note="Canonical entities are counted; records that resolve to no entity are in none of "
                         "these (see Records to entities). The average is the mean of the counts of the "
                         "period's reconciled days (see Daily active customers)."),
            Section("Daily active customers", "Active customers on each reconciled day of the period",
                    [Column("date", "Day", "date"), Column("crm", "CRM-active", "int"),
                     Column("billing", "Billing-active", "int"), Column("ops", f"Ops-active ({window} days)", "int")],
                    report["daily_active_customers"],
                    note="Each day's counts as its run counted them, by the definitions above; the averages are "
                         "their means. The pack of any of these days lists its customers."),
            _roll_forward(report),
            Section("Bridge", "Bridge: CRM → billing → ops, every difference named",
                    [Column("step", "Step"), Column("rule", "Explained by"), Column("count", "Customers", "int"),
                     Column("effect", "Effect", "int"), Column("entities", "Entities")], bridge_rows,
                    note="UNEXPLAINED lines are differences no exception reported on the period's last day "
                         "covers.", chart="bridge", chart_data={"waterfall": bridge_.waterfall(report)}),
            Section("Records to entities", "Each system's active records, bridged to its active customers",
                    [Column("system", "System"), Column("rule", "Line"), Column("count", "Count", "int")],
                    records_rows, note="Duplicate records of one customer and records that resolve to no "
                                       "customer, each named by its exception."),
            Section("Money at risk", f"Money at risk on {end}, by rule and severity",
                    [Column("rule", "Rule"), Column("severity", "Severity"), Column("open", "Open", "int"),
                     Column("money_at_risk", f"Money at risk ({cur})", "money")],
                    report["money_at_risk"]["by_rule_severity"], chart="money",
                    chart_data={"bars": [{"label": f"{r['rule']} {r['severity']}", "value": r["money_at_risk"]}
                                         for r in report["money_at_risk"]["by_rule_severity"]]}),
            Section("Open at period end", f"Exceptions open on {end}, with their age",
                    item_columns(ITEM_COLUMNS, open_rows), open_rows),
            Section("Activity", "The period's activity",
                    [Column("what", "What"), Column("count", "Exceptions", "int")],
                    [{"what": k.replace("_", " "), "count": v} for k, v in report["activity"].items()]),
            Section("Corrections", "Corrections recorded in the period (tieout correct)",
                    CORRECTION_COLUMNS, report["corrections"]),
            Section("Rule and registry changes", "Changes to the rules and the ownership registry",
                    [Column("day", "Day", "date"), Column("what", "What changed"), Column("detail", "Detail"),
                     Column("since", "Compared with", "date")], changes["changes"], note=change_note,
                    empty="No change in the period."),
            Section("Log anchors", "Heads of the hash-chained logs, anchored by each day of the period",
                    [Column("day", "Day", "date"), Column("log", "Log"), Column("seq", "Head seq", "int"),
                     Column("hash", "Head hash (sha256)")], report["log_anchors"],
                    note="Each reconciled day wrote the last entry of every hash-chained log into the day "
                         "store as it was committed. `tieout audit verify` checks the logs against them; a log "
                         "cut short or rewritten since no longer shows these hashes. Keep this pack apart from "
                         "the project folder: it is the copy nobody with access to the folder can change.",
                    empty="No log had an entry when the period's days were committed."),
            *_customer_lists(report, end),
            Section("Sign-off", "Sign-off",
                    [Column("role", "Role"), Column("name", "Name"), Column("date", "Date"),
                     Column("signature", "Signature")],
                    [_signature(r, report["sign_off"]) for r in SIGN_OFF_ROLES],
                    note=f"The undersigned reviewed this pack for {report['period']['label']}: the active customer "
                         "counts, the bridge and its unexplained remainder, and the exceptions open at period end. "
                         "Prepared and reviewed are signed in tieout (tieout month prepare|review); a reviewed "
                         "month is closed, and this pack is kept as it was signed."),
            *_adjustments(report),
        ],
        currency=cur,
    )


def _signature(role: str, sign_off: dict[str, Any]) -> dict[str, str]:
    signed = sign_off.get(role.lower().replace(" ", "_"))
    if not signed:
        return {"role": role, "name": "", "date": "", "signature": ""}
    return {"role": role, "name": signed["name"], "date": signed["at"], "signature": "signed in tieout"}


def _adjustments(report: dict[str, Any]) -> list[Section]:
    """Of a month closed and reopened: its figures now against the ones signed."""
    moved = report.get("adjustments")
    if not moved:
        return []
    signed, reopened = moved["signed"], moved["reopened"]
    return [Section("Post-close adjustments", "Post-close adjustments: this pack against the one signed",
                    [Column("figure", "Figure"), Column("signed", "Signed"), Column("now", "Now"),
                     Column("change", "Change")], moved["lines"],
                    note=f"Reviewed by {signed['reviewed_by']} on {signed['at']}; reopened by {reopened['by']} on "
                         f"{reopened['at']}: {reopened['reason']}")]


def _names(customers: list[dict[str, str]]) -> str:
    return ", ".join(label(c) for c in customers)


def _roll_forward(report: dict[str, Any]) -> Section:
    roll = report["roll_forward"]
    columns = [Column("system", "System"), Column("opening", "Opening", "int"), Column("new", "New", "int"),
               Column("reactivated", "of which reactivated", "int"), Column("churned", "Churned", "int"),
               Column("closing", "Closing", "int"), Column("who", "Who")]
    if roll is None:
        return Section("Roll-forward", "Roll-forward from the previous month", columns, [],
                       empty="The previous month's last day is not reconciled: nothing to roll forward from.")
    rows = [{"system": system_title(system), **{k: v for k, v in r.items() if isinstance(v, int)},
             "who": "; ".join(f"{what}: {_names(r[key])}" for what, key in (
                 ("new", "new_customers"), ("reactivated", "reactivated_customers"),
                 ("churned", "churned_customers")) if r[key])}
            for system, r in roll["systems"].items()]
    return Section("Roll-forward", f"Roll-forward of active customers from {roll['from']}", columns, rows,
                   note="Opening + new − churned = closing, per system; reactivated: new this month, active at an "
                        "earlier month end. Each list of names is in the system's sheet of active customers.")


def _customer_lists(report: dict[str, Any], end: date) -> list[Section]:
    """One section per system: the customers it counts active on `end`, with the records that made them so."""
    columns = [Column("canonical_id", "Entity"), Column("entity_name", "Name"), Column("records", "Active records")]
    return [Section(f"{system_title(system)}-active customers"[:31],
                    f"{system_title(system)}-active customers on {end}",
                    columns, [{**c, "records": ", ".join(c["records"])} for c in customers],
                    note="Every customer the count above includes, with the source records that made it active: "
                         "the list to sample.")
            for system, customers in report["active_customer_lists"].items()]
