"""HubSpot companies and deals as a loader (Fivetran) lands them (contract §3b): from CSV files of its tables, or
from the tables themselves through `url:`.

Files in the source's folder (default `hubspot/`), one per loader table, named as the loader names the table:

    company.csv              crm_accounts   id, is_deleted, property_name, property_domain, …
    deal.csv                 crm_contracts  deal_id, is_deleted, deal_pipeline_stage_id, property_amount, …
    deal_company.csv         (read with the deals) which company each deal is associated with
    deal_pipeline_stage.csv  (read with the deals) each stage's stage_id, closed_won, is_closed

With `url:`, the same tables in schema `hubspot` (`hubspot.company`, `hubspot.deal`, …); `tables.<t>.query`
names other main tables.

- Accounts: account_id ← id, legal_name ← property_name, domain ← property_domain (HubSpot's main duplicate key);
  a company without one takes the first of its `property_hs_additional_domains` (semicolon-separated).
  owner ← property_hubspot_owner_id, updated_at ← property_hs_lastmodifieddate. A portal that does not sync a
  property has no such column: its value is empty, not refused. A tax id is a portal's own property
  (`fields: {crm_accounts.tax_id: property_vat_number}`).
- Times: a loader lands ISO date-times (`2019-07-05 20:35:26`, UTC) and the legacy API unix milliseconds
  (`1767225600000`); both are read, in any column that holds a time or a date.
- Contracts are deals: contract_id ← deal_id, account_id ← the deal's company in deal_company (the primary
  association, type 5, first; else the lowest company id), start_date ← property_closedate, annual_value ←
  property_amount (the deal's amount, taken as the annual value), currency ← property_deal_currency_code (a
  multi-currency portal's; else none). A deal associated with no company is nobody's contract and is not read
  (nor a deleted one).
- status ← the deal's stage (deal_pipeline_stage_id): HubSpot's default pipeline stages by name (`closedwon` =
  active, `closedlost` = cancelled, the open ones draft), any other stage by its flags in deal_pipeline_stage:
  closed and won = active, closed and not won = cancelled, open = draft. `tables.crm_contracts.statuses` maps
  stage ids first (`{1234567: active}`). A deal without a stage, or with one the stage table does not hold, is
  refused with its row.
"""

from __future__ import annotations

from tieout.sources.convert import (
    Conversion,
    iso_or_unix_date,
    iso_or_unix_timestamp,
    text,
    web_host,
)
from tieout.sources.formats.base import Format, Related, TableMap, register

_TRUE = "('true', '1', 't', 'yes')"


def _deleted(column: str) -> str:
    return f"lower(trim(coalesce({column}, 'false'))) IN {_TRUE}"


# The company's main domain, else the first of its additional ones, as a host.
# (The address is bound once: the host's template reads its input many times.)
_DOMAIN = Conversion(
    "list_transform([coalesce(nullif(trim({0}), ''), trim(split_part({1}, ';', 1)))], lambda tieout__address: "
    + web_host("x").template.replace("{0}", "tieout__address") + ")[1]",
    ("property_domain", "property_hs_additional_domains"), optional=True,
    note="the host of property_domain, else of the first of property_hs_additional_domains")

# The deal's company: the primary association (HubSpot's type 5) first, then the lowest company id.
_COMPANY = Conversion(
    "(SELECT arg_min(a.company_id, CASE WHEN trim(a.type_id) = '5' THEN '0' ELSE '1' END "
    "|| lpad(trim(a.company_id), 24, '0')) FROM crm_contracts__companies AS a WHERE a.deal_id = {0})",
    ("deal_id",), derived=True, note="the deal's company in deal_company (the primary association first)")

# Read as contracts: deals not deleted, associated with a company.
_LIVE_DEAL = Conversion(
    f"NOT {_deleted('{0}')} AND NOT {_deleted('{1}')} "
    "AND EXISTS (SELECT 1 FROM crm_contracts__companies AS a WHERE a.deal_id = {2})",
    ("is_deleted", "_fivetran_deleted", "deal_id"),
    "deals not deleted and associated with a company in deal_company", optional=True)

# A stage the status map does not name, by its flags in the stage table (the template reads the stage as {0}).
_STAGE_FLAGS = Conversion(
    "(SELECT CASE WHEN count(*) = 0 THEN NULL "
    f"WHEN bool_or(lower(trim(s.closed_won)) IN {_TRUE}) THEN 'active' "
    f"WHEN bool_or(lower(trim(s.is_closed)) IN {_TRUE}) THEN 'cancelled' ELSE 'draft' END "
    "FROM crm_contracts__stages AS s WHERE s.stage_id = trim({0}))",
    ("deal_pipeline_stage_id",), "a stage_id of deal_pipeline_stage",
    note="the stage's flags in deal_pipeline_stage: closed and won = active, closed = cancelled, open = draft")

# HubSpot's default sales pipeline: its stage ids are words.
DEFAULT_STAGES = {
    "closedwon": "active",
    "closedlost": "cancelled",
    "appointmentscheduled": "draft",
    "qualifiedtobuy": "draft",
    "presentationscheduled": "draft",
    "decisionmakerboughtin": "draft",
    "contractsent": "draft",
}

HUBSPOT = register(Format(
    "hubspot",
    "csv",
    tables={
        "crm_accounts": TableMap(
            files=("company.csv",),
            query="hubspot.company",
            columns={
                "account_id": text("id"),
                "legal_name": text("property_name"),
                "domain": _DOMAIN,
                "owner": text("property_hubspot_owner_id", optional=True),
                "updated_at": iso_or_unix_timestamp("property_hs_lastmodifieddate", optional=True),
            },
            keep=Conversion(f"NOT {_deleted('{0}')} AND NOT {_deleted('{1}')}", ("is_deleted", "_fivetran_deleted"),
                            "companies not deleted", optional=True),
        ),
        "crm_contracts": TableMap(
            files=("deal.csv",),
            query="hubspot.deal",
            columns={
                "contract_id": text("deal_id"),
                "account_id": _COMPANY,
                "status": "deal_pipeline_stage_id",
                "start_date": iso_or_unix_date("property_closedate"),
                "annual_value": text("property_amount"),
                "currency": text("property_deal_currency_code", optional=True),
                "updated_at": iso_or_unix_timestamp("property_hs_lastmodifieddate", optional=True),
            },
            statuses=DEFAULT_STAGES,
            unmapped_status=_STAGE_FLAGS,
            keep=_LIVE_DEAL,
            related={
                "companies": Related(files=("deal_company.csv",), query="hubspot.deal_company",
                                     columns={"deal_id": text("deal_id"), "company_id": text("company_id"),
                                              "type_id": text("type_id", optional=True)}),
                "stages": Related(files=("deal_pipeline_stage.csv",), query="hubspot.deal_pipeline_stage",
                                  columns={c: text(c) for c in ("stage_id", "closed_won", "is_closed")}),
            },
        ),
    },
    kinds={"date": iso_or_unix_date, "timestamp": iso_or_unix_timestamp},
))
