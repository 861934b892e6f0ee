"""Invoices, ledger entries, payments and allocations: queries only, no business rules.

The services in ``invoicing``, ``ledger`` and ``payments`` decide; this reads and adds rows.
Nothing here deletes or updates an amount: the ledger and the allocations are append-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.billing.models import (
    ADJUSTMENT,
    CHARGE,
    CREDIT,
    LATE_FEE,
    OPEN,
    PAYMENT,
    VOID,
    BillingSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentBatch,
)
from app.companies.models import Company


@dataclass(frozen=True)
class InvoiceQuery:
    """What the invoices list shows. ``search``: an invoice number, or an account's number or
    name (any part)."""

    status: str | None = None  # open | paid | void
    date_from: date | None = None  # issued on or after
    date_to: date | None = None  # issued on or before
    company_id: int | None = None
    account_id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class PaymentQuery:
    """What the payments list shows. ``search``: an account's number or name, or a reference."""

    account_id: int | None = None
    method: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""
    include_reversed: bool = True
    include_refunds: bool = True
    batch_id: int | None = None


@dataclass(frozen=True)
class AccountKey:
    id: int
    number: str
    name: str
    company_id: int


@dataclass(frozen=True)
class CreditSource:
    """Money on an account that can pay invoices: a payment, or a credit entry (a manual credit,
    an invoice whose credits exceeded its charges). ``remaining`` = its amount less what it has
    already paid (allocations, net of any taken back)."""

    payment_id: int | None
    ledger_entry_id: int | None
    remaining: int


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def add_all(self, rows: Iterable[object]) -> None:
        self.session.add_all(list(rows))

    def flush(self) -> None:
        self.session.flush()

    # -- locking -------------------------------------------------------------------------------
    def lock_account(self, account_id: int) -> AccountKey | None:
        """The account's key columns, its row locked FOR UPDATE on Postgres: every change of an
        account's money goes through this, so two desktops taking payments for one account take
        turns (SQLite's single writer already does). Columns only: loading the entity would load
        its relationships too, a cost the bill run pays per account."""
        row = self.session.execute(
            select(Account.id, Account.number, Account.name, Account.company_id)
            .where(Account.id == account_id).with_for_update()
        ).first()
        return AccountKey(*row) if row is not None else None

    def lock_for_posting(self, account_id: int, billing_key: str) -> tuple[AccountKey, str | None, int, int] | None:
        """What posting an invoice needs first, in one statement: the account (locked, as
        ``lock_account``), the number of a standing invoice with ``billing_key`` if any, and the
        account's ledger balance and open due before the new invoice."""
        existing = select(Invoice.number).where(Invoice.billing_key == billing_key).scalar_subquery()
        balance = (
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.account_id == account_id).scalar_subquery()
        )
        due = (
            select(func.coalesce(func.sum(Invoice.total - Invoice.paid), 0))
            .where(Invoice.account_id == account_id, Invoice.status == OPEN, Invoice.total > Invoice.paid)
            .scalar_subquery()
        )
        row = self.session.execute(
            select(Account.id, Account.number, Account.name, Account.company_id, existing, balance, due)
            .where(Account.id == account_id).with_for_update(of=Account)
        ).first()
        if row is None:
            return None
        return AccountKey(row[0], row[1], row[2], row[3]), row[4], int(row[5] or 0), int(row[6] or 0)

    # -- invoices ------------------------------------------------------------------------------
    def invoice(self, invoice_id: int, *, lock: bool = False) -> Invoice | None:
        stmt = select(Invoice).where(Invoice.id == invoice_id)
        if lock:
            stmt = stmt.with_for_update(of=Invoice)
        return self.session.scalars(stmt).one_or_none()

    def invoice_by_key(self, billing_key: str) -> Invoice | None:
        return self.session.scalars(select(Invoice).where(Invoice.billing_key == billing_key)).one_or_none()

    def number_for_key(self, billing_key: str) -> str | None:
        """The number of the standing invoice with this key (a column, not the entity)."""
        return self.session.scalar(select(Invoice.number).where(Invoice.billing_key == billing_key))

    def invoice_by_number(self, number: str) -> Invoice | None:
        return self.session.scalars(select(Invoice).where(Invoice.number == number)).one_or_none()

    def lines(self, invoice_id: int) -> list[InvoiceLine]:
        return list(self.session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position, InvoiceLine.id)
        ))

    def open_invoices(self, account_id: int, *, lock: bool = False) -> list[Invoice]:
        """The account's invoices with something left to pay, oldest first."""
        stmt = (
            select(Invoice)
            .where(Invoice.account_id == account_id, Invoice.status == OPEN, Invoice.total > Invoice.paid)
            .order_by(Invoice.issued_on, Invoice.id)
        )
        if lock:
            stmt = stmt.with_for_update(of=Invoice)
        return list(self.session.scalars(stmt))

    def previous_invoice(self, account_id: int, before_id: int | None = None) -> Invoice | None:
        """The account's latest invoice that stands (not void), before ``before_id`` if given."""
        stmt = select(Invoice).where(Invoice.account_id == account_id, Invoice.status != VOID)
        if before_id is not None:
            stmt = stmt.where(Invoice.id < before_id)
        return self.session.scalars(stmt.order_by(Invoice.id.desc()).limit(1)).first()

    def later_line_for_service(self, account_service_id: int, after_invoice_id: int) -> Invoice | None:
        """A standing invoice after ``after_invoice_id`` that bills the same subscription."""
        return self.session.scalars(
            select(Invoice)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.account_service_id == account_service_id, Invoice.id > after_invoice_id,
                   Invoice.status != VOID)
            .order_by(Invoice.id)
            .limit(1)
        ).first()

    def invoice_numbers(self, ids: Iterable[int]) -> dict[int, str]:
        ids = list(set(ids))
        if not ids:
            return {}
        return {r[0]: r[1] for r in self.session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids)))}

    # -- the invoices list ---------------------------------------------------------------------
    def _invoice_filter(self, stmt: Select, query: InvoiceQuery) -> Select:
        conditions = []
        if query.status:
            conditions.append(Invoice.status == query.status)
        if query.date_from:
            conditions.append(Invoice.issued_on >= query.date_from)
        if query.date_to:
            conditions.append(Invoice.issued_on <= query.date_to)
        if query.company_id is not None:
            conditions.append(Invoice.company_id == query.company_id)
        if query.account_id is not None:
            conditions.append(Invoice.account_id == query.account_id)
        for term in query.search.lower().split():
            like = f"%{_escape(term)}%"
            conditions.append(or_(
                Invoice.number == term,
                Account.number == term,
                func.lower(Account.name).like(like, escape="\\"),
            ))
        return stmt.where(and_(*conditions)) if conditions else stmt

    def count_invoices(self, query: InvoiceQuery) -> int:
        stmt = select(func.count(Invoice.id)).join(Account, Account.id == Invoice.account_id)
        return self.session.scalar(self._invoice_filter(stmt, query)) or 0

    def invoice_ids(self, query: InvoiceQuery, offset: int = 0, limit: int | None = None) -> list[int]:
        """Newest first (issued on, then number)."""
        stmt = self._invoice_filter(select(Invoice.id).join(Account, Account.id == Invoice.account_id), query)
        stmt = stmt.order_by(Invoice.issued_on.desc(), Invoice.id.desc()).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def invoice_rows(self, ids: Sequence[int]) -> list[tuple[Invoice, str, str]]:
        """(invoice, account number, account name) for these ids, in the order given."""
        if not ids:
            return []
        found: dict[int, tuple[Invoice, str, str]] = {}
        for chunk in _chunks(list(ids), 1000):
            for inv, number, name in self.session.execute(
                select(Invoice, Account.number, Account.name)
                .join(Account, Account.id == Invoice.account_id)
                .where(Invoice.id.in_(chunk))
            ):
                found[inv.id] = (inv, number, name)
        return [found[i] for i in ids if i in found]

    # -- the ledger ----------------------------------------------------------------------------
    def balance(self, account_id: int, *, through_entry_id: int | None = None) -> int:
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id)
        if through_entry_id is not None:
            stmt = stmt.where(LedgerEntry.id <= through_entry_id)
        return int(self.session.scalar(stmt) or 0)

    def balance_and_open_due(self, account_id: int) -> tuple[int, int]:
        """The ledger balance and what the open invoices still ask for, in one statement."""
        balance = (
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.account_id == account_id).scalar_subquery()
        )
        due = (
            select(func.coalesce(func.sum(Invoice.total - Invoice.paid), 0))
            .where(Invoice.account_id == account_id, Invoice.status == OPEN, Invoice.total > Invoice.paid)
            .scalar_subquery()
        )
        row = self.session.execute(select(balance, due)).one()
        return int(row[0] or 0), int(row[1] or 0)

    def entries(self, account_id: int) -> list[LedgerEntry]:
        return list(self.session.scalars(
            select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id)
        ))

    def entry(self, entry_id: int) -> LedgerEntry | None:
        return self.session.get(LedgerEntry, entry_id)

    def late_fee_entries(self, invoice_id: int) -> list[LedgerEntry]:
        """Late fees charged on the invoice (each also raised its total), not yet reversed."""
        reversed_ids = select(LedgerEntry.reverses_id).where(
            LedgerEntry.invoice_id == invoice_id, LedgerEntry.reverses_id.is_not(None))
        return list(self.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.invoice_id == invoice_id, LedgerEntry.kind == LATE_FEE,
                   LedgerEntry.id.not_in(reversed_ids))
            .order_by(LedgerEntry.id)
        ))

    def charge_entry(self, invoice_id: int) -> LedgerEntry | None:
        """The entry that posted the invoice (a charge, or a credit for a negative total)."""
        return self.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.invoice_id == invoice_id, LedgerEntry.kind.in_((CHARGE, CREDIT)),
                   LedgerEntry.reverses_id.is_(None))
            .order_by(LedgerEntry.id).limit(1)
        ).first()

    def payment_entry(self, payment_id: int) -> LedgerEntry | None:
        return self.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.payment_id == payment_id, LedgerEntry.reverses_id.is_(None))
            .order_by(LedgerEntry.id).limit(1)
        ).first()

    def payments_between(self, account_id: int, after_entry_id: int | None, through_entry_id: int | None) -> int:
        """Money received, net of reversed payments and refunds, in entries after
        ``after_entry_id`` up to ``through_entry_id`` (positive: received)."""
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.payment_id.is_not(None),
        )
        if after_entry_id is not None:
            stmt = stmt.where(LedgerEntry.id > after_entry_id)
        if through_entry_id is not None:
            stmt = stmt.where(LedgerEntry.id <= through_entry_id)
        return -int(self.session.scalar(stmt) or 0)

    def last_entry_id(self, account_id: int) -> int | None:
        return self.session.scalar(select(func.max(LedgerEntry.id)).where(LedgerEntry.account_id == account_id))

    # -- payments ------------------------------------------------------------------------------
    def payment(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        stmt = select(Payment).where(Payment.id == payment_id)
        if lock:
            stmt = stmt.with_for_update(of=Payment)
        return self.session.scalars(stmt).one_or_none()

    def batch(self, batch_id: int) -> PaymentBatch | None:
        return self.session.get(PaymentBatch, batch_id)

    def _payment_filter(self, stmt: Select, query: PaymentQuery) -> Select:
        conditions = []
        if query.account_id is not None:
            conditions.append(Payment.account_id == query.account_id)
        if query.method:
            conditions.append(Payment.method == query.method)
        if query.date_from:
            conditions.append(Payment.received_on >= query.date_from)
        if query.date_to:
            conditions.append(Payment.received_on <= query.date_to)
        if not query.include_reversed:
            conditions.append(Payment.reversed_at.is_(None))
        if not query.include_refunds:
            conditions.append(Payment.kind == PAYMENT)
        if query.batch_id is not None:
            conditions.append(Payment.batch_id == query.batch_id)
        for term in query.search.lower().split():
            like = f"%{_escape(term)}%"
            conditions.append(or_(
                Account.number == term,
                func.lower(Account.name).like(like, escape="\\"),
                func.lower(Payment.reference).like(like, escape="\\"),
            ))
        return stmt.where(and_(*conditions)) if conditions else stmt

    def count_payments(self, query: PaymentQuery) -> int:
        stmt = select(func.count(Payment.id)).join(Account, Account.id == Payment.account_id)
        return self.session.scalar(self._payment_filter(stmt, query)) or 0

    def payment_ids(self, query: PaymentQuery, offset: int = 0, limit: int | None = None,
                    *, oldest_first: bool = False) -> list[int]:
        stmt = self._payment_filter(select(Payment.id).join(Account, Account.id == Payment.account_id), query)
        if oldest_first:
            stmt = stmt.order_by(Payment.id)
        else:
            stmt = stmt.order_by(Payment.received_on.desc(), Payment.id.desc())
        stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def payment_rows(self, ids: Sequence[int]) -> list[tuple[Payment, str, str, int]]:
        """(payment, account number, account name, company id) for these ids, in the order given."""
        if not ids:
            return []
        found: dict[int, tuple[Payment, str, str, int]] = {}
        for chunk in _chunks(list(ids), 1000):
            for p, number, name, company_id in self.session.execute(
                select(Payment, Account.number, Account.name, Account.company_id)
                .join(Account, Account.id == Payment.account_id)
                .where(Payment.id.in_(chunk))
            ):
                found[p.id] = (p, number, name, company_id)
        return [found[i] for i in ids if i in found]

    # -- allocations ---------------------------------------------------------------------------
    def allocations_to(self, invoice_id: int) -> list[tuple[int | None, int | None, int]]:
        """What still pays this invoice, per source: (payment id, ledger entry id, net amount > 0)."""
        stmt = (
            select(PaymentAllocation.payment_id, PaymentAllocation.ledger_entry_id, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.invoice_id == invoice_id)
            .group_by(PaymentAllocation.payment_id, PaymentAllocation.ledger_entry_id)
        )
        return [(p, e, int(a)) for p, e, a in self.session.execute(stmt) if int(a) > 0]

    def allocations_from_payment(self, payment_id: int) -> list[tuple[int, int]]:
        """(invoice id, net amount > 0) this payment still pays."""
        stmt = (
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.payment_id == payment_id)
            .group_by(PaymentAllocation.invoice_id)
            .order_by(PaymentAllocation.invoice_id)
        )
        return [(i, int(a)) for i, a in self.session.execute(stmt) if int(a) > 0]

    def allocations_from_entry(self, entry_id: int) -> list[tuple[int, int]]:
        stmt = (
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.ledger_entry_id == entry_id)
            .group_by(PaymentAllocation.invoice_id)
            .order_by(PaymentAllocation.invoice_id)
        )
        return [(i, int(a)) for i, a in self.session.execute(stmt) if int(a) > 0]

    def allocated_invoices(self, payment_ids: Sequence[int]) -> dict[int, list[tuple[int, str, int]]]:
        """Per payment: (invoice id, invoice number, net amount) it pays now."""
        if not payment_ids:
            return {}
        stmt = (
            select(PaymentAllocation.payment_id, Invoice.id, Invoice.number, func.sum(PaymentAllocation.amount))
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id.in_(list(payment_ids)))
            .group_by(PaymentAllocation.payment_id, Invoice.id, Invoice.number)
            .order_by(Invoice.id)
        )
        out: dict[int, list[tuple[int, str, int]]] = {}
        for pid, iid, number, amount in self.session.execute(stmt):
            if int(amount) > 0:
                out.setdefault(pid, []).append((iid, number, int(amount)))
        return out

    def credit_sources(self, account_id: int) -> list[CreditSource]:
        """The account's payments (not reversed, not refunds) and credit entries (manual credits
        and adjustments below zero, credit invoices; not reversed) with what is left of each,
        oldest first."""
        allocated_by_payment = (
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount).label("used"))
            .where(PaymentAllocation.payment_id.in_(select(Payment.id).where(Payment.account_id == account_id)))
            .group_by(PaymentAllocation.payment_id).subquery()
        )
        payments = self.session.execute(
            select(Payment.id, Payment.amount - func.coalesce(allocated_by_payment.c.used, 0))
            .outerjoin(allocated_by_payment, allocated_by_payment.c.payment_id == Payment.id)
            .where(Payment.account_id == account_id, Payment.kind == PAYMENT, Payment.reversed_at.is_(None))
            .order_by(Payment.id)
        )
        reversed_ids = select(LedgerEntry.reverses_id).where(
            LedgerEntry.account_id == account_id, LedgerEntry.reverses_id.is_not(None))
        allocated_by_entry = (
            select(PaymentAllocation.ledger_entry_id, func.sum(PaymentAllocation.amount).label("used"))
            .where(PaymentAllocation.ledger_entry_id.in_(
                select(LedgerEntry.id).where(LedgerEntry.account_id == account_id)))
            .group_by(PaymentAllocation.ledger_entry_id).subquery()
        )
        credits = self.session.execute(
            select(LedgerEntry.id, -LedgerEntry.amount - func.coalesce(allocated_by_entry.c.used, 0))
            .outerjoin(allocated_by_entry, allocated_by_entry.c.ledger_entry_id == LedgerEntry.id)
            .where(LedgerEntry.account_id == account_id, LedgerEntry.kind.in_((CREDIT, ADJUSTMENT)),
                   LedgerEntry.amount < 0, LedgerEntry.id.not_in(reversed_ids))
            .order_by(LedgerEntry.id)
        )
        out = [CreditSource(pid, None, int(left)) for pid, left in payments if int(left) > 0]
        out += [CreditSource(None, eid, int(left)) for eid, left in credits if int(left) > 0]
        return out

    # -- settings ------------------------------------------------------------------------------
    def currency(self, company_id: int) -> str:
        """The company's billing currency (its billing settings, else the company's own)."""
        found = self.session.scalar(select(BillingSettings.currency).where(BillingSettings.company_id == company_id))
        if found:
            return found
        return self.session.scalar(select(Company.currency).where(Company.id == company_id)) or "USD"

    def account(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def accounts_by_number(self, numbers: Iterable[str]) -> dict[str, Account]:
        numbers = sorted({n for n in numbers if n})
        out: dict[str, Account] = {}
        for chunk in _chunks(numbers, 1000):
            for a in self.session.scalars(select(Account).where(Account.number.in_(chunk))):
                out[a.number] = a
        return out

    def count_rows(self) -> dict[str, int]:
        """How many rows each money table holds (the tests prove these never go down)."""
        tables = {
            "invoices": Invoice, "invoice_lines": InvoiceLine, "ledger": LedgerEntry,
            "payments": Payment, "allocations": PaymentAllocation, "batches": PaymentBatch,
        }
        return {name: int(self.session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()}

    def reversal_of(self, entry_id: int) -> LedgerEntry | None:
        return self.session.scalars(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id).limit(1)).first()

    def sum_by_kind(self, account_id: int | None = None) -> dict[str, int]:
        stmt = select(LedgerEntry.kind, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.kind)
        if account_id is not None:
            stmt = stmt.where(LedgerEntry.account_id == account_id)
        return {k: int(v) for k, v in self.session.execute(stmt)}


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]

