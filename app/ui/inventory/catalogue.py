"""Inventory → Catalogue: the models equipment and consumables are recorded against.

A table of every model (manufacturer, name, category, how it is tracked, which identifiers its
items carry, how many are in stock against the minimum). A model below its minimum stock shows
a warning mark in red; a disabled model is greyed. "New model…" and "Edit model…" (or a
double-click) open ``ModelDialog``: the model's details and, for a model tracked one by one, a
small table of its identifier fields (MAC address, serial number, IMSI, IMEI or custom; which
are required; a format for serials and custom fields). Everything loads and saves on the task
runner; the service's messages show next to the field they are about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConflictError, ValidationError
from app.core.permissions import Permission
from app.inventory import catalogue
from app.inventory import identifiers as ids
from app.inventory.catalogue import FieldSpec, ModelInput, ModelRow, NamedRow
from app.inventory.models import QUANTITY, SERIALIZED
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError
from app.ui.widgets.rows_model import RowsTableModel

IdRole = Qt.ItemDataRole.UserRole + 1
WARNING_COLOUR = QColor("#c62828")
DISABLED_COLOUR = QColor("#9aa3ad")
MUTED_COLOUR = QColor("#5b6673")
WARNING_MARK = "⚠"
# The theme's border on spin boxes leaves their arrow buttons as broken slivers: hide them (the
# arrow keys and the wheel still step the value).
SPIN_WITHOUT_ARROWS = ("QSpinBox { padding-left: 7px; }"
                       " QSpinBox::up-button, QSpinBox::down-button { width: 0px; border: none; }")

# Kinds whose values may be checked against a format (a regular expression).
PATTERN_KINDS = (ids.SERIAL, ids.CUSTOM)


def can_edit(ctx: AppContext) -> bool:
    """Whether the signed-in user may change the inventory on this database."""
    return ctx.actor.can(Permission.INVENTORY_EDIT) and not ctx.read_only


def tracking_text(row: ModelRow) -> str:
    if row.serialized:
        return "One by one"
    return "By quantity" if row.unit == "each" else f"By quantity ({row.unit})"


def fields_summary(fields: tuple[FieldSpec, ...]) -> str:
    """"MAC*, Serial*, Port count" — the field labels, a star on each required one."""
    return ", ".join(f"{f.label}{'*' if f.required else ''}" for f in fields)


def stock_text(row: ModelRow) -> str:
    amount = f"{row.in_stock:,}" if row.serialized or row.unit == "each" else f"{row.in_stock:,} {row.unit}"
    return f"{WARNING_MARK} {amount}" if row.below_minimum else amount


# -- the list ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogueData:
    """What the panel loads in one go: the models, and the names the dialog offers."""

    models: list[ModelRow]
    manufacturers: list[NamedRow]
    categories: list[NamedRow]


def load_catalogue(ctx: AppContext) -> CatalogueData:
    """Runs on a worker thread."""
    return CatalogueData(
        catalogue.list_models(ctx.uow(), ctx.actor),
        catalogue.list_manufacturers(ctx.uow(), ctx.actor),
        catalogue.list_categories(ctx.uow(), ctx.actor),
    )


class CatalogueModel(RowsTableModel):
    """The models as table rows (a small list: every row is held)."""

    COLUMNS = ("Manufacturer", "Model", "Category", "Tracked", "Identifier fields", "In stock", "Min", "Enabled")
    STOCK_COLUMN, MIN_COLUMN = 5, 6

    def row_of(self, model_id: int) -> int:
        return next((n for n, r in enumerate(self.rows) if r.id == model_id), -1)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == 4:
                return "The identifiers each item carries; * marks a required one"
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.enabled:
                return QBrush(DISABLED_COLOUR)
            if row.below_minimum and col in (self.STOCK_COLUMN, self.MIN_COLUMN):
                return QBrush(WARNING_COLOUR)
            if col == 4 and not row.fields:
                return QBrush(MUTED_COLOUR)
            return None
        if role == Qt.ItemDataRole.FontRole and row.below_minimum and row.enabled and col == self.STOCK_COLUMN:
            return self._bold()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.STOCK_COLUMN, self.MIN_COLUMN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.below_minimum:
                unit = "" if row.serialized else f" {row.unit}"
                return f"Below minimum stock: {row.in_stock:,}{unit} in stock, minimum {row.min_stock:,}{unit}"
            if not row.enabled:
                return "Disabled: not offered for new items"
            if row.notes:
                return row.notes
        return None

    def _text(self, row: ModelRow, col: int) -> str:
        if col == 0:
            return row.manufacturer
        if col == 1:
            return row.name
        if col == 2:
            return row.category
        if col == 3:
            return tracking_text(row)
        if col == 4:
            return fields_summary(row.fields) if row.serialized else "—"
        if col == 5:
            return stock_text(row)
        if col == 6:
            return "" if row.min_stock is None else f"{row.min_stock:,}"
        if col == 7:
            return "Yes" if row.enabled else "No"
        return ""

    @staticmethod
    def _bold() -> QFont:
        font = QFont()
        font.setBold(True)
        return font


class CataloguePanel(QWidget):
    """The catalogue tab: the list of models, with New model… and Edit model…."""

    changed = Signal()  # a model was saved (other tabs may want to reload)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("CataloguePanel")
        self.editable = can_edit(ctx)
        self.data = CatalogueData([], [], [])
        self.dialog: ModelDialog | None = None
        self._select_after_load: int | None = None

        self.model = CatalogueModel(self)
        self.table = QTableView()
        self.table.setObjectName("CatalogueTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col in range(len(CatalogueModel.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_buttons())

        self.summary = QLabel()
        self.summary.setObjectName("CountLabel")
        self.new_button = QPushButton("New model…")
        self.new_button.clicked.connect(self.new_model)
        self.edit_button = QPushButton("Edit model…")
        self.edit_button.clicked.connect(self.edit_selected)
        self.error = FieldError()

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.new_button)
        bar.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        if not self.editable:
            self.new_button.hide()
            self.edit_button.setText("Open model…")
        self._sync_buttons()
        self.refresh()

    # -- loading -------------------------------------------------------------------------------
    def refresh(self, select_id: int | None = None) -> None:
        """Reload the models (and the manufacturer and category names) on the task runner."""
        if select_id is None:
            current = self.selected()
            select_id = current.id if current else None
        self._select_after_load = select_id
        ctx = self.ctx
        ctx.runner.submit(lambda: load_catalogue(ctx), self._fill, self._failed,
                          key=f"inventory-catalogue:{id(self)}", owner=self)

    def _fill(self, data: CatalogueData) -> None:
        self.data = data
        self.error.clear_message()
        self.model.set_rows(data.models)
        below = sum(1 for r in data.models if r.below_minimum and r.enabled)
        text = f"{len(data.models):,} model{'s' if len(data.models) != 1 else ''}"
        if below:
            text += (f" · <span style='color:{WARNING_COLOUR.name()}; font-weight:600'>"
                     f"{WARNING_MARK} {below} below minimum stock</span>")
        self.summary.setText(text if data.models else "No models yet — New model… adds the first")
        if self._select_after_load is not None:
            self.select(self._select_after_load)
        self._sync_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    # -- the selection -------------------------------------------------------------------------
    def selected(self) -> ModelRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, model_id: int) -> None:
        row = self.model.row_of(model_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def _sync_buttons(self) -> None:
        self.edit_button.setEnabled(self.selected() is not None)

    # -- dialogs -------------------------------------------------------------------------------
    def new_model(self) -> ModelDialog | None:
        if not self.editable:
            return None
        return self._open(None)

    def edit_selected(self) -> ModelDialog | None:
        row = self.selected()
        return self._open(row) if row is not None else None

    def _open(self, row: ModelRow | None) -> ModelDialog:
        dialog = ModelDialog(self.ctx, self.data.manufacturers, self.data.categories, row, self.editable, self)
        dialog.saved.connect(self._saved)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _saved(self, row: ModelRow) -> None:
        self.refresh(select_id=row.id)
        self.changed.emit()


# -- the dialog ----------------------------------------------------------------------------------

class FieldsEditor(QWidget):
    """The identifier fields of a model tracked one by one: label, kind, required, format.

    One row per field; Add, Remove, Up and Down below. A row keeps the key it was loaded with, so
    relabelling a field keeps the values already recorded under it."""

    COLUMNS = ("Label", "Kind", "Required", "Format (regular expression)")
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("FieldsTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 150)
        self.table.setMinimumHeight(170)
        self.table.itemSelectionChanged.connect(self._sync_buttons)

        self.add_button = QPushButton("Add field")
        self.add_button.clicked.connect(lambda: self.add_field())
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button = QPushButton("▲")
        self.up_button.setToolTip("Move up")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton("▼")
        self.down_button.setToolTip("Move down")
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        for b in (self.up_button, self.down_button):
            b.setFixedWidth(36)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._sync_buttons()

    # -- rows ----------------------------------------------------------------------------------
    def set_fields(self, fields: tuple[FieldSpec, ...] | list[FieldSpec]) -> None:
        self.table.setRowCount(0)
        for spec in fields:
            self.add_field(spec, select=False)
        self._sync_buttons()

    def add_field(self, spec: FieldSpec | None = None, *, select: bool = True) -> int:
        """Append a row (a blank custom-free one: a serial number unless the model has one)."""
        if spec is None:
            kinds = {s.kind for s in self.fields()}
            kind = next((k for k in (ids.SERIAL, ids.MAC) if k not in kinds), ids.CUSTOM)
            spec = FieldSpec("", ids.KIND_LABELS[kind] if kind != ids.CUSTOM else "", kind, kind != ids.CUSTOM)
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._put(row, spec)
        if select:
            self.table.selectRow(row)
            self.label_edit(row).setFocus()
        self._sync_buttons()
        self.changed.emit()
        return row

    def _put(self, row: int, spec: FieldSpec) -> None:
        key_item = QTableWidgetItem()
        key_item.setData(IdRole, spec.key)
        self.table.setItem(row, 0, key_item)
        label = QLineEdit(spec.label)
        label.setPlaceholderText("e.g. Port count")
        label.setFrame(False)
        self.table.setCellWidget(row, 0, label)
        kind = QComboBox()
        for k in ids.KINDS:
            kind.addItem(ids.KIND_LABELS[k], k)
        kind.setCurrentIndex(max(0, kind.findData(spec.kind)))
        self.table.setCellWidget(row, 1, kind)
        required = QCheckBox()
        required.setChecked(spec.required)
        required.setToolTip("Every item of this model must have it")
        holder = QWidget()
        holder_layout = QHBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(required, 0, Qt.AlignmentFlag.AlignCenter)
        holder.setProperty("checkbox", required)
        self.table.setCellWidget(row, 2, holder)
        pattern = QLineEdit(spec.pattern)
        pattern.setFrame(False)
        self.table.setCellWidget(row, 3, pattern)

        def kind_changed(_index: int, label=label, kind=kind, pattern=pattern) -> None:
            self._sync_pattern(kind, pattern)
            old_defaults = set(ids.KIND_LABELS.values()) | {""}
            if label.text() in old_defaults and kind.currentData() != ids.CUSTOM:
                label.setText(ids.KIND_LABELS[kind.currentData()])

        kind.currentIndexChanged.connect(kind_changed)
        self._sync_pattern(kind, pattern)
        # A click into a widget of a row selects the row (Remove, Up and Down act on it).
        for w in (label, kind, required, pattern):
            w.installEventFilter(self)

    @staticmethod
    def _sync_pattern(kind: QComboBox, pattern: QLineEdit) -> None:
        allowed = kind.currentData() in PATTERN_KINDS
        pattern.setEnabled(allowed)
        pattern.setPlaceholderText("optional, e.g. SN[0-9]{8}" if allowed else "fixed format")
        if not allowed:
            pattern.clear()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.FocusIn:
            for row in range(self.table.rowCount()):
                widgets = [self.table.cellWidget(row, c) for c in range(4)]
                if watched in widgets or watched is self.required_box(row):
                    if row not in {i.row() for i in self.table.selectionModel().selectedRows()}:
                        self.table.selectRow(row)
                    break
        return False

    def label_edit(self, row: int) -> QLineEdit:
        return self.table.cellWidget(row, 0)

    def kind_combo(self, row: int) -> QComboBox:
        return self.table.cellWidget(row, 1)

    def required_box(self, row: int) -> QCheckBox:
        return self.table.cellWidget(row, 2).property("checkbox")

    def pattern_edit(self, row: int) -> QLineEdit:
        return self.table.cellWidget(row, 3)

    def spec(self, row: int) -> FieldSpec:
        kind = self.kind_combo(row).currentData()
        return FieldSpec(
            key=self.table.item(row, 0).data(IdRole) or "",
            label=self.label_edit(row).text().strip(),
            kind=kind,
            required=self.required_box(row).isChecked(),
            pattern=self.pattern_edit(row).text().strip() if kind in PATTERN_KINDS else "",
        )

    def fields(self) -> list[FieldSpec]:
        return [self.spec(row) for row in range(self.table.rowCount())]

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row < 0:
            return
        self.table.removeRow(row)
        if self.table.rowCount():
            self.table.selectRow(min(row, self.table.rowCount() - 1))
        self._sync_buttons()
        self.changed.emit()

    def move_selected(self, step: int) -> None:
        row = self.selected_row()
        target = row + step
        if row < 0 or not 0 <= target < self.table.rowCount():
            return
        specs = self.fields()
        specs[row], specs[target] = specs[target], specs[row]
        self.set_fields(specs)
        self.table.selectRow(target)
        self._sync_buttons()
        self.changed.emit()

    def _sync_buttons(self) -> None:
        row = self.selected_row()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.table.rowCount() - 1)

    def set_read_only(self, read_only: bool) -> None:
        for row in range(self.table.rowCount()):
            for w in (self.label_edit(row), self.kind_combo(row), self.required_box(row), self.pattern_edit(row)):
                w.setEnabled(not read_only and (w is not self.pattern_edit(row)
                                                or self.kind_combo(row).currentData() in PATTERN_KINDS))
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            b.setVisible(not read_only)


class ModelDialog(QDialog):
    """Create or change a model: its maker, category, name, tracking and identifier fields."""

    saved = Signal(object)  # ModelRow

    def __init__(
        self, ctx: AppContext, manufacturers: list[NamedRow], categories: list[NamedRow],
        model: ModelRow | None = None, editable: bool = True, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.row, self.editable = ctx, model, editable
        self.setObjectName("ModelDialog")
        self.setWindowTitle(f"Model — {model.full_name}" if model else "New model")
        self.setMinimumWidth(720)

        self.header = QLabel(f"<b>{model.full_name}</b>" if model else "<b>New model</b>")
        self.header.setObjectName("FormHeader")

        self.manufacturer = QComboBox()
        self.manufacturer.setEditable(True)
        self.manufacturer.addItems([m.name for m in manufacturers])
        self.manufacturer.lineEdit().setPlaceholderText("e.g. Ubiquiti — a new name is added")
        self.manufacturer_error = FieldError()
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItems([c.name for c in categories])
        self.category.lineEdit().setPlaceholderText("e.g. Routers — a new name is added")
        self.category_error = FieldError()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. UniFi 6 Lite")
        self.name_error = FieldError()

        self.one_by_one = QRadioButton("One by one (each item has its own identifiers)")
        self.by_quantity = QRadioButton("By quantity (cable, connectors, blank keys)")
        self.tracking_group = QButtonGroup(self)
        self.tracking_group.addButton(self.one_by_one)
        self.tracking_group.addButton(self.by_quantity)
        self.one_by_one.setChecked(True)
        tracking = QVBoxLayout()
        tracking.setSpacing(2)
        tracking.addWidget(self.one_by_one)
        tracking.addWidget(self.by_quantity)
        self.tracking_error = FieldError()
        self.unit = QComboBox()
        self.unit.setEditable(True)
        self.unit.addItems(list(catalogue.UNITS))
        self.unit.setMinimumWidth(110)
        self.unit_label = QLabel("Unit")

        self.min_stock = QSpinBox()
        self.min_stock.setRange(0, 1_000_000)
        self.min_stock.setSpecialValueText("no minimum")
        self.min_stock.setToolTip("Warn when fewer than this are in stock (0: no warning)")
        self.min_stock.setMinimumWidth(130)
        self.min_stock.setStyleSheet(SPIN_WITHOUT_ARROWS)
        self.min_stock_error = FieldError()
        self.enabled = QCheckBox("Offered for new items and stock")
        self.enabled.setChecked(True)
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(54)

        form = QFormLayout()
        form.addRow("Manufacturer", self.manufacturer)
        form.addRow("", self.manufacturer_error)
        form.addRow("Category", self.category)
        form.addRow("", self.category_error)
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("Tracked", tracking)
        form.addRow("", self.tracking_error)
        stock_row = QHBoxLayout()
        stock_row.addWidget(self.min_stock)
        stock_row.addSpacing(16)
        stock_row.addWidget(self.unit_label)
        stock_row.addWidget(self.unit)
        stock_row.addStretch(1)
        form.addRow("Minimum stock", stock_row)
        form.addRow("", self.min_stock_error)
        form.addRow("Enabled", self.enabled)
        form.addRow("Notes", self.notes)

        self.fields_box = QGroupBox("Identifier fields")
        self.fields_about = QLabel("What each item carries. A scan is matched against all of them; "
                                   "a MAC address is found whatever separators it is typed with.")
        self.fields_about.setWordWrap(True)
        self.fields_about.setStyleSheet("font-weight: normal; color: #5b6673;")
        self.fields = FieldsEditor()
        self.fields.setStyleSheet("font-weight: normal;")
        self.fields_error = FieldError()
        self.fields_error.setStyleSheet("font-weight: normal;")
        box_layout = QVBoxLayout(self.fields_box)
        box_layout.addWidget(self.fields_about)
        box_layout.addWidget(self.fields, 1)
        box_layout.addWidget(self.fields_error)

        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.fields_box, 1)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

        self.one_by_one.toggled.connect(lambda _on: self._sync_tracking())
        self._fill(model)
        if not editable:
            self._make_read_only()

    # -- filling -------------------------------------------------------------------------------
    def _fill(self, model: ModelRow | None) -> None:
        self.row = model
        if model is None:
            self.manufacturer.setCurrentIndex(-1)
            self.manufacturer.setEditText("")
            self.category.setCurrentIndex(-1)
            self.category.setEditText("")
            self.fields.set_fields([FieldSpec("", ids.KIND_LABELS[ids.SERIAL], ids.SERIAL, True)])
        else:
            self.manufacturer.setEditText(model.manufacturer)
            self.category.setEditText(model.category)
            self.name.setText(model.name)
            (self.one_by_one if model.serialized else self.by_quantity).setChecked(True)
            self.unit.setEditText(model.unit)
            self.min_stock.setValue(model.min_stock or 0)
            self.enabled.setChecked(model.enabled)
            self.notes.setPlainText(model.notes)
            self.fields.set_fields(model.fields)
        self._clear_errors()
        self._sync_tracking()

    def _sync_tracking(self) -> None:
        serialized = self.one_by_one.isChecked()
        self.fields_box.setVisible(serialized)
        self.unit.setVisible(not serialized)
        self.unit_label.setVisible(not serialized)
        if not serialized and self.unit.currentText() == "each" and self.row is None:
            self.unit.setEditText("m")
        self.adjustSize()

    def _make_read_only(self) -> None:
        for w in (self.manufacturer, self.category, self.name, self.one_by_one, self.by_quantity, self.unit,
                  self.min_stock, self.enabled):
            w.setEnabled(False)
        self.notes.setReadOnly(True)
        self.fields.set_read_only(True)
        self.save_button.hide()
        reason = self.ctx.db.read_only_reason or "You can look at the catalogue but not change it."
        self.form_error.show_message(reason)

    # -- saving --------------------------------------------------------------------------------
    def collect(self) -> ModelInput:
        serialized = self.one_by_one.isChecked()
        return ModelInput(
            manufacturer=self.manufacturer.currentText(),
            category=self.category.currentText(),
            name=self.name.text(),
            tracking=SERIALIZED if serialized else QUANTITY,
            unit="each" if serialized else self.unit.currentText(),
            min_stock=self.min_stock.value() or None,
            enabled=self.enabled.isChecked(),
            notes=self.notes.toPlainText(),
            fields=tuple(self.fields.fields()) if serialized else (),
        )

    def _clear_errors(self) -> None:
        for err in (self.manufacturer_error, self.category_error, self.name_error, self.tracking_error,
                    self.min_stock_error, self.fields_error, self.form_error):
            err.clear_message()

    def save(self) -> None:
        if not self.editable:
            return
        data = self.collect()
        ctx = self.ctx
        model_id = self.row.id if self.row else None
        version = self.row.version if self.row else None
        self._clear_errors()
        self.save_button.setEnabled(False)
        ctx.runner.submit(
            lambda: catalogue.save_model(ctx.uow(), ctx.actor, data, model_id, expected_version=version),
            self._on_saved, self._on_save_failed, label="Saving the model", writes=True, owner=self,
        )

    def _on_saved(self, row: ModelRow) -> None:
        self.save_button.setEnabled(True)
        self.row = row
        self.saved.emit(row)
        self.accept()

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
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

    def show_validation(self, exc: ValidationError) -> None:
        """Put the message next to the field it is about."""
        targets = {
            "name": (self.name_error, self.name),
            "manufacturer": (self.manufacturer_error, self.manufacturer),
            "category": (self.category_error, self.category),
            "tracking": (self.tracking_error, self.one_by_one),
            "min_stock": (self.min_stock_error, self.min_stock),
            "fields": (self.fields_error, self.fields.table),
            "pattern": (self.fields_error, None),
        }
        error, widget = targets.get(exc.field or "", (self.form_error, None))
        error.show_message(str(exc))
        if exc.field == "pattern":
            self._focus_bad_pattern()
        elif widget is not None:
            widget.setFocus()

    def _focus_bad_pattern(self) -> None:
        for row in range(self.fields.table.rowCount()):
            spec = self.fields.spec(row)
            try:
                re.compile(spec.pattern)
            except re.error:
                self.fields.table.selectRow(row)
                self.fields.pattern_edit(row).setFocus()
                return

    def reload(self) -> None:
        if self.row is None:
            return
        ctx, model_id = self.ctx, self.row.id
        ctx.runner.submit(lambda: catalogue.get_model(ctx.uow(), ctx.actor, model_id), self._fill,
                          lambda exc: self.form_error.show_message(str(exc)), label="Reloading the model", owner=self)
