"""Month-end sign-off on the command line (tieout.month_close): a preparer and a second person sign the month;
a prepared or closed month refuses runs of its days (exit 10) and a backfill across it stores nothing; a closed
month's pack comes back byte for byte in every format; a reopened month runs again and its pack shows what moved
against the signed figures. Every step and refusal is in the audit log.

Each person runs tieout from an OS account of their own (as in tests/test_correction_approval_cli.py); the
same account for preparer and reviewer is refused too."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke_as, new_project, run_days, tree_digest
from tieout.config import load_project
from tieout.store.manifest import MANIFEST, days_dir
from tieout.workflow.audit import entries

pytestmark = pytest.mark.usefixtures("state_in_the_project")

PASSWORD = "correct horse battery"
DAYS = ("2026-01-30", "2026-01-31", "2026-02-01")
# The 31st's invoice voided after the month was signed: one billing-active customer fewer.
VOIDED = {"billing_invoices.csv": (
    "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
    "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,void,10000.00,USD,50,2026-01-20T23:00:00Z\n")}




@pytest.fixture
def p(tmp_path: Path) -> str:
    folder = new_project(tmp_path / "p", {d: {} for d in DAYS})
    run_days(folder, *DAYS)
    for name, role, teams in (("ana", "team_member", ("ar",)), ("carol", "approver", ()), ("dave", "auditor", ()),
                              ("root", "admin", ())):
        added = invoke_as("users", "add", name, "--role", role, *[a for t in teams for a in ("--team", t)],
                     "--password-stdin", "-p", str(folder), stdin=PASSWORD + "\n")
        assert added.exit_code == 0, added.output
    return str(folder)


def _month(p: str, *args: str, **how: str | None):  # type: ignore[no-untyped-def]
    return invoke_as("month", *args, "--period", "2026-01", "-p", p, **how)


def _state(p: str) -> dict:
    got = json.loads(invoke_as("month", "status", "--period", "2026-01", "-p", p, "--format", "json").output)
    return got[0]


def _pack(p: str, fmt: str, tmp: Path) -> bytes:
    target = tmp / f"pack.{fmt}"
    done = invoke_as("report", "monthly", "--period", "2026-01", "--format", fmt, "-o", str(target), "-p", p)
    assert done.exit_code == 0, done.output
    return target.read_bytes()


def _close(p: str) -> None:
    assert _month(p, "prepare", "--as", "ana").exit_code == 0
    reviewed = _month(p, "review", "--as", "carol")
    assert reviewed.exit_code == 0, reviewed.output


def test_a_month_is_prepared_then_reviewed_by_a_second_person(p: str) -> None:
    assert _state(p)["state"] == "open"
    prepared = _month(p, "prepare", "--as", "root")
    assert prepared.exit_code == 0, prepared.output
    assert "2026-01  prepared" in prepared.output and "prepared by root" in prepared.output
    for who, account, why in (("root", None, "the preparer does not review their own month"),
                              ("ROOT", None, "unknown or disabled user"),  # names are people, not spellings
                              ("ana", None, "a team member may not review a month"),
                              ("dave", None, "an auditor has read-only access"),
                              ("carol", "os-root", "was prepared from the OS account 'os-root'")):
        refused = _month(p, "review", "--as", who, account=account)
        assert refused.exit_code == 10, refused.output
        assert why in refused.output
    assert _state(p)["state"] == "prepared"
    reviewed = _month(p, "review", "--as", "carol")
    assert reviewed.exit_code == 0, reviewed.output
    assert _state(p)["state"] == "closed"
    again = _month(p, "review", "--as", "carol")
    assert again.exit_code == 10 and "it is closed (next: reopen)" in again.output
    audit = [(e["action"], e["actor"], e["outcome"]) for e in entries(load_project(p))
             if e["object"] == "month:2026-01"]
    assert ("month.prepare", "root", "allowed") in audit and ("month.review", "carol", "allowed") in audit
    assert ("month.review", "root", "refused") in audit and ("month.review", "ana", "refused") in audit


def test_only_an_approver_or_an_admin_reopens_and_only_with_a_reason(p: str) -> None:
    _close(p)
    member = _month(p, "reopen", "--as", "ana", "--reason", "late credit note")
    assert member.exit_code == 10 and "only an approver or an admin" in member.output
    blank = _month(p, "reopen", "--as", "carol", "--reason", "  ")
    assert blank.exit_code == 2 and "needs a reason" in blank.output
    assert _state(p)["state"] == "closed"
    done = _month(p, "reopen", "--as", "carol", "--reason", "late credit note")
    assert done.exit_code == 0, done.output
    assert _state(p)["state"] == "reopened"
    assert _state(p)["signatures"][-1] == {**_state(p)["signatures"][-1], "step": "reopen", "who": "carol",
                                           "reason": "late credit note"}


def test_a_signed_month_refuses_its_days_and_a_backfill_across_it_stores_nothing(p: str) -> None:
    assert _month(p, "prepare", "--as", "ana").exit_code == 0
    store = load_project(p).store_path
    before = tree_digest(store / "days")
    for argv in (("run", "--as-of", "2026-01-31"), ("backfill", "--from", "2026-01-31", "--to", "2026-02-01")):
        refused = invoke_as(*argv, "-p", p)
        assert refused.exit_code == 10, refused.output
        assert "2026-01 is prepared (prepared by ana" in refused.output and "tieout month reopen" in refused.output
        assert tree_digest(store / "days") == before
    # a day of another month runs as always
    assert invoke_as("run", "--as-of", "2026-02-01", "-p", p).exit_code == 0
    assert (days_dir(load_project(p)) / MANIFEST).is_file()


def test_a_closed_months_pack_comes_back_byte_for_byte(p: str, tmp_path: Path) -> None:
    _close(p)
    frozen = load_project(p).store_path / "closed" / "2026-01"
    (tmp_path / "a").mkdir()
    first = {fmt: _pack(p, fmt, tmp_path / "a") for fmt in ("json", "md", "html", "xlsx")}
    # The files in the store are the ones the review's row names by their sha256.
    digests = {f.suffix[1:]: hashlib.sha256(f.read_bytes()).hexdigest() for f in frozen.iterdir()}
    assert {fmt: hashlib.sha256(b).hexdigest() for fmt, b in first.items()} == digests
    signed = json.loads(first["json"])
    assert signed["sign_off"]["prepared_by"]["name"] == "ana"
    assert signed["sign_off"]["reviewed_by"]["name"] == "carol"
    assert b"| Reviewed by | carol |" in first["md"]
    # Later, with another month run since, the pack is still the one signed.
    assert invoke_as("run", "--as-of", "2026-02-01", "-p", p).exit_code == 0
    (tmp_path / "b").mkdir()
    assert {fmt: _pack(p, fmt, tmp_path / "b") for fmt in first} == first
    # …and a frozen file changed behind tieout's back is a damaged store (exit 11), never shown as signed.
    (frozen / next(f.name for f in frozen.iterdir() if f.suffix == ".md")).write_text("edited")
    tampered = invoke_as("report", "monthly", "--period", "2026-01", "--format", "md", "-p", p)
    assert tampered.exit_code == 11 and "differs from the one recorded at sign-off" in tampered.output


def test_a_reopened_month_runs_again_and_shows_what_moved_against_the_signed_figures(p: str) -> None:
    _close(p)
    signed = json.loads(invoke_as("report", "monthly", "--period", "2026-01", "--format", "json", "-p", p).output,
                        parse_float=Decimal)
    assert _month(p, "reopen", "--as", "root", "--reason", "invoice in_1 voided after close").exit_code == 0
    new_project(Path(p), {"2026-01-31": VOIDED})
    rerun = invoke_as("run", "--as-of", "2026-01-31", "-p", p)
    assert rerun.exit_code == 0, rerun.output
    now = json.loads(invoke_as("report", "monthly", "--period", "2026-01", "--format", "json", "-p", p).output,
                     parse_float=Decimal)
    moved = now["adjustments"]
    assert moved["reopened"]["reason"] == "invoice in_1 voided after close"
    assert moved["signed"]["reviewed_by"] == "carol"
    lines = {line["figure"]: line for line in moved["lines"]}
    # every line recomputed from the two packs' own figures
    for figure, section, key in (("Billing-active customers", "active_customers", "billing"),
                                 ("CRM-active customers", "active_customers", "crm"),
                                 ("Money at risk at period end", "money_at_risk", "total")):
        assert lines[figure]["signed"] == signed[section][key] and lines[figure]["now"] == now[section][key]
        assert lines[figure]["change"] == now[section][key] - signed[section][key]
    assert lines["Billing-active customers"]["change"] == -1
    # the sign-off of the new round is empty until it is signed again
    assert now["sign_off"]["prepared_by"] is None and now["sign_off"]["reviewed_by"] is None
    md = invoke_as("report", "monthly", "--period", "2026-01", "--format", "md", "-p", p).output
    assert "## Post-close adjustments" in md and "invoice in_1 voided after close" in md


def test_only_a_month_whose_last_day_is_reconciled_is_signed(p: str) -> None:
    february = invoke_as("month", "prepare", "--period", "2026-02", "--as", "ana", "-p", p)
    assert february.exit_code == 7 and "2026-02-28, the last day of 2026-02, is not a reconciled day" in february.output
    status = json.loads(invoke_as("month", "status", "-p", p, "--format", "json").output)
    assert [(m["period"], m["state"], m["complete"]) for m in status] == [("2026-02", "open", False),
                                                                         ("2026-01", "open", True)]
