"""Inventory → Locations: the places things are kept, as a tree.

Warehouse › shelf › bin, a van, a building's network closet. Each row shows the location's name,
kind, the code its label carries, and how many items are kept right there. "New location…" adds
one inside the selected location (or at the top level when nothing is selected); "Edit…" opens
``LocationDialog``; "Show items here" (or a double-click) asks the Inventory view to list what is
kept there (``location_selected``); "Print label…" asks for labels of the selected locations
(``print_labels_requested``). Loading and saving run on the task runner.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConflictError, ValidationError
from app.inventory import catalogue
from app.inventory.catalogue import LOCATION_KINDS, LocationInput, LocationRow
from app.ui.context import AppContext
from app.ui.inventory.catalogue import can_edit
from app.ui.widgets.common import FieldError

IdRole = Qt.ItemDataRole.UserRole + 1
INACTIVE_COLOUR = QColor("#9aa3ad")
MUTED_COLOUR = QColor("#5b6673")
KIND_LABELS = {"warehouse": "Warehouse", "shelf": "Shelf", "bin": "Bin", "van": "Van",
               "closet": "Network closet", "other": "Other"}
# What a new location inside one of each kind usually is.
CHILD_KIND = {"warehouse": "shelf", "shelf": "bin", "bin": "bin", "van": "bin", "closet": "shelf", "other": "other"}
TOP_LEVEL = "(top level)"


class LocationsPanel(QWidget):
    """The locations tab: a tree with New location…, Edit…, Show items here and Print label…."""

    location_selected = Signal(int)  # show the items kept at this location (and inside it)
    print_labels_requested = Signal(list)  # location ids
    changed = Signal()  # a location was saved

    COLUMNS = ("Name", "Kind", "Code", "Items")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("LocationsPanel")
        self.editable = can_edit(ctx)
        self.rows: list[LocationRow] = []
        self.items_by_id: dict[int, QTreeWidgetItem] = {}
        self.dialog: LocationDialog | None = None
        self._select_after_load: list[int] = []

        self.tree = QTreeWidget()
        self.tree.setObjectName("LocationsTree")
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setStyleSheet(
            "QTreeView { background: white; alternate-background-color: #f3f6fa; border: 1px solid #d9dee5;"
            " selection-background-color: #d6e6fb; selection-color: #111; }"
            " QTreeView::item { padding: 3px 0; }"
            " QTreeView::item:selected { background: #d6e6fb; color: #111; }")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.tree.headerItem().setToolTip(3, "Items kept right here (not counting the locations inside)")
        self.tree.headerItem().setToolTip(2, "What the location's label barcode carries")
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.location_selected.emit(item.data(0, IdRole)))
        self.tree.itemSelectionChanged.connect(self._sync_buttons)

        self.summary = QLabel()
        self.summary.setObjectName("CountLabel")
        self.new_button = QPushButton("New location…")
        self.new_button.clicked.connect(self.new_location)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_selected)
        self.show_button = QPushButton("Show items here")
        self.show_button.clicked.connect(self.show_items)
        self.print_button = QPushButton("Print label…")
        self.print_button.clicked.connect(self.print_labels)
        self.error = FieldError()

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.new_button)
        bar.addWidget(self.edit_button)
        bar.addSpacing(12)
        bar.addWidget(self.show_button)
        bar.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.error)
        if not self.editable:
            self.new_button.hide()
            self.edit_button.setText("Open…")
        self._sync_buttons()
        self.refresh()

    # -- loading -------------------------------------------------------------------------------
    def refresh(self, select_id: int | None = None) -> None:
        """Reload the tree on the task runner; keep (or move to ``select_id``) the selection."""
        self._select_after_load = [select_id] if select_id is not None else self.selected_ids()
        ctx = self.ctx
        ctx.runner.submit(lambda: catalogue.list_locations(ctx.uow(), ctx.actor), self._fill, self._failed,
                          key=f"inventory-locations:{id(self)}", owner=self)

    def _fill(self, rows: list[LocationRow]) -> None:
        self.rows = rows
        self.error.clear_message()
        expanded = {lid for lid, item in self.items_by_id.items() if item.isExpanded()}
        first_load = not self.items_by_id
        self.tree.clear()
        self.items_by_id = {}
        for row in rows:
            parent = self.items_by_id.get(row.parent_id) if row.parent_id is not None else None
            item = QTreeWidgetItem([row.name, KIND_LABELS.get(row.kind, row.kind), row.code,
                                    f"{row.items:,}" if row.items else ""])
            item.setData(0, IdRole, row.id)
            item.setToolTip(0, row.path + (f"\n{row.notes}" if row.notes else ""))
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setForeground(2, QBrush(MUTED_COLOUR))
            if not row.active:
                item.setText(0, f"{row.name} (not in use)")
                for col in range(len(self.COLUMNS)):
                    item.setForeground(col, QBrush(INACTIVE_COLOUR))
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            self.items_by_id[row.id] = item
        for lid, item in self.items_by_id.items():
            item.setExpanded(first_load or lid in expanded or lid in self._select_after_load)
        for lid in self._select_after_load:
            item = self.items_by_id.get(lid)
            if item is not None:
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                item.setSelected(True)
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
        active = sum(1 for r in rows if r.active)
        self.summary.setText(f"{active:,} location{'s' if active != 1 else ''}" if rows
                             else "No locations yet — New location… adds a warehouse, a van or a closet")
        self._sync_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    # -- the selection -------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """The selected locations, in tree order."""
        chosen = {item.data(0, IdRole) for item in self.tree.selectedItems()}
        return [r.id for r in self.rows if r.id in chosen]

    def selected(self) -> LocationRow | None:
        current = self.tree.currentItem()
        ids = self.selected_ids()
        if current is not None and current.isSelected():
            wanted = current.data(0, IdRole)
        elif ids:
            wanted = ids[0]
        else:
            return None
        return next((r for r in self.rows if r.id == wanted), None)

    def select(self, location_id: int) -> None:
        item = self.items_by_id.get(location_id)
        if item is not None:
            self.tree.clearSelection()
            item.setSelected(True)
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def _sync_buttons(self) -> None:
        count = len(self.tree.selectedItems())
        self.edit_button.setEnabled(count == 1)
        self.show_button.setEnabled(count == 1)
        self.print_button.setEnabled(count >= 1)
        self.print_button.setText("Print labels…" if count > 1 else "Print label…")
        self.new_button.setToolTip("A new location inside the selected one" if count == 1
                                   else "A new top-level location")

    # -- actions -------------------------------------------------------------------------------
    def show_items(self) -> None:
        row = self.selected()
        if row is not None:
            self.location_selected.emit(row.id)

    def print_labels(self) -> None:
        chosen = self.selected_ids()
        if chosen:
            self.print_labels_requested.emit(chosen)

    def new_location(self) -> LocationDialog | None:
        if not self.editable:
            return None
        selected = self.selected() if len(self.tree.selectedItems()) == 1 else None
        return self._open(None, selected.id if selected else None)

    def edit_selected(self) -> LocationDialog | None:
        row = self.selected()
        return self._open(row, row.parent_id) if row is not None else None

    def _open(self, row: LocationRow | None, parent_id: int | None) -> LocationDialog:
        dialog = LocationDialog(self.ctx, self.rows, row, parent_id, self.editable, self)
        dialog.saved.connect(self._saved)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _saved(self, row: LocationRow) -> None:
        self.refresh(select_id=row.id)
        self.changed.emit()


class LocationDialog(QDialog):
    """Create or change a location: name, kind, where it sits, its label code."""

    saved = Signal(object)  # LocationRow

    def __init__(
        self, ctx: AppContext, locations: list[LocationRow], location: LocationRow | None = None,
        parent_id: int | None = None, editable: bool = True, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.row, self.editable = ctx, location, editable
        self.setObjectName("LocationDialog")
        self.setWindowTitle(f"Location — {location.name}" if location else "New location")
        self.setMinimumWidth(520)

        self.header = QLabel(f"<b>{location.path}</b>" if location else "<b>New location</b>")
        self.header.setObjectName("FormHeader")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Main warehouse, Shelf A, Van 2")
        self.name_error = FieldError()
        self.kind = QComboBox()
        for kind in LOCATION_KINDS:
            self.kind.addItem(KIND_LABELS.get(kind, kind.title()), kind)
        self.kind_error = FieldError()
        self.parent_combo = QComboBox()
        self.parent_combo.addItem(TOP_LEVEL, None)
        # A location cannot move inside itself: leave out it and everything under it.
        excluded = _subtree(locations, location.id) if location else set()
        for loc in locations:
            if loc.id not in excluded and (loc.active or loc.id == parent_id):
                self.parent_combo.addItem(loc.path, loc.id)
        self.parent_combo.setMinimumContentsLength(30)
        self.parent_error = FieldError()
        self.code = QLineEdit()
        self.code.setPlaceholderText("automatic (L-000123)")
        self.code.setToolTip("What the location's label barcode carries; leave empty for the next number")
        self.code_error = FieldError()
        self.active = QCheckBox("In use (offered for moving things here)")
        self.active.setChecked(True)
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(60)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("Kind", self.kind)
        form.addRow("", self.kind_error)
        form.addRow("Inside", self.parent_combo)
        form.addRow("", self.parent_error)
        form.addRow("Code", self.code)
        form.addRow("", self.code_error)
        form.addRow("Active", self.active)
        form.addRow("Notes", self.notes)

        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.locations = locations
        self._fill(location, parent_id)
        if not editable:
            for w in (self.name, self.kind, self.parent_combo, self.code, self.active):
                w.setEnabled(False)
            self.notes.setReadOnly(True)
            self.save_button.hide()
            self.form_error.show_message(ctx.db.read_only_reason or "You can look at locations but not change them.")

    def _fill(self, location: LocationRow | None, parent_id: int | None) -> None:
        self.row = location
        if location is None:
            parent = next((r for r in self.locations if r.id == parent_id), None)
            kind = CHILD_KIND.get(parent.kind, "shelf") if parent else "warehouse"
            self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        else:
            self.name.setText(location.name)
            self.kind.setCurrentIndex(max(0, self.kind.findData(location.kind)))
            self.code.setText(location.code)
            self.active.setChecked(location.active)
            self.notes.setPlainText(location.notes)
            parent_id = location.parent_id
        self.parent_combo.setCurrentIndex(max(0, self.parent_combo.findData(parent_id)))
        self._clear_errors()

    def collect(self) -> LocationInput:
        return LocationInput(
            name=self.name.text(),
            kind=self.kind.currentData(),
            parent_id=self.parent_combo.currentData(),
            code=self.code.text(),
            address_id=self.row.address_id if self.row else None,
            active=self.active.isChecked(),
            notes=self.notes.toPlainText(),
        )

    def _clear_errors(self) -> None:
        for err in (self.name_error, self.kind_error, self.parent_error, self.code_error, self.form_error):
            err.clear_message()

    def save(self) -> None:
        if not self.editable:
            return
        data, ctx = self.collect(), self.ctx
        location_id = self.row.id if self.row else None
        version = self.row.version if self.row else None
        self._clear_errors()
        self.save_button.setEnabled(False)
        ctx.runner.submit(
            lambda: catalogue.save_location(ctx.uow(), ctx.actor, data, location_id, expected_version=version),
            self._on_saved, self._on_save_failed, label="Saving the location", writes=True, owner=self,
        )

    def _on_saved(self, row: LocationRow) -> None:
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
        targets = {
            "name": (self.name_error, self.name),
            "kind": (self.kind_error, self.kind),
            "parent_id": (self.parent_error, self.parent_combo),
            "code": (self.code_error, self.code),
        }
        error, widget = targets.get(exc.field or "", (self.form_error, None))
        error.show_message(str(exc))
        if widget is not None:
            widget.setFocus()

    def reload(self) -> None:
        if self.row is None:
            return
        ctx, location_id = self.ctx, self.row.id

        def loaded(rows: list[LocationRow]) -> None:
            fresh = next((r for r in rows if r.id == location_id), None)
            if fresh is None:
                self.form_error.show_message("That location no longer exists.")
            else:
                self._fill(fresh, fresh.parent_id)

        ctx.runner.submit(lambda: catalogue.list_locations(ctx.uow(), ctx.actor), loaded,
                          lambda exc: self.form_error.show_message(str(exc)), label="Reloading the location",
                          owner=self)


def _subtree(rows: list[LocationRow], location_id: int) -> set[int]:
    """The location and every location inside it."""
    found = {location_id}
    for row in rows:  # tree order: a parent comes before its children
        if row.parent_id in found:
            found.add(row.id)
    return found
