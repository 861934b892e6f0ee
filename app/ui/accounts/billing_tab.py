"""The account's Billing tab: what the account is sold, what it owes, and what comes next.

    tab = BillingTab(ctx, account_id)   # or BillingTab(ctx) and tab.load(account_id) later
    tab.changed.connect(...)            # something was sold, ended, scheduled or paid

- **The header strip**: the balance (red when owed, green when in credit), the open invoices,
  and the dates to come — "Next bill Dec 1 · due Dec 15 · delinquent Dec 23 if unpaid". The
  next bill and its due date come from the billing calculator; "delinquent … if unpaid" is the
  one ``delinquency.upcoming_dates`` gives for invoices already open, else the calculator's for
  the next invoice; a late fee and a status switch to come are named too.
- **Services & packages** (``subscriptions.account_lines``), a package's services under it:
  quantity, price (an override is marked, its reason in the tooltip), from/to, billed through,
  and the discounts with their cycles ("2 of 6"). Ended lines are greyed, lines to come are in
  italics. Actions: **Add service… / Add package…** now or on a date — a date after today
  schedules an event (``schedule_event``: the Scheduled events tab lists it and can cancel it),
  today or earlier applies now; **Remove…** (the last day: today or earlier ends it now, a later
  day schedules its removal for the day after); **Change quantity…**; **Price override…**
  (amount and a required reason; "Use the list price" clears it); **Add discount…**. Errors show
  under the field they are about (``ValidationError.field``).
- **Ledger** (every entry with the running balance) and **Invoices** (double-click, or Open
  PDF, renders the invoice to a temporary file on the task runner and opens it).
- **Take payment…** (``TakePaymentDialog`` on this account), **Billing calculator…** (the next
  invoice line by line) and **Billing profile…** (bill day, tax exemption, paper, roll-up,
  delinquency exclusion).

Everything loads on the task runner; a result for an account no longer shown is dropped. After
a change the tab reloads itself and emits ``changed`` (the account page refreshes its header,
History and Scheduled events). Without ``billing.edit`` (or on a read-only database) the actions
are disabled and say why; without ``billing.view`` the account page leaves the tab out.
"""

from __future__ import annotations

import html
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.billing import calculator, catalogue, delinquency, documents, invoicing, ledger
from app.billing import handlers as events
from app.billing import models as m
from app.billing import subscriptions as subs
from app.billing.calculator import CalculatorResult, WhatIfResult
from app.billing.delinquency import UpcomingDates
from app.billing.invoicing import InvoiceQuery, InvoiceRow
from app.billing.ledger import LedgerRow, LedgerSummary
from app.billing.pdf import render_invoice
from app.billing.subscriptions import AccountLine, LineDiscount, Profile, ProfileInput
from app.core.errors import ConflictError, RiserError, ValidationError
from app.core.money import format_minor
from app.core.permissions import Permission
from app.scheduling import service as scheduling
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

log = logging.getLogger(__name__)

LINE_HEADERS = ["Service", "Qty", "Price", "From", "To", "Billed through", "Discounts"]
LEDGER_HEADERS = ["Date", "Entry", "Amount", "Balance"]
INVOICE_HEADERS = ["Invoice", "Issued", "Due", "Total", "Paid", "Status"]
CALC_HEADERS = ["Description", "Qty", "Unit", "Amount"]
OWED_COLOUR, CREDIT_COLOUR, MUTED_COLOUR, OK_COLOUR = "#c62828", "#2e7d32", "#5b6673", "#2e7d32"
OVERRIDE_COLOUR = "#8a5a00"
STATUS_LABELS = {m.OPEN: "Open", m.PAID: "Paid", m.VOID: "Void"}
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LINE_ROLE = Qt.ItemDataRole.UserRole  # an AccountLine, or ("package", account_package_id, [lines])


# -- words ---------------------------------------------------------------------------------------

def day_text(day: date | None, today: date | None = None) -> str:
    """"Dec 1" (this year), "Dec 1, 2027" (another year), "" for none."""
    if day is None:
        return ""
    text = f"{day:%b} {day.day}"
    return text if today is not None and day.year == today.year else f"{text}, {day.year}"


def discount_text(d: LineDiscount) -> str:
    """"Loyalty 10 % (2 of 6)", "Welcome 5.00 (once)", "Staff 15 %" (every period)."""
    text = f"{d.name} {d.amount_text}"
    if d.recurrence == m.EXPIRING:
        return f"{text} ({d.cycles_used} of {d.cycles})"
    if d.recurrence == m.ONCE:
        return f"{text} (once{', used' if d.cycles_used else ''})"
    return text


def dates_text(calc: CalculatorResult | None, upcoming: UpcomingDates | None, today: date) -> str:
    """The header's line of dates to come, e.g. "Next bill Dec 1 · due Dec 15 · delinquent Dec
    23 if unpaid"."""
    parts: list[str] = []
    if calc is not None and not calc.empty:
        bill = f"Next bill {day_text(calc.bill_date, today)}"
        if calc.overdue:
            bill += " (not yet run)"
        parts.append(bill)
        parts.append(f"due {day_text(calc.due_on, today)}")
    elif calc is not None:
        parts.append("Nothing to bill next")
    delinquent_on = None
    if upcoming is not None:
        if upcoming.late_fee_on is not None:
            parts.append(f"late fee {day_text(upcoming.late_fee_on, today)} ({upcoming.late_fee_invoice})")
        if upcoming.delinquent_since is not None:
            parts.append(f"delinquent since {day_text(upcoming.delinquent_since, today)}")
        delinquent_on = upcoming.delinquent_on
    if delinquent_on is None and calc is not None and not calc.empty and (
            upcoming is None or upcoming.delinquent_since is None):
        delinquent_on = calc.delinquent_on
    if delinquent_on is not None:
        parts.append(f"delinquent {day_text(delinquent_on, today)} if unpaid")
    if upcoming is not None and upcoming.switch_status:
        if upcoming.status_switched_on is not None:
            parts.append(f"{upcoming.switch_status} since {day_text(upcoming.status_switched_on, today)}")
        elif upcoming.status_switch_on is not None:
            parts.append(f"{upcoming.switch_status} on {day_text(upcoming.status_switch_on, today)}")
    return " · ".join(parts)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, RiserError):
        return str(exc)
    return f"Something went wrong: {exc}" if str(exc) else f"Something went wrong ({type(exc).__name__})."


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _picked(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


def _date_edit(day: date) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(_qdate(day))
    edit.setMaximumWidth(150)
    return edit


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


def _cell(text: str, *, right: bool = False, colour: str | None = None, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(RIGHT)
    if colour:
        item.setForeground(QBrush(QColor(colour)))
    if tip:
        item.setToolTip(tip)
    return item


def _section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600;")
    return label


# -- loading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BillingData:
    account_id: int
    today: date
    lines: list[AccountLine]
    summary: LedgerSummary
    entries: list[LedgerRow]
    invoices: list[InvoiceRow]
    upcoming: UpcomingDates | None
    calc: CalculatorResult | None
    calc_error: str = ""

    @property
    def currency(self) -> str:
        return self.summary.currency

    def money(self, minor: int) -> str:
        return format_minor(minor, self.currency)


def load_billing(ctx: AppContext, account_id: int, today: date) -> BillingData:
    """Everything the tab shows (on the task runner). The calculator and the dates to come are
    a preview: if they fail (a catalogue half set up), the rest still shows, with the reason."""
    uow, actor = ctx.uow, ctx.actor
    lines = subs.account_lines(uow(), actor, account_id, today)
    summary = ledger.summary(uow(), actor, account_id)
    entries = ledger.entries(uow(), actor, account_id)
    invoices = invoicing.list_invoices(uow(), actor, InvoiceQuery(account_id=account_id), limit=500)
    calc, calc_error = None, ""
    try:
        calc = calculator.next_invoice(uow(), actor, account_id, today)
    except RiserError as exc:
        calc_error = str(exc)
    try:
        upcoming = delinquency.upcoming_dates(uow(), actor, account_id, today)
    except RiserError:
        upcoming = None
    return BillingData(account_id, today, lines, summary, entries, invoices, upcoming, calc, calc_error)


# -- the tab -------------------------------------------------------------------------------------

class BillingTab(QWidget):
    changed = Signal()  # a line, a discount, the profile or a payment changed (or an event was scheduled)
    loaded = Signal(object)  # BillingData
    pdf_opened = Signal(str)  # the file an invoice was rendered to

    def __init__(self, ctx: AppContext, account_id: int | None = None, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        """``today``: the clock the tab reads dates from (tests pass a fixed one)."""
        super().__init__(parent)
        self.ctx = ctx
        self.today = today
        self.setObjectName("BillingTab")
        self.account_id: int | None = None
        self.data: BillingData | None = None
        self.dialog: QDialog | None = None
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.editable = ctx.actor.can(Permission.BILLING_EDIT) and not ctx.read_only
        self.not_editable_reason = (f"The database is read-only: {ctx.db.read_only_reason}" if ctx.read_only else
                                    f"{ctx.actor.role} users can see billing but not change it.")

        # Header strip.
        self.balance_label = QLabel("")
        self.balance_label.setObjectName("BillingBalance")
        self.invoices_label = QLabel("")
        self.invoices_label.setObjectName("OpenInvoicesLabel")
        self.dates_label = QLabel("")
        self.dates_label.setObjectName("UpcomingDates")
        self.dates_label.setTextFormat(Qt.TextFormat.RichText)
        self.dates_label.setWordWrap(True)
        self.rollup_label = QLabel("")
        self.rollup_label.setObjectName("RollUpNote")
        self.rollup_label.setWordWrap(True)
        self.rollup_label.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.rollup_label.hide()
        self.payment_button = QPushButton("Take payment…")
        self.payment_button.setObjectName("TakePayment")
        self.payment_button.clicked.connect(self.take_payment)
        self.calculator_button = QPushButton("Billing calculator…")
        self.calculator_button.setObjectName("BillingCalculator")
        self.calculator_button.setToolTip("The next invoice, line by line, before the bill run makes it")
        self.calculator_button.clicked.connect(self.open_calculator)
        self.profile_button = QPushButton("Billing profile…")
        self.profile_button.setObjectName("BillingProfile")
        self.profile_button.setToolTip("Bill day, tax exemption, paper invoices, roll-up, delinquency")
        self.profile_button.clicked.connect(self.open_profile)
        strip = QFrame()
        strip.setObjectName("BillingStrip")
        strip.setStyleSheet("QFrame#BillingStrip { background: #f4f6f8; border: 1px solid #dde3e8; "
                            "border-radius: 4px; }")
        numbers = QVBoxLayout()
        numbers.setSpacing(2)
        numbers.addWidget(self.balance_label)
        numbers.addWidget(self.invoices_label)
        strip_layout = QHBoxLayout(strip)
        strip_layout.setContentsMargins(10, 6, 10, 6)
        strip_layout.addLayout(numbers)
        strip_layout.addSpacing(18)
        middle = QVBoxLayout()
        middle.setSpacing(2)
        middle.addWidget(self.dates_label)
        middle.addWidget(self.rollup_label)
        strip_layout.addLayout(middle, 1)
        for button in (self.payment_button, self.calculator_button):
            strip_layout.addWidget(button)

        # Services & packages.
        self.add_service_button = QPushButton("Add service…")
        self.add_service_button.setObjectName("AddService")
        self.add_service_button.clicked.connect(lambda: self.open_add_dialog("service"))
        self.add_package_button = QPushButton("Add package…")
        self.add_package_button.setObjectName("AddPackage")
        self.add_package_button.clicked.connect(lambda: self.open_add_dialog("package"))
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("RemoveLine")
        self.remove_button.clicked.connect(self.open_remove_dialog)
        self.quantity_button = QPushButton("Change quantity…")
        self.quantity_button.setObjectName("ChangeQuantity")
        self.quantity_button.clicked.connect(self.open_quantity_dialog)
        self.price_button = QPushButton("Price override…")
        self.price_button.setObjectName("PriceOverride")
        self.price_button.clicked.connect(self.open_price_dialog)
        self.discount_button = QPushButton("Add discount…")
        self.discount_button.setObjectName("AddDiscount")
        self.discount_button.clicked.connect(self.open_discount_dialog)
        self.edit_buttons = (self.add_service_button, self.add_package_button, self.remove_button,
                             self.quantity_button, self.price_button, self.discount_button, self.payment_button)
        self.lines_count = QLabel("")
        self.lines_count.setObjectName("CountLabel")
        bar = QHBoxLayout()
        bar.addWidget(_section_title("Services & packages"))
        bar.addWidget(self.lines_count)
        bar.addStretch(1)
        bar.addWidget(self.profile_button)
        # The actions in a column beside the list: the tab stays narrow enough for a small window.
        actions = QVBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_service_button, self.add_package_button, self.discount_button):
            actions.addWidget(button)
        actions.addSpacing(12)
        for button in (self.remove_button, self.quantity_button, self.price_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self.lines = QTreeWidget()
        self.lines.setObjectName("BillingLines")
        self.lines.setColumnCount(len(LINE_HEADERS))
        self.lines.setHeaderLabels(LINE_HEADERS)
        self.lines.setRootIsDecorated(False)  # turned on when a package has services under it
        self.lines.setUniformRowHeights(True)
        self.lines.setStyleSheet("QTreeWidget#BillingLines::item { min-height: 24px; }")
        self.lines.setAlternatingRowColors(True)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.lines.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((280, 44, 190, 92, 92, 112)):
            self.lines.setColumnWidth(col, width)
        self.lines.itemSelectionChanged.connect(self._update_buttons)
        self.lines_empty = QLabel("")
        self.lines_empty.setObjectName("EmptyLines")
        self.lines_empty.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.lines_empty.hide()

        # Ledger and invoices, side by side.
        self.ledger_table = _table(LEDGER_HEADERS, "LedgerTable")
        lh = self.ledger_table.horizontalHeader()
        for col in (0, 2, 3):
            lh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        lh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.invoices_table = _table(INVOICE_HEADERS, "InvoicesTable")
        ih = self.invoices_table.horizontalHeader()
        for col in range(len(INVOICE_HEADERS)):
            ih.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        ih.setStretchLastSection(True)
        self.invoices_table.doubleClicked.connect(lambda _i: self.open_pdf())
        self.invoices_table.setToolTip("Double-click an invoice to open its PDF")
        self.invoices_table.itemSelectionChanged.connect(self._update_buttons)
        self.open_pdf_button = QPushButton("Open PDF")
        self.open_pdf_button.setObjectName("OpenInvoicePdf")
        self.open_pdf_button.clicked.connect(self.open_pdf)

        ledger_box = QWidget()
        lv = QVBoxLayout(ledger_box)
        lv.setContentsMargins(0, 0, 4, 0)
        ledger_title = _section_title("Ledger")
        ledger_title.setMinimumHeight(self.open_pdf_button.sizeHint().height())  # in line with "Invoices"
        lv.addWidget(ledger_title)
        lv.addWidget(self.ledger_table, 1)
        invoices_box = QWidget()
        iv = QVBoxLayout(invoices_box)
        iv.setContentsMargins(4, 0, 0, 0)
        ibar = QHBoxLayout()
        ibar.addWidget(_section_title("Invoices"))
        ibar.addStretch(1)
        ibar.addWidget(self.open_pdf_button)
        iv.addLayout(ibar)
        iv.addWidget(self.invoices_table, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.setChildrenCollapsible(False)
        bottom.addWidget(ledger_box)
        bottom.addWidget(invoices_box)
        bottom.setSizes([500, 500])

        self.message = QLabel("")
        self.message.setObjectName("BillingMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addLayout(bar)
        beside = QHBoxLayout()
        listing = QVBoxLayout()
        listing.addWidget(self.lines, 1)
        listing.addWidget(self.lines_empty)
        beside.addLayout(listing, 1)
        beside.addLayout(actions)
        tv.addLayout(beside, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([260, 240])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(strip)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

        if not self.editable:
            for button in self.edit_buttons:
                button.setEnabled(False)
                button.setToolTip(self.not_editable_reason)
        self._update_buttons()
        if account_id is not None:
            self.load(account_id)

    # -- loading -------------------------------------------------------------------------------
    def load(self, account_id: int) -> None:
        if account_id != self.account_id:
            self.data = None
            self.lines.clear()
            self.ledger_table.setRowCount(0)
            self.invoices_table.setRowCount(0)
            self.balance_label.setText("Loading…")
            self.invoices_label.setText("")
            self.dates_label.setText("")
            self.rollup_label.hide()
            self.message.hide()
        self.account_id = account_id
        ctx, today = self.ctx, self.today()
        ctx.runner.submit(lambda: load_billing(ctx, account_id, today), self._fill, self._load_failed,
                          label="Loading billing", key=f"billing-tab:{id(self)}", owner=self)

    def reload(self) -> None:
        if self.account_id is not None:
            self.load(self.account_id)

    def _load_failed(self, exc: BaseException) -> None:
        self.balance_label.setText("")
        self.say(f"Billing could not be loaded: {error_text(exc)}", ok=False)

    def _fill(self, data: BillingData) -> None:
        if data.account_id != self.account_id:
            return  # another account was opened meanwhile
        self.data = data
        self._fill_header(data)
        self._fill_lines(data)
        self._fill_ledger(data)
        self._fill_invoices(data)
        self._update_buttons()
        self.loaded.emit(data)

    def _fill_header(self, data: BillingData) -> None:
        s = data.summary
        if s.balance > 0:
            text, colour = f"Balance {data.money(s.balance)} owed", OWED_COLOUR
        elif s.balance < 0:
            text, colour = f"Credit {data.money(-s.balance)}", CREDIT_COLOUR
        else:
            text, colour = f"Balance {data.money(0)}", MUTED_COLOUR
        self.balance_label.setText(text)
        self.balance_label.setStyleSheet(f"font-size: 16px; font-weight: 600; color: {colour};")
        n = len(s.open_invoices)
        self.invoices_label.setText(
            f"{n} open invoice{'s' if n != 1 else ''}" + (f" · {data.money(s.open_due)} due" if n else ""))
        self.invoices_label.setStyleSheet(f"color: {MUTED_COLOUR};")
        dates = html.escape(dates_text(data.calc, data.upcoming, data.today))
        calc = data.calc
        if calc is not None and not calc.empty:
            dates += (f"<br><span style='color:{MUTED_COLOUR}'>Next invoice {calc.money(calc.total)} "
                      f"(Billing calculator… shows it line by line)</span>")
        if data.calc_error:
            dates = (dates + "<br>" if dates else "") + f"Next invoice: {html.escape(data.calc_error)}"
        self.dates_label.setText(dates)
        rolled = data.calc.rolled_up_text if data.calc is not None else ""
        self.rollup_label.setText(rolled)
        self.rollup_label.setVisible(bool(rolled))

    def _line_item(self, line: AccountLine, data: BillingData, parent: QTreeWidget | QTreeWidgetItem) -> QTreeWidgetItem:
        discounts = [discount_text(d) for d in line.discounts]
        frequency = "" if line.frequency_months == 1 or line.kind in m.ONE_OFF_KINDS else \
            f" / {line.frequency_months} months"
        price = format_minor(line.unit_price, line.currency) + frequency
        if line.overridden:
            price += f"  ✎ (list {format_minor(line.list_price, line.currency)})"
        if line.kind in m.CREDIT_KINDS:
            price = f"−{price}"
        name = line.name + (f" — {line.cycles_text}" if line.cycles_text else "")
        item = QTreeWidgetItem(parent, [
            name, str(line.quantity), price, line.starts_on.isoformat(),
            line.ends_on.isoformat() if line.ends_on else "",
            line.billed_through.isoformat() if line.billed_through else "not yet", "; ".join(discounts),
        ])
        item.setData(0, LINE_ROLE, line)
        item.setTextAlignment(1, RIGHT)
        item.setTextAlignment(2, RIGHT)
        item.setToolTip(0, f"{line.kind_label}" + (f" · in {line.package_name}" if line.in_package else ""))
        if line.overridden:
            item.setForeground(2, QBrush(QColor(OVERRIDE_COLOUR)))
            item.setToolTip(2, f"Price override: {line.override_reason or 'no reason given'} "
                               f"(list price {format_minor(line.list_price, line.currency)})")
        if discounts:
            item.setToolTip(6, "\n".join(d.text for d in line.discounts))
        if line.state == "ended":
            for col in range(len(LINE_HEADERS)):
                item.setForeground(col, QBrush(QColor("#9aa4ae")))
            item.setToolTip(0, f"Ended {line.ends_on.isoformat() if line.ends_on else ''}")
        elif line.state == "future":
            font = QFont(item.font(0))
            font.setItalic(True)
            for col in range(len(LINE_HEADERS)):
                item.setFont(col, font)
            item.setToolTip(0, f"Starts {line.starts_on.isoformat()}")
        return item

    def _fill_lines(self, data: BillingData) -> None:
        chosen = self.selected_line()
        chosen_key = (chosen.id if isinstance(chosen, AccountLine) else ("package", chosen[1])) if chosen else None
        self.lines.clear()
        groups: dict[int, QTreeWidgetItem] = {}
        running = 0
        reselect: QTreeWidgetItem | None = None
        for line in data.lines:
            if line.state != "ended":
                running += 1
            parent: QTreeWidget | QTreeWidgetItem = self.lines
            if line.account_package_id is not None:
                group = groups.get(line.account_package_id)
                if group is None:
                    members = [ln for ln in data.lines if ln.account_package_id == line.account_package_id]
                    state = "ended" if all(ln.state == "ended" for ln in members) else line.state
                    ends = line.ends_on.isoformat() if line.ends_on else ""
                    pkg_discounts = "; ".join(discount_text(d) for d in line.package_discounts)
                    total = sum(ln.amount for ln in members if ln.state != "ended")
                    group = QTreeWidgetItem(self.lines, [
                        f"{line.package_name} (package)", "", format_minor(total, line.currency),
                        line.starts_on.isoformat(), ends, "", pkg_discounts])
                    group.setData(0, LINE_ROLE, ("package", line.account_package_id, members))
                    group.setToolTip(0, "A package: the invoice shows one line for it (rolled up)"
                                     if line.package_roll_up else "A package: the invoice shows each service")
                    group.setToolTip(2, "All its services, per month")
                    group.setTextAlignment(2, RIGHT)
                    font = QFont(group.font(0))
                    font.setBold(True)
                    group.setFont(0, font)
                    if state == "ended":
                        for col in range(len(LINE_HEADERS)):
                            group.setForeground(col, QBrush(QColor("#9aa4ae")))
                    groups[line.account_package_id] = group
                    if chosen_key == ("package", line.account_package_id):
                        reselect = group
                parent = group
            item = self._line_item(line, data, parent)
            if chosen_key == line.id:
                reselect = item
        self.lines.setRootIsDecorated(bool(groups))
        self.lines.expandAll()
        n = len(data.lines)
        self.lines_count.setText(f"{running} running" + (f", {n - running} ended" if n - running else "") if n else "")
        self.lines_empty.setText("Nothing sold yet. Add service… or Add package… sells the first one."
                                 if self.editable else "Nothing sold to this account yet.")
        self.lines_empty.setVisible(not n)
        if reselect is not None:
            self.lines.setCurrentItem(reselect)

    def _fill_ledger(self, data: BillingData) -> None:
        t = self.ledger_table
        t.setRowCount(0)
        for e in reversed(data.entries):  # newest first; the balance after each, as it was then
            r = t.rowCount()
            t.insertRow(r)
            description = e.description or e.kind_label
            if e.kind_label not in description:
                description = f"{e.kind_label} · {description}"
            t.setItem(r, 0, _cell(e.posted_on.isoformat()))
            t.setItem(r, 1, _cell(description, tip=f"by {e.created_by}" if e.created_by else ""))
            t.setItem(r, 2, _cell(data.money(e.amount), right=True,
                                  colour=CREDIT_COLOUR if e.amount < 0 else None))
            t.setItem(r, 3, _cell(data.money(e.balance), right=True))

    def _fill_invoices(self, data: BillingData) -> None:
        t = self.invoices_table
        t.setRowCount(0)
        for inv in data.invoices:
            r = t.rowCount()
            t.insertRow(r)
            status = STATUS_LABELS.get(inv.status, inv.status)
            if inv.status == m.OPEN and inv.due_on < data.today:
                status = "Overdue"
            colour = {m.PAID: OK_COLOUR, m.VOID: "#9aa4ae"}.get(inv.status, OWED_COLOUR if status == "Overdue" else None)
            number = _cell(inv.number, tip=f"{day_text(inv.period_start)} – {day_text(inv.period_end)}")
            number.setData(Qt.ItemDataRole.UserRole, inv)
            t.setItem(r, 0, number)
            t.setItem(r, 1, _cell(inv.issued_on.isoformat()))
            t.setItem(r, 2, _cell(inv.due_on.isoformat()))
            t.setItem(r, 3, _cell(format_minor(inv.total, inv.currency), right=True))
            t.setItem(r, 4, _cell(format_minor(inv.paid, inv.currency), right=True))
            t.setItem(r, 5, _cell(status, colour=colour))

    # -- selection and buttons -----------------------------------------------------------------
    def selected_line(self) -> AccountLine | tuple | None:
        """The chosen ``AccountLine``, or ("package", account_package_id, lines) for a package row."""
        item = self.lines.currentItem()
        if item is None or not item.isSelected():
            return None
        return item.data(0, LINE_ROLE)

    def selected_invoice(self) -> InvoiceRow | None:
        rows = self.invoices_table.selectionModel().selectedRows()
        index = rows[0] if rows else self.invoices_table.currentIndex()
        if not index.isValid():
            return None
        item = self.invoices_table.item(index.row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_buttons(self) -> None:
        loaded = self.data is not None
        self.calculator_button.setEnabled(loaded)
        self.profile_button.setEnabled(self.account_id is not None)
        self.open_pdf_button.setEnabled(self.selected_invoice() is not None)
        if not self.editable:
            return
        chosen = self.selected_line()
        line = chosen if isinstance(chosen, AccountLine) else None
        package = chosen if isinstance(chosen, tuple) else None
        for button in (self.add_service_button, self.add_package_button, self.discount_button, self.payment_button):
            button.setEnabled(loaded)

        def allow(button: QPushButton, ok: bool, why: str, tip: str) -> None:
            button.setEnabled(loaded and ok)
            button.setToolTip(tip if ok else why)

        pick = "Choose a service (or a package) in the list first"
        if line is not None:
            ended = line.ends_on is not None
            allow(self.remove_button, not ended, f"This service already ends on {line.ends_on}." if ended else "",
                  "End the service now or on a date" if not line.in_package else "Remove the whole package")
            allow(self.quantity_button, not ended and not line.in_package,
                  "A package's services take their quantity from the package." if line.in_package
                  else f"This service ended on {line.ends_on}.", "Change how many the account has, from a date")
            allow(self.price_button, line.state != "ended" or line.billed_through != line.ends_on,
                  "This service has ended: its price no longer matters.", "Charge this account another price")
        elif package is not None:
            members = package[2]
            ended = all(ln.ends_on is not None for ln in members)
            allow(self.remove_button, not ended, "This package already has an end date.", "End the package")
            allow(self.quantity_button, False, "Choose one service to change its quantity.", "")
            allow(self.price_button, False, "Choose one of the package's services to override its price.", "")
        else:
            for button in (self.remove_button, self.quantity_button, self.price_button):
                allow(button, False, pick, "")

    # -- messages ------------------------------------------------------------------------------
    def say(self, text: str, *, ok: bool = True) -> None:
        self.message.setText(("✓ " if ok else "") + text)
        self.message.setStyleSheet(f"color: {OK_COLOUR if ok else OWED_COLOUR};")
        self.message.setVisible(bool(text))

    def after_change(self, text: str) -> None:
        """A change was saved: say what, reload, and let the page refresh what shows it."""
        self.say(text)
        self.reload()
        self.changed.emit()

    # -- actions -------------------------------------------------------------------------------
    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _company_id(self) -> int | None:
        return self.data.calc.company_id if self.data is not None and self.data.calc is not None else None

    def open_add_dialog(self, kind: str) -> AddLineDialog | None:
        if self.account_id is None or not self.editable or self.data is None:
            return None
        return self._open(AddLineDialog(self, kind))

    def open_remove_dialog(self) -> RemoveDialog | None:
        chosen = self.selected_line()
        if chosen is None or not self.editable:
            return None
        return self._open(RemoveDialog(self, chosen))

    def open_quantity_dialog(self) -> QuantityDialog | None:
        chosen = self.selected_line()
        if not isinstance(chosen, AccountLine) or not self.editable:
            return None
        return self._open(QuantityDialog(self, chosen))

    def open_price_dialog(self) -> PriceDialog | None:
        chosen = self.selected_line()
        if not isinstance(chosen, AccountLine) or not self.editable:
            return None
        return self._open(PriceDialog(self, chosen))

    def open_discount_dialog(self) -> DiscountDialog | None:
        if self.data is None or not self.editable:
            return None
        return self._open(DiscountDialog(self))

    def open_calculator(self) -> CalculatorDialog | None:
        if self.account_id is None:
            return None
        return self._open(CalculatorDialog(self.ctx, self.account_id, self.today(), self))

    def open_profile(self) -> ProfileDialog | None:
        if self.account_id is None:
            return None
        return self._open(ProfileDialog(self))

    def take_payment(self) -> QDialog | None:
        if self.account_id is None or not self.editable:
            return None
        from app.ui.billing.payments import TakePaymentDialog

        dialog = TakePaymentDialog(self.ctx, self.account_id, self)
        dialog.saved.connect(lambda result: self.after_change(
            f"Payment of {format_minor(result.amount, result.currency)} taken"))
        return self._open(dialog)

    def open_pdf(self) -> None:
        row = self.selected_invoice()
        if row is None:
            return
        folder = Path(tempfile.gettempdir()) / "riser-invoices"
        ctx = self.ctx

        def op() -> str:
            doc = documents.invoice_document(ctx.uow(), ctx.actor, row.id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"invoice-{doc.number}.pdf"
            render_invoice(doc, path)
            return str(path)

        def done(path: str) -> None:
            self.say(f"Opened invoice {row.number}")
            self.open_url(QUrl.fromLocalFile(path))
            self.pdf_opened.emit(path)

        self.say(f"Rendering invoice {row.number}…")
        ctx.runner.submit(op, done, lambda exc: self.say(f"Invoice {row.number} could not be opened: "
                                                         f"{error_text(exc)}", ok=False),
                          label=f"Invoice {row.number} PDF", owner=self)


# -- dialogs -------------------------------------------------------------------------------------

class _FormDialog(QDialog):
    """A small form whose Save runs one service call on the task runner; a ValidationError shows
    under the field it names (``errors``), anything else under the form."""

    def __init__(self, tab: BillingTab, title: str, save_text: str = "Save") -> None:
        super().__init__(tab)
        self.tab, self.ctx = tab, tab.ctx
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.header = QLabel(f"<b>{title}</b>")
        self.header.setObjectName("FormHeader")
        self.header.setWordWrap(True)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.errors: dict[str, FieldError] = {}
        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(save_text)
        self.save_button.setDefault(True)
        # Only Save answers Enter: Cancel must not turn default when Save is disabled while it runs.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(self.form)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def add_row(self, label: str, widget: QWidget | QHBoxLayout, *fields: str) -> FieldError:
        """A row and the error line under it, shown for the ValidationError fields named."""
        self.form.addRow(label, widget)
        error = FieldError()
        self.form.addRow("", error)
        for name in fields:
            self.errors[name] = error
        return error

    def clear_errors(self) -> None:
        for error in {*self.errors.values(), self.form_error}:
            error.clear_message()

    def show_error(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError) and exc.field in self.errors:
            self.errors[exc.field].show_message(exc.message)
        elif isinstance(exc, ConflictError):
            self.form_error.show_message(f"{exc} Close this and try again: the tab shows what changed.")
        else:
            self.form_error.show_message(error_text(exc))
        self.grow()

    def grow(self) -> None:
        """Make room for a message that appeared (word-wrapped labels do not ask for it)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def run(self, op: Callable[[], object], done_text: Callable[[object], str], label: str) -> None:
        self.clear_errors()
        self.save_button.setEnabled(False)

        def done(result: object) -> None:
            self.save_button.setEnabled(True)
            self.accept()
            self.tab.after_change(done_text(result))

        self.ctx.runner.submit(op, done, self.show_error, label=label, writes=True, owner=self)

    def save(self) -> None:  # pragma: no cover - each dialog has its own
        raise NotImplementedError


class _WhenChoice(QWidget):
    """"Now (today)" or "On a date": a date after today schedules the change instead."""

    changed = Signal()

    def __init__(self, today: date, now_text: str, date_text: str, default: date | None = None) -> None:
        super().__init__()
        self.today = today
        self.now = QRadioButton(now_text)
        self.on = QRadioButton(date_text)
        group = QButtonGroup(self)
        group.addButton(self.now)
        group.addButton(self.on)
        self.date = _date_edit(default or today + timedelta(days=1))
        self.now.setChecked(True)
        self.date.setEnabled(False)
        self.on.toggled.connect(self.date.setEnabled)
        self.on.toggled.connect(lambda _on: self._changed())
        self.date.dateChanged.connect(lambda _d: self._changed())
        self.hint = QLabel("")
        self.hint.setStyleSheet(f"color: {MUTED_COLOUR};")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.now)
        row.addSpacing(10)
        row.addWidget(self.on)
        row.addWidget(self.date)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.hint)
        self._changed()

    def _changed(self) -> None:
        day = self.value()
        self.hint.setText(f"Scheduled for {day.isoformat()}: the Scheduled events tab lists it until then."
                          if self.scheduled() else "")
        self.hint.setVisible(self.scheduled())
        self.changed.emit()

    def value(self) -> date:
        return _picked(self.date) if self.on.isChecked() else self.today

    def set_date(self, day: date) -> None:
        self.on.setChecked(True)
        self.date.setDate(_qdate(day))

    def scheduled(self) -> bool:
        return self.value() > self.today


class AddLineDialog(_FormDialog):
    """Add a catalogue service or package, now or on a date (a later date schedules it)."""

    def __init__(self, tab: BillingTab, kind: str) -> None:
        super().__init__(tab, "Add a service" if kind == "service" else "Add a package", "Add")
        self.kind = kind  # service | package
        self.setObjectName("AddServiceDialog" if kind == "service" else "AddPackageDialog")
        self.today = tab.today()
        self.choice = QComboBox()
        self.choice.setObjectName("CatalogueChoice")
        self.choice.setMinimumWidth(300)
        self.choice.addItem("Loading the catalogue…", None)
        self.choice.setEnabled(False)
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 9999)
        self.quantity.setMaximumWidth(90)
        self.when = _WhenChoice(self.today, f"Now ({self.today.isoformat()})", "On")
        self.preview = QLabel("")
        self.preview.setObjectName("WhatIf")
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.add_row("Service" if kind == "service" else "Package", self.choice, "service_id", "package_id")
        self.add_row("Quantity", self.quantity, "quantity")
        self.add_row("Starts", self.when, "starts_on", "due_on", "on")
        if kind == "service":
            self.form.addRow("", self.preview)
            self.choice.currentIndexChanged.connect(lambda _i: self.update_preview())
            self.quantity.valueChanged.connect(lambda _v: self.update_preview())
            self.when.changed.connect(self.update_preview)
        self.save_button.setEnabled(False)
        ctx, company_id, today = self.ctx, tab._company_id(), self.today
        if kind == "service":
            op = lambda: catalogue.list_services(ctx.uow(), ctx.actor, company_id, enabled_only=True)
        else:
            op = lambda: catalogue.list_packages(ctx.uow(), ctx.actor, company_id, today=today, enabled_only=True)
        ctx.runner.submit(op, self._fill, self.show_error, owner=self)

    def _fill(self, rows: list) -> None:
        self.choice.clear()
        for row in rows:
            if self.kind == "service":
                text = f"{row.name} — {'−' if row.is_credit else ''}{row.price_text} · {row.frequency_text}"
            else:
                contents = ", ".join(f"{i.service}{f' ×{i.quantity}' if i.quantity != 1 else ''}" for i in row.items)
                text = f"{row.name} — {contents}"
            self.choice.addItem(text, row.id)
        self.choice.setEnabled(bool(rows))
        self.save_button.setEnabled(bool(rows))
        if not rows:
            what = "services" if self.kind == "service" else "packages"
            self.choice.addItem(f"No {what} on sale", None)
            self.form_error.show_message(f"The catalogue has no {what} on sale for this account's company "
                                         "(Billing → Catalogue).")
            self.grow()
        self.update_preview()

    def choose(self, item_id: int) -> None:
        index = self.choice.findData(item_id)
        if index >= 0:
            self.choice.setCurrentIndex(index)

    def update_preview(self) -> None:
        """What the next invoice would become (``calculator.what_if``), for a service."""
        service_id = self.choice.currentData()
        if self.kind != "service" or service_id is None or self.tab.account_id is None:
            self.preview.setText("")
            return
        ctx, account_id, today = self.ctx, self.tab.account_id, self.today
        quantity, on = self.quantity.value(), self.when.value()
        self.preview.setText("Working out the next invoice…")

        def shown(result: WhatIfResult) -> None:
            note = f" {result.after.notes[-1]}" if result.after.notes and result.difference == 0 else ""
            self.preview.setText(result.text + note)

        ctx.runner.submit(lambda: calculator.what_if(ctx.uow(), ctx.actor, account_id, today, service_id,
                                                     on=on, quantity=quantity),
                          shown, lambda exc: self.preview.setText(f"No preview: {error_text(exc)}"),
                          key=f"what-if:{id(self)}", owner=self)

    def save(self) -> None:
        item_id = self.choice.currentData()
        field = f"{self.kind}_id"
        if item_id is None:
            self.show_error(ValidationError(f"Choose the {self.kind} to add.", field))
            return
        ctx, account_id, quantity, day = self.ctx, self.tab.account_id, self.quantity.value(), self.when.value()
        name = self.choice.currentText().split(" — ")[0]
        if self.when.scheduled():
            kind = events.ADD_SERVICE if self.kind == "service" else events.ADD_PACKAGE
            payload = {field: item_id, "quantity": quantity}
            self.run(lambda: scheduling.schedule_event(ctx.uow(), ctx.actor, account_id, kind, day, payload),
                     lambda _r: f"Scheduled: add {name} on {day.isoformat()}", f"Scheduling {name}")
        elif self.kind == "service":
            self.run(lambda: subs.add_service(ctx.uow(), ctx.actor, account_id, item_id, quantity, day),
                     lambda _r: f"Added {name} from {day.isoformat()}", f"Adding {name}")
        else:
            self.run(lambda: subs.add_package(ctx.uow(), ctx.actor, account_id, item_id, quantity, day),
                     lambda _r: f"Added the package {name} from {day.isoformat()}", f"Adding {name}")


class RemoveDialog(_FormDialog):
    """End a service (or a whole package): its last day today or earlier ends it now; a later
    last day schedules the removal for the day after it."""

    def __init__(self, tab: BillingTab, chosen: AccountLine | tuple) -> None:
        line = chosen if isinstance(chosen, AccountLine) else None
        package_id = chosen[1] if line is None else line.account_package_id
        members = chosen[2] if line is None else [ln for ln in tab.data.lines if ln.account_package_id == package_id]
        name = members[0].package_name if package_id is not None else line.name
        super().__init__(tab, f"Remove the package {name}" if package_id is not None else f"Remove {name}", "Remove")
        self.line, self.package_id, self.name = line, package_id, name
        self.setObjectName("RemoveLineDialog")
        self.today = tab.today()
        if self.package_id is not None:
            self.header.setText(f"<b>Remove the package {self.name}</b><br>All its services end with it: "
                                + ", ".join(ln.name for ln in members) + ".")
        self.when = _WhenChoice(self.today, f"Today ({self.today.isoformat()})", "On")
        self.add_row("Last day of service", self.when, "ends_on", "due_on", "account_service_id",
                     "account_package_id")

    def save(self) -> None:
        ctx, account_id, last_day = self.ctx, self.tab.account_id, self.when.value()
        if self.when.scheduled():
            if self.package_id is not None:
                kind, payload = events.REMOVE_PACKAGE, {"account_package_id": self.package_id}
            else:
                kind, payload = events.REMOVE_SERVICE, {"account_service_id": self.line.id}
            due = last_day + timedelta(days=1)  # the event removes it *on* its due date
            self.run(lambda: scheduling.schedule_event(ctx.uow(), ctx.actor, account_id, kind, due, payload),
                     lambda _r: f"Scheduled: remove {self.name}, last day {last_day.isoformat()}",
                     f"Scheduling the removal of {self.name}")
        elif self.package_id is not None:
            package_id = self.package_id
            self.run(lambda: subs.end_package(ctx.uow(), ctx.actor, package_id, last_day),
                     lambda _r: f"Removed the package {self.name}, last day {last_day.isoformat()}",
                     f"Removing {self.name}")
        else:
            line_id = self.line.id
            self.run(lambda: subs.end_service(ctx.uow(), ctx.actor, line_id, last_day),
                     lambda _r: f"Removed {self.name}, last day {last_day.isoformat()}", f"Removing {self.name}")


class QuantityDialog(_FormDialog):
    def __init__(self, tab: BillingTab, line: AccountLine) -> None:
        super().__init__(tab, f"Change the quantity of {line.name}")
        self.setObjectName("QuantityDialog")
        self.line = line
        today = tab.today()
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 9999)
        self.quantity.setValue(line.quantity)
        self.quantity.setMaximumWidth(90)
        self.on = _date_edit(max(today, line.starts_on))
        note = QLabel(f"Now {line.quantity}. From this date the new quantity is billed; the days before keep "
                      "the old one (both prorated).")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.add_row("Quantity", self.quantity, "quantity")
        self.add_row("From", self.on, "on")
        self.form.addRow("", note)

    def save(self) -> None:
        ctx, line_id, quantity, on = self.ctx, self.line.id, self.quantity.value(), _picked(self.on)
        self.run(lambda: subs.change_quantity(ctx.uow(), ctx.actor, line_id, quantity, on),
                 lambda _r: f"{self.line.name}: quantity {quantity} from {on.isoformat()}", "Changing the quantity")


class PriceDialog(_FormDialog):
    """A per-account price for one line, with the reason (required); or the list price again."""

    def __init__(self, tab: BillingTab, line: AccountLine) -> None:
        super().__init__(tab, f"Price override — {line.name}")
        self.setObjectName("PriceOverrideDialog")
        self.line = line
        self.amount = QLineEdit(format_minor(line.price_override, line.currency).replace(",", "")
                                if line.price_override is not None else "")
        self.amount.setObjectName("OverrideAmount")
        self.amount.setPlaceholderText(format_minor(line.list_price, line.currency).replace(",", ""))
        self.amount.setMaximumWidth(140)
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.reason = QLineEdit(line.override_reason)
        self.reason.setObjectName("OverrideReason")
        self.reason.setMaxLength(subs.REASON_LIMIT)
        self.reason.setPlaceholderText("Why this account pays another price (loyalty, a building deal…)")
        list_price = QLabel(f"List price {format_minor(line.list_price, line.currency)} per unit. "
                            "The override applies from the next period billed.")
        list_price.setStyleSheet(f"color: {MUTED_COLOUR};")
        list_price.setWordWrap(True)
        self.form.addRow("", list_price)
        self.add_row(f"Price ({line.currency})", self.amount, "price_override")
        self.add_row("Reason", self.reason, "override_reason")
        self.clear_button = self.buttons.addButton("Use the list price", QDialogButtonBox.ButtonRole.ResetRole)
        self.clear_button.setObjectName("ClearOverride")
        self.clear_button.setAutoDefault(False)
        self.clear_button.setEnabled(line.overridden)
        self.clear_button.clicked.connect(self.clear_override)
        self.amount.textChanged.connect(lambda _t: self.errors["price_override"].clear_message())
        self.reason.textChanged.connect(lambda _t: self.errors["override_reason"].clear_message())

    def save(self) -> None:
        ctx, line_id = self.ctx, self.line.id
        amount, reason = self.amount.text().strip(), self.reason.text()
        if not amount:
            self.show_error(ValidationError(
                "Type the price this account pays (or Use the list price to remove the override).", "price_override"))
            return
        self.run(lambda: subs.set_price_override(ctx.uow(), ctx.actor, line_id, amount, reason),
                 lambda row: f"{self.line.name} now {row.price_text}", "Saving the price")

    def clear_override(self) -> None:
        ctx, line_id = self.ctx, self.line.id
        self.run(lambda: subs.set_price_override(ctx.uow(), ctx.actor, line_id, None),
                 lambda row: f"{self.line.name} back to its list price {row.price_text}", "Clearing the price")


class DiscountDialog(_FormDialog):
    """Give the account a catalogue discount on one of its running services or packages."""

    def __init__(self, tab: BillingTab) -> None:
        super().__init__(tab, "Add a discount", "Add")
        self.setObjectName("DiscountDialog")
        self.today = tab.today()
        running = [ln for ln in tab.data.lines if ln.state != "ended"]
        self.services = {ln.service_id: [] for ln in running if ln.account_package_id is None}
        for ln in running:
            if ln.account_package_id is None:
                self.services[ln.service_id].append(ln)
        self.packages: dict[int, list[tuple[int, str]]] = {}
        for ln in running:
            if ln.account_package_id is not None and ln.package_id is not None:
                entries = self.packages.setdefault(ln.package_id, [])
                if all(ap != ln.account_package_id for ap, _ in entries):
                    entries.append((ln.account_package_id, f"{ln.package_name} from {ln.starts_on.isoformat()}"))
        chosen = tab.selected_line()
        self.preferred = chosen.id if isinstance(chosen, AccountLine) and not chosen.in_package else None
        self.discounts = QComboBox()
        self.discounts.setObjectName("DiscountChoice")
        self.discounts.addItem("Loading the discounts…", None)
        self.discounts.setEnabled(False)
        self.target = QComboBox()
        self.target.setObjectName("DiscountTarget")
        self.starts = _date_edit(self.today)
        self.add_row("Discount", self.discounts, "discount_id")
        self.add_row("On", self.target, "target")
        self.add_row("Starts", self.starts, "starts_on")
        self.discounts.currentIndexChanged.connect(lambda _i: self._fill_targets())
        self.save_button.setEnabled(False)
        ctx, company_id = self.ctx, tab._company_id()
        ctx.runner.submit(lambda: catalogue.list_discounts(ctx.uow(), ctx.actor, company_id), self._fill,
                          self.show_error, owner=self)

    def _fill(self, rows: list) -> None:
        self.discounts.clear()
        usable = [d for d in rows if d.enabled and (d.service_id in self.services or d.package_id in self.packages)]
        for d in usable:
            amount = f"{format_minor(d.amount, d.currency)}" if d.kind == "fixed" else \
                f"{d.amount / 1000:g} %"
            when = {m.ONCE: "once", m.RECURRING: "every period", m.EXPIRING: f"{d.cycles} periods"}.get(d.recurrence, "")
            self.discounts.addItem(f"{d.name} — {amount} on {d.target}, {when}", d)
        if not usable:
            self.discounts.addItem("No discount applies", None)
            self.form_error.show_message("No discount in the catalogue applies to this account's services or "
                                         "packages.")
            self.grow()
        self.discounts.setEnabled(bool(usable))
        self.save_button.setEnabled(bool(usable))
        if self.preferred is not None:
            for i in range(self.discounts.count()):
                d = self.discounts.itemData(i)
                if d is not None and any(ln.id == self.preferred for ln in self.services.get(d.service_id, ())):
                    self.discounts.setCurrentIndex(i)
                    break
        self._fill_targets()

    def _fill_targets(self) -> None:
        self.target.clear()
        d = self.discounts.currentData()
        if d is None:
            return
        if d.service_id is not None:
            for ln in self.services.get(d.service_id, ()):
                self.target.addItem(f"{ln.name} from {ln.starts_on.isoformat()}", ("service", ln.id))
                if ln.id == self.preferred:
                    self.target.setCurrentIndex(self.target.count() - 1)
        else:
            for ap_id, text in self.packages.get(d.package_id, ()):
                self.target.addItem(text, ("package", ap_id))

    def save(self) -> None:
        d, target = self.discounts.currentData(), self.target.currentData()
        if d is None:
            self.show_error(ValidationError("Choose the discount.", "discount_id"))
            return
        if target is None:
            self.show_error(ValidationError("Choose the service or package it applies to.", "target"))
            return
        ctx, account_id, starts = self.ctx, self.tab.account_id, _picked(self.starts)
        service_id = target[1] if target[0] == "service" else None
        package_id = target[1] if target[0] == "package" else None
        self.run(lambda: subs.add_discount(ctx.uow(), ctx.actor, account_id, d.id, account_service_id=service_id,
                                           account_package_id=package_id, starts_on=starts),
                 lambda row: f"Discount {row.name} added from {starts.isoformat()}", "Adding the discount")


class ProfileDialog(_FormDialog):
    """The account's billing profile (``subscriptions.save_profile``)."""

    def __init__(self, tab: BillingTab) -> None:
        super().__init__(tab, "Billing profile")
        self.setObjectName("BillingProfileDialog")
        self.profile: Profile | None = None
        self.bill_day = QSpinBox()
        self.bill_day.setRange(0, 28)
        self.bill_day.setMaximumWidth(200)
        self.tax_exempt = QCheckBox("Tax exempt")
        self.certificate = QLineEdit()
        self.certificate.setMaxLength(subs.CERTIFICATE_LIMIT)
        self.certificate.setPlaceholderText("Exemption certificate reference")
        self.tax_exempt.toggled.connect(self.certificate.setEnabled)
        self.paper = QCheckBox("Wants paper invoices (the printed-invoice fee applies)")
        self.roll_up = QCheckBox("Roll its charges up into the parent account's invoice")
        self.excluded = QCheckBox("Never make it delinquent")
        self.add_row("Bill day", self.bill_day, "bill_day")
        self.add_row("", self.tax_exempt, "tax_exempt")
        self.add_row("Certificate", self.certificate, "exemption_certificate")
        self.add_row("", self.paper, "paper_invoice")
        self.add_row("", self.roll_up, "roll_up_to_parent")
        self.add_row("", self.excluded, "delinquency_excluded")
        self.next_bill = QLabel("")
        self.next_bill.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.form.addRow("", self.next_bill)
        for widget in (self.bill_day, self.tax_exempt, self.certificate, self.paper, self.roll_up, self.excluded):
            widget.setEnabled(False)
        self.save_button.setEnabled(False)
        ctx, account_id = self.ctx, tab.account_id
        # The profile row is made the first time it is asked for: a write.
        ctx.runner.submit(lambda: subs.get_profile(ctx.uow(), ctx.actor, account_id), self._fill, self.show_error,
                          writes=True, owner=self)

    def _fill(self, profile: Profile) -> None:
        self.profile = profile
        editable = self.tab.editable
        self.bill_day.setSpecialValueText(f"The company's ({profile.company_bill_day})")
        self.bill_day.setValue(profile.bill_day or 0)
        self.tax_exempt.setChecked(profile.tax_exempt)
        self.certificate.setText(profile.exemption_certificate)
        self.paper.setChecked(profile.paper_invoice)
        self.roll_up.setChecked(profile.roll_up_to_parent)
        self.excluded.setChecked(profile.delinquency_excluded)
        for widget in (self.bill_day, self.tax_exempt, self.paper, self.excluded):
            widget.setEnabled(editable)
        self.certificate.setEnabled(editable and profile.tax_exempt)
        self.roll_up.setEnabled(editable and (profile.has_parent or profile.roll_up_to_parent))
        if not profile.has_parent:
            self.roll_up.setToolTip("This account has no parent account.")
        self.next_bill.setText(f"Next bill {profile.next_bill_on.isoformat()}" if profile.next_bill_on
                               else "Not billed yet: the first service sets the first bill date.")
        self.save_button.setEnabled(editable)
        if not editable:
            self.save_button.setToolTip(self.tab.not_editable_reason)

    def save(self) -> None:
        if self.profile is None:
            return
        data = ProfileInput(
            bill_day=self.bill_day.value() or None, tax_exempt=self.tax_exempt.isChecked(),
            exemption_certificate=self.certificate.text(), paper_invoice=self.paper.isChecked(),
            roll_up_to_parent=self.roll_up.isChecked(), delinquency_excluded=self.excluded.isChecked())
        ctx, account_id, version = self.ctx, self.tab.account_id, self.profile.version
        self.run(lambda: subs.save_profile(ctx.uow(), ctx.actor, account_id, data, expected_version=version),
                 lambda _p: "Billing profile saved", "Saving the billing profile")


class CalculatorDialog(QDialog):
    """The account's next invoice, line by line, as the bill run would make it (nothing saved)."""

    loaded = Signal(object)  # CalculatorResult

    def __init__(self, ctx: AppContext, account_id: int, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.account_id, self.today = ctx, account_id, today
        self.result: CalculatorResult | None = None
        self.setObjectName("CalculatorDialog")
        self.setWindowTitle("Billing calculator")
        self.setMinimumSize(640, 420)
        self.title = QLabel("<b>Next invoice</b>")
        self.title.setObjectName("FormHeader")
        self.title.setWordWrap(True)
        self.subtitle = QLabel("Working it out…")
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.table = _table(CALC_HEADERS, "CalculatorLines")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.notes = QLabel("")
        self.notes.setObjectName("CalculatorNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.notes.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(buttons)
        ctx.runner.submit(lambda: calculator.next_invoice(ctx.uow(), ctx.actor, account_id, today), self._fill,
                          self._failed, label="Billing calculator", owner=self)

    def _failed(self, exc: BaseException) -> None:
        self.subtitle.setText(f"The next invoice could not be worked out: {error_text(exc)}")
        self.subtitle.setStyleSheet(f"color: {OWED_COLOUR};")

    def _fill(self, r: CalculatorResult) -> None:
        self.result = r
        self.title.setText(f"<b>Next invoice for {r.invoiced.number} {r.invoiced.name}</b>")
        when = (f"Bill date {day_text(r.bill_date)}{' (not yet run)' if r.overdue else ''} · period "
                f"{day_text(r.period_start)} – {day_text(r.period_end)} · due {day_text(r.due_on)}")
        if not r.scheduled:
            when += " · no bill date yet: the next bill day is assumed"
        self.subtitle.setText(when)
        t = self.table
        t.setRowCount(0)

        def add(texts: list[str], *, bold: bool = False, colour: str | None = None) -> None:
            row = t.rowCount()
            t.insertRow(row)
            for col, text in enumerate(texts):
                item = _cell(text, right=col > 0, colour=colour)
                if bold:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                t.setItem(row, col, item)

        for ln in r.charge_lines:
            colour = CREDIT_COLOUR if ln.amount < 0 else None
            unit = r.money(ln.unit_amount) if ln.quantity != 1 else ""
            add([ln.description, str(ln.quantity) if ln.quantity != 1 else "", unit, r.money(ln.amount)],
                colour=colour)
        if r.empty:
            add(["Nothing to bill on this date", "", "", r.money(0)], colour=MUTED_COLOUR)
        add(["Subtotal", "", "", r.money(r.subtotal)], bold=True)
        for ln in r.tax_lines:
            add([ln.description, "", "", r.money(ln.amount)])
        add([f"Total ({r.currency})", "", "", r.money(r.total)], bold=True)
        several = any(ln.quantity != 1 for ln in r.charge_lines)
        t.setColumnHidden(1, not several)  # Qty and Unit only say something when a quantity is not 1
        t.setColumnHidden(2, not several)
        notes = ([r.rolled_up_text] if r.rolled_up_text else []) + list(r.notes)
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.loaded.emit(r)
