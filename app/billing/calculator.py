"""The billing calculator: an account's next invoice, line by line, before any bill run — and
what a change (a service added or removed) would do to it, without saving the change.

    result = calculator.next_invoice(uow, actor, account_id, today)
    change = calculator.what_if(uow, actor, account_id, today, add_service_id=7)
    change.difference                       # the next invoice's total after − before

Both need ``billing.view`` and **change nothing**: they read inside one unit of work and leave
it without committing (so even the company's billing settings are not created here; a company
that has none yet is previewed with the schema's defaults).

How the preview is made, so that it is the invoice the bill run will make:

- **The bill date** is the account's ``BillingAccount.next_bill_on`` — the date the bill run
  will invoice it. An account that has none yet (never sold anything, or a profile not yet
  made) is previewed on the next bill day on or after ``today`` (its own bill day, else its
  company's). A ``next_bill_on`` already past (a run was missed) is kept, and flagged
  ``overdue``: that period is still the next one to be invoiced.
- **The inputs** are those of the bill run: ``loading.accounts_to_rate`` for that date and the
  company's taxes (``loading.taxes_for``), rated by ``rating.rate``. Children that roll up into
  the account come along, and their lines say whose they are.
- **An account that rolls up into its parent** has no invoice of its own: the calculator says
  so (``rolls_up_into``) and previews the parent's invoice (the top of the chain when parents
  roll up in turn), where this account's charges appear.
- **The due date** is the bill date plus the company's due days. ``delinquent_on`` is when the
  account would become delinquent if this invoice went unpaid (due + grace days + 1, moved to
  the next day checks run), None when it is excluded from delinquency or the invoice is under
  the company's minimum balance. It looks at this invoice alone; older open invoices are what
  ``delinquency.upcoming_dates`` answers about.
- **What if** builds the same ``AccountToRate`` and changes its subscriptions in memory: a
  service added from ``on`` (default ``today``) is one more subscription, never billed; a
  service removed *on* ``on`` gets its last day the day before — the same dates the scheduled
  events "add a service" and "remove a service" use (``app.billing.handlers``). A change that
  starts after the bill date does not show on this invoice (the rating engine bills a span that
  starts after the bill date on the invoice after it); the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from app.accounts.models import Account
from app.billing import delinquency, loading, rating
from app.billing import models as m
from app.billing.catalogue import currency_of
from app.billing.models import AccountService, BillingAccount, BillingSettings
from app.billing.subscriptions import check_quantity, on_or_after
from app.core.errors import NotFound, ValidationError
from app.core.money import format_minor
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

MAX_PARENTS = loading.MAX_DEPTH  # roll-up chains deeper than the loader follows are not previewed
WHAT_IF_ID = -1  # the id of a subscription that exists only in a what-if


# -- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountRef:
    id: int
    number: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.name}"


@dataclass(frozen=True)
class CalculatorLine:
    """One line of the previewed invoice (``amount`` signed: credits and discounts negative)."""

    kind: str  # service | package | credit | discount | tax | usage | fee
    description: str
    quantity: int
    unit_amount: int
    amount: int
    period_start: date | None
    period_end: date | None
    account_id: int | None  # a child's line: the child's id
    account_service_id: int | None

    @property
    def is_tax(self) -> bool:
        return self.kind == "tax"


@dataclass(frozen=True)
class CalculatorResult:
    account: AccountRef  # the account asked about
    invoiced: AccountRef  # whose invoice is previewed: the account, or the parent it rolls into
    rolls_up_into: AccountRef | None  # set when the account has no invoice of its own
    company_id: int
    currency: str
    bill_date: date
    overdue: bool  # the bill date is before ``today``: a bill run has not invoiced it yet
    scheduled: bool  # the bill date is the account's ``next_bill_on`` (not a guess from the bill day)
    period_start: date
    period_end: date
    due_on: date
    delinquent_on: date | None  # if this invoice goes unpaid (see the module docstring)
    lines: tuple[CalculatorLine, ...]
    subtotal: int
    tax_total: int
    total: int
    notes: tuple[str, ...] = ()  # things a reader should know: "its status Inactive is not billed"

    @property
    def empty(self) -> bool:
        return not self.lines

    @property
    def charge_lines(self) -> tuple[CalculatorLine, ...]:
        return tuple(ln for ln in self.lines if not ln.is_tax)

    @property
    def tax_lines(self) -> tuple[CalculatorLine, ...]:
        return tuple(ln for ln in self.lines if ln.is_tax)

    def money(self, minor: int) -> str:
        return format_minor(minor, self.currency)

    @property
    def rolled_up_text(self) -> str:
        """"100123 Owen White rolls up into 100100 Cedar Court: its charges are on that invoice"."""
        if self.rolls_up_into is None:
            return ""
        return (f"{self.account.label} rolls up into {self.rolls_up_into.label}: its charges are on "
                f"{self.invoiced.label}'s invoice, previewed here.")


@dataclass(frozen=True)
class WhatIfResult:
    change: str  # "Add Internet 100 from 2026-03-15"
    before: CalculatorResult
    after: CalculatorResult

    @property
    def difference(self) -> int:
        return self.after.total - self.before.total

    @property
    def text(self) -> str:
        """"Next invoice (Apr 1): 45.00 → 92.25 (+47.25)"."""
        b, a = self.before, self.after
        sign = "+" if self.difference >= 0 else "−"
        return (f"Next invoice ({a.bill_date:%b} {a.bill_date.day}): {b.money(b.total)} → {a.money(a.total)} "
                f"({sign}{a.money(abs(self.difference))})")


# -- the calculator ------------------------------------------------------------------------------

def next_invoice(uow: UnitOfWork, actor: Actor, account_id: int, today: date) -> CalculatorResult:
    """The account's next invoice as the bill run would make it (nothing is written)."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _preview(uow, account_id, today, None)


def what_if(uow: UnitOfWork, actor: Actor, account_id: int, today: date, add_service_id: int | None = None,
            remove_account_service_id: int | None = None, on: date | None = None, *,
            quantity: int = 1) -> WhatIfResult:
    """The next invoice before and after adding a catalogue service (``quantity`` of it, from
    ``on``) and/or removing one of the account's services on ``on`` (its last day the day
    before). ``on`` defaults to ``today``. Nothing is saved."""
    actor.require(Permission.BILLING_VIEW)
    if add_service_id is None and remove_account_service_id is None:
        raise ValidationError("Choose a service to add or to remove.", "service_id")
    on = on if on is not None else today
    if not isinstance(on, date):
        raise ValidationError("Choose the date of the change.", "on")
    with uow:
        account = _account(uow, account_id)
        changes: list[Callable[[rating.AccountToRate], rating.AccountToRate]] = []
        words: list[str] = []
        if add_service_id is not None:
            spec = _service_spec(uow, account, add_service_id)
            quantity = check_quantity(quantity)
            sub = rating.Subscription(WHAT_IF_ID, spec, on, quantity)
            changes.append(lambda acc: _on_member(acc, account.id, lambda a: replace(
                a, subscriptions=a.subscriptions + (sub,))))
            words.append(f"Add {spec.name}{f' × {quantity}' if quantity != 1 else ''} from {on.isoformat()}")
        if remove_account_service_id is not None:
            line = _own_line(uow, account, remove_account_service_id)
            line_id, last_day = line.id, on - timedelta(days=1)
            if last_day < line.starts_on:
                raise ValidationError(f"The service starts on {line.starts_on.isoformat()}: remove it from "
                                      f"{(line.starts_on + timedelta(days=1)).isoformat()} or later.", "on")
            changes.append(lambda acc: _on_member(acc, account.id, lambda a: replace(a, subscriptions=tuple(
                replace(s, ends_on=last_day) if s.id == line_id else s for s in a.subscriptions))))
            name = uow.billing_catalogue.service(line.service_id)
            words.append(f"Remove {name.name if name else 'the service'} on {on.isoformat()}")
        before = _preview(uow, account_id, today, None)

        def change(acc: rating.AccountToRate) -> rating.AccountToRate:
            for step in changes:
                acc = step(acc)
            return acc

        after = _preview(uow, account_id, today, change)
        if on > after.bill_date:
            after = replace(after, notes=after.notes + (
                f"The change on {on.isoformat()} comes after this bill date: it shows on the invoice after it.",))
        return WhatIfResult("; ".join(words), before, after)


# -- the work ------------------------------------------------------------------------------------

def _account(uow: UnitOfWork, account_id: int) -> Account:
    account = uow.accounts.get(account_id) if isinstance(account_id, int) and not isinstance(account_id, bool) \
        else None
    if account is None:
        raise NotFound("That account no longer exists.")
    return account


def _ref(account: Account) -> AccountRef:
    return AccountRef(account.id, account.number, account.name)


def _invoiced_account(uow: UnitOfWork, account: Account) -> Account:
    """The account whose invoice carries ``account``'s charges: itself, or the parent it rolls
    up into (and that one's, when it rolls up in turn)."""
    current = account
    for _ in range(MAX_PARENTS):
        row = uow.billing_catalogue.billing_account(current.id)
        if row is None or not row.roll_up_to_parent or current.parent_id is None:
            return current
        parent = uow.accounts.get(current.parent_id)
        if parent is None:
            return current
        current = parent
    return current


def _setting(settings: BillingSettings | None, name: str) -> int:
    """A company setting, or the schema's default when the company has no settings row yet."""
    value = getattr(settings, name) if settings is not None else None
    if value is None:
        value = BillingSettings.__table__.c[name].default.arg
    return int(value)


def _bill_date(row: BillingAccount | None, settings: BillingSettings | None, today: date) -> tuple[date, bool]:
    """(the bill date, whether it is the account's scheduled ``next_bill_on``)."""
    if row is not None and row.next_bill_on is not None:
        return row.next_bill_on, True
    bill_day = (row.bill_day if row is not None else None) or _setting(settings, "bill_day")
    return on_or_after(today, bill_day), False


def _preview(uow: UnitOfWork, account_id: int, today: date,
             change: Callable[[rating.AccountToRate], rating.AccountToRate] | None) -> CalculatorResult:
    account = _account(uow, account_id)
    invoiced = _invoiced_account(uow, account)
    repo = uow.billing_catalogue
    settings = repo.settings(invoiced.company_id)
    bill_date, scheduled = _bill_date(repo.billing_account(invoiced.id), settings, today)
    session = uow.session
    inputs = loading.accounts_to_rate(session, [invoiced.id], bill_date).get(invoiced.id)
    notes: list[str] = []
    if inputs is None:  # the chain of parents is deeper than the loader follows, or a cycle
        inputs = rating.AccountToRate(invoiced.id, invoiced.number, invoiced.name)
        notes.append("Its parent accounts could not be followed to the invoice that carries them.")
    if change is not None:
        inputs = change(inputs)
    if account.id != invoiced.id and not _contains(inputs, account.id):
        notes.append(f"{account.number}'s status does not bill: its charges are not on {invoiced.number}'s "
                     "invoice now.")
    draft = rating.rate(inputs, bill_date, loading.taxes_for(session, invoiced.company_id))
    if invoiced.status is not None and not invoiced.status.activates:
        notes.append(f"Its status {invoiced.status.name} is not billed: the bill run skips it.")
    if draft.empty:
        notes.append("Nothing to bill on this date.")
    due_on = bill_date + timedelta(days=_setting(settings, "due_days"))
    return CalculatorResult(
        account=_ref(account), invoiced=_ref(invoiced),
        rolls_up_into=_ref(invoiced) if invoiced.id != account.id else None,
        company_id=invoiced.company_id, currency=currency_of(uow, invoiced.company_id),
        bill_date=bill_date, overdue=bill_date < today, scheduled=scheduled,
        period_start=draft.period_start, period_end=draft.period_end, due_on=due_on,
        delinquent_on=_delinquent_on(uow, invoiced, due_on, draft.total),
        lines=tuple(CalculatorLine(ln.kind, ln.description, ln.quantity, ln.unit_amount, ln.amount,
                                   ln.period_start, ln.period_end, ln.account_id, ln.account_service_id)
                    for ln in draft.lines),
        subtotal=draft.subtotal, tax_total=draft.tax_total, total=draft.total, notes=tuple(notes),
    )


def _delinquent_on(uow: UnitOfWork, account: Account, due_on: date, total: int) -> date | None:
    rules = delinquency.load_rules(uow.delinquency, account.company_id)
    row = uow.billing_catalogue.billing_account(account.id)
    if row is not None and row.delinquency_excluded:
        return None
    if account.account_type_id in rules.excluded_type_ids or total <= rules.minimum_balance:
        return None
    return rules.next_check_day(due_on + timedelta(days=rules.grace_days + 1))


def _contains(acc: rating.AccountToRate, account_id: int) -> bool:
    return acc.id == account_id or any(_contains(child, account_id) for child in acc.children)


def _on_member(acc: rating.AccountToRate, account_id: int,
               edit: Callable[[rating.AccountToRate], rating.AccountToRate]) -> rating.AccountToRate:
    """``acc`` with ``edit`` applied to the member ``account_id`` (itself or a child, at any depth)."""
    if acc.id == account_id:
        return edit(acc)
    if not acc.children:
        return acc
    return replace(acc, children=tuple(_on_member(child, account_id, edit) for child in acc.children))


def _service_spec(uow: UnitOfWork, account: Account, service_id: object) -> rating.ServiceSpec:
    """A catalogue service as the rating engine takes it — built as ``loading`` builds it (its
    taxes in tax-id order; a usage policy only on a data service). A service that could not be
    sold to the account is refused with the message ``add_service`` would give."""
    repo = uow.billing_catalogue
    service = repo.service(service_id) if isinstance(service_id, int) and not isinstance(service_id, bool) else None
    if service is None:
        raise ValidationError("That service no longer exists.", "service_id")
    if not service.enabled:
        raise ValidationError(f"{service.name} is disabled: it is no longer sold.", "service_id")
    if service.company_id != account.company_id:
        raise ValidationError(f"{service.name} is sold by another company than this account's.", "service_id")
    policy = None
    if service.kind == m.DATA and service.usage_policy_id:
        p = repo.usage_policy(service.usage_policy_id)
        if p is not None:
            periods = tuple(rating.FreePeriod(f.get("weekday"), f.get("start", "00:00"), f.get("end", "00:00"))
                            for f in (p.free_periods or []))
            policy = rating.UsagePolicySpec(p.id, p.name, p.allowance_mb, p.rollover_months or 0,
                                            p.overage_block_mb or 1000, p.overage_price or 0, periods)
    tax_ids = tuple(sorted(repo.service_tax_ids([service.id]).get(service.id, ())))
    return rating.ServiceSpec(service.id, service.name, service.kind, service.price, service.frequency_months or 1,
                              bool(service.prorates), service.expires_after_cycles, service.gl_code or "", tax_ids,
                              policy)


def _own_line(uow: UnitOfWork, account: Account, account_service_id: object) -> AccountService:
    line = uow.billing_catalogue.account_service(account_service_id) \
        if isinstance(account_service_id, int) and not isinstance(account_service_id, bool) else None
    if line is None or line.account_id != account.id:
        raise NotFound("That service is no longer on the account.")
    if line.account_package_id is not None:
        raise ValidationError("This service is part of a package: remove the package instead.", "account_service_id")
    if line.ends_on is not None:
        raise ValidationError(f"This service already ends on {line.ends_on.isoformat()}.", "account_service_id")
    return line
