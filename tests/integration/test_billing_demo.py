"""The demo grows with billing: a catalogue, services on most accounts, three bill runs with
payments, late fees and delinquency — made through the billing services, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import demo
from app.accounts.models import Account, AccountStatus
from app.billing import bill_run, daily, ledger
from app.billing.models import (
    LATE_FEE,
    AccountService,
    BillingAccount,
    BillRun,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)

TODAY = date(2026, 11, 18)  # mid-month: the first stage of delinquency is the hard one to show
BILL_DATES = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]


@pytest.fixture()
def small(uow, system):  # noqa: ANN001, ANN201
    return demo.generate(uow(), system, 60, seed=3, today=TODAY)


def _activating_accounts(u) -> list[int]:  # noqa: ANN001
    return list(u.session.scalars(select(Account.id).join(AccountStatus).where(AccountStatus.activates)))


def test_most_active_accounts_have_services(uow, small) -> None:  # noqa: ANN001
    with uow() as u:
        active = set(_activating_accounts(u))
        served = set(u.session.scalars(select(AccountService.account_id).distinct()))
    assert small.accounts == 60
    assert len(active & served) >= 0.8 * len(active)


def test_three_bill_dates_are_invoiced_and_every_total_is_the_sum_of_its_lines(uow, small) -> None:  # noqa: ANN001
    with uow() as u:
        s = u.session
        runs = s.execute(select(BillRun.run_date, BillRun.state, BillRun.invoices).order_by(BillRun.run_date)).all()
        assert [(r.run_date, r.state) for r in runs] == [(d, "done") for d in BILL_DATES]
        issued = dict(s.execute(select(Invoice.issued_on, func.count()).group_by(Invoice.issued_on)).all())
        assert set(issued) == set(BILL_DATES) and all(n >= 20 for n in issued.values())
        assert sum(issued.values()) == small.invoices == sum(r.invoices for r in runs)
        lines = dict(s.execute(select(InvoiceLine.invoice_id, func.sum(InvoiceLine.amount))
                               .group_by(InvoiceLine.invoice_id)).all())
        for invoice in s.scalars(select(Invoice)):
            assert invoice.total == lines[invoice.id], invoice.number
            assert invoice.subtotal + invoice.tax_total == invoice.total, invoice.number
        kinds = set(s.scalars(select(InvoiceLine.kind).distinct()))
    assert {"service", "package", "tax", "usage", "credit"} <= kinds


def test_payments_are_taken_and_each_invoice_is_paid_by_its_allocations(uow, small) -> None:  # noqa: ANN001
    with uow() as u:
        s = u.session
        assert s.scalar(select(func.count(Payment.id))) == small.payments > 0
        assert len(set(s.scalars(select(Payment.method).distinct()))) >= 3
        allocated = dict(s.execute(select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
                                   .group_by(PaymentAllocation.invoice_id)).all())
        invoices = list(s.scalars(select(Invoice)))
        for invoice in invoices:
            assert invoice.paid == allocated.get(invoice.id, 0), invoice.number
            assert (invoice.status == "paid") == (invoice.paid >= invoice.total), invoice.number
        first = [i for i in invoices if i.issued_on == BILL_DATES[0]]
        assert sum(i.status == "paid" for i in first) >= 0.85 * len(first)
        assert all(p.received_on <= TODAY for p in s.scalars(select(Payment)))


def test_the_demo_shows_a_delinquent_account_and_a_late_fee(uow, system, small) -> None:  # noqa: ANN001
    with uow() as u:
        s = u.session
        first_stage = s.execute(
            select(Account.number, BillingAccount.delinquent_since).join(BillingAccount)
            .join(AccountStatus, AccountStatus.id == Account.status_id)
            .where(BillingAccount.delinquent_since.is_not(None), BillingAccount.status_switched_on.is_(None),
                   AccountStatus.name == "Delinquent")).all()
        fees = s.scalar(select(func.count(InvoiceLine.id)).where(InvoiceLine.kind == LATE_FEE))
        fee_entries = s.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == LATE_FEE))
    assert first_stage, "no account in the first stage of delinquency"
    assert all(since <= TODAY for _n, since in first_stage)
    assert fees >= 1 and fees == fee_entries == small.late_fees
    assert small.delinquent >= len(first_stage)


def test_every_balance_is_the_sum_of_its_entries_and_of_invoices_less_payments(uow, system, small) -> None:  # noqa: ANN001
    with uow() as u:
        s = u.session
        ids = list(s.scalars(select(Account.id)))
        invoiced = dict(s.execute(select(Invoice.account_id, func.sum(Invoice.total)).group_by(Invoice.account_id)).all())
        paid = dict(s.execute(select(Payment.account_id, func.sum(Payment.amount)).group_by(Payment.account_id)).all())
    for account_id in ids:
        entries = ledger.entries(uow(), system, account_id)
        balance = ledger.balance(uow(), system, account_id)
        assert balance == sum(e.amount for e in entries)
        assert balance == invoiced.get(account_id, 0) - paid.get(account_id, 0)


def test_a_preview_of_next_months_run_invoices_most_accounts_and_writes_nothing(uow, system, small) -> None:  # noqa: ANN001
    with uow() as u:
        before = u.session.scalar(select(func.count(Invoice.id)))
        billed = set(u.session.scalars(select(BillingAccount.account_id).where(
            BillingAccount.next_bill_on.is_not(None), BillingAccount.roll_up_to_parent.is_(False))))
    preview = bill_run.preview(uow(), system, date(2026, 12, 1))
    assert preview.invoices >= 0.85 * len(billed)
    assert all(r.billed or r.reason for r in preview.rows)
    with uow() as u:
        assert u.session.scalar(select(func.count(Invoice.id))) == before


def test_running_the_daily_chores_again_today_finds_nothing_left_to_do(uow, system, small) -> None:  # noqa: ANN001
    done = daily.run_daily(uow, system, TODAY)
    assert done.late_fees.applied == 0
    assert (done.delinquency.delinquent, done.delinquency.switched, done.delinquency.restored) == (0, 0, 0)


def _billing_fingerprint(uow) -> dict:  # noqa: ANN001
    """What the billing history is, without ids or clock times."""
    with uow() as u:
        s = u.session
        number = dict(s.execute(select(Account.id, Account.number)).all())
        invoice = dict(s.execute(select(Invoice.id, Invoice.number)).all())
        payment = {p.id: (number[p.account_id], p.method, p.reference, p.amount, p.received_on)
                   for p in s.scalars(select(Payment))}
        return {
            "invoices": sorted((i.number, number[i.account_id], i.issued_on, i.total, i.paid, i.status,
                                i.late_fee_applied_on) for i in s.scalars(select(Invoice))),
            "payments": sorted(payment.values()),
            "allocations": sorted((invoice[a.invoice_id], payment.get(a.payment_id), a.amount)
                                  for a in s.scalars(select(PaymentAllocation))),
            "ledger": sorted((number[e.account_id], e.kind, e.amount, e.posted_on, e.description)
                             for e in s.scalars(select(LedgerEntry))),
            "delinquency": sorted((number[b.account_id], b.delinquent_since, b.status_switched_on)
                                  for b in s.scalars(select(BillingAccount))),
        }


def test_the_fast_payment_path_leaves_exactly_what_the_payment_service_leaves(uow, system, db_url, request,
                                                                             tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """``demo._demo_payments`` writes plain payments itself; with it turned off every payment
    goes through ``payments._take``. The same seed and day must give the same books."""
    from app.core import schema
    from app.core.db import open_database, sqlite_url
    from app.uow import UnitOfWork

    demo.generate(uow(), system, 60, seed=4, today=TODAY)
    fast = _billing_fingerprint(uow)
    other_url = sqlite_url(tmp_path / "slow.sqlite") if db_url.startswith("sqlite") \
        else request.getfixturevalue("empty_pg_url")
    other = open_database(other_url)
    try:
        schema.upgrade(other)
        monkeypatch.setattr(demo, "FAST_PAYMENTS", False)
        demo.generate(UnitOfWork(other), system, 60, seed=4, today=TODAY)
        slow = _billing_fingerprint(lambda: UnitOfWork(other))
    finally:
        other.dispose()
    assert fast["payments"] and fast["allocations"]
    for key in fast:
        assert fast[key] == slow[key], key


@pytest.mark.parametrize("today", [date(2026, 11, 2), date(2026, 11, 9), date(2027, 1, 4)])
def test_whatever_the_day_of_the_month_an_account_is_in_the_first_stage_of_delinquency(uow, system, today) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 40, seed=5, today=today)
    with uow() as u:
        s = u.session
        stages = s.execute(select(BillingAccount.status_switched_on.is_(None), AccountStatus.name)
                           .join(Account, Account.id == BillingAccount.account_id)
                           .join(AccountStatus, AccountStatus.id == Account.status_id)
                           .where(BillingAccount.delinquent_since.is_not(None))).all()
        last = s.scalar(select(func.max(Invoice.issued_on)))
    assert (True, "Delinquent") in stages
    assert last == today.replace(day=1)
