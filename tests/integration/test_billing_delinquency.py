"""Late fees and delinquency: charged once, on the right day; delinquent after the grace days,
switched after the switch days, restored by a payment; never on a day without checks.

Every test runs on SQLite and PostgreSQL, except the race of two desktops (PostgreSQL only).
Invoices and ledger entries are made directly with the ORM: the invoicing and payment services
are written elsewhere. The company's settings throughout (unless a test changes them): due
invoices get a 25.00 late fee 5 days after the due date; 7 grace days, then delinquent (status
Delinquent) if the balance is over 1.00; 14 days later the status switches to Suspended; checks
on weekdays only.

The calendar: 2026-11-10 is a Tuesday; 11-14/15, 11-21/22, 11-28/29 and 12-05/06 are weekends.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.accounts.history import account_history
from app.accounts.models import Account
from app.billing import daily
from app.billing import delinquency as dq
from app.billing.models import (
    CHARGE,
    LATE_FEE,
    OPEN,
    PAID,
    PAYMENT,
    BillingAccount,
    BillingSettings,
    DelinquencyExclusion,
    Invoice,
    LedgerEntry,
)
from app.companies.models import Company
from app.core.audit import AuditEntry
from app.core.db import Database, open_database
from app.core.errors import PermissionDenied
from app.core.outbox import OutboxEvent
from app.core.permissions import BUILTIN_ROLES, Actor
from app.uow import UnitOfWork

DUE = date(2026, 11, 10)  # Tuesday
NUMBERS = itertools.count(100123)
DQ_ACTIONS = (dq.DELINQUENT_ACTION, dq.SWITCHED_ACTION, dq.CLEARED_ACTION)


# -- the world ---------------------------------------------------------------------------------

class World:
    """The default company with billing settings, its statuses and types, and helpers that make
    accounts, invoices and payments the way the other billing services will."""

    def __init__(self, uow, actor: Actor) -> None:
        self.uow, self.actor = uow, actor
        choices = accounts.lookups(uow(), actor)
        self.status = {s.name: s.id for s in choices.statuses}
        self.type = {t.name: t.id for t in choices.types}
        with uow() as u:
            self.company_id = u.session.scalar(select(Company.id).order_by(Company.id).limit(1))
            u.session.add(BillingSettings(
                company_id=self.company_id, grace_days=7, status_switch_days=14,
                delinquent_status_id=self.status["Delinquent"], switch_status_id=self.status["Suspended"],
                minimum_delinquent_balance=100, late_fee_kind="fixed", late_fee_amount=2500,
                late_fee_minimum=0, late_fee_days=5, check_weekdays="12345", currency="USD"))
            u.commit()

    def settings(self, **values: object) -> None:
        with self.uow() as u:
            row = u.session.scalar(select(BillingSettings).where(BillingSettings.company_id == self.company_id))
            for key, value in values.items():
                setattr(row, key, value)
            u.commit()

    def exclusion(self, month: int, day: int, name: str, year: int | None = None) -> None:
        with self.uow() as u:
            u.session.add(DelinquencyExclusion(company_id=self.company_id, year=year, month=month, day=day, name=name))
            u.commit()

    def account(self, name: str, type_name: str = "Residential", status: str = "Active", *,
                excluded: bool = False) -> int:
        row = accounts.create_account(self.uow(), self.actor, accounts.NewAccount(
            name=name, type_id=self.type[type_name], status_id=self.status[status]))
        with self.uow() as u:
            u.session.add(BillingAccount(account_id=row.id, delinquency_excluded=excluded))
            u.commit()
        return row.id

    def invoice(self, account_id: int, total: int, due_on: date = DUE, paid: int = 0) -> int:
        """An issued invoice and its charge in the ledger (and any part already paid)."""
        with self.uow() as u:
            issued = due_on - timedelta(days=14)
            invoice = Invoice(
                number=str(next(NUMBERS)), account_id=account_id, company_id=self.company_id,
                period_start=issued, period_end=issued + timedelta(days=29), issued_on=issued, due_on=due_on,
                subtotal=total, total=total, paid=paid, status=OPEN)
            u.session.add(invoice)
            u.session.flush()
            u.session.add(LedgerEntry(account_id=account_id, kind=CHARGE, amount=total, posted_on=issued,
                                      invoice_id=invoice.id, description=f"Invoice {invoice.number}"))
            if paid:
                u.session.add(LedgerEntry(account_id=account_id, kind=PAYMENT, amount=-paid, posted_on=issued))
            u.commit()
            return invoice.id

    def pay_in_full(self, account_id: int, today: date) -> bool:
        """What take_payment will do: a PAYMENT entry for the whole balance, the open invoices
        marked paid, then ``after_payment`` in the same transaction."""
        with self.uow() as u:
            balance = u.delinquency.balance(account_id)
            u.session.add(LedgerEntry(account_id=account_id, kind=PAYMENT, amount=-balance, posted_on=today))
            for invoice in u.session.scalars(select(Invoice).where(Invoice.account_id == account_id)):
                invoice.paid, invoice.status = invoice.total, PAID
            restored = dq.after_payment(u, self.actor, account_id, today)
            u.commit()
            return restored

    def daily(self, today: date) -> daily.DailyResult:
        return daily.run_daily(self.uow, self.actor, today)

    def check(self, today: date) -> dq.DelinquencyResult:
        return dq.run_delinquency(self.uow, self.actor, today)

    def fees(self, today: date) -> dq.LateFeeResult:
        return dq.apply_late_fees(self.uow, self.actor, today)

    # -- reading back --------------------------------------------------------------------------
    def state(self, account_id: int) -> tuple[str, date | None, date | None]:
        """(status name, delinquent since, status switched on)."""
        with self.uow() as u:
            account = u.session.get(Account, account_id)
            billing = u.session.get(BillingAccount, account_id)
            return account.status.name, billing.delinquent_since, billing.status_switched_on

    def events(self, account_id: int) -> list[str]:
        with self.uow() as u:
            return [e.kind for e in u.delinquency.events(account_id)]

    def event_payloads(self, account_id: int) -> list[dict]:
        with self.uow() as u:
            return [dict(e.payload) for e in u.delinquency.events(account_id)]

    def trail(self, account_id: int, actions: tuple[str, ...] = DQ_ACTIONS) -> list[str]:
        with self.uow() as u:
            return list(u.session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity == "account",
                                                AuditEntry.entity_id == str(account_id),
                                                AuditEntry.action.in_(actions)).order_by(AuditEntry.id)))

    def late_fees(self, account_id: int | None = None) -> list[int]:
        with self.uow() as u:
            stmt = select(LedgerEntry.amount).where(LedgerEntry.kind == LATE_FEE).order_by(LedgerEntry.id)
            if account_id is not None:
                stmt = stmt.where(LedgerEntry.account_id == account_id)
            return list(u.session.scalars(stmt))

    def history(self, account_id: int) -> list[tuple[str, str]]:
        """(heading, text) of the account's History tab, oldest first."""
        return [(r.action, r.text) for r in reversed(account_history(self.uow(), self.actor, account_id))]


@pytest.fixture()
def world(uow, admin) -> World:
    return World(uow, admin)


# -- late fees ---------------------------------------------------------------------------------

def test_a_fixed_late_fee_is_charged_late_fee_days_after_the_due_date_and_not_a_day_before(world) -> None:
    owen = world.account("Owen White")
    invoice_id = world.invoice(owen, 5000)
    assert world.fees(DUE + timedelta(days=4)).applied == 0
    result = world.fees(DUE + timedelta(days=5))
    assert result.applied == 1 and result.summary == "1 late fee, 25.00"
    assert world.late_fees(owen) == [2500]
    with world.uow() as u:
        invoice = u.session.get(Invoice, invoice_id)
        fee = u.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == LATE_FEE))
        assert invoice.late_fee_applied_on == DUE + timedelta(days=5)
        assert (fee.invoice_id, fee.posted_on, fee.account_id) == (invoice_id, DUE + timedelta(days=5), owen)
        assert u.delinquency.balance(owen) == 7500
        number = invoice.number
    assert ("Late fee", f"Late fee 25.00 on invoice {number}") in world.history(owen)


def test_a_late_fee_joins_its_invoice_and_a_void_of_the_invoice_takes_the_fee_back_too(world) -> None:
    from app.billing import invoicing

    owen = world.account("Owen White")
    invoice_id = world.invoice(owen, 10000)
    world.fees(DUE + timedelta(days=5))  # 25.00
    with world.uow() as u:
        invoice = u.session.get(Invoice, invoice_id)
        assert invoice.total == 12500 and u.delinquency.balance(owen) == 12500
    invoicing.void_invoice(world.uow(), world.actor, invoice_id, "billed in error", DUE + timedelta(days=6))
    with world.uow() as u:
        # Nothing is owed that no invoice carries: the charge and the fee were both reversed.
        assert u.delinquency.balance(owen) == 0
        kinds = list(u.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.account_id == owen)
                                       .order_by(LedgerEntry.id)))
        assert kinds == [CHARGE, LATE_FEE, "reversal", "reversal"]


def test_a_late_fee_is_charged_once_however_often_the_run_is_repeated(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    for day in range(5, 12):
        world.fees(DUE + timedelta(days=day))
    world.fees(DUE + timedelta(days=11))
    assert world.late_fees(owen) == [2500]
    assert world.trail(owen, (dq.LATE_FEE_ACTION,)) == [dq.LATE_FEE_ACTION]


def test_a_percentage_late_fee_rounds_half_even_on_the_balance_due_and_never_goes_below_the_minimum(world) -> None:
    world.settings(late_fee_kind="percent", late_fee_amount=1500, late_fee_minimum=100)  # 1.5 %, at least 1.00
    halves_down, halves_up, small = (world.account(n) for n in ("Ada Li", "Ben Ode", "Cy Young"))
    world.invoice(halves_down, 10300)  # 1.5 % of 103.00 = 1.545 → 1.54 (half-even: 4 is even)
    world.invoice(halves_up, 15000, paid=4900)  # balance due 101.00: 1.515 → 1.52 (half-even: 2 is even)
    world.invoice(small, 5000)  # 0.75 → the 1.00 minimum
    result = world.fees(DUE + timedelta(days=5))
    assert (world.late_fees(halves_down), world.late_fees(halves_up), world.late_fees(small)) == ([154], [152], [100])
    assert result.summary == "3 late fees, 4.06"


def test_no_late_fee_on_a_paid_invoice_or_when_the_company_charges_none(world) -> None:
    owen, maya = world.account("Owen White"), world.account("Maya Green")
    world.invoice(owen, 5000, paid=5000)
    world.invoice(maya, 5000)
    world.settings(late_fee_kind="none")
    assert world.fees(DUE + timedelta(days=9)).applied == 0
    world.settings(late_fee_kind="fixed")
    assert world.fees(DUE + timedelta(days=9)).applied == 1
    assert world.late_fees() == [2500] and world.late_fees(maya) == [2500]


# -- becoming delinquent -----------------------------------------------------------------------

def test_an_account_becomes_delinquent_the_day_after_its_grace_days_with_a_balance_over_the_minimum(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    assert world.check(DUE + timedelta(days=7)).delinquent == 0  # the last grace day
    assert world.state(owen) == ("Active", None, None)
    result = world.check(DUE + timedelta(days=8))
    assert (result.delinquent, result.summary) == (1, "1 delinquent")
    assert world.state(owen) == ("Delinquent", DUE + timedelta(days=8), None)
    with world.uow() as u:
        assert u.session.get(BillingAccount, owen).status_before_delinquency_id == world.status["Active"]
    assert world.events(owen) == ["throttle"]
    assert "unpaid after 7 grace days" in world.event_payloads(owen)[0]["reason"]
    assert world.check(DUE + timedelta(days=9)).delinquent == 0  # once
    assert world.events(owen) == ["throttle"]


def test_a_balance_at_the_minimum_is_not_delinquent_and_one_cent_over_is(world) -> None:
    at, over = world.account("At Minimum"), world.account("Over Minimum")
    world.invoice(at, 100)
    world.invoice(over, 101)
    world.check(DUE + timedelta(days=8))
    assert world.state(at)[1] is None
    assert world.state(over)[1] == DUE + timedelta(days=8)
    assert world.events(at) == [] and world.events(over) == ["throttle"]


def test_an_excluded_account_and_an_account_of_an_excluded_type_are_never_delinquent(world) -> None:
    excluded = world.account("Excluded Tenant", excluded=True)
    owner = world.account("Building Owner Ltd", "Building owner")
    plain = world.account("Plain Tenant")
    world.settings(excluded_account_type_ids=[world.type["Building owner"]])
    for account_id in (excluded, owner, plain):
        world.invoice(account_id, 5000)
    assert world.check(DUE + timedelta(days=8)).delinquent == 1
    assert world.state(excluded) == ("Active", None, None) and world.state(owner) == ("Active", None, None)
    assert world.state(plain)[0] == "Delinquent"
    assert world.events(excluded) == [] and world.events(owner) == []


def test_late_fees_go_first_so_a_fee_can_lift_the_balance_over_the_minimum_the_same_day(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 90)  # under the 1.00 minimum until the 25.00 fee
    result = world.daily(DUE + timedelta(days=8))
    assert result.late_fees.applied == 1 and result.delinquency.delinquent == 1
    assert result.summary == "1 late fee, 25.00 · delinquency: 1 delinquent"
    assert world.state(owen)[0] == "Delinquent"


# -- the status switch -------------------------------------------------------------------------

def test_the_status_switches_to_suspended_status_switch_days_after_delinquency_and_the_network_disconnects(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    since = DUE + timedelta(days=8)  # Wednesday 11-18
    world.check(since)
    assert world.check(since + timedelta(days=13)).switched == 0
    assert world.state(owen) == ("Delinquent", since, None)
    result = world.check(since + timedelta(days=14))  # Wednesday 12-02
    assert result.switched == 1 and result.summary == "1 status switched"
    assert world.state(owen) == ("Suspended", since, since + timedelta(days=14))
    assert world.events(owen) == ["throttle", "disconnect"]
    world.check(since + timedelta(days=15))
    assert world.events(owen) == ["throttle", "disconnect"]
    with world.uow() as u:  # the status it had before delinquency is still kept for the restore
        assert u.session.get(BillingAccount, owen).status_before_delinquency_id == world.status["Active"]


def test_without_a_delinquent_status_the_account_keeps_its_status_but_is_still_throttled(world) -> None:
    world.settings(delinquent_status_id=None)
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.check(DUE + timedelta(days=8))
    assert world.state(owen) == ("Active", DUE + timedelta(days=8), None)
    assert world.events(owen) == ["throttle"]
    headings = dict(world.history(owen))
    assert "status stays Active; network access throttled." in headings["Delinquent"]


# -- days without checks -----------------------------------------------------------------------

def test_no_check_runs_on_a_weekday_that_is_not_enabled(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000, due_on=date(2026, 11, 13))  # past grace from Saturday 11-21
    result = world.check(date(2026, 11, 21))
    assert (result.ran, result.summary) == (False, "skipped: Saturday is not a check day")
    assert world.check(date(2026, 11, 22)).summary == "skipped: Sunday is not a check day"
    assert world.state(owen) == ("Active", None, None) and world.events(owen) == []
    assert world.check(date(2026, 11, 23)).delinquent == 1  # Monday
    assert world.state(owen)[1] == date(2026, 11, 23)


def test_a_yearly_exclusion_date_skips_the_check_every_year(world) -> None:
    world.exclusion(12, 25, "Christmas")  # no year: every year
    world.exclusion(12, 24, "Office party", year=2026)  # only in 2026
    owen = world.account("Owen White")
    world.invoice(owen, 5000, due_on=date(2026, 12, 1))
    assert world.check(date(2026, 12, 24)).summary == "skipped: Office party"
    assert world.check(date(2026, 12, 25)).summary == "skipped: Christmas"  # a Friday
    assert world.check(date(2028, 12, 25)).summary == "skipped: Christmas"  # a Monday, two years on
    assert world.state(owen) == ("Active", None, None)
    assert world.check(date(2027, 12, 24)).delinquent == 1  # the 2026 party does not repeat


def test_a_status_switch_due_on_a_day_without_checks_waits_for_the_next_check_day(world) -> None:
    world.settings(status_switch_days=17)
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.check(date(2026, 11, 18))
    assert world.check(date(2026, 12, 5)).summary == "skipped: Saturday is not a check day"
    assert world.state(owen)[2] is None
    assert world.check(date(2026, 12, 7)).switched == 1
    assert world.state(owen)[2] == date(2026, 12, 7)


# -- restored ----------------------------------------------------------------------------------

def test_a_payment_restores_the_previous_status_and_every_change_is_in_the_outbox_and_the_history(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    since = DUE + timedelta(days=8)
    world.daily(since)  # the late fee (25.00) and delinquency
    world.daily(since + timedelta(days=14))  # suspended
    assert world.state(owen)[0] == "Suspended"
    assert world.pay_in_full(owen, date(2026, 12, 5)) is True  # a Saturday: paying restores any day
    assert world.state(owen) == ("Active", None, None)
    assert world.events(owen) == ["throttle", "disconnect", "restore"]
    assert world.trail(owen) == ["delinquent", "status switched", "delinquency cleared"]
    history = [h for h in world.history(owen) if h[0] in ("Late fee", "Delinquent", "Status switched",
                                                          "Delinquency cleared")]
    assert [h[0] for h in history] == ["Late fee", "Delinquent", "Status switched", "Delinquency cleared"]
    texts = [h[1] for h in history]
    assert texts[1].endswith("unpaid after 7 grace days; balance 75.00: status Active → Delinquent; "
                             "network access throttled.")
    assert texts[2] == ("Delinquent for 14 days (since 2026-11-18): status Delinquent → Suspended; "
                        "network access cut.")
    assert texts[3] == "No invoice past due any more: status Suspended → Active; network access restored."
    assert world.pay_in_full(owen, date(2026, 12, 5)) is False  # nothing left to restore
    assert world.events(owen) == ["throttle", "disconnect", "restore"]


def test_a_partial_payment_that_leaves_the_balance_over_the_minimum_restores_nothing(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.invoice(owen, 5000, due_on=DUE - timedelta(days=30))
    world.check(DUE + timedelta(days=8))
    with world.uow() as u:
        u.session.add(LedgerEntry(account_id=owen, kind=PAYMENT, amount=-5000, posted_on=DUE + timedelta(days=9)))
        older = u.delinquency.oldest_open_invoice(owen)
        older.paid, older.status = older.total, PAID
        assert dq.after_payment(u, world.actor, owen, DUE + timedelta(days=9)) is False
        u.commit()
    assert world.state(owen)[0] == "Delinquent" and world.events(owen) == ["throttle"]


def test_the_daily_check_restores_an_account_cleared_by_a_credit_even_on_a_day_without_checks(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.check(DUE + timedelta(days=8))
    with world.uow() as u:  # a credit note, not a payment: no after_payment
        u.session.add(LedgerEntry(account_id=owen, kind="credit", amount=-4950, posted_on=DUE + timedelta(days=10)))
        u.commit()
    result = world.check(date(2026, 11, 21))  # Saturday
    assert result.summary == "skipped: Saturday is not a check day (1 restored)"
    assert world.state(owen) == ("Active", None, None)
    assert world.events(owen) == ["throttle", "restore"]
    assert world.history(owen)[-1] == (
        "Delinquency cleared",
        "Balance 0.50 is at or below the 1.00 minimum: status Delinquent → Active; network access restored.")


def test_a_status_changed_by_hand_while_delinquent_is_left_as_it_is_on_restore(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.check(DUE + timedelta(days=8))
    with world.uow() as u:
        u.session.get(Account, owen).status_id = world.status["Inactive"]
        u.commit()
    world.pay_in_full(owen, DUE + timedelta(days=9))
    assert world.state(owen) == ("Inactive", None, None)
    assert world.events(owen) == ["throttle", "restore"]
    assert "status stays Inactive (changed by hand meanwhile)" in world.history(owen)[-1][1]


def test_excluding_a_delinquent_account_restores_it_at_the_next_check(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    world.check(DUE + timedelta(days=8))
    with world.uow() as u:
        u.session.get(BillingAccount, owen).delinquency_excluded = True
        u.commit()
    assert world.check(DUE + timedelta(days=9)).restored == 1
    assert world.state(owen) == ("Active", None, None)


# -- what happens next -------------------------------------------------------------------------

def test_the_overview_says_what_happens_next_and_when_honouring_the_days_without_checks(world) -> None:
    world.settings(status_switch_days=17)  # 11-18 + 17 = Saturday 12-05 → Monday 12-07
    delinquent, overdue, small = world.account("Owen White"), world.account("Maya Green"), world.account("Al Small")
    world.invoice(delinquent, 5000)
    world.invoice(overdue, 4000, due_on=date(2026, 11, 22))  # past grace from Monday 11-30
    world.invoice(small, 80, due_on=date(2026, 11, 12))
    world.check(date(2026, 11, 18))
    world.invoice(world.account("Not Due Yet"), 5000, due_on=date(2026, 12, 20))
    rows = dq.delinquency_overview(world.uow(), world.actor, date(2026, 11, 23))
    assert [(r.name, r.stage, r.next_step) for r in rows] == [
        ("Owen White", "delinquent", "status switches to Suspended on 2026-12-07"),
        ("Maya Green", "overdue", "delinquent on 2026-11-30 if unpaid"),
        ("Al Small", "exempt", "not delinquent: balance at or below the 1.00 minimum"),
    ]
    owen = rows[0]
    assert (owen.balance, owen.delinquent_since, owen.status, owen.invoice_due_on) == (
        5000, date(2026, 11, 18), "Delinquent", DUE)
    assert owen.next_on == date(2026, 12, 7) and owen.next_kind == dq.NEXT_SWITCH
    assert dq.overview_counts(rows, date(2026, 12, 1)) == "1 delinquent · 1 will be suspended this week · 1 overdue"
    assert dq.overview_counts(rows, date(2026, 11, 23)) == "1 delinquent · 1 overdue"


def test_upcoming_dates_show_the_next_late_fee_delinquency_and_status_switch(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    dates = dq.upcoming_dates(world.uow(), world.actor, owen, date(2026, 11, 1))
    assert (dates.late_fee_on, dates.delinquent_on, dates.status_switch_on) == (
        date(2026, 11, 15), date(2026, 11, 18), date(2026, 12, 2))
    assert dates.delinquent_since is None and dates.switch_status == "Suspended"
    world.daily(date(2026, 11, 18))
    dates = dq.upcoming_dates(world.uow(), world.actor, owen, date(2026, 11, 19))
    assert (dates.late_fee_on, dates.delinquent_on, dates.delinquent_since, dates.status_switch_on) == (
        None, None, date(2026, 11, 18), date(2026, 12, 2))
    nobody = world.account("Paid Up")
    assert dq.upcoming_dates(world.uow(), world.actor, nobody, date(2026, 11, 19)) == dq.UpcomingDates(
        None, "", None, None, None, None, "Suspended")


def test_due_for_today_counts_what_a_run_would_do_and_changes_nothing(world) -> None:
    owen = world.account("Owen White")
    world.invoice(owen, 5000)
    preview = daily.due_for_today(world.uow(), world.actor, DUE + timedelta(days=8))
    assert (preview.late_fees, preview.to_delinquent, preview.to_switch, preview.skipped) == (1, 1, 0, "")
    assert world.late_fees() == [] and world.state(owen)[1] is None
    assert daily.due_for_today(world.uow(), world.actor, date(2026, 11, 21)).skipped == "Saturday is not a check day"


def test_running_the_checks_needs_the_billing_run_permission(world) -> None:
    sam = Actor(None, "sam", "Support", BUILTIN_ROLES["Support"][1])
    with pytest.raises(PermissionDenied):
        daily.run_daily(world.uow, sam, DUE)
    assert dq.delinquency_overview(world.uow(), sam, DUE) == []


# -- two desktops at once ----------------------------------------------------------------------

@pytest.fixture()
def desks(pg_url: str) -> Iterator[list[Database]]:
    opened = [open_database(pg_url) for _ in range(3)]
    yield opened
    for database in opened:
        database.dispose()


@pytest.mark.postgres
def test_two_desktops_charging_late_fees_and_checking_at_once_charge_and_throttle_each_once(desks) -> None:
    home, *racers = desks
    world = World(lambda: UnitOfWork(home), Actor.system("tests"))
    ids = [world.account(f"Tenant {n:02d}") for n in range(12)]
    for account_id in ids:
        world.invoice(account_id, 5000)
        world.invoice(account_id, 3000, due_on=DUE - timedelta(days=31))
    barrier = threading.Barrier(len(racers))

    def run(desk: Database) -> daily.DailyResult:
        barrier.wait(timeout=10)
        return daily.run_daily(lambda: UnitOfWork(desk), Actor.system(f"desk {id(desk)}"), DUE + timedelta(days=8))

    with ThreadPoolExecutor(len(racers)) as pool:
        results = list(pool.map(run, racers))
    assert sum(r.late_fees.applied for r in results) == 24
    assert sum(r.delinquency.delinquent for r in results) == 12
    assert [r.errors for r in results] == [(), ()]  # they took turns: nobody tripped over a stale row
    assert len(world.late_fees()) == 24
    with world.uow() as u:
        throttles = u.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.kind == "throttle"))
        assert throttles == 12
    assert all(world.state(a)[0] == "Delinquent" for a in ids)
