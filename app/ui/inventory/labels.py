"""Print labels: Code 128 labels for items and locations, saved as a PDF for a label sheet or roll.

The list shows each label as it will print — the code under the bars, a title and a subtitle
above them. Items print their asset tag by default (or their MAC or serial number, when chosen);
the title is the model and the subtitle the first identifier. Locations print their code with
their path as the title. Labels can be added by scanning (a USB reader, anywhere in the dialog)
or by typing a code.

"Skip the first N labels" starts part-way down a sheet that was used before. The PDF is written
on the task runner by ``barcodes.render_labels``; after saving, Open shows it in the system's PDF
viewer to print.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import NotFound, RiserError
from app.inventory import barcodes, catalogue, service
from app.inventory import identifiers as ids
from app.inventory.barcodes import LABEL_STOCKS, Label, LabelStock
from app.inventory.catalogue import LocationRow
from app.inventory.service import CodeMatch, ItemRow
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError
from app.ui.widgets.scan import ScanListener

log = logging.getLogger(__name__)

DEFAULT_NAME = "inventory-labels.pdf"
PRINT_TAG = "tag"
PRINT_CHOICES = ((PRINT_TAG, "Asset tag"), (ids.MAC, "MAC address"), (ids.SERIAL, "Serial number"))


@dataclass(frozen=True)
class LabelSource:
    """What a label is for: an item or a location."""

    item: ItemRow | None = None
    location: LocationRow | None = None

    @property
    def key(self) -> tuple[str, int]:
        return ("item", self.item.id) if self.item is not None else ("location", self.location.id)


def label_for(source: LabelSource, printing: str = PRINT_TAG) -> Label:
    """The label for an item or a location. ``printing`` says what an item's barcode carries:
    its asset tag, or its MAC or serial number (the tag when it has none)."""
    if source.location is not None:
        return Label(source.location.code, source.location.path, "")
    item = source.item
    code = (item.identifier(printing) if printing != PRINT_TAG else "") or item.tag
    others = [f"{i.label} {i.value}" for i in item.identifiers if i.value != code]
    if code != item.tag:
        others.insert(0, item.tag)
    return Label(code, item.model, others[0] if others else "")


class LabelsDialog(QDialog):
    """Labels for ``item_ids`` and ``location_ids``; more can be scanned or typed in.

    Signals: ``loaded`` once the given ids are shown, ``code_added(code, added)`` after a
    scanned or typed code was looked up, ``saved(path, pages)`` after a PDF is written."""

    loaded = Signal()
    code_added = Signal(str, bool)
    saved = Signal(str, int)

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, item_ids: Sequence[int] = (),
        location_ids: Sequence[int] = (), *, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("LabelsDialog")
        self.setWindowTitle("Print labels")
        self.resize(860, 560)
        self.sources: list[LabelSource] = []
        self.saved_path: str | None = None
        self._saving = False

        # -- adding labels
        self.code = QLineEdit()
        self.code.setObjectName("LabelCode")
        self.code.setPlaceholderText("Scan or type an item's or a location's code and press Enter")
        self.code.setClearButtonEnabled(True)
        self.code.returnPressed.connect(self._typed)
        self.add_button = QPushButton("Add")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._typed)
        add_row = QHBoxLayout()
        add_row.addWidget(self.code, 1)
        add_row.addWidget(self.add_button)

        # -- the labels
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("LabelList")
        self.table.setHorizontalHeaderLabels(["Code", "Title", "Subtitle"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 170)
        self.table.setColumnWidth(2, 250)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table, self.remove_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAutoDefault(False)
        self.remove_button.setToolTip("Leave the selected labels out (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.count = QLabel("")
        self.count.setObjectName("CountLabel")
        count_row = QHBoxLayout()
        count_row.addWidget(self.count, 1)
        count_row.addWidget(self.remove_button)

        # -- how to print
        self.printing = QComboBox()
        self.printing.setObjectName("LabelPrinting")
        for key, text in PRINT_CHOICES:
            self.printing.addItem(text, key)
        self.printing.currentIndexChanged.connect(lambda _i: self._fill_table())
        self.stock = QComboBox()
        self.stock.setObjectName("LabelStock")
        for stock in LABEL_STOCKS.values():
            self.stock.addItem(stock.name, stock.key)
        self.stock.currentIndexChanged.connect(lambda _i: self._stock_changed())
        self.skip = QSpinBox()
        self.skip.setObjectName("LabelSkip")
        self.skip.setSuffix(" labels")
        self.skip.setToolTip("Start further down a sheet that was partly used before")
        self.skip.valueChanged.connect(lambda _v: self._refresh())
        skip_row = QHBoxLayout()
        skip_row.addWidget(self.skip)
        skip_hint = QLabel("on the first sheet (one already partly used)")
        skip_hint.setObjectName("CountLabel")
        skip_row.addWidget(skip_hint, 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Print on item labels", self.printing)
        form.addRow("Label stock", self.stock)
        form.addRow("Skip the first", skip_row)

        # -- the buttons
        self.error = FieldError()
        self.done_label = QLabel("")
        self.done_label.setObjectName("CountLabel")
        self.done_label.setWordWrap(True)
        self.save_button = QPushButton("Save PDF…")
        self.save_button.setObjectName("SaveLabels")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.choose_file)
        self.open_button = QPushButton("Open")
        self.open_button.setAutoDefault(False)
        self.open_button.setToolTip("Open the PDF to print it")
        self.open_button.clicked.connect(self.open_saved)
        self.open_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.done_label, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(add_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(count_row)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.listener = ScanListener(self, clock=clock)
        self.listener.scanned.connect(self.add_code)
        self._stock_changed()
        self._load(tuple(item_ids), tuple(location_ids))

    # -- loading -------------------------------------------------------------------------------
    def _load(self, item_ids: tuple[int, ...], location_ids: tuple[int, ...]) -> None:
        if not item_ids and not location_ids:
            self._fill_table()
            self.code.setFocus()
            QTimer.singleShot(0, self.loaded.emit)  # after the caller has connected to it
            return
        ctx = self.ctx

        def op() -> tuple[list[LabelSource], int]:
            found, gone = [], 0
            for item_id in item_ids:
                try:
                    found.append(LabelSource(item=service.get_item(ctx.uow(), ctx.actor, item_id)))
                except NotFound:
                    gone += 1
            if location_ids:
                rows = {row.id: row for row in catalogue.list_locations(ctx.uow(), ctx.actor)}
                for location_id in location_ids:
                    if location_id in rows:
                        found.append(LabelSource(location=rows[location_id]))
                    else:
                        gone += 1
            return found, gone

        self.count.setText("Loading…")
        ctx.runner.submit(op, self._on_loaded, self._on_load_failed, label="Loading labels", owner=self)

    def _on_loaded(self, loaded: tuple[list[LabelSource], int]) -> None:
        found, gone = loaded
        self._add_sources(found)
        if gone:
            self.error.show_message(f"{gone} of them no longer exist{'s' if gone == 1 else ''} and {'is' if gone == 1 else 'are'} left out.")
        self.loaded.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._show_error(exc)
        self._fill_table()
        self.loaded.emit()

    # -- adding and removing -------------------------------------------------------------------
    def _typed(self) -> None:
        code = self.code.text().strip()
        if code:
            self.code.clear()
            self.add_code(code)

    def add_code(self, code: str) -> None:
        """Look a scanned or typed code up and add the items or the location it names."""
        code = code.strip()
        if not code:
            return
        ctx = self.ctx
        self.error.clear_message()
        ctx.runner.submit(lambda: service.find_code(ctx.uow(), ctx.actor, code),
                          lambda match: self._on_found(code, match), lambda exc: self._on_find_failed(code, exc),
                          label="Looking up a code", owner=self)

    def _on_found(self, code: str, match: CodeMatch) -> None:
        sources = [LabelSource(item=item) for item in match.items]
        if match.location is not None:
            sources.append(LabelSource(location=match.location))
        if not sources:
            self.error.show_message(f"No item or location has the code {code}.")
            self.code_added.emit(code, False)
            return
        added = self._add_sources(sources)
        if not added:
            self.error.show_message(f"The label for {code} is in the list already.")
        self.code_added.emit(code, bool(added))

    def _on_find_failed(self, code: str, exc: BaseException) -> None:
        self._show_error(exc)
        self.code_added.emit(code, False)

    def _add_sources(self, sources: list[LabelSource]) -> int:
        have = {s.key for s in self.sources}
        new = [s for s in sources if s.key not in have and not have.add(s.key)]
        self.sources.extend(new)
        self._fill_table()
        if new:
            self.table.selectRow(len(self.sources) - 1)
        return len(new)

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()}, reverse=True)
        for row in rows:
            del self.sources[row]
        self._fill_table()

    # -- the list --------------------------------------------------------------------------------
    def labels(self) -> list[Label]:
        """The labels as they will print, in order."""
        printing = self.printing.currentData() or PRINT_TAG
        return [label_for(source, printing) for source in self.sources]

    def _fill_table(self) -> None:
        labels = self.labels()
        self.table.setRowCount(len(labels))
        for row, label in enumerate(labels):
            for column, text in enumerate((label.code, label.title, label.subtitle)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(row, column, cell)
        kinds = {i.kind for s in self.sources if s.item is not None for i in s.item.identifiers}
        for index, (key, _text) in enumerate(PRINT_CHOICES):
            # Only the choices some item has (the tag always).
            self.printing.view().setRowHidden(index, key != PRINT_TAG and key not in kinds)
        self.printing.setEnabled(any(s.item is not None for s in self.sources))
        self._refresh()

    def current_stock(self) -> LabelStock:
        return LABEL_STOCKS[self.stock.currentData()]

    def _stock_changed(self) -> None:
        stock = self.current_stock()
        self.skip.setMaximum(stock.per_page - 1)
        self.skip.setEnabled(stock.per_page > 1)
        self._refresh()

    def _refresh(self) -> None:
        n = len(self.sources)
        stock = self.current_stock()
        pages = -(-(self.skip.value() + n) // stock.per_page) if n else 0
        self.count.setText(f"{n} label{'s' if n != 1 else ''} · {pages} page{'s' if pages != 1 else ''}")
        self.save_button.setEnabled(bool(n) and not self._saving)
        self.remove_button.setEnabled(bool(n))

    # -- saving ------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _ = QFileDialog.getSaveFileName(self, "Save labels as", str(Path(folder) / DEFAULT_NAME), "PDF (*.pdf)")
        if path:
            if not path.lower().endswith(".pdf"):
                path += ".pdf"
            self.save_pdf(path)

    def save_pdf(self, path: str | Path) -> None:
        """Write the labels to ``path`` as a PDF on the task runner."""
        labels, stock, skip, path = self.labels(), self.current_stock(), self.skip.value(), str(path)
        self.error.clear_message()
        self.done_label.setText("Saving…")
        self.open_button.hide()
        self._saving = True
        self._refresh()
        self.ctx.runner.submit(lambda: barcodes.render_labels(labels, stock, path, skip=skip),
                               lambda pages: self._on_saved(path, pages), self._on_save_failed,
                               label="Saving labels", owner=self)

    def _on_saved(self, path: str, pages: int) -> None:
        self._saving = False
        self.saved_path = path
        self.done_label.setText(f"Saved {len(self.sources)} label{'s' if len(self.sources) != 1 else ''} "
                                f"({pages} page{'s' if pages != 1 else ''}) to {path}")
        self.open_button.show()
        self._refresh()
        self.saved.emit(path, pages)

    def _on_save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.done_label.setText("")
        if isinstance(exc, OSError):
            self.error.show_message(f"Cannot save {Path(getattr(exc, 'filename', '') or 'the file').name}: "
                                    f"{exc.strerror or exc}")
        else:
            self._show_error(exc)
        self._refresh()

    def open_saved(self) -> None:
        if self.saved_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.saved_path))

    def done(self, result: int) -> None:
        self.listener.stop()
        super().done(result)

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, RiserError):
            self.error.show_message(str(exc))
        else:
            log.error("labels failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
            self.error.show_message(f"Unexpected error: {exc}")
