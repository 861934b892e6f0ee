"""The simple account form: name, status and contacts, saved through the accounts service.

A save that meets someone else's newer save offers to reload; validation messages appear next
to the field they are about. The fuller account view (tabs, notes, events) comes later.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.accounts import service
from app.core.errors import ConflictError, ValidationError
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

CONTACT_COLUMNS = ["Name", "E-mail", "Phone", "Mobile", "Primary", "Financial",
                   "Billing", "Outages", "Jobs", "General"]
# The check-box columns after the four text ones, as ContactInput field names.
_FLAGS = ["is_primary", "is_financial", "notify_billing", "notify_outages", "notify_jobs", "notify_general"]
_NOTICE_TIPS = {6: "Receives invoices and billing notices", 7: "Receives outage and maintenance notices",
                8: "Receives job and appointment notices", 9: "Receives general announcements"}
_TEXT_FIELDS = ["name", "email", "phone", "mobile"]


class AccountForm(QDialog):
    saved = Signal(object)  # AccountDetail

    def __init__(self, ctx: AppContext, detail: service.AccountDetail, lookups: service.Lookups,
                 editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.lookups, self.editable = ctx, lookups, editable
        self.setObjectName("AccountForm")
        self.setMinimumSize(980, 480)

        self.header = QLabel()
        self.header.setObjectName("FormHeader")
        self.name = QLineEdit()
        self.name.setObjectName("AccountName")
        self.name_error = FieldError()
        self.status = QComboBox()
        self.status_error = FieldError()
        for choice in lookups.statuses:
            self.status.addItem(choice.name, choice.id)
        self.kind = QLabel()
        self.address = QLabel()
        self.company = QLabel()

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("Status", self.status)
        form.addRow("", self.status_error)
        form.addRow("Type", self.kind)
        form.addRow("Address", self.address)
        form.addRow("Company", self.company)

        self.contacts = QTableWidget(0, len(CONTACT_COLUMNS))
        self.contacts.setObjectName("ContactsTable")
        self.contacts.setHorizontalHeaderLabels(CONTACT_COLUMNS)
        self.contacts.verticalHeader().hide()
        self.contacts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.contacts.horizontalHeader()
        for i, mode in enumerate([QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.Stretch] +
                                 [QHeaderView.ResizeMode.ResizeToContents] * (len(CONTACT_COLUMNS) - 2)):
            header.setSectionResizeMode(i, mode)
        self.contacts.itemChanged.connect(self._on_contact_changed)
        self.contacts_error = FieldError()
        self.add_contact = QPushButton("Add contact")
        self.add_contact.clicked.connect(lambda: self._append_contact(None))
        self.remove_contact = QPushButton("Remove contact")
        self.remove_contact.clicked.connect(self._remove_contact)
        contact_buttons = QHBoxLayout()
        contact_buttons.addWidget(QLabel("Contacts — financial contacts receive the invoices; "
                                         "the last four columns choose each contact's notices"))
        contact_buttons.addStretch(1)
        contact_buttons.addWidget(self.add_contact)
        contact_buttons.addWidget(self.remove_contact)

        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addLayout(contact_buttons)
        layout.addWidget(self.contacts, 1)
        layout.addWidget(self.contacts_error)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

        self._fill(detail)
        if not editable:
            for w in (self.name, self.status, self.add_contact, self.remove_contact):
                w.setEnabled(False)
            self.contacts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.save_button.hide()
            reason = ctx.db.read_only_reason or f"{ctx.actor.role} users can look but not change accounts."
            self.form_error.show_message(reason)

    # -- filling -------------------------------------------------------------------------------
    def _fill(self, detail: service.AccountDetail) -> None:
        self.detail = detail
        self.setWindowTitle(f"Account {detail.number} — {detail.name}")
        self.header.setText(f"<b>{detail.number}</b> · {detail.name}")
        self.name.setText(detail.name)
        self.status.setCurrentIndex(max(0, self.status.findData(detail.status_id)))
        self.kind.setText(detail.account_type)
        self.address.setText(detail.address or "— no address yet —")
        self.company.setText(detail.company)
        self.contacts.blockSignals(True)
        self.contacts.setRowCount(0)
        for contact in detail.contacts:
            self._append_contact(contact)
        self.contacts.blockSignals(False)
        for err in (self.name_error, self.status_error, self.contacts_error, self.form_error):
            err.clear_message()

    def _append_contact(self, contact: service.ContactInput | None) -> None:
        row = self.contacts.rowCount()
        self.contacts.insertRow(row)
        values = [contact.name, contact.email, contact.phone, contact.mobile] if contact else ["", "", "", ""]
        for col, value in enumerate(values):
            item = QTableWidgetItem(value)
            if col == 0:
                item.setData(Qt.ItemDataRole.UserRole, contact.id if contact else None)
            self.contacts.setItem(row, col, item)
        defaults = {"is_primary": row == 0, "is_financial": False}
        for col, name in enumerate(_FLAGS, start=4):
            flag = getattr(contact, name) if contact else defaults.get(name, True)
            item = QTableWidgetItem()
            if col in _NOTICE_TIPS:
                item.setToolTip(_NOTICE_TIPS[col])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if flag else Qt.CheckState.Unchecked)
            self.contacts.setItem(row, col, item)
        if contact is None:
            self.contacts.setCurrentCell(row, 0)
            self.contacts.editItem(self.contacts.item(row, 0))

    def _on_contact_changed(self, item: QTableWidgetItem) -> None:
        # One primary at a time: ticking one unticks the others.
        if item.column() == 4 and item.checkState() == Qt.CheckState.Checked:
            self.contacts.blockSignals(True)
            for row in range(self.contacts.rowCount()):
                if row != item.row():
                    self.contacts.item(row, 4).setCheckState(Qt.CheckState.Unchecked)
            self.contacts.blockSignals(False)

    def _remove_contact(self) -> None:
        row = self.contacts.currentRow()
        if row < 0:
            return
        name = self.contacts.item(row, 0).text() or "this contact"
        answer = QMessageBox.question(self, "Remove contact", f"Remove {name} from this account?")
        if answer == QMessageBox.StandardButton.Yes:
            self.contacts.removeRow(row)

    # -- saving --------------------------------------------------------------------------------
    def _collect(self) -> service.AccountChanges:
        contacts = []
        for row in range(self.contacts.rowCount()):
            text = [self.contacts.item(row, c).text() for c in range(4)]
            flags = {name: self.contacts.item(row, col).checkState() == Qt.CheckState.Checked
                     for col, name in enumerate(_FLAGS, start=4)}
            contacts.append(service.ContactInput(
                name=text[0], email=text[1], phone=text[2], mobile=text[3],
                id=self.contacts.item(row, 0).data(Qt.ItemDataRole.UserRole), **flags,
            ))
        return service.AccountChanges(self.name.text(), self.status.currentData(), contacts)

    def save(self) -> None:
        changes = self._collect()
        ctx, account_id, version = self.ctx, self.detail.id, self.detail.version
        for err in (self.name_error, self.status_error, self.contacts_error, self.form_error):
            err.clear_message()
        self.save_button.setEnabled(False)
        ctx.runner.submit(
            lambda: service.update_account(ctx.uow(), ctx.actor, account_id, version, changes),
            self._on_saved, self._on_save_failed, label="Saving account", writes=True, owner=self,
        )

    def _on_saved(self, detail: service.AccountDetail) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(detail)
        self.accept()

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_validation(exc)
        elif isinstance(exc, ConflictError):
            box = QMessageBox(QMessageBox.Icon.Warning, "Changed meanwhile", str(exc), parent=self)
            reload = box.addButton("Reload", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Keep my edits", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() is reload:
                self.reload()
            else:
                self.form_error.show_message(str(exc))
        else:
            self.form_error.show_message(str(exc))

    def _show_validation(self, exc: ValidationError) -> None:
        field = exc.field or ""
        if field == "name":
            self.name_error.show_message(str(exc))
            self.name.setFocus()
        elif field == "status":
            self.status_error.show_message(str(exc))
        elif field.startswith("contacts"):
            self.contacts_error.show_message(str(exc))
            m = re.match(r"contacts\[(\d+)\]\.(\w+)", field)
            if m and m.group(2) in _TEXT_FIELDS:
                self.contacts.setCurrentCell(int(m.group(1)), _TEXT_FIELDS.index(m.group(2)))
                self.contacts.setFocus()
        else:
            self.form_error.show_message(str(exc))

    def reload(self) -> None:
        ctx, account_id = self.ctx, self.detail.id
        ctx.runner.submit(lambda: service.get_account(ctx.uow(), ctx.actor, account_id), self._fill,
                          lambda exc: self.form_error.show_message(str(exc)), label="Reloading account", owner=self)
