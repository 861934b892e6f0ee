"""Overdue invoices, delinquent accounts, exclusions, the outbox. Queries only: the rules (who
is delinquent, when a status switches) live in ``app.billing.delinquency``.

Two methods make work happen once across several desktops, the way
``ScheduledEventRepository.claim_next`` does:
- ``claim_late_fee``: one conditional UPDATE (``… WHERE late_fee_applied_on IS NULL``). On
  Postgres a second desktop's UPDATE waits for the first one's row lock, then re-reads the row,
  finds it claimed and changes nothing; on SQLite the UPDATE, first statement of its transaction,
  takes the single write lock before it reads.
- ``lock_billing_account``: a no-op UPDATE of the account's billing row for the same effect
  (a row lock on Postgres, the write lock on SQLite) before the delinquency state is read and
  changed, so two checks, or a check and a payment, take turns on one account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account, AccountStatus, AccountType
from app.billing.models import (
    OPEN,
    BillingAccount,
    BillingSettings,
    DelinquencyExclusion,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from app.companies.models import Company
from app.core.outbox import OutboxEvent

_invoices = Invoice.__table__
_billing_accounts = BillingAccount.__table__
_CHUNK = 500  # ids per IN (…) list


def _open_with_balance():
    return (Invoice.status == OPEN) & (Invoice.total - Invoice.paid > 0)


class DelinquencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- settings ------------------------------------------------------------------------------
    def companies(self) -> list[Company]:
        return list(self.session.scalars(select(Company).order_by(Company.id)))

    def settings(self, company_id: int) -> BillingSettings | None:
        return self.session.scalar(select(BillingSettings).where(BillingSettings.company_id == company_id))

    def exclusions(self, company_id: int) -> list[DelinquencyExclusion]:
        return list(self.session.scalars(
            select(DelinquencyExclusion).where(DelinquencyExclusion.company_id == company_id)
            .order_by(DelinquencyExclusion.month, DelinquencyExclusion.day, DelinquencyExclusion.id)))

    def status(self, status_id: int | None) -> AccountStatus | None:
        return self.session.get(AccountStatus, status_id) if status_id is not None else None

    def account_type_names(self) -> dict[int, str]:
        return dict(self.session.execute(select(AccountType.id, AccountType.name)))

    # -- late fees -----------------------------------------------------------------------------
    def late_fee_candidates(self, company_id: int, due_on_or_before: date) -> list[int]:
        """Open invoices of the company with a balance, due on or before the date, no late fee yet."""
        return list(self.session.scalars(
            select(Invoice.id)
            .where(Invoice.company_id == company_id, _open_with_balance(),
                   Invoice.late_fee_applied_on.is_(None), Invoice.due_on <= due_on_or_before)
            .order_by(Invoice.due_on, Invoice.id)))

    def claim_late_fee(self, invoice_id: int, today: date) -> bool:
        """Mark the invoice's late fee applied today, if nobody has and it still has a balance.
        True: this transaction owns the fee (and must add it before committing)."""
        result = self.session.execute(
            update(_invoices)
            .where(_invoices.c.id == invoice_id, _invoices.c.late_fee_applied_on.is_(None),
                   _invoices.c.status == OPEN, _invoices.c.total - _invoices.c.paid > 0)
            .values(late_fee_applied_on=today)
        )
        return result.rowcount == 1

    def invoice(self, invoice_id: int) -> Invoice | None:
        return self.session.get(Invoice, invoice_id, populate_existing=True)

    def add_entry(self, entry: LedgerEntry) -> None:
        self.session.add(entry)

    # -- accounts ------------------------------------------------------------------------------
    def account(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def lock_billing_account(self, account_id: int) -> BillingAccount | None:
        """The account's billing row, locked until the transaction ends (None: it has none yet)."""
        result = self.session.execute(
            update(_billing_accounts).where(_billing_accounts.c.account_id == account_id)
            .values(delinquent_since=_billing_accounts.c.delinquent_since)
        )
        if result.rowcount == 0:
            return None
        return self.session.get(BillingAccount, account_id, populate_existing=True)

    def billing_account(self, account_id: int) -> BillingAccount | None:
        return self.session.get(BillingAccount, account_id)

    def add_billing_account(self, account_id: int) -> BillingAccount:
        row = BillingAccount(account_id=account_id)
        self.session.add(row)
        self.session.flush()
        return row

    def delinquent_account_ids(self) -> list[int]:
        return list(self.session.scalars(
            select(BillingAccount.account_id).where(BillingAccount.delinquent_since.is_not(None))
            .order_by(BillingAccount.account_id)))

    def overdue_account_ids(self, company_id: int, due_before: date) -> list[int]:
        """Accounts of the company with an open invoice with a balance due before the date."""
        return list(self.session.scalars(
            select(Invoice.account_id).distinct()
            .join(Account, Account.id == Invoice.account_id)
            .where(Account.company_id == company_id, _open_with_balance(), Invoice.due_on < due_before)
            .order_by(Invoice.account_id)))

    def balance(self, account_id: int) -> int:
        """The sum of the account's ledger entries (flushed changes of this transaction included)."""
        return int(self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id)))

    def balances(self, account_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted(set(account_ids))
        found: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            found.update((a, int(b)) for a, b in self.session.execute(
                select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
                .where(LedgerEntry.account_id.in_(chunk)).group_by(LedgerEntry.account_id)))
        return {a: found.get(a, 0) for a in ids}

    def oldest_open_invoice(self, account_id: int, due_before: date | None = None) -> Invoice | None:
        """The account's oldest open invoice with a balance (due before ``due_before`` if given)."""
        conditions = [Invoice.account_id == account_id, _open_with_balance()]
        if due_before is not None:
            conditions.append(Invoice.due_on < due_before)
        return self.session.scalar(select(Invoice).where(*conditions).order_by(Invoice.due_on, Invoice.id).limit(1))

    def open_invoices(self, account_id: int) -> list[Invoice]:
        """Open invoices with a balance, oldest due first."""
        return list(self.session.scalars(
            select(Invoice).where(Invoice.account_id == account_id, _open_with_balance())
            .order_by(Invoice.due_on, Invoice.id)))

    def oldest_overdue(self, due_before: date) -> dict[int, Invoice]:
        """For every account with an open invoice with a balance due before the date: the oldest."""
        rows = self.session.scalars(
            select(Invoice).where(_open_with_balance(), Invoice.due_on < due_before)
            .order_by(Invoice.account_id, Invoice.due_on, Invoice.id))
        oldest: dict[int, Invoice] = {}
        for invoice in rows:
            oldest.setdefault(invoice.account_id, invoice)
        return oldest

    def accounts_with_billing(self, account_ids: Iterable[int]) -> list[tuple[Account, BillingAccount | None]]:
        ids = sorted(set(account_ids))
        pairs: list[tuple[Account, BillingAccount | None]] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            pairs += list(self.session.execute(
                select(Account, BillingAccount).outerjoin(BillingAccount, BillingAccount.account_id == Account.id)
                .where(Account.id.in_(chunk))))
        return pairs

    # -- the outbox ----------------------------------------------------------------------------
    def events(self, account_id: int) -> list[OutboxEvent]:
        return list(self.session.scalars(
            select(OutboxEvent).where(OutboxEvent.account_id == account_id).order_by(OutboxEvent.id)))

    def invoice_lines(self, invoice_id: int) -> list[InvoiceLine]:
        return list(self.session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)))
