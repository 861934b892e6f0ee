"""Import serviceable addresses from a spreadsheet: choose the file, check which column is which,
see what the first rows would do, then import with a progress bar and a Cancel button.

All reading, checking and writing runs on the task runner (``app.addresses.importing`` does the
work); this dialog only shows what comes back. Nothing is written until Import is pressed, and a
cancelled or failed import writes nothing at all.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QComboBox, QDialog, QFileDialog, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
    QProgressBar, QPushButton, QRadioButton, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.addresses import importing
from app.addresses.importing import FIELD_LABELS, FIELDS, REQUIRED_FIELDS, Analysis, ImportPolicy, ImportResult, Sheet
from app.core.errors import RiserError
from app.ui.context import AppContext
from app.ui.tasks import Task, TaskContext
from app.ui.widgets.common import FieldError

log = logging.getLogger(__name__)

FILE_FILTER = "Spreadsheets (*.csv *.tsv *.txt *.xlsx *.xlsm);;All files (*)"
NOT_IN_FILE = "— not in the file —"
NEW, KNOWN, BAD = QColor("#2e7d32"), QColor("#5b6673"), QColor("#c62828")


class ImportDialog(QDialog):
    """``path``: open this file at once (tests, drag and drop); otherwise "Choose file…" asks.

    Signals: ``analysed`` after each check of the file is shown, ``import_finished(result)``
    when an import ends (``None`` when it was cancelled), ``imported(result)`` after rows were
    written (views reload then)."""

    analysed = Signal()
    import_finished = Signal(object)
    imported = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, path: str | Path | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ImportDialog")
        self.setWindowTitle("Import addresses")
        self.resize(1240, 680)
        self.sheet: Sheet | None = None
        self.analysis: Analysis | None = None
        self.result: ImportResult | None = None
        self._task: Task | None = None
        self._importing = False
        self._import_mapping: dict[str, int | None] = {}

        # -- the file
        self.file_label = QLabel("No file chosen")
        self.file_label.setObjectName("FormHeader")
        self.file_info = QLabel("A CSV or Excel (.xlsx) file whose first row names the columns: "
                                "Street, Unit, City, Postal code …")
        self.file_info.setObjectName("CountLabel")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_text = QVBoxLayout()
        file_text.setSpacing(0)
        file_text.addWidget(self.file_label)
        file_text.addWidget(self.file_info)
        file_row.addLayout(file_text, 1)
        file_row.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignTop)
        self.error = FieldError()

        # -- which column is which
        self.combos: dict[str, QComboBox] = {}
        grid = QGridLayout()  # three label-and-choice pairs a line
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        for i, name in enumerate(FIELDS):
            line, pair = divmod(i, 3)
            label = QLabel(FIELD_LABELS[name] + (" *" if name in REQUIRED_FIELDS else ""))
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            combo = QComboBox()
            combo.setObjectName(f"map_{name}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
            combo.setToolTip(f"The file's column that holds the {FIELD_LABELS[name].lower()}")
            combo.currentIndexChanged.connect(self._mapping_changed)
            label.setBuddy(combo)
            grid.addWidget(label, line, 2 * pair)
            grid.addWidget(combo, line, 2 * pair + 1)
            grid.setColumnStretch(2 * pair + 1, 1)
            self.combos[name] = combo
        self.columns_title = QLabel("Which column holds what  (* needed)")
        self.columns_title.setObjectName("CountLabel")

        # -- the first rows
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("ImportPreview")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setHighlightSections(False)
        self.summary = QLabel("")
        self.summary.setObjectName("ImportSummary")
        self.summary.setWordWrap(True)

        self.valid_rows = QRadioButton("Import the valid rows")
        self.all_or_nothing = QRadioButton("Import nothing if any row is bad")
        self.valid_rows.setChecked(True)
        self.policy_group = QButtonGroup(self)
        self.policy_group.addButton(self.valid_rows)
        self.policy_group.addButton(self.all_or_nothing)
        self.valid_rows.toggled.connect(lambda _on: self._show_summary())
        policy_row = QHBoxLayout()
        policy_row.addWidget(self.valid_rows)
        policy_row.addSpacing(16)
        policy_row.addWidget(self.all_or_nothing)
        policy_row.addStretch(1)

        setup = QWidget()
        setup_layout = QVBoxLayout(setup)
        setup_layout.setContentsMargins(0, 0, 0, 0)
        setup_layout.addSpacing(4)
        setup_layout.addWidget(self.columns_title)
        setup_layout.addLayout(grid)
        setup_layout.addSpacing(6)
        setup_layout.addWidget(self.table, 1)
        setup_layout.addWidget(self.summary)
        setup_layout.addLayout(policy_row)

        # -- what happened
        self.result_title = QLabel("")
        self.result_title.setObjectName("FormHeader")
        self.result_text = QLabel("")
        self.result_text.setWordWrap(True)
        self.rejected_table = QTableWidget(0, 3)
        self.rejected_table.setObjectName("RejectedRows")
        self.rejected_table.setHorizontalHeaderLabels(["Row", "As written", "Problem"])
        self.rejected_table.verticalHeader().setDefaultSectionSize(24)
        self.rejected_table.setColumnWidth(1, 420)
        self.rejected_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rejected_table.setAlternatingRowColors(True)
        self.rejected_table.verticalHeader().hide()
        self.rejected_table.horizontalHeader().setStretchLastSection(True)
        self.rejected_table.setColumnWidth(0, 70)
        self.save_rejected_button = QPushButton("Save rejected rows…")
        self.save_rejected_button.setAutoDefault(False)
        self.save_rejected_button.clicked.connect(self.choose_rejected_file)
        done = QWidget()
        done_layout = QVBoxLayout(done)
        done_layout.setContentsMargins(0, 0, 0, 0)
        done_layout.addWidget(self.result_title)
        done_layout.addWidget(self.result_text)
        done_layout.addWidget(self.rejected_table, 1)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_rejected_button)
        save_row.addStretch(1)
        done_layout.addLayout(save_row)

        self.pages = QStackedWidget()
        self.pages.addWidget(setup)
        self.pages.addWidget(done)

        # -- the buttons
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.close_button = QPushButton("Cancel")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.error)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)

        self._set_mapping_enabled(False)
        ctx.runner.task_progress.connect(self._on_progress)
        if path is not None:
            self.open_file(path)

    # -- the file ----------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import addresses from", "", FILE_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> None:
        """Read the file on the runner; then guess the mapping and check every row."""
        path = Path(path)
        self.error.clear_message()
        self.sheet = self.analysis = None
        self.file_label.setText(path.name)
        self.file_info.setText("Reading…")
        self.import_button.setEnabled(False)
        self.table.setRowCount(0)
        self.summary.setText("")
        self.pages.setCurrentIndex(0)
        self.ctx.runner.submit(lambda: importing.read_sheet(path), self._on_read, self._on_read_failed,
                               label="Reading spreadsheet", key=f"import-read-{id(self)}", owner=self)

    def _on_read(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.file_info.setText(sheet.describe())
        guess = importing.guess_mapping(sheet.headers)
        for name, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_IN_FILE, None)
            for i, header in enumerate(sheet.headers):
                combo.addItem(header or f"Column {i + 1}", i)
            combo.setCurrentIndex(0 if guess[name] is None else guess[name] + 1)
            combo.blockSignals(False)
        self._set_mapping_enabled(True)
        self._analyse()

    def _on_read_failed(self, exc: BaseException) -> None:
        self.file_info.setText("")
        self._show_error(exc)

    # -- mapping and preview -----------------------------------------------------------------
    def mapping(self) -> dict[str, int | None]:
        return {name: combo.currentData() for name, combo in self.combos.items()}

    def set_column(self, name: str, header: str | None) -> None:
        """Point a field at the column with this header (None: not in the file)."""
        combo = self.combos[name]
        combo.setCurrentIndex(0 if header is None else combo.findText(header))

    def policy(self) -> ImportPolicy:
        return ImportPolicy.ALL_OR_NOTHING if self.all_or_nothing.isChecked() else ImportPolicy.VALID_ROWS

    def _mapping_changed(self) -> None:
        if self.sheet is not None and not self._importing:
            self._analyse()

    def _analyse(self) -> None:
        sheet, mapping, ctx = self.sheet, self.mapping(), self.ctx
        if sheet is None:
            return
        self.error.clear_message()
        self.analysis = None
        self.import_button.setEnabled(False)
        try:
            importing.check_mapping(sheet, mapping)
        except RiserError as exc:  # show the rows as they are, so the right column can be found
            self._show_error(exc)
            self._fill_preview([importing.RowStatus(n, importing.row_values(cells, mapping), "", True)
                                for n, cells in sheet.rows[:importing.PREVIEW_ROWS]], mapping)
            self.summary.setText("")
            self.analysed.emit()
            return
        self.summary.setText(f"Checking {len(sheet.rows):,} rows…")
        ctx.runner.submit(lambda: importing.analyse(ctx.uow(), ctx.actor, sheet, mapping),
                          lambda analysis: self._on_analysed(analysis, mapping), self._on_analyse_failed,
                          label="Checking spreadsheet", key=f"import-analyse-{id(self)}", owner=self)

    def _on_analysed(self, analysis: Analysis, mapping: dict[str, int | None]) -> None:
        if mapping != self.mapping():
            return  # the mapping changed again; a newer check is on its way
        self.analysis = analysis
        self._fill_preview(analysis.preview, mapping)
        self._show_summary()
        self.import_button.setEnabled(analysis.result.new > 0 and not self.ctx.read_only)  # else nothing to add
        self.analysed.emit()

    def _on_analyse_failed(self, exc: BaseException) -> None:
        self.summary.setText("")
        self._show_error(exc)
        self.analysed.emit()

    def _fill_preview(self, rows: list[importing.RowStatus], mapping: dict[str, int | None]) -> None:
        shown = [name for name in FIELDS if mapping.get(name) is not None]
        headers = ["Row", *[FIELD_LABELS[n] for n in shown], "Status"]
        table = self.table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            number = QTableWidgetItem(str(row.row))
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, 0, number)
            for c, name in enumerate(shown, 1):
                value = QTableWidgetItem(row.values.get(name, ""))
                value.setToolTip(value.text())
                table.setItem(r, c, value)
            status = QTableWidgetItem(row.status)
            status.setToolTip(row.status)
            if row.status:
                status.setForeground(BAD if not row.ok else KNOWN if row.known else NEW)
            table.setItem(r, len(headers) - 1, status)
        header = table.horizontalHeader()
        table.resizeColumnsToContents()
        for c in range(len(headers) - 1):  # long values are cut (a tooltip has them), not the status
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            table.setColumnWidth(c, min(max(table.columnWidth(c), 48), 170))
        header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)

    def _show_summary(self) -> None:
        if self.analysis is None:
            return
        r = self.analysis.result
        text = (f"{r.rows:,} row{'s' if r.rows != 1 else ''}: {r.new:,} new, {r.unchanged:,} already known, "
                f"{len(r.rejected):,} with error{'s' if len(r.rejected) != 1 else ''}")
        if r.buildings:
            text += f"  ·  {r.buildings:,} new building{'s' if r.buildings != 1 else ''} for their units"
        if r.rejected and self.policy() is ImportPolicy.ALL_OR_NOTHING:
            text += "  —  as it is, nothing would be imported"
        elif r.rows > importing.PREVIEW_ROWS:
            text += f"  ·  the first {importing.PREVIEW_ROWS} rows are shown"
        self.summary.setText(text)

    # -- importing ---------------------------------------------------------------------------
    def start_import(self) -> None:
        if self.sheet is None or self.analysis is None or self._importing:
            return
        ctx, sheet, mapping, policy = self.ctx, self.sheet, self.mapping(), self.policy()

        def op(task: TaskContext) -> ImportResult | None:
            def check() -> None:
                if task.cancelled:
                    raise importing.ImportCancelled()

            try:
                return importing.import_addresses(ctx.uow(), ctx.actor, sheet, mapping, policy=policy,
                                                  progress=task.progress, check=check)
            except importing.ImportCancelled:
                return None  # rolled back: nothing was written

        self._import_mapping = mapping
        self._set_importing(True)
        self._task = ctx.runner.submit(op, self._on_imported, self._on_import_failed, label="Importing addresses",
                                       owner=self, writes=True, with_context=True)

    def cancel_import(self) -> None:
        if self._task is not None and self._importing:
            self._task.cancel()
            self.close_button.setEnabled(False)
            self.progress.setFormat("Cancelling…")

    def _on_progress(self, task: Task) -> None:
        if self._task is not None and task.id == self._task.id and task.total:
            self.progress.setMaximum(task.total)
            self.progress.setValue(task.done)

    def _on_imported(self, result: ImportResult | None) -> None:
        self._set_importing(False)
        self._task = None
        if result is None:
            self.error.show_message("Import cancelled: nothing was written.")
            self.import_finished.emit(None)
            return
        self.result = result
        self._show_result(result, self._import_mapping)
        self.import_finished.emit(result)
        if result.written and result.imported:
            self.imported.emit(result)

    def _on_import_failed(self, exc: BaseException) -> None:
        self._set_importing(False)
        self._task = None
        self._show_error(exc, "Nothing was imported: ")
        self.import_finished.emit(None)

    def _show_result(self, result: ImportResult, mapping: dict[str, int | None]) -> None:
        self.result_title.setText(f"Imported {result.imported:,}, unchanged {result.unchanged:,}, "
                                  f"rejected {len(result.rejected):,}")
        if not result.written:
            bad = len(result.rejected)
            text = (f"Nothing was imported: {bad:,} row{'s have' if bad != 1 else ' has'} errors and "
                    "“Import nothing if any row is bad” was chosen. Fix the rows below and import the file again.")
        else:
            parts = []
            if result.buildings:
                parts.append(f"{result.buildings:,} building{'s were' if result.buildings != 1 else ' was'} "
                             "added for units whose building was new.")
            if result.unchanged:
                parts.append(f"{result.unchanged:,} row{'s were' if result.unchanged != 1 else ' was'} already known "
                             "and left as {}.".format("they were" if result.unchanged != 1 else "it was"))
            if result.rejected:
                parts.append("The rows below were not imported; save them to fix and import again.")
            text = " ".join(parts) or "Every row was imported."
        self.result_text.setText(text)
        self.rejected_table.setRowCount(len(result.rejected))
        cells = dict(self.sheet.rows) if self.sheet is not None else {}
        for r, (number, reason) in enumerate(result.rejected):
            item = QTableWidgetItem(str(number))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.rejected_table.setItem(r, 0, item)
            self.rejected_table.setItem(r, 1, QTableWidgetItem(_as_written(cells.get(number, ()), mapping)))
            self.rejected_table.setItem(r, 2, QTableWidgetItem(reason))
        has_rejected = bool(result.rejected)
        self.rejected_table.setVisible(has_rejected)
        self.save_rejected_button.setVisible(has_rejected)
        self.pages.setCurrentIndex(1)
        self.import_button.hide()
        self.choose_button.hide()
        self.close_button.setText("Close")
        self.close_button.setDefault(True)
        self.close_button.setFocus()

    def choose_rejected_file(self) -> None:
        if self.sheet is None:
            return
        suggested = str(Path.home() / f"{Path(self.sheet.name).stem}-rejected.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Save rejected rows", suggested, "CSV (*.csv)")
        if path:
            self.save_rejected(path)

    def save_rejected(self, path: str | Path) -> bool:
        """Write the rejected rows (the file's columns plus row number and problem) as CSV."""
        if self.sheet is None or self.result is None:
            return False
        try:
            count = importing.write_rejected(self.sheet, self.result.rejected, path)
        except OSError as exc:
            self.error.show_message(f"Cannot save {Path(path).name}: {exc.strerror or exc}")
            return False
        self.error.clear_message()
        self.result_text.setText(f"{count:,} rejected row{'s' if count != 1 else ''} saved to {path}.")
        return True

    # -- state -------------------------------------------------------------------------------
    def _set_mapping_enabled(self, enabled: bool) -> None:
        for combo in self.combos.values():
            combo.setEnabled(enabled)

    def _set_importing(self, importing_now: bool) -> None:
        self._importing = importing_now
        self._set_mapping_enabled(not importing_now)
        for widget in (self.valid_rows, self.all_or_nothing, self.choose_button, self.import_button):
            widget.setEnabled(not importing_now)
        self.progress.setVisible(importing_now)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setFormat("%p%")
        self.close_button.setEnabled(True)
        self.close_button.setText("Cancel import" if importing_now else "Cancel")

    def _show_error(self, exc: BaseException, prefix: str = "") -> None:
        if isinstance(exc, RiserError):
            self.error.show_message(prefix + str(exc))
        else:  # a bug: a plain sentence here, the traceback in the log
            log.error("import failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
            self.error.show_message(f"{prefix}unexpected error: {exc}")

    def reject(self) -> None:
        """Escape or Cancel: stop a running import (nothing is written) or close."""
        if self._importing:
            self.cancel_import()
            return
        super().reject()


def _as_written(cells: tuple, mapping: dict[str, int | None]) -> str:
    """A rejected row as the file has it: '12 Harbour Rd. · #4b · ottawa'."""
    values = importing.row_values(cells, mapping)
    return " · ".join(values[name] for name in ("building", "street", "unit", "city", "postal_code")
                      if values.get(name))
