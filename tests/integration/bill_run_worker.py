"""A bill-run process for the crash and concurrency tests, and the billing data they run on.

    python -m tests.integration.bill_run_worker URL --date YYYY-MM-DD [--worker NAME] [--chunk N]
        [--stall-after N --stall-file FILE]  after N committed chunks, stall inside the next
                              chunk's transaction (invoices posted and flushed, not committed),
                              writing FILE first, until the test kills the process
        [--ready FILE --go FILE]  write FILE when connected, then wait for GO before running

Prints the run's result as JSON on stdout (or {"refused": message} when another run holds
the lock, exit status 3).

``populate(db, accounts, seed)`` adds accounts with billing data to a database (empty, or the
demo's): a catalogue (internet tiers, TV, a phone line, a router rental, an expiring promo credit),
stacked taxes (one zoned), a percentage discount, two or three services per account starting on
different days (so stubs are prorated), some paper invoices, children rolled into their parent.
The same seed on two databases built the same way gives the same rows: the tests compare a run
that was killed and rerun with an uninterrupted one on such a twin. The benchmark uses it too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update

from app.accounts.models import Account, AccountStatus, AccountType
from app.addresses.models import ServiceableAddress
from app.billing import bill_run
from app.billing.models import (
    CREDIT_EXPIRING,
    DATA,
    GENERAL,
    RECURRING,
    VOICE,
    AccountDiscount,
    AccountService,
    BillingAccount,
    BillingSettings,
    Discount,
    Service,
    Tax,
    service_taxes,
)
from app.billing.subscriptions import on_or_after
from app.core.clock import utcnow
from app.core.db import Database, open_database
from app.core.permissions import Actor
from app.uow import UnitOfWork

RUN_DATE = date(2026, 3, 1)
FIRST_START = date(2025, 11, 1)  # services start between this and RUN_DATE - 1 day


FIRST_NAMES = ("Owen", "Maya", "Rita", "Leo", "Ana", "Sam", "Noor", "Ivan", "Zoe", "Hugo", "Ines", "Kai")
LAST_NAMES = ("White", "Green", "Moreno", "Tremblay", "Singh", "Chen", "Okafor", "Novak", "Silva", "Roy")
STATUS_MIX = (("Active", 0.84), ("Delinquent", 0.03), ("Inactive", 0.06), ("Lead", 0.04), ("Suspended", 0.03))


def populate(db: Database, accounts: int = 300, seed: int = 1, *, first_start: date = FIRST_START,
             last_start: date = RUN_DATE) -> dict[str, int]:
    """Add ``accounts`` accounts with billing data to ``db`` (see the module docstring) in bulk;
    returns counts. Their numbers start at 800001; services, taxes and the discount have names
    of their own, so this also works on a database that has a catalogue already (the demo's)."""
    rng = random.Random(seed)
    now = utcnow()
    with UnitOfWork(db) as u:
        s = u.session
        company_id = u.companies.default().id
        statuses = dict(s.execute(select(AccountStatus.name, AccountStatus.id)).all())
        residential = s.scalar(select(AccountType.id).where(AccountType.name == "Residential"))
        base = 800000 + int(s.scalar(select(func.count()).select_from(Account).where(Account.number.like("8%"))) or 0)

        addresses = s.execute(insert(ServiceableAddress.__table__).returning(ServiceableAddress.id), [
            {"parent_id": None, "building": "", "street": f"{10 + i} Harbour Road", "unit": "", "floor": None,
             "city": "Toronto" if i % 4 else "Ottawa", "region": "ON" if i % 5 else "QC", "postal_code": "M5V 2T6",
             "country": "CA", "serviceable_from": None, "match_key": f"bill-run-test|{seed}|{base}|{i}",
             "search_text": ""}
            for i in range(10)]).scalars().all()
        rows = []
        for i in range(accounts):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            status = rng.choices([n for n, _ in STATUS_MIX], [w for _, w in STATUS_MIX])[0]
            number = str(base + i + 1)
            disconnected = status == "Inactive" and rng.random() < 0.3
            rows.append({
                "number": number, "name": name, "account_type_id": residential, "status_id": statuses[status],
                "company_id": company_id, "parent_id": None, "address_id": rng.choice(addresses), "is_shell": False,
                "disconnected_on": date(2026, 1, 15) if disconnected else None,
                "disconnect_reason": "Moved out" if disconnected else "", "search_text": f"{name.lower()} {number}",
                "version": 1, "created_at": now, "updated_at": now, "updated_by_id": None})
        ids = s.execute(insert(Account.__table__).returning(Account.id, sort_by_parameter_order=True), rows) \
            .scalars().all()
        # About one in sixteen is a child of an earlier active account (half of them roll up into it).
        active = [n for n, r in enumerate(rows) if r["status_id"] == statuses["Active"]]
        children: list[tuple[int, int]] = []
        for n in range(accounts):
            if n > 10 and rng.random() < 0.06:
                candidates = [p for p in active[:64] if p < n] or [p for p in active if p < n]
                if candidates:
                    children.append((ids[n], ids[rng.choice(candidates)]))
        if children:
            s.execute(update(Account.__table__).where(Account.__table__.c.id == bindparam("_id"))
                      .values(parent_id=bindparam("_parent")), [{"_id": c, "_parent": p} for c, p in children])
        child_ids = {c for c, _ in children}

        settings = s.scalar(select(BillingSettings).where(BillingSettings.company_id == company_id))
        if settings is None:
            settings = BillingSettings(company_id=company_id)
            s.add(settings)
        settings.bill_day_mode, settings.bill_day, settings.due_days = "fixed", 1, 14
        settings.printed_invoice_fee, settings.invoice_message = 200, "Thank you for choosing us."
        tag = f"{base + 1}"
        hst = Tax(company_id=company_id, name=f"HST {tag}", kind="percent", rate=13000, zone={"region": "ON"},
                  position=90)
        gst = Tax(company_id=company_id, name=f"GST {tag}", kind="percent", rate=5000, position=91)
        s.add_all([hst, gst])
        s.flush()
        catalogue = [
            ("Net 100", DATA, 5500, (hst, gst), {}),
            ("Net 500", DATA, 7999, (hst, gst), {}),
            ("TV Starter", GENERAL, 2999, (hst,), {}),
            ("Home phone", VOICE, 1500, (hst, gst), {}),
            ("Modem rental", GENERAL, 500, (gst,), {"prorates": False}),
            ("Welcome credit", CREDIT_EXPIRING, 1000, (), {"expires_after_cycles": 3}),
        ]
        services = []
        for name, kind, price, taxes, extra in catalogue:
            service = Service(company_id=company_id, name=f"{name} ({tag})", kind=kind, price=price, **extra)
            s.add(service)
            s.flush()
            services.append(service)
            if taxes:
                s.execute(insert(service_taxes), [{"service_id": service.id, "tax_id": t.id} for t in taxes])
        bulk = Discount(company_id=company_id, name=f"Building bulk deal ({tag})", kind="percent", amount=10000,
                        service_id=services[0].id, recurrence=RECURRING)
        s.add(bulk)
        s.flush()

        days = (last_start - first_start).days
        lines: list[dict] = []
        profiles: list[dict] = []
        discounts: list[tuple[int, date]] = []  # (account id, starts on) of the bulk deal
        for account_id in ids:
            internet = services[0] if rng.random() < 0.7 else services[1]
            chosen = [internet] + rng.sample(services[2:], rng.choice((1, 2)))
            start = first_start + timedelta(days=rng.randrange(days))
            for service in chosen:
                lines.append({
                    "account_id": account_id, "service_id": service.id, "account_package_id": None, "quantity": 1,
                    "price_override": None, "override_reason": "", "starts_on": start, "ends_on": None,
                    "billed_through": None, "cycles_billed": 0, "created_at": now})
            if internet is services[0] and rng.random() < 0.4:
                discounts.append((account_id, start))
            profiles.append({
                "account_id": account_id, "bill_day": None, "next_bill_on": on_or_after(start, 1), "tax_exempt": False,
                "exemption_certificate": "", "paper_invoice": rng.random() < 0.1,
                "roll_up_to_parent": account_id in child_ids and rng.random() < 0.5,
                "delinquency_excluded": False, "delinquent_since": None, "status_switched_on": None,
                "status_before_delinquency_id": None, "version": 1, "created_at": now, "updated_at": now,
                "updated_by_id": None})
        s.execute(insert(AccountService.__table__), lines)
        s.execute(insert(BillingAccount.__table__), profiles)
        if discounts:
            internet_lines = dict(s.execute(
                select(AccountService.account_id, AccountService.id)
                .where(AccountService.service_id == services[0].id)).all())
            s.execute(insert(AccountDiscount.__table__), [
                {"account_id": account_id, "discount_id": bulk.id, "account_service_id": internet_lines[account_id],
                 "account_package_id": None, "starts_on": start, "ends_on": None, "cycles_used": 0}
                for account_id, start in discounts])
        u.commit()
    return {"accounts": len(ids), "services": len(lines), "discounts": len(discounts), "children": len(children)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--date", type=date.fromisoformat, default=RUN_DATE)
    p.add_argument("--worker")
    p.add_argument("--chunk", type=int, default=bill_run.CHUNK)
    p.add_argument("--ready", type=Path)
    p.add_argument("--go", type=Path)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--stall-file", type=Path)
    args = p.parse_args()

    db = open_database(args.url)
    if args.ready:
        args.ready.write_text("ready")
    if args.go:
        while not args.go.exists():
            time.sleep(0.005)

    def before_commit(chunk_no: int) -> None:
        if args.stall_after is not None and chunk_no == args.stall_after:
            args.stall_file.write_text("stalled")
            time.sleep(600)  # inside the chunk's transaction until killed

    try:
        result = bill_run.run(lambda: UnitOfWork(db), Actor.system("worker"), args.date, worker=args.worker,
                              chunk_size=args.chunk, before_commit=before_commit)
    except bill_run.BillRunInProgress as exc:
        print(json.dumps({"refused": str(exc)}))
        return 3
    finally:
        db.dispose()
    print(json.dumps({"id": result.id, "state": result.state, "invoices": result.invoices, "total": result.total,
                      "skipped": result.skipped, "failures": len(result.failures)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
