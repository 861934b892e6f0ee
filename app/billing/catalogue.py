"""Billing → Catalogue: services, packages, discounts, taxes, usage policies, and each company's
billing settings (with the dates delinquency checks skip).

Reading needs ``billing.view``; changing needs ``billing.edit``. Every change is audited.

Amounts arrive either as typed text (``price_text="12.50"``), parsed in the company's currency
with ``money.parse_minor`` — so "12.345" is refused for USD with "… has more decimals than USD
allows" — or as integer minor units (``price=1250``) from code (the demo, tests). Percentages
are typed ("7.125") and kept as thousandths of a percent.

Packages follow the rule operators learn the hard way: a package that has ever been on an
account keeps its contents (its invoices and the accounts' lines were built from them). To
sell something else, duplicate it as a new package and disable the old one; a disabled package
stays billed where it is and cannot be added anew.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from app.accounts.models import AccountStatus, AccountType
from app.billing import models as m
from app.billing.models import (
    BillingSettings,
    DelinquencyExclusion,
    Discount,
    Package,
    Service,
    Tax,
    UsagePolicy,
)
from app.companies.models import Company
from app.core import audit, money
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

FIXED, PERCENT, FLAT, NONE = "fixed", "percent", "flat", "none"
BILL_DAY_MODES = ("fixed", "anniversary")
LATE_FEE_KINDS = (NONE, FIXED, PERCENT)
RECURRENCES = (m.ONCE, m.RECURRING, m.EXPIRING)
RECURRENCE_LABELS = {m.ONCE: "Once", m.RECURRING: "Every period", m.EXPIRING: "For N periods"}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MB_PER_GB = 1000
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PNG, _JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


# -- rows and inputs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CompanyRow:
    id: int
    name: str
    currency: str


@dataclass(frozen=True)
class ServiceRow:
    id: int
    version: int
    company_id: int
    company: str
    name: str
    kind: str
    price: int
    currency: str
    frequency_months: int
    prorates: bool
    tax_ids: tuple[int, ...]
    taxes: str  # "GST, PST"
    gl_code: str
    enabled: bool
    download_kbps: int | None
    upload_kbps: int | None
    usage_policy_id: int | None
    usage_policy: str
    expires_after_cycles: int | None
    accounts: int = 0  # accounts it is on (lines not ended)

    @property
    def kind_label(self) -> str:
        return m.SERVICE_KIND_LABELS.get(self.kind, self.kind)

    @property
    def price_text(self) -> str:
        return money.format_minor(self.price, self.currency)

    @property
    def is_credit(self) -> bool:
        return self.kind in m.CREDIT_KINDS

    @property
    def frequency_text(self) -> str:
        if self.kind in m.ONE_OFF_KINDS:
            return "Once"
        text = "Monthly" if self.frequency_months == 1 else f"Every {self.frequency_months} months"
        if self.kind == m.CREDIT_EXPIRING and self.expires_after_cycles:
            text += f", {self.expires_after_cycles} times"
        return text

    @property
    def speed_text(self) -> str:
        if self.download_kbps is None and self.upload_kbps is None:
            return ""
        return f"{speed_text(self.download_kbps)} / {speed_text(self.upload_kbps)}"


@dataclass(frozen=True)
class ServiceInput:
    name: str
    kind: str = m.DATA
    price_text: str = ""  # typed: parsed in the company's currency (wins over ``price``)
    price: int | None = None  # minor units
    frequency_months: int = 1
    prorates: bool = True
    tax_ids: Sequence[int] = ()
    gl_code: str = ""
    company_id: int | None = None  # None: the first company
    enabled: bool = True
    download_kbps: int | None = None
    upload_kbps: int | None = None
    usage_policy_id: int | None = None
    expires_after_cycles: int | None = None


@dataclass(frozen=True)
class PackageItemRow:
    service_id: int
    service: str
    kind: str
    quantity: int
    price: int  # the service's price per unit


@dataclass(frozen=True)
class PackageRow:
    id: int
    version: int
    company_id: int
    company: str
    name: str
    roll_up: bool
    enabled: bool
    items: tuple[PackageItemRow, ...]
    currency: str
    accounts: int  # accounts it is on now (or from a later date)
    locked: bool  # on (or once on) an account: its contents cannot change

    @property
    def total(self) -> int:
        """The monthly sum of its services (credits subtract)."""
        return sum(-i.price * i.quantity if i.kind in m.CREDIT_KINDS else i.price * i.quantity for i in self.items)

    @property
    def total_text(self) -> str:
        return money.format_minor(self.total, self.currency)

    @property
    def contents_text(self) -> str:
        return ", ".join(f"{i.service}{f' × {i.quantity}' if i.quantity != 1 else ''}" for i in self.items)

    @property
    def in_use_text(self) -> str:
        if not self.accounts:
            return "Not on any account" if not self.locked else "No longer on any account"
        return f"In use on {self.accounts:,} account{'s' if self.accounts != 1 else ''}"


@dataclass(frozen=True)
class PackageInput:
    name: str
    company_id: int | None = None
    roll_up: bool = True
    enabled: bool = True
    items: Sequence[tuple[int, int]] = ()  # (service id, quantity)


@dataclass(frozen=True)
class DiscountRow:
    id: int
    version: int
    company_id: int
    name: str
    kind: str  # fixed | percent
    amount: int  # minor units or percent_milli
    currency: str
    service_id: int | None
    package_id: int | None
    target: str  # the service's or package's name
    recurrence: str
    cycles: int | None
    enabled: bool

    @property
    def amount_text(self) -> str:
        if self.kind == PERCENT:
            return f"{money.format_percent_milli(self.amount)} %"
        return money.format_minor(self.amount, self.currency)

    @property
    def recurrence_text(self) -> str:
        if self.recurrence == m.EXPIRING:
            return f"For {self.cycles} period{'s' if self.cycles != 1 else ''}"
        return RECURRENCE_LABELS.get(self.recurrence, self.recurrence)


@dataclass(frozen=True)
class DiscountInput:
    name: str
    kind: str = PERCENT
    amount_text: str = ""  # "10" (%) or "5.00" (money)
    amount: int | None = None  # percent_milli or minor units
    service_id: int | None = None
    package_id: int | None = None
    recurrence: str = m.RECURRING
    cycles: int | None = None
    company_id: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class TaxRow:
    id: int
    version: int
    company_id: int
    name: str
    kind: str  # percent | flat
    rate: int
    currency: str
    zone: dict | None
    gl_code: str
    enabled: bool
    position: int

    @property
    def rate_text(self) -> str:
        if self.kind == PERCENT:
            return f"{money.format_percent_milli(self.rate)} %"
        return f"{money.format_minor(self.rate, self.currency)} per invoice"

    @property
    def zone_text(self) -> str:
        return zone_text(self.zone)


@dataclass(frozen=True)
class TaxInput:
    name: str
    kind: str = PERCENT
    rate_text: str = ""
    rate: int | None = None  # percent_milli, or minor units when flat
    country: str = ""
    region: str = ""
    city: str = ""
    postal_prefix: str = ""
    gl_code: str = ""
    company_id: int | None = None
    enabled: bool = True
    position: int | None = None  # None: after the others


@dataclass(frozen=True)
class FreePeriodRow:
    weekday: int | None  # ISO 1-7; None: every day
    start: str  # HH:MM
    end: str

    @property
    def text(self) -> str:
        day = "Every day" if self.weekday is None else WEEKDAY_NAMES[self.weekday - 1]
        return f"{day} {self.start}–{self.end}"


@dataclass(frozen=True)
class UsagePolicyRow:
    id: int
    version: int
    name: str
    allowance_mb: int
    rollover_months: int
    overage_block_mb: int
    overage_price: int
    topup_mb: int
    topup_price: int
    free_periods: tuple[FreePeriodRow, ...]
    currency: str

    @property
    def allowance_text(self) -> str:
        return size_text(self.allowance_mb)

    @property
    def overage_text(self) -> str:
        if not self.overage_price:
            return "None"
        return f"{money.format_minor(self.overage_price, self.currency)} per {size_text(self.overage_block_mb)}"

    @property
    def topup_text(self) -> str:
        if not self.topup_mb:
            return "None"
        return f"{size_text(self.topup_mb)} for {money.format_minor(self.topup_price, self.currency)}"

    @property
    def free_periods_text(self) -> str:
        return "; ".join(p.text for p in self.free_periods)


@dataclass(frozen=True)
class UsagePolicyInput:
    name: str
    allowance_text: str = ""  # GB typed ("500", "1.5 TB", "750 MB")
    allowance_mb: int | None = None
    rollover_months: int = 0
    overage_block_text: str = ""  # GB; empty: per GB
    overage_block_mb: int | None = None
    overage_price_text: str = ""
    overage_price: int | None = None
    topup_text: str = ""  # GB
    topup_mb: int | None = None
    topup_price_text: str = ""
    topup_price: int | None = None
    free_periods: Sequence[FreePeriodRow] = ()
    company_id: int | None = None  # whose currency the prices are typed in (None: the first company)


@dataclass(frozen=True)
class ExclusionRow:
    id: int
    year: int | None
    month: int
    day: int
    name: str

    @property
    def text(self) -> str:
        when = f"{date(2000, self.month, self.day):%b} {self.day}"  # 2000: a leap year, so Feb 29 exists
        return f"{when}, every year" if self.year is None else date(self.year, self.month, self.day).isoformat()


@dataclass(frozen=True)
class SettingsRow:
    id: int
    version: int
    company_id: int
    company: str
    bill_day_mode: str
    bill_day: int
    due_days: int
    grace_days: int
    status_switch_days: int
    switch_status_id: int | None
    delinquent_status_id: int | None
    minimum_delinquent_balance: int
    late_fee_kind: str
    late_fee_amount: int
    late_fee_minimum: int
    late_fee_days: int
    printed_invoice_fee: int
    prorate: bool
    statement_mode: bool
    currency: str
    invoice_message: str
    remit_to: str
    logo_path: str
    check_weekdays: str
    excluded_account_type_ids: tuple[int, ...]
    exclusions: tuple[ExclusionRow, ...]


@dataclass(frozen=True)
class SettingsInput:
    """Every billing setting of one company. Money fields take typed text (parsed in
    ``currency``) or integer minor units; ``late_fee_amount`` is a percentage when the kind is
    percent ("1.5" or 1500 thousandths)."""

    company_id: int
    bill_day_mode: str = "fixed"
    bill_day: int = 1
    due_days: int = 14
    grace_days: int = 7
    status_switch_days: int = 14
    switch_status_id: int | None = None
    delinquent_status_id: int | None = None
    minimum_delinquent_balance: str | int = 100
    late_fee_kind: str = NONE
    late_fee_amount: str | int = 0
    late_fee_minimum: str | int = 0
    late_fee_days: int = 5
    printed_invoice_fee: str | int = 0
    prorate: bool = True
    statement_mode: bool = False
    currency: str = "USD"
    invoice_message: str = ""
    remit_to: str = ""
    logo_path: str = ""
    check_weekdays: str | Sequence[int] = "12345"
    excluded_account_type_ids: Sequence[int] = field(default_factory=tuple)


# -- small shared helpers ------------------------------------------------------------------------

def speed_text(kbps: int | None) -> str:
    if kbps is None:
        return "—"
    if kbps >= 1000 and kbps % 1000 == 0:
        return f"{kbps // 1000:,} Mbps"
    if kbps >= 1000:
        return f"{kbps / 1000:,.1f} Mbps"
    return f"{kbps:,} kbps"


def size_text(mb: int) -> str:
    """1500000 → "1.5 TB", 500000 → "500 GB", 750 → "750 MB" (1 TB = 1000 GB = 1,000,000 MB)."""
    for unit, size in (("TB", 1_000_000), ("GB", 1000)):
        if mb >= size:
            text = f"{Decimal(mb) / size:f}"
            text = text.rstrip("0").rstrip(".") if "." in text else text
            return f"{text} {unit}"
    return f"{mb:,} MB"


def parse_size_mb(text: str, field_name: str, what: str = "a size") -> int:
    """"500" or "500 GB" → 500,000 MB; "1.5 TB" → 1,500,000; "750 MB" → 750. Plain numbers are
    GB. Fractions finer than a MB are refused."""
    raw = (text or "").strip()
    match = re.fullmatch(r"([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*([KMGT]B?)?", raw, re.IGNORECASE)
    if not match:
        raise ValidationError(f"“{raw}” is not {what}: type it in GB, e.g. 500 or 1.5 TB.", field_name)
    unit = (match.group(2) or "GB").upper().rstrip("B") or "G"
    try:
        value = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"“{raw}” is not {what}.", field_name) from None
    mb = value * {"M": 1, "G": 1000, "T": 1_000_000}.get(unit, 0)
    if unit == "K" or mb != mb.to_integral_value():
        raise ValidationError(f"“{raw}” is finer than 1 MB; sizes are kept in whole MB.", field_name)
    return int(mb)


def zone_text(zone: dict | None) -> str:
    if not zone:
        return "Everywhere"
    parts = [zone.get("city"), zone.get("region"), zone.get("country")]
    text = ", ".join(p for p in parts if p)
    if zone.get("postal_prefix"):
        text = f"{text} (postal {zone['postal_prefix']}…)" if text else f"Postal codes {zone['postal_prefix']}…"
    return text


def natural_key(name: str) -> tuple:
    """Sort "Internet 100" < "Internet 500" < "Internet 1000" (numbers by value)."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower()))


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _name(text: str, what: str, limit: int) -> str:
    name = _clean(text)
    if not name:
        raise ValidationError(f"Give the {what} a name.", "name")
    if len(name) > limit:
        raise ValidationError(f"The {what}'s name is longer than {limit} characters.", "name")
    return name


def _amount(text: str, minor: int | None, currency: str, field_name: str, what: str, *, required: bool = True) -> int:
    """Typed text (wins) or minor units → minor units, never negative."""
    if (text or "").strip():
        try:
            return money.parse_minor(text, currency)
        except ValidationError as exc:
            raise ValidationError(exc.message, field_name) from None
    if minor is None:
        if not required:
            return 0
        raise ValidationError(f"Enter {what}.", field_name)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValidationError(f"Enter {what}.", field_name)
    if minor < 0:
        raise ValidationError(f"{what[0].upper()}{what[1:]} cannot be negative.", field_name)
    return minor


def _money_or_text(value: str | int, currency: str, field_name: str, what: str) -> int:
    if isinstance(value, str):
        return _amount(value, 0 if not value.strip() else None, currency, field_name, what)
    return _amount("", value, currency, field_name, what)


def _percent(text: str, milli: int | None, field_name: str, what: str) -> int:
    if (text or "").strip():
        try:
            return money.parse_percent_milli(text)
        except ValidationError as exc:
            raise ValidationError(exc.message, field_name) from None
    if milli is None or isinstance(milli, bool) or not isinstance(milli, int):
        raise ValidationError(f"Enter {what}.", field_name)
    if not 0 <= milli <= 100_000:
        raise ValidationError(f"{what[0].upper()}{what[1:]} must be between 0 and 100 %.", field_name)
    return milli


def _whole(value: object, field_name: str, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"Enter {what} as a whole number.", field_name)
    if value < low or (high is not None and value > high):
        limit = f"{low} or more" if high is None else f"{low}–{high}"
        raise ValidationError(f"{what[0].upper()}{what[1:]} must be {limit}.", field_name)
    return value


def _company(uow: UnitOfWork, company_id: int | None) -> Company:
    company = uow.companies.get(company_id) if company_id is not None else uow.companies.default()
    if company is None:
        raise ValidationError("Choose a company.", "company_id")
    return company


def currency_of(uow: UnitOfWork, company_id: int) -> str:
    """The currency a company bills in: its billing settings', else the company's own."""
    settings = uow.billing_catalogue.settings(company_id)
    if settings is not None and settings.currency:
        return settings.currency.upper()
    company = uow.companies.get(company_id)
    return (company.currency if company else "USD").upper()


def _check_version(row: object, expected: int | None, entity: str, uow: UnitOfWork) -> None:
    if expected is not None and row.version != expected:  # type: ignore[attr-defined]
        raise ConflictError(entity, uow.staff.display_name(row.updated_by_id), row.updated_at)  # type: ignore[attr-defined]


def _audit_save(uow: UnitOfWork, actor: Actor, entity: str, entity_id: int, before: dict | None, after: dict) -> None:
    if before is None:
        audit.record(uow.session, actor, entity, entity_id, "create", None, after)
        return
    old, new = audit.changed_only(before, after)
    if old or new:
        audit.record(uow.session, actor, entity, entity_id, "update", old, new)


def companies(uow: UnitOfWork, actor: Actor) -> list[CompanyRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return [CompanyRow(c.id, c.name, currency_of(uow, c.id)) for c in uow.companies.all()]


# -- services ------------------------------------------------------------------------------------

def list_services(uow: UnitOfWork, actor: Actor, company_id: int | None = None, *,
                  enabled_only: bool = False) -> list[ServiceRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _service_rows(uow, company_id, enabled_only=enabled_only)


def get_service(uow: UnitOfWork, actor: Actor, service_id: int) -> ServiceRow:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        found = [r for r in _service_rows(uow, None) if r.id == service_id]
        if not found:
            raise NotFound("That service no longer exists.")
        return found[0]


def _service_rows(uow: UnitOfWork, company_id: int | None, *, enabled_only: bool = False) -> list[ServiceRow]:
    repo = uow.billing_catalogue
    services = repo.services(company_id)
    taxes = {t.id: t.name for t in repo.taxes()}
    tax_ids = repo.service_tax_ids()
    policies = {p.id: p.name for p in repo.usage_policies()}
    in_use = repo.services_in_use()
    names = {c.id: c.name for c in uow.companies.all()}
    currencies = {cid: currency_of(uow, cid) for cid in names}
    rows = []
    for s in services:
        if enabled_only and not s.enabled:
            continue
        ids = tuple(tax_ids.get(s.id, ()))
        rows.append(ServiceRow(
            id=s.id, version=s.version, company_id=s.company_id, company=names.get(s.company_id, ""), name=s.name,
            kind=s.kind, price=s.price, currency=currencies.get(s.company_id, "USD"),
            frequency_months=s.frequency_months, prorates=s.prorates, tax_ids=ids,
            taxes=", ".join(taxes[t] for t in ids if t in taxes), gl_code=s.gl_code, enabled=s.enabled,
            download_kbps=s.download_kbps, upload_kbps=s.upload_kbps, usage_policy_id=s.usage_policy_id,
            usage_policy=policies.get(s.usage_policy_id, "") if s.usage_policy_id else "",
            expires_after_cycles=s.expires_after_cycles, accounts=in_use.get(s.id, 0),
        ))
    return sorted(rows, key=lambda r: (natural_key(r.name), r.id))


def save_service(uow: UnitOfWork, actor: Actor, data: ServiceInput, service_id: int | None = None,
                 expected_version: int | None = None) -> ServiceRow:
    """Create a service, or change one. A price change applies from the next period billed;
    what was invoiced stays as it was."""
    actor.require(Permission.BILLING_EDIT)
    name = _name(data.name, "service", 120)
    if data.kind not in m.SERVICE_KINDS:
        raise ValidationError("Choose the kind of service.", "kind")
    frequency = 1 if data.kind in m.ONE_OFF_KINDS else data.frequency_months
    if isinstance(frequency, bool) or not isinstance(frequency, int) or not 1 <= frequency <= 60:
        raise ValidationError("A service is billed every 1 to 60 months.", "frequency_months")
    cycles = data.expires_after_cycles
    if data.kind == m.CREDIT_EXPIRING:
        if cycles is None or isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
            raise ValidationError("An expiring credit runs for at least 1 billed period: say how many.",
                                  "expires_after_cycles")
    else:
        cycles = None
    speeds = (data.download_kbps, data.upload_kbps)
    if data.kind != m.DATA:
        if any(s is not None for s in speeds):
            raise ValidationError("Speeds are for data services only.", "download_kbps")
        if data.usage_policy_id is not None:
            raise ValidationError("A usage policy is for data services only.", "usage_policy_id")
    for key, value in zip(("download_kbps", "upload_kbps"), speeds, strict=True):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValidationError("A speed is a whole number of kbps above 0.", key)
    gl_code = (data.gl_code or "").strip()
    if len(gl_code) > 40:
        raise ValidationError("A general-ledger code has at most 40 characters.", "gl_code")
    with uow:
        repo = uow.billing_catalogue
        company = _company(uow, data.company_id)
        currency = currency_of(uow, company.id)
        price = _amount(data.price_text, data.price, currency, "price", "a price")
        tax_ids = sorted(set(data.tax_ids or ()))
        for tax_id in tax_ids:
            tax = repo.tax(tax_id)
            if tax is None or tax.company_id != company.id:
                raise ValidationError("One of the chosen taxes no longer exists for this company.", "tax_ids")
        if data.usage_policy_id is not None and repo.usage_policy(data.usage_policy_id) is None:
            raise ValidationError("That usage policy no longer exists.", "usage_policy_id")
        clash = repo.service_named(company.id, name)
        if clash is not None and clash.id != service_id:
            raise ValidationError(f"{company.name} already has a service called “{clash.name}”.", "name")
        if service_id is None:
            service = Service(company_id=company.id)
            before = None
        else:
            service = repo.service(service_id)
            if service is None:
                raise NotFound("That service no longer exists.")
            _check_version(service, expected_version, "service", uow)
            before = _service_audit(service, repo.service_tax_ids([service.id]).get(service.id, []))
            if service.company_id != company.id and repo.services_in_use().get(service.id):
                raise ValidationError("This service is on accounts: it cannot move to another company.", "company_id")
        service.company_id, service.name, service.kind, service.price = company.id, name, data.kind, price
        service.frequency_months, service.prorates, service.expires_after_cycles = frequency, bool(data.prorates), cycles
        service.gl_code, service.enabled = gl_code, bool(data.enabled)
        service.download_kbps, service.upload_kbps = data.download_kbps, data.upload_kbps
        service.usage_policy_id = data.usage_policy_id
        service.updated_by_id = actor.user_id
        if service_id is None:
            repo.add(service)
        repo.flush()
        repo.set_service_taxes(service.id, tax_ids)
        _audit_save(uow, actor, "billing_service", service.id, before, _service_audit(service, tax_ids))
        uow.commit()
        service_id = service.id
    return get_service(uow, actor, service_id)


def _service_audit(s: Service, tax_ids: Sequence[int]) -> dict:
    return {"name": s.name, "kind": s.kind, "price": s.price, "frequency_months": s.frequency_months,
            "prorates": s.prorates, "expires_after_cycles": s.expires_after_cycles, "gl_code": s.gl_code,
            "enabled": s.enabled, "download_kbps": s.download_kbps, "upload_kbps": s.upload_kbps,
            "usage_policy_id": s.usage_policy_id, "tax_ids": list(tax_ids), "company_id": s.company_id}


# -- packages ------------------------------------------------------------------------------------

def list_packages(uow: UnitOfWork, actor: Actor, company_id: int | None = None, *, today: date | None = None,
                  enabled_only: bool = False) -> list[PackageRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return [r for r in _package_rows(uow, company_id, today or date.today()) if r.enabled or not enabled_only]


def get_package(uow: UnitOfWork, actor: Actor, package_id: int, today: date | None = None) -> PackageRow:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        found = [r for r in _package_rows(uow, None, today or date.today()) if r.id == package_id]
        if not found:
            raise NotFound("That package no longer exists.")
        return found[0]


def _package_rows(uow: UnitOfWork, company_id: int | None, today: date) -> list[PackageRow]:
    repo = uow.billing_catalogue
    packages = repo.packages(company_id)
    services = {s.id: s for s in repo.services()}
    items: dict[int, list[PackageItemRow]] = {}
    for item in repo.package_items([p.id for p in packages]):
        s = services.get(item.service_id)
        if s is not None:
            items.setdefault(item.package_id, []).append(
                PackageItemRow(s.id, s.name, s.kind, item.quantity, s.price))
    sold = repo.packages_ever_sold()
    accounts = repo.package_accounts(today)
    names = {c.id: c.name for c in uow.companies.all()}
    currencies = {cid: currency_of(uow, cid) for cid in names}
    return [
        PackageRow(p.id, p.version, p.company_id, names.get(p.company_id, ""), p.name, p.roll_up, p.enabled,
                   tuple(sorted(items.get(p.id, []), key=lambda i: i.service.lower())),
                   currencies.get(p.company_id, "USD"), accounts.get(p.id, 0), p.id in sold)
        for p in packages
    ]


def _clean_items(uow: UnitOfWork, company_id: int, items: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    repo = uow.billing_catalogue
    cleaned: dict[int, int] = {}
    for service_id, quantity in items:
        service = repo.service(service_id)
        if service is None:
            raise ValidationError("One of the package's services no longer exists.", "items")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError(
                f"{service.name}: a quantity of {quantity} is not possible — a negative quantity or zero "
                "cannot be sold; enter 1 or more.", "items")
        if service.company_id != company_id:
            raise ValidationError(f"{service.name} belongs to another company.", "items")
        if service_id in cleaned:
            raise ValidationError(f"{service.name} is in the package twice: give it one line with the quantity.",
                                  "items")
        cleaned[service_id] = quantity
    if not cleaned:
        raise ValidationError("A package holds at least one service.", "items")
    return sorted(cleaned.items())


def save_package(uow: UnitOfWork, actor: Actor, data: PackageInput, package_id: int | None = None,
                 expected_version: int | None = None) -> PackageRow:
    """Create a package, or change one. Once a package is on an account its services and
    quantities are locked (name, roll-up and enabled may still change): duplicate it instead."""
    actor.require(Permission.BILLING_EDIT)
    name = _name(data.name, "package", 120)
    with uow:
        repo = uow.billing_catalogue
        company = _company(uow, data.company_id)
        items = _clean_items(uow, company.id, data.items)
        clash = repo.package_named(company.id, name)
        if clash is not None and clash.id != package_id:
            raise ValidationError(f"{company.name} already has a package called “{clash.name}”.", "name")
        if package_id is None:
            package = Package(company_id=company.id)
            before = None
        else:
            package = repo.package(package_id)
            if package is None:
                raise NotFound("That package no longer exists.")
            _check_version(package, expected_version, "package", uow)
            old_items = sorted((i.service_id, i.quantity) for i in repo.package_items([package.id]))
            before = _package_audit(package, old_items)
            if package.id in repo.packages_ever_sold():
                if old_items != items:
                    raise ValidationError(
                        f"“{package.name}” is already on accounts, so its services cannot change (their lines and "
                        "invoices were built from them). Duplicate it as a new package with the new contents, "
                        "and disable this one.", "items")
                if company.id != package.company_id:
                    raise ValidationError("This package is on accounts: it cannot move to another company.",
                                          "company_id")
        package.company_id, package.name = company.id, name
        package.roll_up, package.enabled = bool(data.roll_up), bool(data.enabled)
        package.updated_by_id = actor.user_id
        if package_id is None:
            repo.add(package)
        repo.flush()
        if before is None or before["items"] != [list(i) for i in items]:
            repo.set_package_items(package.id, items)
        repo.flush()
        _audit_save(uow, actor, "billing_package", package.id, before, _package_audit(package, items))
        uow.commit()
        package_id = package.id
    return get_package(uow, actor, package_id)


def duplicate_package(uow: UnitOfWork, actor: Actor, package_id: int, new_name: str) -> PackageRow:
    """A new, enabled, unlocked copy of the package (same company, roll-up and contents)."""
    actor.require(Permission.BILLING_EDIT)
    name = _name(new_name, "package", 120)
    with uow:
        repo = uow.billing_catalogue
        original = repo.package(package_id)
        if original is None:
            raise NotFound("That package no longer exists.")
        if repo.package_named(original.company_id, name) is not None:
            raise ValidationError(f"There is already a package called “{name}”: choose another name.", "name")
        items = [(i.service_id, i.quantity) for i in repo.package_items([original.id])]
        copy = Package(company_id=original.company_id, name=name, roll_up=original.roll_up, enabled=True,
                       updated_by_id=actor.user_id)
        repo.add(copy)
        repo.flush()
        repo.set_package_items(copy.id, items)
        repo.flush()
        audit.record(uow.session, actor, "billing_package", copy.id, "duplicate", None,
                     {**_package_audit(copy, items), "from_package": original.id})
        uow.commit()
        copy_id = copy.id
    return get_package(uow, actor, copy_id)


def set_package_enabled(uow: UnitOfWork, actor: Actor, package_id: int, enabled: bool) -> PackageRow:
    """Disable (or enable again) a package: a disabled one stays billed where it is and cannot
    be added to an account anew."""
    actor.require(Permission.BILLING_EDIT)
    with uow:
        package = uow.billing_catalogue.package(package_id)
        if package is None:
            raise NotFound("That package no longer exists.")
        if package.enabled != bool(enabled):
            package.enabled = bool(enabled)
            package.updated_by_id = actor.user_id
            audit.record(uow.session, actor, "billing_package", package.id, "enable" if enabled else "disable",
                         {"enabled": not enabled}, {"enabled": bool(enabled)})
            uow.commit()
    return get_package(uow, actor, package_id)


def _package_audit(p: Package, items: Sequence[tuple[int, int]]) -> dict:
    return {"name": p.name, "company_id": p.company_id, "roll_up": p.roll_up, "enabled": p.enabled,
            "items": [list(i) for i in items]}


# -- discounts -----------------------------------------------------------------------------------

def list_discounts(uow: UnitOfWork, actor: Actor, company_id: int | None = None) -> list[DiscountRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _discount_rows(uow, company_id)


def _discount_rows(uow: UnitOfWork, company_id: int | None) -> list[DiscountRow]:
    repo = uow.billing_catalogue
    services = {s.id: s.name for s in repo.services()}
    packages = {p.id: p.name for p in repo.packages()}
    currencies: dict[int, str] = {}
    rows = []
    for d in repo.discounts(company_id):
        if d.company_id not in currencies:
            currencies[d.company_id] = currency_of(uow, d.company_id)
        target = services.get(d.service_id, "") if d.service_id else packages.get(d.package_id, "")
        rows.append(DiscountRow(d.id, d.version, d.company_id, d.name, d.kind, d.amount, currencies[d.company_id],
                                d.service_id, d.package_id, target, d.recurrence, d.cycles, d.enabled))
    return rows


def save_discount(uow: UnitOfWork, actor: Actor, data: DiscountInput, discount_id: int | None = None,
                  expected_version: int | None = None) -> DiscountRow:
    actor.require(Permission.BILLING_EDIT)
    name = _name(data.name, "discount", 120)
    if data.kind not in (FIXED, PERCENT):
        raise ValidationError("Choose a fixed amount or a percentage.", "kind")
    if data.recurrence not in RECURRENCES:
        raise ValidationError("Choose whether the discount applies once, every period or for N periods.",
                              "recurrence")
    cycles = None
    if data.recurrence == m.EXPIRING:
        cycles = _whole(data.cycles, "cycles", "the number of periods", 1, 600)
    if (data.service_id is None) == (data.package_id is None):
        raise ValidationError("Choose the service or the package the discount applies to.", "target")
    with uow:
        repo = uow.billing_catalogue
        company = _company(uow, data.company_id)
        currency = currency_of(uow, company.id)
        if data.kind == PERCENT:
            amount = _percent(data.amount_text, data.amount, "amount", "the percentage")
        else:
            amount = _amount(data.amount_text, data.amount, currency, "amount", "an amount")
        if amount == 0:
            raise ValidationError("A discount of nothing does nothing: enter an amount above 0.", "amount")
        target = repo.service(data.service_id) if data.service_id is not None else repo.package(data.package_id)
        if target is None or target.company_id != company.id:
            raise ValidationError("That service or package no longer exists for this company.", "target")
        clash = repo.discount_named(company.id, name)
        if clash is not None and clash.id != discount_id:
            raise ValidationError(f"There is already a discount called “{clash.name}”.", "name")
        if discount_id is None:
            discount, before = Discount(company_id=company.id), None
        else:
            discount = repo.discount(discount_id)
            if discount is None:
                raise NotFound("That discount no longer exists.")
            _check_version(discount, expected_version, "discount", uow)
            before = _discount_audit(discount)
        discount.company_id, discount.name, discount.kind, discount.amount = company.id, name, data.kind, amount
        discount.service_id, discount.package_id = data.service_id, data.package_id
        discount.recurrence, discount.cycles, discount.enabled = data.recurrence, cycles, bool(data.enabled)
        discount.updated_by_id = actor.user_id
        if discount_id is None:
            repo.add(discount)
        repo.flush()
        _audit_save(uow, actor, "billing_discount", discount.id, before, _discount_audit(discount))
        uow.commit()
        return next(r for r in _discount_rows(uow, company.id) if r.id == discount.id)


def _discount_audit(d: Discount) -> dict:
    return {"name": d.name, "kind": d.kind, "amount": d.amount, "service_id": d.service_id,
            "package_id": d.package_id, "recurrence": d.recurrence, "cycles": d.cycles, "enabled": d.enabled}


# -- taxes ---------------------------------------------------------------------------------------

def list_taxes(uow: UnitOfWork, actor: Actor, company_id: int | None = None) -> list[TaxRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _tax_rows(uow, company_id)


def _tax_rows(uow: UnitOfWork, company_id: int | None) -> list[TaxRow]:
    currencies: dict[int, str] = {}
    rows = []
    for t in uow.billing_catalogue.taxes(company_id):
        if t.company_id not in currencies:
            currencies[t.company_id] = currency_of(uow, t.company_id)
        rows.append(TaxRow(t.id, t.version, t.company_id, t.name, t.kind, t.rate, currencies[t.company_id],
                           dict(t.zone) if t.zone else None, t.gl_code, t.enabled, t.position))
    return rows


def _tax_rate(data: TaxInput, currency: str) -> int:
    if data.kind == FLAT:
        return _amount(data.rate_text, data.rate, currency, "rate", "the amount per invoice")
    text = (data.rate_text or "").strip()
    if text:
        try:
            value = Decimal(text.replace("%", "").replace(",", "").strip())
        except InvalidOperation:
            value = None
        if value is not None and value.is_finite() and value > 100:
            raise ValidationError(f"A tax rate over 100 % ({text.replace('%', '').strip()} %) cannot be right: "
                                  "enter the rate as a percentage, e.g. 13 or 7.125.", "rate")
    elif data.rate is not None and not isinstance(data.rate, bool) and isinstance(data.rate, int) \
            and data.rate > 100_000:
        raise ValidationError("A tax rate over 100 % cannot be right.", "rate")
    return _percent(data.rate_text, data.rate, "rate", "the tax rate")


def save_tax(uow: UnitOfWork, actor: Actor, data: TaxInput, tax_id: int | None = None,
             expected_version: int | None = None) -> TaxRow:
    """A percentage (≤ 100 %) or a flat amount per invoice; global, or in a zone that names any
    of country, region, city and the start of the postal code (every named field must match)."""
    actor.require(Permission.BILLING_EDIT)
    name = _name(data.name, "tax", 80)
    if data.kind not in (PERCENT, FLAT):
        raise ValidationError("Choose a percentage or a flat amount.", "kind")
    country = (data.country or "").strip().upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise ValidationError("Country is a two-letter code such as US or CA.", "country")
    zone = {k: v for k, v in (("country", country), ("region", _clean(data.region)), ("city", _clean(data.city)),
                              ("postal_prefix", (data.postal_prefix or "").replace(" ", "").upper())) if v}
    gl_code = (data.gl_code or "").strip()
    if len(gl_code) > 40:
        raise ValidationError("A general-ledger code has at most 40 characters.", "gl_code")
    with uow:
        repo = uow.billing_catalogue
        company = _company(uow, data.company_id)
        rate = _tax_rate(data, currency_of(uow, company.id))
        clash = repo.tax_named(company.id, name)
        if clash is not None and clash.id != tax_id:
            raise ValidationError(f"There is already a tax called “{clash.name}”.", "name")
        if tax_id is None:
            existing = repo.taxes(company.id)
            tax, before = Tax(company_id=company.id, position=max((t.position for t in existing), default=-1) + 1), None
        else:
            tax = repo.tax(tax_id)
            if tax is None:
                raise NotFound("That tax no longer exists.")
            _check_version(tax, expected_version, "tax", uow)
            before = _tax_audit(tax)
        if data.position is not None:
            tax.position = _whole(data.position, "position", "the order", 0)
        tax.company_id, tax.name, tax.kind, tax.rate = company.id, name, data.kind, rate
        tax.zone, tax.gl_code, tax.enabled = zone or None, gl_code, bool(data.enabled)
        tax.updated_by_id = actor.user_id
        if tax_id is None:
            repo.add(tax)
        repo.flush()
        _audit_save(uow, actor, "billing_tax", tax.id, before, _tax_audit(tax))
        uow.commit()
        return next(r for r in _tax_rows(uow, company.id) if r.id == tax.id)


def _tax_audit(t: Tax) -> dict:
    return {"name": t.name, "kind": t.kind, "rate": t.rate, "zone": t.zone, "gl_code": t.gl_code,
            "enabled": t.enabled, "position": t.position}


# -- usage policies ------------------------------------------------------------------------------

def list_usage_policies(uow: UnitOfWork, actor: Actor) -> list[UsagePolicyRow]:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return _policy_rows(uow)


def _policy_rows(uow: UnitOfWork) -> list[UsagePolicyRow]:
    currency = currency_of(uow, uow.companies.default().id)
    return [
        UsagePolicyRow(p.id, p.version, p.name, p.allowance_mb, p.rollover_months, p.overage_block_mb,
                       p.overage_price, p.topup_mb, p.topup_price,
                       tuple(FreePeriodRow(f.get("weekday"), f.get("start", ""), f.get("end", ""))
                             for f in (p.free_periods or [])), currency)
        for p in uow.billing_catalogue.usage_policies()
    ]


def _size(text: str, mb: int | None, field_name: str, what: str, *, default: int | None = None) -> int:
    if (text or "").strip():
        return parse_size_mb(text, field_name, what)
    if mb is None:
        if default is not None:
            return default
        raise ValidationError(f"Enter {what} in GB.", field_name)
    return _whole(mb, field_name, what, 0)


def _free_periods(periods: Sequence[FreePeriodRow]) -> list[dict]:
    cleaned = []
    for p in periods:
        if p.weekday is not None and (isinstance(p.weekday, bool) or not isinstance(p.weekday, int)
                                      or not 1 <= p.weekday <= 7):
            raise ValidationError("A free period's day is Monday to Sunday, or every day.", "free_periods")
        start, end = (p.start or "").strip(), (p.end or "").strip()
        for value in (start, end):
            if not _HHMM.match(value):
                raise ValidationError(f"“{value}” is not a time: use HH:MM, 00:00 to 23:59.", "free_periods")
        if start == end:
            raise ValidationError(f"A free period from {start} to {end} has no length: the end must differ "
                                  "(an end before the start runs past midnight).", "free_periods")
        cleaned.append({"weekday": p.weekday, "start": start, "end": end})
    return cleaned


def save_usage_policy(uow: UnitOfWork, actor: Actor, data: UsagePolicyInput, policy_id: int | None = None,
                      expected_version: int | None = None) -> UsagePolicyRow:
    """Allowance typed in GB (1 TB = 1000 GB), kept in MB; overage per GB or per block; top-ups;
    free periods (a weekday or every day, HH:MM to HH:MM)."""
    actor.require(Permission.BILLING_EDIT)
    name = _name(data.name, "usage policy", 80)
    allowance = _size(data.allowance_text, data.allowance_mb, "allowance", "an allowance")
    rollover = _whole(data.rollover_months, "rollover_months", "the rollover months", 0, 60)
    block = _size(data.overage_block_text, data.overage_block_mb, "overage_block", "a block size", default=MB_PER_GB)
    if block <= 0:
        raise ValidationError("Overage is charged per block of at least 1 MB (1 GB usually).", "overage_block")
    topup = _size(data.topup_text, data.topup_mb, "topup", "a top-up size", default=0)
    free = _free_periods(data.free_periods)
    with uow:
        repo = uow.billing_catalogue
        currency = currency_of(uow, _company(uow, data.company_id).id)
        overage_price = _amount(data.overage_price_text, data.overage_price, currency, "overage_price",
                                "an overage price", required=False)
        topup_price = _amount(data.topup_price_text, data.topup_price, currency, "topup_price",
                              "a top-up price", required=False)
        if topup and not topup_price:
            raise ValidationError("A top-up needs a price.", "topup_price")
        clash = repo.usage_policy_named(name)
        if clash is not None and clash.id != policy_id:
            raise ValidationError(f"There is already a usage policy called “{clash.name}”.", "name")
        if policy_id is None:
            policy, before = UsagePolicy(), None
        else:
            policy = repo.usage_policy(policy_id)
            if policy is None:
                raise NotFound("That usage policy no longer exists.")
            _check_version(policy, expected_version, "usage policy", uow)
            before = _policy_audit(policy)
        policy.name, policy.allowance_mb, policy.rollover_months = name, allowance, rollover
        policy.overage_block_mb, policy.overage_price = block, overage_price
        policy.topup_mb, policy.topup_price, policy.free_periods = topup, topup_price, free
        policy.updated_by_id = actor.user_id
        if policy_id is None:
            repo.add(policy)
        repo.flush()
        _audit_save(uow, actor, "billing_usage_policy", policy.id, before, _policy_audit(policy))
        uow.commit()
        return next(r for r in _policy_rows(uow) if r.id == policy.id)


def _policy_audit(p: UsagePolicy) -> dict:
    return {"name": p.name, "allowance_mb": p.allowance_mb, "rollover_months": p.rollover_months,
            "overage_block_mb": p.overage_block_mb, "overage_price": p.overage_price, "topup_mb": p.topup_mb,
            "topup_price": p.topup_price, "free_periods": list(p.free_periods or [])}


# -- billing settings ----------------------------------------------------------------------------

def get_settings(uow: UnitOfWork, actor: Actor, company_id: int | None = None) -> SettingsRow:
    """The company's billing settings; the defaults are written the first time they are asked
    for (in the company's currency)."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        company = _company(uow, company_id)
        settings = uow.billing_catalogue.settings(company.id)
        if settings is None:
            settings = ensure_settings(uow, company)
            if not uow.db.read_only_reason:
                uow.commit()
        return _settings_row(uow, settings, company)


def ensure_settings(uow: UnitOfWork, company: Company) -> BillingSettings:
    """The settings row of ``company``, created with defaults when missing (not committed)."""
    settings = uow.billing_catalogue.settings(company.id)
    if settings is None:
        statuses = {s.name.lower(): s.id for s in uow.accounts.statuses()}
        settings = BillingSettings(
            company_id=company.id, currency=(company.currency or "USD").upper(),
            delinquent_status_id=statuses.get("delinquent"), switch_status_id=statuses.get("suspended"),
            bill_day_mode="fixed", bill_day=1, due_days=14, grace_days=7, status_switch_days=14,
            minimum_delinquent_balance=100, late_fee_kind=NONE, late_fee_amount=0, late_fee_minimum=0,
            late_fee_days=5, printed_invoice_fee=0, prorate=True, statement_mode=False, invoice_message="",
            remit_to="", logo_path="", check_weekdays="12345", excluded_account_type_ids=[],
        )
        uow.billing_catalogue.add(settings)
        uow.flush()
    return settings


def _settings_row(uow: UnitOfWork, s: BillingSettings, company: Company) -> SettingsRow:
    exclusions = tuple(ExclusionRow(e.id, e.year, e.month, e.day, e.name)
                       for e in uow.billing_catalogue.exclusions(company.id))
    return SettingsRow(
        id=s.id, version=s.version, company_id=company.id, company=company.name, bill_day_mode=s.bill_day_mode,
        bill_day=s.bill_day, due_days=s.due_days, grace_days=s.grace_days, status_switch_days=s.status_switch_days,
        switch_status_id=s.switch_status_id, delinquent_status_id=s.delinquent_status_id,
        minimum_delinquent_balance=s.minimum_delinquent_balance, late_fee_kind=s.late_fee_kind,
        late_fee_amount=s.late_fee_amount, late_fee_minimum=s.late_fee_minimum, late_fee_days=s.late_fee_days,
        printed_invoice_fee=s.printed_invoice_fee, prorate=s.prorate, statement_mode=s.statement_mode,
        currency=s.currency, invoice_message=s.invoice_message, remit_to=s.remit_to, logo_path=s.logo_path,
        check_weekdays=s.check_weekdays, excluded_account_type_ids=tuple(s.excluded_account_type_ids or ()),
        exclusions=exclusions,
    )


def _weekdays(value: str | Sequence[int]) -> str:
    digits = [int(c) for c in value if str(c).strip()] if isinstance(value, str) else list(value)
    if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in digits):
        raise ValidationError("Weekdays are 1 (Monday) to 7 (Sunday).", "check_weekdays")
    if not digits:
        raise ValidationError("Choose at least one weekday on which delinquency is checked.", "check_weekdays")
    return "".join(str(d) for d in sorted(set(digits)))


def check_logo(path_text: str) -> str:
    """An empty path, or an existing PNG or JPEG file (checked by its first bytes)."""
    path_text = (path_text or "").strip()
    if not path_text:
        return ""
    if len(path_text) > 500:
        raise ValidationError("The logo's path is longer than 500 characters.", "logo_path")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ValidationError(f"There is no file at {path_text}.", "logo_path")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ValidationError(f"The logo cannot be read: {exc.strerror or exc}.", "logo_path") from None
    if not (head.startswith((_PNG, _JPEG))):
        raise ValidationError("The logo must be a PNG or JPEG image.", "logo_path")
    return str(path)


def save_settings(uow: UnitOfWork, actor: Actor, data: SettingsInput,
                  expected_version: int | None = None) -> SettingsRow:
    actor.require(Permission.BILLING_EDIT)
    if data.bill_day_mode not in BILL_DAY_MODES:
        raise ValidationError("Choose a fixed bill day or the anniversary of each account's start.", "bill_day_mode")
    if isinstance(data.bill_day, bool) or not isinstance(data.bill_day, int) or not 1 <= data.bill_day <= 28:
        raise ValidationError("Bill day must be 1–28 so every month has it.", "bill_day")
    due_days = _whole(data.due_days, "due_days", "the due days", 0, 365)
    grace_days = _whole(data.grace_days, "grace_days", "the grace days", 0, 365)
    switch_days = _whole(data.status_switch_days, "status_switch_days", "the status-switch days", 0, 365)
    late_fee_days = _whole(data.late_fee_days, "late_fee_days", "the days after the due date", 0, 365)
    if data.late_fee_kind not in LATE_FEE_KINDS:
        raise ValidationError("Choose no late fee, a fixed one or a percentage.", "late_fee_kind")
    currency = (data.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationError("Currency is a three-letter code such as USD or CAD.", "currency")
    logo = check_logo(data.logo_path)
    weekdays = _weekdays(data.check_weekdays)
    invoice_message = (data.invoice_message or "").strip()
    remit_to = (data.remit_to or "").strip()
    if len(invoice_message) > 2000:
        raise ValidationError("The invoice message has at most 2,000 characters.", "invoice_message")
    minimum_balance = _money_or_text(data.minimum_delinquent_balance, currency, "minimum_delinquent_balance",
                                     "the minimum balance")
    if data.late_fee_kind == PERCENT:
        amount = data.late_fee_amount
        late_fee = _percent(amount, None, "late_fee_amount", "the late fee percentage") if isinstance(amount, str) \
            else _percent("", amount, "late_fee_amount", "the late fee percentage")
    elif data.late_fee_kind == FIXED:
        late_fee = _money_or_text(data.late_fee_amount, currency, "late_fee_amount", "the late fee")
    else:
        late_fee = 0
    if data.late_fee_kind != NONE and late_fee == 0:
        raise ValidationError("Enter the late fee (or choose no late fee).", "late_fee_amount")
    late_fee_minimum = _money_or_text(data.late_fee_minimum, currency, "late_fee_minimum", "the minimum late fee") \
        if data.late_fee_kind == PERCENT else 0
    printed_fee = _money_or_text(data.printed_invoice_fee, currency, "printed_invoice_fee", "the printed-invoice fee")
    with uow:
        repo = uow.billing_catalogue
        company = _company(uow, data.company_id)
        for key in ("switch_status_id", "delinquent_status_id"):
            status_id = getattr(data, key)
            if status_id is not None and uow.session.get(AccountStatus, status_id) is None:
                raise ValidationError("That status no longer exists.", key)
        type_ids = sorted(set(data.excluded_account_type_ids or ()))
        for type_id in type_ids:
            if uow.session.get(AccountType, type_id) is None:
                raise ValidationError("One of the excluded account types no longer exists.", "excluded_account_type_ids")
        settings = repo.settings(company.id)
        if settings is None:
            settings = ensure_settings(uow, company)
        else:
            _check_version(settings, expected_version, "billing settings", uow)
        if currency != settings.currency.upper() and money.minor_digits(currency) != money.minor_digits(
                settings.currency) and repo.company_has_services(company.id):
            raise ValidationError(
                f"The catalogue's prices are kept in {settings.currency}'s minor units; {currency} has a different "
                "number of decimals, so the prices would change value. Re-enter them in a new company instead.",
                "currency")
        before = _settings_audit(settings)
        values = {
            "bill_day_mode": data.bill_day_mode, "bill_day": data.bill_day, "due_days": due_days, "grace_days": grace_days,
            "status_switch_days": switch_days, "switch_status_id": data.switch_status_id,
            "delinquent_status_id": data.delinquent_status_id, "minimum_delinquent_balance": minimum_balance,
            "late_fee_kind": data.late_fee_kind, "late_fee_amount": late_fee, "late_fee_minimum": late_fee_minimum,
            "late_fee_days": late_fee_days, "printed_invoice_fee": printed_fee, "prorate": bool(data.prorate),
            "statement_mode": bool(data.statement_mode), "currency": currency, "invoice_message": invoice_message,
            "remit_to": remit_to, "logo_path": logo, "check_weekdays": weekdays, "excluded_account_type_ids": type_ids,
        }
        for key, value in values.items():
            setattr(settings, key, value)
        settings.updated_by_id = actor.user_id
        repo.flush()
        _audit_save(uow, actor, "billing_settings", company.id, before, _settings_audit(settings))
        uow.commit()
        return _settings_row(uow, settings, company)


def _settings_audit(s: BillingSettings) -> dict:
    keys = ("bill_day_mode", "bill_day", "due_days", "grace_days", "status_switch_days", "switch_status_id",
            "delinquent_status_id", "minimum_delinquent_balance", "late_fee_kind", "late_fee_amount",
            "late_fee_minimum", "late_fee_days", "printed_invoice_fee", "prorate", "statement_mode", "currency",
            "invoice_message", "remit_to", "logo_path", "check_weekdays", "excluded_account_type_ids")
    return {k: getattr(s, k) for k in keys}


def parse_exclusion_date(text: str) -> tuple[int | None, int, int]:
    """"2026-12-24" → (2026, 12, 24); "12-25" or "Dec 25" → (None, 12, 25): every year."""
    raw = (text or "").strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    if match:
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", raw)
    if match:
        return None, int(match.group(1)), int(match.group(2))
    for fmt in ("%b %d", "%B %d", "%d %b", "%d %B"):
        try:
            parsed = datetime.strptime(f"2000 {raw}", f"%Y {fmt}")
        except ValueError:
            continue
        return None, parsed.month, parsed.day
    raise ValidationError(f"“{raw}” is not a date: use YYYY-MM-DD for one date, or MM-DD for every year.", "date")


def add_exclusion(uow: UnitOfWork, actor: Actor, company_id: int, month: int, day: int, year: int | None = None,
                  name: str = "") -> ExclusionRow:
    """A date delinquency checks skip; without a year it repeats every year (Christmas)."""
    actor.require(Permission.BILLING_EDIT)
    try:
        date(2000 if year is None else year, month, day)  # 2000 is a leap year: Feb 29 stays possible
    except (TypeError, ValueError):
        raise ValidationError("That day does not exist.", "date") from None
    name = _clean(name)[:80]
    with uow:
        company = _company(uow, company_id)
        repo = uow.billing_catalogue
        if repo.exclusion_on(company.id, year, month, day) is not None:
            raise ValidationError("That date is already excluded.", "date")
        row = DelinquencyExclusion(company_id=company.id, year=year, month=month, day=day, name=name)
        repo.add(row)
        repo.flush()
        audit.record(uow.session, actor, "billing_settings", company.id, "add exclusion", None,
                     {"year": year, "month": month, "day": day, "name": name})
        uow.commit()
        return ExclusionRow(row.id, row.year, row.month, row.day, row.name)


def remove_exclusion(uow: UnitOfWork, actor: Actor, exclusion_id: int) -> None:
    actor.require(Permission.BILLING_EDIT)
    with uow:
        row = uow.billing_catalogue.exclusion(exclusion_id)
        if row is None:
            return
        audit.record(uow.session, actor, "billing_settings", row.company_id, "remove exclusion",
                     {"year": row.year, "month": row.month, "day": row.day, "name": row.name}, None)
        uow.session.delete(row)
        uow.commit()
