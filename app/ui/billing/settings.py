"""Billing → Settings: how one company bills.

One form per company (a company picker shows when there are several): the bill day and its
mode, due / grace / status-switch days and the statuses to switch to, the late fee, the
printed-invoice fee, proration and statement mode, the currency, what invoices say (message,
remit-to address, logo), which weekdays delinquency is checked and which account types it skips,
and the exclusion dates it skips (a date without a year repeats every year). Save writes every
field at once; a refusal shows under the field it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.accounts import service as accounts
from app.accounts.service import Lookups
from app.billing import catalogue as cat
from app.billing.catalogue import CompanyRow, SettingsInput, SettingsRow
from app.core import money
from app.core.errors import ConflictError, ValidationError
from app.ui.billing.catalogue import (
    can_edit,
    field_with_error,
    money_edit,
    new_form,
    with_suffix,
)
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

IdRole = Qt.ItemDataRole.UserRole + 1
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SettingsData:
    companies: list[CompanyRow]
    settings: SettingsRow
    lookups: Lookups


def load_settings(ctx: AppContext, company_id: int | None) -> SettingsData:
    """Runs on a worker thread."""
    return SettingsData(cat.companies(ctx.uow(), ctx.actor), cat.get_settings(ctx.uow(), ctx.actor, company_id),
                        accounts.lookups(ctx.uow(), ctx.actor))


def _days(maximum: int = 365, suffix: str = " days") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, maximum)
    spin.setSuffix(suffix)
    spin.setMinimumWidth(110)
    return spin


class BillingSettingsPanel(QWidget):
    """The per-company billing settings form, with the delinquency exclusion dates."""

    saved = Signal(object)  # SettingsRow

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("BillingSettingsPanel")
        self.editable = can_edit(ctx)
        self.row: SettingsRow | None = None
        self.errors: dict[str, FieldError] = {}
        self.focus: dict[str, QWidget] = {}
        self._filling = False

        self.company = QComboBox()
        self.company.currentIndexChanged.connect(lambda _i: self._company_chosen())
        self.company_row = QWidget()
        company_layout = QHBoxLayout(self.company_row)
        company_layout.setContentsMargins(0, 0, 0, 0)
        company_layout.addWidget(QLabel("Company"))
        company_layout.addWidget(self.company)
        company_layout.addStretch(1)

        # -- billing ---------------------------------------------------------------------------
        billing = QGroupBox("Bill day and periods")
        bf = new_form()
        billing.setLayout(bf)
        self.fixed = QRadioButton("Fixed: every account on the same day")
        self.anniversary = QRadioButton("Anniversary: the day each account's service started")
        mode_group = QButtonGroup(self)
        mode_group.addButton(self.fixed)
        mode_group.addButton(self.anniversary)
        mode = QVBoxLayout()
        mode.setSpacing(2)
        mode.addWidget(self.fixed)
        mode.addWidget(self.anniversary)
        self._row(bf, "Bill day mode", mode, "bill_day_mode", self.fixed)
        self.bill_day = QSpinBox()
        self.bill_day.setRange(1, 31)  # 29–31 are refused by the service, with the reason
        self.bill_day.setMinimumWidth(90)
        self._row(bf, "Bill day", with_suffix(self.bill_day, "of each month (1–28)"), "bill_day", self.bill_day)
        self.prorate = QCheckBox("Prorate by days when a service starts, stops or changes mid-period")
        bf.addRow("", self.prorate)
        self.statement = QCheckBox("Statement mode: invoices also show the previous balance and payments since")
        bf.addRow("", self.statement)
        self.currency = QLineEdit()
        self.currency.setMaxLength(3)
        self.currency.setMaximumWidth(80)
        self._row(bf, "Currency", self.currency, "currency")

        # -- due and delinquency ---------------------------------------------------------------
        due = QGroupBox("Due dates and delinquency")
        df = new_form()
        due.setLayout(df)
        self.due_days = _days()
        self._row(df, "Due", with_suffix(self.due_days, "after the invoice is issued"), "due_days", self.due_days)
        self.grace_days = _days()
        self._row(df, "Grace", with_suffix(self.grace_days, "past due before the account is delinquent"),
                  "grace_days", self.grace_days)
        self.delinquent_status = QComboBox()
        self._row(df, "Delinquent status", self.delinquent_status, "delinquent_status_id")
        self.switch_days = _days()
        self._row(df, "Status switch", with_suffix(self.switch_days, "after delinquency starts, switch to"),
                  "status_switch_days", self.switch_days)
        self.switch_status = QComboBox()
        self._row(df, "", self.switch_status, "switch_status_id")
        self.minimum_balance = money_edit()
        self.minimum_currency = QLabel()
        self._row(df, "Minimum balance", with_suffix(self.minimum_balance, self.minimum_currency),
                  "minimum_delinquent_balance", self.minimum_balance)
        weekdays = QHBoxLayout()
        self.weekdays: list[QCheckBox] = []
        for name in WEEKDAYS:
            box = QCheckBox(name)
            self.weekdays.append(box)
            weekdays.addWidget(box)
        weekdays.addStretch(1)
        self._row(df, "Check on", weekdays, "check_weekdays", self.weekdays[0])
        self.excluded_types = QListWidget()
        self.excluded_types.setObjectName("ExcludedTypes")
        self.excluded_types.setFixedHeight(84)
        self._row(df, "Never for types", self.excluded_types, "excluded_account_type_ids")

        # -- late fee --------------------------------------------------------------------------
        late = QGroupBox("Late fee")
        lf = new_form()
        late.setLayout(lf)
        self.late_kind = QComboBox()
        for label, key in (("No late fee", cat.NONE), ("Fixed amount", cat.FIXED), ("Percentage of the invoice",
                                                                                    cat.PERCENT)):
            self.late_kind.addItem(label, key)
        self.late_kind.currentIndexChanged.connect(lambda _i: self._sync_late_fee())
        self._row(lf, "Kind", self.late_kind, "late_fee_kind")
        self.late_amount = money_edit()
        self.late_unit = QLabel()
        self._row(lf, "Amount", with_suffix(self.late_amount, self.late_unit), "late_fee_amount", self.late_amount)
        self.late_minimum = money_edit()
        self.late_minimum_currency = QLabel()
        self.late_minimum_row = with_suffix(self.late_minimum, self.late_minimum_currency)
        self._row(lf, "At least", self.late_minimum_row, "late_fee_minimum", self.late_minimum)
        self.late_days = _days()
        self._row(lf, "Applied", with_suffix(self.late_days, "after the due date, once per invoice"),
                  "late_fee_days", self.late_days)

        # -- invoices --------------------------------------------------------------------------
        invoices = QGroupBox("Invoices")
        inf = new_form()
        invoices.setLayout(inf)
        self.printed_fee = money_edit()
        self.printed_currency = QLabel()
        self._row(inf, "Printed-invoice fee", with_suffix(self.printed_fee, self.printed_currency),
                  "printed_invoice_fee", self.printed_fee)
        self.message = QPlainTextEdit()
        self.message.setFixedHeight(56)
        self.message.setPlaceholderText("e.g. Thank you for your business!")
        self._row(inf, "Message", self.message, "invoice_message")
        self.remit_to = QPlainTextEdit()
        self.remit_to.setFixedHeight(70)
        self.remit_to.setPlaceholderText("Where payments are sent (name and address)")
        self._row(inf, "Remit to", self.remit_to, "remit_to")
        self.logo = QLineEdit()
        self.logo.setPlaceholderText("PNG or JPEG")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_logo)
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo, 1)
        logo_row.addWidget(browse)
        self._row(inf, "Logo", logo_row, "logo_path", self.logo)

        # -- exclusion dates -------------------------------------------------------------------
        exclusions = QGroupBox("Dates delinquency checks skip")
        ex = QVBoxLayout(exclusions)
        about = QLabel("Holidays and the like. A date without a year (12-25) repeats every year.")
        about.setWordWrap(True)
        about.setStyleSheet("font-weight: normal; color: #5b6673;")
        self.exclusions = QListWidget()
        self.exclusions.setObjectName("ExclusionDates")
        self.exclusions.setMinimumHeight(120)
        self.exclusions.setStyleSheet("font-weight: normal;")
        self.exclusion_date = QLineEdit()
        self.exclusion_date.setPlaceholderText("12-25 or 2026-04-03")
        self.exclusion_date.setMaximumWidth(170)
        self.exclusion_name = QLineEdit()
        self.exclusion_name.setPlaceholderText("Name (Christmas)")
        self.add_exclusion_button = QPushButton("Add")
        self.add_exclusion_button.clicked.connect(self.add_exclusion)
        self.exclusion_date.returnPressed.connect(self.add_exclusion)
        self.remove_exclusion_button = QPushButton("Remove")
        self.remove_exclusion_button.clicked.connect(self.remove_exclusion)
        self.exclusions.itemSelectionChanged.connect(self._sync_buttons)
        self.exclusion_error = FieldError()
        add_row = QHBoxLayout()
        add_row.addWidget(self.exclusion_date)
        add_row.addWidget(self.exclusion_name, 1)
        add_row.addWidget(self.add_exclusion_button)
        add_row.addWidget(self.remove_exclusion_button)
        ex.addWidget(about)
        ex.addWidget(self.exclusions, 1)
        ex.addLayout(add_row)
        ex.addWidget(self.exclusion_error)

        # -- layout ----------------------------------------------------------------------------
        self.form_error = FieldError()
        self.status = QLabel()
        self.status.setObjectName("CountLabel")
        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("PrimaryButton")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(lambda: self.refresh())
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)

        # Two columns, each as tall as its own boxes (a grid would stretch one box to match the
        # other column and spread its rows apart).
        left, right = QVBoxLayout(), QVBoxLayout()
        for column, boxes in ((left, (billing, due)), (right, (late, invoices, exclusions))):
            for box in boxes:
                column.addWidget(box)
            column.addStretch(1)
        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.addWidget(self.company_row)
        inner.addLayout(columns, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.form_error)
        layout.addLayout(bar)

        if not self.editable:
            for w in content.findChildren(QWidget):
                if isinstance(w, (QLineEdit, QPlainTextEdit, QSpinBox, QCheckBox, QRadioButton, QListWidget,
                                  QPushButton)) or (isinstance(w, QComboBox) and w is not self.company):
                    w.setEnabled(False)
            self.save_button.hide()
            self.revert_button.hide()
            self.status.setText(ctx.db.read_only_reason or "You can look at the billing settings but not change "
                                                           "them.")
        self._sync_buttons()
        self.refresh()

    def _row(self, form: QFormLayout, label: str, widget: QWidget | QLayout, field: str,
             focus: QWidget | None = None) -> None:
        error = FieldError()
        form.addRow(label, field_with_error(widget, error))
        self.errors[field] = error
        self.focus[field] = focus or (widget if isinstance(widget, QWidget) else None)

    # -- loading -------------------------------------------------------------------------------
    def refresh(self, company_id: int | None = None) -> None:
        if company_id is None and self.row is not None:
            company_id = self.row.company_id
        ctx = self.ctx
        ctx.runner.submit(lambda: load_settings(ctx, company_id), self._fill, self._failed,
                          key=f"billing-settings:{id(self)}", owner=self)

    def _company_chosen(self) -> None:
        if self._filling:
            return
        company_id = self.company.currentData()
        if company_id is not None and (self.row is None or company_id != self.row.company_id):
            self.refresh(company_id)

    def _failed(self, exc: BaseException) -> None:
        self.form_error.show_message(str(exc))

    def _fill(self, data: SettingsData) -> None:
        self._filling = True
        try:
            self.company.clear()
            for c in data.companies:
                self.company.addItem(c.name, c.id)
            self.company.setCurrentIndex(max(0, self.company.findData(data.settings.company_id)))
            self.company_row.setVisible(len(data.companies) > 1)
            for combo, current in ((self.delinquent_status, data.settings.delinquent_status_id),
                                   (self.switch_status, data.settings.switch_status_id)):
                combo.clear()
                combo.addItem("(no change)", None)
                for s in data.lookups.statuses:
                    combo.addItem(s.name, s.id)
                combo.setCurrentIndex(max(0, combo.findData(current)))
            self.excluded_types.clear()
            for t in data.lookups.types:
                item = QListWidgetItem(t.name)
                item.setData(IdRole, t.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if t.id in data.settings.excluded_account_type_ids
                                   else Qt.CheckState.Unchecked)
                self.excluded_types.addItem(item)
            self._fill_settings(data.settings)
        finally:
            self._filling = False

    def _fill_settings(self, s: SettingsRow) -> None:
        self.row = s
        self.clear_errors()
        currency = s.currency
        (self.fixed if s.bill_day_mode == "fixed" else self.anniversary).setChecked(True)
        self.bill_day.setValue(s.bill_day)
        self.prorate.setChecked(s.prorate)
        self.statement.setChecked(s.statement_mode)
        self.currency.setText(currency)
        self.due_days.setValue(s.due_days)
        self.grace_days.setValue(s.grace_days)
        self.switch_days.setValue(s.status_switch_days)
        self.minimum_balance.setText(money.format_minor(s.minimum_delinquent_balance, currency).replace(",", ""))
        for n, box in enumerate(self.weekdays, start=1):
            box.setChecked(str(n) in s.check_weekdays)
        self.late_kind.setCurrentIndex(max(0, self.late_kind.findData(s.late_fee_kind)))
        if s.late_fee_kind == cat.PERCENT:
            self.late_amount.setText(money.format_percent_milli(s.late_fee_amount))
        elif s.late_fee_kind == cat.FIXED:
            self.late_amount.setText(money.format_minor(s.late_fee_amount, currency).replace(",", ""))
        else:
            self.late_amount.clear()
        self.late_minimum.setText(money.format_minor(s.late_fee_minimum, currency).replace(",", "")
                                  if s.late_fee_minimum else "")
        self.late_days.setValue(s.late_fee_days)
        self.printed_fee.setText(money.format_minor(s.printed_invoice_fee, currency).replace(",", ""))
        self.message.setPlainText(s.invoice_message)
        self.remit_to.setPlainText(s.remit_to)
        self.logo.setText(s.logo_path)
        for label in (self.minimum_currency, self.late_minimum_currency, self.printed_currency):
            label.setText(currency)
        self._fill_exclusions(s)
        self._sync_late_fee()
        self.status.setText(f"Billing settings of {s.company}" if self.editable else self.status.text())

    def _fill_exclusions(self, s: SettingsRow) -> None:
        self.exclusions.clear()
        for e in s.exclusions:
            item = QListWidgetItem(f"{e.text} — {e.name}" if e.name else e.text)
            item.setData(IdRole, e.id)
            self.exclusions.addItem(item)
        self._sync_buttons()

    def _sync_late_fee(self) -> None:
        kind = self.late_kind.currentData()
        currency = self.currency.text().strip().upper() or "USD"
        self.late_unit.setText("%" if kind == cat.PERCENT else currency)
        for w in (self.late_amount, self.late_days):
            w.setEnabled(kind != cat.NONE and self.editable)
        self.late_minimum.setEnabled(kind == cat.PERCENT and self.editable)

    def _sync_buttons(self) -> None:
        self.remove_exclusion_button.setEnabled(self.editable and bool(self.exclusions.selectedItems()))

    def _browse_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Invoice logo", self.logo.text(), "Images (*.png *.jpg *.jpeg)")
        if path:
            self.logo.setText(path)

    # -- saving --------------------------------------------------------------------------------
    def collect(self) -> SettingsInput:
        s = self.row
        excluded = [self.excluded_types.item(n).data(IdRole) for n in range(self.excluded_types.count())
                    if self.excluded_types.item(n).checkState() == Qt.CheckState.Checked]
        return SettingsInput(
            company_id=s.company_id, bill_day_mode="fixed" if self.fixed.isChecked() else "anniversary",
            bill_day=self.bill_day.value(), due_days=self.due_days.value(), grace_days=self.grace_days.value(),
            status_switch_days=self.switch_days.value(), switch_status_id=self.switch_status.currentData(),
            delinquent_status_id=self.delinquent_status.currentData(),
            minimum_delinquent_balance=self.minimum_balance.text(), late_fee_kind=self.late_kind.currentData(),
            late_fee_amount=self.late_amount.text(), late_fee_minimum=self.late_minimum.text(),
            late_fee_days=self.late_days.value(), printed_invoice_fee=self.printed_fee.text(),
            prorate=self.prorate.isChecked(), statement_mode=self.statement.isChecked(),
            currency=self.currency.text(), invoice_message=self.message.toPlainText(),
            remit_to=self.remit_to.toPlainText(), logo_path=self.logo.text(),
            check_weekdays="".join(str(n) for n, box in enumerate(self.weekdays, start=1) if box.isChecked()),
            excluded_account_type_ids=excluded,
        )

    def clear_errors(self) -> None:
        for error in self.errors.values():
            error.clear_message()
        self.form_error.clear_message()
        self.exclusion_error.clear_message()

    def show_validation(self, exc: ValidationError) -> None:
        self.errors.get(exc.field or "", self.form_error).show_message(str(exc))
        widget = self.focus.get(exc.field or "")
        if widget is not None:
            widget.setFocus()

    def save(self) -> None:
        if not self.editable or self.row is None:
            return
        self.clear_errors()
        data, version = self.collect(), self.row.version
        ctx = self.ctx
        self.save_button.setEnabled(False)
        ctx.runner.submit(lambda: cat.save_settings(ctx.uow(), ctx.actor, data, expected_version=version),
                          self._on_saved, self._on_failed, label="Saving the billing settings", writes=True,
                          owner=self)

    def _on_saved(self, row: SettingsRow) -> None:
        self.save_button.setEnabled(True)
        self._fill_settings(row)
        self.status.setText(f"Saved the billing settings of {row.company}.")
        self.saved.emit(row)

    def _on_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
        elif isinstance(exc, ConflictError):
            self.form_error.show_message(f"{exc} Revert loads their version.")
        else:
            self.form_error.show_message(str(exc))

    # -- exclusion dates -----------------------------------------------------------------------
    def add_exclusion(self) -> None:
        if not self.editable or self.row is None:
            return
        self.exclusion_error.clear_message()
        try:
            year, month, day = cat.parse_exclusion_date(self.exclusion_date.text())
        except ValidationError as exc:
            self.exclusion_error.show_message(str(exc))
            return
        ctx, company_id, name = self.ctx, self.row.company_id, self.exclusion_name.text()
        ctx.runner.submit(
            lambda: (cat.add_exclusion(ctx.uow(), ctx.actor, company_id, month, day, year, name),
                     cat.get_settings(ctx.uow(), ctx.actor, company_id))[1],
            self._exclusions_changed, lambda exc: self.exclusion_error.show_message(str(exc)),
            label="Adding the date", writes=True, owner=self)

    def remove_exclusion(self) -> None:
        items = self.exclusions.selectedItems()
        if not self.editable or not items or self.row is None:
            return
        ctx, company_id, exclusion_id = self.ctx, self.row.company_id, items[0].data(IdRole)
        ctx.runner.submit(
            lambda: (cat.remove_exclusion(ctx.uow(), ctx.actor, exclusion_id),
                     cat.get_settings(ctx.uow(), ctx.actor, company_id))[1],
            self._exclusions_changed, lambda exc: self.exclusion_error.show_message(str(exc)),
            label="Removing the date", writes=True, owner=self)

    def _exclusions_changed(self, row: SettingsRow) -> None:
        self.exclusion_date.clear()
        self.exclusion_name.clear()
        if self.row is not None:
            # Only the list changed: keep unsaved edits in the form, take the new version.
            self._fill_exclusions(row)
            self.row = SettingsRow(**{**self.row.__dict__, "exclusions": row.exclusions})
