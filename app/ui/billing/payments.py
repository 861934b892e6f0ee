"""Billing → Payments: the payments taken, newest first, and the desk's actions.

    panel = PaymentsPanel(ctx)
    panel.refresh()

- The list (paged in the database): date, account, method, reference, amount, the invoices it
  paid, and whether it was reversed. Refunds show as negative amounts. Filters: a search (account
  number or name, or a reference), the method, and whether to show reversed payments.
- **Take payment…** (``TakePaymentDialog``; the account Billing tab reuses it with its account):
  the account by number, its balance, credit and open invoices; method, amount, date,
  reference; apply to the oldest invoices first or to one chosen. Errors show under their field.
- **Batch entry…** (``BatchPaymentsDialog``): a deposit of many payments typed in a grid —
  account number, method, reference, amount per row; Enter goes to the next row; the running
  total shows per method; **Save all** commits every line at once or none (the bad line is
  highlighted and named).
- **Reverse…** the selected payment (a bounced check), with a reason.
- **Refund…** credit back to an account (up to its unallocated credit).

Writes need ``billing.edit`` and a writable database; without them the buttons are hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QAbstractItemDelegate,
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.billing import ledger, payments
from app.billing.ledger import LedgerSummary
from app.billing.ledger_repository import PaymentQuery
from app.billing.models import REFUND
from app.billing.payments import (
    METHOD_LABELS,
    METHODS,
    BatchResult,
    LineError,
    PaymentInput,
    PaymentResult,
    PaymentRow,
)
from app.core.errors import RiserError, ValidationError
from app.core.money import format_minor, parse_minor
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, FieldError, SearchBox
from app.ui.widgets.paged_model import Column, PagedTableModel

MUTED = QColor("#8a939e")
ERROR_BACKGROUND = QColor("#fdecea")
REFERENCE_HINTS = {
    "cash": "optional (receipt number)",
    "check": "check number",
    "card": "processor reference — never the card number",
    "bank": "transfer reference",
}


def can_take(ctx: AppContext) -> bool:
    return ctx.actor.can(Permission.BILLING_EDIT) and not ctx.read_only


def _date(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


def _date_edit(value: date | None = None) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    day = value or date.today()
    edit.setDate(QDate(day.year, day.month, day.day))
    return edit


def _method_combo() -> QComboBox:
    combo = QComboBox()
    for m in METHODS:
        combo.addItem(METHOD_LABELS[m], m)
    return combo


# -- the list ------------------------------------------------------------------------------------

def _amount_text(r: PaymentRow) -> str:
    return format_minor(-r.amount if r.kind == REFUND else r.amount, r.currency)


def _allocated_text(r: PaymentRow) -> str:
    if r.kind == REFUND:
        return f"Refund: {r.note}" if r.note else "Refund"
    return r.allocated_text or ("—" if r.reversed else "credit")


PAYMENT_COLUMNS: list[Column[PaymentRow]] = [
    Column("Date", lambda r: r.received_on.isoformat(), None, 96),
    Column("Account", lambda r: f"{r.account_number}  {r.account_name}", None, 240),
    Column("Method", lambda r: r.method_label, None, 100),
    Column("Reference", lambda r: r.reference, None, 140),
    Column("Amount", _amount_text, None, 100, align_right=True),
    Column("Allocated to", _allocated_text, None, 170),
    Column("Reversed", lambda r: f"Reversed: {r.reversal_reason}" if r.reversed else "", None, 200),
]


class PaymentsModel(PagedTableModel[PaymentRow, PaymentQuery]):
    """Reversed payments greyed."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            row = self.row(index.row())
            return QBrush(MUTED) if row is not None and row.reversed else None
        return super().data(index, role)


class PaymentsPanel(QWidget):
    changed = Signal()  # money moved (other views may want to reload)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("PaymentsPanel")
        self.dialog: QDialog | None = None

        self.search = SearchBox("Search account number, name or reference")
        self.search.search.connect(lambda _t: self.refresh())
        self.method = QComboBox()
        self.method.addItem("All methods", None)
        for m in METHODS:
            self.method.addItem(METHOD_LABELS[m], m)
        self.method.currentIndexChanged.connect(lambda _i: self.refresh())
        self.show_reversed = QCheckBox("Show reversed")
        self.show_reversed.setChecked(True)
        self.show_reversed.toggled.connect(lambda _c: self.refresh())
        self.count = QLabel()
        self.count.setObjectName("CountLabel")

        self.take_button = QPushButton("Take payment…")
        self.take_button.clicked.connect(self.take_payment)
        self.batch_button = QPushButton("Batch entry…")
        self.batch_button.clicked.connect(self.batch_entry)
        # After a batch is saved: its deposit slip for the bank, as a PDF.
        self.slip_button = QPushButton("Deposit slip…")
        self.slip_button.setToolTip("The deposit slip of the batch just saved, as a PDF")
        self.slip_button.hide()
        self.slip_button.clicked.connect(lambda: self.save_deposit_slip(self.last_batch_id))
        self.last_batch_id: int | None = None
        self.reverse_button = QPushButton("Reverse…")
        self.reverse_button.clicked.connect(self.reverse_selected)
        self.refund_button = QPushButton("Refund…")
        self.refund_button.clicked.connect(self.refund)

        ctx_ = ctx
        self.model = PaymentsModel(
            ctx.runner, PAYMENT_COLUMNS,
            first_page=lambda q, limit: payments.first_page(ctx_.uow(), ctx_.actor, q, limit),
            page=lambda q, offset, limit, total: payments.page(ctx_.uow(), ctx_.actor, q, offset, limit, total),
            query=self._query(), parent=self,
        )
        self.model.count_changed.connect(self._counted)
        self.model.load_failed.connect(lambda exc: self.error.show_message(str(exc)))
        self.table = QTableView()
        self.table.setObjectName("PaymentsTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for n, column in enumerate(PAYMENT_COLUMNS):
            self.table.setColumnWidth(n, column.width)
        header.setSectionResizeMode(len(PAYMENT_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_buttons())

        self.empty = EmptyState("No payments yet", "Take payment… records money received; Batch entry… "
                                                   "records a whole deposit at once.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.notice = QLabel()
        self.notice.setObjectName("PaymentsNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.error = FieldError()

        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        filters.addWidget(self.method)
        filters.addWidget(self.show_reversed)
        filters.addWidget(self.count, 1)
        actions = QHBoxLayout()
        for b in (self.take_button, self.batch_button, self.slip_button):
            actions.addWidget(b)
        actions.addSpacing(16)
        for b in (self.reverse_button, self.refund_button):
            actions.addWidget(b)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        if not can_take(ctx):
            for b in (self.take_button, self.batch_button, self.reverse_button, self.refund_button):
                b.hide()
        self._sync_buttons()
        self.refresh()

    def _query(self) -> PaymentQuery:
        return PaymentQuery(method=self.method.currentData(), search=self.search.text().strip(),
                            include_reversed=self.show_reversed.isChecked())

    def refresh(self) -> None:
        self.error.clear_message()
        self.model.set_query(self._query())

    def _counted(self, count: int) -> None:
        filtered = bool(self.search.text().strip() or self.method.currentData() or not self.show_reversed.isChecked())
        self.count.setText(f"{count:,} payment{'s' if count != 1 else ''}")
        if count or filtered:
            self.stack.setCurrentWidget(self.table)
        else:
            self.stack.setCurrentWidget(self.empty)
        self._sync_buttons()

    def selected(self) -> PaymentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _sync_buttons(self) -> None:
        row = self.selected()
        self.reverse_button.setEnabled(row is not None and row.kind == "payment" and not row.reversed)

    def _say(self, message: str) -> None:
        self.notice.setText(message)
        self.notice.setVisible(bool(message))
        self.refresh()
        self.changed.emit()

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    # -- actions -------------------------------------------------------------------------------
    def take_payment(self, account_id: int | None = None) -> TakePaymentDialog | None:
        if not can_take(self.ctx):
            return None
        dialog = TakePaymentDialog(self.ctx, account_id, self)
        dialog.saved.connect(lambda result: self._say(describe_payment(result)))
        self._open(dialog)
        return dialog

    def batch_entry(self) -> BatchPaymentsDialog | None:
        if not can_take(self.ctx):
            return None
        dialog = BatchPaymentsDialog(self.ctx, self)
        dialog.saved.connect(self._batch_saved)
        self._open(dialog)
        return dialog

    def _batch_saved(self, result: Any) -> None:
        self._say(
            f"Deposit {result.reference or result.batch_id} saved: {len(result.payments)} payments, "
            f"{format_minor(result.total, result.payments[0].currency if result.payments else 'USD')}.")
        self.last_batch_id = result.batch_id
        self.slip_button.show()

    def save_deposit_slip(self, batch_id: int | None, path: str | None = None) -> None:
        """Render the batch's deposit slip to a PDF (on the task runner) and open it."""
        if batch_id is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save the deposit slip", f"deposit-{batch_id}.pdf",
                                                  "PDF (*.pdf)")
            if not path:
                return
        ctx = self.ctx

        def op() -> str:
            from app.billing.pdf import render_deposit_slip

            render_deposit_slip(payments.deposit_slip(ctx.uow(), ctx.actor, batch_id), path)
            return path

        def done(saved: str) -> None:
            self._say(f"Deposit slip saved to {saved}.")
            QDesktopServices.openUrl(QUrl.fromLocalFile(saved))

        ctx.runner.submit(op, done, lambda exc: self._say(f"The deposit slip could not be saved: {exc}"),
                          owner=self, label="Deposit slip")

    def reverse_selected(self) -> ReverseDialog | None:
        row = self.selected()
        if not can_take(self.ctx) or row is None or row.reversed or row.kind != "payment":
            return None
        dialog = ReverseDialog(self.ctx, row, self)
        dialog.saved.connect(lambda r: self._say(
            f"Payment of {format_minor(r.amount, r.currency)} from {r.account_number} {r.account_name} reversed; "
            "the invoices it paid are open again."))
        self._open(dialog)
        return dialog

    def refund(self) -> RefundDialog | None:
        if not can_take(self.ctx):
            return None
        row = self.selected()
        dialog = RefundDialog(self.ctx, row.account_id if row else None, self)
        dialog.saved.connect(lambda message: self._say(message))
        self._open(dialog)
        return dialog


def describe_payment(result: PaymentResult) -> str:
    money = lambda amount: format_minor(amount, result.currency)
    where = ", ".join(f"{a.invoice_number} ({money(a.amount)})" for a in result.allocations)
    text = f"Payment of {money(result.amount)} from {result.account_number} {result.account_name}"
    text += f" paid {where}." if where else " recorded."
    if result.credit:
        text += f" Credit on the account: {money(result.credit)}."
    return text


# -- the account picker shared by the dialogs ------------------------------------------------------

class AccountPicker(QWidget):
    """An account number field that looks the account up (on the task runner) and shows its
    balance and credit; ``loaded`` carries its ``LedgerSummary`` (or None when not found)."""

    loaded = Signal(object)

    def __init__(self, ctx: AppContext, account_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.summary: LedgerSummary | None = None
        self.number = QLineEdit()
        self.number.setObjectName("AccountNumber")
        self.number.setPlaceholderText("account number, e.g. 100123")
        self.number.editingFinished.connect(self.look_up)
        self.info = QLabel("")
        self.info.setObjectName("AccountInfo")
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.number)
        layout.addWidget(self.info)
        self._asked = ""
        if account_id is not None:
            self.number.setReadOnly(True)
            self._load(lambda: ledger.summary(ctx.uow(), ctx.actor, account_id))

    def look_up(self) -> None:
        number = self.number.text().strip()
        if number == self._asked or self.number.isReadOnly():
            return
        self._asked = number
        if not number:
            self._show(None)
            return
        ctx = self.ctx

        def op() -> LedgerSummary | None:
            found = payments.resolve_accounts(ctx.uow(), ctx.actor, [number]).get(number)
            return ledger.summary(ctx.uow(), ctx.actor, found.id) if found else None

        self._load(op)

    def _load(self, op) -> None:
        self.ctx.runner.submit(op, self._show, lambda exc: self.info.setText(str(exc)),
                               key=f"account-picker:{id(self)}", owner=self)

    def _show(self, summary: LedgerSummary | None) -> None:
        self.summary = summary
        if summary is None:
            self.info.setText(f"No account has the number {self._asked}." if self._asked else "")
        else:
            if not self.number.text():
                self.number.setText(summary.number)
                self._asked = summary.number
            money = lambda amount: format_minor(amount, summary.currency)
            owes = (f"owes {money(summary.balance)}" if summary.balance > 0
                    else "owes nothing" if summary.balance == 0 else f"in credit {money(-summary.balance)}")
            text = f"<b>{summary.number} {summary.name}</b> — {owes}"
            if summary.credit and summary.balance >= 0:
                text += f" · unallocated credit {money(summary.credit)}"
            self.info.setText(text)
        self.loaded.emit(summary)


# -- take a payment ------------------------------------------------------------------------------

class TakePaymentDialog(QDialog):
    saved = Signal(object)  # PaymentResult

    def __init__(self, ctx: AppContext, account_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("TakePaymentDialog")
        self.setWindowTitle("Take a payment")
        self.setMinimumWidth(620)
        header = QLabel("<b>Take a payment</b>")
        header.setObjectName("FormHeader")

        self.account = AccountPicker(ctx, account_id)
        self.account.loaded.connect(self._account_loaded)
        self.account_error = FieldError()

        self.invoices = QTableWidget(0, 5)
        self.invoices.setObjectName("OpenInvoices")
        self.invoices.setHorizontalHeaderLabels(["Invoice", "Issued", "Due", "Total", "Left to pay"])
        self.invoices.verticalHeader().hide()
        self.invoices.verticalHeader().setDefaultSectionSize(26)
        self.invoices.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.invoices.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.invoices.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.invoices.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.invoices.itemSelectionChanged.connect(self._invoice_picked)
        self.no_invoices = QLabel("No open invoices: the payment becomes credit for the next one.")
        self.no_invoices.setObjectName("CountLabel")
        self.no_invoices.hide()

        self.oldest = QRadioButton("Oldest invoices first")
        self.chosen = QRadioButton("This invoice:")
        self.oldest.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.oldest)
        group.addButton(self.chosen)
        self.invoice_combo = QComboBox()
        self.invoice_combo.setEnabled(False)
        self.chosen.toggled.connect(self.invoice_combo.setEnabled)
        self.invoice_combo.currentIndexChanged.connect(lambda _i: self._suggest_amount())
        self.invoice_error = FieldError()
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.oldest)
        apply_row.addSpacing(12)
        apply_row.addWidget(self.chosen)
        apply_row.addWidget(self.invoice_combo, 1)

        self.method = _method_combo()
        self.method.currentIndexChanged.connect(lambda _i: self._method_changed())
        self.method_error = FieldError()
        self.amount = QLineEdit()
        self.amount.setObjectName("Amount")
        self.amount.setPlaceholderText("0.00")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setMaximumWidth(160)
        self.amount_error = FieldError()
        self.received_on = _date_edit()
        self.received_on.setMaximumWidth(160)
        self.received_error = FieldError()
        self.reference = QLineEdit()
        self.reference.setMaxLength(payments.REFERENCE_MAX)
        self.reference_error = FieldError()
        self.note = QLineEdit()
        self.note.setMaxLength(payments.NOTE_MAX)
        self.note_error = FieldError()

        form = QFormLayout()
        form.addRow("Account", self.account)
        form.addRow("", self.account_error)
        form.addRow("Open invoices", self.invoices)
        form.addRow("", self.no_invoices)
        form.addRow("Apply to", apply_row)
        form.addRow("", self.invoice_error)
        form.addRow("Method", self.method)
        form.addRow("", self.method_error)
        form.addRow("Amount", self.amount)
        form.addRow("", self.amount_error)
        form.addRow("Received on", self.received_on)
        form.addRow("", self.received_error)
        form.addRow("Reference", self.reference)
        form.addRow("", self.reference_error)
        form.addRow("Note", self.note)
        form.addRow("", self.note_error)
        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Take payment")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._method_changed()
        self._clear_errors()
        # A field's message goes as soon as the field is changed.
        self.amount.textChanged.connect(lambda _t: self.amount_error.clear_message())
        self.reference.textChanged.connect(lambda _t: self.reference_error.clear_message())
        self.note.textChanged.connect(lambda _t: self.note_error.clear_message())
        self.method.currentIndexChanged.connect(lambda _i: self.method_error.clear_message())
        self.invoice_combo.currentIndexChanged.connect(lambda _i: self.invoice_error.clear_message())
        self.account.number.textChanged.connect(lambda _t: self.account_error.clear_message())

    @property
    def summary(self) -> LedgerSummary | None:
        return self.account.summary

    def _currency(self) -> str:
        return self.summary.currency if self.summary else "USD"

    def _account_loaded(self, summary: LedgerSummary | None) -> None:
        self.account_error.clear_message()
        self.invoices.setRowCount(0)
        self.invoice_combo.clear()
        if summary is None:
            self.no_invoices.hide()
            return
        money = lambda amount: format_minor(amount, summary.currency)
        for inv in summary.open_invoices:
            r = self.invoices.rowCount()
            self.invoices.insertRow(r)
            for c, text in enumerate((inv.number, inv.issued_on.isoformat(), inv.due_on.isoformat(),
                                      money(inv.total), money(inv.due))):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.invoices.setItem(r, c, item)
            self.invoice_combo.addItem(f"{inv.number} — {money(inv.due)} left, due {inv.due_on.isoformat()}", inv.id)
        has = bool(summary.open_invoices)
        # As tall as its rows (up to five; more scroll): the header as styled, the rows, the frame.
        shown = min(max(self.invoices.rowCount(), 1), 5)
        header = self.invoices.horizontalHeader()
        self.invoices.setFixedHeight(max(header.height(), header.sizeHint().height())
                                     + 2 * self.invoices.frameWidth() + 6
                                     + shown * max(self.invoices.rowHeight(0),
                                                   self.invoices.verticalHeader().defaultSectionSize()))
        self.invoices.setVisible(has)
        self.no_invoices.setVisible(not has)
        self.chosen.setEnabled(has)
        if not has:
            self.oldest.setChecked(True)
        self._suggest_amount()

    def _invoice_picked(self) -> None:
        rows = self.invoices.selectionModel().selectedRows()
        if rows:
            self.invoice_combo.setCurrentIndex(rows[0].row())
            self.chosen.setChecked(True)

    def _suggest_amount(self) -> None:
        """Pre-fill what is owed (the chosen invoice's rest, or the account's open total)."""
        summary = self.summary
        if summary is None or (self.amount.text().strip() and self.amount.isModified()):
            return
        due = summary.open_due
        if self.chosen.isChecked() and self.invoice_combo.currentData() is not None:
            due = next((i.due for i in summary.open_invoices if i.id == self.invoice_combo.currentData()), due)
        if due > 0:
            self.amount.setText(format_minor(due, summary.currency).replace(",", ""))

    def _method_changed(self) -> None:
        self.reference.setPlaceholderText(REFERENCE_HINTS.get(self.method.currentData(), ""))

    def _clear_errors(self) -> None:
        for e in (self.account_error, self.invoice_error, self.method_error, self.amount_error,
                  self.received_error, self.reference_error, self.note_error, self.form_error):
            e.clear_message()

    def save(self) -> None:
        self._clear_errors()
        summary = self.summary
        if summary is None:
            self.account.look_up()
            self.account_error.show_message("Type the account number of an existing account.")
            self.account.number.setFocus()
            return
        try:
            amount = parse_minor(self.amount.text(), summary.currency)
        except ValidationError as exc:
            self.show_validation(ValidationError(exc.message, "amount"))
            return
        invoice_id = self.invoice_combo.currentData() if self.chosen.isChecked() else None
        data = PaymentInput(summary.account_id, self.method.currentData(), amount, _date(self.received_on),
                            self.reference.text(), invoice_id, self.note.text())
        ctx = self.ctx
        self.save_button.setEnabled(False)
        ctx.runner.submit(lambda: payments.take_payment(ctx.uow(), ctx.actor, data), self._saved, self._failed,
                          label="Take payment", writes=True, owner=self)

    def _saved(self, result: PaymentResult) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
        else:
            self.form_error.show_message(str(exc))

    def show_validation(self, exc: ValidationError) -> None:
        targets = {
            "account_id": (self.account_error, self.account.number),
            "invoice_id": (self.invoice_error, self.invoice_combo),
            "method": (self.method_error, self.method),
            "amount": (self.amount_error, self.amount),
            "received_on": (self.received_error, self.received_on),
            "reference": (self.reference_error, self.reference),
            "note": (self.note_error, self.note),
        }
        error, widget = targets.get(exc.field or "", (self.form_error, None))
        error.show_message(str(exc))
        if widget is not None:
            widget.setFocus()


# -- batch entry ---------------------------------------------------------------------------------

ACCOUNT_COL, NAME_COL, METHOD_COL, REFERENCE_COL, AMOUNT_COL = range(5)
BATCH_HEADERS = ["Account", "Name", "Method", "Reference", "Amount"]
START_ROWS = 8
DEFAULT_METHOD = "check"  # deposits are mostly checks


class _MethodDelegate(QStyledItemDelegate):
    """The method column edits with a combo box (type "ca" for cash)."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        combo = _method_combo()
        combo.setParent(parent)
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        method = index.data(Qt.ItemDataRole.UserRole) or DEFAULT_METHOD
        editor.setCurrentIndex(max(0, editor.findData(method)))

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.UserRole)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.DisplayRole)


class BatchGrid(QTableWidget):
    """The entry grid: Tab moves along a row, Enter goes to the next row (a new one at the end)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(BATCH_HEADERS), parent)
        self.setObjectName("BatchGrid")
        self.setHorizontalHeaderLabels(BATCH_HEADERS)
        self.setItemDelegateForColumn(METHOD_COL, _MethodDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.verticalHeader().setDefaultSectionSize(28)
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        for col, width in ((ACCOUNT_COL, 100), (METHOD_COL, 110), (REFERENCE_COL, 150), (AMOUNT_COL, 110)):
            self.setColumnWidth(col, width)
        for _ in range(START_ROWS):
            self.add_row()

    def add_row(self) -> int:
        r = self.rowCount()
        self.insertRow(r)
        for c in range(self.columnCount()):
            item = QTableWidgetItem("")
            if c == NAME_COL:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setForeground(QBrush(MUTED))
            if c == METHOD_COL:
                item.setData(Qt.ItemDataRole.UserRole, DEFAULT_METHOD)
                item.setText(METHOD_LABELS[DEFAULT_METHOD])
            if c == AMOUNT_COL:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(r, c, item)
        return r

    def next_row(self) -> None:
        row = self.currentRow() + 1
        if row >= self.rowCount():
            self.add_row()
        self.setCurrentCell(row, ACCOUNT_COL)
        self.editItem(self.item(row, ACCOUNT_COL))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state() != QAbstractItemView.State.EditingState:
            self.next_row()
            return
        super().keyPressEvent(event)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        # Enter in an editor commits it with SubmitModelCache: go to the next row rather than stay.
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache:
            super().closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
            QTimer.singleShot(0, self.next_row)
            return
        super().closeEditor(editor, hint)

    def text(self, row: int, col: int) -> str:
        item = self.item(row, col)
        return item.text().strip() if item else ""

    def method(self, row: int) -> str:
        item = self.item(row, METHOD_COL)
        return (item.data(Qt.ItemDataRole.UserRole) if item else None) or DEFAULT_METHOD

    def set_line(self, row: int, account: str, method: str, reference: str, amount: str) -> None:
        """Fill one row (tests, and pasting)."""
        while row >= self.rowCount():
            self.add_row()
        self.item(row, ACCOUNT_COL).setText(account)
        self.item(row, METHOD_COL).setData(Qt.ItemDataRole.UserRole, method)
        self.item(row, METHOD_COL).setText(METHOD_LABELS[method])
        self.item(row, REFERENCE_COL).setText(reference)
        self.item(row, AMOUNT_COL).setText(amount)

    def filled_rows(self) -> list[int]:
        return [r for r in range(self.rowCount())
                if any(self.text(r, c) for c in (ACCOUNT_COL, REFERENCE_COL, AMOUNT_COL))]

    def mark(self, row: int | None) -> None:
        """Highlight the bad row (None: clear)."""
        for r in range(self.rowCount()):
            for c in range(self.columnCount()):
                item = self.item(r, c)
                if item is not None:
                    item.setBackground(QBrush(ERROR_BACKGROUND) if r == row else QBrush())


@dataclass(frozen=True)
class _Line:
    row: int  # the grid's row
    account: str
    method: str
    reference: str
    amount: int


class BatchPaymentsDialog(QDialog):
    saved = Signal(object)  # BatchResult

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, currency: str = "USD") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.currency = currency
        self.setObjectName("BatchPaymentsDialog")
        self.setWindowTitle("Batch entry — a deposit")
        self.setMinimumSize(720, 520)
        header = QLabel("<b>Batch entry</b> — one row per payment; Enter goes to the next row")
        header.setObjectName("FormHeader")
        self.deposited_on = _date_edit()
        self.deposited_on.setMaximumWidth(160)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("deposit slip or bag number")
        self.reference.setMaxLength(payments.REFERENCE_MAX)
        self.reference_error = FieldError()
        self.grid = BatchGrid()
        self.grid.itemChanged.connect(self._changed)
        self.total = QLabel()
        self.total.setObjectName("BatchTotal")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.error = FieldError()
        self._names: dict[str, str | None] = {}
        self._marked: int | None = None  # the grid row named by the last error
        self._rows: list[int] = []

        top = QFormLayout()
        top.addRow("Deposited on", self.deposited_on)
        top.addRow("Reference", self.reference)
        top.addRow("", self.reference_error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save all")
        self.save_button.setAutoDefault(False)
        self.save_button.setDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        add = QPushButton("Add row")
        add.setAutoDefault(False)
        add.clicked.connect(lambda: self.grid.add_row())
        bottom = QHBoxLayout()
        bottom.addWidget(add)
        bottom.addWidget(self.total, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._update_total()
        self.grid.setCurrentCell(0, ACCOUNT_COL)
        self.grid.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter belongs to the grid (next row), never to the dialog's default button.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.grid.next_row()
            return
        super().keyPressEvent(event)

    # -- the running total and the names -------------------------------------------------------
    def _changed(self, item: QTableWidgetItem) -> None:
        if self._marked is not None and item.row() == self._marked and item.column() != NAME_COL:
            # The bad line is being corrected: its highlight and the message go.
            self._marked = None
            self.grid.blockSignals(True)
            self.grid.mark(None)
            self.grid.blockSignals(False)
            self.error.clear_message()
        if item.column() == ACCOUNT_COL:
            self._look_up(item.row(), item.text().strip())
        if item.column() in (AMOUNT_COL, METHOD_COL):
            self._update_total()

    def _look_up(self, row: int, number: str) -> None:
        name_item = self.grid.item(row, NAME_COL)
        if name_item is None:
            return
        if not number:
            name_item.setText("")
            return
        if number in self._names:
            self._show_name(row, number)
            return
        ctx = self.ctx

        def op() -> dict:
            return payments.resolve_accounts(ctx.uow(), ctx.actor, [number])

        def done(found: dict) -> None:
            self._names[number] = found[number].name if number in found else None
            self._show_name(row, number)

        ctx.runner.submit(op, done, lambda exc: name_item.setText(str(exc)), owner=self)

    def _show_name(self, row: int, number: str) -> None:
        if self.grid.text(row, ACCOUNT_COL) != number:
            return
        item = self.grid.item(row, NAME_COL)
        name = self._names.get(number)
        self.grid.blockSignals(True)
        item.setText(name if name is not None else "no such account")
        item.setForeground(QBrush(MUTED if name is not None else QColor("#c62828")))
        self.grid.blockSignals(False)

    def _update_total(self) -> None:
        per: dict[str, int] = {}
        count = 0
        bad = 0
        for r in self.grid.filled_rows():
            text = self.grid.text(r, AMOUNT_COL)
            if not text:
                continue
            try:
                amount = parse_minor(text, self.currency)
            except ValidationError:
                bad += 1
                continue
            count += 1
            method = self.grid.method(r)
            per[method] = per.get(method, 0) + amount
        money = lambda amount: format_minor(amount, self.currency)
        parts = " · ".join(f"{METHOD_LABELS[m].lower()} {money(per[m])}" for m in METHODS if m in per)
        text = f"{count} payment{'s' if count != 1 else ''} · total <b>{money(sum(per.values()))}</b>"
        if parts:
            text += f" ({parts})"
        if bad:
            text += f" · {bad} amount{'s' if bad != 1 else ''} not understood"
        self.total.setText(text)

    def running_total(self) -> int:
        total = 0
        for r in self.grid.filled_rows():
            try:
                total += parse_minor(self.grid.text(r, AMOUNT_COL), self.currency)
            except ValidationError:
                pass
        return total

    # -- saving --------------------------------------------------------------------------------
    def _lines(self) -> list[_Line]:
        lines: list[_Line] = []
        for n, r in enumerate(self.grid.filled_rows(), 1):
            account = self.grid.text(r, ACCOUNT_COL)
            if not account:
                raise LineError(n, "type the account number.", "account")
            try:
                amount = parse_minor(self.grid.text(r, AMOUNT_COL), self.currency)
            except ValidationError as exc:
                raise LineError(n, exc.message, "amount") from None
            lines.append(_Line(r, account, self.grid.method(r), self.grid.text(r, REFERENCE_COL), amount))
        if not lines:
            raise ValidationError("Enter at least one payment.", "lines")
        return lines

    def save(self) -> None:
        self.error.clear_message()
        self.reference_error.clear_message()
        self.grid.blockSignals(True)
        self.grid.mark(None)
        self.grid.blockSignals(False)
        self._marked = None
        try:
            self._rows = []
            lines = self._lines()
        except LineError as exc:
            self._show_line_error(exc, self.grid.filled_rows())
            return
        except ValidationError as exc:
            self.error.show_message(str(exc))
            return
        self._rows = [ln.row for ln in lines]
        ctx, deposited_on, reference = self.ctx, _date(self.deposited_on), self.reference.text()

        def op() -> BatchResult:
            found = payments.resolve_accounts(ctx.uow(), ctx.actor, [ln.account for ln in lines])
            inputs = []
            for n, ln in enumerate(lines, 1):
                account = found.get(ln.account)
                if account is None:
                    raise LineError(n, f"no account has the number {ln.account}.", "account")
                inputs.append(PaymentInput(account.id, ln.method, ln.amount, deposited_on, ln.reference))
            return payments.take_batch(ctx.uow(), ctx.actor, deposited_on, reference, inputs)

        self.save_button.setEnabled(False)
        ctx.runner.submit(op, self._saved, self._failed, label="Save payment batch", writes=True, owner=self)

    def _saved(self, result: BatchResult) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, LineError):
            self._show_line_error(exc, self._rows)
        elif isinstance(exc, ValidationError) and exc.field == "reference":
            self.reference_error.show_message(str(exc))
        else:
            self.error.show_message(str(exc) if isinstance(exc, RiserError) else f"Nothing was saved: {exc}")

    def _show_line_error(self, exc: LineError, rows: list[int]) -> None:
        self.error.show_message(f"{exc} Nothing was saved.")
        if 1 <= exc.line <= len(rows):
            row = rows[exc.line - 1]
            self.grid.blockSignals(True)
            self.grid.mark(row)
            self.grid.blockSignals(False)
            self._marked = row
            col = {"amount": AMOUNT_COL, "reference": REFERENCE_COL, "method": METHOD_COL}.get(exc.field or "",
                                                                                               ACCOUNT_COL)
            self.grid.setCurrentCell(row, col)
            self.grid.setFocus()


# -- reverse and refund --------------------------------------------------------------------------

class ReverseDialog(QDialog):
    saved = Signal(object)  # PaymentRow

    def __init__(self, ctx: AppContext, row: PaymentRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setObjectName("ReverseDialog")
        self.setWindowTitle("Reverse a payment")
        self.setMinimumWidth(480)
        what = (f"{format_minor(row.amount, row.currency)} by {row.method_label.lower()}"
                f"{' ' + row.reference if row.reference else ''} from {row.account_number} {row.account_name}, "
                f"received {row.received_on.isoformat()}")
        explain = QLabel(f"<b>Reverse the payment of {what}?</b><br>A reversal entry adds the amount back to the "
                         "account, and the invoices it paid open again. The payment stays in the history.")
        explain.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. check returned: insufficient funds")
        self.reason.setMaxLength(payments.REASON_MAX)
        self.reason_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Reverse payment")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Reason", self.reason)
        form.addRow("", self.reason_error)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        self.reason_error.clear_message()
        ctx, payment_id, reason = self.ctx, self.row.id, self.reason.text()
        self.save_button.setEnabled(False)
        ctx.runner.submit(lambda: payments.reverse_payment(ctx.uow(), ctx.actor, payment_id, reason),
                          self._saved, self._failed, label="Reverse payment", writes=True, owner=self)

    def _saved(self, row: PaymentRow) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(row)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.reason_error.show_message(str(exc))


class RefundDialog(QDialog):
    saved = Signal(str)  # what happened

    def __init__(self, ctx: AppContext, account_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("RefundDialog")
        self.setWindowTitle("Refund credit")
        self.setMinimumWidth(520)
        header = QLabel("<b>Refund credit</b> — pays back money the account has not used")
        header.setObjectName("FormHeader")
        self.account = AccountPicker(ctx, account_id)
        self.account.loaded.connect(self._loaded)
        self.account_error = FieldError()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setMaximumWidth(160)
        self.amount_error = FieldError()
        self.method = _method_combo()
        self.reference = QLineEdit()
        self.reference.setMaxLength(payments.REFERENCE_MAX)
        self.reference_error = FieldError()
        self.method.currentIndexChanged.connect(
            lambda _i: self.reference.setPlaceholderText(REFERENCE_HINTS.get(self.method.currentData(), "")))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. moved out, overpaid")
        self.reason.setMaxLength(payments.REASON_MAX)
        self.reason_error = FieldError()
        form = QFormLayout()
        for label, widget, error in (("Account", self.account, self.account_error),
                                     ("Amount", self.amount, self.amount_error), ("Method", self.method, None),
                                     ("Reference", self.reference, self.reference_error),
                                     ("Reason", self.reason, self.reason_error)):
            form.addRow(label, widget)
            if error is not None:
                form.addRow("", error)
        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Refund")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        self.method.setCurrentIndex(self.method.findData("check"))

    def _loaded(self, summary: LedgerSummary | None) -> None:
        if summary is not None and summary.credit and not self.amount.text():
            self.amount.setText(format_minor(summary.credit, summary.currency).replace(",", ""))

    def save(self) -> None:
        for e in (self.account_error, self.amount_error, self.reference_error, self.reason_error, self.form_error):
            e.clear_message()
        summary = self.account.summary
        if summary is None:
            self.account_error.show_message("Type the account number of an existing account.")
            return
        try:
            amount = parse_minor(self.amount.text(), summary.currency)
        except ValidationError as exc:
            self.amount_error.show_message(exc.message)
            return
        ctx = self.ctx
        method, reference, reason = self.method.currentData(), self.reference.text(), self.reason.text()
        money = format_minor(amount, summary.currency)

        def op() -> str:
            payments.refund(ctx.uow(), ctx.actor, summary.account_id, amount, method, reference, reason)
            return f"Refunded {money} to {summary.number} {summary.name}."

        self.save_button.setEnabled(False)
        ctx.runner.submit(op, self._saved, self._failed, label="Refund", writes=True, owner=self)

    def _saved(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(message)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        field = exc.field if isinstance(exc, ValidationError) else None
        target = {"amount": self.amount_error, "reference": self.reference_error, "reason": self.reason_error,
                  "method": self.form_error}.get(field or "", self.form_error)
        target.show_message(str(exc))
