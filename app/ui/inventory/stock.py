"""Inventory → Stock: consumables counted by quantity (cable in metres, connectors, blank keys).

A table of how much of each consumable sits at each location, its total across locations and
its minimum; a model whose total is below its minimum is highlighted, and the line above the
table counts them ("2 models below minimum"). The actions open ``StockDialog``:

- **Add stock…** — receive a quantity of a model into a location.
- **Move…** — from the selected row's location to another.
- **Use at account…** — installed at a unit, found by its account number.
- **Write off…** — gone (cut short, damaged, lost); asks for confirmation first.

Quantities never go below zero: the service refuses ("Only 40 m of … cannot take 60") and the
message shows under the quantity, the dialog still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.accounts import service as accounts
from app.core.errors import ValidationError
from app.inventory import catalogue, service
from app.inventory.catalogue import LocationRow, ModelRow
from app.inventory.service import Destination, StockRow
from app.ui.context import AppContext
from app.ui.inventory.catalogue import SPIN_WITHOUT_ARROWS, WARNING_MARK, can_edit
from app.ui.widgets.common import EmptyState, FieldError
from app.ui.widgets.rows_model import RowsTableModel

WARNING_COLOUR = QColor("#c62828")
WARNING_BACKGROUND = QColor("#fdecea")
MUTED_COLOUR = QColor("#5b6673")
EMPTY_TITLE = "No consumables yet"
EMPTY_TEXT = "No consumables yet — add a model tracked by quantity in Catalogue."

ADD, MOVE, USE, WRITE_OFF = "add", "move", "use", "write_off"
MAX_QUANTITY = 10_000_000


def amount(quantity: int, unit: str) -> str:
    """ "40 m", "12 each" → "12"."""
    return f"{quantity:,}" if unit == "each" else f"{quantity:,} {unit}"


@dataclass(frozen=True)
class StockData:
    """What the panel loads in one go."""

    rows: list[StockRow]
    models: list[ModelRow]  # quantity-tracked, enabled
    below_minimum: list[ModelRow]  # quantity-tracked models under their minimum (even with no stock row)
    locations: list[LocationRow]  # in use


def load_stock(ctx: AppContext) -> StockData:
    """Runs on a worker thread."""
    models = [m for m in catalogue.list_models(ctx.uow(), ctx.actor) if not m.serialized]
    return StockData(
        service.stock_levels(ctx.uow(), ctx.actor),
        [m for m in models if m.enabled],
        [m for m in models if m.below_minimum and m.enabled],
        catalogue.list_locations(ctx.uow(), ctx.actor, include_inactive=False),
    )


class StockModel(RowsTableModel):
    """Stock rows (model × location) for the table; every row is held."""

    COLUMNS = ("Model", "Location", "Quantity", "Total", "Minimum")

    def row_of(self, model_id: int, location_id: int) -> int:
        return next((n for n, r in enumerate(self.rows) if (r.model_id, r.location_id) == (model_id, location_id)), -1)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == 3:
            return "Across every location"
        if role == Qt.ItemDataRole.TextAlignmentRole and section >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.model
            if col == 1:
                return row.location
            if col == 2:
                return amount(row.quantity, row.unit)
            if col == 3:
                return f"{WARNING_MARK} {amount(row.model_total, row.unit)}" if row.below_minimum \
                    else amount(row.model_total, row.unit)
            if col == 4:
                return "" if row.min_stock is None else amount(row.min_stock, row.unit)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and row.below_minimum:
            return QBrush(WARNING_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.below_minimum and col in (3, 4):
                return QBrush(WARNING_COLOUR)
            if col == 2 and row.quantity == 0:
                return QBrush(MUTED_COLOUR)
            return None
        if role == Qt.ItemDataRole.FontRole and row.below_minimum and col == 3:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and row.below_minimum:
            return (f"Below minimum: {amount(row.model_total, row.unit)} in stock, "
                    f"minimum {amount(row.min_stock or 0, row.unit)}")
        return None


class StockPanel(QWidget):
    """The stock tab: consumables per location, with Add stock…, Move…, Use at account…, Write off…."""

    changed = Signal()  # a quantity changed (the catalogue's "In stock" may want to reload)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("StockPanel")
        self.editable = can_edit(ctx)
        self.data = StockData([], [], [], [])
        self.dialog: StockDialog | None = None
        self._select_after_load: tuple[int, int] | None = None
        self._loaded = False

        self.model = StockModel(self)
        self.table = QTableView()
        self.table.setObjectName("StockTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_buttons())
        self.table.doubleClicked.connect(lambda _index: self.move_selected())

        self.empty = EmptyState(EMPTY_TITLE, EMPTY_TEXT)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.summary = QLabel()
        self.summary.setObjectName("StockSummary")
        self.summary.setStyleSheet("padding-left: 8px;")
        self.notice = QLabel()
        self.notice.setObjectName("CountLabel")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.add_button = QPushButton("Add stock…")
        self.add_button.clicked.connect(self.add_stock)
        self.move_button = QPushButton("Move…")
        self.move_button.clicked.connect(self.move_selected)
        self.use_button = QPushButton("Use at account…")
        self.use_button.clicked.connect(self.use_selected)
        self.write_off_button = QPushButton("Write off…")
        self.write_off_button.clicked.connect(self.write_off_selected)
        self.error = FieldError()

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.add_button)
        bar.addSpacing(12)
        for b in (self.move_button, self.use_button, self.write_off_button):
            bar.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        if not self.editable:
            for b in (self.add_button, self.move_button, self.use_button, self.write_off_button):
                b.hide()
        self._sync_buttons()
        self.refresh()

    # -- loading -------------------------------------------------------------------------------
    def refresh(self, select: tuple[int, int] | None = None) -> None:
        """Reload stock, the consumable models and the locations on the task runner."""
        if select is None:
            current = self.selected()
            select = (current.model_id, current.location_id) if current else None
        self._select_after_load = select
        ctx = self.ctx
        ctx.runner.submit(lambda: load_stock(ctx), self._fill, self._failed, key=f"inventory-stock:{id(self)}",
                          owner=self)

    def _fill(self, data: StockData) -> None:
        self.data = data
        self._loaded = True
        self.error.clear_message()
        self.model.set_rows(data.rows)
        if data.rows:
            self.stack.setCurrentWidget(self.table)
        elif data.models:
            self.empty.set_message("No stock yet", "Add stock… receives cable, connectors or keys into a location.")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.empty.set_message(EMPTY_TITLE, EMPTY_TEXT)
            self.stack.setCurrentWidget(self.empty)
        below = len(data.below_minimum)
        if below:
            names = ", ".join(m.full_name for m in data.below_minimum[:3]) + ("…" if below > 3 else "")
            self.summary.setText(f"{WARNING_MARK} {below} model{'s' if below != 1 else ''} below minimum")
            self.summary.setToolTip(names)
        elif data.rows:
            self.summary.setText("Every consumable is at or above its minimum")
            self.summary.setToolTip("")
        else:
            self.summary.setText("")
        self.summary.setProperty("warning", bool(below))
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        if self._select_after_load is not None:
            self.select(*self._select_after_load)
        self._sync_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    # -- the selection -------------------------------------------------------------------------
    def selected(self) -> StockRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, model_id: int, location_id: int) -> None:
        row = self.model.row_of(model_id, location_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def _sync_buttons(self) -> None:
        row = self.selected()
        self.add_button.setEnabled(bool(self.data.models) and bool(self.data.locations))
        self.move_button.setEnabled(row is not None and row.quantity > 0 and len(self.data.locations) > 1)
        for b in (self.use_button, self.write_off_button):
            b.setEnabled(row is not None and row.quantity > 0)

    # -- actions -------------------------------------------------------------------------------
    def add_stock(self) -> StockDialog | None:
        return self._open(ADD, self.selected())

    def move_selected(self) -> StockDialog | None:
        return self._open(MOVE, self.selected(), needs_row=True)

    def use_selected(self) -> StockDialog | None:
        return self._open(USE, self.selected(), needs_row=True)

    def write_off_selected(self) -> StockDialog | None:
        return self._open(WRITE_OFF, self.selected(), needs_row=True)

    def _open(self, mode: str, row: StockRow | None, needs_row: bool = False) -> StockDialog | None:
        if not self.editable or (needs_row and row is None):
            return None
        dialog = StockDialog(self.ctx, mode, self.data.models, self.data.locations, row, self)
        dialog.done_with.connect(self._changed)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _changed(self, message: str, model_id: int, location_id: int) -> None:
        self.notice.setText(message)
        self.notice.setVisible(bool(message))
        self.refresh(select=(model_id, location_id))
        self.changed.emit()


class StockDialog(QDialog):
    """One change of a consumable's stock: add, move, use at an account, or write off."""

    done_with = Signal(str, int, int)  # what happened (a sentence), model id, location id to select

    TITLES: ClassVar[dict[str, str]] = {ADD: "Add stock", MOVE: "Move stock", USE: "Use at an account", WRITE_OFF: "Write off stock"}
    SAVE_TEXT: ClassVar[dict[str, str]] = {ADD: "Add", MOVE: "Move", USE: "Use", WRITE_OFF: "Write off…"}

    def __init__(
        self, ctx: AppContext, mode: str, models: list[ModelRow], locations: list[LocationRow],
        row: StockRow | None = None, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.mode, self.row = ctx, mode, row
        self.models = models
        self.setObjectName("StockDialog")
        self.setWindowTitle(self.TITLES[mode])
        self.setMinimumWidth(500)
        if mode != ADD and row is None:
            raise ValueError("moving, using or writing off needs a stock row")

        form = QFormLayout()
        self.header = QLabel(f"<b>{self.TITLES[mode]}</b>")
        self.header.setObjectName("FormHeader")

        self.model_combo = QComboBox()
        self.model_error = FieldError()
        self.location_combo = QComboBox()
        self.location_error = FieldError()
        self.account = QLineEdit()
        self.account.setPlaceholderText("e.g. 100123")
        self.account_error = FieldError()
        self.quantity = QSpinBox()
        self.quantity.setRange(0, MAX_QUANTITY)
        self.quantity.setValue(1)
        self.quantity.setMinimumWidth(140)
        self.quantity.setGroupSeparatorShown(True)
        self.quantity.setStyleSheet(SPIN_WITHOUT_ARROWS)
        self.quantity_error = FieldError()
        self.note = QLineEdit()
        self.note.setMaxLength(service.NOTE_MAX)
        self.note_error = FieldError()

        if mode == ADD:
            for m in models:
                self.model_combo.addItem(m.full_name, m.id)
            if row is not None:
                self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(row.model_id)))
            self.model_combo.currentIndexChanged.connect(lambda _i: self._sync_unit())
            form.addRow("Model", self.model_combo)
            form.addRow("", self.model_error)
            self._add_locations(locations, exclude=None)
            if row is not None:
                self.location_combo.setCurrentIndex(max(0, self.location_combo.findData(row.location_id)))
            form.addRow("Into", self.location_combo)
            form.addRow("", self.location_error)
            self.note.setPlaceholderText("e.g. delivery from the supplier, invoice 4411")
        else:
            assert row is not None
            form.addRow("Model", QLabel(row.model))
            here = QLabel(f"{row.location} — {amount(row.quantity, row.unit)} here")
            here.setObjectName("StockHere")
            form.addRow("From", here)
            if mode == MOVE:
                self._add_locations(locations, exclude=row.location_id)
                form.addRow("To", self.location_combo)
                form.addRow("", self.location_error)
            elif mode == USE:
                form.addRow("Account number", self.account)
                form.addRow("", self.account_error)
                self.note.setPlaceholderText("e.g. drop cable to unit 4B")
            else:
                self.note.setPlaceholderText("why: cut short, damaged, lost…")
        form.addRow("Quantity", self.quantity)
        form.addRow("", self.quantity_error)
        form.addRow("Note" if mode != WRITE_OFF else "Reason", self.note)
        form.addRow("", self.note_error)

        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.SAVE_TEXT[mode])
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._sync_unit()
        self._clear_errors()

    def _add_locations(self, locations: list[LocationRow], exclude: int | None) -> None:
        for loc in locations:
            if loc.id != exclude:
                self.location_combo.addItem(loc.path, loc.id)
        self.location_combo.setMinimumContentsLength(28)

    def _unit(self) -> str:
        if self.row is not None and self.mode != ADD:
            return self.row.unit
        model_id = self.model_combo.currentData()
        return next((m.unit for m in self.models if m.id == model_id), "each")

    def _sync_unit(self) -> None:
        unit = self._unit()
        self.quantity.setSuffix("" if unit == "each" else f" {unit}")

    def _clear_errors(self) -> None:
        for err in (self.model_error, self.location_error, self.account_error, self.quantity_error,
                    self.note_error, self.form_error):
            err.clear_message()

    # -- saving --------------------------------------------------------------------------------
    def save(self) -> None:
        self._clear_errors()
        ctx, mode, row = self.ctx, self.mode, self.row
        quantity, note, unit = self.quantity.value(), self.note.text(), self._unit()
        if mode == ADD:
            model_id, location_id = self.model_combo.currentData(), self.location_combo.currentData()
            model_name, where = self.model_combo.currentText(), self.location_combo.currentText()
            if model_id is None:
                self.model_error.show_message("Choose a model tracked by quantity (add one in Catalogue).")
                return
            if location_id is None:
                self.location_error.show_message("Choose the location it goes into.")
                return

            def op() -> tuple[str, int, int]:
                total = service.add_stock(ctx.uow(), ctx.actor, model_id, location_id, quantity, note)
                return ((f"Added {amount(quantity, unit)} of {model_name} to {where}; "
                        f"{amount(total, unit)} there now."), model_id, location_id)
        else:
            assert row is not None
            model_id, from_id = row.model_id, row.location_id
            if mode == MOVE:
                to_id, to_name = self.location_combo.currentData(), self.location_combo.currentText()
                if to_id is None:
                    self.location_error.show_message("Choose where it goes.")
                    return

                def op() -> tuple[str, int, int]:
                    left = service.take_stock(ctx.uow(), ctx.actor, model_id, from_id, quantity,
                                              Destination.location(to_id), note)
                    return ((f"Moved {amount(quantity, unit)} of {row.model} to {to_name}; "
                            f"{amount(left, unit)} left at {row.location}."), model_id, to_id)
            elif mode == USE:
                number = self.account.text().strip()

                def op() -> tuple[str, int, int]:
                    if not number:
                        raise ValidationError("Type the account number.", "account_id")
                    found = accounts.find_by_number(ctx.uow(), ctx.actor, number)
                    if found is None:
                        raise ValidationError(f"No account has the number {number}.", "account_id")
                    left = service.take_stock(ctx.uow(), ctx.actor, model_id, from_id, quantity,
                                              Destination.account(found.account_id), note)
                    return ((f"Used {amount(quantity, unit)} of {row.model} at {found.number} {found.name}; "
                            f"{amount(left, unit)} left at {row.location}."), model_id, from_id)
            else:
                question = (f"Write off {amount(quantity, unit)} of {row.model} at {row.location}?\n\n"
                            "The quantity leaves the stock for good (the movement stays in the history).")
                answer = QMessageBox.question(self, "Write off stock", question)
                if answer != QMessageBox.StandardButton.Yes:
                    return

                def op() -> tuple[str, int, int]:
                    left = service.take_stock(ctx.uow(), ctx.actor, model_id, from_id, quantity,
                                              Destination.retired(), note)
                    return ((f"Wrote off {amount(quantity, unit)} of {row.model}; "
                            f"{amount(left, unit)} left at {row.location}."), model_id, from_id)

        self.save_button.setEnabled(False)
        ctx.runner.submit(op, self._on_saved, self._on_failed, label=self.TITLES[mode], writes=True, owner=self)

    def _on_saved(self, result: tuple[str, int, int]) -> None:
        self.save_button.setEnabled(True)
        self.done_with.emit(*result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
        else:
            self.form_error.show_message(str(exc))

    def show_validation(self, exc: ValidationError) -> None:
        targets = {
            "model_id": (self.model_error, self.model_combo),
            "location_id": (self.location_error, self.location_combo),
            "account_id": (self.account_error, self.account),
            "quantity": (self.quantity_error, self.quantity),
            "note": (self.note_error, self.note),
        }
        error, widget = targets.get(exc.field or "", (self.form_error, None))
        if error is self.location_error and self.mode not in (ADD, MOVE):
            error, widget = self.form_error, None
        if error is self.model_error and self.mode != ADD:
            error, widget = self.form_error, None
        error.show_message(str(exc))
        if widget is not None:
            widget.setFocus()
            if widget is self.quantity:
                self.quantity.selectAll()
