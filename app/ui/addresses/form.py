"""Add or edit one serviceable address, with the message next to the field it is about."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPushButton, QVBoxLayout,
    QWidget,
)

from app.addresses import service
from app.addresses.service import AddressDetail, AddressInput, DuplicateAddress
from app.core.errors import ConflictError, ValidationError
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

FIELDS = ["building", "street", "unit", "floor", "city", "region", "postal_code", "country", "serviceable_from"]


class AddressDialog(QDialog):
    """``detail`` None: a new address (``building`` pre-fills street, city and codes for a new
    unit in it). Saved → ``saved(AddressDetail)``. A duplicate offers to open the existing one."""

    saved = Signal(object)
    show_existing = Signal(int)  # the address a duplicate points at

    def __init__(self, ctx: AppContext, detail: AddressDetail | None = None,
                 building: AddressDetail | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("AddressDialog")
        self.setWindowTitle("Edit address" if detail else "New address")
        self.setMinimumWidth(520)
        self.inputs = {f: QLineEdit() for f in FIELDS if f != "serviceable_from"}
        self.inputs["unit"].setPlaceholderText("empty for the building itself; Apt 4B, #4b and 4-B all mean 4B")
        self.inputs["floor"].setPlaceholderText("from the unit when it says (4B → 4, 1203 → 12)")
        self.inputs["country"].setPlaceholderText("the company's country")
        self.inputs["postal_code"].setPlaceholderText("ZIP, ZIP+4 or A1A 1A1")
        self.future = QCheckBox("Not serviceable yet — from")
        self.from_date = QDateEdit(QDate.currentDate().addMonths(1))
        self.from_date.setCalendarPopup(True)
        self.from_date.setDisplayFormat("yyyy-MM-dd")
        self.from_date.setEnabled(False)
        self.future.toggled.connect(self.from_date.setEnabled)
        self.errors = {f: FieldError() for f in FIELDS + ["form"]}
        labels = {"building": "Building name", "street": "Street", "unit": "Unit", "floor": "Floor", "city": "City",
                  "region": "State / province", "postal_code": "Postal code", "country": "Country"}
        form = QFormLayout()
        for f in FIELDS:
            if f == "serviceable_from":
                form.addRow(self.future, self.from_date)
            else:
                form.addRow(labels[f], self.inputs[f])
            form.addRow("", self.errors[f])
        self.open_existing = QPushButton("Show the existing address")
        self.open_existing.hide()
        self.open_existing.clicked.connect(self._show_existing)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors["form"])
        layout.addWidget(self.open_existing)
        layout.addWidget(self.buttons)
        self._existing_id: int | None = None
        source = detail or building
        if source is not None:
            for f in ("building", "street", "city", "region", "postal_code", "country"):
                self.inputs[f].setText(getattr(source, f) or "")
        if detail is not None:
            self.inputs["unit"].setText(detail.unit)
            self.inputs["floor"].setText("" if detail.floor is None else str(detail.floor))
            if detail.serviceable_from:
                self.future.setChecked(True)
                d = detail.serviceable_from
                self.from_date.setDate(QDate(d.year, d.month, d.day))
            if detail.parent_id is None:
                self.inputs["unit"].setEnabled(False)
            else:  # a unit moves with its building
                for f in ("street", "city", "country"):
                    self.inputs[f].setEnabled(False)
        (self.inputs["unit"] if building is not None else self.inputs["street"]).setFocus()

    def value(self) -> AddressInput:
        text = {f: w.text() for f, w in self.inputs.items()}
        floor = text["floor"].strip()
        if floor and not floor.lstrip("-").isdigit():
            raise ValidationError("The floor is a whole number.", "floor")
        qd = self.from_date.date()
        return AddressInput(
            street=text["street"], city=text["city"], unit=text["unit"], building=text["building"],
            floor=int(floor) if floor else None, region=text["region"], postal_code=text["postal_code"],
            country=text["country"],
            serviceable_from=date(qd.year(), qd.month(), qd.day()) if self.future.isChecked() else None)

    def save(self) -> None:
        for e in self.errors.values():
            e.clear_message()
        self.open_existing.hide()
        try:
            value = self.value()
        except ValidationError as exc:
            self._failed(exc)
            return
        ctx, detail = self.ctx, self.detail
        if detail is None:
            op = lambda: service.create_address(ctx.uow(), ctx.actor, value)  # noqa: E731
        else:
            op = lambda: service.update_address(ctx.uow(), ctx.actor, detail.id, detail.version, value)  # noqa: E731
        self.buttons.setEnabled(False)
        ctx.runner.submit(op, self._saved, self._failed, label="Saving address", writes=True, owner=self)

    def _saved(self, detail: AddressDetail) -> None:
        self.buttons.setEnabled(True)
        self.saved.emit(detail)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        field = getattr(exc, "field", None)
        if isinstance(exc, DuplicateAddress):
            self._existing_id = exc.existing_id
            self.open_existing.show()
        if isinstance(exc, ConflictError):
            field = None
        target = self.errors.get(field or "form", self.errors["form"])
        target.show_message(str(exc))
        if field in self.inputs:
            self.inputs[field].setFocus()

    def _show_existing(self) -> None:
        if self._existing_id is not None:
            self.show_existing.emit(self._existing_id)
            self.reject()
