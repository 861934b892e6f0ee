"""A table model for lists of any size: rows come from the database a page at a time.

The model knows the total count (so the scroll bar is honest) and keeps at most ``max_pages``
pages of rows in memory, least recently used first out. A row that is not loaded yet shows as
"…" and its page is fetched on the task runner; when it lands, only those rows repaint.
Page requests wait until scrolling pauses (``FETCH_DELAY_MS``) and only the pages the view asked
for last are fetched, so dragging the scroll bar across 100,000 rows runs a handful of queries,
not a thousand. Sorting and filtering are the query's business: ``sort()`` makes a new query and
the database answers it. Results of an older query are dropped; a search superseded before it
started is never run.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from app.ui.tasks import TaskContext, TaskRunner

Row = TypeVar("Row")
Query = TypeVar("Query")

LOADING = "…"
FETCH_DELAY_MS = 40
FETCH_MAX_WAIT_MS = 150
PAGES_PER_FETCH = 3  # more than a screenful, however tall the window


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    value: Callable[[Row], Any]
    sort_key: Any = None  # the query's sort value for this column; None: not sortable
    width: int = 120
    colour: Callable[[Row], str | None] | None = None  # a colour swatch before the text
    align_right: bool = False


class PagedTableModel(QAbstractTableModel, Generic[Row, Query]):
    loading_changed = Signal(bool)
    count_changed = Signal(int)
    load_failed = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        columns: Sequence[Column[Row]],
        first_page: Callable[[Query, int], tuple[int, list[Row]]],
        page: Callable[[Query, int, int, int], list[Row]],  # query, offset, limit, total
        query: Query,
        page_size: int = 100,
        max_pages: int = 20,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner, self.columns = runner, list(columns)
        self._first_page, self._page = first_page, page
        self.query = query
        self.page_size, self.max_pages = page_size, max_pages
        self._count = 0
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._pending: set[int] = set()  # being fetched
        self._wanted: OrderedDict[int, None] = OrderedDict()  # asked for, fetch when scrolling pauses
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(FETCH_DELAY_MS)
        self._fetch_timer.timeout.connect(self._fetch_wanted)
        self._burst_started = 0.0
        self._generation = 0
        self._loading = False
        self._key = f"paged-model-{id(self)}"

    # -- the query -----------------------------------------------------------------------------
    def set_query(self, query: Query) -> None:
        self.query = query
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        generation, query = self._generation, self.query
        self._set_loading(True)
        size = self.page_size

        def op(ctx: TaskContext) -> tuple[int, list[Row]]:
            ctx.check()  # a newer query came before this one started: skip it
            return self._first_page(query, size)

        self.runner.submit(
            op,
            lambda result: self._on_first_page(generation, result),
            lambda exc: self._on_error(generation, exc),
            key=f"{self._key}:first", owner=self, with_context=True,
        )

    def _on_first_page(self, generation: int, result: tuple[int, list[Row]]) -> None:
        if generation != self._generation:
            return
        count, rows = result
        self.beginResetModel()
        self._count = count
        self._pages.clear()
        self._pending.clear()
        self._wanted.clear()
        if rows:
            self._pages[0] = rows
        self.endResetModel()
        self._set_loading(False)
        self.count_changed.emit(count)

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._set_loading(False)
            self.load_failed.emit(exc)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    @property
    def loading(self) -> bool:
        return self._loading

    # -- rows ----------------------------------------------------------------------------------
    def row(self, row: int) -> Row | None:
        """The row's data if loaded; else None, and its page is requested."""
        if row < 0 or row >= self._count:
            return None
        number, offset = divmod(row, self.page_size)
        page = self._pages.get(number)
        if page is None:
            self._request(number)
            return None
        self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def loaded_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def _request(self, number: int) -> None:
        if number in self._pending:
            return
        new = number not in self._wanted
        self._wanted[number] = None
        self._wanted.move_to_end(number)
        # Wait until the view stops asking for new pages (fast scrolling), but never longer
        # than FETCH_MAX_WAIT_MS; repaints of the same screen do not postpone the fetch.
        now = time.monotonic()
        if not self._fetch_timer.isActive():
            self._burst_started = now
            self._fetch_timer.start()
        elif new and (now - self._burst_started) * 1000 < FETCH_MAX_WAIT_MS:
            self._fetch_timer.start()

    def _fetch_wanted(self) -> None:
        # The view asks for the rows it paints, top to bottom: the pages asked for last are the
        # ones on screen now. Pages passed on the way are forgotten; if they are still visible
        # the next paint asks again.
        latest = list(self._wanted)[-PAGES_PER_FETCH:]
        self._wanted.clear()
        generation, query, size, total = self._generation, self.query, self.page_size, self._count
        for number in latest:
            self._pending.add(number)
            self.runner.submit(
                lambda number=number: self._page(query, number * size, size, total),
                lambda rows, number=number: self._on_page(generation, number, rows),
                lambda exc, number=number: self._on_page_error(generation, number, exc),
                owner=self,
            )

    def _on_page_error(self, generation: int, number: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._pending.discard(number)  # asked for again at the next paint
            self.load_failed.emit(exc)

    def _on_page(self, generation: int, number: int, rows: list[Row]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(number)
        self._pages[number] = rows
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        first = number * self.page_size
        last = min(first + self.page_size, self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    # -- Qt model interface --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.column() < len(self.columns)):
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            row = self.row(index.row())
            if row is None:
                return LOADING if index.column() == 0 else ""
            return str(column.value(row))
        if role == Qt.ItemDataRole.DecorationRole and column.colour is not None:
            row = self.row(index.row())
            colour = column.colour(row) if row is not None else None
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.columns):
                return self.columns[section].title
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not (0 <= column < len(self.columns)) or self.columns[column].sort_key is None:
            return
        self.set_query(
            dataclasses.replace(
                self.query,  # type: ignore[type-var]
                sort=self.columns[column].sort_key,
                descending=order == Qt.SortOrder.DescendingOrder,
            )
        )
