"""Stripe's JSON Lines read on Spark (`tieout.sources.spark_json`): customers and invoices give the very tables
DuckDB's read gives (values, types, file order, deleted objects left out, tax ids from the customer or from
`tax_ids.jsonl`); lines Spark is not trusted with leave their file to DuckDB, with the same result; a bad export
is refused with exactly DuckDB's message and the store left as it was; the shapes Spark does not read (a list
object, pages) are DuckDB's.

Each case is one tiny project and one call (`read_day_on_spark`, or `tieout.run_day(..., spark=session)` for a
refusal, which stops at the read); cases of different files share a day (`in_days`).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_project
from tests.engines.test_spark_read import Refusal, _assert_same_tables, _read_both, assert_refused_as_on_duckdb, in_days
from tests.engines.test_spark_vendor_read import assert_duckdbs_tables, write_vendor_day
from tests.sources.test_stripe import healthy_customer, healthy_invoice, list_object
from tieout.config import load_project
from tieout.engines import SparkEngine
from tieout.sources.layout import STANDARD_LAYOUT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED, DAY = "2026-01-20", "2026-01-21"
YML = "timezone: Europe/Berlin\nfx_rates: {JPY: 0.0067, KWD: 3.25, EUR: 1.08}\nsources:\n  billing:\n    format: stripe\n"
BILLING = ("billing_customers", "billing_invoices")


def jsonl(*objects: dict[str, object]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def line(start: int, end: int, **fields: object) -> dict[str, object]:
    return {"object": "line_item", "type": "subscription", "quantity": 1, "period": {"start": start, "end": end},
            **fields}


def invoice(id: str, *lines: dict[str, object], **fields: object) -> dict[str, object]:
    return healthy_invoice(id=id, **fields) | ({"lines": {"object": "list", "has_more": False, "data": list(lines)}}
                                               if lines else {})


JAN, FEB = 1767222000, 1769900400  # 2026-01-01 and 2026-02-01, midnight in Berlin
CUSTOMERS = jsonl(healthy_customer())
INVOICES = jsonl(healthy_invoice())


def stripe_day(**files: str | bytes) -> dict[str, str | bytes]:
    """A day of Stripe JSON Lines (the healthy day's customer and invoice), with the files given replaced."""
    return {"stripe/customers.jsonl": CUSTOMERS, "stripe/invoices.jsonl": INVOICES,
            **{f"stripe/{k}.jsonl": v for k, v in files.items()}}


def stripe_project(root: Path, days: dict[str, dict[str, str | bytes]]) -> Path:
    new_project(root, {day: {} for day in days}, YML)
    for day, files in days.items():
        for name in ("billing_customers.csv", "billing_invoices.csv"):
            (root / "exports" / day / name).unlink()
        write_vendor_day(root, day, files)
    return root


# What Stripe writes: deleted customers (one with values no live one could hold), tax ids listed on the customer
# or apart in tax_ids.jsonl (the first of its owner's), names in any script, null fields; invoices with several
# lines (API versions before and since 2025-03-31), a fractional seat count, one-off items, no lines (a draft),
# zero- and three-decimal currencies, finalized and created times, a deleted draft.
RICH = stripe_day(
    customers=jsonl(
        healthy_customer(),
        healthy_customer(id="cus_2", name="Zoë  Ltd, \"quoted\"", email=None,
                         tax_ids={"object": "list", "data": [], "has_more": False}),
        {"id": "cus_gone", "object": "customer", "deleted": True, "name": "\u0000 not a record", "created": "soon"},
        healthy_customer(id="cus_3", name="Ω Corp", deleted=False, tax_ids=None),
        {"id": "cus_4", "object": "customer", "name": "Bare", "email": "a@b.io", "created": 1735689600},
    ),
    tax_ids=jsonl({"id": "txi_1", "object": "tax_id", "customer": "cus_3", "value": "EL123"},
                  {"id": "txi_2", "object": "tax_id", "owner": {"customer": "cus_3"}, "value": "EL999"},
                  {"id": "txi_3", "object": "tax_id", "customer": "cus_1", "value": "not this"}),
    invoices=jsonl(
        healthy_invoice(),
        invoice("in_2", line(JAN, FEB, quantity=3), line(JAN + 86400, FEB + 86400, type=None, quantity=None,
                                                          quantity_decimal="2.50",
                                                          parent={"type": "subscription_item_details"}),
                line(FEB, FEB, type="invoiceitem", quantity=9), currency="jpy", total=1234567,
                status_transitions={"finalized_at": FEB + 3600}, status="open"),
        invoice("in_3", currency="kwd", total=1234567, status="draft", period_start=JAN, period_end=FEB,
                lines={"object": "list", "has_more": False, "data": []}),
        invoice("in_4", line(JAN, FEB, quantity=0), currency="eur", total=-1000, status="void"),
        invoice("in_del", line(JAN, FEB), deleted=True, total="lots"),
    ),
)


def test_stripe_json_lines_read_on_spark_give_duckdbs_tables(spark: Any, tmp_path: Path) -> None:
    project = stripe_project(tmp_path / "project", {DAY: RICH})
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT)  # none left to DuckDB
        assert (read.counts["billing_customers"], read.counts["billing_invoices"]) == (4, 4)
        assert_duckdbs_tables(read, reference, on_spark, engine)
        rows = on_spark.execute("SELECT customer_id, tax_id FROM billing_customers").fetchall()
        assert rows[2:] == [("cus_3", "EL123"), ("cus_4", None)]  # file order; tax_ids.jsonl's first
        seats = on_spark.execute("SELECT invoice_id, billed_fte FROM billing_invoices ORDER BY 1").fetchall()
        assert [str(s) for _, s in seats[1:]] == ["5.5000", "None", "0.0000"]
    finally:
        engine.close()
