"""Billing → Payments driven like the desk would: take a payment in the dialog (with its inline
refusals), enter a deposit of three payments in the batch grid (Enter moves down a row, the
total runs, a bad line is named and nothing is saved), reverse a payment. Screenshots go to
/tmp/shots (billing-payments.png, take-payment.png, batch-payments.png)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import select

from app.accounts.models import Account
from app.billing import invoicing, ledger, payments, rating
from app.billing.ledger_repository import PaymentQuery
from app.ui.billing.payments import (
    ACCOUNT_COL,
    BatchPaymentsDialog,
    PaymentsPanel,
    TakePaymentDialog,
)

SHOTS = Path("/tmp/shots")
PERIOD = date(2031, 1, 1)  # far from any demo invoice


def _settle(qtbot, ctx) -> None:
    ctx.runner.wait()
    qtbot.wait(30)
    ctx.runner.wait()
    qtbot.wait(20)


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))


def _accounts(ctx, n: int) -> list[Account]:
    with ctx.uow() as u:
        rows = list(u.session.scalars(select(Account).where(Account.is_shell.is_(False))
                                      .order_by(Account.id).limit(n)))
        u.session.expunge_all()
        return rows


def _invoice(ctx, account: Account, amount: int, period: date = PERIOD) -> int:
    end = period + timedelta(days=30)
    line = rating.DraftLine("service", "Fibre 500", amount, unit_amount=amount, period_start=period, period_end=end)
    draft = rating.Draft(account.id, period, end, (line,), amount, 0, amount)
    with ctx.uow() as u:
        invoice_id = invoicing.post_invoice(u, ctx.actor, draft, company_id=account.company_id, issued_on=period,
                                            due_on=period + timedelta(days=14),
                                            currency=u.ledger.currency(account.company_id))
        u.commit()
    return invoice_id


@pytest.fixture()
def panel(qtbot, ctx):
    widget = PaymentsPanel(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 560)
    widget.show()
    _settle(qtbot, ctx)
    return widget


def test_a_payment_taken_in_the_dialog_pays_the_oldest_invoice_and_refusals_show_under_their_field(
        qtbot, ctx, panel) -> None:
    account = _accounts(ctx, 1)[0]
    older = _invoice(ctx, account, 6000, PERIOD)
    newer = _invoice(ctx, account, 4500, date(2031, 2, 1))
    balance_before = ledger.balance(ctx.uow(), ctx.actor, account.id)

    dialog = panel.take_payment()
    assert isinstance(dialog, TakePaymentDialog) and dialog.isVisible()
    dialog.account.number.setText(account.number)
    dialog.account.look_up()
    _settle(qtbot, ctx)
    assert dialog.summary is not None and dialog.summary.account_id == account.id
    numbers = [dialog.invoices.item(r, 0).text() for r in range(dialog.invoices.rowCount())]
    assert numbers[-2:] == [invoicing.get_invoice(ctx.uow(), ctx.actor, i).row.number for i in (older, newer)]
    assert account.name in dialog.account.info.text()

    # A card number as the reference: refused under the reference, the dialog stays open.
    dialog.method.setCurrentIndex(dialog.method.findData("card"))
    dialog.amount.clear()
    QTest.keyClicks(dialog.amount, "80.00")
    QTest.keyClicks(dialog.reference, "4111 1111 1111 1111")
    dialog.save_button.click()
    _settle(qtbot, ctx)
    assert dialog.isVisible() and "never store card numbers" in dialog.reference_error.text()
    assert dialog.reference_error.isVisible()

    # A check without its number, then too many decimals.
    dialog.method.setCurrentIndex(dialog.method.findData("check"))
    dialog.reference.clear()
    dialog.save_button.click()
    _settle(qtbot, ctx)
    assert dialog.reference_error.text() == "Enter the check number."
    dialog.amount.setText("80.001")
    dialog.save_button.click()
    assert "has more decimals than" in dialog.amount_error.text()

    dialog.amount.setText("80.00")
    assert not dialog.amount_error.isVisible()  # corrected: the message goes
    QTest.keyClicks(dialog.reference, "1042")
    dialog.resize(660, dialog.sizeHint().height())
    _shot(dialog, "take-payment.png")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    _settle(qtbot, ctx)

    assert ledger.balance(ctx.uow(), ctx.actor, account.id) == balance_before - 8000
    assert invoicing.get_invoice(ctx.uow(), ctx.actor, older).row.status == "paid"
    assert invoicing.get_invoice(ctx.uow(), ctx.actor, newer).row.paid == 2000
    assert "Payment of 80.00" in panel.notice.text() and panel.notice.isVisible()
    first = panel.model.row(0)
    assert first is not None and first.reference == "1042" and first.amount == 8000
    _shot(panel, "billing-payments.png")


def test_the_dialog_opened_for_an_account_shows_it_without_asking_for_its_number(qtbot, ctx) -> None:
    account = _accounts(ctx, 1)[0]
    _invoice(ctx, account, 3000)
    dialog = TakePaymentDialog(ctx, account.id)
    qtbot.addWidget(dialog)
    dialog.show()
    _settle(qtbot, ctx)
    assert dialog.account.number.isReadOnly() and dialog.account.number.text() == account.number
    assert dialog.amount.text() != ""  # what is owed, pre-filled


def test_a_deposit_of_three_lines_is_saved_at_once_after_a_bad_line_is_named_and_nothing_saved(
        qtbot, ctx, panel) -> None:
    a, b, c = _accounts(ctx, 3)
    _invoice(ctx, a, 5000)
    before = len(payments.list_payments(ctx.uow(), ctx.actor, PaymentQuery(), limit=10_000))

    dialog = panel.batch_entry()
    assert isinstance(dialog, BatchPaymentsDialog)
    grid = dialog.grid
    # Typing: the account number, Enter goes to the next row.
    grid.setCurrentCell(0, ACCOUNT_COL)
    grid.editItem(grid.item(0, ACCOUNT_COL))
    qtbot.wait(10)
    QTest.keyClicks(grid.viewport().focusWidget() or grid, a.number)
    QTest.keyClick(grid.viewport().focusWidget() or grid, Qt.Key.Key_Return)
    qtbot.wait(30)
    assert grid.text(0, ACCOUNT_COL) == a.number and grid.currentRow() == 1

    grid.set_line(0, a.number, "check", "2001", "50.00")
    grid.set_line(1, "999999", "check", "2002", "25.50")  # no such account
    grid.set_line(2, c.number, "cash", "", "10.00")
    _settle(qtbot, ctx)
    assert "3 payments" in dialog.total.text() and dialog.running_total() == 8550
    assert grid.text(1, 1) == "no such account"
    assert grid.text(0, 1) == a.name

    dialog.save_button.click()
    _settle(qtbot, ctx)
    assert dialog.isVisible()
    assert "line 2: no account has the number 999999" in dialog.error.text()
    assert "Nothing was saved" in dialog.error.text() and grid.currentRow() == 1
    assert len(payments.list_payments(ctx.uow(), ctx.actor, PaymentQuery(), limit=10_000)) == before

    grid.set_line(1, b.number, "check", "2002", "25.50")
    assert dialog.error.text() == ""  # the line is being corrected: its message and highlight go
    dialog.reference.setText("Deposit 12")
    _settle(qtbot, ctx)
    _shot(dialog, "batch-payments.png")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    _settle(qtbot, ctx)

    rows = payments.list_payments(ctx.uow(), ctx.actor, PaymentQuery(), limit=10_000)
    assert len(rows) == before + 3
    batch_id = rows[0].batch_id
    slip = payments.deposit_slip(ctx.uow(), ctx.actor, batch_id)
    assert [(ln.account_number, ln.amount) for ln in slip.lines] == [(a.number, 5000), (b.number, 2550),
                                                                   (c.number, 1000)]
    assert slip.totals == (("cash", 1000), ("check", 7550)) and slip.grand_total == 8550
    assert "Deposit Deposit 12 saved: 3 payments" in panel.notice.text()


def test_reversing_the_selected_payment_reopens_its_invoice(qtbot, ctx, panel) -> None:
    account = _accounts(ctx, 1)[0]
    invoice_id = _invoice(ctx, account, 4000)
    payments.take_payment(ctx.uow(), ctx.actor, payments.PaymentInput(account.id, "check", 4000, PERIOD, "77",
                                                                      invoice_id))
    panel.refresh()
    _settle(qtbot, ctx)
    panel.table.selectRow(0)
    assert panel.reverse_button.isEnabled()
    dialog = panel.reverse_selected()
    dialog.save_button.click()
    _settle(qtbot, ctx)
    assert dialog.isVisible() and "Say why" in dialog.reason_error.text()
    dialog.reason.setText("check returned unpaid")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    _settle(qtbot, ctx)
    assert invoicing.get_invoice(ctx.uow(), ctx.actor, invoice_id).row.status == "open"
    assert panel.model.row(0).reversed


def test_the_deposit_slip_of_a_batch_is_saved_as_a_pdf_listing_its_checks(qtbot, ctx, panel, tmp_path,
                                                                           monkeypatch) -> None:
    import subprocess

    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    first, second = _accounts(ctx, 2)
    batch = payments.take_batch(ctx.uow(), ctx.actor, PERIOD, "DEP-77", [
        payments.PaymentInput(first.id, "check", 4500, PERIOD, reference="1201"),
        payments.PaymentInput(second.id, "check", 3000, PERIOD, reference="1202"),
    ])
    target = tmp_path / "deposit.pdf"
    panel._batch_saved(batch)  # what saving the batch in its dialog does: no question, a button
    assert panel.slip_button.isVisible() and panel.last_batch_id == batch.batch_id
    panel.save_deposit_slip(panel.last_batch_id, str(target))
    qtbot.waitUntil(lambda: opened == [str(target)], timeout=10000)
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
    assert "DEP-77" in text and "1201" in text and "1202" in text and "75.00" in text
