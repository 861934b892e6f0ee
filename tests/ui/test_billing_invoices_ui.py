"""Billing → Invoices on the demo database: the list and its filters, Open PDF, a print batch, a
void through its dialog, the CSV export, e-mail to a loopback SMTP server, and the mail settings.

The invoices under test are posted through ``invoicing.post_invoice`` and issued in 2019, so
whatever the demo itself invoices (recent months) never mixes with them: the tests filter on
2019.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog, QLabel
from sqlalchemy import select

from app.accounts.models import Account, Contact
from app.billing import invoicing, rating
from app.billing.mailing import NONE, SmtpSettings
from app.billing.models import VOID, BillingAccount, Invoice, LedgerEntry
from app.ui.billing import invoices as invoices_ui
from app.ui.billing.invoices import (
    OVERDUE_COLOUR,
    VOID_COLOUR,
    InvoicesPanel,
    PrintBatchDialog,
)
from app.ui.billing.mail_settings import MailSettingsDialog
from tests.integration.test_invoice_email import Mailbox, free_port

SHOTS = Path("/tmp/shots")
YEAR = date(2019, 1, 1)



@pytest.fixture(autouse=True)
def no_saved_mail_settings():
    """mail.json lives in the session's shared config folder: each test starts without one."""
    SmtpSettings.path().unlink(missing_ok=True)
    yield
    SmtpSettings.path().unlink(missing_ok=True)

def settle(qtbot, ctx, ms: int = 30) -> None:
    ctx.runner.wait()
    qtbot.wait(ms)


@pytest.fixture()
def posted(ctx):
    """Twelve 2019 invoices on the first twelve demo accounts (the first three on paper, the
    first with a billing e-mail); one of them void. Returns [(invoice id, account number)]."""
    with ctx.uow() as u:
        accounts = list(u.session.scalars(select(Account).order_by(Account.id).limit(12)))
        company_id = accounts[0].company_id
        for account in accounts:
            profile = u.session.get(BillingAccount, account.id)
            if profile is None:
                profile = BillingAccount(account_id=account.id)
                u.session.add(profile)
            profile.paper_invoice = account in accounts[:3]
        accounts[0].contacts = [Contact(name="Pat Payer", email="pat@example.com", is_primary=True,
                                        is_financial=True)]
        u.commit()
        refs = [(a.id, a.number) for a in accounts]
    out = []
    for i, (account_id, number) in enumerate(refs):
        issued = YEAR + timedelta(days=30 * i)
        start = issued
        end = start + timedelta(days=29)
        price = 4500 + 500 * i
        draft = rating.Draft(account_id=account_id, period_start=start, period_end=end,
                             lines=(rating.DraftLine("service", f"Fibre {100 + 50 * i} internet", price, 1, price),
                                    rating.DraftLine("tax", "GST 5 %", price // 20, 1, price // 20)),
                             subtotal=price, tax_total=price // 20, total=price + price // 20)
        with ctx.uow() as u:
            invoice_id = invoicing.post_invoice(u, ctx.actor, draft, company_id=company_id, issued_on=issued,
                                                due_on=issued + timedelta(days=14), currency="USD")
            u.commit()
        out.append((invoice_id, number))
    invoicing.void_invoice(ctx.uow(), ctx.actor, out[5][0], "Billed the wrong unit", YEAR + timedelta(days=200))
    return out


def make_panel(qtbot, ctx) -> InvoicesPanel:
    panel = InvoicesPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1180, 560)
    panel.show()
    settle(qtbot, ctx, 60)
    panel.set_filters(date_from=YEAR, date_to=date(2019, 12, 31))
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == 12, timeout=10000)
    return panel


def row_of(panel: InvoicesPanel, invoice_id: int) -> int:
    for r in range(panel.model.rowCount()):
        row = panel.model.row(r)
        if row is not None and row.id == invoice_id:
            return r
    raise AssertionError(f"invoice {invoice_id} is not in the list")


def select_rows(panel: InvoicesPanel, rows: list[int]) -> None:
    selection = panel.table.selectionModel()
    selection.clearSelection()
    selection.setCurrentIndex(panel.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    for r in rows:
        selection.select(panel.model.index(r, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


# -- the list -----------------------------------------------------------------------------------

def test_the_list_shows_newest_first_with_overdue_amounts_in_red_and_void_greyed(qtbot, qtmodeltester, ctx, posted):
    panel = make_panel(qtbot, ctx)
    model = panel.model
    qtmodeltester.check(model)

    numbers = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert numbers == sorted(numbers, reverse=True)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] == [
        "Number", "Account", "Issued", "Due", "Total", "Paid", "Balance", "Status"]
    void_row = row_of(panel, posted[5][0])
    assert model.index(void_row, 7).data() == "Void"
    assert model.index(void_row, 0).data(Qt.ItemDataRole.ForegroundRole).color() == VOID_COLOUR
    open_row = row_of(panel, posted[0][0])
    assert model.index(open_row, 7).data() == "Overdue"  # due in January 2019, nothing paid
    for column in (3, 6, 7):  # due, balance, status
        assert model.index(open_row, column).data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE_COLOUR
    assert model.index(open_row, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(open_row, 4).data() == "47.25"
    assert model.index(open_row, 4).data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert panel.count_label.text() == "12 invoices"

    if SHOTS.is_dir():
        select_rows(panel, [1])
        qtbot.wait(50)
        panel.grab().save(str(SHOTS / "billing-invoices.png"))


def test_filters_narrow_the_list_by_status_dates_and_search(qtbot, ctx, posted):
    panel = make_panel(qtbot, ctx)

    panel.status_filter.setCurrentIndex(panel.status_filter.findData(VOID))
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == 1, timeout=5000)
    assert panel.model.row(0).id == posted[5][0]

    panel.set_filters(date_from=date(2019, 3, 1), date_to=date(2019, 5, 15))
    qtbot.waitUntil(lambda: not panel.model.loading and panel.count_label.text() == "3 invoices", timeout=5000)
    assert {panel.model.row(r).issued_on.month for r in range(3)} == {3, 4, 5}

    panel.set_filters(date_from=YEAR, date_to=date(2019, 12, 31), search=posted[2][1])
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == 1, timeout=5000)
    assert panel.model.row(0).account_number == posted[2][1]

    panel.set_filters(date_from=YEAR, date_to=date(2019, 12, 31), search="no such invoice anywhere")
    qtbot.waitUntil(lambda: not panel.model.loading and panel.stack.currentWidget() is panel.empty, timeout=5000)
    assert panel.empty.title.text() == "No invoices match"


# -- actions ------------------------------------------------------------------------------------

def test_void_through_the_dialog_needs_a_reason_then_reverses_the_invoice(qtbot, ctx, posted, monkeypatch):
    panel = make_panel(qtbot, ctx)
    invoice_id = posted[3][0]
    select_rows(panel, [row_of(panel, invoice_id)])
    asked: list[str] = []
    monkeypatch.setattr(invoices_ui, "confirm", lambda parent, title, text, yes: asked.append(text) or True)

    dialog = panel.void_selected()
    assert dialog is not None and dialog.isVisible()
    if SHOTS.is_dir():
        dialog.grab().save(str(SHOTS / "billing-invoice-void.png"))
    dialog.void_button.click()
    assert dialog.error.text() == "Say why the invoice is voided." and asked == []

    dialog.reason.setText("Customer moved out before the period")
    with qtbot.waitSignal(dialog.voided, timeout=10000):
        dialog.void_button.click()

    assert "Customer moved out before the period" in asked[0]
    with ctx.uow() as u:
        invoice = u.session.get(Invoice, invoice_id)
        assert invoice.status == VOID and invoice.void_reason == "Customer moved out before the period"
        reversal = u.session.scalars(select(LedgerEntry).where(LedgerEntry.invoice_id == invoice_id,
                                                               LedgerEntry.kind == "reversal")).one()
        assert reversal.amount == -invoice.total
        number = invoice.number
    qtbot.waitUntil(lambda: panel.model.index(row_of(panel, invoice_id), 7).data() == "Void", timeout=5000)
    assert panel.message.text() == f"Invoice {number} is void"


def test_void_refused_by_the_service_keeps_the_dialog_open_with_the_reason(qtbot, ctx, posted, monkeypatch):
    panel = make_panel(qtbot, ctx)
    select_rows(panel, [row_of(panel, posted[4][0])])
    monkeypatch.setattr(invoices_ui, "confirm", lambda *args: True)
    dialog = panel.void_selected()
    invoicing.void_invoice(ctx.uow(), ctx.actor, posted[4][0], "voided on another desk")  # meanwhile…

    dialog.reason.setText("Duplicate")
    dialog.void_button.click()
    qtbot.waitUntil(lambda: "already void" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible() and dialog.void_button.isEnabled()


def test_open_pdf_renders_the_invoice_and_hands_it_to_the_desktop(qtbot, ctx, posted):
    panel = make_panel(qtbot, ctx)
    opened: list[str] = []
    panel.open_url = lambda url: opened.append(url.toLocalFile())
    select_rows(panel, [row_of(panel, posted[0][0])])

    with qtbot.waitSignal(panel.pdf_opened, timeout=10000) as signal:
        panel.open_button.click()

    path = Path(signal.args[0])
    assert opened == [str(path)] and path.read_bytes().startswith(b"%PDF")
    assert path.name.startswith("invoice-")


def test_print_batch_puts_only_paper_accounts_in_one_pdf_and_marks_them_printed(qtbot, ctx, posted, tmp_path):
    panel = make_panel(qtbot, ctx)
    opened: list[str] = []
    panel.open_url = lambda url: opened.append(url.toLocalFile())
    target = tmp_path / "print.pdf"

    with qtbot.waitSignal(panel.finished, timeout=20000, check_params_cb=lambda t: t.startswith("Printed")):
        panel.run_print_batch(None, target)

    assert target.read_bytes().startswith(b"%PDF") and opened == [str(target)]
    assert panel.message.text() == "Printed 3 invoices, 3 pages (8 not on paper, 1 void left out) to print.pdf"
    with ctx.uow() as u:
        printed = {i for i, at in u.session.execute(select(Invoice.id, Invoice.printed_at)) if at is not None}
    assert printed == {posted[0][0], posted[1][0], posted[2][0]}


def test_print_batch_dialog_says_the_fee_is_charged_by_the_bill_run(qtbot):
    dialog = PrintBatchDialog(2, 12)
    qtbot.addWidget(dialog)
    note = dialog.findChild(QLabel, "DialogNote")
    assert "printed-invoice fee is added by the bill run" in note.text()
    assert dialog.choice() == ("selected", True)
    dialog.all.setChecked(True)
    dialog.paper_only.setChecked(False)
    assert dialog.choice() == ("all", False)


def test_export_writes_the_filtered_list_as_csv(qtbot, ctx, posted, tmp_path):
    panel = make_panel(qtbot, ctx)
    target = tmp_path / "invoices.csv"

    with qtbot.waitSignal(panel.finished, timeout=10000):
        panel.export(target)

    with target.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    assert {r["Account"] for r in rows} == {number for _, number in posted}
    assert panel.message.text() == "Exported 12 invoices to invoices.csv"


def test_email_sends_the_selected_invoices_and_summarises(qtbot, ctx, posted, monkeypatch):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        panel = make_panel(qtbot, ctx)
        settings = SmtpSettings(host="127.0.0.1", port=controller.port, security=NONE,
                                from_address="billing@riser.example", timeout=5)
        with ctx.uow() as u:  # the second account: nobody with an address
            u.session.get(Account, u.session.get(Invoice, posted[1][0]).account_id).contacts = []
            u.commit()
        select_rows(panel, [row_of(panel, posted[0][0]), row_of(panel, posted[1][0])])
        assert {r.id for r in panel.selected_rows()} == {posted[0][0], posted[1][0]}

        with qtbot.waitSignal(panel.finished, timeout=20000, check_params_cb=lambda t: t.startswith("E-mail")):
            panel.run_email([r.id for r in panel.selected_rows()], settings)

        assert panel.message.text() == "E-mail: 1 sent, 1 without an e-mail address"
        _title, text, details = panel.last_message
        assert text == "1 sent, 1 without an e-mail address." and "no billing contact" in details
        assert [e.rcpt_tos for e in box.envelopes] == [["pat@example.com"]]
    finally:
        controller.stop()


def test_mail_settings_dialog_keeps_the_password_in_the_keyring_not_in_the_file(qtbot, ctx, memory_keyring):
    dialog = MailSettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.host.setText("smtp.example.com")
    dialog.security.setCurrentIndex(dialog.security.findData("ssl"))
    assert dialog.port.value() == 465  # the port follows the security while it is a default
    dialog.username.setText("billing")
    dialog.password.setText("hunter2-mail")
    dialog.from_address.setText("billing@example.com")
    if SHOTS.is_dir():
        dialog.show()
        qtbot.wait(30)
        dialog.grab().save(str(SHOTS / "billing-mail-settings.png"))

    dialog.save()

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert memory_keyring.store[("Riser", "smtp:smtp.example.com:billing")] == "hunter2-mail"
    assert "hunter2" not in SmtpSettings.path().read_text(encoding="utf-8")
    assert SmtpSettings.load().port == 465 and SmtpSettings.load().host == "smtp.example.com"


def test_mail_settings_without_a_keyring_says_so_and_still_saves_the_rest(qtbot, ctx):
    keyring.set_keyring(fail.Keyring())
    dialog = MailSettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.host.setText("mail.example.org")
    dialog.username.setText("billing")
    dialog.password.setText("secret")
    dialog.from_address.setText("billing@example.org")

    dialog.save()

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "No system keyring is available to keep the mail password safe" in dialog.errors["password"].text()
    assert SmtpSettings.load().host == "mail.example.org"


def test_mail_settings_refuses_a_bad_from_address_inline(qtbot, ctx):
    dialog = MailSettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.host.setText("smtp.example.com")
    dialog.from_address.setText("billing")

    dialog.save()

    assert "Enter the address invoices are sent from" in dialog.errors["from_address"].text()
    assert dialog.result() != QDialog.DialogCode.Accepted
