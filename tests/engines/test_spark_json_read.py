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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, new_project, write_day
from tests.engines.test_spark_read import Refusal, _read_both, assert_refused_as_on_duckdb, in_days
from tests.engines.test_spark_vendor_read import assert_duckdbs_tables, write_vendor_day
from tests.sources.test_stripe import healthy_customer, healthy_invoice, list_object
from tieout.config import load_project
from tieout.engines import SparkEngine
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.sources.spark_read import SparkRead

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED, DAY = "2026-01-20", "2026-01-21"
YML = ("timezone: Europe/Berlin\nfx_rates: {JPY: 0.0067, KWD: 3.25, EUR: 1.08}\n"
       "sources:\n  billing:\n    format: stripe\n")


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


def write_stripe_day(project: Path, day: str, files: dict[str, str | bytes]) -> None:
    """The healthy day's other systems as standard files, its billing as the Stripe `files`."""
    folder = write_day(project, day)
    for name in ("billing_customers.csv", "billing_invoices.csv"):
        (folder / name).unlink()
    write_vendor_day(project, day, files)


def stripe_project(root: Path, days: dict[str, dict[str, str | bytes]]) -> Path:
    new_project(root, {}, YML)
    for day, files in days.items():
        write_stripe_day(root, day, files)
    return root


@contextmanager
def read_as_duckdb(project: Path, spark: Any, by_duckdb: set[str]) -> Iterator[tuple[SparkRead, Any]]:
    """Read `project`'s DAY on Spark: the tables `by_duckdb` left to DuckDB, every other read by Spark, and every
    table DuckDB's read, on the driver and on Spark. The read, and the driver's connection (whose large tables
    are views of Spark's staging folder, there until the end of the block)."""
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT if f.table not in by_duckdb)
        assert_duckdbs_tables(read, reference, on_spark, engine)
        yield read, on_spark
    finally:
        engine.close()


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
    with read_as_duckdb(project, spark, set()) as (read, on_spark):
        assert (read.counts["billing_customers"], read.counts["billing_invoices"]) == (4, 4)
        rows = on_spark.execute("SELECT customer_id, tax_id FROM billing_customers").fetchall()
        assert rows[2:] == [("cus_3", "EL123"), ("cus_4", None)]  # file order; tax_ids.jsonl's first
        seats = on_spark.execute("SELECT invoice_id, billed_fte FROM billing_invoices ORDER BY 1").fetchall()
        assert [str(s) for _, s in seats[1:]] == ["5.5000", "None", "0.0000"]


def _raw(obj: dict[str, object], **raw: str) -> str:
    """`obj` as one JSON line with the members `raw` (name -> JSON text as written) added at its end."""
    return json.dumps(obj)[:-1] + "".join(f", {json.dumps(k)}: {v}" for k, v in raw.items()) + "}\n"


# Lines DuckDB reads that Spark is not trusted with (each parser would give its own values), by table. One read
# of each file tells them apart (`json_lines`' flag), and one day of a case of each table shows such a file read
# by DuckDB, the other by Spark, and both DuckDB's.
UNTRUSTED: dict[str, dict[str, str]] = {
    "billing_customers": {
        "a key twice": _raw(healthy_customer(id="cus_2"), name='"Last"'),
        "a key in another case": _raw({"id": "cus_3", "name": "Case"}, Email='"a@b.io"'),
        "an escaped surrogate pair": json.dumps(healthy_customer(id="cus_4", name="Smile \U0001F600")) + "\n",
        "a CR before the line's end": jsonl(healthy_customer(id="cus_5"))[:-1] + "\r\n",
        "a blank around the object": " " + jsonl(healthy_customer(id="cus_6")),
        "two objects on a line": jsonl(healthy_customer(id="cus_7"))[:-1] + " " + jsonl(healthy_customer(id="cus_8")),
        "single quotes": "{'id': 'cus_11'}\n",
        "an object and the end of a list": jsonl(healthy_customer(id="cus_9"))[:-1] + '],[{"id": "cus_10"}\n',
    },
    "billing_invoices": {
        "a number with a fraction": _raw(healthy_invoice(id="in_2"), tax_percent="19.50"),
        "NaN": _raw(healthy_invoice(id="in_7"), total="NaN"),
        "an expanded customer": jsonl(healthy_invoice(id="in_3", customer={"id": "cus_1", "object": "customer"})),
        "line items that are no list": jsonl(healthy_invoice(id="in_5", lines={"object": "list", "data": {}})),
        "a key twice inside a line item": jsonl(invoice("in_6", line(JAN, FEB))).replace(
            '"quantity": 1', '"quantity": 1, "quantity": 2'),
    },
}


def test_each_line_spark_is_not_trusted_with_is_told_apart(spark: Any, tmp_path: Path) -> None:
    from tieout.db import connect
    from tieout.sources.spark_json import json_lines
    from tieout.sources.spark_vendor import vendor_origin

    good = {"billing_customers": CUSTOMERS, "billing_invoices": INVOICES}
    files = {f"{t.split('_')[1]}": good[t] + "".join(cases.values()) for t, cases in UNTRUSTED.items()}
    project = stripe_project(tmp_path / "project", {DAY: stripe_day(**files)})
    loaded = load_project(project)
    engine = SparkEngine.open(loaded, session=spark)
    try:
        for spec in (s for s in STANDARD_LAYOUT if s.table in UNTRUSTED):
            table = vendor_origin(connect(), loaded, spec, loaded.export_dir(date.fromisoformat(DAY)),
                                  date.fromisoformat(DAY))
            assert table is not None, spec.table  # a JSON Lines file Spark reads
            table.check_shape()
            rows, _, structure = json_lines(engine, table.reader.paths[0], table)
            flags = [r[0] for r in rows.select(structure).orderBy("tieout__block", "tieout__row").collect()]
            assert flags == [False, *([True] * len(UNTRUSTED[spec.table]))], (spec.table, flags)
    finally:
        engine.close()


def test_a_file_with_such_a_line_is_read_by_duckdb(spark: Any, tmp_path: Path) -> None:
    files = stripe_day(customers=CUSTOMERS + UNTRUSTED["billing_customers"]["a key twice"],
                       invoices=INVOICES + UNTRUSTED["billing_invoices"]["an expanded customer"])
    with read_as_duckdb(stripe_project(tmp_path / "project", {DAY: files}), spark, set(UNTRUSTED)):
        pass


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Stripe project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = stripe_project(tmp_path_factory.mktemp("spark-json") / "project", {STORED: stripe_day()})
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


# Each: the files it replaces, and the file and phrase DuckDB's refusal names.
REFUSED: dict[str, Refusal] = {
    "a line that is not JSON": ({"stripe/customers.jsonl": CUSTOMERS + '{"id": "cus_2", "name": \n'},
                                "customers.jsonl", "JSON"),
    "a created time in no unix form": ({"stripe/invoices.jsonl": jsonl(healthy_invoice(created="yesterday"))},
                                       "invoices.jsonl", "created"),
    "every customer deleted": ({"stripe/customers.jsonl": jsonl(healthy_customer(deleted=True))},
                               "customers.jsonl", "holds no records"),
    "more line items than exported": ({"stripe/invoices.jsonl": jsonl(healthy_invoice(lines={
        "object": "list", "has_more": True, "data": [line(JAN, FEB)]}))}, "invoices.jsonl", "has_more"),
    "a duplicate customer id": ({"stripe/customers.jsonl": CUSTOMERS + CUSTOMERS}, "customers.jsonl", "duplicate"),
    "a currency with no rate": ({"stripe/invoices.jsonl": jsonl(healthy_invoice(currency="gbp"))},
                                "invoices.jsonl", "no rate"),
}


@pytest.mark.parametrize("day", in_days(REFUSED), ids=" + ".join)
def test_a_bad_json_lines_export_is_refused_on_spark_with_duckdbs_words(day: list[str], stored: Path, spark: Any,
                                                                        tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    write_stripe_day(project, DAY, stripe_day() | {k: v for case in day for k, v in REFUSED[case][0].items()})
    assert_refused_as_on_duckdb(project, spark, *(REFUSED[case][1:] for case in day))


FIXTURES = SHARED / "realdata" / "stripe" / "stripe_fixtures3_subset.json"


@pytest.mark.skipif(not FIXTURES.is_file(), reason=f"Stripe's API fixtures (stripe/openapi) are not at {FIXTURES}")
def test_stripes_own_fixtures_as_json_lines_are_read_on_spark_and_a_list_object_by_duckdb(spark: Any, tmp_path: Path
                                                                                          ) -> None:
    """Stripe's fixture customer and tax id (read in place) as JSON Lines: read by Spark, the tax id from
    tax_ids.jsonl; its fixture invoice as an API list object (`invoices.json`): DuckDB's, as before."""
    resources = json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"]
    project = stripe_project(tmp_path / "project", {DAY: {
        "stripe/customers.jsonl": jsonl(resources["customer"]), "stripe/tax_ids.jsonl": jsonl(resources["tax_id"]),
        "stripe/invoices.json": list_object([resources["invoice"]])}})
    with read_as_duckdb(project, spark, {"billing_invoices"}) as (_, on_spark):
        assert on_spark.execute("SELECT customer_id, tax_id FROM billing_customers").fetchall() == [
            (resources["customer"]["id"], resources["tax_id"]["value"])]
