"""Payments end to end on SQLite and PostgreSQL: allocation oldest first or to a chosen
invoice, part payments, overpayments as credit, refusals (a void invoice, a card number, a
check without its number), the delinquency hook, batches that are all or nothing with their
deposit slip, bounced checks reversed once, and refunds limited to the credit.

The helpers (accounts, hand-made drafts, posting, row counts) come from test_billing_ledger.py.
"""

from __future__ import annotations

import sys
import types

import pytest

from app.billing import invoicing, ledger, payments
from app.billing.models import CHARGE, OPEN, PAID, PAYMENT, REFUND, REVERSAL
from app.billing.payments import LineError, PaymentInput
from app.core.errors import PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from tests.integration.test_billing_ledger import (
    D1,
    D2,
    D3,
    draft,
    invoice_row,
    make_account,
    pay,
    post,
    row_counts,
)


@pytest.fixture()
def owen(uow, system):
    return make_account(uow, system, "Owen White")


@pytest.fixture()
def maya(uow, system):
    return make_account(uow, system, "Maya Green")


# -- payments and allocation ---------------------------------------------------------------------

def test_a_payment_pays_the_oldest_open_invoices_first(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    result = pay(uow, system, owen, 15000)
    assert [(a.invoice_id, a.amount) for a in result.allocations] == [(jan, 10000), (feb, 5000)]
    assert invoice_row(uow, system, jan).status == PAID
    feb_row = invoice_row(uow, system, feb)
    assert (feb_row.status, feb_row.paid, feb_row.balance_due) == (OPEN, 5000, 3000)
    assert (result.balance, result.credit) == (3000, 0)
    assert [(r.kind, r.amount, r.balance) for r in ledger.entries(uow(), system, owen.id)] == [
        (CHARGE, 10000, 10000), (CHARGE, 8000, 18000), (PAYMENT, -15000, 3000)]


def test_a_payment_for_a_chosen_invoice_pays_that_one_and_leaves_the_older_open(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    result = pay(uow, system, owen, 8000, invoice_id=feb)
    assert [(a.invoice_id, a.amount) for a in result.allocations] == [(feb, 8000)]
    assert invoice_row(uow, system, feb).status == PAID
    assert invoice_row(uow, system, jan).status == OPEN


def test_a_part_payment_leaves_the_invoice_open_with_the_rest_due(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    pay(uow, system, owen, 3000)
    row = invoice_row(uow, system, jan)
    assert (row.status, row.paid, row.balance_due) == (OPEN, 3000, 7000)
    assert [i.due for i in ledger.open_invoices(uow(), system, owen.id)] == [7000]


def test_an_overpayment_stays_as_credit_and_pays_the_next_invoice_when_it_is_posted(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    result = pay(uow, system, owen, 15000)
    assert (result.allocated, result.credit, result.balance) == (10000, 5000, -5000)
    assert ledger.summary(uow(), system, owen.id).credit == 5000
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    row = invoice_row(uow, system, feb)
    assert (row.paid, row.balance_due, row.status) == (5000, 3000, OPEN)
    assert ledger.summary(uow(), system, owen.id).credit == 0
    paid_by = payments.get_payment(uow(), system, result.payment_id).allocated_to
    assert [(a.invoice_id, a.amount) for a in paid_by] == [(jan, 10000), (feb, 5000)]


def test_a_payment_against_a_voided_invoice_is_refused_with_a_clear_message(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    invoicing.void_invoice(uow(), system, jan, "billed twice", D1)
    before = row_counts(uow)
    with pytest.raises(ValidationError, match="Invoice 100001 is void — pay the account instead") as info:
        pay(uow, system, owen, 10000, invoice_id=jan)
    assert info.value.field == "invoice_id"
    assert row_counts(uow) == before


def test_a_card_number_is_never_stored_as_a_reference_or_a_note(uow, system, owen) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000))
    before = row_counts(uow)
    for reference in ("4111 1111 1111 1111", "4111-1111-1111-1111", "visa 5500005555555559 ok"):
        with pytest.raises(ValidationError, match="never store card numbers") as info:
            pay(uow, system, owen, 1000, method="card", reference=reference)
        assert info.value.field == "reference"
    with pytest.raises(ValidationError, match="never store card numbers"):
        payments.take_payment(uow(), system, PaymentInput(owen.id, "cash", 1000, D2, note="card 4012888888881881"))
    assert row_counts(uow) == before
    ok = pay(uow, system, owen, 1000, method="card", reference="ch_3PQx9 auth 481516")
    assert ok.amount == 1000


def test_digits_that_fail_the_luhn_check_are_not_taken_for_a_card_number() -> None:
    assert payments.looks_like_card_number("4111111111111111")
    assert not payments.looks_like_card_number("4111111111111112")
    assert not payments.looks_like_card_number("123456789012")  # 12 digits: too short


def test_a_check_needs_its_number_and_a_card_its_processor_reference(uow, system, owen) -> None:
    with pytest.raises(ValidationError, match="Enter the check number") as info:
        pay(uow, system, owen, 1000, method="check")
    assert info.value.field == "reference"
    with pytest.raises(ValidationError, match="processor's reference"):
        pay(uow, system, owen, 1000, method="card")
    assert pay(uow, system, owen, 1000, method="check", reference="1042").amount == 1000


def test_amounts_must_be_whole_positive_minor_units(uow, system, owen) -> None:
    for bad in (0, -5, 10.5, True):
        with pytest.raises(ValidationError) as info:
            pay(uow, system, owen, bad)
        assert info.value.field == "amount"


def test_paying_tells_the_delinquency_room_in_the_same_transaction(uow, system, owen, monkeypatch) -> None:
    calls = []
    fake = types.ModuleType("app.billing.delinquency")
    fake.after_payment = lambda u, actor, account_id, on: calls.append((account_id, on, u.session.in_transaction()))
    monkeypatch.setitem(sys.modules, "app.billing.delinquency", fake)
    pay(uow, system, owen, 1000)
    assert calls == [(owen.id, D2, True)]


def test_a_read_only_user_may_not_take_a_payment(uow, system, owen) -> None:
    reader = Actor(None, "rita", "Read-only", BUILTIN_ROLES["Read-only"][1])
    with pytest.raises(PermissionDenied):
        pay(uow, reader, owen, 1000)
    assert ledger.balance(uow(), reader, owen.id) == 0


# -- batches -------------------------------------------------------------------------------------

def test_a_batch_with_one_bad_line_writes_nothing_and_names_the_line(uow, system, owen, maya) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000))
    before = row_counts(uow)
    lines = [
        PaymentInput(owen.id, "check", 5000, D2, "1001"),
        PaymentInput(maya.id, "check", 3000, D2, ""),  # no check number
        PaymentInput(owen.id, "cash", 2000, D2),
    ]
    with pytest.raises(LineError, match="line 2: Enter the check number") as info:
        payments.take_batch(uow(), system, D2, "Deposit 7", lines)
    assert info.value.line == 2
    lines[1] = PaymentInput(99999, "cash", 3000, D2)  # an account that does not exist: found in the transaction
    with pytest.raises(LineError, match="line 2: That account no longer exists"):
        payments.take_batch(uow(), system, D2, "Deposit 7", lines)
    assert row_counts(uow) == before


def test_a_good_batch_commits_every_line_and_its_deposit_slip_adds_up_per_method(uow, system, owen, maya) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000))
    result = payments.take_batch(uow(), system, D2, "Deposit 7", [
        PaymentInput(owen.id, "check", 5000, D2, "1001"),
        PaymentInput(maya.id, "check", 3000, D2, "77"),
        PaymentInput(owen.id, "cash", 2000, D2),
    ])
    assert result.total == 10000 and len(result.payments) == 3
    slip = payments.deposit_slip(uow(), system, result.batch_id)
    assert [(ln.account_number, ln.method, ln.reference, ln.amount) for ln in slip.lines] == [
        (owen.number, "check", "1001", 5000), (maya.number, "check", "77", 3000), (owen.number, "cash", "", 2000)]
    assert slip.totals == (("cash", 2000), ("check", 8000))
    assert (slip.grand_total, slip.reference, slip.deposited_on) == (10000, "Deposit 7", D2)
    assert [r.amount for r in payments.batch_rows(uow(), system, result.batch_id)] == [5000, 3000, 2000]
    assert ledger.summary(uow(), system, maya.id).credit == 3000


# -- reversals and refunds -----------------------------------------------------------------------

def test_a_bounced_check_is_reversed_once_and_the_invoices_it_paid_reopen(uow, system, owen) -> None:
    jan = post(uow, system, owen, draft(owen.id, D1, 10000))
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    paid = pay(uow, system, owen, 18000, method="check", reference="2211")
    assert {invoice_row(uow, system, i).status for i in (jan, feb)} == {PAID}
    row = payments.reverse_payment(uow(), system, paid.payment_id, "returned: insufficient funds", D3)
    assert row.reversed and row.allocated_to == ()
    for invoice_id, total in ((jan, 10000), (feb, 8000)):
        r = invoice_row(uow, system, invoice_id)
        assert (r.status, r.paid, r.balance_due) == (OPEN, 0, total)
    entries = ledger.entries(uow(), system, owen.id)
    assert (entries[-1].kind, entries[-1].amount, entries[-1].reverses_id) == (REVERSAL, 18000, entries[-2].id)
    assert ledger.balance(uow(), system, owen.id) == 18000
    with pytest.raises(ValidationError, match="already reversed"):
        payments.reverse_payment(uow(), system, paid.payment_id, "again", D3)


def test_reversing_an_overpayment_takes_back_the_credit_it_lent_to_a_later_invoice(uow, system, owen) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000))
    paid = pay(uow, system, owen, 15000, method="check", reference="9")
    feb = post(uow, system, owen, draft(owen.id, D2, 8000))
    assert invoice_row(uow, system, feb).paid == 5000
    payments.reverse_payment(uow(), system, paid.payment_id, "bounced", D3)
    assert invoice_row(uow, system, feb).paid == 0
    assert ledger.balance(uow(), system, owen.id) == 18000


def test_a_refund_is_limited_to_the_unallocated_credit(uow, system, owen) -> None:
    post(uow, system, owen, draft(owen.id, D1, 10000))
    pay(uow, system, owen, 12500)
    with pytest.raises(ValidationError, match=r"Only 25\.00 of credit can be refunded") as info:
        payments.refund(uow(), system, owen.id, 2501, "check", "3001", "moved out")
    assert info.value.field == "amount"
    with pytest.raises(ValidationError, match="Say why"):
        payments.refund(uow(), system, owen.id, 500, "cash", "", "")
    result = payments.refund(uow(), system, owen.id, 2500, "check", "3001", "moved out", D2)
    assert (result.credit, result.balance) == (0, 0)
    assert [(r.kind, r.amount) for r in ledger.entries(uow(), system, owen.id)][-1] == (REFUND, 2500)
    with pytest.raises(ValidationError, match=r"Only 0\.00 of credit"):
        payments.refund(uow(), system, owen.id, 1, "cash", "", "again")
