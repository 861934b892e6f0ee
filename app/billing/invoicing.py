"""Invoices in the database: posting a rated draft, voiding, the invoices list and its export.

**Posting** (``post_invoice``) runs inside the caller's open unit of work — the bill run commits
once per account, so an account's invoice, its ledger charge, the subscriptions it advanced and
the credit it used commit together or not at all. One invoice per account and period: the
``billing_key`` ("account:period_start") is unique while the invoice stands, checked first and
enforced by the unique index (a second desktop racing for the same key gets ``InvoiceExists``).

**Voiding** never deletes: the invoice keeps its number and lines, turns void, gives up its
billing key (so the period can be invoiced again), and a reversal entry cancels its charge.
Money that had paid it becomes credit again and, like all credit, goes to the account's other
open invoices (see ``app.billing.ledger``). What the invoice advanced — subscriptions'
``billed_through`` and ``cycles_billed``, discounts' ``cycles_used``, top-ups, rollovers — is
put back from the ``undo`` notes stored on its lines, unless a later invoice has billed the same
subscription since (then void that one first).

**Statement mode** fills ``previous_balance`` (the ledger balance as of the previous standing
invoice, 0 for the first) and ``payments_since`` (money received since then, net of reversed
payments and refunds). Anything else posted in between (adjustments, late fees) is
``InvoiceDetail.other_since``, so a statement always adds up to the account's balance:
previous balance − payments since + other since + this invoice = amount due.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from sqlalchemy import (
    Executable,
    Insert,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.billing import ledger as ledger_rules
from app.billing import rating
from app.billing.ledger_repository import InvoiceQuery
from app.billing.models import (
    CHARGE,
    CREDIT,
    OPEN,
    PAID,
    REVERSAL,
    VOID,
    AccountDiscount,
    AccountService,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    UsageRollover,
    UsageTopUp,
)
from app.core import audit
from app.core.clock import utcnow
from app.core.counters import Counter, take_next
from app.core.errors import NotFound, RiserError, ValidationError
from app.core.export import ExportFormat, write_table
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

INVOICE_NUMBER_COUNTER = "invoice_number"
FIRST_INVOICE_NUMBER = 100001
VOID_REASON_MAX = 200
DESCRIPTION_MAX = 300
STATEMENT_MARK = "statement_mode"  # on the first line's detail: the invoice is a statement

__all__ = [
    "InvoiceDetail",
    "InvoiceExists",
    "InvoiceLineRow",
    "InvoiceQuery",
    "InvoiceRow",
    "KnownState",
    "Posted",
    "ToPost",
    "export_invoices",
    "first_page",
    "get_invoice",
    "list_invoices",
    "page",
    "post_invoice",
    "post_invoices",
    "void_invoice",
]


class InvoiceExists(RiserError):
    """The account already has a standing invoice for this period."""

    def __init__(self, message: str, billing_key: str, invoice_number: str | None = None) -> None:
        super().__init__(message)
        self.billing_key = billing_key
        self.invoice_number = invoice_number


# -- rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str
    account_id: int
    account_number: str
    account_name: str
    company_id: int
    issued_on: date
    due_on: date
    period_start: date
    period_end: date
    currency: str
    total: int
    paid: int
    status: str  # open | paid | void

    @property
    def balance_due(self) -> int:
        """What is left to pay (0 for a void invoice or a credit invoice)."""
        return 0 if self.status == VOID else max(0, self.total - self.paid)


@dataclass(frozen=True)
class InvoiceLineRow:
    position: int
    kind: str
    description: str
    quantity: int
    unit_amount: int
    amount: int
    account_id: int | None
    account_service_id: int | None
    tax_id: int | None
    period_start: date | None
    period_end: date | None
    gl_code: str
    detail: dict


@dataclass(frozen=True)
class InvoicePaymentRow:
    """Money that pays the invoice now: a payment (``payment_id``) or a credit entry."""

    payment_id: int | None
    ledger_entry_id: int | None
    amount: int


@dataclass(frozen=True)
class InvoiceDetail:
    row: InvoiceRow
    lines: tuple[InvoiceLineRow, ...]
    subtotal: int
    tax_total: int
    message: str
    previous_balance: int
    payments_since: int
    other_since: int  # adjustments, late fees, refunds… posted since the previous invoice
    statement_mode: bool
    bill_run_id: int | None
    voided_at: object | None
    void_reason: str
    late_fee_applied_on: date | None
    payments: tuple[InvoicePaymentRow, ...]

    @property
    def statement_due(self) -> int:
        """Previous balance − payments since + other since + this invoice."""
        return self.previous_balance - self.payments_since + self.other_since + self.row.total


# -- posting -------------------------------------------------------------------------------------

def billing_key(account_id: int, period_start: date) -> str:
    return f"{account_id}:{period_start.isoformat()}"


def post_invoice(
    uow: UnitOfWork,
    actor: Actor,
    draft: rating.Draft,
    *,
    company_id: int,
    issued_on: date,
    due_on: date,
    currency: str,
    message: str = "",
    statement_mode: bool = False,
    bill_run_id: int | None = None,
) -> int:
    """Write ``draft`` as an invoice and return its id. Call inside an open ``with uow:``; the
    caller commits. Raises ``InvoiceExists`` when the account already has a standing invoice
    for the period, ``ValidationError`` for a draft that is empty or does not add up."""
    if not actor.can(Permission.BILLING_RUN):
        actor.require(Permission.BILLING_EDIT)
    _check_draft(draft)
    if due_on < issued_on:
        raise ValidationError("The due date is before the issue date.", "due_on")
    repo = uow.ledger
    session = uow.session
    account_id = draft.account_id
    key = billing_key(account_id, draft.period_start)
    found = repo.lock_for_posting(account_id, key)
    if found is None:
        raise NotFound("That account no longer exists.")
    _, existing, balance_before, due_before = found
    if existing is not None:
        raise _exists(existing, key, draft)

    # Prebuilt Core statements, not ORM objects: the bill run posts thousands of these, one
    # transaction each, and building and tracking a dozen objects per invoice was most of the cost.
    number = str(take_next(session, INVOICE_NUMBER_COUNTER, FIRST_INVOICE_NUMBER))
    try:
        # A savepoint: a unique-index violation (another desktop posted the same key a moment
        # ago) rolls back only this insert, and the session stays usable to say so.
        with session.begin_nested():
            invoice_id = session.execute(_INSERT_INVOICE, {
                "number": number, "account_id": account_id, "company_id": company_id, "bill_run_id": bill_run_id,
                "billing_key": key, "period_start": draft.period_start, "period_end": draft.period_end,
                "issued_on": issued_on, "due_on": due_on, "currency": (currency or "USD").upper()[:3],
                "subtotal": draft.subtotal, "tax_total": draft.tax_total, "total": draft.total, "paid": 0,
                "status": OPEN if draft.total > 0 else PAID, "message": message or "",
                "previous_balance": 0, "payments_since": 0, "void_reason": "", "created_at": utcnow(),
            }).scalar_one()
    except IntegrityError:
        other = repo.number_for_key(key)
        if other is not None:
            raise _exists(other, key, draft) from None
        raise

    session.execute(insert(InvoiceLine), _lines(uow, invoice_id, draft, statement_mode))
    _apply_updates(uow, draft)
    entry_id = session.execute(_INSERT_ENTRY, {
        "account_id": account_id, "kind": CHARGE if draft.total >= 0 else CREDIT, "amount": draft.total,
        "posted_on": issued_on, "description": f"Invoice {number}", "invoice_id": invoice_id,
        "payment_id": None, "reverses_id": None, "created_by": actor.username, "created_at": utcnow(),
    }).scalar_one()
    if statement_mode:
        _fill_statement(uow, account_id, invoice_id, entry_id)
    # Credit the account had before still has to find an invoice (this one); a credit invoice
    # makes new credit. Otherwise posting leaves the credit at zero: nothing to apply.
    if due_before - balance_before > 0 or draft.total < 0:
        ledger_rules.apply_credit(uow, account_id)
    return invoice_id


_INSERT_INVOICE = insert(Invoice).returning(Invoice.id)
_INSERT_ENTRY = insert(LedgerEntry).returning(LedgerEntry.id)


def _fill_statement(uow: UnitOfWork, account_id: int, invoice_id: int, entry_id: int) -> None:
    """Statement mode: the balance as of the previous standing invoice and the money received
    since (see the module docstring)."""
    repo = uow.ledger
    previous = repo.previous_invoice(account_id, before_id=invoice_id)
    after_id = None
    if previous is not None:
        previous_charge = repo.charge_entry(previous.id)
        after_id = previous_charge.id if previous_charge else None
    uow.session.execute(update(Invoice).where(Invoice.id == invoice_id).values(
        previous_balance=repo.balance(account_id, through_entry_id=after_id) if after_id else 0,
        payments_since=repo.payments_between(account_id, after_id, entry_id),
    ))


# -- posting many at once (the bill run) ----------------------------------------------------------

@dataclass(frozen=True)
class ToPost:
    """A draft and what ``post_invoice`` takes beside it."""

    draft: rating.Draft
    company_id: int
    issued_on: date
    due_on: date
    currency: str
    message: str = ""
    statement_mode: bool = False


@dataclass(frozen=True)
class Posted:
    """What ``post_invoices`` did, per account."""

    invoice_ids: dict[int, int]  # account id → the new invoice's id
    numbers: dict[int, str]  # account id → the new invoice's number
    existing: dict[int, str]  # account id → number of the standing invoice that already bills the period
    missing: tuple[int, ...]  # accounts that no longer exist


@dataclass(frozen=True)
class KnownState:
    """The stored values, before posting, of the rows the drafts advance — read by the caller in
    this transaction with the accounts locked (the bill run has them from loading the drafts'
    inputs), so ``post_invoices`` need not read them again for the undo notes."""

    subscriptions: dict[int, tuple[date | None, int]]  # id → (billed_through, cycles_billed)
    discounts: dict[int, int]  # account discount id → cycles_used
    rollovers: dict[int, int]  # rollover id → mb_left


def post_invoices(uow: UnitOfWork, actor: Actor, items: Sequence[ToPost], *,
                  bill_run_id: int | None = None, known: KnownState | None = None) -> Posted:
    """``post_invoice`` for many drafts in one go, inside the caller's open unit of work (the
    caller commits). The same rows as posting them one by one in this order — invoice, lines
    with their undo notes, the subscriptions, discounts, rollovers and top-ups advanced, one
    charge (or credit) entry, statement figures, credit applied — written with a handful of
    ``executemany`` statements instead of a dozen statements per invoice:

    - the accounts are locked in one ``SELECT … FOR UPDATE`` (by id, so two callers cannot
      deadlock), the standing invoices of the periods, the balances and open dues read in
      grouped queries;
    - the invoice numbers are taken as one block from the counter (one UPDATE);
    - invoices, lines and ledger entries are inserted with one ``executemany`` each, the
      advanced rows updated by primary key with one ``executemany`` per table.

    A period already invoiced is not posted again: the account is reported in
    ``Posted.existing`` (``post_invoice`` raises ``InvoiceExists`` instead); a unique-index
    violation from a desktop posting the same key meanwhile fails the whole call (the bill run
    then retries its accounts one at a time). Statement figures and credit application, which
    few accounts need, go through the same per-invoice code as ``post_invoice``."""
    if not actor.can(Permission.BILLING_RUN):
        actor.require(Permission.BILLING_EDIT)
    seen: set[int] = set()
    for item in items:
        _check_draft(item.draft)
        if item.due_on < item.issued_on:
            raise ValidationError("The due date is before the issue date.", "due_on")
        if item.draft.account_id in seen:
            raise ValidationError(f"Account {item.draft.account_id} has two drafts in one posting.")
        seen.add(item.draft.account_id)
    if not items:
        return Posted({}, {}, {}, ())
    session = uow.session
    ids = sorted(seen)
    present: set[int] = set()
    for part in _parts(ids):
        present.update(session.scalars(
            select(_accounts.c.id).where(_ids_in(_accounts.c.id, part)).order_by(_accounts.c.id).with_for_update()))
    keys = {item.draft.account_id: billing_key(item.draft.account_id, item.draft.period_start) for item in items}
    standing: dict[str, str] = {}
    for part in _parts(list(keys.values())):
        standing.update(session.execute(
            select(_invoices.c.billing_key, _invoices.c.number).where(_invoices.c.billing_key.in_(part))).all())
    existing = {a: standing[k] for a, k in keys.items() if k in standing and a in present}
    todo = [item for item in items if item.draft.account_id in present and item.draft.account_id not in existing]
    missing = tuple(a for a in ids if a not in present)
    if not todo:
        return Posted({}, {}, existing, missing)
    todo_ids = [item.draft.account_id for item in todo]

    # Who has unallocated credit before posting (it must find the new invoice).
    balances: dict[int, int] = {}
    dues: dict[int, int] = {}
    for part in _parts(todo_ids):
        balances.update(session.execute(
            select(_ledger.c.account_id, func.sum(_ledger.c.amount))
            .where(_ids_in(_ledger.c.account_id, part)).group_by(_ledger.c.account_id)).all())
        dues.update(session.execute(
            select(_invoices.c.account_id, func.sum(_invoices.c.total - _invoices.c.paid))
            .where(_ids_in(_invoices.c.account_id, part), _invoices.c.status == OPEN,
                   _invoices.c.total > _invoices.c.paid)
            .group_by(_invoices.c.account_id)).all())

    first = _take_numbers(session, len(todo))
    numbers = {item.draft.account_id: str(first + n) for n, item in enumerate(todo)}
    now = utcnow()
    _executemany(session, _INSERT_INVOICE_ROW, [
        {"number": numbers[d.account_id], "account_id": d.account_id, "company_id": item.company_id,
         "bill_run_id": bill_run_id, "billing_key": keys[d.account_id], "period_start": d.period_start,
         "period_end": d.period_end, "issued_on": item.issued_on, "due_on": item.due_on,
         "currency": (item.currency or "USD").upper()[:3], "subtotal": d.subtotal, "tax_total": d.tax_total,
         "total": d.total, "paid": 0, "status": OPEN if d.total > 0 else PAID, "late_fee_applied_on": None,
         "message": item.message or "", "previous_balance": 0, "payments_since": 0, "printed_at": None,
         "emailed_at": None, "voided_at": None, "void_reason": "", "created_at": now}
        for item in todo for d in (item.draft,)
    ])
    invoice_ids: dict[int, int] = {}
    by_number = {number: account_id for account_id, number in numbers.items()}
    for part in _parts_of(list(by_number)):
        for number, invoice_id in session.execute(
                select(_invoices.c.number, _invoices.c.id).where(_invoices.c.number.in_(part))):
            invoice_ids[by_number[number]] = invoice_id

    # The lines, with the undo notes read from the rows as they are before this posting.
    drafts = [item.draft for item in todo]
    if known is not None:
        current, discounts, rollovers = known.subscriptions, known.discounts, known.rollovers
    else:
        current = _subscription_state(session, [u.id for d in drafts for u in d.subscription_updates])
        discounts = _discount_state(session, [i for d in drafts for i, _ in d.discount_updates])
        rollovers = _rollover_state(session, [i for d in drafts for i, _ in d.rollovers_used])
    lines: list[dict] = []
    for item in todo:
        lines += _line_rows(invoice_ids[item.draft.account_id], item.draft, item.statement_mode, current, discounts,
                            rollovers)
    _executemany(session, _INSERT_LINE, lines)

    # What the drafts advanced. Most rows get the same values (every monthly service billed
    # through the same day, the same cycle count…): one UPDATE … WHERE id IN (…) per distinct
    # set of values, a handful of statements for thousands of rows on both databases.
    _update_grouped(session, _as, [(u.id, (u.billed_through, u.cycles_billed))
                                   for d in drafts for u in d.subscription_updates], ("billed_through", "cycles_billed"))
    _update_grouped(session, _ad, [(i, (n,)) for d in drafts for i, n in d.discount_updates], ("cycles_used",))
    _update_grouped(session, _roll, [(i, (n,)) for d in drafts for i, n in d.rollovers_used], ("mb_left",))
    _update_grouped(session, _topups, [(i, (True,)) for d in drafts for i in d.topups_invoiced], ("invoiced",))
    new_rollovers = [r for d in drafts for r in _new_rollovers(d)]
    if new_rollovers:
        session.execute(_roll.insert(), new_rollovers)

    _executemany(session, _INSERT_ENTRY_ROW, [
        {"account_id": d.account_id, "kind": CHARGE if d.total >= 0 else CREDIT, "amount": d.total,
         "posted_on": item.issued_on, "description": f"Invoice {numbers[d.account_id]}",
         "invoice_id": invoice_ids[d.account_id], "payment_id": None, "reverses_id": None,
         "created_by": actor.username, "created_at": now}
        for item in todo for d in (item.draft,)
    ])

    statements = [item for item in todo if item.statement_mode]
    if statements:
        entry_of: dict[int, int] = {}
        for part in _parts([invoice_ids[item.draft.account_id] for item in statements]):
            entry_of.update(session.execute(
                select(_ledger.c.invoice_id, _ledger.c.id).where(_ids_in(_ledger.c.invoice_id, part))).all())
        for item in statements:
            invoice_id = invoice_ids[item.draft.account_id]
            _fill_statement(uow, item.draft.account_id, invoice_id, entry_of[invoice_id])
    for item in todo:
        account_id = item.draft.account_id
        if int(dues.get(account_id) or 0) - int(balances.get(account_id) or 0) > 0 or item.draft.total < 0:
            ledger_rules.apply_credit(uow, account_id)
    return Posted(invoice_ids, numbers, existing, missing)


def _executemany(session: Session, stmt: Executable, rows: list[dict]) -> None:
    """Run ``stmt`` once per row of ``rows`` without SQLAlchemy's per-row parameter handling,
    which cost more than the database itself for the ~90,000 lines of a 10,000-account bill run.

    The statement is compiled once per dialect (an INSERT of the rows' keys, or a statement
    whose every parameter is a named ``bindparam``), and each value goes through its column
    type's own bind processor — the conversion SQLAlchemy applies (JSON, dates on SQLite, UTC
    datetimes) — so the rows stored are the same as through the ORM. Then:

    - an INSERT goes through ``COPY … FROM STDIN`` when the driver's cursor offers it
      (psycopg on Postgres): one stream instead of a statement per row, four to ten times
      faster than psycopg's pipelined ``executemany``, whose per-parameter adaptation was
      most of a Postgres bill run (measured in tests/benchmarks/bench_bill_run.py);
    - everything else is one DBAPI ``executemany`` (sqlite3's is fast)."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = tuple(rows[0])
    cache_key = (id(stmt), keys, dialect.name)
    prepared = _PREPARED.get(cache_key)
    if prepared is None:
        insert_ = isinstance(stmt, Insert)
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys)) if insert_ else stmt.compile(dialect=dialect)
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        unknown = [n for n in names if n not in keys]
        if unknown:
            raise ValueError(f"_executemany: parameters {unknown} are not in the rows")
        processors = [(n, compiled.binds[n].type._cached_bind_processor(dialect)) for n in names]
        copy_sql = None
        if insert_:
            preparer = dialect.identifier_preparer
            table = stmt.table  # type: ignore[attr-defined]
            copy_sql = (f"COPY {preparer.format_table(table)} "
                        f"({', '.join(preparer.format_column(table.c[n]) for n in names)}) FROM STDIN")
        prepared = _PREPARED[cache_key] = (compiled.string, compiled.positional, processors, copy_sql, stmt)
    sql, positional, processors, copy_sql, _keep = prepared
    if copy_sql and hasattr(conn.connection.dbapi_connection, "pgconn"):  # psycopg: it has COPY
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            write = copy.write_row
            for row in rows:
                write([row[n] if p is None or row[n] is None else p(row[n]) for n, p in processors])
        return
    if positional:
        params: list = [tuple([row[n] if p is None or row[n] is None else p(row[n]) for n, p in processors])
                        for row in rows]
    else:
        params = [{n: row[n] if p is None or row[n] is None else p(row[n]) for n, p in processors} for row in rows]
    conn.exec_driver_sql(sql, params)


_PREPARED: dict[tuple, tuple] = {}


def _ids_in(column, ids: Sequence[int]):
    """``column IN (…)`` with the integer ids written into the SQL rather than bound: a chunk's
    IN lists of 500 bound parameters (with Postgres casts) cost more to render and for the driver
    to parse than the queries took to run. Only integers, so nothing can be injected."""
    return column.in_(bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True))


def _update_grouped(session: Session, table: Table, changes: list[tuple[int, tuple]], columns: tuple[str, ...]) -> None:
    """Set ``columns`` of the rows ``changes`` names — [(id, (value, …))] — with one UPDATE per
    distinct tuple of values (and 500 ids), in id order."""
    groups: dict[tuple, list[int]] = {}
    for row_id, values in changes:
        groups.setdefault(values, []).append(row_id)
    for values, ids in sorted(groups.items(), key=lambda kv: min(kv[1])):
        for part in _parts(sorted(ids)):
            session.execute(update(table).where(_ids_in(table.c.id, part)).values(dict(zip(columns, values, strict=True))))


def _parts_of(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _take_numbers(session: Session, count: int) -> int:
    """The first of ``count`` consecutive invoice numbers, taken from the counter in one UPDATE
    (the row stays locked until the transaction ends, as ``take_next`` leaves it)."""
    last = session.execute(
        update(_counters).where(_counters.c.name == INVOICE_NUMBER_COUNTER)
        .values(value=_counters.c.value + count).returning(_counters.c.value)).scalar_one_or_none()
    if last is not None:
        first = int(last) - count + 1
    else:
        first = take_next(session, INVOICE_NUMBER_COUNTER, FIRST_INVOICE_NUMBER)
        if count > 1:
            session.execute(update(_counters).where(_counters.c.name == INVOICE_NUMBER_COUNTER)
                            .values(value=_counters.c.value + (count - 1)))
    # A Counter object take_next left in this session would hold the old value: forget it.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Counter) and obj.name == INVOICE_NUMBER_COUNTER:
            session.expire(obj)
    return first


_accounts = Account.__table__
_invoices = Invoice.__table__
_lines_table = InvoiceLine.__table__
_ledger = LedgerEntry.__table__
_as = AccountService.__table__
_ad = AccountDiscount.__table__
_roll = UsageRollover.__table__
_topups = UsageTopUp.__table__
_counters = Counter.__table__
_INSERT_LINE = _lines_table.insert()
_INSERT_INVOICE_ROW = _invoices.insert()
_INSERT_ENTRY_ROW = _ledger.insert()


def _exists(number: str, key: str, draft: rating.Draft) -> InvoiceExists:
    return InvoiceExists(
        f"Invoice {number} already bills this account for the period from "
        f"{draft.period_start.isoformat()}; void it first to invoice the period again.", key, number)


def _check_draft(draft: rating.Draft) -> None:
    """Refuse a draft that is empty or does not add up (a rating bug must not reach the ledger)."""
    if draft.empty:
        raise ValidationError("There is nothing to invoice: the draft has no lines.")
    for line in draft.lines:
        if type(line.amount) is not int or type(line.unit_amount) is not int or type(line.quantity) is not int:
            for value in (line.amount, line.unit_amount, line.quantity):  # says what is wrong
                ledger_rules.check_amount(value, "lines", allow_negative=True)
    for value in (draft.subtotal, draft.tax_total, draft.total):
        ledger_rules.check_amount(value, "total", allow_negative=True)
    taxes = sum(line.amount for line in draft.lines if line.kind == "tax")
    others = sum(line.amount for line in draft.lines if line.kind != "tax")
    if (others, taxes, others + taxes) != (draft.subtotal, draft.tax_total, draft.total):
        raise ValidationError(
            f"The draft does not add up: lines {others + taxes} (taxes {taxes}), total {draft.total}.", "total")
    if draft.period_end < draft.period_start:
        raise ValidationError("The period ends before it starts.", "period_end")


def _lines(uow: UnitOfWork, invoice_id: int, draft: rating.Draft, statement_mode: bool) -> list[dict]:
    """The invoice's lines in order, as rows to insert (see ``_line_rows``)."""
    session = uow.session
    current = _subscription_state(session, [u.id for u in draft.subscription_updates])
    discounts = _discount_state(session, [d for d, _ in draft.discount_updates])
    rollovers = _rollover_state(session, [r for r, _ in draft.rollovers_used])
    return _line_rows(invoice_id, draft, statement_mode, current, discounts, rollovers)


def _subscription_state(session: Session, ids: Sequence[int]) -> dict[int, tuple[date | None, int]]:
    """{account service id: (billed_through, cycles_billed)} as stored now."""
    found: dict[int, tuple[date | None, int]] = {}
    for part in _parts(ids):
        for row_id, billed_through, cycles in session.execute(
                select(_as.c.id, _as.c.billed_through, _as.c.cycles_billed).where(_ids_in(_as.c.id, part))):
            found[row_id] = (billed_through, cycles)
    return found


def _discount_state(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """{account discount id: cycles_used} as stored now."""
    found: dict[int, int] = {}
    for part in _parts(ids):
        found.update(session.execute(select(_ad.c.id, _ad.c.cycles_used).where(_ids_in(_ad.c.id, part))).all())
    return found


def _rollover_state(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """{rollover id: mb_left} as stored now."""
    found: dict[int, int] = {}
    for part in _parts(ids):
        found.update(session.execute(select(_roll.c.id, _roll.c.mb_left).where(_ids_in(_roll.c.id, part))).all())
    return found


def _parts(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _line_rows(invoice_id: int, draft: rating.Draft, statement_mode: bool,
               current: dict[int, tuple[date | None, int]], discounts: dict[int, int],
               rollovers: dict[int, int]) -> list[dict]:
    """The invoice's lines in order, as rows to insert. The first line of each subscription the
    draft advances carries ``detail["undo"]`` (what to restore on a void), and the first line
    carries ``detail["undo_invoice"]`` for the rest (subscriptions without a line, discounts,
    top-ups, rollovers). ``current``, ``discounts`` and ``rollovers`` are the stored values
    before posting (read in bulk by the caller)."""
    undo_by_service: dict[int, dict] = {}
    orphans: list[dict] = []
    line_services = {line.account_service_id for line in draft.lines if line.account_service_id}
    for update_ in draft.subscription_updates:
        if update_.id not in current:
            raise ValidationError(f"The draft advances a service ({update_.id}) the account no longer has.")
        billed_through, cycles = current[update_.id]
        note = {
            "account_service_id": update_.id,
            "billed_through": _iso(billed_through), "cycles_billed": cycles,
            "set_billed_through": _iso(update_.billed_through), "set_cycles_billed": update_.cycles_billed,
        }
        if update_.id in line_services:
            undo_by_service[update_.id] = note
        else:
            orphans.append(note)
    invoice_undo: dict = {}
    if orphans:
        invoice_undo["subscriptions"] = orphans
    if draft.discount_updates:
        invoice_undo["discounts"] = [
            {"id": discount_id, "cycles_used": discounts[discount_id], "set_cycles_used": used}
            for discount_id, used in draft.discount_updates if discount_id in discounts
        ]
    if draft.topups_invoiced:
        invoice_undo["topups"] = list(draft.topups_invoiced)
    if draft.rollovers_used:
        invoice_undo["rollovers"] = [
            {"id": rollover_id, "mb_left": rollovers[rollover_id], "set_mb_left": left}
            for rollover_id, left in draft.rollovers_used if rollover_id in rollovers
        ]

    out: list[dict] = []
    for position, line in enumerate(draft.lines):
        detail = dict(line.detail) if line.detail else {}
        if undo_by_service and line.account_service_id in undo_by_service:
            detail["undo"] = undo_by_service.pop(line.account_service_id)
        if position == 0:
            if invoice_undo:
                detail["undo_invoice"] = invoice_undo
            if statement_mode:
                detail[STATEMENT_MARK] = True
        out.append({
            "invoice_id": invoice_id, "position": position, "kind": line.kind[:12],
            "description": line.description[:DESCRIPTION_MAX], "account_id": line.account_id,
            "account_service_id": line.account_service_id, "tax_id": line.tax_id, "quantity": line.quantity,
            "unit_amount": line.unit_amount, "amount": line.amount, "period_start": line.period_start,
            "period_end": line.period_end, "gl_code": line.gl_code or "", "detail": detail,
        })
    return out


def _apply_updates(uow: UnitOfWork, draft: rating.Draft) -> None:
    """What the draft advanced. Subscriptions in one statement (an UPDATE by primary key per
    row; ORM objects of them already in this session are not refreshed — the bill run reads
    them before posting, not after)."""
    session = uow.session
    if draft.subscription_updates:
        session.execute(update(AccountService), [
            {"id": u.id, "billed_through": u.billed_through, "cycles_billed": u.cycles_billed}
            for u in draft.subscription_updates
        ])
    for discount_id, used in draft.discount_updates:
        row = session.get(AccountDiscount, discount_id)
        if row is not None:
            row.cycles_used = used
    for rollover_id, left in draft.rollovers_used:
        row = session.get(UsageRollover, rollover_id)
        if row is not None:
            row.mb_left = left
    for rollover in _new_rollovers(draft):
        session.add(UsageRollover(**rollover))
    for topup_id in draft.topups_invoiced:
        row = session.get(UsageTopUp, topup_id)
        if row is not None:
            row.invoiced = True


def _new_rollovers(draft: rating.Draft) -> list[dict]:
    """The rollover rows a draft makes: the rated account's own (``new_rollover_mb``) and its
    rolled-up children's (in ``new_rollovers``)."""
    rows = []
    if draft.new_rollover_mb > 0 and draft.new_rollover_expires_on is not None:
        rows.append({"account_id": draft.account_id, "from_period_start": minus_one_month(draft.period_start),
                     "mb_left": draft.new_rollover_mb, "expires_on": draft.new_rollover_expires_on})
    for roll in draft.new_rollovers:
        if roll.account_id != draft.account_id and roll.mb > 0:
            rows.append({"account_id": roll.account_id, "from_period_start": roll.from_period_start,
                         "mb_left": roll.mb, "expires_on": roll.expires_on})
    return rows


def minus_one_month(day: date) -> date:
    """The same day a month earlier, clamped to that month's last day."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for d in range(day.day, 0, -1):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# -- voiding -------------------------------------------------------------------------------------

def void_invoice(uow: UnitOfWork, actor: Actor, invoice_id: int, reason: str, today: date | None = None) -> InvoiceRow:
    """Void an invoice (see the module docstring). ``reason`` is required."""
    actor.require(Permission.BILLING_EDIT)
    reason = ledger_rules.clean_text(reason, VOID_REASON_MAX)
    if not reason:
        raise ValidationError("Say why the invoice is voided.", "reason")
    today = today or date.today()
    with uow:
        repo = uow.ledger
        invoice = repo.invoice(invoice_id)
        if invoice is None:
            raise NotFound("That invoice no longer exists.")
        repo.lock_account(invoice.account_id)
        invoice = repo.invoice(invoice_id, lock=True)
        assert invoice is not None
        if invoice.status == VOID:
            raise ValidationError(f"Invoice {invoice.number} is already void.")
        lines = repo.lines(invoice.id)
        _undo(uow, invoice, lines)

        charge = repo.charge_entry(invoice.id)
        # Money that paid this invoice becomes credit again…
        for payment_id, entry_id, amount in repo.allocations_to(invoice.id):
            ledger_rules.take_back(uow, invoice, amount, payment_id=payment_id, ledger_entry_id=entry_id)
        # …and a credit invoice takes back what its credit paid elsewhere.
        if charge is not None and charge.kind == CREDIT:
            for other_id, amount in repo.allocations_from_entry(charge.id):
                other = repo.invoice(other_id, lock=True)
                if other is not None:
                    ledger_rules.take_back(uow, other, amount, ledger_entry_id=charge.id)
        before = {"status": invoice.status, "billing_key": invoice.billing_key}
        invoice.status = VOID
        invoice.voided_at = utcnow()
        invoice.void_reason = reason
        invoice.billing_key = None
        if charge is not None:
            repo.add(LedgerEntry(
                account_id=invoice.account_id, kind=REVERSAL, amount=-charge.amount, posted_on=today,
                description=f"Void of invoice {invoice.number}: {reason}"[:DESCRIPTION_MAX],
                invoice_id=invoice.id, reverses_id=charge.id, created_by=actor.username,
            ))
        # Late fees were added to this invoice's total by their own entries: they go with it.
        for fee in repo.late_fee_entries(invoice.id):
            repo.add(LedgerEntry(
                account_id=invoice.account_id, kind=REVERSAL, amount=-fee.amount, posted_on=today,
                description=f"Void of invoice {invoice.number}: late fee reversed"[:DESCRIPTION_MAX],
                invoice_id=invoice.id, reverses_id=fee.id, created_by=actor.username,
            ))
        repo.flush()
        ledger_rules.apply_credit(uow, invoice.account_id)
        audit.record(uow.session, actor, "invoice", invoice.id, "void", before,
                     {"status": VOID, "reason": reason, "number": invoice.number})
        uow.commit()
        return _row(invoice, *_account_of(uow, invoice))


def _undo(uow: UnitOfWork, invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """Put back what the invoice advanced, or refuse when a later invoice billed it again."""
    session = uow.session
    notes: list[dict] = []
    invoice_undo: dict = {}
    for line in lines:
        detail = line.detail or {}
        if "undo" in detail:
            notes.append(detail["undo"])
        if "undo_invoice" in detail:
            invoice_undo = detail["undo_invoice"]
    notes += invoice_undo.get("subscriptions", [])
    restores: list[tuple[AccountService, dict]] = []
    for note in notes:
        sub = session.get(AccountService, note["account_service_id"])
        if sub is None:
            continue
        if _iso(sub.billed_through) != note["set_billed_through"] or sub.cycles_billed != note["set_cycles_billed"]:
            later = uow.ledger.later_line_for_service(sub.id, invoice.id)
            what = next((ln.description for ln in lines if ln.account_service_id == sub.id), "a service")
            where = f"invoice {later.number}" if later is not None else "a later invoice"
            raise ValidationError(
                f"Invoice {invoice.number} cannot be voided: {what} was billed again on {where} — "
                "void that one first.")
        restores.append((sub, note))
    for sub, note in restores:
        sub.billed_through = _date(note["billed_through"])
        sub.cycles_billed = int(note["cycles_billed"])
    for note in invoice_undo.get("discounts", []):
        row = session.get(AccountDiscount, note["id"])
        if row is not None and row.cycles_used == note["set_cycles_used"]:
            row.cycles_used = int(note["cycles_used"])
    for topup_id in invoice_undo.get("topups", []):
        row = session.get(UsageTopUp, topup_id)
        if row is not None:
            row.invoiced = False
    for note in invoice_undo.get("rollovers", []):
        row = session.get(UsageRollover, note["id"])
        if row is not None and row.mb_left == note["set_mb_left"]:
            row.mb_left = int(note["mb_left"])


# -- reading -------------------------------------------------------------------------------------

def _account_of(uow: UnitOfWork, invoice: Invoice) -> tuple[str, str]:
    account = uow.ledger.account(invoice.account_id)
    return (account.number, account.name) if account else ("", "")


def _row(inv: Invoice, account_number: str, account_name: str) -> InvoiceRow:
    return InvoiceRow(
        id=inv.id, number=inv.number, account_id=inv.account_id, account_number=account_number,
        account_name=account_name, company_id=inv.company_id, issued_on=inv.issued_on, due_on=inv.due_on,
        period_start=inv.period_start, period_end=inv.period_end, currency=inv.currency, total=inv.total,
        paid=inv.paid, status=inv.status,
    )


def first_page(uow: UnitOfWork, actor: Actor, query: InvoiceQuery, limit: int) -> tuple[int, list[InvoiceRow]]:
    """The count and the first page in one transaction (newest first)."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        total = uow.ledger.count_invoices(query)
        ids = uow.ledger.invoice_ids(query, 0, limit)
        return total, [_row(*r) for r in uow.ledger.invoice_rows(ids)]


def page(uow: UnitOfWork, actor: Actor, query: InvoiceQuery, offset: int, limit: int,
         total: int | None = None) -> list[InvoiceRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        ids = uow.ledger.invoice_ids(query, offset, limit)
        return [_row(*r) for r in uow.ledger.invoice_rows(ids)]


def list_invoices(uow: UnitOfWork, actor: Actor, query: InvoiceQuery | None = None,
                  offset: int = 0, limit: int = 200) -> list[InvoiceRow]:
    """One page of the invoices ``query`` selects (default: all), newest first."""
    return page(uow, actor, query or InvoiceQuery(), offset, limit)


def get_invoice(uow: UnitOfWork, actor: Actor, invoice_id: int) -> InvoiceDetail:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        repo = uow.ledger
        invoice = repo.invoice(invoice_id)
        if invoice is None:
            raise NotFound("That invoice no longer exists.")
        raw_lines = repo.lines(invoice.id)
        lines = tuple(
            InvoiceLineRow(
                position=ln.position, kind=ln.kind, description=ln.description, quantity=ln.quantity,
                unit_amount=ln.unit_amount, amount=ln.amount, account_id=ln.account_id,
                account_service_id=ln.account_service_id, tax_id=ln.tax_id, period_start=ln.period_start,
                period_end=ln.period_end, gl_code=ln.gl_code,
                detail={k: v for k, v in (ln.detail or {}).items() if k not in ("undo", "undo_invoice", STATEMENT_MARK)},
            )
            for ln in raw_lines
        )
        statement = bool(raw_lines and (raw_lines[0].detail or {}).get(STATEMENT_MARK))
        other_since = 0
        charge = repo.charge_entry(invoice.id)
        if statement and charge is not None:
            # The balance just before this invoice = previous balance − payments since + other since.
            before_charge = repo.balance(invoice.account_id, through_entry_id=charge.id) - charge.amount
            other_since = before_charge - invoice.previous_balance + invoice.payments_since
        payments = tuple(InvoicePaymentRow(p, e, a) for p, e, a in repo.allocations_to(invoice.id))
        return InvoiceDetail(
            row=_row(invoice, *_account_of(uow, invoice)), lines=lines, subtotal=invoice.subtotal,
            tax_total=invoice.tax_total, message=invoice.message, previous_balance=invoice.previous_balance,
            payments_since=invoice.payments_since, other_since=other_since,
            statement_mode=statement, bill_run_id=invoice.bill_run_id, voided_at=invoice.voided_at,
            void_reason=invoice.void_reason, late_fee_applied_on=invoice.late_fee_applied_on, payments=payments,
        )


# -- export --------------------------------------------------------------------------------------

EXPORT_HEADERS = ["Number", "Account", "Name", "Issued", "Due", "Period start", "Period end", "Currency",
                  "Total", "Paid", "Balance due", "Status"]
EXPORT_WIDTHS = [10, 10, 28, 11, 11, 11, 11, 8, 12, 12, 12, 8]
CHUNK = 1000


def export_invoices(
    uow: UnitOfWork,
    actor: Actor,
    target: str | Path | TextIO,
    fmt: ExportFormat = ExportFormat.CSV,
    query: InvoiceQuery | None = None,
    progress: Callable[[int, int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> int:
    """Write the invoices ``query`` selects (the list's rows, newest first) to CSV or XLSX.
    Amounts are written as decimal text in the invoice's currency ("1234.50"), never floats."""
    actor.require(Permission.BILLING_VIEW)
    query = query or InvoiceQuery()
    with uow:
        ids = uow.ledger.invoice_ids(query)

        def rows() -> Iterator[tuple]:
            for start in range(0, len(ids), CHUNK):
                if check:
                    check()
                if progress:
                    progress(start, len(ids))
                for inv, number, name in uow.ledger.invoice_rows(ids[start:start + CHUNK]):
                    r = _row(inv, number, name)
                    yield (r.number, r.account_number, r.account_name, r.issued_on, r.due_on, r.period_start,
                           r.period_end, r.currency, _plain_amount(r.total, r.currency),
                           _plain_amount(r.paid, r.currency), _plain_amount(r.balance_due, r.currency), r.status)

        count = write_table(target, fmt, EXPORT_HEADERS, rows(), title="Invoices", widths=EXPORT_WIDTHS)
        if progress:
            progress(count, max(count, len(ids)))
        return count


def _plain_amount(minor: int, currency: str) -> str:
    from app.core.money import format_minor

    return format_minor(minor, currency).replace(",", "")
