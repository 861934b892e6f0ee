"""What an account is sold: its services and packages (with quantities, dates and price
overrides), the discounts on them, and its billing profile.

Reading needs ``billing.view``; changing needs ``billing.edit``. Every change is audited on the
account (its history shows "add service", "end package"…).

Dates, as the rating engine reads them (``app.billing.rating``):
- ``starts_on`` is the first day of service, ``ends_on`` the **last** day (inclusive).
- A quantity change on ``on`` ends the old line on ``on - 1`` and starts a new one on ``on``;
  the rating engine prorates both by days.
- The scheduled-event kinds (``app.billing.handlers``) make their change *on* the due date: an
  "add" starts the line that day, a "remove" makes the day before its last day, so "remove on
  1 December" is billed through 30 November.
- Nothing is deleted: removing a service or a discount gives it an end date.

The ``_``-prefixed functions below work inside a unit of work that is already open, on an
account already loaded (and locked); the public functions and the scheduled-event handlers
share them, so a change made now and one made by an event are the same change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.accounts.models import Account
from app.billing import models as m
from app.billing.catalogue import currency_of, ensure_settings
from app.billing.models import (
    AccountDiscount,
    AccountPackage,
    AccountService,
    BillingAccount,
    Service,
)
from app.core import audit, money
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

REASON_LIMIT = 200
CERTIFICATE_LIMIT = 80


# -- rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineDiscount:
    """An ``AccountDiscount`` as the account's Billing tab shows it."""

    id: int
    discount_id: int
    name: str
    kind: str  # fixed | percent
    amount: int  # minor units or percent_milli
    currency: str
    recurrence: str  # once | recurring | expiring
    cycles: int | None
    cycles_used: int
    starts_on: date
    ends_on: date | None
    account_service_id: int | None
    account_package_id: int | None

    @property
    def cycles_left(self) -> int | None:
        """Periods still to be discounted: None when it recurs for ever."""
        if self.recurrence == m.ONCE:
            return max(0, 1 - self.cycles_used)
        if self.recurrence == m.EXPIRING and self.cycles is not None:
            return max(0, self.cycles - self.cycles_used)
        return None

    @property
    def amount_text(self) -> str:
        if self.kind == "percent":
            return f"{money.format_percent_milli(self.amount)} %"
        return money.format_minor(self.amount, self.currency)

    @property
    def text(self) -> str:
        """"Loyalty 10 % — 2 of 6 used" / "Welcome 5.00 — once, used"."""
        if self.recurrence == m.EXPIRING:
            when = f"{self.cycles_used} of {self.cycles} used"
        elif self.recurrence == m.ONCE:
            when = "once, used" if self.cycles_used else "once"
        else:
            when = "every period"
        return f"{self.name} {self.amount_text} — {when}"


@dataclass(frozen=True)
class AccountLine:
    """One ``AccountService`` of an account."""

    id: int
    account_id: int
    service_id: int
    name: str
    kind: str
    quantity: int
    list_price: int  # the catalogue's price per unit
    price_override: int | None
    override_reason: str
    currency: str
    frequency_months: int
    starts_on: date
    ends_on: date | None
    billed_through: date | None
    cycles_billed: int
    expires_after_cycles: int | None
    account_package_id: int | None
    package_id: int | None
    package_name: str
    package_roll_up: bool
    discounts: tuple[LineDiscount, ...]  # on this line
    package_discounts: tuple[LineDiscount, ...]  # on its package (the same on every line of it)
    state: str  # future | active | ended (as of the ``today`` asked about)

    @property
    def unit_price(self) -> int:
        return self.list_price if self.price_override is None else self.price_override

    @property
    def amount(self) -> int:
        """Per period; credits are negative."""
        value = self.unit_price * self.quantity
        return -value if self.kind in m.CREDIT_KINDS else value

    @property
    def overridden(self) -> bool:
        return self.price_override is not None

    @property
    def price_text(self) -> str:
        """"45.00" or "39.00 (override; list 45.00)"."""
        text = money.format_minor(self.unit_price, self.currency)
        if self.overridden:
            return f"{text} (override; list {money.format_minor(self.list_price, self.currency)})"
        return text

    @property
    def kind_label(self) -> str:
        return m.SERVICE_KIND_LABELS.get(self.kind, self.kind)

    @property
    def in_package(self) -> bool:
        return self.account_package_id is not None

    @property
    def cycles_text(self) -> str:
        """"3 of 6 billed" for an expiring credit."""
        if self.kind == m.CREDIT_EXPIRING and self.expires_after_cycles:
            return f"{self.cycles_billed} of {self.expires_after_cycles} billed"
        return ""


@dataclass(frozen=True)
class Profile:
    """An account's billing profile (``BillingAccount``)."""

    account_id: int
    version: int
    bill_day: int | None  # None: the company's
    company_bill_day: int
    bill_day_mode: str
    next_bill_on: date | None
    tax_exempt: bool
    exemption_certificate: str
    paper_invoice: bool
    roll_up_to_parent: bool
    delinquency_excluded: bool
    has_parent: bool
    delinquent_since: date | None
    currency: str

    @property
    def effective_bill_day(self) -> int:
        return self.bill_day or self.company_bill_day


@dataclass(frozen=True)
class ProfileInput:
    bill_day: int | None = None
    tax_exempt: bool = False
    exemption_certificate: str = ""
    paper_invoice: bool = False
    roll_up_to_parent: bool = False
    delinquency_excluded: bool = False


# -- small helpers -------------------------------------------------------------------------------

def on_or_after(day: date, bill_day: int) -> date:
    """The first date on or after ``day`` whose day of the month is ``bill_day`` (1–28)."""
    if day.day <= bill_day:
        return day.replace(day=bill_day)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, bill_day)


def check_quantity(quantity: object, field_name: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError("Enter the quantity as a whole number, 1 or more.", field_name)
    if quantity < 0:
        raise ValidationError(f"A negative quantity ({quantity}) cannot be sold: enter 1 or more.", field_name)
    if quantity == 0:
        raise ValidationError("A quantity of 0 sells nothing: enter 1 or more (or end the service).", field_name)
    return quantity


def _a_date(value: object, field_name: str, what: str) -> date:
    if not isinstance(value, date):
        raise ValidationError(f"Choose {what}.", field_name)
    return value


def _reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if len(reason) > REASON_LIMIT:
        raise ValidationError(f"A reason has at most {REASON_LIMIT} characters.", "override_reason")
    return reason


def _override(uow: UnitOfWork, account: Account, amount: int | str | None, reason: str) -> tuple[int | None, str]:
    """(price override in minor units or None, reason). A price needs a reason."""
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return None, ""
    if isinstance(amount, str):
        try:
            value = money.parse_minor(amount, currency_of(uow, account.company_id))
        except ValidationError as exc:
            raise ValidationError(exc.message, "price_override") from None
    elif isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError("Enter the price as an amount.", "price_override")
    elif amount < 0:
        raise ValidationError("A price cannot be negative (a credit is a service of its own).", "price_override")
    else:
        value = amount
    reason = _reason(reason)
    if not reason:
        raise ValidationError("Say why this account pays another price (loyalty, a building deal…).",
                              "override_reason")
    return value, reason


def _finished(line: AccountService) -> bool:
    """Ended and billed to its end: nothing left to bill or credit."""
    return line.ends_on is not None and line.billed_through is not None and line.billed_through >= line.ends_on


def _locked_account(uow: UnitOfWork, account_id: int) -> Account:
    account = uow.scheduling.lock_account(account_id)
    if account is None:
        raise NotFound("That account no longer exists.")
    return account


def _line_of(uow: UnitOfWork, account_service_id: object) -> AccountService:
    line = uow.billing_catalogue.account_service(account_service_id) \
        if isinstance(account_service_id, int) and not isinstance(account_service_id, bool) else None
    if line is None:
        raise NotFound("That service is no longer on the account.")
    return line


def _package_of(uow: UnitOfWork, account_package_id: object) -> AccountPackage:
    row = uow.billing_catalogue.account_package(account_package_id) \
        if isinstance(account_package_id, int) and not isinstance(account_package_id, bool) else None
    if row is None:
        raise NotFound("That package is no longer on the account.")
    return row


# -- the profile ---------------------------------------------------------------------------------

def billing_account(uow: UnitOfWork, account: Account) -> BillingAccount:
    """The account's ``BillingAccount`` row, created on first use (flushed, not committed)."""
    row = uow.billing_catalogue.billing_account(account.id)
    if row is None:
        row = BillingAccount(account_id=account.id, tax_exempt=False, exemption_certificate="", paper_invoice=False,
                             roll_up_to_parent=False, delinquency_excluded=False)
        uow.billing_catalogue.add(row)
        uow.flush()
    return row


def _profile(uow: UnitOfWork, account: Account, row: BillingAccount) -> Profile:
    settings = ensure_settings(uow, account.company)
    return Profile(
        account_id=account.id, version=row.version, bill_day=row.bill_day, company_bill_day=settings.bill_day,
        bill_day_mode=settings.bill_day_mode, next_bill_on=row.next_bill_on, tax_exempt=row.tax_exempt,
        exemption_certificate=row.exemption_certificate, paper_invoice=row.paper_invoice,
        roll_up_to_parent=row.roll_up_to_parent, delinquency_excluded=row.delinquency_excluded,
        has_parent=account.parent_id is not None, delinquent_since=row.delinquent_since,
        currency=settings.currency,
    )


def get_profile(uow: UnitOfWork, actor: Actor, account_id: int) -> Profile:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        created = uow.billing_catalogue.billing_account(account_id) is None
        row = billing_account(uow, account)
        profile = _profile(uow, account, row)
        if created and not uow.db.read_only_reason:
            uow.commit()
        return profile


def save_profile(uow: UnitOfWork, actor: Actor, account_id: int, data: ProfileInput,
                 expected_version: int | None = None) -> Profile:
    """Change the account's billing profile. A new bill day moves ``next_bill_on`` to the first
    such day on or after the bill already due, so no period is billed twice."""
    actor.require(Permission.BILLING_EDIT)
    bill_day = data.bill_day
    if bill_day is not None and (isinstance(bill_day, bool) or not isinstance(bill_day, int) or not 1 <= bill_day <= 28):
        raise ValidationError("Bill day must be 1–28 so every month has it.", "bill_day")
    certificate = " ".join((data.exemption_certificate or "").split())
    if data.tax_exempt and not certificate:
        raise ValidationError("A tax-exempt account needs the reference of its exemption certificate.",
                              "exemption_certificate")
    if len(certificate) > CERTIFICATE_LIMIT:
        raise ValidationError(f"A certificate reference has at most {CERTIFICATE_LIMIT} characters.",
                              "exemption_certificate")
    with uow:
        account = _locked_account(uow, account_id)
        if data.roll_up_to_parent and account.parent_id is None:
            raise ValidationError("This account has no parent account to roll its charges into.", "roll_up_to_parent")
        row = billing_account(uow, account)
        if expected_version is not None and row.version != expected_version:
            raise ConflictError("billing profile", uow.staff.display_name(row.updated_by_id), row.updated_at)
        before = _profile_audit(row)
        if bill_day != row.bill_day and row.next_bill_on is not None:
            settings = ensure_settings(uow, account.company)
            row.next_bill_on = on_or_after(row.next_bill_on, bill_day or settings.bill_day)
        row.bill_day = bill_day
        row.tax_exempt = bool(data.tax_exempt)
        row.exemption_certificate = certificate if data.tax_exempt else ""
        row.paper_invoice = bool(data.paper_invoice)
        row.roll_up_to_parent = bool(data.roll_up_to_parent)
        row.delinquency_excluded = bool(data.delinquency_excluded)
        row.updated_by_id = actor.user_id
        uow.flush()
        old, new = audit.changed_only(before, _profile_audit(row))
        if old or new:
            audit.record(uow.session, actor, "account", account.id, "billing profile", old, new)
        profile = _profile(uow, account, row)
        uow.commit()
        return profile


def _profile_audit(row: BillingAccount) -> dict:
    return {"bill_day": row.bill_day, "next_bill_on": row.next_bill_on, "tax_exempt": row.tax_exempt,
            "exemption_certificate": row.exemption_certificate, "paper_invoice": row.paper_invoice,
            "roll_up_to_parent": row.roll_up_to_parent, "delinquency_excluded": row.delinquency_excluded}


def _schedule_first_bill(uow: UnitOfWork, account: Account, starts_on: date, new_ids: Sequence[int]) -> None:
    """Set ``next_bill_on`` when the account's first service is added (or the first after all
    its earlier ones ran out): fixed mode, the next bill day (the account's or the company's) on
    or after ``starts_on``; anniversary mode, the start day clamped to 28, kept as the
    account's bill day."""
    row = billing_account(uow, account)
    if row.next_bill_on is not None:
        if row.next_bill_on >= starts_on:
            return
        others = [s for s in uow.billing_catalogue.account_services(account.id) if s.id not in new_ids]
        if any(not _finished(s) for s in others):
            return  # the bill run keeps moving it on
    settings = ensure_settings(uow, account.company)
    if settings.bill_day_mode == "anniversary" and row.bill_day is None:
        row.bill_day = min(starts_on.day, 28)
    row.next_bill_on = on_or_after(starts_on, row.bill_day or settings.bill_day)


# -- the lines -----------------------------------------------------------------------------------

def account_lines(uow: UnitOfWork, actor: Actor, account_id: int, today: date) -> list[AccountLine]:
    """Every service the account has (had, or will have), grouped by package: the lines running
    or starting later first, then the ended ones."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        return _lines(uow, account, today)


def _lines(uow: UnitOfWork, account: Account, today: date, only: Sequence[int] | None = None) -> list[AccountLine]:
    repo = uow.billing_catalogue
    services = {s.id: s for s in repo.services(account.company_id)} if account.company_id else {}
    lines = repo.account_services(account.id)
    missing = {ln.service_id for ln in lines} - services.keys()
    for service_id in missing:  # a service of another company (moved accounts): still shown
        service = repo.service(service_id)
        if service is not None:
            services[service_id] = service
    packages = {p.id: p for p in repo.account_packages(account.id)}
    package_names = {p.id: p for p in repo.packages()} if packages else {}
    currency = currency_of(uow, account.company_id)
    discount_defs = {d.id: d for d in repo.discounts()}
    on_line: dict[int, list[LineDiscount]] = {}
    on_package: dict[int, list[LineDiscount]] = {}
    for ad in repo.account_discounts(account.id):
        d = discount_defs.get(ad.discount_id)
        if d is None:
            continue
        row = LineDiscount(ad.id, d.id, d.name, d.kind, d.amount, currency, d.recurrence, d.cycles, ad.cycles_used,
                           ad.starts_on, ad.ends_on, ad.account_service_id, ad.account_package_id)
        if ad.account_service_id is not None:
            on_line.setdefault(ad.account_service_id, []).append(row)
        elif ad.account_package_id is not None:
            on_package.setdefault(ad.account_package_id, []).append(row)
    rows: list[AccountLine] = []
    for ln in lines:
        if only is not None and ln.id not in only:
            continue
        s = services.get(ln.service_id)
        ap = packages.get(ln.account_package_id) if ln.account_package_id else None
        pkg = package_names.get(ap.package_id) if ap else None
        if ln.ends_on is not None and ln.ends_on < today:
            state = "ended"
        elif ln.starts_on > today:
            state = "future"
        else:
            state = "active"
        rows.append(AccountLine(
            id=ln.id, account_id=account.id, service_id=ln.service_id, name=s.name if s else "(removed service)",
            kind=s.kind if s else m.GENERAL, quantity=ln.quantity, list_price=s.price if s else 0,
            price_override=ln.price_override, override_reason=ln.override_reason, currency=currency,
            frequency_months=s.frequency_months if s else 1, starts_on=ln.starts_on, ends_on=ln.ends_on,
            billed_through=ln.billed_through, cycles_billed=ln.cycles_billed,
            expires_after_cycles=s.expires_after_cycles if s else None, account_package_id=ln.account_package_id,
            package_id=ap.package_id if ap else None, package_name=pkg.name if pkg else "",
            package_roll_up=pkg.roll_up if pkg else False, discounts=tuple(on_line.get(ln.id, ())),
            package_discounts=tuple(on_package.get(ln.account_package_id, ())) if ln.account_package_id else (),
            state=state,
        ))
    group_start = {p.id: p.starts_on for p in packages.values()}

    def order(row: AccountLine) -> tuple:
        group = ("p", row.account_package_id) if row.account_package_id else ("s", row.id)
        start = group_start.get(row.account_package_id, row.starts_on) if row.account_package_id else row.starts_on
        return (row.state == "ended", start, group, row.name.lower(), row.id)

    return sorted(rows, key=order)


def _line_row(uow: UnitOfWork, account: Account, line_id: int, today: date) -> AccountLine:
    return _lines(uow, account, today, only=[line_id])[0]


# -- services ------------------------------------------------------------------------------------

def _sellable_service(uow: UnitOfWork, account: Account, service_id: object) -> Service:
    service = uow.billing_catalogue.service(service_id) \
        if isinstance(service_id, int) and not isinstance(service_id, bool) else None
    if service is None:
        raise ValidationError("That service no longer exists.", "service_id")
    if not service.enabled:
        raise ValidationError(f"{service.name} is disabled: it is no longer sold.", "service_id")
    if service.company_id != account.company_id:
        raise ValidationError(f"{service.name} is sold by another company than this account's.", "service_id")
    return service


def _add_service(uow: UnitOfWork, account: Account, service_id: int, quantity: int, starts_on: date,
                 price_override: int | str | None = None, override_reason: str = "") -> AccountService:
    service = _sellable_service(uow, account, service_id)
    quantity = check_quantity(quantity)
    starts_on = _a_date(starts_on, "starts_on", "the date the service starts")
    override, reason = _override(uow, account, price_override, override_reason)
    line = AccountService(account_id=account.id, service_id=service.id, quantity=quantity, price_override=override,
                          override_reason=reason, starts_on=starts_on, cycles_billed=0)
    uow.billing_catalogue.add(line)
    uow.flush()
    _schedule_first_bill(uow, account, starts_on, [line.id])
    return line


def add_service(uow: UnitOfWork, actor: Actor, account_id: int, service_id: int, quantity: int, starts_on: date,
                price_override: int | str | None = None, override_reason: str = "") -> AccountLine:
    """Sell a service to the account from ``starts_on`` (the first day of service)."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        account = _locked_account(uow, account_id)
        line = _add_service(uow, account, service_id, quantity, starts_on, price_override, override_reason)
        row = _line_row(uow, account, line.id, starts_on)
        audit.record(uow.session, actor, "account", account.id, "add service", None,
                     {"line": line.id, "service": row.name, "quantity": line.quantity, "starts_on": starts_on,
                      "price_override": line.price_override, "override_reason": line.override_reason})
        uow.commit()
        return row


def _end_service(uow: UnitOfWork, line: AccountService, ends_on: date) -> None:
    ends_on = _a_date(ends_on, "ends_on", "the last day of service")
    if line.ends_on is not None:
        raise ValidationError(f"This service already ends on {line.ends_on.isoformat()}.", "ends_on")
    if ends_on < line.starts_on:
        raise ValidationError(
            f"The service starts on {line.starts_on.isoformat()}: its last day cannot be before that.", "ends_on")
    line.ends_on = ends_on
    for ad in uow.billing_catalogue.discounts_on_service(line.id):
        if ad.ends_on is None or ad.ends_on > ends_on:
            ad.ends_on = max(ends_on, ad.starts_on)


def end_service(uow: UnitOfWork, actor: Actor, account_service_id: int, ends_on: date) -> AccountLine:
    """End a service: ``ends_on`` is its last day. A line of a package ends with the package."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        line = _line_of(uow, account_service_id)
        account = _locked_account(uow, line.account_id)
        if line.account_package_id is not None:
            raise ValidationError("This service is part of a package: end the package instead.", "ends_on")
        _end_service(uow, line, ends_on)
        uow.flush()
        row = _line_row(uow, account, line.id, ends_on)
        audit.record(uow.session, actor, "account", account.id, "end service", None,
                     {"line": line.id, "service": row.name, "ends_on": ends_on})
        uow.commit()
        return row


def _change_quantity(uow: UnitOfWork, line: AccountService, quantity: int, on: date) -> AccountService:
    quantity = check_quantity(quantity)
    on = _a_date(on, "on", "the date the quantity changes")
    if line.account_package_id is not None:
        raise ValidationError("This service is part of a package: its quantity comes from the package.", "quantity")
    if line.ends_on is not None and line.ends_on < on:
        raise ValidationError(f"This service ended on {line.ends_on.isoformat()}.", "on")
    if quantity == line.quantity:
        raise ValidationError(f"The quantity is already {quantity}.", "quantity")
    if on <= line.starts_on:
        if line.billed_through is not None or on < line.starts_on:
            raise ValidationError(
                f"The service starts on {line.starts_on.isoformat()}: change its quantity from a later date.", "on")
        line.quantity = quantity  # not started and never billed: the line itself changes
        return line
    new = AccountService(account_id=line.account_id, service_id=line.service_id, quantity=quantity,
                         price_override=line.price_override, override_reason=line.override_reason, starts_on=on,
                         ends_on=line.ends_on, cycles_billed=line.cycles_billed)
    line.ends_on = on - timedelta(days=1)
    uow.billing_catalogue.add(new)
    uow.flush()
    # The line's discounts carry on on the new line, with the cycles they already used.
    for ad in uow.billing_catalogue.discounts_on_service(line.id):
        if ad.ends_on is not None and ad.ends_on < on:
            continue
        if ad.starts_on >= on:
            ad.account_service_id = new.id
            continue
        uow.billing_catalogue.add(AccountDiscount(
            account_id=ad.account_id, discount_id=ad.discount_id, account_service_id=new.id, starts_on=on,
            ends_on=ad.ends_on, cycles_used=ad.cycles_used))
        ad.ends_on = line.ends_on
    uow.flush()
    return new


def change_quantity(uow: UnitOfWork, actor: Actor, account_service_id: int, quantity: int, on: date) -> AccountLine:
    """From ``on`` the account has ``quantity`` of the service: the old line ends on ``on - 1``
    and a new one starts on ``on`` (same price override; its discounts carry on)."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        line = _line_of(uow, account_service_id)
        account = _locked_account(uow, line.account_id)
        old_quantity = line.quantity
        new = _change_quantity(uow, line, quantity, on)
        row = _line_row(uow, account, new.id, on)
        audit.record(uow.session, actor, "account", account.id, "change quantity", {"quantity": old_quantity},
                     {"line": new.id, "service": row.name, "quantity": quantity, "on": on})
        uow.commit()
        return row


def _set_price(uow: UnitOfWork, account: Account, line: AccountService, amount: int | str | None,
               reason: str) -> None:
    if _finished(line):
        raise ValidationError("This service has ended and is billed to its end: its price no longer matters.",
                              "price_override")
    line.price_override, line.override_reason = _override(uow, account, amount, reason)


def set_price_override(uow: UnitOfWork, actor: Actor, account_service_id: int, amount: int | str | None,
                       reason: str = "") -> AccountLine:
    """The account pays ``amount`` per unit for this line instead of the list price (None: the
    list price again). A reason is required. Applies from the next period billed."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        line = _line_of(uow, account_service_id)
        account = _locked_account(uow, line.account_id)
        before = {"price_override": line.price_override, "override_reason": line.override_reason}
        _set_price(uow, account, line, amount, reason)
        uow.flush()
        row = _line_row(uow, account, line.id, line.starts_on)
        audit.record(uow.session, actor, "account", account.id, "price override", before,
                     {"line": line.id, "service": row.name, "price_override": line.price_override,
                      "override_reason": line.override_reason})
        uow.commit()
        return row


# -- packages ------------------------------------------------------------------------------------

def _add_package(uow: UnitOfWork, account: Account, package_id: object, quantity: int,
                 starts_on: date) -> AccountPackage:
    repo = uow.billing_catalogue
    package = repo.package(package_id) if isinstance(package_id, int) and not isinstance(package_id, bool) else None
    if package is None:
        raise ValidationError("That package no longer exists.", "package_id")
    if not package.enabled:
        raise ValidationError(f"{package.name} is disabled: it is no longer sold (accounts that have it keep it).",
                              "package_id")
    if package.company_id != account.company_id:
        raise ValidationError(f"{package.name} is sold by another company than this account's.", "package_id")
    quantity = check_quantity(quantity)
    starts_on = _a_date(starts_on, "starts_on", "the date the package starts")
    items = repo.package_items([package.id])
    if not items:
        raise ValidationError(f"{package.name} holds no services.", "package_id")
    row = AccountPackage(account_id=account.id, package_id=package.id, quantity=quantity, starts_on=starts_on)
    repo.add(row)
    uow.flush()
    ids = []
    for item in items:
        line = AccountService(account_id=account.id, service_id=item.service_id, account_package_id=row.id,
                              quantity=item.quantity * quantity, starts_on=starts_on, cycles_billed=0)
        repo.add(line)
        uow.flush()
        ids.append(line.id)
    _schedule_first_bill(uow, account, starts_on, ids)
    return row


def add_package(uow: UnitOfWork, actor: Actor, account_id: int, package_id: int, quantity: int,
                starts_on: date) -> list[AccountLine]:
    """Sell a package: one line per service in it (its quantity × the package's), grouped."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        account = _locked_account(uow, account_id)
        row = _add_package(uow, account, package_id, quantity, starts_on)
        lines = [ln for ln in _lines(uow, account, starts_on) if ln.account_package_id == row.id]
        audit.record(uow.session, actor, "account", account.id, "add package", None,
                     {"account_package": row.id, "package": lines[0].package_name if lines else "",
                      "quantity": row.quantity, "starts_on": starts_on})
        uow.commit()
        return lines


def _end_package(uow: UnitOfWork, row: AccountPackage, ends_on: date) -> None:
    ends_on = _a_date(ends_on, "ends_on", "the last day of the package")
    if row.ends_on is not None:
        raise ValidationError(f"This package already ends on {row.ends_on.isoformat()}.", "ends_on")
    if ends_on < row.starts_on:
        raise ValidationError(
            f"The package starts on {row.starts_on.isoformat()}: its last day cannot be before that.", "ends_on")
    row.ends_on = ends_on
    repo = uow.billing_catalogue
    for line in repo.services_of_account_package(row.id):
        if line.ends_on is None or line.ends_on > ends_on:
            line.ends_on = max(ends_on, line.starts_on)
    for ad in repo.account_discounts(row.account_id):
        if ad.account_package_id == row.id and (ad.ends_on is None or ad.ends_on > ends_on):
            ad.ends_on = max(ends_on, ad.starts_on)


def end_package(uow: UnitOfWork, actor: Actor, account_package_id: int, ends_on: date) -> list[AccountLine]:
    """End a package and every line of it: ``ends_on`` is the last day."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        row = _package_of(uow, account_package_id)
        account = _locked_account(uow, row.account_id)
        _end_package(uow, row, ends_on)
        uow.flush()
        lines = [ln for ln in _lines(uow, account, ends_on) if ln.account_package_id == row.id]
        audit.record(uow.session, actor, "account", account.id, "end package", None,
                     {"account_package": row.id, "package": lines[0].package_name if lines else "",
                      "ends_on": ends_on})
        uow.commit()
        return lines


def end_everything(uow: UnitOfWork, account_id: int, last_day: date) -> int:
    """End every line, package and discount still running after ``last_day`` (a disconnection,
    inside the caller's transaction). A line that starts later than ``last_day`` is ended on its
    first day (an end date never precedes a start). Returns how many lines changed."""
    repo = uow.billing_catalogue
    changed = 0
    for ap in repo.account_packages(account_id):
        if ap.ends_on is None or ap.ends_on > last_day:
            ap.ends_on = max(last_day, ap.starts_on)
    for line in repo.account_services(account_id):
        if line.ends_on is None or line.ends_on > last_day:
            line.ends_on = max(last_day, line.starts_on)
            changed += 1
    for ad in repo.account_discounts(account_id):
        if ad.ends_on is None or ad.ends_on > last_day:
            ad.ends_on = max(last_day, ad.starts_on)
    return changed


# -- discounts -----------------------------------------------------------------------------------

def _add_discount(uow: UnitOfWork, account: Account, discount_id: object, account_service_id: int | None,
                  account_package_id: int | None, starts_on: date) -> AccountDiscount:
    repo = uow.billing_catalogue
    discount = repo.discount(discount_id) if isinstance(discount_id, int) and not isinstance(discount_id, bool) \
        else None
    if discount is None:
        raise ValidationError("That discount no longer exists.", "discount_id")
    if not discount.enabled:
        raise ValidationError(f"{discount.name} is disabled: it is no longer given.", "discount_id")
    if discount.company_id != account.company_id:
        raise ValidationError(f"{discount.name} belongs to another company than this account's.", "discount_id")
    starts_on = _a_date(starts_on, "starts_on", "the date the discount starts")
    if account_service_id is None and account_package_id is None:
        # No target chosen: the one running line (or package) the discount is for, if unambiguous.
        if discount.service_id is not None:
            candidates = [s.id for s in repo.account_services(account.id)
                          if s.service_id == discount.service_id and (s.ends_on is None or s.ends_on >= starts_on)]
            account_service_id = candidates[0] if len(candidates) == 1 else None
        else:
            candidates = [p.id for p in repo.account_packages(account.id)
                          if p.package_id == discount.package_id and (p.ends_on is None or p.ends_on >= starts_on)]
            account_package_id = candidates[0] if len(candidates) == 1 else None
        if account_service_id is None and account_package_id is None:
            what = "service" if discount.service_id is not None else "package"
            raise ValidationError(f"Choose the {what} on this account that {discount.name} applies to.", "target")
    if account_service_id is not None and account_package_id is not None:
        raise ValidationError("A discount applies to one service or one package, not both.", "target")
    if account_service_id is not None:
        line = repo.account_service(account_service_id)
        if line is None or line.account_id != account.id:
            raise ValidationError("That service is not on this account.", "target")
        if discount.service_id is not None and line.service_id != discount.service_id:
            raise ValidationError(f"{discount.name} is a discount on another service.", "target")
        if discount.package_id is not None:
            raise ValidationError(f"{discount.name} is a discount on a package: choose the package.", "target")
        if line.ends_on is not None and line.ends_on < starts_on:
            raise ValidationError("That service has ended by then.", "starts_on")
    else:
        ap = repo.account_package(account_package_id)
        if ap is None or ap.account_id != account.id:
            raise ValidationError("That package is not on this account.", "target")
        if discount.package_id != ap.package_id:
            raise ValidationError(f"{discount.name} is not a discount on this package.", "target")
        if ap.ends_on is not None and ap.ends_on < starts_on:
            raise ValidationError("That package has ended by then.", "starts_on")
    row = AccountDiscount(account_id=account.id, discount_id=discount.id, account_service_id=account_service_id,
                          account_package_id=account_package_id, starts_on=starts_on, cycles_used=0)
    repo.add(row)
    uow.flush()
    return row


def add_discount(uow: UnitOfWork, actor: Actor, account_id: int, discount_id: int, *,
                 account_service_id: int | None = None, account_package_id: int | None = None,
                 starts_on: date) -> LineDiscount:
    """Give the account a catalogue discount on one of its lines or packages (when neither is
    named, the one line or package the discount can apply to)."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        account = _locked_account(uow, account_id)
        row = _add_discount(uow, account, discount_id, account_service_id, account_package_id, starts_on)
        result = _discount_row(uow, account, row)
        audit.record(uow.session, actor, "account", account.id, "add discount", None,
                     {"account_discount": row.id, "discount": result.name, "line": row.account_service_id,
                      "account_package": row.account_package_id, "starts_on": starts_on})
        uow.commit()
        return result


def remove_discount(uow: UnitOfWork, actor: Actor, account_discount_id: int, ends_on: date) -> LineDiscount:
    """The discount's last day is ``ends_on`` (kept, with the cycles it used)."""
    actor.require(Permission.BILLING_EDIT)
    ends_on = _a_date(ends_on, "ends_on", "the discount's last day")
    with uow:
        row = uow.billing_catalogue.account_discount(account_discount_id)
        if row is None:
            raise NotFound("That discount is no longer on the account.")
        account = _locked_account(uow, row.account_id)
        if row.ends_on is not None and row.ends_on <= ends_on:
            raise ValidationError(f"This discount already ends on {row.ends_on.isoformat()}.", "ends_on")
        if ends_on < row.starts_on:
            raise ValidationError(f"The discount starts on {row.starts_on.isoformat()}: it cannot end before.",
                                  "ends_on")
        row.ends_on = ends_on
        uow.flush()
        result = _discount_row(uow, account, row)
        audit.record(uow.session, actor, "account", account.id, "remove discount", None,
                     {"account_discount": row.id, "discount": result.name, "ends_on": ends_on})
        uow.commit()
        return result


def _discount_row(uow: UnitOfWork, account: Account, ad: AccountDiscount) -> LineDiscount:
    d = uow.billing_catalogue.discount(ad.discount_id)
    return LineDiscount(ad.id, d.id, d.name, d.kind, d.amount, currency_of(uow, account.company_id), d.recurrence,
                        d.cycles, ad.cycles_used, ad.starts_on, ad.ends_on, ad.account_service_id,
                        ad.account_package_id)
