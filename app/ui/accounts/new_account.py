"""Setting up a tenant: pick a vacant unit, a name, a type and the primary contact — a minute's
work. The form is also the second half of the move-out/move-in wizard.
"""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from app.accounts import service
from app.addresses import service as addresses
from app.addresses.repository import AddressHit
from app.core.errors import ValidationError
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError, SearchBox


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class NewAccountForm(QWidget):
    """The fields of a new account, with an inline error under each. ``collect()`` gives the
    service's NewAccount; ``show_error`` puts a ValidationError next to its field."""

    unit_chosen = Signal(object)  # AddressHit | None

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.unit: AddressHit | None = None
        self.lookups: service.Lookups | None = None
        self.parent_account: service.Occupant | None = None

        self.unit_search = SearchBox("Search vacant units: building, street, unit, city…")
        self.unit_search.setObjectName("UnitSearch")
        self.unit_search.search.connect(self._search_units)
        self.unit_search.returnPressed.connect(self._pick_first)
        self.unit_list = QListWidget()
        self.unit_list.setObjectName("UnitResults")
        self.unit_list.setMaximumHeight(130)
        self.unit_list.itemActivated.connect(self._pick)
        self.unit_list.itemClicked.connect(self._pick)
        self.unit_label = QLabel("No unit chosen — search above, or leave empty for an account without a unit.")
        self.unit_label.setObjectName("ChosenUnit")
        self.unit_label.setWordWrap(True)
        self.clear_unit = QPushButton("Clear")
        self.clear_unit.setAutoDefault(False)
        self.clear_unit.clicked.connect(lambda: self.set_unit(None))
        unit_row = QHBoxLayout()
        unit_row.addWidget(self.unit_label, 1)
        unit_row.addWidget(self.clear_unit)

        self.starts_on = QDateEdit(_qdate(date.today()))
        self.starts_on.setCalendarPopup(True)
        self.starts_on.setDisplayFormat("yyyy-MM-dd")
        self.name = QLineEdit()
        self.name.setObjectName("NewAccountName")
        self.name.setPlaceholderText("Tenant or business name")
        self.kind = QComboBox()
        self.status = QComboBox()
        self.number = QLineEdit()
        self.number.setPlaceholderText("automatic")
        self.contact_name = QLineEdit()
        self.contact_name.setPlaceholderText("same as the account name")
        self.email = QLineEdit()
        self.phone = QLineEdit()
        self.shell = QCheckBox("Shell account — no payment details; paid through its parent (rent or condo fees)")
        self.shell.toggled.connect(self._on_shell)
        self.parent_number = QLineEdit()
        self.parent_number.setPlaceholderText("parent account number")
        self.parent_number.editingFinished.connect(self._find_parent)
        self.parent_label = QLabel("")
        self.parent_label.setTextFormat(Qt.TextFormat.PlainText)
        parent_row = QHBoxLayout()
        parent_row.addWidget(self.parent_number)
        parent_row.addWidget(self.parent_label, 1)

        self.errors: dict[str, FieldError] = {k: FieldError() for k in (
            "address", "starts_on", "name", "type", "status", "number", "contacts", "parent", "form")}
        form = self._form = QFormLayout()
        self._unit_row_label = QLabel("")
        form.addRow("Unit", self.unit_search)
        form.addRow("", self.unit_list)
        form.addRow(self._unit_row_label, unit_row)
        form.addRow("", self.errors["address"])
        form.addRow("Moves in", self.starts_on)
        form.addRow("", self.errors["starts_on"])
        form.addRow("Name", self.name)
        form.addRow("", self.errors["name"])
        form.addRow("Type", self.kind)
        form.addRow("", self.errors["type"])
        form.addRow("Status", self.status)
        form.addRow("", self.errors["status"])
        form.addRow("Account number", self.number)
        form.addRow("", self.errors["number"])
        form.addRow("Primary contact", self.contact_name)
        form.addRow("E-mail", self.email)
        form.addRow("Phone", self.phone)
        form.addRow("", self.errors["contacts"])
        form.addRow("", self.shell)
        form.addRow("Paid by", parent_row)
        form.addRow("", self.errors["parent"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.errors["form"])
        self._on_shell(False)
        ctx.runner.submit(lambda: service.lookups(ctx.uow(), ctx.actor), self._fill_lookups,
                          lambda exc: self.show_error(exc), label="Loading choices", owner=self)
        self._search_units("")

    # -- choices -------------------------------------------------------------------------------
    def _fill_lookups(self, lookups: service.Lookups) -> None:
        self.lookups = lookups
        for combo, choices in ((self.kind, lookups.types), (self.status, lookups.statuses)):
            current = combo.currentData()
            combo.clear()
            for c in choices:
                combo.addItem(c.name, c.id)
            if current is not None:
                combo.setCurrentIndex(max(0, combo.findData(current)))
        active = self.status.findText("Active")
        if active >= 0:
            self.status.setCurrentIndex(active)

    def _search_units(self, text: str) -> None:
        ctx = self.ctx
        ctx.runner.submit(
            lambda: addresses.search_addresses(ctx.uow(), ctx.actor, text, limit=30, vacant_only=True,
                                               units_only=True),
            self._show_units, lambda exc: self.errors["address"].show_message(str(exc)),
            label="Finding vacant units", key=f"vacant-units-{id(self)}", owner=self)

    def _show_units(self, hits: list[AddressHit]) -> None:
        self.unit_list.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.label}" + (f"  ·  {hit.building}" if hit.building else ""))
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.unit_list.addItem(item)
        if not hits:
            item = QListWidgetItem("No vacant unit matches." if self.unit_search.text() else "No vacant units.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.unit_list.addItem(item)

    def _pick_first(self) -> None:
        self.unit_search.flush()
        item = self.unit_list.item(0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self._pick(item)

    def _pick(self, item: QListWidgetItem) -> None:
        hit = item.data(Qt.ItemDataRole.UserRole)
        if hit is not None:
            self.set_unit(hit)
            self.name.setFocus()

    def set_unit(self, hit: AddressHit | None) -> None:
        self.unit = hit
        self.errors["address"].clear_message()
        if hit is None:
            self.unit_label.setText("No unit chosen — search above, or leave empty for an account without a unit.")
        else:
            self.unit_label.setText(f"<b>{html.escape(hit.label)}</b>" +
                                    (f" — {html.escape(hit.building)}" if hit.building else ""))
            ctx = self.ctx
            ctx.runner.submit(lambda: service.parent_suggestion(ctx.uow(), ctx.actor, hit.id),
                              self._suggest_parent, lambda exc: None, label="Looking up the building",
                              key=f"parent-{id(self)}", owner=self)
        self.clear_unit.setEnabled(hit is not None)
        self.unit_chosen.emit(hit)

    def set_unit_fixed(self, hit: AddressHit) -> None:
        """For move-in: the unit is given and cannot be changed here."""
        self.set_unit(hit)
        self.clear_unit.hide()
        self._form.setRowVisible(self.unit_search, False)
        self._form.setRowVisible(self.unit_list, False)
        self._unit_row_label.setText("Unit")

    def set_starts_on(self, day: date) -> None:
        self.starts_on.setDate(_qdate(day))

    def _suggest_parent(self, owner: service.Occupant | None) -> None:
        if owner is not None and not self.parent_number.text():
            self.parent_number.setText(owner.number)
            self._set_parent(owner)

    def _on_shell(self, on: bool) -> None:
        """The hint beside the parent number, until a parent is found."""
        if self.parent_account is None:
            self.parent_label.setText("required for a shell account" if on else "optional")

    def _find_parent(self) -> None:
        number, ctx = self.parent_number.text().strip(), self.ctx
        if not number:
            self._set_parent(None)
            return
        ctx.runner.submit(lambda: service.find_by_number(ctx.uow(), ctx.actor, number),
                          lambda found: self._set_parent(found, number), self.show_error,
                          label="Finding the parent account", key=f"find-parent-{id(self)}", owner=self)

    def _set_parent(self, found: service.Occupant | None, number: str = "") -> None:
        self.parent_account = found
        if found is not None:
            self.parent_label.setText(f"{found.number} {found.name}")
            self.errors["parent"].clear_message()
        elif number:
            self.parent_label.setText("")
            self.errors["parent"].show_message(f"There is no account number {number}.")
        else:
            self._on_shell(self.shell.isChecked())

    # -- result --------------------------------------------------------------------------------
    def collect(self) -> service.NewAccount:
        name = self.name.text()
        contact = self.contact_name.text().strip() or " ".join(name.split())
        contacts = []
        if contact or self.email.text().strip() or self.phone.text().strip():
            contacts = [service.ContactInput(contact, self.email.text(), self.phone.text(), is_primary=True,
                                             is_financial=not self.shell.isChecked())]
        qd = self.starts_on.date()
        return service.NewAccount(
            name=name, type_id=self.kind.currentData() or 0, status_id=self.status.currentData() or 0,
            number=self.number.text() or None, address_id=self.unit.id if self.unit else None,
            parent_id=self.parent_account.id if self.parent_account else None, contacts=contacts,
            is_shell=self.shell.isChecked(), starts_on=date(qd.year(), qd.month(), qd.day()))

    def clear_errors(self) -> None:
        for e in self.errors.values():
            e.clear_message()

    def show_error(self, exc: BaseException) -> None:
        field = getattr(exc, "field", None) or "form"
        if isinstance(exc, ValidationError) and field.startswith("contacts"):
            field = "contacts"
        target = self.errors.get(field, self.errors["form"])
        target.show_message(str(exc))
        focus = {"name": self.name, "number": self.number, "contacts": self.contact_name,
                 "parent": self.parent_number, "starts_on": self.starts_on, "address": self.unit_search}.get(field)
        if focus is not None and focus.isVisible():
            focus.setFocus()


class NewAccountDialog(QDialog):
    """New account in a dialog: Create saves and opens the account."""

    created = Signal(object)  # AccountDetail

    def __init__(self, ctx: AppContext, unit: AddressHit | None = None, starts_on: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("NewAccountDialog")
        self.setWindowTitle("New account")
        self.setMinimumWidth(640)
        self.form = NewAccountForm(ctx, self)
        if unit is not None:
            self.form.set_unit(unit)
        if starts_on is not None:
            self.form.set_starts_on(starts_on)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create account", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.buttons)
        (self.form.name if unit is not None else self.form.unit_search).setFocus()

    def create(self) -> None:
        self.form.clear_errors()
        new, ctx = self.form.collect(), self.ctx
        self.create_button.setEnabled(False)
        ctx.runner.submit(lambda: service.create_account(ctx.uow(), ctx.actor, new), self._on_created,
                          self._on_failed, label="Creating account", writes=True, owner=self)

    def _on_created(self, detail: service.AccountDetail) -> None:
        self.create_button.setEnabled(True)
        self.created.emit(detail)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        self.form.show_error(exc)
