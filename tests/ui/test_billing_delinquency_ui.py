"""Billing → Delinquency on the demo database: the panel lists who is behind and what happens
next, runs the daily checks on demand, and explains itself when nobody is behind."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.accounts.models import Account, AccountStatus
from app.billing import daily
from app.billing.models import (
    CHARGE,
    OPEN,
    BillingAccount,
    BillingSettings,
    Invoice,
    LedgerEntry,
)
from app.core.outbox import OutboxEvent
from app.ui.billing.delinquency import EMPTY_TITLE, DelinquencyModel, DelinquencyPanel

TODAY = date(2026, 11, 23)  # a Monday
NUMBERS = itertools.count(900101)
SHOTS = Path("/tmp/shots")


def _settle(qtbot, ctx) -> None:
    ctx.runner.wait()
    qtbot.wait(30)


def _status_ids(ctx) -> dict[str, int]:
    with ctx.uow() as u:
        return {s.name: s.id for s in u.session.scalars(select(AccountStatus))}


@pytest.fixture()
def billing(ctx):
    """The demo company's billing settings as the test wants them; returns active account ids
    with no invoices of their own, to be made overdue."""
    status = _status_ids(ctx)
    with ctx.uow() as u:
        account = u.session.scalar(select(Account).order_by(Account.id).limit(1))
        settings = u.session.scalar(select(BillingSettings).where(BillingSettings.company_id == account.company_id))
        if settings is None:
            settings = BillingSettings(company_id=account.company_id)
            u.session.add(settings)
        settings.grace_days, settings.status_switch_days, settings.late_fee_days = 7, 14, 5
        settings.delinquent_status_id, settings.switch_status_id = status["Delinquent"], status["Suspended"]
        settings.minimum_delinquent_balance, settings.check_weekdays = 100, "12345"
        settings.late_fee_kind, settings.late_fee_amount, settings.currency = "fixed", 2500, "USD"
        settings.excluded_account_type_ids = []
        invoiced = select(Invoice.account_id)
        ids = list(u.session.scalars(
            select(Account.id).where(Account.status_id == status["Active"], Account.company_id == account.company_id,
                                     Account.id.not_in(invoiced)).order_by(Account.id).limit(8)))
        u.commit()
    return ids


def _owe(ctx, account_id: int, total: int, due_on: date) -> None:
    with ctx.uow() as u:
        issued = due_on - timedelta(days=14)
        invoice = Invoice(number=str(next(NUMBERS)), account_id=account_id,
                          company_id=u.session.get(Account, account_id).company_id,
                          period_start=issued, period_end=issued + timedelta(days=29), issued_on=issued,
                          due_on=due_on, subtotal=total, total=total, status=OPEN)
        u.session.add(invoice)
        u.session.flush()
        u.session.add(LedgerEntry(account_id=account_id, kind=CHARGE, amount=total, posted_on=issued,
                                  invoice_id=invoice.id))
        if u.session.get(BillingAccount, account_id) is None:
            u.session.add(BillingAccount(account_id=account_id))
        u.commit()


def _panel(qtbot, ctx, today: date = TODAY) -> DelinquencyPanel:
    panel = DelinquencyPanel(ctx, today=lambda: today)
    qtbot.addWidget(panel)
    panel.resize(1180, 420)
    panel.show()
    _settle(qtbot, ctx)
    return panel


def _cells(panel: DelinquencyPanel, account_id: int) -> list[str]:
    row = panel.model.row_of(account_id)
    assert row >= 0, f"account {account_id} is not listed"
    return [panel.model.index(row, col).data() for col in range(panel.model.columnCount())]


def test_the_panel_lists_a_delinquent_account_with_its_next_step_and_when(qtbot, ctx, billing, qtmodeltester) -> None:
    suspended, delinquent, soon, overdue, small = billing[:5]
    _owe(ctx, suspended, 7900, date(2026, 10, 1))
    _owe(ctx, delinquent, 5000, date(2026, 11, 10))
    _owe(ctx, soon, 4500, date(2026, 11, 1))
    _owe(ctx, overdue, 6000, date(2026, 11, 20))
    _owe(ctx, small, 60, date(2026, 11, 15))
    # Delinquent on 10-09 and suspended on 10-23; delinquent on 11-09 (switches on 11-23, today)
    # and on 11-18 (with its late fee: 75.00; switches on 12-02).
    for day in (date(2026, 10, 9), date(2026, 10, 23), date(2026, 11, 9), date(2026, 11, 18)):
        daily.run_daily(ctx.uow, ctx.actor, day)
    panel = _panel(qtbot, ctx)
    cells = _cells(panel, delinquent)
    assert cells[2] == "75.00" and cells[4] == "2026-11-10" and cells[5] == "2026-11-18"
    assert cells[6] == "Delinquent" and cells[7] == "status switches to Suspended on 2026-12-02"
    assert _cells(panel, soon)[7] == "status switches to Suspended on 2026-11-23"
    assert _cells(panel, suspended)[6] == "Suspended"
    assert _cells(panel, overdue)[7] == "delinquent on 2026-11-30 if unpaid"
    assert _cells(panel, small)[7] == "not delinquent: balance at or below the 1.00 minimum"
    row = panel.model.row_of(delinquent)
    assert panel.model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fff3e0"
    suspended_row = panel.model.row_of(suspended)
    assert panel.model.index(suspended_row, 0).data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fdecea"
    behind = sum(1 for r in panel.rows if r.stage in ("delinquent", "switched"))
    assert behind >= 3 and panel.summary.text().startswith(f"{behind} delinquent · ")
    assert "will be suspended this week" in panel.summary.text()
    assert panel.stack.currentWidget() is panel.table
    qtmodeltester.check(panel.model)
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(SHOTS / "billing-delinquency.png"))


def test_run_checks_now_runs_the_daily_checks_for_today_and_shows_the_summary(qtbot, ctx, billing) -> None:
    owen = billing[0]
    _owe(ctx, owen, 5000, date(2026, 11, 10))
    panel = _panel(qtbot, ctx)
    assert _cells(panel, owen)[7] == "delinquent on 2026-11-23 if unpaid"
    with qtbot.waitSignal(panel.ran, timeout=10000, raising=True) as blocker:
        assert panel.run_checks() is True
    _settle(qtbot, ctx)
    assert blocker.args[0].delinquency.delinquent >= 1
    assert panel.result.text().startswith("Checks for 2026-11-23: ")
    assert "delinquency: " in panel.result.text() and "delinquent" in panel.result.text()
    assert _cells(panel, owen)[5] == "2026-11-23" and _cells(panel, owen)[6] == "Delinquent"
    assert panel.run_button.isEnabled() and panel.run_button.text() == "Run checks now"
    with ctx.uow() as u:
        kinds = list(u.session.scalars(select(OutboxEvent.kind).where(OutboxEvent.account_id == owen)))
    assert kinds == ["throttle"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(SHOTS / "billing-delinquency-after-run.png"))


def test_nobody_behind_shows_the_empty_state(qtbot, ctx) -> None:
    panel = _panel(qtbot, ctx)
    panel._fill(TODAY, [])
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.title.text() == EMPTY_TITLE == "Nobody is behind on payments"
    assert panel.summary.text() == ""
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(SHOTS / "billing-delinquency-empty.png"))


def test_the_model_passes_the_model_tester_empty(qtmodeltester) -> None:
    qtmodeltester.check(DelinquencyModel())
