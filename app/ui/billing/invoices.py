"""Billing → Invoices: every invoice, newest first, a page at a time, filtered in the database.

    panel = InvoicesPanel(ctx)
    panel.refresh()                      # reload the filter choices and the rows

Filters: status, issue dates (from / to; "Any" when left at the start), company, and a search
that matches an invoice number or an account's number or name (``invoicing.InvoiceQuery``).
Void invoices are greyed; open invoices past their due date with a balance say "Overdue", with
their due date, balance and status in red.

Actions (writes need ``billing.edit`` and a writable database; they are hidden or disabled
otherwise, with the reason as a tooltip):

- **Open PDF** renders the current invoice to a temporary file on the task runner, then opens
  it with the desktop's PDF viewer.
- **Print batch…** the selected invoices, or every invoice the filters select, of accounts
  that asked for paper, into one PDF to print (``documents.print_batch``). The printed-invoice
  fee is charged by the bill run on the invoice itself, not by printing — the dialog says so.
- **E-mail…** the selected invoices to their billing contacts (``mailing.send_invoices``) with
  a progress dialog that can cancel, then a summary (sent, without an address, failed).
- **Void…** one invoice, with a required reason and a confirmation (``invoicing.void_invoice``).
- **Export…** the filtered list as CSV (or XLSX by extension) (``invoicing.export_invoices``).
- **Mail settings…** the SMTP server (``MailSettingsDialog``).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.accounts import service as accounts
from app.billing import documents, invoicing, mailing
from app.billing.invoicing import InvoiceQuery, InvoiceRow
from app.billing.mailing import SmtpSettings
from app.billing.models import OPEN, PAID, VOID
from app.billing.pdf import render_invoice
from app.core.errors import RiserError
from app.core.export import ExportFormat
from app.core.money import format_minor
from app.core.permissions import Permission
from app.ui.billing.mail_settings import MailSettingsDialog
from app.ui.context import AppContext
from app.ui.tasks import Cancelled, Task, TaskContext
from app.ui.widgets.common import EmptyState, FieldError, SearchBox
from app.ui.widgets.paged_model import Column, PagedTableModel

log = logging.getLogger(__name__)

VOID_COLOUR = QColor("#8a939e")
OVERDUE_COLOUR = QColor("#c62828")
STATUS_LABELS = {OPEN: "Open", PAID: "Paid", VOID: "Void"}
ANY_DATE = QDate(2000, 1, 1)  # a date edit left here means "any date" (shown as "Any")
PAGE_FOR_IDS = 1000


def is_overdue(row: InvoiceRow, today: date | None = None) -> bool:
    return row.status == OPEN and row.balance_due > 0 and row.due_on < (today or date.today())


def status_text(row: InvoiceRow) -> str:
    return "Overdue" if is_overdue(row) else STATUS_LABELS.get(row.status, row.status.title())


def _money(row: InvoiceRow, amount: int) -> str:
    return format_minor(amount, row.currency)


INVOICE_COLUMNS: list[Column[InvoiceRow]] = [
    Column("Number", lambda r: r.number, None, 90),
    Column("Account", lambda r: f"{r.account_number}  {r.account_name}", None, 250),
    Column("Issued", lambda r: r.issued_on.isoformat(), None, 96),
    Column("Due", lambda r: r.due_on.isoformat(), None, 96),
    Column("Total", lambda r: _money(r, r.total), None, 96, align_right=True),
    Column("Paid", lambda r: _money(r, r.paid), None, 96, align_right=True),
    Column("Balance", lambda r: _money(r, r.balance_due), None, 96, align_right=True),
    Column("Status", status_text, None, 90),
]


OVERDUE_COLUMNS = (3, 6, 7)  # Due, Balance, Status


class InvoicesModel(PagedTableModel[InvoiceRow, InvoiceQuery]):
    """The paged list; void rows greyed, overdue invoices' due date, balance and status red."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            row = self.row(index.row())
            if row is None:
                return None
            if row.status == VOID:
                return QBrush(VOID_COLOUR)  # the whole row: it no longer counts
            if index.column() in OVERDUE_COLUMNS and is_overdue(row):
                return QBrush(OVERDUE_COLOUR)  # due date, balance and status: what is late, and how much
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid():
            row = self.row(index.row())
            if row is not None and row.status == VOID:
                return "Void: its charge was reversed; it stays here for the record."
            if row is not None and is_overdue(row):
                return f"Overdue since {row.due_on.isoformat()}"
            return None
        return super().data(index, role)


def make_invoices_model(ctx: AppContext, parent=None) -> InvoicesModel:
    return InvoicesModel(
        ctx.runner,
        INVOICE_COLUMNS,
        first_page=lambda q, limit: invoicing.first_page(ctx.uow(), ctx.actor, q, limit),
        page=lambda q, offset, limit, total: invoicing.page(ctx.uow(), ctx.actor, q, offset, limit, total),
        query=InvoiceQuery(),
        parent=parent,
    )


def all_invoice_ids(ctx: AppContext, query: InvoiceQuery, check: Callable[[], None] | None = None) -> list[int]:
    """Every invoice id the query selects, in the list's order (for "all in the list")."""
    ids: list[int] = []
    offset = 0
    while True:
        if check is not None:
            check()
        rows = invoicing.page(ctx.uow(), ctx.actor, query, offset, PAGE_FOR_IDS)
        ids.extend(r.id for r in rows)
        if len(rows) < PAGE_FOR_IDS:
            return ids
        offset += PAGE_FOR_IDS


def confirm(parent: QWidget, title: str, text: str, yes: str) -> bool:
    """Ask before doing something that cannot be taken back (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    button = box.addButton(yes, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is button


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(ANY_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(ANY_DATE)
    edit.setMinimumWidth(110)
    return edit


def _picked(edit: QDateEdit) -> date | None:
    value = edit.date()
    return None if value == ANY_DATE else date(value.year(), value.month(), value.day())


# -- dialogs ----------------------------------------------------------------------------------------

class VoidDialog(QDialog):
    """Void one invoice: what it is, what voiding does, a required reason, then a confirmation.
    Stays open with the service's message when the void is refused."""

    voided = Signal(object)  # the InvoiceRow after the void

    def __init__(self, ctx: AppContext, row: InvoiceRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setObjectName("VoidInvoiceDialog")
        self.setWindowTitle(f"Void invoice {row.number}")
        self.setMinimumWidth(460)
        what = QLabel(f"<b>Invoice {row.number}</b> · {row.account_number} {row.account_name}<br>"
                      f"Issued {row.issued_on.isoformat()} · total {format_minor(row.total, row.currency, symbol=True)}"
                      f" · paid {format_minor(row.paid, row.currency, symbol=True)}")
        explain = QLabel("Voiding reverses the invoice's charge with a credit entry in the ledger. Nothing is "
                         "deleted: the invoice keeps its number and stays in the list, marked void, and its "
                         "period can be invoiced again. Money paid on it becomes credit on the account.")
        explain.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why? e.g. billed twice, wrong plan, moved out before the period")
        self.reason.setMaxLength(invoicing.VOID_REASON_MAX)
        self.error = FieldError()
        self.void_button = QPushButton("Void invoice")
        self.void_button.setObjectName("DangerButton")
        self.void_button.setStyleSheet(  # a destructive action looks like one
            "QPushButton { background: #c62828; color: white; border: 1px solid #a61f1f; border-radius: 4px;"
            " padding: 5px 14px; } QPushButton:disabled { background: #e3a5a5; }")
        self.void_button.clicked.connect(self.submit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.void_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addWidget(explain)
        layout.addWidget(QLabel("Reason (required)"))
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def submit(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.error.show_message("Say why the invoice is voided.")
            self.reason.setFocus()
            return
        self.error.clear_message()
        money = format_minor(self.row.total, self.row.currency, symbol=True)
        if not confirm(self, "Void invoice", f"Void invoice {self.row.number} ({money}) for "
                       f"{self.row.account_number} {self.row.account_name}?\n\nReason: {reason}", "Void invoice"):
            return
        self.void_button.setEnabled(False)
        row_id = self.row.id

        def done(row: InvoiceRow) -> None:
            self.voided.emit(row)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.void_button.setEnabled(True)
            self.error.show_message(str(exc) if isinstance(exc, RiserError) else f"The invoice was not voided: {exc}")

        self.ctx.runner.submit(
            lambda: invoicing.void_invoice(self.ctx.uow(), self.ctx.actor, row_id, reason),
            done, failed, label=f"Voiding invoice {self.row.number}", owner=self, writes=True)


class PrintBatchDialog(QDialog):
    """Which invoices go into the print batch. ``choice()`` → ("selected" | "all", paper_only)."""

    def __init__(self, selected: int, in_list: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PrintBatchDialog")
        self.setWindowTitle("Print batch")
        self.setMinimumWidth(460)
        self.selected = QRadioButton(f"The selected invoices ({selected:,})")
        self.all = QRadioButton(f"Every invoice in the list ({in_list:,}, as filtered)")
        self.selected.setEnabled(selected > 0)
        (self.selected if selected > 0 else self.all).setChecked(True)
        self.paper_only = QCheckBox("Only accounts that asked for paper invoices")
        self.paper_only.setChecked(True)
        note = QLabel("Void invoices are left out. The invoices go into one PDF, each on its own pages, "
                      "ready for the printer and window envelopes.<br><br><b>No fee is charged here:</b> the "
                      "printed-invoice fee is added by the bill run to the invoices of paper accounts, so "
                      "printing again never charges twice.")
        note.setWordWrap(True)
        note.setObjectName("DialogNote")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton("Make PDF…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Print"))
        layout.addWidget(self.selected)
        layout.addWidget(self.all)
        layout.addWidget(self.paper_only)
        layout.addSpacing(6)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, bool]:
        return ("selected" if self.selected.isChecked() else "all", self.paper_only.isChecked())


# -- the panel -----------------------------------------------------------------------------------

class InvoicesPanel(QWidget):
    pdf_opened = Signal(str)  # the file Open PDF rendered
    finished = Signal(str)  # a one-line result of the last action (print, e-mail, export, void)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("InvoicesPanel")
        self.model = make_invoices_model(ctx, self)
        self.last_message: tuple[str, str, str] | None = None  # (title, text, details) of the last summary
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl

        self.search = SearchBox("Search invoice number, account number or name   (Ctrl+F)")
        self.search.setObjectName("InvoiceSearch")
        self.search.search.connect(lambda _text: self._on_filter())
        self.search.returnPressed.connect(self.search.flush)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in (OPEN, PAID, VOID):
            self.status_filter.addItem(STATUS_LABELS[status], status)
        self.date_from = _date_edit()
        self.date_to = _date_edit()
        self.date_from.setToolTip("Issued on or after")
        self.date_to.setToolTip("Issued on or before")
        self.company_filter = QComboBox()
        self.company_filter.addItem("All companies", None)
        self.company_filter.hide()  # shown when there is more than one company
        for widget in (self.status_filter, self.company_filter):
            widget.currentIndexChanged.connect(self._on_filter)
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(self._on_filter)
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        filters.addWidget(QLabel("Issued"))
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.date_to)
        filters.addWidget(self.company_filter)
        filters.addWidget(self.count_label)

        self.open_button = QPushButton("Open PDF")
        self.print_button = QPushButton("Print batch…")
        self.email_button = QPushButton("E-mail…")
        self.void_button = QPushButton("Void…")
        self.export_button = QPushButton("Export…")
        self.mail_settings_button = QPushButton("Mail settings…")
        self.open_button.clicked.connect(self.open_pdf)
        self.print_button.clicked.connect(self.print_batch)
        self.email_button.clicked.connect(self.email_selected)
        self.void_button.clicked.connect(self.void_selected)
        self.export_button.clicked.connect(lambda: self.export())
        self.mail_settings_button.clicked.connect(self.mail_settings)
        actions = QHBoxLayout()
        for button in (self.open_button, self.print_button, self.email_button, self.void_button, self.export_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.message = QLabel("")
        self.message.setObjectName("ActionMessage")
        actions.addWidget(self.message)
        actions.addWidget(self.mail_settings_button)

        self.table = QTableView()
        self.table.setObjectName("InvoicesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, column in enumerate(INVOICE_COLUMNS):
            self.table.setColumnWidth(i, column.width)
        self.table.doubleClicked.connect(lambda _index: self.open_pdf())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        QShortcut(QKeySequence.StandardKey.Find, self, lambda: (self.search.setFocus(), self.search.selectAll()))

        self.empty = EmptyState("", "")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addLayout(self.stack, 1)

        self.model.count_changed.connect(self._on_count)
        self.model.load_failed.connect(self._on_failed)
        self.model.loading_changed.connect(
            lambda loading: loading and not self.count_label.text() and self.count_label.setText("Loading…"))
        self._apply_permissions()
        self.refresh()

    # -- permissions ---------------------------------------------------------------------------
    def _apply_permissions(self) -> None:
        can_edit = self.ctx.actor.can(Permission.BILLING_EDIT)
        for button in (self.print_button, self.email_button, self.void_button, self.mail_settings_button):
            button.setVisible(can_edit)
        if self.ctx.read_only:
            for button in (self.print_button, self.email_button, self.void_button):
                button.setEnabled(False)
                button.setToolTip(f"The database is read-only: {self.ctx.db.read_only_reason}")
        self._update_actions()

    def _update_actions(self) -> None:
        rows = self.selected_rows()
        self.open_button.setEnabled(len(rows) == 1 or (not rows and self.table.currentIndex().isValid()))
        if not self.ctx.read_only:
            self.void_button.setEnabled(len(rows) == 1 and rows[0].status != VOID)
            self.email_button.setEnabled(bool(rows))

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the company choices and the rows."""
        self.ctx.runner.submit(lambda: accounts.lookups(self.ctx.uow(), self.ctx.actor).companies,
                               self._fill_companies, lambda _exc: self._on_filter(),
                               key=f"invoice-companies:{id(self)}", owner=self)

    def _fill_companies(self, companies: list) -> None:
        chosen = self.company_filter.currentData()
        self.company_filter.blockSignals(True)
        while self.company_filter.count() > 1:
            self.company_filter.removeItem(1)
        for company in companies:
            self.company_filter.addItem(company.name, company.id)
        self.company_filter.setCurrentIndex(max(0, self.company_filter.findData(chosen)) if chosen else 0)
        self.company_filter.blockSignals(False)
        self.company_filter.setVisible(len(companies) > 1)
        self._on_filter()

    def current_query(self) -> InvoiceQuery:
        return InvoiceQuery(
            status=self.status_filter.currentData(), date_from=_picked(self.date_from), date_to=_picked(self.date_to),
            company_id=self.company_filter.currentData(), search=self.search.text().strip(),
        )

    def _on_filter(self) -> None:
        self.model.set_query(self.current_query())

    def set_filters(self, *, status: str | None = None, date_from: date | None = None, date_to: date | None = None,
                    search: str = "") -> None:
        """Set every filter at once (one reload): links from elsewhere, and tests."""
        widgets = (self.status_filter, self.date_from, self.date_to, self.search)
        for widget in widgets:
            widget.blockSignals(True)
        self.status_filter.setCurrentIndex(max(0, self.status_filter.findData(status)) if status else 0)
        self.date_from.setDate(QDate(date_from) if date_from else ANY_DATE)
        self.date_to.setDate(QDate(date_to) if date_to else ANY_DATE)
        self.search.setText(search)
        for widget in widgets:
            widget.blockSignals(False)
        self._on_filter()

    def _on_count(self, count: int) -> None:
        self.count_label.setText(f"{count:,} invoice{'s' if count != 1 else ''}")
        self._update_actions()
        if count:
            self.stack.setCurrentWidget(self.table)
            return
        q = self.model.query
        if q.search or q.status or q.date_from or q.date_to or q.company_id:
            self.empty.set_message("No invoices match", "No invoice matches these filters. Search an invoice "
                                   "number, or an account's number or name; or clear a filter.")
        else:
            self.empty.set_message("No invoices yet", "Invoices appear here after a bill run (Billing → Bill runs). "
                                   "Each can be opened as a PDF, printed, e-mailed or voided.")
        self.stack.setCurrentWidget(self.empty)

    def _on_failed(self, exc: BaseException) -> None:
        if self.model.rowCount():
            self.count_label.setText(f"Some rows did not load: {exc}")
            return
        self.count_label.setText("")
        self.empty.set_message("The invoices could not be loaded", str(exc))
        self.stack.setCurrentWidget(self.empty)

    # -- selection -----------------------------------------------------------------------------
    def selected_rows(self) -> list[InvoiceRow]:
        """The selected rows that are loaded, top to bottom."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        found = [self.model.row(r) for r in rows]
        return [row for row in found if row is not None]

    def _current_row(self) -> InvoiceRow | None:
        rows = self.selected_rows()
        if rows:
            return rows[0]
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.finished.emit(text)

    def _inform(self, title: str, text: str, details: str = "", warning: bool = False) -> None:
        """A summary the user reads and closes (non-modal: the list stays usable)."""
        self.last_message = (title, text, details)
        box = QMessageBox(QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information, title, text,
                          QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, Cancelled):
                return
            if not isinstance(exc, RiserError):
                log.error("%s failed:\n%s", what, getattr(exc, "__riser_traceback__", repr(exc)))
            self._say("")
            self._inform(what, f"{what} did not finish: {exc}", warning=True)
        return failed

    # -- Open PDF --------------------------------------------------------------------------------
    def open_pdf(self) -> None:
        row = self._current_row()
        if row is None:
            return
        folder = Path(tempfile.gettempdir()) / "riser-invoices"

        def op() -> str:
            doc = documents.invoice_document(self.ctx.uow(), self.ctx.actor, row.id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"invoice-{doc.number}.pdf"
            render_invoice(doc, path)
            return str(path)

        def done(path: str) -> None:
            self._say(f"Opened invoice {row.number}")
            self.open_url(QUrl.fromLocalFile(path))
            self.pdf_opened.emit(path)

        self._say(f"Rendering invoice {row.number}…")
        self.ctx.runner.submit(op, done, self._failed("Opening the PDF"), label=f"Invoice {row.number} PDF",
                               owner=self)

    # -- Print batch -----------------------------------------------------------------------------
    def print_batch(self) -> None:
        dialog = PrintBatchDialog(len(self.selected_rows()), self.model.rowCount(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        scope, paper_only = dialog.choice()
        suggested = str(Path.home() / f"invoices-{date.today().isoformat()}.pdf")
        path, _ = QFileDialog.getSaveFileName(self, "Save the print batch", suggested, "PDF (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        ids = [r.id for r in self.selected_rows()] if scope == "selected" else None
        self.run_print_batch(ids, path, paper_only=paper_only)

    def run_print_batch(self, ids: list[int] | None, path: str | Path, *, paper_only: bool = True,
                        open_when_done: bool = True) -> Task:
        """Print ``ids`` (None: every invoice the filters select) into one PDF at ``path``."""
        query = self.model.query

        def op(task: TaskContext) -> documents.PrintBatch:
            wanted = ids if ids is not None else all_invoice_ids(self.ctx, query, task.check)
            try:
                return documents.print_batch(self.ctx.uow, self.ctx.actor, wanted, path, paper_only=paper_only,
                                             progress=task.progress, cancelled=lambda: task.cancelled)
            except documents.Cancelled:
                raise Cancelled() from None

        def done(batch: documents.PrintBatch) -> None:
            self._say(f"Printed {batch.summary} to {Path(batch.path).name}")
            if open_when_done:
                self.open_url(QUrl.fromLocalFile(batch.path))

        self._say("Making the print batch…")
        return self.ctx.runner.submit(op, done, self._failed("The print batch"), label="Print batch", owner=self,
                                      writes=True, with_context=True)

    # -- E-mail ----------------------------------------------------------------------------------
    def email_selected(self) -> None:
        rows = [r for r in self.selected_rows() if r.status != VOID]
        if not rows:
            self._inform("E-mail invoices", "Select the invoices to e-mail (void invoices are not sent).")
            return
        settings = SmtpSettings.load()
        if not settings.host or not settings.from_address:
            dialog = MailSettingsDialog(self.ctx, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            settings = SmtpSettings.load()
        count = len(rows)
        if not confirm(self, "E-mail invoices",
                       f"E-mail {count} invoice{'s' if count != 1 else ''} to the accounts' billing contacts "
                       f"through {settings.where}?", f"Send {count}"):
            return
        self.run_email([r.id for r in rows], settings)

    def run_email(self, ids: list[int], settings: SmtpSettings) -> Task:
        """Send ``ids`` with a progress dialog that can cancel; a summary when done."""
        progress = QProgressDialog(f"E-mailing {len(ids)} invoices…", "Cancel", 0, len(ids), self)
        progress.setWindowTitle("E-mail invoices")
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        self.progress_dialog = progress

        def op(task: TaskContext) -> mailing.SendResult:
            return mailing.send_invoices(self.ctx.uow, self.ctx.actor, ids, settings, self.ctx.secrets,
                                         progress=task.progress, cancelled=lambda: task.cancelled)

        def on_progress(t: Task) -> None:
            if t is task:
                progress.setMaximum(max(1, t.total))
                progress.setValue(t.done)
                if t.text:
                    progress.setLabelText(f"E-mailing {t.text}… ({t.done + 1} of {t.total})")

        def finish() -> None:
            try:
                self.ctx.runner.task_progress.disconnect(on_progress)
            except (RuntimeError, TypeError):
                pass
            progress.close()
            progress.deleteLater()

        def done(result: mailing.SendResult) -> None:
            finish()
            self._say(f"E-mail: {result.summary}")
            details = []
            for title, items in (("Without an e-mail address", result.no_address), ("Failed", result.failed),
                                 ("Skipped", result.skipped)):
                if items:
                    details.append(title + ":")
                    details += [f"  {n.number} (account {n.account_number}): {n.reason}" for n in items]
            self._inform("E-mail invoices", result.summary[:1].upper() + result.summary[1:] + ".", "\n".join(details),
                         warning=bool(result.failed or result.stopped))
            self.model.reload()

        def failed(exc: BaseException) -> None:
            finish()
            self._failed("E-mailing the invoices")(exc)

        task = self.ctx.runner.submit(op, done, failed, label="E-mailing invoices", owner=self, with_context=True)
        self.ctx.runner.task_progress.connect(on_progress)
        progress.canceled.connect(task.cancel)  # the batch stops after the invoice being sent
        return task

    # -- Void ------------------------------------------------------------------------------------
    def void_selected(self) -> VoidDialog | None:
        row = self._current_row()
        if row is None or row.status == VOID:
            return None
        dialog = VoidDialog(self.ctx, row, self)
        dialog.voided.connect(lambda r: (self._say(f"Invoice {r.number} is void"), self.model.reload()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- Export ----------------------------------------------------------------------------------
    def export(self, path: str | Path | None = None) -> Task | None:
        """The filtered list to CSV (or XLSX when the name says so)."""
        if path is None:
            suggested = str(Path.home() / f"invoices-{date.today().isoformat()}.csv")
            chosen, _ = QFileDialog.getSaveFileName(self, "Export invoices", suggested,
                                                    "CSV (*.csv);;Excel workbook (*.xlsx)")
            if not chosen:
                return None
            path = chosen
        target = Path(path)
        fmt = ExportFormat.for_path(target) or ExportFormat.CSV
        query = self.model.query

        def op(task: TaskContext) -> int:
            return invoicing.export_invoices(self.ctx.uow(), self.ctx.actor, target, fmt, query,
                                             progress=lambda done, total: task.progress(done, total),
                                             check=task.check)

        def done(count: int) -> None:
            self._say(f"Exported {count:,} invoices to {target.name}")

        return self.ctx.runner.submit(op, done, self._failed("The export"), label="Exporting invoices", owner=self,
                                      with_context=True)

    # -- Mail settings ---------------------------------------------------------------------------
    def mail_settings(self) -> None:
        MailSettingsDialog(self.ctx, self).exec()


__all__ = ["INVOICE_COLUMNS", "InvoicesModel", "InvoicesPanel", "PrintBatchDialog", "VoidDialog"]
