"""Billing: the catalogue (services, packages, discounts, taxes), what each account is sold,
invoices, the ledger, payments, bill runs, delinquency and usage.

Conventions that hold everywhere in this room:
- **Amounts are integers in minor units** (cents) of the company's currency. Never floats.
- **Percentages are integers in thousandths of a percent** (``percent_milli``): 13 % is
  13000, 7.125 % is 7125. A percentage applied to an amount rounds half-even per line.
- **Nothing financial is deleted.** A void is a reversing ledger entry; a removed service
  gets an ``ends_on`` date; a package in use is disabled, not edited.
- The ledger (``LedgerEntry``) is the truth of what an account owes: positive amounts are
  owed by the customer (charges, fees, refunds paid out), negative amounts reduce it
  (payments, credits, reversals). The balance is their sum.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.orm import Base, Versioned

# Service kinds. Credits reduce the invoice; the price is entered positive.
DATA, VOICE, GENERAL, ONE_TIME = "data", "voice", "general", "one_time"
CREDIT_ONE_TIME, CREDIT_RECURRING, CREDIT_EXPIRING = "credit_one_time", "credit_recurring", "credit_expiring"
SERVICE_KINDS = (DATA, VOICE, GENERAL, ONE_TIME, CREDIT_ONE_TIME, CREDIT_RECURRING, CREDIT_EXPIRING)
CREDIT_KINDS = (CREDIT_ONE_TIME, CREDIT_RECURRING, CREDIT_EXPIRING)
ONE_OFF_KINDS = (ONE_TIME, CREDIT_ONE_TIME)  # billed once, on the first invoice after they start
SERVICE_KIND_LABELS = {
    DATA: "Data", VOICE: "Voice", GENERAL: "General", ONE_TIME: "One-time charge",
    CREDIT_ONE_TIME: "One-time credit", CREDIT_RECURRING: "Recurring credit",
    CREDIT_EXPIRING: "Expiring credit",
}

# Discount recurrence (the same words serve expiring credits).
ONCE, RECURRING, EXPIRING = "once", "recurring", "expiring"

# Ledger entry kinds.
CHARGE, CREDIT, PAYMENT, REFUND, REVERSAL, LATE_FEE, ADJUSTMENT = (
    "charge", "credit", "payment", "refund", "reversal", "late_fee", "adjustment",
)

# Invoice states.
OPEN, PAID, VOID = "open", "paid", "void"


class BillingSettings(Versioned, Base):
    """How one company bills: bill day, due/grace/switch days, late fee, invoice look."""

    __tablename__ = "billing_settings"
    __table_args__ = (
        CheckConstraint("bill_day BETWEEN 1 AND 28", name="bill_day"),
        CheckConstraint("bill_day_mode IN ('fixed', 'anniversary')", name="bill_day_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), unique=True)
    bill_day_mode: Mapped[str] = mapped_column(String(12), default="fixed")
    bill_day: Mapped[int] = mapped_column(Integer, default=1)
    due_days: Mapped[int] = mapped_column(Integer, default=14)
    grace_days: Mapped[int] = mapped_column(Integer, default=7)
    status_switch_days: Mapped[int] = mapped_column(Integer, default=14)
    switch_status_id: Mapped[int | None] = mapped_column(ForeignKey("account_statuses.id"), nullable=True)
    delinquent_status_id: Mapped[int | None] = mapped_column(ForeignKey("account_statuses.id"), nullable=True)
    minimum_delinquent_balance: Mapped[int] = mapped_column(BigInteger, default=100)
    late_fee_kind: Mapped[str] = mapped_column(String(8), default="none")  # none | fixed | percent
    late_fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units or percent_milli
    late_fee_minimum: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_days: Mapped[int] = mapped_column(Integer, default=5)  # days after the due date
    printed_invoice_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    prorate: Mapped[bool] = mapped_column(Boolean, default=True)
    statement_mode: Mapped[bool] = mapped_column(Boolean, default=False)  # statement: previous balance too
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    invoice_message: Mapped[str] = mapped_column(Text, default="")
    remit_to: Mapped[str] = mapped_column(Text, default="")
    logo_path: Mapped[str] = mapped_column(String(500), default="")
    # Delinquency checks run on these ISO weekdays (1 = Monday … 7 = Sunday).
    check_weekdays: Mapped[str] = mapped_column(String(7), default="12345")
    excluded_account_type_ids: Mapped[list] = mapped_column(JSON, default=list)


class DelinquencyExclusion(Base):
    """A date delinquency checks skip. ``year`` NULL: every year (Christmas)."""

    __tablename__ = "delinquency_exclusions"
    __table_args__ = (UniqueConstraint("company_id", "year", "month", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    month: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80), default="")


class Tax(Versioned, Base):
    """Flat (minor units per invoice) or percentage; global, or in a zone matched on the
    address fields it names (``zone``: {"country": "CA", "region": "ON", "city": …,
    "postal_prefix": …}; every given field must match)."""

    __tablename__ = "billing_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8), default="percent")  # percent | flat
    rate: Mapped[int] = mapped_column(BigInteger)  # percent_milli, or minor units when flat
    zone: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    gl_code: Mapped[str] = mapped_column(String(40), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


service_taxes = Table(
    "billing_service_taxes",
    Base.metadata,
    Column("service_id", ForeignKey("billing_services.id", ondelete="CASCADE"), primary_key=True),
    Column("tax_id", ForeignKey("billing_taxes.id", ondelete="CASCADE"), primary_key=True),
)


class UsagePolicy(Versioned, Base):
    """Usage-based billing of a data service. Sizes are in MB (1 GB = 1000 MB, 1 TB = 1000 GB).

    ``free_periods``: [{"weekday": 1-7 | null (every day), "start": "HH:MM", "end": "HH:MM"}];
    usage inside them never counts. Overage is charged at period end, per GB
    (``overage_block_mb`` = 1000) or per started block."""

    __tablename__ = "billing_usage_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    allowance_mb: Mapped[int] = mapped_column(BigInteger)
    rollover_months: Mapped[int] = mapped_column(Integer, default=0)  # 0: no rollover
    overage_block_mb: Mapped[int] = mapped_column(BigInteger, default=1000)
    overage_price: Mapped[int] = mapped_column(BigInteger, default=0)  # per block, minor units
    topup_mb: Mapped[int] = mapped_column(BigInteger, default=0)
    topup_price: Mapped[int] = mapped_column(BigInteger, default=0)
    free_periods: Mapped[list] = mapped_column(JSON, default=list)


class Service(Versioned, Base):
    __tablename__ = "billing_services"
    __table_args__ = (
        UniqueConstraint("company_id", "name"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("frequency_months BETWEEN 1 AND 60", name="frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    price: Mapped[int] = mapped_column(BigInteger)  # per period, minor units; credits entered positive
    frequency_months: Mapped[int] = mapped_column(Integer, default=1)
    prorates: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_after_cycles: Mapped[int | None] = mapped_column(Integer, nullable=True)  # expiring credits
    gl_code: Mapped[str] = mapped_column(String(40), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    download_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    upload_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    usage_policy_id: Mapped[int | None] = mapped_column(ForeignKey("billing_usage_policies.id"), nullable=True)


class Package(Versioned, Base):
    __tablename__ = "billing_packages"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(120))
    roll_up: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class PackageService(Base):
    __tablename__ = "billing_package_services"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    package_id: Mapped[int] = mapped_column(ForeignKey("billing_packages.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class Discount(Versioned, Base):
    """Fixed (minor units) or percentage, on a service or a package; once, recurring, or
    expiring after ``cycles`` billed periods."""

    __tablename__ = "billing_discounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(8))  # fixed | percent
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units or percent_milli
    service_id: Mapped[int | None] = mapped_column(ForeignKey("billing_services.id"), nullable=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("billing_packages.id"), nullable=True)
    recurrence: Mapped[str] = mapped_column(String(10), default=RECURRING)
    cycles: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class BillingAccount(Versioned, Base):
    """An account's billing profile (one row per account that has ever been billed)."""

    __tablename__ = "billing_accounts"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    bill_day: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the company's
    next_bill_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    tax_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exemption_certificate: Mapped[str] = mapped_column(String(80), default="")
    paper_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    roll_up_to_parent: Mapped[bool] = mapped_column(Boolean, default=False)
    delinquency_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    delinquent_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    status_switched_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status_before_delinquency_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_statuses.id"), nullable=True
    )


class AccountPackage(Base):
    __tablename__ = "billing_account_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("billing_packages.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountService(Base):
    """A service sold to an account, alone or as part of an ``AccountPackage``.

    ``billed_through``: the last day already invoiced (None: never). ``cycles_billed`` counts
    billed periods (expiring credits end after ``expires_after_cycles``)."""

    __tablename__ = "billing_account_services"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_billing_account_services_account_id", "account_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("billing_services.id"))
    account_package_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_account_packages.id"), nullable=True
    )
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price_override: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    override_reason: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # last day of service
    billed_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    cycles_billed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountDiscount(Base):
    __tablename__ = "billing_account_discounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    discount_id: Mapped[int] = mapped_column(ForeignKey("billing_discounts.id"))
    account_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_account_services.id"), nullable=True
    )
    account_package_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_account_packages.id"), nullable=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cycles_used: Mapped[int] = mapped_column(Integer, default=0)


class BillRun(Base):
    """One bill run: who started it, for which date, how it went. ``state``: running | done |
    failed | cancelled. Only one may be running (``claim`` in the repository)."""

    __tablename__ = "billing_runs"
    __table_args__ = (Index("ix_billing_runs_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_by: Mapped[str] = mapped_column(String(60), default="")
    worker: Mapped[str] = mapped_column(String(200), default="")
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class Invoice(Base):
    """``billing_key`` ("account:period_start") is unique while the invoice stands: a second
    run for the same account and period cannot make a second invoice. A void clears it."""

    __tablename__ = "billing_invoices"
    __table_args__ = (
        Index("ix_billing_invoices_account_id", "account_id", "issued_on"),
        Index("ix_billing_invoices_status", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    bill_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_runs.id"), nullable=True)
    billing_key: Mapped[str | None] = mapped_column(String(60), unique=True, nullable=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_total: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)  # allocated payments and credits
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    late_fee_applied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    previous_balance: Mapped[int] = mapped_column(BigInteger, default=0)  # statement mode
    payments_since: Mapped[int] = mapped_column(BigInteger, default=0)  # statement mode
    printed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceLine(Base):
    """``kind``: service | package | discount | credit | tax | usage | late_fee | fee.
    ``amount`` is signed (credits and discounts negative)."""

    __tablename__ = "billing_invoice_lines"
    __table_args__ = (Index("ix_billing_invoice_lines_invoice_id", "invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)  # a child's line
    account_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_account_services.id"), nullable=True
    )
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("billing_taxes.id"), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    gl_code: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # usage: free/billable MB, etc.


class Payment(Base):
    """Money received (or refunded: ``kind`` refund). Card payments keep a reference only —
    never a card number."""

    __tablename__ = "billing_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_billing_payments_account_id", "account_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(8), default="payment")  # payment | refund
    method: Mapped[str] = mapped_column(String(8))  # cash | check | card | bank
    reference: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payment_batches.id"), nullable=True)
    reversed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reversal_reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(60), default="")


class PaymentBatch(Base):
    __tablename__ = "billing_payment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    deposited_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(60), default="")


class PaymentAllocation(Base):
    """How much of a payment (or credit entry) went to which invoice."""

    __tablename__ = "billing_payment_allocations"
    __table_args__ = (
        Index("ix_billing_payment_allocations_invoice_id", "invoice_id"),
        Index("ix_billing_payment_allocations_payment_id", "payment_id"),
        Index("ix_billing_payment_allocations_ledger_entry_id", "ledger_entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payments.id"), nullable=True)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("billing_ledger.id"), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # negative when a reversal takes it back


class LedgerEntry(Base):
    """Append-only. ``amount`` > 0: the customer owes more; < 0: owes less."""

    __tablename__ = "billing_ledger"
    __table_args__ = (Index("ix_billing_ledger_account_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger)
    posted_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoices.id"), nullable=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payments.id"), nullable=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("billing_ledger.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(60), default="")


class UsageRecord(Base):
    """Usage of an account, in MB, over a span (imported from CSV; RADIUS accounting later)."""

    __tablename__ = "billing_usage"
    __table_args__ = (
        Index("ix_billing_usage_account_id", "account_id", "started_at"),
        UniqueConstraint("account_id", "started_at", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime] = mapped_column()
    download_mb: Mapped[int] = mapped_column(BigInteger, default=0)
    upload_mb: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(40), default="import")


class UsageTopUp(Base):
    __tablename__ = "billing_usage_topups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    bought_on: Mapped[date] = mapped_column(Date)
    mb: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    invoiced: Mapped[bool] = mapped_column(Boolean, default=False)


class UsageRollover(Base):
    """Unused allowance carried from one period, usable until ``expires_on``."""

    __tablename__ = "billing_usage_rollovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    from_period_start: Mapped[date] = mapped_column(Date)
    mb_left: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date] = mapped_column(Date)
