"""A small project whose exports, corrections, comments and people are hostile strings (`corpus`), reconciled
over two days so that every output has something to show: open P1s with money at risk, name mismatches,
resolutions, corrections in the month, comments and assignees on the web.

Each hostile string h is one entity: its canonical id, CRM account id, billing customer id and ops tenant id
are h; its legal name, billing name, domain, tax id and display name carry h too. Half the entities have no
invoice (a P1 with money at risk), the other half bill under a different name (a mismatch); each has a second,
unmapped billing record named h (for `entities propose`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from tests.security.corpus import FORMULAS, XSS

DAY1, DAY2 = date(2026, 1, 20), date(2026, 1, 21)
STAMP = "2026-01-20T23:00:00Z"
HOSTILE = XSS + FORMULAS
# A carriage return inside a quoted export cell is refused by the reader (an export edge of its own), so those
# strings reach the outputs through corrections and comments only.
EXPORTED = [h for h in HOSTILE if "\r" not in h]
ADMIN = "root"
PASSWORD = "correct horse battery"
# Users' names are restricted to [A-Za-z0-9_.@-]; these still start a formula.
HOSTILE_USERS = ("@evil", "-evil")
ACTED_ON = "acted-on.json"


@dataclass(frozen=True)
class World:
    root: Path
    hostile: list[str]  # every planted string


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _day(day: date, resolved: set[int]) -> dict[str, str]:
    """The six exports of `day`; entities in `resolved` are billed properly that day."""
    accounts, contracts, customers, invoices, tenants, usage = [], [], [], [], [], []
    for i, h in enumerate(EXPORTED):
        accounts.append([h, h, f"{h}.example", h, "ana", STAMP])
        contracts.append([f"K{i}", h, "active", "2025-06-01", "", "720000.00", "USD", "50", STAMP])
        fine = i in resolved
        customers.append([h, h if fine else f"{h} (billing)", f"ap{i}@example.com", h, STAMP])
        # a second billing record of the same customer, in no entity map row: unmapped, and proposed
        customers.append([f"{h}~unmapped", h, f"ar{i}@example.com", h, STAMP])
        if i % 2 == 0 or fine:
            invoices.append([f"in_{i}", h, "2026-01-01", "2026-01-31", "2026-01-01", "paid", "60000.00", "USD",
                             "50", STAMP])
        tenants.append([h, h, f"{h}.example", "2025-06-01", "active"])
        usage += [[h, day.replace(day=day.day - 1).isoformat(), "45", "50"], [h, day.isoformat(), "44", "50"]]
    return {
        "crm_accounts.csv": _csv(["account_id", "legal_name", "domain", "tax_id", "owner", "updated_at"], accounts),
        "crm_contracts.csv": _csv(["contract_id", "account_id", "status", "start_date", "end_date", "annual_value",
                                   "currency", "contracted_fte", "updated_at"], contracts),
        "billing_customers.csv": _csv(["customer_id", "name", "email", "tax_id", "updated_at"], customers),
        "billing_invoices.csv": _csv(["invoice_id", "customer_id", "period_start", "period_end", "issued_on",
                                      "status", "amount", "currency", "billed_fte", "updated_at"], invoices),
        "ops_tenants.csv": _csv(["tenant_id", "display_name", "domain", "created_on", "status"], tenants),
        "ops_usage.csv": _csv(["tenant_id", "date", "active_users", "fte_count"], usage),
    }


def _entity_map() -> str:
    rows = [[h, system, h, "2025-01-01", "", h] for h in EXPORTED for system in ("crm", "billing", "ops")]
    return _csv(["canonical_id", "source_system", "source_id", "effective_from", "effective_to", "notes"], rows)


def write_project(root: Path, yml: str = "") -> Path:
    """The project's files: config, entity map, two days of exports (day 2 resolves the first three P1s)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n" + yml)
    (root / "entity_map.csv").write_text(_entity_map(), encoding="utf-8")
    for day, resolved in ((DAY1, set()), (DAY2, {1, 3, 5})):
        folder = root / "exports" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in _day(day, resolved).items():
            (folder / name).write_text(text, encoding="utf-8")
    return root


def build(root: Path, yml: str = "") -> World:
    """Write, reconcile both days, then record a correction per hostile string (its reason, values, author and
    ticket hostile) and hold another for approval, comment every hostile string on one exception, and assign
    two exceptions to the hostile users."""
    from sqlalchemy import insert

    from tests.conftest import run_days
    from tieout import state
    from tieout.config import load_project
    from tieout.corrections.log import append, validated
    from tieout.people import add_user
    from tieout.rules.registry import load_rules
    from tieout.state.tables import correction_requests
    from tieout.timeline import exceptions
    from tieout.workflow.core import act, status_of, target_of

    write_project(root, yml)
    run_days(root, DAY1.isoformat(), DAY2.isoformat())
    project = load_project(root)
    add_user(project, ADMIN, "admin", PASSWORD)
    for name in HOSTILE_USERS:
        add_user(project, name, "team_member", PASSWORD, ("ar",))
    # validated once (the entity check reads the day store), then appended in one transaction: the log's own
    # append, as `record_correction` does it, 57 times faster
    fields = validated(project, canonical_id=XSS[0], system="crm", field="legal_name", old_value="a",
                       new_value="b", reason="r", who="w")
    with state.open(project, write=True) as connection:
        for h in HOSTILE:
            hostile = {**fields, "old_value": h, "new_value": h, "reason": h, "who": h, "ticket": h}
            append(connection, {**hostile, "recorded_at": datetime(2026, 1, 21, 12, tzinfo=UTC)})
            # and the same, held for approval (what `request_correction` inserts above the threshold)
            connection.execute(insert(correction_requests).values(
                **hostile, requested_at=datetime(2026, 1, 21, 13, tzinfo=UTC), impact="60000.00",
                threshold="1000.00", status="pending"))
    found = [e for e in exceptions(project, load_rules(project), status="open") if e.canonical_id]
    commented = found[0]
    version = status_of(project, target_of(commented)).version
    for h in HOSTILE:
        version = act(project, ADMIN, commented.id, "comment", expected_version=version, comment=h,
                      target=target_of(commented)).version
    for e, name in zip(found[1:3], HOSTILE_USERS, strict=True):
        st = status_of(project, target_of(e))
        act(project, ADMIN, e.id, "assign", expected_version=st.version, assignee=name, target=target_of(e))
    # which exceptions carry the comments and the hostile assignees, for the tests to open
    (root / ACTED_ON).write_text(json.dumps([e.id for e in found[:3]]), encoding="utf-8")
    return World(root, list(HOSTILE))


def acted_on(world: World) -> list[str]:
    """The exception commented with every hostile string, then those assigned to the hostile users."""
    return list(json.loads((world.root / ACTED_ON).read_text(encoding="utf-8")))
