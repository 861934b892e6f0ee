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

How the rules above are made exact (the decisions a reader of an invoice may ask about):

- **What was billed is ``billed_through``.** Every recurring subscription's unbilled days
  are ``[max(billed_through + 1, starts_on), ends_on]``. A run bills the part of them before
  ``period_start`` (the stub, or a gap left by a missed run) and then the coming span
  ``[period_start, add_months(period_start, N) - 1]``. A span that starts after the bill date
  waits (a service starting on Nov 15 is first billed on the Dec 1 invoice, stub included), and
  a multi-month span still running (``billed_through >= period_start``) bills nothing.
- **Prorating against which month.** Days before ``period_start`` are cut into the service's
  periods counted backwards from ``period_start`` (``[add_months(ps, -N), ps - 1]``, then the
  one before…); each piece is billed ``price × days / days in its period``, or in full when it
  covers the whole period. Unused days are cut the same way backwards from
  ``billed_through + 1``, i.e. against the very span that was billed. So "22 of 31 days"
  always names the billing month the days belong to, also with bill days other than the 1st.
- **Cycles.** ``cycles_billed`` counts whole periods billed (a full gap period or the coming
  span, even when it is cut short by ``ends_on``); a prorated stub is not a cycle. A service
  with ``expires_after_cycles`` stops once that many cycles were billed; its cycle lines say
  "(k of N)".
- **Credits** (``models.CREDIT_KINDS``) run through the same timeline with the sign turned:
  their lines are of kind "credit" and negative. If a credit is ended inside a span already
  credited, the unused days are taken back (a positive "credit" line, "… reversed"), so that
  billed days always equal days of service.
- **Non-prorating services**: a partial piece before ``period_start`` is free (its days are
  settled: ``billed_through`` moves past them), a coming span cut short by ``ends_on`` is
  billed whole, and nothing is credited when they end early.
- **Discounts** apply on an invoice when they are active on the bill date (``starts_on <=
  bill date <= ends_on``) and their target has charges on it: a service (all its lines on this
  invoice), a package (all its services' lines) or, when neither is named, every charge of the
  account that is not a credit. Percent: half-even percent of the target total; fixed: at most
  the target total. A discount with nothing to discount does not use a cycle. The discount is
  split over its target's lines in proportion (largest remainder) so that each part is taxed
  with the taxes of the line it reduces; the invoice shows one line.
- **Taxes** are decided per account: a child rolled into its parent is taxed by its own
  address and exemption. A zone field this engine does not know never matches.
- **Children's lines** read "2002 · Phone line (Nov 1 – Nov 30)" and carry ``account_id``;
  their subscription/discount updates, rollovers and top-ups are in the same draft;
  ``Draft.new_rollovers`` lists every account's new rollover (``new_rollover_mb`` is the
  rated account's own).
- **Line details** (persisted with the invoice): ``tax_ids`` on every line; prorated pieces
  add ``days``/``period_days``/``proration`` (start | end | unused; ``days`` negative when
  credited); cycle-limited ones ``cycle``/``cycles``; a rolled-up package and a discount
  split over several lines list their ``components`` (each with its own ``tax_ids``).
- **Usage** is rated for the first subscription (in order) with a usage policy that was in
  service during the period just ended. Spans are counted by their start time
  (download + upload), those starting on or after the bill date are left for the next invoice.
  The allowance is used first, then rollovers soonest-expiring first, then top-ups bought
  before the bill date. Only unused *allowance* rolls over; it expires
  ``add_months(period_start, rollover_months) - 1``. The usage line is there when there was
  usage or a top-up; top-ups are billed as their own "usage" lines.
- **The printed-invoice fee** is added only to an invoice that has other lines; children's
  fees are not (the parent's invoice is the one printed).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from app.core.money import format_minor, format_percent_milli

CREDIT_KINDS = frozenset(("credit_one_time", "credit_recurring", "credit_expiring"))  # models.CREDIT_KINDS
ONE_OFF_KINDS = frozenset(("one_time", "credit_one_time"))  # models.ONE_OFF_KINDS

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
    paper_invoice_fee: int = 0  # > 0: a "Printed invoice" fee line (the settings' fee, for paper accounts)


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
class NewRollover:
    """Unused allowance of one account's period ``[from_period_start, …]``, usable until
    ``expires_on`` (one per rated account, children included)."""

    account_id: int
    mb: int
    from_period_start: date
    expires_on: date


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
    # Every new rollover, the rated account's (same as new_rollover_mb above) and its children's.
    new_rollovers: tuple[NewRollover, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.lines


# Frozen dataclasses set each field through ``object.__setattr__``; rating builds hundreds of
# thousands of lines per bill run, so lines and drafts are made here by filling the instance
# dict at once (about twice as fast; the result is an ordinary, equal, still frozen instance —
# tests/unit/test_rating_rules.py checks both stay in step with the field lists).
_new = object.__new__
_set_attr = object.__setattr__


def _line(kind: str, description: str, amount: int, quantity: int, unit_amount: int, account_id: int | None,
          account_service_id: int | None, tax_id: int | None, period_start: date | None,
          period_end: date | None, gl_code: str, detail: dict) -> DraftLine:
    line = _new(DraftLine)
    _set_attr(line, "__dict__", {
        "kind": kind, "description": description, "amount": amount, "quantity": quantity,
        "unit_amount": unit_amount, "account_id": account_id, "account_service_id": account_service_id,
        "tax_id": tax_id, "period_start": period_start, "period_end": period_end, "gl_code": gl_code,
        "detail": detail,
    })
    return line


def _sub_update(id: int, billed_through: date | None, cycles_billed: int) -> SubscriptionUpdate:
    update = _new(SubscriptionUpdate)
    _set_attr(update, "__dict__", {"id": id, "billed_through": billed_through, "cycles_billed": cycles_billed})
    return update


def _draft(**values) -> Draft:
    draft = _new(Draft)
    _set_attr(draft, "__dict__", values)
    return draft


# -- dates ---------------------------------------------------------------------------------------

ONE_DAY = timedelta(days=1)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (bill days are 1–28, so it always exists; other days are
    clamped to the month's last day). ``months`` may be negative."""
    index = day.month - 1 + months
    year = day.year + index // 12
    month = index % 12 + 1
    d = day.day
    if d > 28:
        d = min(d, _days_in_month(year, month))
    return date(year, month, d)


def period_for(bill_date: date, months: int = 1) -> tuple[date, date]:
    """The span a bill on ``bill_date`` covers: [bill_date, add_months(bill_date, months) - 1 day]."""
    if months < 1:
        raise ValueError("a period is at least one month")
    return bill_date, add_months(bill_date, months) - ONE_DAY


def next_bill_date(after: date, bill_day: int) -> date:
    """The first date strictly after ``after`` whose day is ``bill_day``."""
    if not 1 <= bill_day <= 28:
        raise ValueError(f"a bill day is 1–28, not {bill_day}")
    if after.day < bill_day:
        return after.replace(day=bill_day)
    return add_months(after.replace(day=bill_day), 1)


@lru_cache(maxsize=1024)
def _period_end(start: date, months: int) -> date:
    return add_months(start, months) - ONE_DAY


def _day(d: date) -> str:
    return f"{_MONTH_ABBR[d.month - 1]} {d.day}"


@lru_cache(maxsize=4096)
def _span(a: date, b: date) -> str:
    """"Nov 1 – Nov 30"; with the years when the span crosses one."""
    if a.year != b.year:
        return f"{_day(a)}, {a.year} – {_day(b)}, {b.year}"
    return f"{_day(a)} – {_day(b)}"


def _backward_periods(anchor: date, months: int, lo: date, hi: date) -> list[tuple[date, date]]:
    """The service periods ``[add_months(anchor, -k·N), add_months(anchor, -(k-1)·N) - 1]``
    (k = 1, 2, …) that overlap ``[lo, hi]`` (``hi`` < ``anchor``), oldest first. Each is
    computed from the anchor itself, so they tile without gaps even when a month is short."""
    periods = []
    k = 1
    end = anchor - ONE_DAY
    while True:
        start = add_months(anchor, -k * months)
        if start <= hi:
            periods.append((start, end))
        if start <= lo:
            break
        end = start - ONE_DAY
        k += 1
    periods.reverse()
    return periods


# -- rounding (integers only; equal to app.core.money.percent_of / prorate, but ~20× faster) -----


def _div_half_even(numerator: int, denominator: int) -> int:
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q & 1):
        q += 1
    return q


def percent_half_even(amount: int, milli: int) -> int:
    """``milli`` thousandths of a percent of ``amount``, rounded half-even (as ``percent_of``)."""
    return _div_half_even(amount * milli, 100_000)


def prorate_half_even(amount: int, days: int, period_days: int) -> int:
    """``amount`` × days / period_days, rounded half-even (as ``money.prorate``)."""
    return _div_half_even(amount * days, period_days)


# -- internal pieces -------------------------------------------------------------------------------


class _Piece:
    """One priced stretch of one subscription, before packages are rolled up."""

    __slots__ = ("amount", "description", "detail", "end", "start", "sub", "tax_key")

    def __init__(self, sub: Subscription, tax_key: tuple[int, ...], description: str, amount: int, start: date,
                 end: date, detail: dict):
        self.sub = sub
        self.tax_key = tax_key
        self.description = description
        self.amount = amount
        self.start = start
        self.end = end
        self.detail = detail


def _rate_subscription(sub: Subscription, ps: date, pieces: list[_Piece]) -> SubscriptionUpdate | None:
    """Append this subscription's pieces for the invoice on ``ps``; the update, if any."""
    svc = sub.service
    kind = svc.kind
    billed = sub.billed_through
    cycles = sub.cycles_billed
    unit = svc.price if sub.price_override is None else sub.price_override
    qty = sub.quantity
    full = unit * qty
    sign = -1 if kind in CREDIT_KINDS else 1
    last = sub.ends_on
    tax_key = svc.tax_ids if type(svc.tax_ids) is tuple else tuple(svc.tax_ids)
    tax_ids = list(tax_key)
    name = svc.name if qty == 1 else f"{svc.name} × {qty}"

    if kind in ONE_OFF_KINDS:
        if cycles == 0 and billed is None and sub.starts_on <= ps and (last is None or last >= sub.starts_on):
            pieces.append(_Piece(sub, tax_key, name, sign * full, sub.starts_on, sub.starts_on,
                                 {"tax_ids": tax_ids, "one_time": True}))
            return _sub_update(sub.id, sub.starts_on, 1)
        return None

    months = svc.frequency_months if svc.frequency_months > 0 else 1
    limit = svc.expires_after_cycles
    prorates = svc.prorates

    # Ended inside what was already billed: give back the unused days (prorating services only).
    if billed is not None and last is not None and last < billed:
        if not prorates:
            return None
        lo = last + ONE_DAY
        lo = max(lo, sub.starts_on)
        if lo <= billed:
            verb = "reversed" if sign < 0 else "credited"
            for a, b in _backward_periods(billed + ONE_DAY, months, lo, billed):
                s = max(lo, a)
                days = (b - s).days + 1
                period_days = (b - a).days + 1
                pieces.append(_Piece(
                    sub, tax_key,
                    f"{name}: unused {_span(s, b)} {verb} ({days} of {period_days} days)",
                    -sign * prorate_half_even(full, days, period_days), s, b,
                    {"tax_ids": tax_ids, "proration": "unused", "days": -days, "period_days": period_days},
                ))
        return _sub_update(sub.id, last, cycles)

    start = sub.starts_on if billed is None else billed + ONE_DAY
    start = max(start, sub.starts_on)
    if start > ps or (last is not None and last < start):
        return None  # starts later, inside a multi-month span already billed, or nothing left

    new_billed = billed
    # The stub (or a gap left by a missed run) before the coming period.
    if start < ps:
        gap_end = ps - ONE_DAY
        if last is not None and last < gap_end:
            gap_end = last
        for a, b in _backward_periods(ps, months, start, gap_end):
            s = max(start, a)
            e = min(gap_end, b)
            days = (e - s).days + 1
            period_days = (b - a).days + 1
            if limit is not None and cycles >= limit:
                return _update(sub, new_billed, cycles)
            if days == period_days:
                cycles += 1
                pieces.append(_Piece(sub, tax_key, _cycle_name(name, s, e, cycles, limit), sign * full, s, e,
                                     _cycle_detail(tax_ids, days, cycles, limit)))
            elif prorates:
                pieces.append(_Piece(
                    sub, tax_key, f"{name}, {_span(s, e)} ({days} of {period_days} days)",
                    sign * prorate_half_even(full, days, period_days), s, e,
                    {"tax_ids": tax_ids, "proration": "start", "days": days, "period_days": period_days},
                ))
            new_billed = e
        if last is not None and last < ps:
            return _update(sub, new_billed, cycles)

    # The coming span.
    if limit is not None and cycles >= limit:
        return _update(sub, new_billed, cycles)
    span_end = _period_end(ps, months)
    cycles += 1
    if last is None or last >= span_end or not prorates:
        pieces.append(_Piece(sub, tax_key, _cycle_name(name, ps, span_end, cycles, limit), sign * full, ps, span_end,
                             _cycle_detail(tax_ids, (span_end - ps).days + 1, cycles, limit)))
        new_billed = span_end
    else:
        days = (last - ps).days + 1
        period_days = (span_end - ps).days + 1
        text = f"{name}, {_span(ps, last)} ({days} of {period_days} days)"
        if limit is not None:
            text += f" ({cycles} of {limit})"
        detail = _cycle_detail(tax_ids, days, cycles, limit)
        detail["proration"] = "end"
        detail["period_days"] = period_days
        pieces.append(_Piece(sub, tax_key, text, sign * prorate_half_even(full, days, period_days), ps, last, detail))
        new_billed = last
    return _sub_update(sub.id, new_billed, cycles)


def _update(sub: Subscription, billed: date | None, cycles: int) -> SubscriptionUpdate | None:
    if billed == sub.billed_through and cycles == sub.cycles_billed:
        return None
    return _sub_update(sub.id, billed, cycles)


def _cycle_name(name: str, a: date, b: date, cycle: int, limit: int | None) -> str:
    if limit is not None:
        return f"{name} ({cycle} of {limit})"
    return f"{name} ({_span(a, b)})"


def _cycle_detail(tax_ids: list[int], days: int, cycle: int, limit: int | None) -> dict:
    detail = {"tax_ids": tax_ids, "days": days}
    if limit is not None:
        detail["cycle"] = cycle
        detail["cycles"] = limit
    return detail


# -- taxes -----------------------------------------------------------------------------------------


def _normal_postal(text: str) -> str:
    return text.replace(" ", "").replace("-", "").upper()


def zone_matches(zone: dict | None, account: AccountToRate) -> bool:
    """Every field the zone names matches the account's address (case-insensitive;
    ``postal_prefix`` against the start of the postal code, spaces ignored). A field this
    engine does not know never matches, so a typo cannot make a tax apply everywhere."""
    if not zone:
        return True
    for key, wanted in zone.items():
        if wanted is None or wanted == "":
            continue
        wanted = str(wanted)
        if key == "postal_prefix":
            if not _normal_postal(account.postal_code).startswith(_normal_postal(wanted)):
                return False
        elif key == "postal_code":
            if _normal_postal(account.postal_code) != _normal_postal(wanted):
                return False
        elif key in ("country", "region", "city"):
            if getattr(account, key).strip().casefold() != wanted.strip().casefold():
                return False
        else:
            return False
    return True


@lru_cache(maxsize=1024)
def _percent_text(milli: int) -> str:
    return format_percent_milli(milli)


@lru_cache(maxsize=256)
def _tax_description(name: str, kind: str, rate: int) -> str:
    return f"{name} {format_percent_milli(rate)} %" if kind == "percent" else name


# -- usage -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.strip().partition(":")
    return int(hours) * 60 + int(minutes or 0)


def _is_free(weekday: int, minute: int, periods: tuple[FreePeriod, ...]) -> bool:
    for p in periods:
        s = _minutes(p.start)
        e = _minutes(p.end)
        w = p.weekday
        if s < e:
            if (w is None or w == weekday) and s <= minute < e:
                return True
        else:  # runs past midnight: [s, 24:00) on its day, [00:00, e) on the next
            if minute >= s and (w is None or w == weekday):
                return True
            if minute < e and (w is None or w == (weekday - 2) % 7 + 1):
                return True
    return False


def _gb(mb: int) -> str:
    whole, rest = divmod(mb, 1000)
    if not rest:
        return f"{whole:,} GB"
    return f"{whole:,}.{rest:03d}".rstrip("0") + " GB"


# -- one account -----------------------------------------------------------------------------------


class _Block:
    """The lines of one account on the invoice, with the parts its taxes are computed from."""

    __slots__ = (
        "discount_updates",
        "fee_at",
        "lines",
        "new_rollover",
        "parts",
        "rollovers_used",
        "sub_updates",
        "topups",
    )

    def __init__(self) -> None:
        self.lines: list[DraftLine] = []
        self.parts: list[tuple[int, tuple[int, ...]]] = []  # (amount, tax ids) of every taxable part
        self.fee_at = 0
        self.sub_updates: list[SubscriptionUpdate] = []
        self.discount_updates: list[tuple[int, int]] = []
        self.rollovers_used: list[tuple[int, int]] = []
        self.new_rollover: NewRollover | None = None
        self.topups: list[int] = []


def _allocate(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (sum > 0), largest remainder; sums exactly."""
    if len(weights) == 1:
        return [total]
    wsum = sum(weights)
    shares = []
    remainders = []
    for i, w in enumerate(weights):
        q, r = divmod(total * w, wsum)
        shares.append(q)
        remainders.append((-r, i))
    left = total - sum(shares)
    for _, i in sorted(remainders)[:left]:
        shares[i] += 1
    return shares


def _union(lists) -> list[int]:
    seen: list[int] = []
    for ids in lists:
        for i in ids:
            if i not in seen:
                seen.append(i)
    return seen


def _rate_account(account: AccountToRate, ps: date, child: bool) -> _Block:
    block = _Block()
    lines = block.lines
    parts = block.parts
    account_id = account.id if child else None
    prefix = f"{account.number} · " if child else ""

    # Services, in subscription order.
    pieces: list[_Piece] = []
    for sub in account.subscriptions:
        update = _rate_subscription(sub, ps, pieces)
        if update is not None:
            block.sub_updates.append(update)

    emitted_packages: set[int] = set()
    for piece in pieces:
        sub = piece.sub
        pkg = sub.package
        if pkg is not None and pkg.roll_up:
            key = pkg.account_package_id
            if key in emitted_packages:
                continue
            emitted_packages.add(key)
            members = [p for p in pieces if p.sub.package is not None and p.sub.package.account_package_id == key]
            amount = sum(p.amount for p in members)
            start = min(p.start for p in members)
            end = max(p.end for p in members)
            gl_codes = {p.sub.service.gl_code for p in members}
            detail = {
                "tax_ids": _union(p.tax_key for p in members),
                "account_package_id": key,
                "package_id": pkg.package_id,
                # Each service's own line, as it would have been shown: the invoice can explain the
                # package line, and the taxes were computed from these.
                "components": [
                    {"account_service_id": p.sub.id, "service_id": p.sub.service.id, "description": p.description,
                     "amount": p.amount, "tax_ids": p.detail["tax_ids"], "days": p.detail.get("days"),
                     "one_time": p.detail.get("one_time", False),
                     "period_start": p.start.isoformat(), "period_end": p.end.isoformat()}
                    for p in members
                ],
            }
            if child:
                detail["account_number"] = account.number
            lines.append(_line(
                "package", f"{prefix}{pkg.name} ({_span(start, end)})", amount, 1, amount, account_id, None, None,
                start, end, gl_codes.pop() if len(gl_codes) == 1 else "", detail,
            ))
            parts.extend([(p.amount, p.tax_key) for p in members])
            continue
        svc = sub.service
        detail = piece.detail
        if sub.price_override is not None:
            detail["price_override"] = sub.price_override
            detail["list_price"] = svc.price
        if pkg is not None:
            detail["account_package_id"] = pkg.account_package_id
            detail["package"] = pkg.name
        if child:
            detail["account_number"] = account.number
        unit = svc.price if sub.price_override is None else sub.price_override
        lines.append(_line(
            "credit" if svc.kind in CREDIT_KINDS else "service", prefix + piece.description, piece.amount,
            sub.quantity, unit, account_id, sub.id, None, piece.start, piece.end, svc.gl_code, detail,
        ))
        parts.append((piece.amount, piece.tax_key))

    # Discounts, in their order.
    for disc in account.discounts:
        if disc.starts_on is not None and disc.starts_on > ps:
            continue
        if disc.ends_on is not None and disc.ends_on < ps:
            continue
        if disc.recurrence == "once" and disc.cycles_used >= 1:
            continue
        if disc.recurrence == "expiring" and (disc.cycles is None or disc.cycles_used >= disc.cycles):
            continue
        if disc.account_service_id is not None:
            targets = [p for p in pieces if p.sub.id == disc.account_service_id]
        elif disc.account_package_id is not None:
            targets = [p for p in pieces
                       if p.sub.package is not None and p.sub.package.account_package_id == disc.account_package_id]
        else:
            targets = [p for p in pieces if p.sub.service.kind not in CREDIT_KINDS]
        if not targets:
            continue
        if len(targets) == 1:
            first = targets[0]
            base = first.amount
            start, end = first.start, first.end
            tax_ids = list(first.tax_key)
            gl_code = first.sub.service.gl_code
        else:
            base = sum(p.amount for p in targets)
            start = min(p.start for p in targets)
            end = max(p.end for p in targets)
            tax_ids = _union(p.tax_key for p in targets)
            gl_codes = {p.sub.service.gl_code for p in targets}
            gl_code = gl_codes.pop() if len(gl_codes) == 1 else ""
        if base <= 0:
            continue
        if disc.kind == "percent":
            off = percent_half_even(base, disc.amount)
            text = f"{disc.name} −{_percent_text(disc.amount)} %"
        else:
            off = min(base, disc.amount)
            text = disc.name
        if off <= 0:
            continue
        used = disc.cycles_used + 1
        detail = {"tax_ids": tax_ids, "discount_id": disc.id, "base": base, "kind": disc.kind, "rate": disc.amount,
                  "recurrence": disc.recurrence, "cycles_used": used}
        if disc.recurrence == "expiring":
            text += f" ({used} of {disc.cycles})"
            detail["cycles"] = disc.cycles
        block.discount_updates.append((disc.id, used))
        if disc.kind == "fixed" and off < disc.amount:
            detail["capped"] = True
        if disc.account_package_id is not None:
            detail["account_package_id"] = disc.account_package_id
        if len(targets) == 1:
            parts.append((-off, targets[0].tax_key))
        else:
            shares = _allocate(off, [p.amount for p in targets])
            detail["components"] = [
                {"account_service_id": p.sub.id, "amount": -share, "tax_ids": list(p.tax_key)}
                for p, share in zip(targets, shares, strict=True)
            ]
            parts.extend([(-share, p.tax_key) for p, share in zip(targets, shares, strict=True)])
        if child:
            detail["account_number"] = account.number
        lines.append(_line(
            "discount", prefix + text, -off, 1, -off, account_id, disc.account_service_id, None, start, end,
            gl_code, detail,
        ))

    block.fee_at = len(lines)
    _rate_usage(account, ps, block, account_id, prefix)
    return block


def _rate_usage(account: AccountToRate, ps: date, block: _Block, account_id: int | None, prefix: str) -> None:
    if not account.usage and not account.topups:
        for sub in account.subscriptions:
            if sub.service.usage_policy is not None:
                break
        else:
            return
    prev_start = add_months(ps, -1)
    prev_end = ps - ONE_DAY
    policy_sub = None
    for sub in account.subscriptions:
        if sub.service.usage_policy is not None and sub.starts_on <= prev_end and (
            sub.ends_on is None or sub.ends_on >= prev_start
        ):
            policy_sub = sub
            break
    topups = [t for t in account.topups if t.bought_on < ps]
    tax_key = tuple(policy_sub.service.tax_ids) if policy_sub is not None else ()
    tax_ids = list(tax_key)
    gl_code = policy_sub.service.gl_code if policy_sub is not None else ""

    if policy_sub is not None:
        policy = policy_sub.service.usage_policy
        free_periods = policy.free_periods
        total = free = 0
        for span in account.usage:
            at = span.started_at
            if at.date() >= ps:
                continue
            mb = span.download_mb + span.upload_mb
            total += mb
            if free_periods and _is_free(at.isoweekday(), at.hour * 60 + at.minute, free_periods):
                free += mb
        counted = total - free
        allowance = policy.allowance_mb
        over = counted - allowance if counted > allowance else 0
        rollover_available = rollover_used = 0
        for roll in sorted((r for r in account.rollovers if r.expires_on >= prev_end and r.mb_left > 0),
                           key=lambda r: (r.expires_on, r.id)):
            rollover_available += roll.mb_left
            use = min(roll.mb_left, over)
            if use > 0:
                block.rollovers_used.append((roll.id, roll.mb_left - use))
                over -= use
                rollover_used += use
        topup_mb = sum(t.mb for t in topups)
        topup_used = min(topup_mb, over)
        over -= topup_used
        block_mb = policy.overage_block_mb if policy.overage_block_mb > 0 else 1000
        blocks = -(-over // block_mb)
        amount = blocks * policy.overage_price
        if policy.rollover_months > 0 and counted < allowance:
            block.new_rollover = NewRollover(account.id, allowance - counted, prev_start,
                                             add_months(ps, policy.rollover_months) - ONE_DAY)
        if account.usage or topups or amount:
            name = policy_sub.service.name
            text = f"{name} usage ({_span(prev_start, prev_end)}): {_gb(counted)} counted, {_gb(free)} free"
            if blocks:
                text += (f"; {_gb(over)} over the allowance, {blocks} × {_gb(block_mb)} at "
                         f"{format_minor(policy.overage_price)}")
            else:
                text += "; within the allowance"
            detail = {
                "tax_ids": tax_ids, "usage_policy_id": policy.id, "total_mb": total, "free_mb": free,
                "counted_mb": counted, "billable_mb": over, "allowance_mb": allowance,
                "rollover_mb": rollover_available, "rollover_used_mb": rollover_used, "topup_mb": topup_mb,
                "topup_used_mb": topup_used, "block_mb": block_mb, "blocks": blocks,
                "block_price": policy.overage_price,
            }
            if account_id is not None:
                detail["account_number"] = account.number
            block.lines.append(_line(
                "usage", prefix + text, amount, blocks, policy.overage_price, account_id, policy_sub.id, None,
                prev_start, prev_end, gl_code, detail,
            ))
            block.parts.append((amount, tax_key))

    for topup in topups:
        block.topups.append(topup.id)
        detail = {"tax_ids": tax_ids, "topup_id": topup.id, "mb": topup.mb}
        if account_id is not None:
            detail["account_number"] = account.number
        block.lines.append(_line(
            "usage", f"{prefix}Data top-up {_gb(topup.mb)} (bought {_day(topup.bought_on)})", topup.price, 1,
            topup.price, account_id, policy_sub.id if policy_sub is not None else None, None,
            topup.bought_on, topup.bought_on, gl_code, detail,
        ))
        block.parts.append((topup.price, tax_key))


def _family(account: AccountToRate, out: list[AccountToRate]) -> list[AccountToRate]:
    out.append(account)
    for child in account.children:
        _family(child, out)
    return out


def rate(account: AccountToRate, bill_date: date, taxes: dict[int, TaxSpec]) -> Draft:
    """The invoice ``account`` gets on ``bill_date`` (its children's lines included)."""
    ps = bill_date
    pe = _period_end(ps, 1)
    family = _family(account, []) if account.children else [account]
    blocks = [_rate_account(member, ps, member is not account) for member in family]

    if account.paper_invoice_fee > 0 and any(b.lines for b in blocks):
        fee = account.paper_invoice_fee
        blocks[0].lines.insert(blocks[0].fee_at, _line("fee", "Printed invoice", fee, 1, fee, None, None, None, None, None, "",
                                             {"tax_ids": []}))

    # Taxes: per part, half-even, summed per tax, for the taxes each account is liable to.
    tax_sums: dict[int, int] = {}
    tax_bases: dict[int, int] = {}
    if taxes:
        for member, block in zip(family, blocks, strict=True):
            if member.tax_exempt or not block.lines:
                continue
            liable = {tid: (t.kind == "percent", t.rate) for tid, t in taxes.items() if zone_matches(t.zone, member)}
            if not liable:
                continue
            resolved: dict[tuple[int, ...], list[tuple[int, bool, int]]] = {}
            for amount, tax_ids in block.parts:
                if not amount or not tax_ids:
                    continue
                applying = resolved.get(tax_ids)
                if applying is None:
                    applying = resolved[tax_ids] = [(tid, *liable[tid]) for tid in tax_ids if tid in liable]
                for tid, percent, rate_ in applying:
                    if percent:
                        q, r = divmod(amount * rate_, 100_000)  # percent_half_even, inlined
                        if 2 * r > 100_000 or (2 * r == 100_000 and q & 1):
                            q += 1
                        tax_sums[tid] = tax_sums.get(tid, 0) + q
                    else:
                        tax_sums[tid] = rate_
                    tax_bases[tid] = tax_bases.get(tid, 0) + amount

    lines: list[DraftLine] = []
    subtotal = 0
    for block in blocks:
        for line in block.lines:
            subtotal += line.amount
        lines.extend(block.lines)
    tax_total = 0
    if tax_sums:
        for tid, tax in taxes.items():
            amount = tax_sums.get(tid)
            if not amount:
                continue
            tax_total += amount
            lines.append(_line(
                "tax", _tax_description(tax.name, tax.kind, tax.rate), amount, 1, amount, None, None, tid,
                ps, pe, tax.gl_code, {"kind": tax.kind, "rate": tax.rate, "base": tax_bases[tid]},
            ))

    head = blocks[0]
    own = head.new_rollover
    if len(blocks) == 1:
        sub_updates = tuple(head.sub_updates)
        discount_updates = tuple(head.discount_updates)
        rollovers_used = tuple(head.rollovers_used)
        topups = tuple(head.topups)
        new_rollovers = (own,) if own is not None else ()
    else:
        sub_updates = tuple(u for b in blocks for u in b.sub_updates)
        discount_updates = tuple(u for b in blocks for u in b.discount_updates)
        rollovers_used = tuple(u for b in blocks for u in b.rollovers_used)
        topups = tuple(t for b in blocks for t in b.topups)
        new_rollovers = tuple(b.new_rollover for b in blocks if b.new_rollover is not None)
    return _draft(
        account_id=account.id,
        period_start=ps,
        period_end=pe,
        lines=tuple(lines),
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        subscription_updates=sub_updates,
        discount_updates=discount_updates,
        rollovers_used=rollovers_used,
        new_rollover_mb=own.mb if own is not None else 0,
        new_rollover_expires_on=own.expires_on if own is not None else None,
        topups_invoiced=topups,
        new_rollovers=new_rollovers,
    )


def rate_all(accounts: Iterable[AccountToRate], bill_date: date, taxes: dict[int, TaxSpec]) -> list[Draft]:
    """``rate`` for many accounts, the drafts kept. Python's cycle collector would otherwise
    scan the growing heap of drafts again and again (it more than doubles the time of 10,000
    accounts kept in a list); rating makes no reference cycles, so it is paused meanwhile and
    restored as it was, also on an error."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [rate(account, bill_date, taxes) for account in accounts]
    finally:
        if collecting:
            gc.enable()
