"""The rating engine: what one account's next invoice holds, line by line. Pure: no database,
no clock. The bill run, the billing calculator and the tests all feed it plain values and get
a ``Draft`` back; the invoicing service persists a draft and applies its ``updates``.

The timeline (see ../shared/DOMAIN.md, "The billing timeline"):

- **Forward billing.** An invoice issued on the bill date ``period_start`` bills the coming
  period ``[period_start, period_end]`` (``period_end`` = one month later, minus a day).
- **Multi-month services** (``frequency_months`` = N) bill their whole span of N months when
  it begins, and nothing in the runs inside it.
- **Proration by days.** A service that started after the last invoice is billed, on this
  invoice, for the stub from its start to ``period_start - 1`` as a fraction of the month the
  stub falls in (days used / days in that month), then for the coming period in full. A
  service that ends inside the coming period is billed only up to its last day. A service that
  ended inside a span already billed is credited for the unused days. **Decision:** stubs are
  billed with the next invoice (one bill run, no extra invoice); a service that does not
  prorate bills whole periods only: its stub is free and its unused days are not credited.
  A quantity change is an end (the old line) plus a start (the new line) on the same day.
- **One-time charges and credits** are billed once, on the first invoice on or after their
  start date.
- **Expiring credits** count down: billed each period until ``expires_after_cycles`` periods
  have been billed; the line says "(3 of 6)".
- **Discounts** (fixed or percent of their target's charges on this invoice) apply once,
  every period, or for N periods; the count is kept in ``cycles_used``. A fixed discount never
  exceeds its target.
- **Price overrides** replace the unit price of one line (the reason is the service layer's).
- **Taxes**: each line carries its service's taxes (a discount line its target's); a
  percentage tax is computed per line, half-even, and summed per tax; a flat tax is added once
  per invoice when any line carries it. A tax with a zone applies only when every field the
  zone names matches the account's address (``postal_prefix`` matches the start of the postal
  code). Tax-exempt accounts get no tax lines.
- **Packages** that roll up show one line (the package), the amounts of their services summed;
  taxes are still computed from the services' own lines.
- **Children** that roll up into their parent bill on the parent's invoice: their lines are
  marked with their account and described with their number.
- **Usage** (data services with a policy): at each bill date the period just ended is rated —
  usage inside free periods never counts; the allowance plus unexpired rollover plus top-ups
  is used first; overage is charged per started block. Unused allowance rolls over for
  ``rollover_months``. The usage line shows free and billable MB apart.

All amounts are integer minor units; percentages are ``percent_milli`` (13 % = 13000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# -- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxSpec:
    id: int
    name: str
    kind: str  # percent | flat
    rate: int  # percent_milli, or minor units when flat
    zone: dict | None = None  # {"country": …, "region": …, "city": …, "postal_prefix": …}
    gl_code: str = ""


@dataclass(frozen=True)
class FreePeriod:
    weekday: int | None  # ISO 1 (Monday) … 7 (Sunday); None: every day
    start: str  # "HH:MM"
    end: str  # "HH:MM"; end <= start means it runs past midnight


@dataclass(frozen=True)
class UsagePolicySpec:
    id: int
    name: str
    allowance_mb: int
    rollover_months: int = 0
    overage_block_mb: int = 1000
    overage_price: int = 0
    free_periods: tuple[FreePeriod, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    id: int
    name: str
    kind: str  # models.SERVICE_KINDS
    price: int  # per period (credits entered positive)
    frequency_months: int = 1
    prorates: bool = True
    expires_after_cycles: int | None = None
    gl_code: str = ""
    tax_ids: tuple[int, ...] = ()
    usage_policy: UsagePolicySpec | None = None


@dataclass(frozen=True)
class PackageRef:
    account_package_id: int
    package_id: int
    name: str
    roll_up: bool


@dataclass(frozen=True)
class Subscription:
    """One ``AccountService`` row."""

    id: int
    service: ServiceSpec
    starts_on: date
    quantity: int = 1
    price_override: int | None = None
    ends_on: date | None = None  # last day of service
    billed_through: date | None = None
    cycles_billed: int = 0
    package: PackageRef | None = None


@dataclass(frozen=True)
class DiscountSpec:
    """One ``AccountDiscount`` row with its ``Discount``."""

    id: int
    name: str
    kind: str  # fixed | percent
    amount: int  # minor units or percent_milli
    recurrence: str  # once | recurring | expiring
    cycles: int | None = None  # expiring: how many periods
    cycles_used: int = 0
    account_service_id: int | None = None
    account_package_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class UsageSpan:
    started_at: datetime  # naive local time of the network's clock
    download_mb: int
    upload_mb: int = 0


@dataclass(frozen=True)
class Rollover:
    id: int
    mb_left: int
    expires_on: date


@dataclass(frozen=True)
class TopUp:
    id: int
    bought_on: date
    mb: int
    price: int


@dataclass(frozen=True)
class AccountToRate:
    id: int
    number: str
    name: str
    country: str = ""
    region: str = ""
    city: str = ""
    postal_code: str = ""
    tax_exempt: bool = False
    subscriptions: tuple[Subscription, ...] = ()
    discounts: tuple[DiscountSpec, ...] = ()
    usage: tuple[UsageSpan, ...] = ()  # the period just ended (or since the last bill)
    rollovers: tuple[Rollover, ...] = ()
    topups: tuple[TopUp, ...] = ()  # not yet invoiced
    children: tuple[AccountToRate, ...] = ()  # rolled up into this invoice


# -- outputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftLine:
    kind: str  # service | package | credit | discount | tax | usage | fee
    description: str
    amount: int  # signed: credits and discounts negative
    quantity: int = 1
    unit_amount: int = 0
    account_id: int | None = None  # set for a child's lines
    account_service_id: int | None = None
    tax_id: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    gl_code: str = ""
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionUpdate:
    id: int
    billed_through: date | None
    cycles_billed: int


@dataclass(frozen=True)
class Draft:
    account_id: int
    period_start: date
    period_end: date
    lines: tuple[DraftLine, ...]
    subtotal: int  # every line that is not a tax
    tax_total: int
    total: int
    subscription_updates: tuple[SubscriptionUpdate, ...] = ()
    discount_updates: tuple[tuple[int, int], ...] = ()  # (account discount id, cycles_used)
    rollovers_used: tuple[tuple[int, int], ...] = ()  # (rollover id, mb left after)
    new_rollover_mb: int = 0  # unused allowance to carry, from period_start - 1 month
    new_rollover_expires_on: date | None = None
    topups_invoiced: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.lines


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (bill days are 1–28, so it always exists; other days are
    clamped to the month's last day)."""
    raise NotImplementedError


def period_for(bill_date: date, months: int = 1) -> tuple[date, date]:
    """The span a bill on ``bill_date`` covers: [bill_date, add_months(bill_date, months) - 1 day]."""
    raise NotImplementedError


def next_bill_date(after: date, bill_day: int) -> date:
    """The first date strictly after ``after`` whose day is ``bill_day``."""
    raise NotImplementedError


def rate(account: AccountToRate, bill_date: date, taxes: dict[int, TaxSpec]) -> Draft:
    """The invoice ``account`` gets on ``bill_date`` (its children's lines included)."""
    raise NotImplementedError
