"""Settings panels for the lists accounts choose from: statuses, types and groups.

Each list is a table: the name with its colour swatch (double-click or F2 renames), whether a
status *activates* (billed, counts as active), and how many accounts use it. Below it: a name
box with "Add", then Colour…, Delete…, and for statuses and types ▲ / ▼ to change the order.
Only a user with SETTINGS_MANAGE changes anything; the others see the lists.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.accounts import lookups
from app.accounts.lookups import LookupKind, LookupRow
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

IdRole = Qt.ItemDataRole.UserRole + 1

TITLES = {
    LookupKind.STATUS: ("Account statuses",
                        ("A status that activates is billed and counts as active. The order here is the "
                         "order of lists and of the Status sort.")),
    LookupKind.TYPE: ("Account types", "Residential, student, commercial… The order here is the order of lists."),
    LookupKind.GROUP: ("Account groups",
                       ("Tags for finding accounts together: “Bulk contract 2025”, “Building 7 board”. "
                        "An account can be in any number of groups.")),
}


class LookupPanel(QGroupBox):
    """One list: statuses, types or groups."""

    changed = Signal()  # the list was changed (lists elsewhere may want to reload)

    def __init__(self, ctx: AppContext, kind: LookupKind, parent: QWidget | None = None) -> None:
        title, about = TITLES[kind]
        super().__init__(title, parent)
        self.ctx, self.kind = ctx, kind
        self.setObjectName(f"LookupPanel_{kind.value}")
        self.rows: list[LookupRow] = []
        self.editable = ctx.actor.can(Permission.SETTINGS_MANAGE) and not ctx.read_only
        self._filling = False

        self.about = QLabel(about)
        self.about.setWordWrap(True)
        self.about.setStyleSheet("font-weight: normal; color: #5b6673;")

        self.columns = ["Name", "Activates", "Accounts"] if kind is LookupKind.STATUS else ["Name", "Accounts"]
        self.table = QTableWidget(0, len(self.columns))
        self.table.setObjectName("LookupTable")
        self.table.setHorizontalHeaderLabels(self.columns)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setStyleSheet("font-weight: normal;")
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(self.columns)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
            if self.editable else QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._sync_buttons)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(f"New {kind.noun} name")
        self.name_edit.returnPressed.connect(self.add)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add)
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Or double-click the name")
        self.rename_button.clicked.connect(self.start_rename)
        self.colour_button = QPushButton("Colour…")
        self.colour_button.clicked.connect(self.choose_colour)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete)
        self.up_button = QPushButton("▲")
        self.up_button.setToolTip("Move up")
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button = QPushButton("▼")
        self.down_button.setToolTip("Move down")
        self.down_button.clicked.connect(lambda: self.move(1))
        for b in (self.up_button, self.down_button):
            b.setFixedWidth(36)
        self.error = FieldError()
        self.error.setStyleSheet("font-weight: normal;")

        controls = QHBoxLayout()
        controls.addWidget(self.name_edit, 1)
        controls.addWidget(self.add_button)
        controls.addSpacing(12)
        for b in (self.rename_button, self.colour_button, self.delete_button):
            controls.addWidget(b)
        if kind.ordered:
            controls.addSpacing(6)
            controls.addWidget(self.up_button)
            controls.addWidget(self.down_button)
        else:
            self.up_button.hide()
            self.down_button.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.table)
        if self.editable:
            layout.addLayout(controls)
        else:
            for w in (self.name_edit, self.add_button, self.rename_button, self.colour_button, self.delete_button,
                      self.up_button, self.down_button):
                w.hide()
            note = QLabel("Only a user who manages settings changes these lists.")
            note.setStyleSheet("font-weight: normal; color: #5b6673;")
            layout.addWidget(note)
        layout.addWidget(self.error)
        self._sync_buttons()
        self.load()

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        ctx, kind = self.ctx, self.kind
        ctx.runner.submit(lambda: lookups.list_lookups(ctx.uow(), ctx.actor, kind), self._fill, self._failed,
                          key=f"lookups:{kind.value}:{id(self)}", owner=self)

    def _fill(self, rows: list[LookupRow], select_id: int | None = None) -> None:
        if select_id is None:
            current = self.selected()
            select_id = current.id if current else None
        self.rows = rows
        self._filling = True
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            name = QTableWidgetItem(row.name)
            name.setData(IdRole, row.id)
            name.setData(Qt.ItemDataRole.DecorationRole, QColor(row.colour))
            name.setToolTip(f"{row.name} · {row.colour}")
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            name.setFlags(flags | Qt.ItemFlag.ItemIsEditable if self.editable else flags)
            self.table.setItem(i, 0, name)
            col = 1
            if self.kind is LookupKind.STATUS:
                activates = QTableWidgetItem("")
                activates.setFlags(flags | Qt.ItemFlag.ItemIsUserCheckable if self.editable else flags)
                activates.setCheckState(Qt.CheckState.Checked if row.activates else Qt.CheckState.Unchecked)
                activates.setToolTip("Billed and counted as active" if row.activates else "Not billed")
                self.table.setItem(i, col, activates)
                col += 1
            count = QTableWidgetItem(f"{row.accounts:,}")
            count.setFlags(flags)
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count.setForeground(QColor("#5b6673"))
            self.table.setItem(i, col, count)
        self._filling = False
        self._fit_height()
        if select_id is not None:
            for i, row in enumerate(rows):
                if row.id == select_id:
                    self.table.selectRow(i)
                    break
        self._sync_buttons()

    def _fit_height(self) -> None:
        """Tall enough for every row up to ten; a longer list scrolls."""
        shown = max(3, min(10, len(self.rows)))
        height = (self.table.horizontalHeader().sizeHint().height()
                  + shown * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth() + 2)
        self.table.setFixedHeight(height)

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    # -- the selection -------------------------------------------------------------------------
    def selected(self) -> LookupRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0].row()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def select(self, item_id: int) -> None:
        for i, row in enumerate(self.rows):
            if row.id == item_id:
                self.table.selectRow(i)
                return

    def _sync_buttons(self) -> None:
        row = self.selected()
        at = self.rows.index(row) if row is not None else -1
        for b in (self.rename_button, self.colour_button, self.delete_button):
            b.setEnabled(row is not None)
        self.up_button.setEnabled(row is not None and at > 0)
        self.down_button.setEnabled(row is not None and at < len(self.rows) - 1)

    # -- changes -------------------------------------------------------------------------------
    def _run(self, op, label: str, select_id: int | None = None) -> None:  # noqa: ANN001
        """Run a change on the task runner; then show the fresh list (or the error, and the list
        as it really is)."""
        ctx, kind = self.ctx, self.kind
        self.error.clear_message()

        def change_and_list() -> tuple[object, list[LookupRow]]:
            result = op()
            return result, lookups.list_lookups(ctx.uow(), ctx.actor, kind)

        def done(loaded: tuple[object, list[LookupRow]]) -> None:
            result, rows = loaded
            chosen = select_id if select_id is not None else getattr(result, "id", None)
            self._fill(rows, chosen)
            self.changed.emit()

        def failed(exc: BaseException) -> None:
            self.error.show_message(str(exc))
            self.load()  # undo an inline edit the service refused

        ctx.runner.submit(change_and_list, done, failed, label=label, writes=True, owner=self)

    def add(self) -> None:
        name = self.name_edit.text()
        if not self.editable:
            return
        ctx, kind = self.ctx, self.kind
        self.error.clear_message()
        ctx.runner.submit(lambda: (lookups.add_lookup(ctx.uow(), ctx.actor, kind, name),
                                   lookups.list_lookups(ctx.uow(), ctx.actor, kind)),
                          self._added, self._add_failed, label=f"Adding {kind.a_noun}", writes=True, owner=self)

    def _added(self, loaded: tuple[LookupRow, list[LookupRow]]) -> None:
        row, rows = loaded
        self.name_edit.clear()
        self._fill(rows, row.id)
        self.changed.emit()

    def _add_failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))
        self.name_edit.setFocus()

    def start_rename(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.editable:
            item = self.table.item(rows[0].row(), 0)
            self.table.setCurrentItem(item)
            self.table.editItem(item)

    def rename(self, item_id: int, name: str) -> None:
        ctx, kind = self.ctx, self.kind
        self._run(lambda: lookups.rename_lookup(ctx.uow(), ctx.actor, kind, item_id, name),
                  f"Renaming the {kind.noun}", item_id)

    def set_activates(self, item_id: int, activates: bool) -> None:
        ctx = self.ctx
        self._run(lambda: lookups.set_activates(ctx.uow(), ctx.actor, item_id, activates), "Saving the status", item_id)

    def choose_colour(self) -> None:
        row = self.selected()
        if row is None:
            return
        colour = QColorDialog.getColor(QColor(row.colour), self, f"Colour of “{row.name}”")
        if colour.isValid():
            self.apply_colour(row.id, colour.name())

    def apply_colour(self, item_id: int, colour: str) -> None:
        ctx, kind = self.ctx, self.kind
        self._run(lambda: lookups.set_colour(ctx.uow(), ctx.actor, kind, item_id, colour),
                  f"Saving the {kind.noun}'s colour", item_id)

    def move(self, step: int) -> None:
        row = self.selected()
        if row is None or not self.kind.ordered:
            return
        ctx, kind = self.ctx, self.kind
        self._run(lambda: lookups.move_lookup(ctx.uow(), ctx.actor, kind, row.id, step), f"Moving the {kind.noun}",
                  row.id)

    def delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        ctx, kind = self.ctx, self.kind
        confirmed = False
        if kind is LookupKind.GROUP:
            question = f"Delete the group “{row.name}”?"
            if row.accounts:
                many = row.accounts != 1
                question += (f"\n\n{row.accounts:,} account{'s are' if many else ' is'} in it; "
                             f"{'they' if many else 'it'} will simply leave the group.")
            if not self._confirm(f"Delete {kind.noun}", question):
                return
            confirmed = True
        elif not row.accounts and not self._confirm(f"Delete {kind.noun}", f"Delete the {kind.noun} “{row.name}”?"):
            return  # (in use: no question; the service explains why it cannot go)
        self._run(lambda: lookups.delete_lookup(ctx.uow(), ctx.actor, kind, row.id, confirmed=confirmed),
                  f"Deleting the {kind.noun}", -1)

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or not self.editable:
            return
        row = self.rows[item.row()] if 0 <= item.row() < len(self.rows) else None
        if row is None:
            return
        if item.column() == 0:
            if item.text() != row.name:
                self.rename(row.id, item.text())
        elif self.kind is LookupKind.STATUS and item.column() == 1:
            activates = item.checkState() == Qt.CheckState.Checked
            if activates != row.activates:
                self.set_activates(row.id, activates)


class LookupsPanel(QWidget):
    """The three lists, one under the other."""

    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LookupsPanel")
        self.statuses = LookupPanel(ctx, LookupKind.STATUS)
        self.types = LookupPanel(ctx, LookupKind.TYPE)
        self.groups = LookupPanel(ctx, LookupKind.GROUP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for panel in (self.statuses, self.types, self.groups):
            panel.changed.connect(self.changed)
            layout.addWidget(panel)
