"""HubSpot's deals and Chargebee's invoices at scale: read by DuckDB on the driver and handed to Spark (as before
they were read on Spark), against read on Spark (`tieout.sources.spark_vendor`: their related tables loaded by
DuckDB and handed over, their related values — a deal's company, its stage's flags, an invoice's period and
seats — computed by Spark), side by side in one process and one Spark session.

    python bench/spark_vendor_related.py --rows 200000 [--rounds 2] [--master local[2]]

Writes bench/out/related-<rows>/ (a project of one day: `deal.csv` with `deal_company.csv` — one to three
companies a deal — and `deal_pipeline_stage.csv`; `Invoices.csv` with two line items an invoice in
`LineItems.csv`). Each round reads each table both ways (alternating which goes first) and prints wall seconds,
the driver's CPU seconds (this process: DuckDB) and the JVM's; asserts only that both ways give the same rows.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

DAY = "2026-01-20"
STAGES = [("closedwon", "", ""), ("closedlost", "", ""), ("appointmentscheduled", "", ""),
          ("s/won==", "TRUE", "TRUE"), ("s/lost==", "FALSE", "TRUE"), ("s/open==", "FALSE", "FALSE")]


def write_world(root: Path, rows: int) -> Path:
    """A project whose day holds `rows` deals and `rows` invoices (and one company, customer and tenant)."""
    rng = random.Random(rows)
    day = root / "exports" / DAY
    (day / "hubspot").mkdir(parents=True, exist_ok=True)
    (day / "chargebee").mkdir(parents=True, exist_ok=True)
    (root / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\ntimezone: Europe/Berlin\n"
                                     "fx_rates: {EUR: 1.08}\nsources:\n  crm:\n    format: hubspot\n"
                                     "  billing:\n    format: chargebee\n", encoding="utf-8")
    (root / "entity_map.csv").write_text("canonical_id,system,record_id\n", encoding="utf-8")

    def write(path: Path, header: list[str], body: object) -> None:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(body)  # type: ignore[arg-type]

    write(day / "hubspot" / "company.csv", ["id", "is_deleted", "property_name", "property_domain"],
          [["1", "false", "Acme", "acme.com"]])
    write(day / "hubspot" / "deal.csv", ["deal_id", "is_deleted", "deal_pipeline_stage_id", "property_amount",
                                          "property_closedate", "property_deal_currency_code",
                                          "property_hs_lastmodifieddate"],
          ([str(10_000_000 + i), "false", STAGES[i % len(STAGES)][0], f"{rng.randint(100, 99999)}.00",
            str(1735689600000 + rng.randint(0, 365) * 86_400_000), "EUR", "2026-01-20 23:00:00"]
           for i in range(rows)))
    write(day / "hubspot" / "deal_company.csv", ["company_id", "deal_id", "type_id"],
          ([str(rng.randint(1, rows)), str(10_000_000 + i), "5" if k == 0 else "341"]
           for i in range(rows) for k in range(1 + i % 3)))
    write(day / "hubspot" / "deal_pipeline_stage.csv", ["stage_id", "closed_won", "is_closed"],
          [s for s in STAGES if s[1]])
    write(day / "chargebee" / "Customers.csv", ["customers.id", "customers.first_name", "customers.last_name",
                                                 "customers.company", "customers.email"],
          [["cus_1", "", "", "Acme", "ap@acme.com"]])
    write(day / "chargebee" / "Invoices.csv", ["invoices.id", "invoices.customer_id", "invoices.status",
                                                "invoices.date", "invoices.total", "invoices.currency_code"],
          ([f"inv_{i}", "cus_1", "paid", str(1767225600 + i % 86400), str(rng.randint(100, 10**7)), "EUR"]
           for i in range(rows)))
    start = 1767222000
    write(day / "chargebee" / "LineItems.csv", ["line_items.id", "line_items.invoice_id", "line_items.date_from",
                                                 "line_items.date_to", "line_items.entity_type",
                                                 "line_items.quantity"],
          ([f"li_{i}_{k}", f"inv_{i}", str(start), str(start + 31 * 86400), ("plan_item_price", "addon")[k],
            str(rng.randint(1, 500))] for i in range(rows) for k in range(2)))
    (day / "ops_tenants.csv").write_text("tenant_id,display_name,domain,created_on,status\n"
                                         "t-1,acme,acme.com,2025-06-01,active\n", encoding="utf-8")
    (day / "ops_usage.csv").write_text("tenant_id,date,active_users,fte_count\nt-1,2026-01-19,4,5\n",
                                       encoding="utf-8")
    return root


def _jvm_cpu() -> float:
    """CPU seconds of this process's JVM children (Spark's, in local mode)."""
    import os

    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and comm == "java":
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    from tieout.config import load_project
    from tieout.db import connect
    from tieout.engines import SparkEngine
    from tieout.engines.duckdb import DuckDBEngine
    from tieout.sources.layout import STANDARD_LAYOUT
    from tieout.sources.read import read_table
    from tieout.sources.spark_read import _on_spark
    from tieout.sources.spark_vendor import related_tables, vendor_origin

    root = HERE / "out" / f"related-{args.rows}"
    if not (root / "exports" / DAY / "chargebee" / "LineItems.csv").is_file():
        shutil.rmtree(root, ignore_errors=True)
        write_world(root, args.rows)
    project = load_project(root)
    as_of, folder = date.fromisoformat(DAY), project.export_dir(date.fromisoformat(DAY))
    session = (SparkSession.builder.master(args.master).appName("tieout-bench-related")
               .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
               .config("spark.driver.memory", "4g").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    specs = {s.table: s for s in STANDARD_LAYOUT}
    engine = SparkEngine.open(project, session=session)

    def before(table: str) -> int:  # DuckDB reads the table on the driver and hands it to Spark
        con = connect()
        count = read_table(con, project, specs[table], folder, as_of)
        engine.hand_over(DuckDBEngine(con), [table])
        engine.read_table(table)  # its rows back, as the other way ends
        return count

    def after(table: str) -> int:  # Spark reads it, its related tables loaded by DuckDB and handed over
        shutil.rmtree(engine.staging / f"read-{table}", ignore_errors=True)  # a round's before
        con = connect()
        source = vendor_origin(con, project, specs[table], folder, as_of)
        assert source is not None, table
        engine.hand_over(DuckDBEngine(con), related_tables(project, specs[table], folder))
        done = _on_spark(engine, project, source, as_of)
        assert done is not None, f"{table} was left to DuckDB"
        engine.read_parquet(table, done[1], columns=specs[table].column_names)
        engine.read_table(table)
        return done[0]

    try:
        for round_ in range(args.rounds):
            for table in ("crm_contracts", "billing_invoices"):
                ways = [("duckdb+hand over", before), ("spark", after)]
                counts = []
                for name, way in ways if round_ % 2 == 0 else ways[::-1]:
                    wall, cpu, jvm = time.perf_counter(), _cpu(), _jvm_cpu()
                    counts.append(way(table))
                    print(f"round {round_ + 1} {table:16} {name:17} {counts[-1]:>8} rows  "
                          f"wall {time.perf_counter() - wall:6.1f} s  driver CPU {_cpu() - cpu:5.1f} s  "
                          f"JVM CPU {_jvm_cpu() - jvm:6.1f} s", flush=True)
                assert counts[0] == counts[1], counts
    finally:
        engine.close()
        session.stop()


if __name__ == "__main__":
    main()
