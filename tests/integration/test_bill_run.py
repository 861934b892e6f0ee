"""The bill run end to end on SQLite and PostgreSQL: who is invoiced and who is skipped (and
why), the same date twice, a chunk with one bad account, cancel and rerun, one run at a time
(a second is told, a stale one is taken over), a run process killed half way and rerun giving
exactly what an uninterrupted run gives, and the command line as a real process.

Accounts are sold real catalogue services through ``app.billing.subscriptions`` (which sets
their first bill date); the 300-account crash test uses the bulk data of
tests/integration/bill_run_worker.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.accounts import service as accounts
from app.accounts.models import Account
from app.billing import bill_run, invoicing, rating
from app.billing import catalogue as cat
from app.billing import subscriptions as subs
from app.billing.bill_run import BillRunInProgress, BillRunTakenOver
from app.billing.catalogue import ServiceInput, TaxInput
from app.billing.models import (
    AccountService,
    BillingAccount,
    BillingSettings,
    BillRun,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from app.core.db import open_database
from app.core.errors import PermissionDenied
from app.core.permissions import BUILTIN_ROLES, Actor
from app.uow import UnitOfWork
from tests.conftest import _pg_exec, _with_database
from tests.integration.bill_run_worker import populate

ROOT = Path(__file__).resolve().parents[2]
FEB_1, FEB_10, MAR_1, APR_1 = date(2026, 2, 1), date(2026, 2, 10), date(2026, 3, 1), date(2026, 4, 1)


# -- helpers -------------------------------------------------------------------------------------

def _account(uow, actor: Actor, name: str, status: str = "Active") -> accounts.AccountDetail:
    choices = accounts.lookups(uow(), actor)
    status_id = next(c.id for c in choices.statuses if c.name == status)
    kind = next(c.id for c in choices.types if c.name == "Residential")
    return accounts.create_account(uow(), actor, accounts.NewAccount(name=name, type_id=kind, status_id=status_id))


@pytest.fixture()
def catalogue(uow, system):
    tax = cat.save_tax(uow(), system, TaxInput("Sales tax", rate_text="13"))
    internet = cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45.00", tax_ids=[tax.id]))
    tv = cat.save_service(uow(), system, ServiceInput("TV Basic", kind="general", price_text="20.00",
                                                      tax_ids=[tax.id]))
    return {"internet": internet.id, "tv": tv.id, "tax": tax.id}


def _customer(uow, system, catalogue, name: str, *, starts_on: date = FEB_1, status: str = "Active",
              tv: bool = True) -> accounts.AccountDetail:
    a = _account(uow, system, name, status)
    subs.add_service(uow(), system, a.id, catalogue["internet"], 1, starts_on)
    if tv:
        subs.add_service(uow(), system, a.id, catalogue["tv"], 1, starts_on)
    return a


def _invoices(uow) -> list[tuple[int, date, int, str]]:
    """(account id, period start, total, status) of every invoice."""
    with uow() as u:
        return [tuple(r) for r in u.session.execute(
            select(Invoice.account_id, Invoice.period_start, Invoice.total, Invoice.status)
            .order_by(Invoice.account_id, Invoice.period_start))]


def _next_bill(uow, account_id: int) -> date | None:
    with uow() as u:
        return u.session.get(BillingAccount, account_id).next_bill_on


def _counts(uow) -> dict[str, int]:
    with uow() as u:
        counts = u.ledger.count_rows()
        counts["runs"] = int(u.session.scalar(select(func.count()).select_from(BillRun)))
        counts["next_bill_on"] = hash(tuple(u.session.execute(
            select(BillingAccount.account_id, BillingAccount.next_bill_on).order_by(BillingAccount.account_id))))
        return counts


def _run_row(uow, run_id: int) -> BillRun:
    with uow() as u:
        row = u.session.get(BillRun, run_id)
        u.session.expunge(row)
        return row


# -- who is invoiced, who is skipped -------------------------------------------------------------

def test_a_run_invoices_each_due_account_once_and_the_same_date_again_adds_nothing(uow, system, catalogue) -> None:
    owen = _customer(uow, system, catalogue, "Owen White")
    maya = _customer(uow, system, catalogue, "Maya Green", tv=False)
    rita = _customer(uow, system, catalogue, "Rita Moreno", status="Inactive")
    first = bill_run.run(uow, system, MAR_1)
    assert (first.state, first.invoices, first.skipped, first.failures) == ("done", 2, 1, ())
    # Owen: Feb and Mar of 65.00 + 13 % = 146.90; Maya: Feb and Mar of 45.00 + 13 % = 101.70.
    assert _invoices(uow) == [(owen.id, MAR_1, 14690, "open"), (maya.id, MAR_1, 10170, "open")]
    assert first.total == 14690 + 10170
    assert first.skipped_accounts[0].reason == "status Inactive does not bill"
    assert first.skip_reasons == {"status Inactive does not bill": 1}
    assert (_next_bill(uow, owen.id), _next_bill(uow, maya.id), _next_bill(uow, rita.id)) == (APR_1, APR_1, FEB_1)

    counts = _counts(uow)
    again = bill_run.run(uow, system, MAR_1)
    assert (again.state, again.invoices, again.total, again.skipped) == ("done", 0, 0, 1)
    assert _invoices(uow) == [(owen.id, MAR_1, 14690, "open"), (maya.id, MAR_1, 10170, "open")]
    after = _counts(uow)
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in counts.items() if k != "runs"}
    assert after["runs"] == counts["runs"] + 1

    with uow() as u:
        run_ids = set(u.session.scalars(select(Invoice.bill_run_id)))
        charges = list(u.session.execute(select(LedgerEntry.account_id, LedgerEntry.kind, LedgerEntry.amount)
                                         .order_by(LedgerEntry.account_id)))
        subscription = u.session.execute(select(AccountService.billed_through, AccountService.cycles_billed)
                                         .where(AccountService.account_id == owen.id)).first()
    assert run_ids == {first.id}
    assert [tuple(c) for c in charges] == [(owen.id, "charge", 14690), (maya.id, "charge", 10170)]
    assert (subscription.billed_through, subscription.cycles_billed) == (date(2026, 3, 31), 2)


def test_the_preview_changes_nothing_and_promises_what_the_run_then_posts(uow, system, catalogue) -> None:
    owen = _customer(uow, system, catalogue, "Owen White", starts_on=FEB_10)
    maya = _customer(uow, system, catalogue, "Maya Green", tv=False)
    _customer(uow, system, catalogue, "Leo Lead", status="Lead")
    counts = _counts(uow)
    preview = bill_run.preview(uow(), system, MAR_1)
    assert _counts(uow) == counts
    rows = {r.number: r for r in preview.rows}
    assert (preview.invoices, preview.skipped) == (2, 1)
    assert rows[owen.number].billed and rows[owen.number].lines > 2
    assert rows[maya.number].total == 10170 and rows[maya.number].amount_text == "101.70"
    assert [r.reason for r in preview.rows if not r.billed] == ["status Lead does not bill"]

    result = bill_run.run(uow, system, MAR_1)
    posted = {account_id: total for account_id, _, total, _ in _invoices(uow)}
    assert posted == {owen.id: rows[owen.number].total, maya.id: rows[maya.number].total}
    assert (result.invoices, result.total) == (preview.invoices, preview.total)
    with uow() as u:
        lines = u.session.scalar(select(func.count()).select_from(InvoiceLine)
                                 .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                                 .where(Invoice.account_id == owen.id))
    assert lines == rows[owen.number].lines


def test_skip_reasons_name_disconnection_no_services_and_an_invoiced_period(uow, system, catalogue) -> None:
    owen = _customer(uow, system, catalogue, "Owen White")
    gone = _customer(uow, system, catalogue, "Gina Gone")
    empty = _account(uow, system, "Emma Empty")
    invoiced = _customer(uow, system, catalogue, "Ivan Invoiced", tv=False)
    with uow() as u:
        u.session.add(BillingAccount(account_id=empty.id, next_bill_on=MAR_1))
        u.session.execute(update(Account).where(Account.id == gone.id)
                          .values(disconnected_on=date(2026, 2, 20)))
        u.commit()
    with uow() as u:  # Ivan's March was invoiced by hand (the billing calculator) before the run
        draft = rating.Draft(invoiced.id, MAR_1, date(2026, 3, 31), (rating.DraftLine("service", "Internet", 4500),),
                             4500, 0, 4500)
        invoicing.post_invoice(u, system, draft, company_id=invoiced.company_id, issued_on=FEB_10,
                               due_on=FEB_10 + timedelta(days=14), currency="USD")
        u.commit()
        by_hand = u.session.scalar(select(Invoice.number).where(Invoice.account_id == invoiced.id))

    preview = bill_run.preview(uow(), system, MAR_1)
    reasons = {r.number: r.reason for r in preview.rows}
    assert reasons == {
        owen.number: "", gone.number: "disconnected on 2026-02-20", empty.number: "no services",
        invoiced.number: f"already invoiced for this period (invoice {by_hand})",
    }
    result = bill_run.run(uow, system, MAR_1)
    assert (result.invoices, result.skipped) == (1, 3)
    assert result.skip_reasons == {"disconnected on 2026-02-20": 1, "no services": 1,
                                   "already invoiced for this period": 1}
    # The settled ones move on; the disconnected account stays due.
    assert (_next_bill(uow, empty.id), _next_bill(uow, invoiced.id), _next_bill(uow, gone.id)) == (APR_1, APR_1, FEB_1)
    assert [(a, t) for a, _, t, _ in _invoices(uow)] == [(owen.id, 14690), (invoiced.id, 4500)]


def test_a_missed_month_is_billed_on_the_next_run_without_a_gap_and_due_days_come_from_settings(
        uow, system, catalogue) -> None:
    owen = _customer(uow, system, catalogue, "Owen White", starts_on=date(2026, 1, 1), tv=False)
    with uow() as u:
        settings = u.session.scalar(select(BillingSettings))
        settings.due_days, settings.invoice_message = 21, "Thanks!"
        u.commit()
    bill_run.run(uow, system, date(2026, 1, 1))
    result = bill_run.run(uow, system, date(2026, 3, 5))  # February's run was missed
    assert result.invoices == 1
    with uow() as u:
        invoice = u.session.scalars(select(Invoice).order_by(Invoice.id.desc())).first()
        u.session.expunge(invoice)
    # Feb (missed) and Mar, 2 × 45.00 + 13 %; issued on the run date, due 21 days later.
    assert (invoice.period_start, invoice.total, invoice.issued_on, invoice.due_on, invoice.message) == (
        MAR_1, 10170, date(2026, 3, 5), date(2026, 3, 26), "Thanks!")
    assert _next_bill(uow, owen.id) == APR_1


def test_anniversary_accounts_are_billed_on_their_own_day_and_keep_it(uow, system, catalogue) -> None:
    cat.get_settings(uow(), system)  # written with the defaults
    with uow() as u:
        settings = u.session.scalar(select(BillingSettings))
        settings.bill_day_mode = "anniversary"
        u.commit()
    ann = _customer(uow, system, catalogue, "Ann Iversary", starts_on=date(2026, 2, 17), tv=False)
    assert _next_bill(uow, ann.id) == date(2026, 2, 17)
    assert bill_run.run(uow, system, MAR_1).invoices == 1
    assert _invoices(uow)[0][1] == date(2026, 2, 17)
    assert _next_bill(uow, ann.id) == date(2026, 3, 17)
    assert bill_run.run(uow, system, date(2026, 3, 16)).invoices == 0
    assert bill_run.run(uow, system, date(2026, 3, 17)).invoices == 1
    assert _next_bill(uow, ann.id) == date(2026, 4, 17)


def _lines_of(uow, account_id: int) -> list[tuple]:
    """An account's invoice lines as posted, without ids (what differs between two accounts)."""
    with uow() as u:
        rows = u.session.execute(
            select(InvoiceLine.position, InvoiceLine.kind, InvoiceLine.description, InvoiceLine.quantity,
                   InvoiceLine.unit_amount, InvoiceLine.amount, InvoiceLine.period_start, InvoiceLine.period_end,
                   InvoiceLine.gl_code, InvoiceLine.tax_id, InvoiceLine.detail)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id).where(Invoice.account_id == account_id)
            .order_by(Invoice.id, InvoiceLine.position)).all()
    out = []
    for r in rows:
        detail = dict(r.detail)
        for note in [detail.get("undo")] + (detail.get("undo_invoice") or {}).get("subscriptions", []):
            if note:
                note.pop("account_service_id", None)
        for note in (detail.get("undo_invoice") or {}).get("discounts", []):
            note.pop("id", None)
        detail.pop("discount_id", None)
        for c in detail.get("components", []):
            c.pop("account_service_id", None)
        out.append((*r[:-1], detail))
    return out


def test_bulk_posting_writes_exactly_what_posting_one_by_one_writes(uow, system, catalogue) -> None:
    """Two accounts sold the same, one posted by ``post_invoice``, the other by the run's
    ``post_invoices``: the same lines (undo notes included), charge, advanced services."""
    discount = cat.save_discount(uow(), system, cat.DiscountInput("Bulk deal", amount_text="10",
                                                                  service_id=catalogue["internet"]))
    one, bulk = (_customer(uow, system, catalogue, name, starts_on=FEB_10) for name in ("One By One", "In Bulk"))
    for a in (one, bulk):
        line = next(ln for ln in subs.account_lines(uow(), system, a.id, FEB_10)
                    if ln.service_id == catalogue["internet"])
        subs.add_discount(uow(), system, a.id, discount.id, account_service_id=line.id, starts_on=FEB_10)
    with uow() as u:
        from app.billing import loading

        account = loading.accounts_to_rate(u.session, [one.id], MAR_1)[one.id]
        draft = rating.rate(account, MAR_1, loading.taxes_for(u.session, one.company_id))
        invoicing.post_invoice(u, system, draft, company_id=one.company_id, issued_on=MAR_1,
                               due_on=date(2026, 3, 15), currency="USD")
        u.session.execute(update(BillingAccount).where(BillingAccount.account_id == one.id).values(next_bill_on=APR_1))
        u.commit()
    assert bill_run.run(uow, system, MAR_1).invoices == 1  # the other one, in bulk
    assert _lines_of(uow, one.id) == _lines_of(uow, bulk.id)
    assert len(_lines_of(uow, one.id)) >= 5
    with uow() as u:
        def state(account_id: int) -> tuple:
            services = u.session.execute(select(AccountService.billed_through, AccountService.cycles_billed)
                                         .where(AccountService.account_id == account_id)
                                         .order_by(AccountService.id)).all()
            charge = u.session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                                       .where(LedgerEntry.account_id == account_id)).all()
            return [tuple(s) for s in services], [tuple(c) for c in charge]
        assert state(one.id) == state(bulk.id)


def test_credit_on_an_account_pays_its_new_invoice_and_statements_carry_the_previous_balance(
        uow, system, catalogue) -> None:
    from app.billing import payments

    prepaid = _customer(uow, system, catalogue, "Pat Prepaid", tv=False)
    plain = _customer(uow, system, catalogue, "Sam Statement", tv=False)
    payments.take_payment(uow(), system, payments.PaymentInput(prepaid.id, "cash", 5000, FEB_10))
    with uow() as u:
        u.session.scalar(select(BillingSettings)).statement_mode = True
        u.commit()
    bill_run.run(uow, system, MAR_1)
    with uow() as u:
        paid = {i.account_id: (i.total, i.paid, i.status, i.previous_balance, i.payments_since)
                for i in u.session.scalars(select(Invoice))}
    # The 50.00 paid ahead went to Pat's invoice; a first statement shows the money received so far.
    assert paid[prepaid.id] == (10170, 5000, "open", 0, 5000)
    assert paid[plain.id] == (10170, 0, "open", 0, 0)
    bill_run.run(uow, system, APR_1)
    with uow() as u:
        april = u.session.scalars(select(Invoice).where(Invoice.account_id == plain.id,
                                                        Invoice.period_start == APR_1)).one()
        assert (april.total, april.previous_balance, april.payments_since) == (5085, 10170, 0)
        april_id = april.id
    assert invoicing.get_invoice(uow(), system, april_id).statement_mode


# -- bad data, cancel ----------------------------------------------------------------------------

def test_a_chunk_with_one_bad_account_invoices_the_others_and_records_the_failure(uow, system, catalogue) -> None:
    people = [_customer(uow, system, catalogue, f"Tenant {i}", tv=False) for i in range(5)]
    bad = people[2]
    with uow() as u:  # a price no invoice can hold (bad data typed into the database by hand)
        u.session.execute(update(AccountService).where(AccountService.account_id == bad.id)
                          .values(price_override=9_000_000_000_000_000_000 // 2))
        u.commit()
    result = bill_run.run(uow, system, MAR_1, chunk_size=10)
    assert (result.state, result.invoices, result.skipped) == ("done", 4, 0)
    assert [(f.number, f.name) for f in result.failures] == [(bad.number, "Tenant 2")]
    assert result.failures[0].reason
    assert result.summary_line.endswith("failed 1")
    assert sorted(a for a, _, _, _ in _invoices(uow)) == sorted(p.id for p in people if p is not bad)
    assert _next_bill(uow, bad.id) == FEB_1  # still due: the next run tries again
    assert all(_next_bill(uow, p.id) == APR_1 for p in people if p is not bad)
    stored = bill_run.get_run(uow(), system, result.id)
    assert stored.failures == result.failures


def test_cancel_stops_between_chunks_and_a_rerun_finishes_the_rest(uow, system, catalogue) -> None:
    people = [_customer(uow, system, catalogue, f"Tenant {i}", tv=False) for i in range(5)]
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1  # after the first chunk

    first = bill_run.run(uow, system, MAR_1, chunk_size=2, cancelled=cancelled)
    assert (first.state, first.invoices) == ("cancelled", 2)
    assert _run_row(uow, first.id).finished_at is not None
    rest = bill_run.run(uow, system, MAR_1, chunk_size=2)
    assert (rest.state, rest.invoices) == ("done", 3)
    assert Counter(a for a, _, _, _ in _invoices(uow)) == {p.id: 1 for p in people}


def test_a_user_without_the_run_permission_cannot_run_but_can_preview(uow, system, catalogue) -> None:
    _customer(uow, system, catalogue, "Owen White")
    support = Actor(None, "sam", "Support", BUILTIN_ROLES["Support"][1])
    assert bill_run.preview(uow(), support, MAR_1).invoices == 1
    with pytest.raises(PermissionDenied):
        bill_run.run(uow, support, MAR_1)
    assert _invoices(uow) == []


# -- one at a time -------------------------------------------------------------------------------

def _running_row(uow, worker: str, heartbeat_age: timedelta, invoices: int = 0) -> int:
    now = datetime.now(UTC)
    with uow() as u:
        row = BillRun(run_date=MAR_1, state="running", started_at=now - heartbeat_age - timedelta(minutes=1),
                      heartbeat_at=now - heartbeat_age, started_by="bob", worker=worker, invoices=invoices)
        u.session.add(row)
        u.commit()
        return row.id


def test_a_run_in_progress_elsewhere_refuses_a_second_one_with_who_and_since(uow, system, catalogue) -> None:
    _customer(uow, system, catalogue, "Owen White")
    _running_row(uow, "bob@desk-7 (pid 4242)", timedelta(seconds=10), invoices=1200)
    with pytest.raises(BillRunInProgress) as refused:
        bill_run.run(uow, system, MAR_1)
    assert str(refused.value).startswith("A bill run is already in progress on bob@desk-7 (pid 4242) since 20")
    assert str(refused.value).endswith("(1,200 invoices so far).")
    assert _invoices(uow) == []


def test_a_run_whose_heartbeat_went_stale_is_taken_over(uow, system, catalogue) -> None:
    _customer(uow, system, catalogue, "Owen White")
    stale = _running_row(uow, "bob@desk-7 (pid 4242)", timedelta(minutes=3))
    result = bill_run.run(uow, system, MAR_1)
    assert (result.state, result.invoices) == ("done", 1)
    old = _run_row(uow, stale)
    assert old.state == "failed" and "no heartbeat since" in old.error and "taken over by" in old.error


def test_a_run_of_a_process_gone_from_this_computer_is_taken_over_at_once(uow, system, catalogue) -> None:
    _customer(uow, system, catalogue, "Owen White")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = _running_row(uow, bill_run.worker_name("ghost").replace(f"pid {os.getpid()}", f"pid {dead.pid}"),
                        timedelta(seconds=5))
    assert bill_run.run(uow, system, MAR_1).invoices == 1
    assert "its process is gone" in _run_row(uow, gone).error


def test_a_run_that_was_taken_over_stops_at_its_next_chunk_and_rolls_it_back(uow, system, catalogue) -> None:
    people = [_customer(uow, system, catalogue, f"Tenant {i}", tv=False) for i in range(4)]

    def progress(done: int, total: int) -> None:
        if done == 2:  # another desktop decided this run was dead and took the lock
            with uow() as u:
                u.session.execute(update(BillRun).where(BillRun.state == "running").values(worker="eve@desk-2 (pid 1)"))
                u.commit()

    with pytest.raises(BillRunTakenOver):
        bill_run.run(uow, system, MAR_1, chunk_size=2, progress=progress)
    assert sorted(a for a, _, _, _ in _invoices(uow)) == [people[0].id, people[1].id]


def test_two_runs_at_once_one_runs_and_the_other_is_told(db_url, uow, system, catalogue) -> None:
    """Two threads, each with its own Database (its own connections), as two desktops: the first
    holds between two chunks until the second has tried."""
    for i in range(4):
        _customer(uow, system, catalogue, f"Tenant {i}", tv=False)
    tried, outcome = threading.Event(), {}
    dbs = [open_database(db_url), open_database(db_url)]

    def first() -> None:
        def progress(done: int, total: int) -> None:
            if done == 2:
                tried.wait(60)
        outcome["first"] = bill_run.run(lambda: UnitOfWork(dbs[0]), system, MAR_1, chunk_size=2, progress=progress,
                                        worker="alice@desk-1 (pid 11)")

    def second() -> None:
        try:
            bill_run.run(lambda: UnitOfWork(dbs[1]), system, MAR_1, worker="bob@desk-2 (pid 22)")
        except BillRunInProgress as exc:
            outcome["second"] = str(exc)
        finally:
            tried.set()

    runner = threading.Thread(target=first)
    runner.start()
    deadline = time.monotonic() + 60
    while _invoices(uow) == [] and time.monotonic() < deadline:
        time.sleep(0.02)
    other = threading.Thread(target=second)
    other.start()
    other.join(60)
    runner.join(60)
    for d in dbs:
        d.dispose()
    assert outcome["second"].startswith("A bill run is already in progress on alice@desk-1 (pid 11) since ")
    assert "(2 invoices so far)" in outcome["second"]
    assert outcome["first"].invoices == 4
    assert len(_invoices(uow)) == 4


# -- a run process killed half way ---------------------------------------------------------------

def _worker(url: str, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.Popen([sys.executable, "-m", "tests.integration.bill_run_worker", url, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture()
def twin_url(db_url: str, request, tmp_path: Path):
    """A second empty database of the same kind, to build the same data on."""
    if db_url.startswith("sqlite"):
        target = tmp_path / "twin.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite+pysqlite:///{target}"
        return
    server, template = request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template")
    name = f"twin_{uuid.uuid4().hex[:12]}"
    _pg_exec(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield _with_database(server, name)
    _pg_exec(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _build(url: str) -> None:
    database = open_database(url)
    try:
        populate(database, 300, seed=3)
    finally:
        database.dispose()


def _outcome(url: str) -> dict:
    """What a bill run leaves, by account number (ids and invoice numbers aside)."""
    database = open_database(url)
    try:
        with UnitOfWork(database) as u:
            s = u.session
            number = dict(s.execute(select(Account.id, Account.number)).all())
            per_period = Counter((number[a], p) for a, p in s.execute(select(Invoice.account_id, Invoice.period_start)))
            totals = {number[a]: t for a, t in s.execute(
                select(Invoice.account_id, func.sum(Invoice.total)).group_by(Invoice.account_id))}
            ledger = {number[a]: t for a, t in s.execute(
                select(LedgerEntry.account_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.account_id))}
            lines = {number[a]: n for a, n in s.execute(
                select(Invoice.account_id, func.count(InvoiceLine.id)).join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                .group_by(Invoice.account_id))}
            next_bill = {number[a]: d for a, d in s.execute(select(BillingAccount.account_id, BillingAccount.next_bill_on))}
            billed = sorted((number[a], sid, b, c) for a, sid, b, c in s.execute(
                select(AccountService.account_id, AccountService.service_id, AccountService.billed_through,
                       AccountService.cycles_billed)))
            numbers = sorted(int(n) for n in s.scalars(select(Invoice.number)))
            return {"per_period": per_period, "totals": totals, "ledger": ledger, "lines": lines,
                    "ledger_sum": sum(ledger.values()), "next_bill": next_bill, "billed": billed,
                    "numbers": numbers}
    finally:
        database.dispose()


def test_a_run_killed_half_way_and_rerun_gives_exactly_what_an_uninterrupted_run_gives(
        db_url, twin_url, tmp_path) -> None:
    _build(db_url)
    _build(twin_url)

    whole = _worker(twin_url, "--chunk", "40")
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    uninterrupted = json.loads(out)
    assert uninterrupted["state"] == "done" and uninterrupted["invoices"] > 200

    stalled = tmp_path / "stalled"
    doomed = _worker(db_url, "--chunk", "40", "--stall-after", "3", "--stall-file", str(stalled))
    try:
        deadline = time.monotonic() + 300
        while not stalled.exists():
            assert doomed.poll() is None, doomed.stderr.read()
            assert time.monotonic() < deadline, "the worker never stalled"
            time.sleep(0.02)
        half = _outcome(db_url)  # three chunks committed, the fourth posted but not committed
        assert 0 < sum(half["per_period"].values()) < uninterrupted["invoices"]
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
    assert doomed.returncode == -signal.SIGKILL

    rerun = _worker(db_url, "--chunk", "40")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    second = json.loads(out)
    assert second["state"] == "done"
    assert sum(half["per_period"].values()) + second["invoices"] == uninterrupted["invoices"]

    killed, whole_outcome = _outcome(db_url), _outcome(twin_url)
    assert set(killed["per_period"].values()) == {1}  # one invoice per account and period
    for key in ("per_period", "totals", "ledger", "lines", "ledger_sum", "next_bill", "billed", "numbers"):
        assert killed[key] == whole_outcome[key], key
    database = open_database(db_url)
    try:
        with UnitOfWork(database) as u:
            runs = list(u.session.execute(select(BillRun.state, BillRun.error).order_by(BillRun.id)))
    finally:
        database.dispose()
    assert [r.state for r in runs] == ["failed", "done"]
    assert "its process is gone" in runs[0].error or "no heartbeat" in runs[0].error


# -- the command line ----------------------------------------------------------------------------

def _riser(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=180, check=False)


def test_the_command_line_dry_run_lists_every_account_and_changes_nothing_then_runs(
        db_url, uow, system, catalogue) -> None:
    owen = _customer(uow, system, catalogue, "Owen White")
    rita = _customer(uow, system, catalogue, "Rita Moreno", status="Inactive")
    counts = _counts(uow)
    dry = _riser("--database", db_url, "bill-run", "--date", "2026-03-01", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == f"{owen.number} Owen White   146.90"
    assert lines[1] == f"{rita.number} Rita Moreno  skipped: status Inactive does not bill"
    assert lines[-1] == "invoices 1, total 146.90 USD, skipped 1"
    assert _counts(uow) == counts

    real = _riser("--database", db_url, "bill-run", "--date", "2026-03-01")
    assert (real.returncode, real.stdout.strip()) == (0, "invoices 1, total 146.90 USD, skipped 1"), real.stderr
    again = _riser("--database", db_url, "bill-run", "--date", "2026-03-01")
    assert (again.returncode, again.stdout.strip()) == (0, "invoices 0, total 0.00, skipped 1")
    assert len(_invoices(uow)) == 1


def test_the_command_line_says_when_another_run_is_in_progress(sqlite_url_fresh) -> None:
    database = open_database(sqlite_url_fresh)
    _running_row(lambda: UnitOfWork(database), "bob@desk-7 (pid 4242)", timedelta(seconds=5))
    database.dispose()
    result = _riser("--database", sqlite_url_fresh, "bill-run", "--date", "2026-03-01")
    assert result.returncode == 1
    assert result.stderr.startswith("riser: A bill run is already in progress on bob@desk-7 (pid 4242) since ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "code", "text"), [
    (("bill-run", "--date", "2026-02-30"), 2, "'2026-02-30' is not a date: use YYYY-MM-DD"),
    (("bill-run", "--dry"), 0, "invoices 0, total 0.00, skipped 0"),
    (("billing",), 2, "required"),
    (("billing", "daily", "--date", "2026-11-23"), 0, "2026-11-23: "),
])
def test_the_command_line_bill_run_and_daily_answer_in_one_line(sqlite_url_fresh, args, code, text) -> None:
    result = _riser("--database", sqlite_url_fresh, *args)
    assert result.returncode == code, result.stderr
    assert text in (result.stdout if code == 0 else result.stderr)
    if code:
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
