"""Payments: taking money (one at a time or as a deposit batch), refunds, reversals (a bounced
check), the payments list and the deposit slip.

- A payment is a ``Payment`` row and a PAYMENT ledger entry of −amount. It pays the invoice the
  person chose, or the oldest open invoices first; a part payment leaves the invoice open; what
  is left over stays on the account as credit and pays the next invoice when it is posted (see
  ``app.billing.ledger``: credit always goes to open invoices, oldest first — so money left
  over after the chosen invoice also pays the account's other open invoices).
- **Never a card number.** Card payments keep the processor's reference only; a reference (or a
  note) that looks like a card number — 13 to 19 digits passing the Luhn check — is refused.
- A refund pays back unallocated credit only: a ``Payment`` of kind refund and a REFUND entry
  of +amount.
- A reversal (a bounced check) adds a REVERSAL entry of +amount, takes back every allocation
  the payment made (negative allocation rows), and the invoices it paid reopen. Once only.
- A batch is all or nothing: one transaction; a bad line is ``LineError`` ("line 3: …", with
  ``line``) and nothing is written.
- After a payment the delinquency room is told (``app.billing.delinquency.after_payment``) in
  the same transaction, so paying clears delinquency at once.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from app.billing import ledger as ledger_rules
from app.billing.ledger_repository import CreditSource, PaymentQuery
from app.billing.models import (
    PAYMENT,
    REFUND,
    REVERSAL,
    VOID,
    LedgerEntry,
    Payment,
    PaymentBatch,
)
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

CASH, CHECK, CARD, BANK = "cash", "check", "card", "bank"
METHODS = (CASH, CHECK, CARD, BANK)
METHOD_LABELS = {CASH: "Cash", CHECK: "Check", CARD: "Card", BANK: "Bank transfer"}
REFERENCE_MAX = 80
NOTE_MAX = 300
REASON_MAX = 200
MAX_AMOUNT = 10**12  # ten billion in cents: a typo, not a payment
CARD_NUMBER_MESSAGE = ("That looks like a card number — never store card numbers. Enter the payment "
                       "processor's reference (authorisation or transaction id) instead.")

__all__ = [
    "BatchResult", "DepositLine", "DepositSlip", "LineError", "PaymentInput", "PaymentQuery", "PaymentResult",
    "PaymentRow", "RefundResult", "batch_rows", "deposit_slip", "first_page", "list_payments", "looks_like_card_number",
    "page", "refund", "resolve_accounts", "reverse_payment", "take_batch", "take_payment",
]


class LineError(ValidationError):
    """A bad line of a batch; ``line`` counts from 1."""

    def __init__(self, line: int, message: str, field: str | None = None) -> None:
        super().__init__(f"line {line}: {message}", field)
        self.line = line
        self.detail = message


@dataclass(frozen=True)
class PaymentInput:
    account_id: int
    method: str  # cash | check | card | bank
    amount: int  # minor units, > 0
    received_on: date
    reference: str = ""  # check number; card: the processor's reference; bank: the transfer's
    invoice_id: int | None = None  # None: the oldest open invoices first
    note: str = ""


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    invoice_number: str
    amount: int


@dataclass(frozen=True)
class PaymentResult:
    payment_id: int
    account_id: int
    account_number: str
    account_name: str
    amount: int
    allocations: tuple[Allocation, ...]  # what this payment paid
    credit: int  # the account's unallocated credit afterwards
    balance: int  # the account's balance afterwards (< 0: in credit)
    currency: str = "USD"

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)


@dataclass(frozen=True)
class RefundResult:
    payment_id: int
    account_id: int
    amount: int
    credit: int
    balance: int


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    deposited_on: date
    reference: str
    payments: tuple[PaymentResult, ...]

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.payments)


@dataclass(frozen=True)
class PaymentRow:
    id: int
    kind: str  # payment | refund
    account_id: int
    account_number: str
    account_name: str
    method: str
    reference: str
    amount: int
    received_on: date
    batch_id: int | None
    allocated_to: tuple[Allocation, ...]
    reversed: bool
    reversal_reason: str
    note: str
    created_by: str
    currency: str = "USD"

    @property
    def allocated_text(self) -> str:
        return ", ".join(a.invoice_number for a in self.allocated_to)

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)


@dataclass(frozen=True)
class DepositLine:
    account_number: str
    account_name: str
    method: str
    reference: str
    amount: int


@dataclass(frozen=True)
class DepositSlip:
    batch_id: int
    deposited_on: date
    reference: str
    created_by: str
    currency: str
    lines: tuple[DepositLine, ...]
    totals: tuple[tuple[str, int], ...]  # (method, total) in METHODS order, methods present only
    grand_total: int
    count: int = field(default=0)

    def total_for(self, method: str) -> int:
        return dict(self.totals).get(method, 0)

    @property
    def totals_by_method(self) -> dict[str, int]:
        """The same as ``totals`` as a dict (what ``app.billing.pdf.render_deposit_slip`` reads)."""
        return dict(self.totals)

    @property
    def total(self) -> int:
        return self.grand_total


@dataclass(frozen=True)
class AccountRef:
    id: int
    number: str
    name: str


# -- checks --------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d(?:[ \-.]?\d){12,}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """A run of 13–19 digits (single spaces, dashes or dots between them allowed) that passes
    the Luhn check, anywhere in ``text``. A longer run is some other number, not a card's."""
    for match in _DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False


def _check_input(p: PaymentInput) -> tuple[str, str, str]:
    """Validate one payment; returns (method, reference, note) cleaned."""
    method = (p.method or "").strip().lower()
    if method not in METHODS:
        raise ValidationError("Choose how it was paid: cash, check, card or bank transfer.", "method")
    amount = ledger_rules.check_amount(p.amount, "amount", allow_negative=True)
    if amount <= 0:
        raise ValidationError("Enter an amount greater than zero.", "amount")
    if amount > MAX_AMOUNT:
        raise ValidationError("That amount is far too large for a payment; check it.", "amount")
    if not isinstance(p.received_on, date):
        raise ValidationError("Enter the date the money was received.", "received_on")
    reference = " ".join((p.reference or "").split())
    note = " ".join((p.note or "").split())
    if len(reference) > REFERENCE_MAX:
        raise ValidationError(f"The reference is longer than {REFERENCE_MAX} characters.", "reference")
    if len(note) > NOTE_MAX:
        raise ValidationError(f"The note is longer than {NOTE_MAX} characters.", "note")
    if looks_like_card_number(reference):
        raise ValidationError(CARD_NUMBER_MESSAGE, "reference")
    if looks_like_card_number(note):
        raise ValidationError(CARD_NUMBER_MESSAGE, "note")
    if method == CHECK and not reference:
        raise ValidationError("Enter the check number.", "reference")
    if method == CARD and not reference:
        raise ValidationError("Enter the card processor's reference (authorisation or transaction id).",
                              "reference")
    return method, reference, note


# -- taking payments -----------------------------------------------------------------------------

def take_payment(uow: UnitOfWork, actor: Actor, data: PaymentInput) -> PaymentResult:
    """Record one payment and apply it (see the module docstring)."""
    actor.require(Permission.BILLING_EDIT)
    checked = _check_input(data)
    with uow:
        result = _take(uow, actor, data, checked, batch_id=None)
        uow.commit()
        return result


def _take(uow: UnitOfWork, actor: Actor, data: PaymentInput, checked: tuple[str, str, str],
          batch_id: int | None) -> PaymentResult:
    method, reference, note = checked
    repo = uow.ledger
    account = repo.lock_account(data.account_id)
    if account is None:
        raise ValidationError("That account no longer exists.", "account_id")
    chosen = None
    if data.invoice_id is not None:
        chosen = repo.invoice(data.invoice_id, lock=True)
        if chosen is None or chosen.account_id != account.id:
            raise ValidationError("That invoice is not one of this account's.", "invoice_id")
        if chosen.status == VOID:
            raise ValidationError(f"Invoice {chosen.number} is void — pay the account instead.", "invoice_id")
        if chosen.total <= chosen.paid:
            raise ValidationError(f"Invoice {chosen.number} is already paid — pay the account instead.",
                                  "invoice_id")
    payment = Payment(
        account_id=account.id, kind=PAYMENT, method=method, reference=reference, amount=data.amount,
        received_on=data.received_on, batch_id=batch_id, note=note, created_by=actor.username,
    )
    repo.add(payment)
    repo.flush()
    label = METHOD_LABELS[method].lower()
    repo.add(LedgerEntry(
        account_id=account.id, kind=PAYMENT, amount=-data.amount, posted_on=data.received_on,
        description=f"Payment by {label}" + (f" {reference}" if reference else ""),
        payment_id=payment.id, created_by=actor.username,
    ))
    repo.flush()
    source = CreditSource(payment.id, None, data.amount)
    ledger_rules.apply_credit(uow, account.id, first=source, first_invoice=chosen)
    mine: dict[int, int] = {}
    names: dict[int, str] = {}
    for invoice_id, number, amount in repo.allocated_invoices([payment.id]).get(payment.id, []):
        mine[invoice_id] = amount
        names[invoice_id] = number
    audit.record(uow.session, actor, "payment", payment.id, "take", None, {
        "account_id": account.id, "method": method, "amount": data.amount, "reference": reference,
        "received_on": data.received_on, "invoice_id": data.invoice_id, "batch_id": batch_id,
    })
    _after_payment(uow, actor, account.id, data.received_on)
    bal, due = repo.balance_and_open_due(account.id)
    return PaymentResult(
        payment_id=payment.id, account_id=account.id, account_number=account.number, account_name=account.name,
        amount=data.amount, allocations=tuple(Allocation(i, names[i], a) for i, a in mine.items()),
        credit=max(0, due - bal), balance=bal, currency=repo.currency(account.company_id),
    )


def _after_payment(uow: UnitOfWork, actor: Actor, account_id: int, received_on: date) -> None:
    """Tell the delinquency room, in this transaction, if it is there (it is written separately)."""
    try:
        module = importlib.import_module("app.billing.delinquency")
    except ModuleNotFoundError as exc:
        if exc.name in ("app.billing.delinquency",):
            return
        raise
    hook = getattr(module, "after_payment", None)
    if hook is not None:
        hook(uow, actor, account_id, received_on)


def take_batch(uow: UnitOfWork, actor: Actor, deposited_on: date, reference: str,
               payments: Sequence[PaymentInput]) -> BatchResult:
    """Record a deposit of many payments at once, all or nothing."""
    actor.require(Permission.BILLING_EDIT)
    reference = " ".join((reference or "").split())
    if len(reference) > REFERENCE_MAX:
        raise ValidationError(f"The deposit reference is longer than {REFERENCE_MAX} characters.", "reference")
    if looks_like_card_number(reference):
        raise ValidationError(CARD_NUMBER_MESSAGE, "reference")
    if not isinstance(deposited_on, date):
        raise ValidationError("Enter the deposit date.", "deposited_on")
    if not payments:
        raise ValidationError("The batch has no payments: enter at least one line.", "lines")
    checked = []
    for n, p in enumerate(payments, 1):
        try:
            checked.append(_check_input(p))
        except ValidationError as exc:
            raise LineError(n, exc.message, exc.field) from None
    with uow:
        batch = PaymentBatch(deposited_on=deposited_on, reference=reference, created_by=actor.username)
        uow.ledger.add(batch)
        uow.ledger.flush()
        results = []
        for n, (p, c) in enumerate(zip(payments, checked, strict=True), 1):
            try:
                results.append(_take(uow, actor, p, c, batch.id))
            except ValidationError as exc:
                raise LineError(n, exc.message, exc.field) from None
        audit.record(uow.session, actor, "payment_batch", batch.id, "take", None, {
            "deposited_on": deposited_on, "reference": reference, "count": len(results),
            "total": sum(r.amount for r in results),
        })
        uow.commit()
        return BatchResult(batch.id, deposited_on, reference, tuple(results))


# -- refunds and reversals -----------------------------------------------------------------------

def refund(uow: UnitOfWork, actor: Actor, account_id: int, amount: int, method: str, reference: str,
           reason: str, refunded_on: date | None = None) -> RefundResult:
    """Pay back up to the account's unallocated credit."""
    actor.require(Permission.BILLING_EDIT)
    refunded_on = refunded_on or date.today()
    method, reference, _ = _check_input(PaymentInput(account_id, method, amount, refunded_on, reference))
    reason = ledger_rules.clean_text(reason, REASON_MAX)
    if not reason:
        raise ValidationError("Say why the money is refunded.", "reason")
    with uow:
        repo = uow.ledger
        account = repo.lock_account(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        credit = ledger_rules.credit_of(uow, account_id)
        if amount > credit:
            from app.core.money import format_minor

            currency = repo.currency(account.company_id)
            raise ValidationError(
                f"Only {format_minor(credit, currency)} of credit can be refunded; "
                f"{format_minor(amount, currency)} is more than that.", "amount")
        row = Payment(account_id=account_id, kind=REFUND, method=method, reference=reference, amount=amount,
                      received_on=refunded_on, note=reason, created_by=actor.username)
        repo.add(row)
        repo.flush()
        repo.add(LedgerEntry(
            account_id=account_id, kind=REFUND, amount=amount, posted_on=refunded_on,
            description=f"Refund by {METHOD_LABELS[method].lower()}: {reason}"[:300], payment_id=row.id,
            created_by=actor.username,
        ))
        audit.record(uow.session, actor, "payment", row.id, "refund", None, {
            "account_id": account_id, "amount": amount, "method": method, "reference": reference, "reason": reason,
        })
        repo.flush()
        bal, due = repo.balance_and_open_due(account_id)
        uow.commit()
        return RefundResult(row.id, account_id, amount, max(0, due - bal), bal)


def reverse_payment(uow: UnitOfWork, actor: Actor, payment_id: int, reason: str,
                    reversed_on: date | None = None) -> PaymentRow:
    """A payment that did not happen after all (a bounced check): see the module docstring."""
    actor.require(Permission.BILLING_EDIT)
    reason = ledger_rules.clean_text(reason, REASON_MAX)
    if not reason:
        raise ValidationError("Say why the payment is reversed (e.g. check returned unpaid).", "reason")
    reversed_on = reversed_on or date.today()
    with uow:
        repo = uow.ledger
        found = repo.payment(payment_id)
        if found is None:
            raise NotFound("That payment no longer exists.")
        repo.lock_account(found.account_id)
        payment = repo.payment(payment_id, lock=True)
        assert payment is not None
        if payment.kind != PAYMENT:
            raise ValidationError("Only a payment can be reversed, not a refund.")
        if payment.reversed_at is not None:
            raise ValidationError(f"This payment was already reversed on {payment.reversed_at:%Y-%m-%d}.")
        for invoice_id, amount in repo.allocations_from_payment(payment.id):
            invoice = repo.invoice(invoice_id, lock=True)
            if invoice is not None:
                ledger_rules.take_back(uow, invoice, amount, payment_id=payment.id)
        entry = repo.payment_entry(payment.id)
        repo.add(LedgerEntry(
            account_id=payment.account_id, kind=REVERSAL, amount=payment.amount, posted_on=reversed_on,
            description=f"Reversal of payment {payment.reference or payment.id}: {reason}"[:300],
            payment_id=payment.id, reverses_id=entry.id if entry else None, created_by=actor.username,
        ))
        payment.reversed_at = utcnow()
        payment.reversal_reason = reason
        repo.flush()
        ledger_rules.apply_credit(uow, payment.account_id)
        audit.record(uow.session, actor, "payment", payment.id, "reverse", None, {"reason": reason})
        uow.commit()
        return _payment_rows(uow, [payment.id])[0]


# -- reading -------------------------------------------------------------------------------------

def _payment_rows(uow: UnitOfWork, ids: Sequence[int]) -> list[PaymentRow]:
    rows = uow.ledger.payment_rows(ids)
    allocated = uow.ledger.allocated_invoices([p.id for p, _, _, _ in rows])
    currencies: dict[int, str] = {}
    for _, _, _, company_id in rows:
        if company_id not in currencies:
            currencies[company_id] = uow.ledger.currency(company_id)
    return [
        PaymentRow(
            id=p.id, kind=p.kind, account_id=p.account_id, account_number=number, account_name=name,
            method=p.method, reference=p.reference, amount=p.amount, received_on=p.received_on, batch_id=p.batch_id,
            allocated_to=tuple(Allocation(i, n, a) for i, n, a in allocated.get(p.id, [])),
            reversed=p.reversed_at is not None, reversal_reason=p.reversal_reason, note=p.note,
            created_by=p.created_by, currency=currencies[company_id],
        )
        for p, number, name, company_id in rows
    ]


def first_page(uow: UnitOfWork, actor: Actor, query: PaymentQuery, limit: int) -> tuple[int, list[PaymentRow]]:
    """The count and the first page (newest first) in one transaction."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return uow.ledger.count_payments(query), _payment_rows(uow, uow.ledger.payment_ids(query, 0, limit))


def page(uow: UnitOfWork, actor: Actor, query: PaymentQuery, offset: int, limit: int,
         total: int | None = None) -> list[PaymentRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _payment_rows(uow, uow.ledger.payment_ids(query, offset, limit))


def list_payments(uow: UnitOfWork, actor: Actor, query: PaymentQuery | None = None, limit: int = 200) -> list[PaymentRow]:
    return page(uow, actor, query or PaymentQuery(), 0, limit)


def get_payment(uow: UnitOfWork, actor: Actor, payment_id: int) -> PaymentRow:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        rows = _payment_rows(uow, [payment_id])
        if not rows:
            raise NotFound("That payment no longer exists.")
        return rows[0]


def batch_rows(uow: UnitOfWork, actor: Actor, batch_id: int) -> list[PaymentRow]:
    """The payments of a deposit batch, in the order they were entered."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        if uow.ledger.batch(batch_id) is None:
            raise NotFound("That deposit batch no longer exists.")
        return _payment_rows(uow, uow.ledger.payment_ids(PaymentQuery(batch_id=batch_id), oldest_first=True))


def deposit_slip(uow: UnitOfWork, actor: Actor, batch_id: int) -> DepositSlip:
    """What the bank deposit slip shows: every line, totals per method, the grand total. A
    reversed payment stays on the slip (the money was deposited; the reversal is its own entry)."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        batch = uow.ledger.batch(batch_id)
        if batch is None:
            raise NotFound("That deposit batch no longer exists.")
        rows = _payment_rows(uow, uow.ledger.payment_ids(PaymentQuery(batch_id=batch_id), oldest_first=True))
        currency = "USD"
        if rows:
            account = uow.ledger.account(rows[0].account_id)
            if account is not None:
                currency = uow.ledger.currency(account.company_id)
        lines = tuple(DepositLine(r.account_number, r.account_name, r.method, r.reference, r.amount) for r in rows)
        totals = tuple((m, sum(ln.amount for ln in lines if ln.method == m)) for m in METHODS
                       if any(ln.method == m for ln in lines))
        return DepositSlip(
            batch_id=batch.id, deposited_on=batch.deposited_on, reference=batch.reference,
            created_by=batch.created_by, currency=currency, lines=lines, totals=totals,
            grand_total=sum(ln.amount for ln in lines), count=len(lines),
        )


def resolve_accounts(uow: UnitOfWork, actor: Actor, numbers: Sequence[str]) -> dict[str, AccountRef]:
    """Accounts by number (for batch entry): the numbers that exist, each to its account."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return {n: AccountRef(a.id, a.number, a.name)
                for n, a in uow.ledger.accounts_by_number([x.strip() for x in numbers]).items()}
