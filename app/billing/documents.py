"""What a printed or e-mailed invoice shows, gathered in one place: ``InvoiceDocument``.

The PDF renderer (``app.billing.pdf``), the e-mail batch (``app.billing.mailing``) and any
future preview all draw from this one frozen value, so they can never disagree about what an
invoice says. It is built from the stored invoice and its lines only — never re-rated — so a
reprint years later shows exactly what was sent, whatever the catalogue says today.

Decisions:

- **Bill-to** is the account's financial contacts (``Contact.is_financial``); when it has none,
  its primary contact; when it has no contact at all, the account itself (its name). Each
  recipient keeps its e-mail address and ``notify_billing`` so the mailer picks addresses from
  the same list the paper shows.
- **Lines are grouped** into charges (services, packages, one-time charges, credits,
  discounts, fees, late fees, data top-ups — everything but taxes and metered usage), a usage
  section (free vs billable, read from the rating engine's ``InvoiceLine.detail``) and taxes
  *by rate*: two lines of the same tax
  (say the parent's and a rolled-up child's) print as one line with their sum.
- **Statement mode** is what the invoice was posted as (``invoicing.STATEMENT_MARK`` on its
  first line), not what the company's settings say today, so a reprint never changes shape.
  A statement adds the previous balance and the payments received since, stored on the
  invoice when it was posted, and whatever else was posted in between (late fees,
  adjustments: ``other_since``, from the ledger up to the invoice's own charge entry), so it
  adds up like ``invoicing.InvoiceDetail.statement_due``: previous balance − payments since
  + other since + this invoice = amount due.
- **Balance due** is the amount due less what has been allocated to this invoice since
  (``Invoice.paid``); a void invoice is due nothing and prints with a VOID watermark.
- Reading needs ``billing.view``. ``invoice_documents`` builds many at once in a handful of
  queries (invoices, lines, accounts with contacts and addresses, companies, settings, taxes),
  whatever the batch size: a 500-invoice print run is not 3,000 queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased, selectinload

from app.accounts.models import Account, Contact
from app.billing.invoicing import STATEMENT_MARK
from app.billing.models import (
    CHARGE,
    CREDIT,
    VOID,
    BillingAccount,
    BillingSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Tax,
)
from app.companies.models import Company
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationError
from app.core.money import format_percent_milli
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

CHUNK = 500  # ids per IN (...) list: well under every driver's parameter limit

TAX_KINDS = ("tax",)
USAGE_KINDS = ("usage",)


@dataclass(frozen=True)
class Recipient:
    """Someone the invoice is addressed to."""

    name: str
    email: str = ""
    phone: str = ""
    is_financial: bool = False
    is_primary: bool = False
    notify_billing: bool = True


@dataclass(frozen=True)
class ChargeLine:
    """One printed line of charges. ``amount`` is signed (credits and discounts negative)."""

    kind: str  # service | package | one_time | credit | discount | fee | late_fee | …
    description: str
    amount: int
    quantity: int = 1
    unit_amount: int = 0
    period_start: date | None = None
    period_end: date | None = None
    account_number: str = ""  # set for a rolled-up child's line

    @property
    def period_text(self) -> str:
        return period_text(self.period_start, self.period_end)


@dataclass(frozen=True)
class UsageLine:
    """A usage-billed service's period: how much was used, how much of it free, what was billed.

    Sizes in MB (1 GB = 1000 MB), from the rating engine's ``InvoiceLine.detail``: ``used_mb``
    (its ``total_mb``), ``free_mb`` (inside free periods: never counts), ``billable_mb`` (its
    ``counted_mb``: counted against the allowance), ``allowance_mb``, ``overage_mb`` (its
    ``billable_mb``: over the allowance, charged by the block)."""

    description: str
    amount: int
    used_mb: int = 0
    free_mb: int = 0
    billable_mb: int = 0
    allowance_mb: int = 0
    overage_mb: int = 0
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class TaxTotal:
    """One tax, summed over its lines. ``rate_milli`` for a percentage tax, None when flat."""

    name: str
    amount: int
    rate_milli: int | None = None
    tax_id: int | None = None

    @property
    def label(self) -> str:
        if self.rate_milli is None:
            return self.name
        return f"{self.name} {format_percent_milli(self.rate_milli)} %"


@dataclass(frozen=True)
class InvoiceDocument:
    invoice_id: int
    number: str
    status: str  # open | paid | void
    currency: str
    issued_on: date
    due_on: date
    period_start: date
    period_end: date
    # the company that bills
    company_name: str
    company_address: tuple[str, ...]
    company_phone: str
    company_email: str
    company_website: str
    remit_to: tuple[str, ...]  # the settings' remit-to, else the company's own address
    logo_path: str  # as configured; the renderer skips it when the file is missing
    message: str
    # the account
    account_id: int
    account_number: str
    account_name: str
    service_address: tuple[str, ...]
    bill_to: tuple[Recipient, ...]
    # the money
    charges: tuple[ChargeLine, ...]
    usage: tuple[UsageLine, ...]
    taxes: tuple[TaxTotal, ...]
    subtotal: int
    tax_total: int
    total: int
    paid: int
    statement_mode: bool = False
    previous_balance: int = 0
    payments_since: int = 0  # money received since the previous invoice (positive)
    other_since: int = 0  # late fees, adjustments… posted since then (signed)
    void_reason: str = ""
    paper_invoice: bool = False
    contacts: tuple[Recipient, ...] = ()  # every contact of the account (the mailer's fallback)
    company_country: str = "US"  # picks the paper: Letter in North America, A4 elsewhere

    @property
    def is_void(self) -> bool:
        return self.status == VOID

    @property
    def title(self) -> str:
        return "STATEMENT" if self.statement_mode else "INVOICE"

    @property
    def amount_due(self) -> int:
        """What the invoice asked for when issued (statement: with the previous balance)."""
        if self.statement_mode:
            return self.previous_balance - self.payments_since + self.other_since + self.total
        return self.total

    @property
    def balance_due(self) -> int:
        """What is still owed on it now: nothing once void."""
        if self.is_void:
            return 0
        return self.amount_due - self.paid

    @property
    def period(self) -> str:
        return period_text(self.period_start, self.period_end)

    @property
    def email_recipients(self) -> tuple[Recipient, ...]:
        """Who gets it by e-mail: the financial contacts who take billing notices and have an
        address; when there are none, the primary contact if it has an address."""
        everyone = self.contacts or self.bill_to
        chosen = tuple(r for r in everyone if r.is_financial and r.notify_billing and r.email)
        if chosen:
            return chosen
        return tuple(r for r in everyone if r.is_primary and r.email)[:1]


def period_text(start: date | None, end: date | None) -> str:
    """"Mar 1 – Mar 31, 2025"; a span across years names both."""
    if start is None or end is None:
        return ""
    if start == end:
        return f"{start:%b} {start.day}, {start.year}"
    if start.year == end.year:
        return f"{start:%b} {start.day} – {end:%b} {end.day}, {end.year}"
    return f"{start:%b} {start.day}, {start.year} – {end:%b} {end.day}, {end.year}"


# -- reading -------------------------------------------------------------------------------------

def invoice_document(uow: UnitOfWork, actor: Actor, invoice_id: int) -> InvoiceDocument:
    """Everything the printed invoice ``invoice_id`` shows. NotFound if it does not exist."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        found = load_documents(uow, [invoice_id])
    if not found:
        raise NotFound("That invoice no longer exists.")
    return found[0]


def invoice_documents(uow: UnitOfWork, actor: Actor, invoice_ids: Sequence[int]) -> list[InvoiceDocument]:
    """The documents of ``invoice_ids``, in the order given; ids that do not exist are left out.
    One transaction, a fixed handful of queries per 500 invoices."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return load_documents(uow, invoice_ids)


def load_documents(uow: UnitOfWork, invoice_ids: Sequence[int]) -> list[InvoiceDocument]:
    """The work of ``invoice_documents`` inside an open unit of work (no permission check:
    for services that already checked, like the mailer)."""
    wanted = list(dict.fromkeys(invoice_ids))
    by_id: dict[int, InvoiceDocument] = {}
    for start in range(0, len(wanted), CHUNK):
        for doc in _load_chunk(uow, wanted[start:start + CHUNK]):
            by_id[doc.invoice_id] = doc
    return [by_id[i] for i in wanted if i in by_id]


def _load_chunk(uow: UnitOfWork, ids: list[int]) -> Iterable[InvoiceDocument]:
    session = uow.session
    invoices = session.scalars(select(Invoice).where(Invoice.id.in_(ids))).all()
    if not invoices:
        return []
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids)).order_by(
            InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.id)
    ):
        lines[line.invoice_id].append(line)

    account_ids = {inv.account_id for inv in invoices}
    account_ids |= {ln.account_id for group in lines.values() for ln in group if ln.account_id}
    accounts = {
        a.id: a for a in session.scalars(
            select(Account).where(Account.id.in_(account_ids)).options(selectinload(Account.contacts))
        ).unique()
    }
    paper = {account_id: flag for account_id, flag in session.execute(
        select(BillingAccount.account_id, BillingAccount.paper_invoice).where(
            BillingAccount.account_id.in_(account_ids)))}
    company_ids = {inv.company_id for inv in invoices}
    companies = {c.id: c for c in session.scalars(select(Company).where(Company.id.in_(company_ids)))}
    settings = {
        s.company_id: s for s in session.scalars(
            select(BillingSettings).where(BillingSettings.company_id.in_(company_ids)))
    }
    tax_ids = {ln.tax_id for group in lines.values() for ln in group if ln.tax_id}
    taxes = {t.id: t for t in session.scalars(select(Tax).where(Tax.id.in_(tax_ids)))} if tax_ids else {}

    statements = [inv.id for inv in invoices if _is_statement(lines.get(inv.id, []))]
    balances = _balances_before(session, statements)

    return [
        _document(inv, lines.get(inv.id, []), accounts, companies[inv.company_id],
                  settings.get(inv.company_id), taxes, bool(paper.get(inv.account_id)),
                  inv.id in balances, balances.get(inv.id))
        for inv in invoices
    ]


def _is_statement(lines: list[InvoiceLine]) -> bool:
    return bool(lines and (lines[0].detail or {}).get(STATEMENT_MARK))


def _balances_before(session, invoice_ids: list[int]) -> dict[int, int | None]:
    """For each statement: the account's ledger balance just before the invoice's own charge
    entry (None when it has none), in one query."""
    if not invoice_ids:
        return {}
    charge = aliased(LedgerEntry)
    earlier = aliased(LedgerEntry)
    first_charge = (
        select(charge.invoice_id, func.min(charge.id).label("entry_id"))
        .where(charge.invoice_id.in_(invoice_ids), charge.kind.in_((CHARGE, CREDIT)), charge.reverses_id.is_(None))
        .group_by(charge.invoice_id)
        .subquery()
    )
    entry = aliased(LedgerEntry)
    rows = session.execute(
        select(first_charge.c.invoice_id, func.coalesce(func.sum(earlier.amount), 0))
        .join(entry, entry.id == first_charge.c.entry_id)
        .outerjoin(earlier, (earlier.account_id == entry.account_id) & (earlier.id < entry.id))
        .group_by(first_charge.c.invoice_id)
    ).all()
    found: dict[int, int | None] = {i: None for i in invoice_ids}
    found.update({invoice_id: int(balance) for invoice_id, balance in rows})
    return found


def _document(
    inv: Invoice,
    lines: list[InvoiceLine],
    accounts: dict[int, Account],
    company: Company,
    settings: BillingSettings | None,
    taxes: dict[int, Tax],
    paper_invoice: bool,
    statement: bool,
    balance_before: int | None,
) -> InvoiceDocument:
    account = accounts[inv.account_id]
    charges: list[ChargeLine] = []
    usage: list[UsageLine] = []
    tax_sums: dict[object, list] = {}  # key → [name, rate_milli, amount, tax_id], in first-seen order
    for line in lines:
        if line.kind in TAX_KINDS:
            _add_tax(tax_sums, line, taxes.get(line.tax_id) if line.tax_id else None)
        elif line.kind in USAGE_KINDS and "topup_id" not in (line.detail or {}):
            usage.append(_usage_line(line))
        else:
            child = accounts.get(line.account_id) if line.account_id and line.account_id != inv.account_id else None
            charges.append(ChargeLine(
                kind=line.kind, description=line.description, amount=line.amount,
                quantity=line.quantity, unit_amount=line.unit_amount,
                period_start=line.period_start, period_end=line.period_end,
                account_number=child.number if child else "",
            ))
    company_address = _company_address(company)
    remit_to = tuple(x.strip() for x in (settings.remit_to if settings else "").splitlines() if x.strip())
    message = inv.message or (settings.invoice_message if settings else "")
    other_since = 0
    if statement and balance_before is not None:
        other_since = balance_before - inv.previous_balance + inv.payments_since
    return InvoiceDocument(
        invoice_id=inv.id,
        number=inv.number,
        status=inv.status,
        currency=inv.currency or company.currency or "USD",
        issued_on=inv.issued_on,
        due_on=inv.due_on,
        period_start=inv.period_start,
        period_end=inv.period_end,
        company_name=company.name,
        company_address=company_address,
        company_phone=company.phone or "",
        company_email=company.email or "",
        company_website=company.website or "",
        remit_to=remit_to or (company.name, *company_address),
        logo_path=(settings.logo_path if settings else "") or "",
        message=message or "",
        account_id=account.id,
        account_number=account.number,
        account_name=account.name,
        service_address=_service_address(account),
        bill_to=_bill_to(account),
        charges=tuple(charges),
        usage=tuple(usage),
        taxes=tuple(TaxTotal(name, amount, rate, tax_id) for name, rate, amount, tax_id in tax_sums.values()),
        subtotal=inv.subtotal,
        tax_total=inv.tax_total,
        total=inv.total,
        paid=inv.paid,
        statement_mode=statement,
        previous_balance=inv.previous_balance if statement else 0,
        payments_since=inv.payments_since if statement else 0,
        other_since=other_since,
        void_reason=inv.void_reason or "",
        paper_invoice=paper_invoice,
        contacts=tuple(_recipient(c) for c in account.contacts),
        company_country=company.country or "US",
    )


def _add_tax(sums: dict[object, list], line: InvoiceLine, tax: Tax | None) -> None:
    """Sum tax lines per tax and rate. The rate comes from the line's detail when the rating
    engine recorded it (the rate in force then), else from the tax as it is now."""
    detail = line.detail or {}
    if tax is not None:
        kind = detail.get("kind", tax.kind)
        rate = detail.get("rate_milli", detail.get("rate", tax.rate))
        name = tax.name
    else:
        kind = detail.get("kind", "percent" if "rate_milli" in detail else "flat")
        rate = detail.get("rate_milli", detail.get("rate"))
        name = line.description
    rate_milli = int(rate) if kind == "percent" and rate is not None else None
    key = (line.tax_id, rate_milli) if line.tax_id else (name, rate_milli)
    entry = sums.setdefault(key, [name, rate_milli, 0, line.tax_id])
    entry[2] += line.amount


def _usage_line(line: InvoiceLine) -> UsageLine:
    detail = line.detail or {}

    def mb(key: str) -> int:
        try:
            return int(detail.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    free, counted = mb("free_mb"), mb("counted_mb")
    return UsageLine(
        description=line.description, amount=line.amount,
        used_mb=mb("total_mb") or free + counted, free_mb=free, billable_mb=counted,
        allowance_mb=mb("allowance_mb"), overage_mb=mb("billable_mb"),
        period_start=line.period_start, period_end=line.period_end,
    )


def _company_address(company: Company) -> tuple[str, ...]:
    city_line = " ".join(x for x in (
        f"{company.city}," if company.city and (company.region or company.postal_code) else company.city,
        company.region, company.postal_code) if x)
    return tuple(x for x in (company.street, city_line) if x)


def _service_address(account: Account) -> tuple[str, ...]:
    address = account.address
    if address is None:
        return ()
    street = f"{address.street} #{address.unit}" if address.unit else address.street
    city_line = " ".join(x for x in (
        f"{address.city}," if address.region or address.postal_code else address.city,
        address.region, address.postal_code) if x)
    return tuple(x for x in (address.building, street, city_line) if x)


def _bill_to(account: Account) -> tuple[Recipient, ...]:
    contacts: list[Contact] = list(account.contacts)
    financial = [c for c in contacts if c.is_financial]
    chosen = financial or [c for c in contacts if c.is_primary][:1] or contacts[:1]
    if not chosen:
        return (Recipient(name=account.name),)
    return tuple(_recipient(c) for c in chosen)


def _recipient(c: Contact) -> Recipient:
    return Recipient(name=c.name, email=(c.email or "").strip(), phone=c.phone or c.mobile or "",
                     is_financial=c.is_financial, is_primary=c.is_primary, notify_billing=c.notify_billing)


# -- print batches --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrintBatch:
    """What a print run wrote: ``invoices`` in ``pages`` pages to ``path``; what it left out."""

    path: str
    invoices: int
    pages: int
    not_paper: int = 0  # accounts that did not ask for paper invoices
    void: int = 0
    printed_ids: tuple[int, ...] = ()

    @property
    def summary(self) -> str:
        text = f"{self.invoices} invoice{'s' if self.invoices != 1 else ''}, {self.pages} page{'s' if self.pages != 1 else ''}"
        left = []
        if self.not_paper:
            left.append(f"{self.not_paper} not on paper")
        if self.void:
            left.append(f"{self.void} void")
        return text + (f" ({', '.join(left)} left out)" if left else "")


def print_batch(
    uow_factory: Callable[[], UnitOfWork],
    actor: Actor,
    invoice_ids: Sequence[int],
    target: str | Path,
    *,
    paper_only: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PrintBatch:
    """Render the invoices of ``invoice_ids`` into one PDF at ``target`` for the printer, and
    mark them printed (``printed_at``, one transaction, after the file is complete).

    ``paper_only``: only accounts with ``BillingAccount.paper_invoice`` (the others get theirs
    by e-mail). Void invoices are never printed. **The printed-invoice fee is not charged
    here**: the bill run adds it to the invoice of each paper account when it is issued, so
    printing twice (a jammed printer) never charges twice. The file is written beside
    ``target`` and renamed into place, so a failed or cancelled run leaves no half file.
    Raises ``ValidationError`` when nothing is left to print."""
    from app.billing.pdf import render_invoices

    actor.require(Permission.BILLING_EDIT)
    ids = list(dict.fromkeys(invoice_ids))
    docs: list[InvoiceDocument] = []
    not_paper = void = 0
    for start in range(0, len(ids), CHUNK):
        if cancelled is not None and cancelled():
            raise Cancelled()
        if progress is not None:
            progress(start, len(ids), "Reading invoices")
        with uow_factory() as uow:
            for doc in load_documents(uow, ids[start:start + CHUNK]):
                if doc.is_void:
                    void += 1
                elif paper_only and not doc.paper_invoice:
                    not_paper += 1
                else:
                    docs.append(doc)
    if not docs:
        what = "of accounts that want paper invoices " if paper_only else ""
        raise ValidationError(f"There is nothing to print: none of these invoices is a standing invoice {what}"
                              f"({not_paper} not on paper, {void} void).")
    if progress is not None:
        progress(len(ids), len(ids), f"Drawing {len(docs)} invoices")
    path = Path(target)
    partial = path.with_name(path.name + ".part")
    try:
        pages = render_invoices(docs, partial)
        if cancelled is not None and cancelled():
            raise Cancelled()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    printed = tuple(d.invoice_id for d in docs)
    with uow_factory() as uow:
        now = utcnow()
        for start in range(0, len(printed), CHUNK):
            chunk = printed[start:start + CHUNK]
            uow.session.execute(update(Invoice).where(Invoice.id.in_(chunk)).values(printed_at=now))
        audit.record(uow.session, actor, "invoice", "batch", "print", None,
                     {"invoices": [d.number for d in docs], "file": path.name})
        uow.commit()
    return PrintBatch(str(path), len(docs), pages, not_paper, void, printed)


class Cancelled(Exception):
    """The user cancelled the print run (nothing was written or marked)."""
