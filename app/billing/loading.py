"""The bridge from the database to the rating engine: everything ``rating.rate`` needs about many
accounts, in a handful of bulk queries.

Used by the bill run (thousands of accounts) and the billing calculator (one). It must be fast —
10,000 accounts well under 2 s on SQLite — so it reads plain rows (``select`` of columns, no ORM
objects), ``IN`` lists of at most ``CHUNK`` ids (SQLite's bound-parameter limit, and Postgres
plans stay small), never one query per account; the catalogue (services, their taxes, usage
policies, packages, discounts, settings) is small and read once per call.

What is loaded, for a bill on ``bill_date``:
- **Subscriptions** that can still produce a line: starting on or before the bill date, and not
  finished (ended *and* billed through their last day). One-off charges and credits already
  billed are left out. A line that ended inside a span already billed stays in: the engine
  credits its unused days.
- **Discounts** active on the bill date (``starts_on <= bill_date <= ends_on``) and not used
  up (a "once" discount used, an expiring one at its count).
- The **address** fields taxes are zoned on (the account's unit), and its **tax exemption**.
- **Usage** spans of the period just ended, ``[bill_date - 1 month, bill_date - 1 day]``, only
  for accounts with a usage-billed service among their subscriptions; **rollovers** with MB left
  that have not expired before that period began; **top-ups** not yet invoiced.
- ``paper_invoice_fee``: the company's printed-invoice fee, for accounts that want paper.
- **Children** that roll up into their parent (``roll_up_to_parent``, status that activates),
  attached to the parent, their children in turn to them. An account that rolls up into a
  parent is never returned on its own: its charges are on its parent's invoice.

Usage times are stored by ``UsageRecord`` as the network's clock reading; they are handed to the
engine as naive datetimes (the engine compares them with free periods in that same clock).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from app.accounts.models import Account, AccountStatus
from app.addresses.models import ServiceableAddress
from app.billing import models as m
from app.billing import rating
from app.billing.models import (
    AccountDiscount,
    AccountPackage,
    AccountService,
    BillingAccount,
    BillingSettings,
    Discount,
    Package,
    Service,
    Tax,
    UsagePolicy,
    UsageRecord,
    UsageRollover,
    UsageTopUp,
    service_taxes,
)

CHUNK = 500
MAX_DEPTH = 5  # children of children… rolled up; deeper trees are a data error, not a bill

_acc = Account.__table__
_addr = ServiceableAddress.__table__
_ba = BillingAccount.__table__
_status = AccountStatus.__table__
_as = AccountService.__table__
_ap = AccountPackage.__table__
_ad = AccountDiscount.__table__
_records = UsageRecord.__table__
_roll = UsageRollover.__table__
_topup = UsageTopUp.__table__


def _chunks(ids: Sequence[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or CHUNK
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def _months_back(day: date, months: int) -> date:
    """``day`` ``months`` earlier, clamped to the month's last day."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    return date(year, month, 28)


class _Catalogue:
    """The small tables, read once: services as ``ServiceSpec`` (shared between accounts),
    package names, discount definitions, each company's printed-invoice fee."""

    def __init__(self, session: Session) -> None:
        policies: dict[int, rating.UsagePolicySpec] = {}
        for p in session.execute(select(
                UsagePolicy.id, UsagePolicy.name, UsagePolicy.allowance_mb, UsagePolicy.rollover_months,
                UsagePolicy.overage_block_mb, UsagePolicy.overage_price, UsagePolicy.free_periods)):
            periods = tuple(rating.FreePeriod(f.get("weekday"), f.get("start", "00:00"), f.get("end", "00:00"))
                            for f in (p.free_periods or []))
            policies[p.id] = rating.UsagePolicySpec(p.id, p.name, p.allowance_mb, p.rollover_months or 0,
                                                    p.overage_block_mb or 1000, p.overage_price or 0, periods)
        taxes: dict[int, list[int]] = {}
        for service_id, tax_id in session.execute(
                select(service_taxes.c.service_id, service_taxes.c.tax_id).order_by(service_taxes.c.tax_id)):
            taxes.setdefault(service_id, []).append(tax_id)
        self.services: dict[int, rating.ServiceSpec] = {}
        for s in session.execute(select(
                Service.id, Service.name, Service.kind, Service.price, Service.frequency_months, Service.prorates,
                Service.expires_after_cycles, Service.gl_code, Service.usage_policy_id)):
            policy = policies.get(s.usage_policy_id) if s.kind == m.DATA and s.usage_policy_id else None
            self.services[s.id] = rating.ServiceSpec(
                s.id, s.name, s.kind, s.price, s.frequency_months or 1, bool(s.prorates), s.expires_after_cycles,
                s.gl_code or "", tuple(taxes.get(s.id, ())), policy)
        self.packages = {p.id: (p.name, bool(p.roll_up)) for p in session.execute(
            select(Package.id, Package.name, Package.roll_up))}
        self.discounts = {d.id: d for d in session.execute(select(
            Discount.id, Discount.name, Discount.kind, Discount.amount, Discount.recurrence, Discount.cycles))}
        self.paper_fee = {company_id: fee or 0 for company_id, fee in session.execute(
            select(BillingSettings.company_id, BillingSettings.printed_invoice_fee))}


def accounts_to_rate(session: Session, account_ids: Sequence[int], bill_date: date) -> dict[int, rating.AccountToRate]:
    """{account id: what the rating engine needs to bill it on ``bill_date``} for the given
    accounts (unknown ids, and accounts that roll up into a parent, are left out)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return {}
    # Building ~10 objects per account trips the cyclic garbage collector over and over, each
    # pass scanning everything built so far (nothing here makes a cycle): pause it meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        catalogue = _Catalogue(session)
        result: dict[int, rating.AccountToRate] = {}
        for chunk in _chunks(ids):
            result.update(_load_chunk(session, catalogue, chunk, bill_date))
        return result
    finally:
        if collecting:
            gc.enable()


def taxes_for(session: Session, company_id: int) -> dict[int, rating.TaxSpec]:
    """The company's enabled taxes, in their order, as the engine takes them."""
    rows = session.execute(
        select(Tax.id, Tax.name, Tax.kind, Tax.rate, Tax.zone, Tax.gl_code)
        .where(Tax.company_id == company_id, Tax.enabled == true())
        .order_by(Tax.position, Tax.id))
    return {t.id: rating.TaxSpec(t.id, t.name, t.kind, t.rate, dict(t.zone) if t.zone else None, t.gl_code or "")
            for t in rows}


def _load_chunk(session: Session, catalogue: _Catalogue, chunk: list[int],
                bill_date: date) -> dict[int, rating.AccountToRate]:
    heads = _heads(session, chunk)
    # Who rolls up into whom, level by level (a child's own children come along).
    children_of: dict[int, list[int]] = {}
    frontier = [i for i, h in heads.items() if not (h.roll_up_to_parent and h.parent_id is not None)]
    attached: set[int] = set(frontier)  # each account once in the trees (a cycle in the data stops here)
    for _depth in range(MAX_DEPTH):
        if not frontier:
            break
        found: list[int] = []
        for part in _chunks(frontier):
            rows = session.execute(
                select(_acc.c.id, _acc.c.parent_id)
                .join(_ba, _ba.c.account_id == _acc.c.id)
                .join(_status, _status.c.id == _acc.c.status_id)
                .where(_acc.c.parent_id.in_(part), _ba.c.roll_up_to_parent == true(), _status.c.activates == true())
                .order_by(_acc.c.number))
            for child_id, parent_id in rows:
                if child_id in attached:
                    continue
                attached.add(child_id)
                children_of.setdefault(parent_id, []).append(child_id)
                found.append(child_id)
        missing = [i for i in found if i not in heads]
        for part in _chunks(missing):
            heads.update(_heads(session, part))
        frontier = found

    every = list(heads)
    subscriptions = _subscriptions(session, catalogue, every, bill_date)
    discounts = _discounts(session, catalogue, every, bill_date)
    usage_ids = [i for i in every if any(s.service.usage_policy is not None for s in subscriptions.get(i, ()))]
    usage, rollovers, topups = _usage(session, usage_ids, every, bill_date)

    def build(account_id: int, depth: int) -> rating.AccountToRate:
        h = heads[account_id]
        kids = tuple(build(c, depth + 1) for c in children_of.get(account_id, ()) if c in heads) \
            if depth < MAX_DEPTH else ()
        return rating.AccountToRate(
            id=h.id, number=h.number, name=h.name, country=h.country or "", region=h.region or "",
            city=h.city or "", postal_code=h.postal_code or "", tax_exempt=bool(h.tax_exempt),
            subscriptions=tuple(subscriptions.get(account_id, ())), discounts=tuple(discounts.get(account_id, ())),
            usage=tuple(usage.get(account_id, ())), rollovers=tuple(rollovers.get(account_id, ())),
            topups=tuple(topups.get(account_id, ())), children=kids,
            paper_invoice_fee=catalogue.paper_fee.get(h.company_id, 0) if h.paper_invoice else 0,
        )

    return {
        account_id: build(account_id, 0)
        for account_id in chunk
        if account_id in heads and not (heads[account_id].roll_up_to_parent and heads[account_id].parent_id is not None)
    }


def _heads(session: Session, ids: list[int]) -> dict:
    rows = session.execute(
        select(_acc.c.id, _acc.c.number, _acc.c.name, _acc.c.parent_id, _acc.c.company_id,
               _addr.c.country, _addr.c.region, _addr.c.city, _addr.c.postal_code,
               _ba.c.tax_exempt, _ba.c.paper_invoice, _ba.c.roll_up_to_parent)
        .outerjoin(_addr, _addr.c.id == _acc.c.address_id)
        .outerjoin(_ba, _ba.c.account_id == _acc.c.id)
        .where(_acc.c.id.in_(ids)))
    return {r.id: r for r in rows.all()}


def _subscriptions(session: Session, catalogue: _Catalogue, ids: list[int],
                   bill_date: date) -> dict[int, list[rating.Subscription]]:
    query = (
        select(_as.c.id, _as.c.account_id, _as.c.service_id, _as.c.account_package_id, _as.c.quantity,
               _as.c.price_override, _as.c.starts_on, _as.c.ends_on, _as.c.billed_through, _as.c.cycles_billed,
               _ap.c.package_id)
        .outerjoin(_ap, _ap.c.id == _as.c.account_package_id)
        .where(_as.c.account_id.in_(ids), _as.c.starts_on <= bill_date,
               or_(_as.c.ends_on.is_(None), _as.c.billed_through.is_(None), _as.c.billed_through != _as.c.ends_on))
        .order_by(_as.c.account_id, _as.c.starts_on, _as.c.id))
    found: dict[int, list[rating.Subscription]] = {}
    refs: dict[int, rating.PackageRef] = {}
    services = catalogue.services
    one_off = m.ONE_OFF_KINDS
    Subscription = rating.Subscription
    for (line_id, account_id, service_id, account_package_id, quantity, price_override, starts_on, ends_on,
         billed_through, cycles_billed, package_id) in session.execute(query).all():
        spec = services.get(service_id)
        if spec is None:
            continue
        if spec.kind in one_off and (cycles_billed or billed_through is not None):
            continue  # billed once already
        package = None
        if account_package_id is not None:
            package = refs.get(account_package_id)
            if package is None:
                name, roll_up = catalogue.packages.get(package_id, ("", False))
                package = refs[account_package_id] = rating.PackageRef(account_package_id, package_id, name, roll_up)
        bucket = found.get(account_id)
        if bucket is None:
            bucket = found[account_id] = []
        bucket.append(Subscription(line_id, spec, starts_on, quantity, price_override, ends_on, billed_through,
                                   cycles_billed or 0, package))
    return found


def _discounts(session: Session, catalogue: _Catalogue, ids: list[int],
               bill_date: date) -> dict[int, list[rating.DiscountSpec]]:
    query = (
        select(_ad.c.id, _ad.c.account_id, _ad.c.discount_id, _ad.c.account_service_id, _ad.c.account_package_id,
               _ad.c.starts_on, _ad.c.ends_on, _ad.c.cycles_used)
        .where(_ad.c.account_id.in_(ids), _ad.c.starts_on <= bill_date,
               or_(_ad.c.ends_on.is_(None), _ad.c.ends_on >= bill_date))
        .order_by(_ad.c.account_id, _ad.c.id))
    found: dict[int, list[rating.DiscountSpec]] = {}
    definitions = catalogue.discounts
    for (row_id, account_id, discount_id, account_service_id, account_package_id, starts_on, ends_on,
         cycles_used) in session.execute(query).all():
        d = definitions.get(discount_id)
        if d is None:
            continue
        used = cycles_used or 0
        if d.recurrence == m.ONCE and used >= 1:
            continue
        if d.recurrence == m.EXPIRING and d.cycles is not None and used >= d.cycles:
            continue
        found.setdefault(account_id, []).append(rating.DiscountSpec(
            row_id, d.name, d.kind, d.amount, d.recurrence, d.cycles, used, account_service_id, account_package_id,
            starts_on, ends_on))
    return found


def _usage(session: Session, usage_ids: list[int], ids: list[int], bill_date: date) -> tuple[dict, dict, dict]:
    usage: dict[int, list[rating.UsageSpan]] = {}
    rollovers: dict[int, list[rating.Rollover]] = {}
    topups: dict[int, list[rating.TopUp]] = {}
    period_start = _months_back(bill_date, 1)
    if usage_ids:
        since = datetime(period_start.year, period_start.month, period_start.day, tzinfo=UTC)
        until = datetime(bill_date.year, bill_date.month, bill_date.day, tzinfo=UTC)
        for part in _chunks(usage_ids):
            rows = session.execute(
                select(_records.c.account_id, _records.c.started_at, _records.c.download_mb, _records.c.upload_mb)
                .where(_records.c.account_id.in_(part), _records.c.started_at >= since, _records.c.started_at < until)
                .order_by(_records.c.account_id, _records.c.started_at, _records.c.id))
            for account_id, started_at, down, up in rows:
                usage.setdefault(account_id, []).append(
                    rating.UsageSpan(_naive(started_at), down or 0, up or 0))
    rows = session.execute(
        select(_roll.c.id, _roll.c.account_id, _roll.c.mb_left, _roll.c.expires_on)
        .where(_roll.c.account_id.in_(ids), _roll.c.mb_left > 0, _roll.c.expires_on >= period_start)
        .order_by(_roll.c.account_id, _roll.c.expires_on, _roll.c.id))
    for r in rows:
        rollovers.setdefault(r.account_id, []).append(rating.Rollover(r.id, r.mb_left, r.expires_on))
    rows = session.execute(
        select(_topup.c.id, _topup.c.account_id, _topup.c.bought_on, _topup.c.mb, _topup.c.price)
        .where(_topup.c.account_id.in_(ids), _topup.c.invoiced == false())
        .order_by(_topup.c.account_id, _topup.c.bought_on, _topup.c.id))
    for r in rows:
        topups.setdefault(r.account_id, []).append(rating.TopUp(r.id, r.bought_on, r.mb, r.price))
    return usage, rollovers, topups


def _naive(value: datetime | str) -> datetime:
    if isinstance(value, str):  # a driver that hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
