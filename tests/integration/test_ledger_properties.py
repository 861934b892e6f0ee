"""Property tests (hypothesis) of the ledger: over random sequences of invoices (hand-made
drafts, some negative, some for a period already invoiced), payments (to the oldest or a chosen
invoice), refunds, reversals, voids and manual adjustments, after every step:

- each account's balance equals the sum of its ledger entries, and the sum a model of the
  sequence kept on the side expects (so no step drifts by a cent);
- the invoices' totals, less the voided ones, equal the invoice charges less their reversals;
- no invoice is paid more than its total (nor less than nothing), its ``paid`` equals its
  allocations, and its status agrees; no payment is allocated beyond its amount, and a reversed
  payment pays nothing;
- an account in credit has no invoice left to pay (credit always goes to open invoices);
- every amount read back is an ``int`` (never a float);
- no table ever has fewer rows than before (nothing is deleted).

Each example runs on a fresh database (``_fresh_sqlite`` / ``_fresh_postgres`` copy the migrated
template): SQLite with more examples, PostgreSQL with fewer (each new database costs time).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.billing import invoicing, ledger, payments
from app.billing.invoicing import InvoiceExists
from app.billing.models import (
    CHARGE,
    CREDIT,
    OPEN,
    PAID,
    PAYMENT,
    REVERSAL,
    VOID,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from app.billing.payments import PaymentInput
from app.core.db import open_database, sqlite_url
from app.core.errors import ValidationError
from app.core.permissions import Actor
from app.uow import UnitOfWork
from tests.integration.test_billing_ledger import draft, make_account, post, row_counts

ACTOR = Actor.system("properties")
ACCOUNTS = 2
METHODS = ("cash", "check", "card", "bank")


# -- fresh databases, one per example --------------------------------------------------------------

@contextmanager
def _fresh_sqlite(template: Path, folder: Path) -> Iterator[str]:
    path = folder / f"p_{uuid.uuid4().hex[:10]}.sqlite"
    shutil.copy(template, path)
    try:
        yield sqlite_url(path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _fresh_postgres(server: str, template: str) -> Iterator[str]:
    from tests.conftest import _pg_exec, _with_database

    name = f"p_{uuid.uuid4().hex[:12]}"
    _pg_exec(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield _with_database(server, name)
    finally:
        _pg_exec(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- the operations ------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=30_000)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(0, ACCOUNTS - 1), st.integers(-3_000, 20_000),
                  st.integers(0, 2_000), st.booleans()),
        st.tuples(st.just("pay"), st.integers(0, ACCOUNTS - 1), amounts, st.none() | st.integers(0, 5),
                  st.sampled_from(METHODS)),
        st.tuples(st.just("refund"), st.integers(0, ACCOUNTS - 1), st.integers(1, 10_000)),
        st.tuples(st.just("reverse"), st.integers(0, 5)),
        st.tuples(st.just("void"), st.integers(0, 5)),
        st.tuples(st.just("adjust"), st.integers(0, ACCOUNTS - 1), st.integers(-5_000, 5_000).filter(bool)),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Model:
    """What the sequence should have done, kept without the database."""

    accounts: list = field(default_factory=list)
    balance: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    months: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    invoices: list[tuple[int, int, date]] = field(default_factory=list)  # (id, account index, period)
    payments: list[tuple[int, int, int]] = field(default_factory=list)  # (id, account index, amount)
    reversed: set[int] = field(default_factory=set)
    voided: set[int] = field(default_factory=set)


def _run(uow: Callable[[], UnitOfWork], operations: list[tuple]) -> None:
    model = Model()
    model.accounts = [make_account(uow, ACTOR, f"Tenant {i}") for i in range(ACCOUNTS)]
    counts = row_counts(uow)
    for step, op in enumerate(operations):
        _apply(uow, model, op)
        counts = _check(uow, model, counts, f"after step {step} {op}")


def _apply(uow, model: Model, op: tuple) -> None:
    kind = op[0]
    if kind == "invoice":
        _, a, amount, tax, repeat = op
        account = model.accounts[a]
        tax = tax if amount > 0 else 0
        standing = [p for (i, who, p) in model.invoices if who == a and i not in model.voided]
        if repeat and standing:
            with pytest.raises(InvoiceExists):
                post(uow, ACTOR, account, draft(account.id, standing[0], amount, tax=tax))
            return
        period = date(2024 + model.months[a] // 12, model.months[a] % 12 + 1, 1)
        model.months[a] += 1
        invoice_id = post(uow, ACTOR, account, draft(account.id, period, amount, tax=tax))
        model.invoices.append((invoice_id, a, period))
        model.balance[a] += amount + tax
    elif kind == "pay":
        _, a, amount, target, method = op
        account = model.accounts[a]
        mine = [i for (i, who, _) in model.invoices if who == a]
        invoice_id = mine[target % len(mine)] if target is not None and mine else None
        refusal = None
        if invoice_id is not None:
            row = invoicing.get_invoice(uow(), ACTOR, invoice_id).row
            if row.status == VOID:
                refusal = "is void"
            elif row.total <= row.paid:
                refusal = "already paid"
        data = PaymentInput(account.id, method, amount, date(2024, 6, 1),
                            "" if method in ("cash", "bank") else f"ref-{len(model.payments)}", invoice_id)
        if refusal:
            with pytest.raises(ValidationError, match=refusal):
                payments.take_payment(uow(), ACTOR, data)
            return
        result = payments.take_payment(uow(), ACTOR, data)
        model.payments.append((result.payment_id, a, amount))
        model.balance[a] += -amount
    elif kind == "refund":
        _, a, amount = op
        account = model.accounts[a]
        credit = ledger.summary(uow(), ACTOR, account.id).credit
        if amount > credit:
            with pytest.raises(ValidationError, match="of credit can be refunded"):
                payments.refund(uow(), ACTOR, account.id, amount, "cash", "", "moving out")
            return
        payments.refund(uow(), ACTOR, account.id, amount, "cash", "", "moving out")
        model.balance[a] += amount
    elif kind == "reverse":
        if not model.payments:
            return
        payment_id, a, amount = model.payments[op[1] % len(model.payments)]
        if payment_id in model.reversed:
            with pytest.raises(ValidationError, match="already reversed"):
                payments.reverse_payment(uow(), ACTOR, payment_id, "bounced")
            return
        payments.reverse_payment(uow(), ACTOR, payment_id, "bounced")
        model.reversed.add(payment_id)
        model.balance[a] += amount
    elif kind == "void":
        if not model.invoices:
            return
        invoice_id, a, _ = model.invoices[op[1] % len(model.invoices)]
        if invoice_id in model.voided:
            with pytest.raises(ValidationError, match="already void"):
                invoicing.void_invoice(uow(), ACTOR, invoice_id, "wrong")
            return
        row = invoicing.void_invoice(uow(), ACTOR, invoice_id, "wrong")
        model.voided.add(invoice_id)
        model.balance[a] -= row.total
    elif kind == "adjust":
        _, a, amount = op
        ledger.post_adjustment(uow(), ACTOR, model.accounts[a].id, amount, "correction")
        model.balance[a] += amount


def _ints(*values: object) -> None:
    for v in values:
        assert type(v) is int, f"{v!r} is a {type(v).__name__}, not an int"


def _check(uow, model: Model, before: dict[str, int], where: str) -> dict[str, int]:
    counts = row_counts(uow)
    assert all(counts[k] >= before[k] for k in before), f"rows deleted {where}: {before} → {counts}"
    with uow() as u:
        s = u.session
        for a, account in enumerate(model.accounts):
            summed = s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                              .where(LedgerEntry.account_id == account.id))
            assert int(summed) == model.balance[a] == u.ledger.balance(account.id), where
            bal, due = u.ledger.balance_and_open_due(account.id)
            assert not (due - bal > 0 and due > 0), f"credit left beside open invoices {where}"

        entries = s.execute(select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.invoice_id)).all()
        for _, amount, _ in entries:
            _ints(amount)
        invoices = list(s.scalars(select(Invoice)))
        posted = sum(amount for k, amount, inv in entries if inv is not None and k in (CHARGE, CREDIT))
        reversed_ = sum(amount for k, amount, inv in entries if inv is not None and k == REVERSAL)
        standing = sum(i.total for i in invoices) - sum(i.total for i in invoices if i.status == VOID)
        assert standing == posted + reversed_, where

        allocations = s.execute(select(PaymentAllocation.invoice_id, PaymentAllocation.payment_id,
                                       PaymentAllocation.amount)).all()
        for _, _, amount in allocations:
            _ints(amount)
        for i in invoices:
            _ints(i.total, i.paid, i.subtotal, i.tax_total, i.previous_balance, i.payments_since)
            net = sum(amount for inv, _, amount in allocations if inv == i.id)
            assert net == i.paid, where
            assert 0 <= i.paid <= max(0, i.total), f"invoice {i.number} paid {i.paid} of {i.total} {where}"
            if i.status == VOID:
                assert i.paid == 0 and i.billing_key is None, where
            else:
                assert i.status == (PAID if i.paid >= i.total else OPEN), where
        for p in s.scalars(select(Payment)):
            _ints(p.amount)
            net = sum(amount for _, pid, amount in allocations if pid == p.id)
            assert 0 <= net <= p.amount, where
            if p.reversed_at is not None or p.kind != PAYMENT:
                assert net == 0, where
    return counts


# -- the properties, on each database --------------------------------------------------------------

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=40, deadline=None, suppress_health_check=SUPPRESS)
@given(operations=OPERATIONS)
def test_on_sqlite_balances_equal_their_entries_and_nothing_drifts_or_is_deleted(
        sqlite_template, tmp_path, operations) -> None:
    with _fresh_sqlite(sqlite_template, tmp_path) as url:
        db = open_database(url)
        try:
            _run(lambda: UnitOfWork(db), operations)
        finally:
            db.dispose()


@settings(max_examples=8, deadline=None, suppress_health_check=SUPPRESS)
@given(operations=OPERATIONS)
def test_on_postgres_balances_equal_their_entries_and_nothing_drifts_or_is_deleted(
        pg_server, pg_template, operations) -> None:
    with _fresh_postgres(pg_server, pg_template) as url:
        db = open_database(url)
        try:
            _run(lambda: UnitOfWork(db), operations)
        finally:
            db.dispose()
