"""The yardstick: the plain pandas script a finance analyst would write for one as-of day of a bench project.

    bench/out/pandas-venv/bin/python bench/pandas_baseline.py bench/out/100000 --as-of 2026-03-15 [--json]

(any Python with pandas; bench/versus_pandas.py makes that virtual environment, apart from the project's).

It reads the six standard CSV files and the entity map with `pandas.read_csv`, maps each source record to its
canonical entity (the map rows in effect on the day; a record the map leaves out is matched, as an analyst
would, by its tax id, then by its domain — letters and digits of the tax id, the last two labels of the domain,
an entity only when exactly one matches), then applies the four activity rules and FTE drift of the contract
(§5; the SQL of each is in src/tieout/rules/builtin/) the straightforward way: boolean masks, merges and
group-bys. Money is float: the script only counts. It checks nothing about the files (tieout's reading does),
keeps no history and stores nothing. Prints the exceptions per rule; bench/versus_pandas.py times it beside
`tieout run`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

# Contract §5's defaults.
OPS_ACTIVE_WINDOW = 7  # OPS_ACTIVE_BILLING_INACTIVE: active users within 7 days
REFUND_WINDOW = 30  # BILLING_ACTIVE_OPS_INACTIVE: no active users within 30 days
FTE_WINDOW = 30
FTE_TOLERANCE = 0.10


def read_day(project: Path, as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    folder = project / "exports" / as_of.date().isoformat()
    return {
        "accounts": pd.read_csv(folder / "crm_accounts.csv", dtype=str),
        "contracts": pd.read_csv(folder / "crm_contracts.csv", parse_dates=["start_date", "end_date"],
                                 dtype={"contract_id": str, "account_id": str}),
        "customers": pd.read_csv(folder / "billing_customers.csv", dtype=str),
        "invoices": pd.read_csv(folder / "billing_invoices.csv", parse_dates=["period_start", "period_end"],
                                dtype={"invoice_id": str, "customer_id": str}),
        "tenants": pd.read_csv(folder / "ops_tenants.csv", dtype=str),
        "usage": pd.read_csv(folder / "ops_usage.csv", parse_dates=["date"]),
        "map": pd.read_csv(project / "entity_map.csv", parse_dates=["effective_from", "effective_to"], dtype=str),
    }


def _tax_key(tax_id: pd.Series) -> pd.Series:
    return tax_id.str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def _domain_key(domain: pd.Series) -> pd.Series:
    return domain.str.lower().str.extract(r"([^.@]+\.[^.@]+)$", expand=False)


def canonical_ids(data: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.Series]:
    """Each system's records (indexed by their id) with their canonical id: the map first, then natural keys."""
    emap = data["map"]
    live = emap[(emap.effective_from <= as_of) & (emap.effective_to.isna() | (emap.effective_to >= as_of))]
    records = {
        "crm": data["accounts"].set_index("account_id"),
        "billing": data["customers"].set_index("customer_id"),
        "ops": data["tenants"].set_index("tenant_id"),
    }
    keys = {
        "crm": pd.DataFrame({"tax": _tax_key(records["crm"].tax_id), "domain": _domain_key(records["crm"].domain)}),
        "billing": pd.DataFrame({"tax": _tax_key(records["billing"].tax_id),
                                 "domain": _domain_key(records["billing"].email.str.split("@").str[-1])}),
        "ops": pd.DataFrame({"tax": pd.Series(pd.NA, index=records["ops"].index, dtype="str"),
                             "domain": _domain_key(records["ops"].domain)}),
    }
    mapped = {system: records[system].index.to_series().map(
                  live[live.source_system == system].drop_duplicates("source_id")
                  .set_index("source_id").canonical_id)
              for system in records}
    # The keys of the mapped records, and the entities each key points to.
    known = pd.concat([keys[s].assign(canonical_id=mapped[s]) for s in records]).dropna(subset=["canonical_id"])
    resolved = {}
    for system, ids in mapped.items():
        missing = keys[system][ids.isna()]
        found = pd.Series(pd.NA, index=missing.index, dtype="str")
        for key in ("tax", "domain"):
            entities = known.dropna(subset=[key]).groupby(key).canonical_id
            how_many = missing[key].map(entities.nunique()).dropna()
            unique = how_many.index[how_many == 1]
            found.loc[unique] = missing.loc[unique, key].map(entities.first())
            # the first key kind with candidates decides: several entities is ambiguous, left unresolved
            missing = missing.drop(how_many.index)
        resolved[system] = ids.fillna(found)
    return resolved


def exceptions(data: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    ids = canonical_ids(data, as_of)
    contracts = data["contracts"].assign(canonical_id=data["contracts"].account_id.map(ids["crm"]))
    invoices = data["invoices"].assign(canonical_id=data["invoices"].customer_id.map(ids["billing"]))
    usage = data["usage"]
    usage = usage[usage.date <= as_of]

    live = contracts[(contracts.status.str.lower() == "active") & (contracts.start_date <= as_of)
                     & (contracts.end_date.isna() | (contracts.end_date >= as_of))]
    crm_active = live.groupby("canonical_id").annual_value.sum().div(12).rename("monthly_value")
    covering = invoices[~invoices.status.str.lower().isin(["void", "draft"])
                        & (invoices.period_start <= as_of) & (invoices.period_end >= as_of)]
    billing_active = covering.groupby("canonical_id")[["amount", "billed_fte"]].sum()

    def ops_active(window: int) -> pd.Index:
        recent = usage[(usage.active_users > 0) & (usage.date > as_of - pd.Timedelta(days=window))]
        return pd.Index(recent.tenant_id.map(ids["ops"]).dropna().unique())

    # The latest to start of an entity's contracts: the money at risk when none is live.
    latest = (contracts[contracts.status.str.lower() != "draft"].dropna(subset=["canonical_id", "start_date"])
              .sort_values(["start_date", "contract_id"]).groupby("canonical_id").annual_value.last().div(12))
    leaking = ops_active(OPS_ACTIVE_WINDOW).difference(billing_active.index)
    found = {
        "CRM_ACTIVE_BILLING_INACTIVE": crm_active[~crm_active.index.isin(billing_active.index)].to_frame("impact"),
        "BILLING_ACTIVE_CRM_INACTIVE": billing_active[~billing_active.index.isin(crm_active.index)]
                                       .amount.to_frame("impact"),
        "OPS_ACTIVE_BILLING_INACTIVE": crm_active.reindex(leaking).fillna(latest.reindex(leaking)).fillna(0)
                                       .to_frame("impact"),
        "BILLING_ACTIVE_OPS_INACTIVE": billing_active[~billing_active.index.isin(ops_active(REFUND_WINDOW))]
                                       .amount.to_frame("impact"),
    }
    # Operational FTEs: each tenant's count on its latest usage day within the window, summed over the entity.
    counted = usage[usage.fte_count.notna() & (usage.date > as_of - pd.Timedelta(days=FTE_WINDOW))]
    per_tenant = counted.sort_values("date").groupby("tenant_id").fte_count.last()
    ops_fte = per_tenant.groupby(per_tenant.index.map(ids["ops"])).sum()
    billed = billing_active[billing_active.billed_fte > 0].join(ops_fte.rename("ops_fte"), how="inner")
    gap = (billed.billed_fte - billed.ops_fte).abs()
    drift = billed[gap > FTE_TOLERANCE * billed.billed_fte]
    found["FTE_THRESHOLD_DRIFT"] = (gap[drift.index] * drift.amount / drift.billed_fte).to_frame("impact")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--json", action="store_true", help="print the counts per rule as one JSON object")
    args = parser.parse_args()
    as_of = pd.Timestamp(args.as_of)
    found = exceptions(read_day(args.project, as_of), as_of)
    counts = {rule: len(rows) for rule, rows in sorted(found.items())}
    if args.json:
        print(json.dumps(counts))
        return
    for rule, rows in sorted(found.items()):
        print(f"{rule:<30} {len(rows):>8,}  impact {rows.impact.sum():>16,.2f}")


if __name__ == "__main__":
    main()
