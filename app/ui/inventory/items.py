"""The Items tab: every serialized item, a page at a time, searched and filtered in the database.

    panel = ItemsPanel(ctx)
    panel.item_activated.connect(open_item)   # double-click or Enter on a row
    panel.set_location(location_id)           # e.g. a scanned location label
    panel.selected_item_ids()                 # for Print labels…

The search box matches an item's tag, any identifier whatever separators it is typed with, and
the model's name (the service does the matching). A location filter includes everything inside
the location (``service.resolve_query``); locations no longer in use are offered too, marked
"(not in use)", as items may still be kept there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.inventory import catalogue, service
from app.inventory.catalogue import LocationRow, ModelRow, NamedRow
from app.inventory.models import (
    ASSIGNED,
    FAULTY,
    IN_STOCK,
    INSTALLED,
    RETIRED,
    RMA,
    STATE_LABELS,
    STATES,
)
from app.inventory.repository import ItemQuery
from app.inventory.service import ItemRow
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, SearchBox
from app.ui.widgets.paged_model import Column, PagedTableModel

STATE_COLOURS = {
    IN_STOCK: "#2e7d32",
    ASSIGNED: "#1565c0",
    INSTALLED: "#00838f",
    FAULTY: "#c62828",
    RMA: "#ef6c00",
    RETIRED: "#78838f",
}


@dataclass(frozen=True)
class ItemListQuery(ItemQuery):
    """The list's query: the service's ItemQuery plus the chosen location, which is widened to
    the location and everything inside it when the query runs."""

    location_id: int | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.search.strip()) or any(
            x is not None for x in (self.state, self.model_id, self.category_id, self.location_id)
        )


def local_time(moment: datetime) -> str:
    """A stored moment (UTC) as the desk's local time, to the minute."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def identifiers_text(row: ItemRow, count: int = 2) -> str:
    """The first identifiers (MAC, serial…) of an item, as one short line."""
    return " · ".join(ident.value for ident in row.identifiers[:count])


ITEM_COLUMNS: list[Column[ItemRow]] = [
    Column("Tag", lambda r: r.tag, "tag", 82),
    Column("Model", lambda r: r.model, "model", 175),
    Column("MAC / Serial", identifiers_text, None, 238),
    Column("State", lambda r: r.state_label, "state", 150, colour=lambda r: STATE_COLOURS.get(r.state)),
    Column("Where", lambda r: r.holder or "—", None, 254),
    Column("Updated", lambda r: local_time(r.updated_at), "updated", 125),
]


def _resolved(ctx: AppContext, query: ItemListQuery) -> ItemQuery:
    return service.resolve_query(ctx.uow(), query, query.location_id)


IDENTIFIERS_COLUMN, WHERE_COLUMN = 2, 4


class ItemsModel(PagedTableModel[ItemRow, ItemListQuery]):
    """The paged list, with the whole of a long cell (where it is, every identifier) as its tooltip."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid():
            row = self.row(index.row())
            if row is None:
                return None
            if index.column() == IDENTIFIERS_COLUMN:
                return "\n".join(f"{i.label}: {i.value}" for i in row.identifiers) or None
            if index.column() == WHERE_COLUMN:
                return row.holder or None
            return None
        return super().data(index, role)


def make_items_model(ctx: AppContext, parent=None) -> ItemsModel:
    """The paged model behind the list; its query is an ``ItemListQuery``."""
    return ItemsModel(
        ctx.runner,
        ITEM_COLUMNS,
        first_page=lambda q, limit: service.first_items_page(ctx.uow(), ctx.actor, _resolved(ctx, q), limit),
        page=lambda q, offset, limit, _total: service.items_page(ctx.uow(), ctx.actor, _resolved(ctx, q), offset, limit),
        query=ItemListQuery(),
        parent=parent,
    )


@dataclass(frozen=True)
class FilterChoices:
    """What the filter combos offer: categories, serialized models, locations in tree order."""

    categories: list[NamedRow]
    models: list[ModelRow]
    locations: list[LocationRow]


def load_choices(ctx: AppContext) -> FilterChoices:
    uow, actor = ctx.uow, ctx.actor
    return FilterChoices(
        catalogue.list_categories(uow(), actor),
        [m for m in catalogue.list_models(uow(), actor) if m.serialized],
        catalogue.list_locations(uow(), actor),
    )


def location_choice_text(loc: LocationRow) -> str:
    """A location as the filter lists it: its path, "(not in use)" after one that is inactive
    (still listed, so a scanned label of an old shelf shows what is left on it)."""
    return loc.path if loc.active else f"{loc.path} (not in use)"


def _small_combo(everything: str) -> QComboBox:
    combo = QComboBox()
    combo.addItem(everything, None)
    combo.setMinimumWidth(110)
    # Sized by a short minimum, not by the longest model or location path.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)
    return combo


class ItemsPanel(QWidget):
    """The list of items with its search box and filters."""

    item_activated = Signal(int)  # item id: open it
    selection_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ItemsPanel")
        self.choices: FilterChoices | None = None
        self._wanted_location: int | None = None  # asked for before the choices arrived
        self.model = make_items_model(ctx, self)

        self.search = SearchBox("Search tag, MAC, serial, IMEI or model   (Ctrl+F)")
        self.search.setObjectName("ItemSearch")
        self.search.search.connect(self._on_search)
        self.search.returnPressed.connect(self.search.flush)
        self.state_filter = _small_combo("All states")
        for state in STATES:
            self.state_filter.addItem(STATE_LABELS[state], state)
        self.category_filter = _small_combo("All categories")
        self.model_filter = _small_combo("All models")
        self.location_filter = _small_combo("All locations")
        self.location_filter.setMinimumContentsLength(16)
        self.location_filter.setToolTip("Includes everything inside the location")
        for combo in (self.state_filter, self.category_filter, self.model_filter, self.location_filter):
            combo.currentIndexChanged.connect(self._on_filter)
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.state_filter)
        bar.addWidget(self.category_filter)
        bar.addWidget(self.model_filter)
        bar.addWidget(self.location_filter)
        bar.addWidget(self.count_label)

        self.table = QTableView()
        self.table.setObjectName("ItemsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, column in enumerate(ITEM_COLUMNS):
            self.table.setColumnWidth(i, column.width)
        self.table.doubleClicked.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QShortcut(QKeySequence(key), self.table, self._open_current, context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search)

        self.empty = EmptyState("", "")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(self.stack, 1)

        header_state = QSettings().value("inventory/items-header")
        if header_state is not None:
            self.table.horizontalHeader().restoreState(header_state)
        self.model.count_changed.connect(self._on_count)
        self.model.loading_changed.connect(self._on_loading)
        self.model.load_failed.connect(self._on_failed)
        self.load_choices()

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue("inventory/items-header", self.table.horizontalHeader().saveState())

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the filter choices (new models, locations) and the rows."""
        self.load_choices()

    def load_choices(self) -> None:
        self.ctx.runner.submit(lambda: load_choices(self.ctx), self._fill_filters, self._on_failed,
                               label="Loading inventory", key=f"items-choices:{id(self)}", owner=self)

    def _fill_filters(self, choices: FilterChoices) -> None:
        self.choices = choices
        wanted_location = self._wanted_location
        self._wanted_location = None
        fills = (
            (self.category_filter, [(c.name, c.id) for c in choices.categories]),
            (self.model_filter, [(m.full_name, m.id) for m in choices.models]),
            (self.location_filter, [(location_choice_text(loc), loc.id) for loc in choices.locations]),
        )
        for combo, entries in fills:
            chosen = combo.currentData()
            if combo is self.location_filter and wanted_location is not None:
                chosen = wanted_location
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for text, value in entries:
                combo.addItem(text, value)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
            combo.blockSignals(False)
        for loc in choices.locations:
            index = self.location_filter.findData(loc.id)
            if index > 0:
                tip = f"{loc.path}  ({loc.code})" if loc.code else loc.path
                if not loc.active:
                    tip += " — no longer in use; what is still kept there is listed"
                self.location_filter.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self._on_filter()  # also the first load, and a chosen value that no longer exists

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- filters -------------------------------------------------------------------------------
    def set_location(self, location_id: int | None) -> None:
        """Show the items at the location (and inside it)."""
        index = self.location_filter.findData(location_id) if location_id is not None else 0
        if index < 0:  # not among the choices yet (a new location): reload them, then choose it
            self._wanted_location = location_id
            self.load_choices()
            return
        if index == self.location_filter.currentIndex():
            self._on_filter()
        else:
            self.location_filter.setCurrentIndex(index)

    def set_state(self, state: str | None) -> None:
        self.state_filter.setCurrentIndex(max(0, self.state_filter.findData(state)) if state else 0)

    def _on_search(self, text: str) -> None:
        if text != self.model.query.search:
            self.model.set_query(dataclasses.replace(self.model.query, search=text))

    def _on_filter(self) -> None:
        self.model.set_query(dataclasses.replace(
            self.model.query,
            search=self.search.text(),
            state=self.state_filter.currentData(),
            category_id=self.category_filter.currentData(),
            model_id=self.model_filter.currentData(),
            location_id=self.location_filter.currentData(),
        ))

    # -- showing -------------------------------------------------------------------------------
    def _on_loading(self, loading: bool) -> None:
        if loading and not self.count_label.text():
            self.count_label.setText("Loading…")

    def _on_count(self, count: int) -> None:
        q = self.model.query
        self.count_label.setText(f"{count:,} item{'s' if count != 1 else ''}")
        if count:
            self.stack.setCurrentWidget(self.table)
            return
        if q.filtered:
            what = f"“{q.search.strip()}”" if q.search.strip() else "these filters"
            self.empty.set_message("No items match", f"No item matches {what}. A MAC address or serial can be "
                                   "typed with or without separators; try part of it, or fewer filters.")
        else:
            self.empty.set_message("No items yet", "Receive… (Ctrl+R) to scan a delivery in, "
                                   "or New item… (Ctrl+N) to add one by hand.")
        self.stack.setCurrentWidget(self.empty)

    def _on_failed(self, exc: BaseException) -> None:
        if self.model.rowCount():
            self.count_label.setText(f"Some rows did not load: {exc}")
            return
        self.count_label.setText("")
        self.empty.set_message("The items could not be loaded", str(exc))
        self.stack.setCurrentWidget(self.empty)

    # -- selection and opening -----------------------------------------------------------------
    def selected_item_ids(self) -> list[int]:
        """The selected rows' items, top to bottom (rows not loaded yet are skipped)."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        found = [self.model.row(r) for r in rows]
        return [row.id for row in found if row is not None]

    def _open_current(self) -> None:
        self._open_index(self.table.currentIndex())

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row(index.row()) if index.isValid() else None
        if row is not None:
            self.item_activated.emit(row.id)
