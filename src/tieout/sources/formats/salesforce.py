"""Salesforce Data Loader extracts (contract §3b): `Account.csv` and `Contract.csv` in the source's folder.

What the Data Loader writes: upper-case API names as the header (`ID`, `ISDELETED`, `MASTERRECORDID`, `NAME`,
`WEBSITE`, …, custom fields as `TAX_ID__C`), every cell quoted, UTF-8 unless the org's export settings say
otherwise (`encoding: latin-1`, `cp1252`), date-times as `2006-10-25T22:55:03.000Z` (UTC).

- Ids: a record id has a 15-character form (case-sensitive) and an 18-character one (the 15 plus a 3-character
  case checksum); both name the same record. Every id column read here (ID, ACCOUNTID, OWNERID, MASTERRECORDID)
  is taken in its 18-character form, and so are the entity map's crm source ids (`Format.source_id`): a map row
  may name either form. An 18-character id is kept as written.
- `WEBSITE` is a URL; its host (without `www.`) is the domain.
- `ISDELETED=true` rows (an "Export All" keeps the recycle bin) are not live records. A merge leaves the loser
  deleted with `MASTERRECORDID` = the survivor: `merges` proposes the map rows that follow from it (`tieout
  entities`, `tieout entities propose`); nothing is applied without a person.
- Contract `STATUS`: `Activated` = active; `Draft`, `In Approval Process` = draft; `Expired` = expired;
  `Cancelled`, `Terminated` = cancelled (`tables.crm_contracts.statuses` adds or overrides words).
- The tax id, the annual value and the seats are the org's own custom fields: name them under `fields:`
  (`crm_accounts.tax_id: TAX_ID__C`, `crm_contracts.annual_value: ANNUAL_VALUE__C`,
  `crm_contracts.contracted_fte: SEATS__C`). `CURRENCYISOCODE` exists only in multi-currency orgs: without it a
  contract has no currency (the reporting currency's).

Opportunity.csv: an org that sells without Contract records closes opportunities instead. When the folder holds
no `Contract.csv` but an `Opportunity.csv` (or `tables.crm_contracts.file` names it), each opportunity on an
account is read as a contract: contract_id ← ID, account_id ← ACCOUNTID, status from the stage's flags — won
(`ISWON=true`) = active, closed and not won = cancelled, open = draft (`tables.crm_contracts.statuses` maps
`STAGENAME` words first) — start_date ← CLOSEDATE, annual_value ← AMOUNT (the opportunity's amount, taken as the
annual value), no end date unless `fields: {crm_contracts.end_date: …}` names one. An opportunity on no account is
nobody's contract and is left out. With both files, Contract.csv is read and Opportunity.csv is not.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from tieout.sources.convert import Conversion, iso_date, iso_timestamp, text, web_host
from tieout.sources.formats.base import Format, TableMap, register
from tieout.sources.layout import CONTRACT_STATUSES

_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _id_template() -> str:
    """A template of the 18-character form of the Salesforce id {0}: a 15-character id gets its case checksum —
    for each 5-character chunk, bit i set when character i is an upper-case letter, the 5 bits an index into
    A-Z0-5 — and any other value is kept as it is."""
    v = "{0}"
    chunks = []
    for chunk in range(3):
        bits = " + ".join(f"CASE WHEN substr({v}, {chunk * 5 + i + 1}, 1) BETWEEN 'A' AND 'Z' THEN {1 << i} ELSE 0 "
                          "END" for i in range(5))
        chunks.append(f"substr('{_CHECKSUM}', 1 + {bits}, 1)")
    return (f"CASE WHEN length({v}) = 15 AND regexp_full_match({v}, '[A-Za-z0-9]{{{{15}}}}') "
            f"THEN {v} || {' || '.join(chunks)} ELSE {v} END")


_ID = _id_template()


def salesforce_id(column: str, *, optional: bool = False) -> Conversion:
    """A record id in its 18-character form (15- and 18-character ids are the same record)."""
    return Conversion(_ID, (column,), optional=optional,
                      note="a Salesforce id (a 15-character one read as its 18-character form)")


def id18(record_id: str) -> str:
    """The 18-character form of a Salesforce id in Python (the same as `salesforce_id`)."""
    if len(record_id) != 15 or not record_id.isascii() or not record_id.isalnum():
        return record_id
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(record_id[chunk * 5: chunk * 5 + 5]) if "A" <= c <= "Z")
        suffix += _CHECKSUM[bits]
    return record_id + suffix


_TRUE = "('true', '1')"
# A live record: ISDELETED is not true (an extract without the column holds live records only).
_LIVE = Conversion(f"lower(trim(coalesce({{0}}, 'false'))) NOT IN {_TRUE}", ("ISDELETED",), optional=True)
# An opportunity read as a contract: live, and on an account.
_LIVE_ON_ACCOUNT = Conversion(f"lower(trim(coalesce({{0}}, 'false'))) NOT IN {_TRUE} "
                              "AND coalesce(trim({1}), '') <> ''", ("ISDELETED", "ACCOUNTID"), optional=True)

CONTRACT_STATUS = {
    "Activated": "active",
    "Draft": "draft",
    "In Approval Process": "draft",
    "Expired": "expired",
    "Cancelled": "cancelled",
    "Terminated": "cancelled",
}
assert set(CONTRACT_STATUS.values()) <= set(CONTRACT_STATUSES)

# An opportunity's status from its stage's flags (the status template reads STAGENAME as {0}).
_STAGE_FLAGS = Conversion(
    f"CASE WHEN lower(trim({{1}})) IN {_TRUE} THEN 'active' "
    f"WHEN lower(trim({{2}})) IN {_TRUE} THEN 'cancelled' "
    "WHEN lower(trim({2})) IN ('false', '0') THEN 'draft' END",
    ("STAGENAME", "ISWON", "ISCLOSED"), "a stage whose ISWON and ISCLOSED are true or false",
    note="ISWON = active, ISCLOSED (not won) = cancelled, open = draft")


def _files(name: str) -> tuple[str, ...]:
    return (f"{name}.csv", f"{name.lower()}.csv", f"{name.upper()}.csv")


OPPORTUNITIES = TableMap(
    files=_files("Opportunity"),
    columns={
        "contract_id": salesforce_id("ID"),
        "account_id": salesforce_id("ACCOUNTID"),
        "status": "STAGENAME",
        "start_date": iso_date("CLOSEDATE"),
        "annual_value": text("AMOUNT"),
        "currency": text("CURRENCYISOCODE", optional=True),
        "updated_at": iso_timestamp("LASTMODIFIEDDATE"),
    },
    unmapped_status=_STAGE_FLAGS,
    keep=_LIVE_ON_ACCOUNT,
)


def merges(con: duckdb.DuckDBPyConnection, as_of: date, tz: str) -> list[dict[str, object]]:
    """Map rows that follow from the accounts Salesforce merged: the loser (deleted, `MASTERRECORDID` = the
    survivor) is the survivor's entity from the merge on (its LASTMODIFIEDDATE in the project's time zone, at
    the latest the as-of date). A survivor itself merged away since is followed to the record that survived.

    Nothing is proposed when the loser's latest map row already names the survivor's entity. Otherwise: the row
    closing the loser's row the day before the merge (if it is still open then) and the row mapping the loser
    to the survivor's entity from the merge on; a loser's row that starts on or after the merge moves to the
    survivor's entity whole. A survivor that resolves to no entity gets one row without a canonical_id (nothing
    to copy yet: the person maps the survivor first)."""
    names = {row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE crm_accounts__vendor)").fetchall()}
    if not {"ID", "ISDELETED", "MASTERRECORDID"} <= names:
        return []
    modified = '"LASTMODIFIEDDATE"' if "LASTMODIFIEDDATE" in names else "NULL"
    merged = con.execute(f"""
        SELECT {salesforce_id("ID").sql(['"ID"'], tz)}, {salesforce_id("M").sql(['trim("MASTERRECORDID")'], tz)},
               CAST(timezone(?, TRY_CAST({modified} AS TIMESTAMPTZ)) AS DATE)
        FROM crm_accounts__vendor
        WHERE lower(trim(coalesce("ISDELETED", 'false'))) IN {_TRUE} AND coalesce(trim("MASTERRECORDID"), '') <> ''
        ORDER BY 1
    """, [tz]).fetchall()
    master = {loser: survivor for loser, survivor, _ in merged}
    entity = dict(con.execute("SELECT source_id, canonical_id FROM source_records "
                              "WHERE source_system = 'crm' AND status = 'resolved'").fetchall())
    out: list[dict[str, object]] = []
    for loser, survivor, on in merged:
        seen = {loser}
        while survivor in master and survivor not in seen:  # merged again since
            seen.add(survivor)
            survivor = master[survivor]
        cut = min(on or as_of, as_of)
        target = entity.get(survivor, "")
        latest = con.execute("""
            SELECT canonical_id, effective_from, effective_to FROM entity_map
            WHERE source_system = 'crm' AND source_id = ? ORDER BY effective_from DESC LIMIT 1
        """, [loser]).fetchall()
        if latest and latest[0][0] == target:
            continue  # the map already has the loser in the survivor's entity
        why = f"Salesforce merged {loser} into {survivor} on {cut.isoformat()}"
        if not target:
            out.append(_row("", loser, cut, None, f"proposed: {why}; {survivor} resolves to no entity on "
                            f"{as_of.isoformat()}: map it first"))
            continue
        was, since, until = latest[0] if latest else (None, None, None)
        if since is None or (until is not None and until < cut):
            out.append(_row(target, loser, cut, None, f"proposed: {why}"))
        elif since >= cut:
            out.append(_row(target, loser, since, until, f"proposed: {why}; replaces the row of {was} from {since}"))
        else:
            out.append(_row(was, loser, since, cut - timedelta(days=1),
                            f"proposed: {why}; closes the row of {was} from {since}"))
            out.append(_row(target, loser, cut, until, f"proposed: {why}; the loser is {target}'s from then on"))
    return out


def _row(canonical_id: str, source_id: str, since: date, until: date | None, notes: str) -> dict[str, object]:
    return {"canonical_id": canonical_id, "source_system": "crm", "source_id": source_id,
            "effective_from": since.isoformat(), "effective_to": until.isoformat() if until else "", "notes": notes,
            "score": None, "matched_on": "salesforce_merge"}


SALESFORCE = register(Format(
    "salesforce",
    "csv",
    tables={
        "crm_accounts": TableMap(
            files=_files("Account"),
            columns={
                "account_id": salesforce_id("ID"),
                "legal_name": text("NAME"),
                "domain": web_host("WEBSITE"),
                "owner": salesforce_id("OWNERID"),
                "updated_at": iso_timestamp("LASTMODIFIEDDATE"),
            },
            keep=_LIVE,
        ),
        "crm_contracts": TableMap(
            files=_files("Contract"),
            columns={
                "contract_id": salesforce_id("ID"),
                "account_id": salesforce_id("ACCOUNTID"),
                "status": "STATUS",
                "start_date": iso_date("STARTDATE"),
                "end_date": iso_date("ENDDATE"),
                "currency": text("CURRENCYISOCODE", optional=True),
                "updated_at": iso_timestamp("LASTMODIFIEDDATE"),
            },
            statuses=CONTRACT_STATUS,
            keep=_LIVE,
        ),
    },
    # Opportunity.csv read as the contracts where there is no Contract.csv (or a tables: file names it)
    alternatives=(Format("salesforce", "csv", tables={"crm_contracts": OPPORTUNITIES}),),
    proposals=merges,
    source_id=salesforce_id("source_id"),
))
