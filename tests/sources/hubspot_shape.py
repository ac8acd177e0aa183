"""A standard day's CRM files rendered as HubSpot's tables, as a loader lands them: for the tests of the
`hubspot` format (tests/sources/test_hubspot.py) and the differential over every shape
(tests/sources/test_every_shape_differential.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

# The project's `sources:` entry that reads what `render_hubspot` writes.
HUBSPOT = """\
sources:
  crm:
    format: hubspot
    fields:
      crm_accounts.tax_id: property_tax_id
      crm_contracts.end_date: property_contract_end
      crm_contracts.contracted_fte: property_seats
    tables:
      crm_contracts:
        statuses: {contractexpired: expired}
"""


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _instant(timestamp: str, i: int) -> str:
    """A standard timestamp as a loader lands it: unix milliseconds (legacy API) or `2019-07-05 20:35:26`."""
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(timestamp).astimezone(UTC)
    return _millis(moment) if i % 2 else moment.strftime("%Y-%m-%d %H:%M:%S")


def _closedate(day: str, i: int) -> str:
    if not day:
        return ""
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return _millis(midnight) if i % 2 else midnight.strftime("%Y-%m-%dT%H:%M:%SZ")


# standard status -> the stage ids written for it: HubSpot's default pipeline's words, and opaque ids whose
# flags are in the stage table; `contractexpired` is mapped by the project's `statuses:`.
STAGES = {"active": ["closedwon", "Hlo/won=="], "cancelled": ["closedlost", "pq/lost=="],
          "draft": ["appointmentscheduled", "xt/open=="], "expired": ["contractexpired"]}
STAGE_TABLE = [["Hlo/won==", "TRUE", "TRUE"], ["pq/lost==", "FALSE", "TRUE"], ["xt/open==", "FALSE", "FALSE"],
               ["contractexpired", "FALSE", "TRUE"]]


def render_hubspot(standard: Path, target: Path) -> None:
    """A standard day's CRM files as HubSpot's loader tables in `target`: main and additional domains, times as
    text and as unix milliseconds, every kind of stage, a deleted company and deal, a deal on no company, and
    deals associated with a second company that is not their primary one."""
    accounts = list(csv.DictReader(io.StringIO((standard / "crm_accounts.csv").read_text(encoding="utf-8"))))
    contracts = list(csv.DictReader(io.StringIO((standard / "crm_contracts.csv").read_text(encoding="utf-8"))))
    companies = []
    for i, a in enumerate(accounts):
        main, additional = a["domain"], ""
        if a["domain"] and i % 3 == 1:  # no main domain: the first additional one is the domain
            main, additional = "", f"{a['domain']};alias-{i}.example"
        elif a["domain"] and i % 3 == 2:
            additional = f"other-{i}.example"
        companies.append([a["account_id"], "false", "2026-01-21 03:15:52", a["legal_name"], main, additional,
                          a["owner"], a["tax_id"], _instant(a["updated_at"], i)])
    companies.append(["999", "true", "", "Deleted Co", "deleted.example", "", "", "", ""])
    _write_csv(target / "company.csv", ["id", "is_deleted", "_fivetran_synced", "property_name", "property_domain",
                                        "property_hs_additional_domains", "property_hubspot_owner_id",
                                        "property_tax_id", "property_hs_lastmodifieddate"], companies)
    deals, links = [], []
    for i, c in enumerate(contracts):
        stages = STAGES[c["status"].lower()]
        deals.append([c["contract_id"], "false", "default", stages[i % len(stages)], c["annual_value"],
                      _closedate(c["start_date"], i), c["end_date"], c["contracted_fte"], c["currency"],
                      _instant(c["updated_at"], i + 1)])
        links.append([c["account_id"], c["contract_id"], "5", "HUBSPOT_DEFINED"])
        if i % 4 == 0:
            links.append(["0", c["contract_id"], "341", "HUBSPOT_DEFINED"])  # a lower id, not the primary
    deals.append(["d-deleted", "true", "default", "closedwon", "1", "", "", "", "", ""])
    links.append([accounts[0]["account_id"], "d-deleted", "5", "HUBSPOT_DEFINED"])
    deals.append(["d-alone", "false", "default", "closedwon", "1", "", "", "", "", ""])  # on no company
    _write_csv(target / "deal.csv", ["deal_id", "is_deleted", "deal_pipeline_id", "deal_pipeline_stage_id",
                                     "property_amount", "property_closedate", "property_contract_end",
                                     "property_seats", "property_deal_currency_code",
                                     "property_hs_lastmodifieddate"], deals)
    _write_csv(target / "deal_company.csv", ["company_id", "deal_id", "type_id", "category"], links)
    _write_csv(target / "deal_pipeline_stage.csv", ["_fivetran_deleted", "stage_id", "closed_won", "is_closed"],
               [["FALSE", *s] for s in STAGE_TABLE])
