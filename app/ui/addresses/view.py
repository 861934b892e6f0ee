"""The Addresses section: buildings with their counts on the left, the chosen building drawn
floor by floor on the right. Click a unit: its account, or a new account there."""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSettings, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea, QSplitter,
    QStackedLayout, QTableView, QVBoxLayout, QWidget,
)

from app.addresses import service
from app.addresses.repository import AddressHit, BuildingRow, UnitRow
from app.core.permissions import Permission
from app.ui.addresses.grid import NOT_YET, VACANT_BORDER, BuildingGridWidget, tint, unit_state
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, SearchBox

BUILDING_COLUMNS = [
    ("Building", lambda b: b.building or "—"),
    ("Street", lambda b: b.street),
    ("City", lambda b: b.city),
    ("Units", lambda b: b.units),
    ("Occupied", lambda b: b.occupied),
    ("Vacant", lambda b: b.vacant),
]


class BuildingsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[BuildingRow] = []

    def set_rows(self, rows: list[BuildingRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(BUILDING_COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN201
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        value = BUILDING_COLUMNS[index.column()][1](row)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:,}" if isinstance(value, int) else value
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.building} — {row.street}, {row.city} {row.postal_code}".strip(" —")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN201, N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return BUILDING_COLUMNS[section][0]
        return None


class Legend(QWidget):
    """Chips naming each colour used in the grid, with how many units have it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(14)

    def set_counts(self, items: list[tuple[str, str, str, int]]) -> None:
        """(label, fill colour, border colour, count) per state."""
        while self.layout_.count():
            w = self.layout_.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for label, fill, border, count in items:
            chip = QLabel(f"<span style='background:{fill}; border:1px solid {border}'>&nbsp;&nbsp;&nbsp;&nbsp;"
                          f"</span>&nbsp;{html.escape(label)} <span style='color:#5b6673'>{count:,}</span>")
            self.layout_.addWidget(chip)
        self.layout_.addStretch(1)


class AddressesView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("AddressesView")
        self.building: service.BuildingGrid | None = None
        self._pending_unit: int | None = None
        self._requested: int | None = None  # the building asked for, until it is drawn
        can_edit = ctx.actor.can(Permission.ADDRESSES_EDIT) and not ctx.read_only

        # -- left: buildings
        self.search = SearchBox("Search buildings: name, street, city, postal code   (Ctrl+F)")
        self.search.search.connect(lambda _t: self.reload())
        self.model = BuildingsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView()
        self.table.setObjectName("BuildingsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 160), (2, 86), (3, 56), (4, 76), (5, 64)):
            header.resizeSection(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._on_building_chosen)
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")
        self.new_button = QPushButton("New address…")
        self.new_button.clicked.connect(lambda: self._new_address(None))
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Import buildings and units from a CSV or Excel file")
        self.import_button.clicked.connect(self._import)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._export)
        for b in (self.new_button, self.import_button):
            b.setEnabled(can_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        self.left_empty = EmptyState("", "")
        self.left_stack = QStackedLayout()
        self.left_stack.addWidget(self.table)
        self.left_stack.addWidget(self.left_empty)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.search)
        lv.addLayout(self.left_stack, 1)
        lv.addLayout(buttons)

        # -- right: the chosen building
        self.title = QLabel("")
        self.title.setObjectName("BuildingTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("BuildingSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.add_unit_button = QPushButton("Add unit…")
        self.add_unit_button.clicked.connect(lambda: self._new_address(self.building.building if self.building else None))
        self.edit_building_button = QPushButton("Edit building…")
        self.edit_building_button.clicked.connect(self._edit_building)
        for b in (self.add_unit_button, self.edit_building_button):
            b.setEnabled(can_edit)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.add_unit_button)
        head.addWidget(self.edit_building_button)
        self.legend = Legend()
        self.grid = BuildingGridWidget()
        self.grid.unit_activated.connect(self.activate_unit)
        self.grid.selection_changed.connect(self._on_unit_selected)
        scroll = QScrollArea()
        scroll.setObjectName("GridScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.grid)
        self.unit_info = QLabel("Click a unit: an occupied one opens its account, a vacant one starts a new account.")
        self.unit_info.setObjectName("UnitInfo")
        self.unit_info.setWordWrap(True)
        self.open_button = QPushButton("Open account")
        self.open_button.clicked.connect(lambda: self.activate_unit(self.grid.selected_unit()))
        self.edit_unit_button = QPushButton("Edit unit…")
        self.edit_unit_button.clicked.connect(self._edit_unit)
        self.edit_unit_button.setEnabled(False)
        self._can_edit = can_edit
        info = QHBoxLayout()
        info.addWidget(self.unit_info, 1)
        info.addWidget(self.edit_unit_button)
        info.addWidget(self.open_button)
        self.open_button.setEnabled(False)
        building_page = QWidget()
        rv = QVBoxLayout(building_page)
        rv.setContentsMargins(8, 0, 0, 0)
        rv.addLayout(head)
        rv.addWidget(self.legend)
        rv.addWidget(scroll, 1)
        rv.addLayout(info)
        self.right_empty = EmptyState("Choose a building", "Its floors and units appear here, coloured by state.")
        self.right_stack = QStackedLayout()
        self.right_stack.addWidget(self.right_empty)
        self.right_stack.addWidget(building_page)
        right = QWidget()
        right.setLayout(self.right_stack)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([540, 800])
        state = QSettings().value("addresses/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.addWidget(self.splitter)
        QShortcut(QKeySequence.StandardKey.Find, self, lambda: (self.search.setFocus(), self.search.selectAll()))
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)
        QShortcut(QKeySequence.StandardKey.New, self, lambda: self._new_address(None))
        self.reload()

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue("addresses/splitter", self.splitter.saveState())

    # -- buildings -----------------------------------------------------------------------------
    def reload(self) -> None:
        ctx, text = self.ctx, self.search.text()
        self.count_label.setText("Loading…")
        ctx.runner.submit(lambda: service.list_buildings(ctx.uow(), ctx.actor, text), self._show_buildings,
                          self._failed, label="Loading buildings", key="buildings", owner=self)

    def _show_buildings(self, rows: list[BuildingRow]) -> None:
        current = self.building.building.id if self.building else self._requested
        self.model.set_rows(rows)
        units = sum(r.units for r in rows)
        vacant = sum(r.vacant for r in rows)
        self.count_label.setText(f"{len(rows):,} buildings · {units:,} units · {vacant:,} vacant")
        if rows:
            self.left_stack.setCurrentWidget(self.table)
        elif self.search.text().strip():
            self.left_empty.set_message("No matching buildings", f"Nothing matches “{self.search.text().strip()}”.")
            self.left_stack.setCurrentWidget(self.left_empty)
        else:
            self.left_empty.set_message(
                "No buildings yet", "Add a building with New address…, or import every building and unit "
                "from a spreadsheet with Import… (CSV or Excel; a column each for street, unit, city, "
                "postal code).")
            self.left_stack.setCurrentWidget(self.left_empty)
        if current is not None:
            self._select_building_row(current)
        elif rows and self.building is None:
            self.table.selectRow(0)

    def _select_building_row(self, building_id: int) -> bool:
        for r, b in enumerate(self.model.rows):
            if b.id == building_id:
                index = self.proxy.mapFromSource(self.model.index(r, 0))
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(index.row())
                self.table.selectionModel().blockSignals(False)
                self.table.scrollTo(index)
                return True
        return False

    def _on_building_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.rows[self.proxy.mapToSource(current).row()]
        self.show_building(row.id, 0)

    def show_building(self, building_id: int, unit_id: int = 0) -> None:
        ctx = self.ctx
        self._pending_unit = unit_id or None
        self._requested = building_id
        self._select_building_row(building_id)
        ctx.runner.submit(lambda: service.building_grid(ctx.uow(), ctx.actor, building_id), self._show_grid,
                          self._failed, label="Drawing the building", key="building-grid", owner=self)

    def _show_grid(self, grid: service.BuildingGrid) -> None:
        self.building = grid
        b = grid.building
        self.title.setText(f"<span style='font-size:17px; font-weight:600'>{html.escape(b.building or b.street)}</span>")
        occupied = sum(1 for u in grid.units if u.account_id)
        floors = {u.floor for u in grid.units if u.floor is not None}
        self.subtitle.setText(f"{b.street}, {b.city} {b.region} {b.postal_code} · {len(grid.units):,} units on "
                              f"{len(floors)} floors · {occupied:,} occupied")
        self.grid.set_units(grid.units, grid.today)
        legend: dict[str, tuple[str, str, str, int]] = {}
        for unit in grid.units:
            state = unit_state(unit, grid.today)
            if state.key == "vacant":
                fill, border = "#ffffff", VACANT_BORDER.name()
            elif state.key == "not_yet":
                fill, border = NOT_YET.name(), VACANT_BORDER.name()
            else:
                fill, border = tint(state.colour).name(), state.colour.name()
            label, f, bd, n = legend.get(state.label, (state.label, fill, border, 0))
            legend[state.label] = (label, f, bd, n + 1)
        self.legend.set_counts(sorted(legend.values(), key=lambda t: (t[0] != "Vacant", t[0])))
        self.right_stack.setCurrentIndex(1)
        if self._pending_unit:
            self.grid.select_unit(self._pending_unit)
            self.grid.setFocus()
            self._pending_unit = None
        else:
            self._on_unit_selected(None)

    # -- units ---------------------------------------------------------------------------------
    def _on_unit_selected(self, unit: UnitRow | None) -> None:
        self.edit_unit_button.setEnabled(unit is not None and self._can_edit)
        self.open_button.setEnabled(unit is not None)
        if unit is None:
            self.unit_info.setText("Click a unit: an occupied one opens its account, a vacant one starts a new account.")
            self.open_button.setText("Open account")
            return
        state = unit_state(unit, self.building.today if self.building else date.today())
        if unit.account_id:
            text = (f"<b>Unit {html.escape(unit.unit)}</b> — {html.escape(unit.account_number)} "
                    f"{html.escape(unit.account_name)} ({html.escape(unit.status)})")
            self.open_button.setText("Open account")
        else:
            when = f", serviceable from {unit.serviceable_from.isoformat()}" if state.key == "not_yet" else ""
            text = f"<b>Unit {html.escape(unit.unit)}</b> — vacant{when}"
            self.open_button.setText("New account here…")
        self.unit_info.setText(text)
        ctx = self.ctx
        ctx.runner.submit(lambda: service.tenants(ctx.uow(), ctx.actor, unit.id), lambda past: self._show_past(unit, text, past),
                          lambda _exc: None, label="Reading the unit's history", key="unit-history", owner=self)

    def _show_past(self, unit: UnitRow, text: str, past: list) -> None:
        """The place keeps its history: who lived here before."""
        if self.grid.selected_unit() is None or self.grid.selected_unit().id != unit.id:
            return
        earlier = [t for t in past if not t.current]
        if earlier:
            names = ", ".join(f"{html.escape(t.name)} (left {t.disconnected_on.isoformat()})" if t.disconnected_on
                              else html.escape(t.name) for t in earlier[:3])
            more = f" and {len(earlier) - 3} more" if len(earlier) > 3 else ""
            text += f"<br><span style='color:#5b6673'>Before: {names}{more}</span>"
        self.unit_info.setText(text)

    def activate_unit(self, unit: UnitRow | None) -> None:
        if unit is None or self.building is None:
            return
        if unit.account_id:
            self.ctx.nav.open_account(unit.account_id)
            return
        if not (self.ctx.actor.can(Permission.ACCOUNTS_EDIT) and not self.ctx.read_only):
            return
        from app.ui.accounts.new_account import NewAccountDialog

        b = self.building.building
        hit = AddressHit(unit.id, f"{b.street} #{unit.unit}, {b.city}", b.building, b.id, False, "")
        starts = unit.serviceable_from if unit.serviceable_from and unit.serviceable_from > self.building.today else None
        dialog = NewAccountDialog(self.ctx, hit, starts, self)
        dialog.created.connect(lambda d: (self.show_building(b.id, unit.id), self.reload(), self.ctx.nav.open_account(d.id)))
        dialog.open()
        self.dialog = dialog

    # -- editing -------------------------------------------------------------------------------
    def _new_address(self, building: service.AddressDetail | None) -> None:
        from app.ui.addresses.form import AddressDialog

        dialog = AddressDialog(self.ctx, None, building, self)
        dialog.saved.connect(self._after_save)
        dialog.show_existing.connect(self._show_address)
        dialog.open()
        self.dialog = dialog

    def _edit_building(self) -> None:
        if self.building is not None:
            self._edit(self.building.building)

    def _edit_unit(self) -> None:
        unit = self.grid.selected_unit()
        if unit is None:
            return
        ctx = self.ctx
        ctx.runner.submit(lambda: service.get_address(ctx.uow(), ctx.actor, unit.id), self._edit, self._failed,
                          label="Opening address", owner=self)

    def _edit(self, detail: service.AddressDetail) -> None:
        from app.ui.addresses.form import AddressDialog

        dialog = AddressDialog(self.ctx, detail, None, self)
        dialog.saved.connect(self._after_save)
        dialog.open()
        self.dialog = dialog

    def _after_save(self, detail: service.AddressDetail) -> None:
        building_id = detail.parent_id or detail.id
        self.reload()
        self.show_building(building_id, detail.id if detail.parent_id else 0)

    def _show_address(self, address_id: int) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: service.get_address(ctx.uow(), ctx.actor, address_id),
                          lambda d: self.show_building(d.parent_id or d.id, d.id if d.parent_id else 0),
                          self._failed, label="Finding address", owner=self)

    def _import(self) -> None:
        from app.ui.addresses.import_dialog import ImportDialog

        dialog = ImportDialog(self.ctx, parent=self)
        dialog.finished.connect(lambda _r: self.reload())
        dialog.open()
        self.dialog = dialog

    def _export(self) -> None:
        from app.ui.widgets.export import export_list

        export_list(self, self.ctx, "addresses")

    def _failed(self, exc: BaseException) -> None:
        self.count_label.setText(str(exc))
        self.unit_info.setText(str(exc))
