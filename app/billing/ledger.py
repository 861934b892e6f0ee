"""An account's ledger: its balance, its entries with a running balance, its open invoices, and
manual adjustments — plus the one rule every money change in billing goes through:
**credit pays open invoices** (``apply_credit``).

The ledger is the truth of what an account owes: the balance is the sum of its entries
(charges and fees positive; payments, credits and reversals negative). Allocations say which
money paid which invoice; they are append-only too (taking money back is a negative row).

**Unallocated credit** is what the ledger says was paid beyond what the open invoices still
ask for: ``max(0, open due − balance)``. Defined this way it can never disagree with the
ledger, whatever else was posted (a manual charge or a late fee that sits on no invoice simply
uses up credit). After every change — an invoice posted, a payment, a void, a reversal, an
adjustment — ``apply_credit`` hands any such credit to the open invoices, oldest first, so an
account never shows an unpaid invoice and a credit at the same time. The allocation rows name
where the money came from (the oldest payment or credit entry with something left), so
reversing a bounced payment takes back exactly what it paid, wherever it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.billing.ledger_repository import CreditSource
from app.billing.models import (
    ADJUSTMENT,
    OPEN,
    PAID,
    VOID,
    Invoice,
    LedgerEntry,
    PaymentAllocation,
)
from app.core import audit
from app.core.errors import NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

REASON_MAX = 300
KIND_LABELS = {
    "charge": "Invoice", "credit": "Credit", "payment": "Payment", "refund": "Refund",
    "reversal": "Reversal", "late_fee": "Late fee", "adjustment": "Adjustment",
}


@dataclass(frozen=True)
class LedgerRow:
    id: int
    posted_on: date
    kind: str
    description: str
    amount: int  # signed minor units: > 0 owes more
    balance: int  # running balance after this entry
    invoice_id: int | None
    invoice_number: str
    payment_id: int | None
    reverses_id: int | None
    created_by: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.title())


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    issued_on: date
    due_on: date
    total: int
    paid: int

    @property
    def due(self) -> int:
        return self.total - self.paid


@dataclass(frozen=True)
class LedgerSummary:
    """What a payment desk needs to see about an account before taking money."""

    account_id: int
    number: str
    name: str
    currency: str
    balance: int  # > 0: owes; < 0: in credit
    credit: int  # unallocated credit (never negative)
    open_invoices: tuple[OpenInvoice, ...]

    @property
    def open_due(self) -> int:
        return sum(i.due for i in self.open_invoices)


# -- reading -------------------------------------------------------------------------------------

def balance(uow: UnitOfWork, actor: Actor, account_id: int) -> int:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return uow.ledger.balance(account_id)


def entries(uow: UnitOfWork, actor: Actor, account_id: int) -> list[LedgerRow]:
    """Every entry of the account, oldest first, with the balance after each."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        rows = uow.ledger.entries(account_id)
        numbers = uow.ledger.invoice_numbers(e.invoice_id for e in rows if e.invoice_id)
        out: list[LedgerRow] = []
        running = 0
        for e in rows:
            running += e.amount
            out.append(LedgerRow(
                id=e.id, posted_on=e.posted_on, kind=e.kind, description=e.description, amount=e.amount,
                balance=running, invoice_id=e.invoice_id, invoice_number=numbers.get(e.invoice_id or 0, ""),
                payment_id=e.payment_id, reverses_id=e.reverses_id, created_by=e.created_by,
            ))
        return out


def open_invoices(uow: UnitOfWork, actor: Actor, account_id: int) -> list[OpenInvoice]:
    """The account's invoices with something left to pay, oldest first."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return [_open_invoice(i) for i in uow.ledger.open_invoices(account_id)]


def summary(uow: UnitOfWork, actor: Actor, account_id: int) -> LedgerSummary:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        account = uow.ledger.account(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        bal, due = uow.ledger.balance_and_open_due(account_id)
        return LedgerSummary(
            account_id=account.id, number=account.number, name=account.name,
            currency=uow.ledger.currency(account.company_id), balance=bal, credit=max(0, due - bal),
            open_invoices=tuple(_open_invoice(i) for i in uow.ledger.open_invoices(account_id)),
        )


def _open_invoice(i: Invoice) -> OpenInvoice:
    return OpenInvoice(i.id, i.number, i.issued_on, i.due_on, i.total, i.paid)


# -- writing -------------------------------------------------------------------------------------

def post_adjustment(
    uow: UnitOfWork, actor: Actor, account_id: int, amount: int, reason: str, posted_on: date | None = None,
) -> LedgerRow:
    """A manual charge (``amount`` > 0) or credit (< 0) with a reason. A credit pays the open
    invoices at once (oldest first); what is left stays as credit."""
    actor.require(Permission.BILLING_EDIT)
    amount = check_amount(amount, "amount", allow_negative=True)
    if amount == 0:
        raise ValidationError("Enter an amount other than zero.", "amount")
    reason = clean_text(reason, REASON_MAX)
    if not reason:
        raise ValidationError("Say why: an adjustment needs a reason.", "reason")
    posted_on = posted_on or date.today()
    with uow:
        if uow.ledger.lock_account(account_id) is None:
            raise NotFound("That account no longer exists.")
        entry = LedgerEntry(account_id=account_id, kind=ADJUSTMENT, amount=amount, posted_on=posted_on,
                            description=reason, created_by=actor.username)
        uow.ledger.add(entry)
        uow.ledger.flush()
        apply_credit(uow, account_id)
        audit.record(uow.session, actor, "ledger", entry.id, "adjust", None,
                     {"account_id": account_id, "amount": amount, "reason": reason})
        uow.commit()
        running = uow.ledger.balance(account_id)
        return LedgerRow(entry.id, posted_on, ADJUSTMENT, reason, amount, running, None, "", None, None,
                         actor.username)


# -- the money rules shared by invoicing and payments (call inside an open unit of work) ------------

def credit_of(uow: UnitOfWork, account_id: int) -> int:
    """Unallocated credit: ``max(0, open due − balance)`` (see the module docstring)."""
    bal, due = uow.ledger.balance_and_open_due(account_id)
    return max(0, due - bal)


def allocate(uow: UnitOfWork, invoice: Invoice, amount: int, *, payment_id: int | None = None,
             ledger_entry_id: int | None = None) -> None:
    """Put ``amount`` (> 0) of a payment or credit entry on ``invoice``; a fully paid invoice
    becomes paid."""
    if amount <= 0:
        return
    uow.ledger.add(PaymentAllocation(invoice_id=invoice.id, payment_id=payment_id,
                                     ledger_entry_id=ledger_entry_id, amount=amount))
    invoice.paid += amount
    if invoice.status == OPEN and invoice.paid >= invoice.total:
        invoice.status = PAID


def take_back(uow: UnitOfWork, invoice: Invoice, amount: int, *, payment_id: int | None = None,
              ledger_entry_id: int | None = None) -> None:
    """Undo ``amount`` of an allocation with a negative row; a paid invoice reopens."""
    if amount <= 0:
        return
    uow.ledger.add(PaymentAllocation(invoice_id=invoice.id, payment_id=payment_id,
                                     ledger_entry_id=ledger_entry_id, amount=-amount))
    invoice.paid -= amount
    if invoice.status == PAID and invoice.paid < invoice.total:
        invoice.status = OPEN


def apply_credit(uow: UnitOfWork, account_id: int, *, first: CreditSource | None = None,
                 first_invoice: Invoice | None = None) -> list[tuple[Invoice, int]]:
    """Hand the account's unallocated credit to its open invoices, oldest first (``first_invoice``
    before the others), taking the money from the oldest sources first (``first`` before the
    others). Returns (invoice, amount) per allocation made."""
    uow.ledger.flush()
    credit = credit_of(uow, account_id)
    if credit <= 0:
        return []
    invoices = uow.ledger.open_invoices(account_id, lock=True)
    if first_invoice is not None and first_invoice.status == OPEN:
        invoices = [first_invoice] + [i for i in invoices if i.id != first_invoice.id]
    if not invoices:
        return []
    sources = uow.ledger.credit_sources(account_id)
    if first is not None:
        sources = [s for s in sources if (s.payment_id, s.ledger_entry_id) == (first.payment_id, first.ledger_entry_id)] \
            + [s for s in sources if (s.payment_id, s.ledger_entry_id) != (first.payment_id, first.ledger_entry_id)]
    left = [s.remaining for s in sources]
    made: list[tuple[Invoice, int]] = []
    n = 0
    for invoice in invoices:
        while credit > 0 and invoice.total > invoice.paid:
            want = min(credit, invoice.total - invoice.paid)
            # Skip the sources that are used up.
            while n < len(sources) and left[n] <= 0:
                n += 1
            if n < len(sources):
                amount = min(want, left[n])
                left[n] -= amount
                allocate(uow, invoice, amount, payment_id=sources[n].payment_id,
                         ledger_entry_id=sources[n].ledger_entry_id)
            else:
                # The ledger says there is credit but no single source has it left (money whose
                # origin was refunded elsewhere): allocate it without a source.
                amount = want
                allocate(uow, invoice, amount)
            credit -= amount
            made.append((invoice, amount))
        if credit <= 0:
            break
    uow.ledger.flush()
    return made


# -- small checks shared by the billing services -------------------------------------------------

def check_amount(value: object, field: str, *, allow_negative: bool = False) -> int:
    """An amount must be an integer number of minor units: never a float, never a bool."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("Amounts are whole minor units (cents), not fractions.", field)
    if value < 0 and not allow_negative:
        raise ValidationError("Enter a positive amount.", field)
    return value


def clean_text(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text[:limit]


def is_void(invoice: Invoice) -> bool:
    return invoice.status == VOID
