"""Invoices in the database, the ledger and payments, end to end on SQLite and PostgreSQL:
posting a draft (one invoice per account and period), voids that reverse and restore, payments
allocated oldest first or to a chosen invoice, credit that pays the next invoice, refunds,
reversals, batches that are all or nothing, and nothing ever deleted.

The drafts are built by hand (``draft``): the rating engine has its own tests. The helpers
above the tests are shared with test_billing_payments.py and test_ledger_properties.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.billing import invoicing, ledger, payments, rating
from app.billing.invoicing import InvoiceExists, InvoiceQuery
from app.billing.ledger_repository import LedgerRepository
from app.billing.models import (
    CHARGE,
    CREDIT,
    DATA,
    OPEN,
    PAID,
    PAYMENT,
    REVERSAL,
    VOID,
    AccountService,
    PaymentAllocation,
    Service,
    UsageRollover,
    UsageTopUp,
)
from app.billing.payments import PaymentInput
from app.core.errors import ValidationError
from app.core.export import ExportFormat
from app.core.permissions import Actor


# == helpers (shared) ============================================================================
def make_account(uow, actor: Actor, name: str) -> accounts.AccountDetail:
    choices = accounts.lookups(uow(), actor)
    status = next(c.id for c in choices.statuses if c.name == "Active")
    kind = next(c.id for c in choices.types if c.name == "Residential")
    return accounts.create_account(uow(), actor, accounts.NewAccount(name=name, type_id=kind, status_id=status))


def make_subscription(uow, account: accounts.AccountDetail, price: int = 5000, name: str = "Fibre 500") -> int:
    """A data service and an account service for it, never billed yet."""
    with uow() as u:
        service = u.session.scalar(select(Service).where(Service.company_id == account.company_id,
                                                         Service.name == name))
        if service is None:
            service = Service(company_id=account.company_id, name=name, kind=DATA, price=price)
            u.session.add(service)
            u.session.flush()
        sub = AccountService(account_id=account.id, service_id=service.id, starts_on=date(2024, 1, 1))
        u.session.add(sub)
        u.session.flush()
        sub_id = sub.id
        u.commit()
    return sub_id


def month_end(start: date) -> date:
    nxt = date(start.year + (start.month == 12), start.month % 12 + 1, start.day)
    return nxt - timedelta(days=1)


def draft(account_id: int, period_start: date, amount: int, *, subscription_id: int | None = None,
          cycles_before: int = 0, tax: int = 0, description: str = "Fibre 500") -> rating.Draft:
    """One service line of ``amount`` (and a tax line of ``tax``) for the month from
    ``period_start``; with ``subscription_id`` the draft advances that subscription's billed
    through to the period's end."""
    end = month_end(period_start)
    lines = [rating.DraftLine(
        kind="service" if amount >= 0 else "credit", description=description, amount=amount,
        unit_amount=amount, account_service_id=subscription_id, period_start=period_start, period_end=end,
    )]
    if tax:
        lines.append(rating.DraftLine(kind="tax", description="Sales tax 8 %", amount=tax))
    updates = ()
    if subscription_id is not None:
        updates = (rating.SubscriptionUpdate(subscription_id, end, cycles_before + 1),)
    return rating.Draft(
        account_id=account_id, period_start=period_start, period_end=end, lines=tuple(lines),
        subtotal=amount, tax_total=tax, total=amount + tax, subscription_updates=updates,
    )


def post(uow, actor: Actor, account: accounts.AccountDetail, d: rating.Draft, *,
         statement_mode: bool = False) -> int:
    with uow() as u:
        invoice_id = invoicing.post_invoice(
            u, actor, d, company_id=account.company_id, issued_on=d.period_start,
            due_on=d.period_start + timedelta(days=14), currency="USD", statement_mode=statement_mode,
        )
        u.commit()
    return invoice_id


def row_counts(uow) -> dict[str, int]:
    with uow() as u:
        return u.ledger.count_rows()


def ledger_sum(uow, account_id: int | None = None) -> int:
    from app.billing.models import LedgerEntry

    with uow() as u:
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        if account_id is not None:
            stmt = stmt.where(LedgerEntry.account_id == account_id)
        return int(u.session.scalar(stmt))


# == the tests ===================================================================================

D1, D2, D3 = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


@pytest.fixture()
def owen(uow, system):
    return make_account(uow, system, "Owen White")


@pytest.fixture()
def maya(uow, system):
    return make_account(uow, system, "Maya Green")


def invoice_row(uow, system, invoice_id: int) -> invoicing.InvoiceRow:
    return invoicing.get_invoice(uow(), system, invoice_id).row


def pay(uow, system, account, amount: int, *, invoice_id=None, method="cash", reference="", on=D2):
    return payments.take_payment(uow(), system, PaymentInput(account.id, method, amount, on, reference, invoice_id))


# -- posting -------------------------------------------------------------------------------------

def test_posting_writes_the_invoice_its_lines_in_order_and_one_charge_entry_for_the_total(uow, system, owen) -> None:
    invoice_id = post(uow, system, owen, draft(owen.id, D1, 10000, tax=800))
    detail = invoicing.get_invoice(uow(), system, invoice_id)
    assert detail.row.number == "100001"
    assert (detail.subtotal, detail.tax_total, detail.row.total) == (10000, 800, 10800)
    assert [(ln.position, ln.kind, ln.amount) for ln in detail.lines] == [(0, "service", 10000), (1, "tax", 800)]
    assert detail.row.status == OPEN and detail.row.balance_due == 10800
    rows = ledger.entries(uow(), system, owen.id)
    assert [(r.kind, r.amount, r.balance, r.invoice_number) for r in rows] == [(CHARGE, 10800, 10800, "100001")]
    assert ledger.balance(uow(), system, owen.id) == 10800
    with uow() as u:
        assert u.ledger.invoice(invoice_id).billing_key == f"{owen.id}:2024-01-01"


def test_invoice_numbers_follow_each_other_across_accounts(uow, system, owen, maya) -> None:
    a = post(uow, system, owen, draft(owen.id, D1, 100))
    b = post(uow, system, maya, draft(maya.id, D1, 100))
    assert (invoice_row(uow, system, a).number, invoice_row(uow, system, b).number) == ("100001", "100002")


def test_a_second_invoice_for_the_same_account_and_period_raises_invoice_exists(uow, system, owen) -> None:
    post(uow, system, owen, draft(owen.id, D1, 5000))
    before = row_counts(uow)
    with pytest.raises(InvoiceExists, match="Invoice 100001 already bills this account"):
        post(uow, system, owen, draft(owen.id, D1, 5000))
    assert row_counts(uow) == before


def test_the_unique_index_catches_a_racing_second_invoice_and_says_invoice_exists(uow, system, owen, monkeypatch) -> None:
    post(uow, system, owen, draft(owen.id, D1, 5000))
    real = LedgerRepository.lock_for_posting
    calls = []

    def blind(self, account_id, key):  # the check misses the other desktop's invoice; the index does not
        calls.append(key)
        account, _existing, balance, due = real(self, account_id, key)
        return account, None, balance, due

    monkeypatch.setattr(LedgerRepository, "lock_for_posting", blind)
    with pytest.raises(InvoiceExists, match="Invoice 100001 already bills"):
        post(uow, system, owen, draft(owen.id, D1, 5000))
    assert len(calls) == 1
    monkeypatch.undo()
    assert invoicing.first_page(uow(), system, InvoiceQuery(account_id=owen.id), 10)[0] == 1


def test_a_draft_that_does_not_add_up_is_refused_before_anything_is_written(uow, system, owen) -> None:
    bad = dataclasses.replace(draft(owen.id, D1, 5000), total=5001)
    with pytest.raises(ValidationError, match="does not add up"):
        post(uow, system, owen, bad)
    assert row_counts(uow)["invoices"] == 0


def test_a_draft_whose_credits_exceed_its_charges_posts_a_credit_entry_and_nothing_is_due(uow, system, owen) -> None:
    invoice_id = post(uow, system, owen, draft(owen.id, D1, -2500, description="Promo credit"))
    row = invoice_row(uow, system, invoice_id)
    assert (row.total, row.balance_due, row.status) == (-2500, 0, PAID)
    assert [(r.kind, r.amount) for r in ledger.entries(uow(), system, owen.id)] == [(CREDIT, -2500)]
    # The credit pays the next invoice.
    second = post(uow, system, owen, draft(owen.id, D2, 4000))
    assert (invoice_row(uow, system, second).paid, invoice_row(uow, system, second).balance_due) == (2500, 1500)
    assert ledger.summary(uow(), system, owen.id).credit == 0


def test_posting_advances_the_subscription_and_keeps_what_to_undo_on_the_line(uow, system, owen) -> None:
    sub = make_subscription(uow, owen)
    invoice_id = post(uow, system, owen, draft(owen.id, D1, 5000, subscription_id=sub))
    with uow() as u:
        service = u.session.get(AccountService, sub)
        assert (service.billed_through, service.cycles_billed) == (date(2024, 1, 31), 1)
        line = u.ledger.lines(invoice_id)[0]
        assert line.detail["undo"] == {"account_service_id": sub, "billed_through": None, "cycles_billed": 0,
                                       "set_billed_through": "2024-01-31", "set_cycles_billed": 1}


def test_usage_updates_of_a_draft_are_applied_rollover_dated_a_month_before_the_period(uow, system, owen) -> None:
    with uow() as u:
        rollover = UsageRollover(account_id=owen.id, from_period_start=date(2023, 12, 1), mb_left=9000,
                                 expires_on=date(2024, 6, 1))
        topup = UsageTopUp(account_id=owen.id, bought_on=date(2024, 1, 10), mb=5000, price=500)
        u.session.add_all([rollover, topup])
        u.session.flush()
        rollover_id, topup_id = rollover.id, topup.id
        u.commit()
    d = dataclasses.replace(draft(owen.id, D2, 5000), rollovers_used=((rollover_id, 1000),), new_rollover_mb=2500,
                            new_rollover_expires_on=date(2024, 5, 1), topups_invoiced=(topup_id,))
    invoice_id = post(uow, system, owen, d)
    with uow() as u:
        assert u.session.get(UsageRollover, rollover_id).mb_left == 1000
        assert u.session.get(UsageTopUp, topup_id).invoiced is True
        new = u.session.scalars(select(UsageRollover).where(UsageRollover.id != rollover_id)).one()
        assert (new.from_period_start, new.mb_left, new.expires_on) == (date(2024, 1, 1), 2500, date(2024, 5, 1))
    invoicing.void_invoice(uow(), system, invoice_id, "wrong usage", D2)
    with uow() as u:
        assert u.session.get(UsageRollover, rollover_id).mb_left == 9000
        assert u.session.get(UsageTopUp, topup_id).invoiced is False


def test_a_statement_shows_the_previous_balance_and_the_payments_since(uow, system, owen) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000), statement_mode=True)
    pay(uow, system, owen, 6000, on=date(2024, 1, 20))
    ledger.post_adjustment(uow(), system, owen.id, 500, "Returned-check fee", date(2024, 1, 25))
    second = post(uow, system, owen, draft(owen.id, D2, 10000), statement_mode=True)
    detail = invoicing.get_invoice(uow(), system, second)
    assert detail.statement_mode
    assert (detail.previous_balance, detail.payments_since, detail.other_since) == (10000, 6000, 500)
    assert detail.statement_due == ledger.balance(uow(), system, owen.id) == 14500


# -- voids ---------------------------------------------------------------------------------------

def test_a_void_reverses_the_charge_frees_its_payments_as_credit_and_restores_billed_through(uow, system, owen) -> None:
    sub = make_subscription(uow, owen)
    jan = post(uow, system, owen, draft(owen.id, D1, 10000, subscription_id=sub))
    pay(uow, system, owen, 4000)
    before = row_counts(uow)
    row = invoicing.void_invoice(uow(), system, jan, "wrong plan", D1 + timedelta(days=3))
    assert (row.status, row.paid, row.balance_due) == (VOID, 0, 0)
    entries = ledger.entries(uow(), system, owen.id)
    assert [(e.kind, e.amount) for e in entries] == [(CHARGE, 10000), (PAYMENT, -4000), (REVERSAL, -10000)]
    assert entries[-1].reverses_id == entries[0].id
    summary = ledger.summary(uow(), system, owen.id)
    assert (summary.balance, summary.credit) == (-4000, 4000)
    with uow() as u:
        service = u.session.get(AccountService, sub)
        assert (service.billed_through, service.cycles_billed) == (None, 0)
        invoice = u.ledger.invoice(jan)
        assert invoice.billing_key is None and invoice.voided_at is not None and invoice.void_reason == "wrong plan"
        allocations = u.session.scalars(select(PaymentAllocation.amount).where(PaymentAllocation.invoice_id == jan))
        assert sorted(allocations) == [-4000, 4000]
    after = row_counts(uow)
    assert all(after[k] >= before[k] for k in before) and after["invoices"] == before["invoices"]
    # The period can be invoiced again, and the freed credit pays it.
    again = post(uow, system, owen, draft(owen.id, D1, 9000, subscription_id=sub))
    assert (invoice_row(uow, system, again).paid, invoice_row(uow, system, again).number) == (4000, "100002")


def test_a_void_needs_a_reason_and_happens_once(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    with pytest.raises(ValidationError, match="Say why"):
        invoicing.void_invoice(uow(), system, jan, "  ", D1)
    invoicing.void_invoice(uow(), system, jan, "test", D1)
    with pytest.raises(ValidationError, match="already void"):
        invoicing.void_invoice(uow(), system, jan, "test", D1)


def test_an_invoice_whose_service_was_billed_again_later_cannot_be_voided_before_the_later_one(uow, system, owen) -> None:
    sub = make_subscription(uow, owen)
    jan = post(uow, system, owen, draft(owen.id, D1, 10000, subscription_id=sub))
    feb = post(uow, system, owen, draft(owen.id, D2, 10000, subscription_id=sub, cycles_before=1))
    before = row_counts(uow)
    with pytest.raises(ValidationError, match="billed again on invoice 100002 — void that one first"):
        invoicing.void_invoice(uow(), system, jan, "oops", D2)
    assert row_counts(uow) == before and invoice_row(uow, system, jan).status == OPEN
    invoicing.void_invoice(uow(), system, feb, "oops", D2)
    invoicing.void_invoice(uow(), system, jan, "oops", D2)
    with uow() as u:
        assert u.session.get(AccountService, sub).billed_through is None


def test_voiding_a_paid_invoice_lets_its_money_pay_the_other_open_invoice(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 5000))
    pay(uow, system, owen, 5000)
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    invoicing.void_invoice(uow(), system, jan, "not owed", D2)
    assert (invoice_row(uow, system, feb).paid, ledger.summary(uow(), system, owen.id).credit) == (5000, 0)


def test_a_manual_credit_pays_open_invoices_and_a_manual_charge_needs_a_reason(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 5000))
    row = ledger.post_adjustment(uow(), system, owen.id, -2000, "Outage goodwill", D1)
    assert (row.kind, row.amount, row.balance) == ("adjustment", -2000, 3000)
    assert invoice_row(uow, system, jan).paid == 2000
    with pytest.raises(ValidationError, match="needs a reason"):
        ledger.post_adjustment(uow(), system, owen.id, 500, "")
    with pytest.raises(ValidationError, match="other than zero"):
        ledger.post_adjustment(uow(), system, owen.id, 0, "nothing")


# -- the list and the export ---------------------------------------------------------------------

def test_the_invoices_list_filters_by_status_date_account_and_search(uow, system, owen, maya) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 5000))
    post(uow, system, owen, draft(owen.id, D2, 5000))
    post(uow, system, maya, draft(maya.id, D2, 7000))
    pay(uow, system, owen, 5000)
    total, rows = invoicing.first_page(uow(), system, InvoiceQuery(), 2)
    assert total == 3 and [r.issued_on for r in rows] == [D2, D2]
    assert [r.number for r in invoicing.page(uow(), system, InvoiceQuery(), 2, 2)] == ["100001"]
    assert [r.id for r in invoicing.list_invoices(uow(), system, InvoiceQuery(status=PAID))] == [jan]
    assert invoicing.first_page(uow(), system, InvoiceQuery(date_from=D2), 10)[0] == 2
    assert invoicing.first_page(uow(), system, InvoiceQuery(date_to=D1), 10)[0] == 1
    assert {r.account_name for r in invoicing.list_invoices(uow(), system, InvoiceQuery(search="maya"))} == {"Maya Green"}
    assert [r.number for r in invoicing.list_invoices(uow(), system, InvoiceQuery(search="100003"))] == ["100003"]
    assert invoicing.first_page(uow(), system, InvoiceQuery(account_id=maya.id), 10)[0] == 1
    assert invoicing.first_page(uow(), system, InvoiceQuery(company_id=owen.company_id), 10)[0] == 3


def test_the_invoices_export_writes_the_list_as_csv_with_exact_amounts(uow, system, owen, tmp_path) -> None:
    post(uow, system, owen, draft(owen.id, D1, 123456, tax=9876))
    out = io.StringIO()
    assert invoicing.export_invoices(uow(), system, out, ExportFormat.CSV) == 1
    header, line = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[:2] == ["Number", "Account"]
    assert line[0] == "100001" and line[8:12] == ["1333.32", "0.00", "1333.32", "open"]
    path = tmp_path / "invoices.csv"
    assert invoicing.export_invoices(uow(), system, path, ExportFormat.CSV, InvoiceQuery(status=VOID)) == 0
    assert path.read_text(encoding="utf-8-sig").startswith("Number,Account")


def test_nothing_is_ever_deleted_row_counts_only_grow(uow, system, owen, maya) -> None:
    seen = row_counts(uow)

    def step() -> None:
        nonlocal seen
        now = row_counts(uow)
        assert all(now[k] >= seen[k] for k in seen), (seen, now)
        seen = now

    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    step()
    paid = pay(uow, system, owen, 12000, method="check", reference="5")
    step()
    payments.refund(uow(), system, owen.id, 1000, "cash", "", "overpaid", D2)
    step()
    payments.reverse_payment(uow(), system, paid.payment_id, "bounced", D2)
    step()
    invoicing.void_invoice(uow(), system, jan, "wrong", D2)
    step()
    payments.take_batch(uow(), system, D2, "b", [PaymentInput(maya.id, "cash", 100, D2)])
    step()
    assert ledger_sum(uow, owen.id) == ledger.balance(uow(), system, owen.id) == 1000
