"""Billing → Bill runs: the history of runs, and the dialog that previews and runs a new one.

**The panel** lists every run, the latest first (date, state, invoices, total, skipped,
failures, who ran it on which computer, started and finished). A double click opens the run's
summary: why accounts were skipped (counted by reason, then listed), which accounts could not be
invoiced and the error for each. "New bill run…" (users with BILLING_RUN; disabled on a
read-only database) opens the dialog.

**The dialog** proposes a bill date (today on the 1st, else the next 1st), and runs nothing
until the operator has looked: "Preview" computes, on the task runner, who will be invoiced and
for how much and who is skipped and why (``bill_run.preview``, which changes nothing). "Run…"
asks inline "Invoice N accounts for T?"; confirmed, the run goes on the task runner with a
progress bar and a Cancel button (the run stops between two chunks; what was invoiced stays,
and running the same date again finishes the rest), and ends with its summary. A run refused
because another desktop is running one says so inline, with who and since when. Changing the
date throws the preview away: the run is only offered for the date that was previewed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.billing import bill_run
from app.billing.bill_run import BillRunInProgress, RunPreview, RunResult
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.tasks import Task, TaskContext
from app.ui.widgets.common import EmptyState, FieldError
from app.ui.widgets.rows_model import RowsTableModel

EMPTY_TITLE = "No bill runs yet"
EMPTY_TEXT = ("A bill run invoices every account that is due on a date, billing the coming period. "
              "Start one with “New bill run…”: you see who will be invoiced, for how much, and who is "
              "skipped and why, before anything is posted.")
STATE_COLOURS = {"done": QColor("#2e7d32"), "failed": QColor("#c62828"), "cancelled": QColor("#8a939e"),
                 "running": QColor("#1565c0")}
MUTED = QColor("#8a939e")
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _table(view: QTableView) -> None:
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


# -- the history ---------------------------------------------------------------------------------

class RunsModel(RowsTableModel):
    COLUMNS = ("Bill date", "State", "Invoices", "Total", "Skipped", "Failures", "Who / where", "Started",
               "Finished")
    NUMERIC = (2, 3, 4, 5)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.row_at(index.row())
        if r is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            who = f"{r.started_by} · {r.worker}" if r.started_by and r.started_by not in r.worker else r.worker
            values = (r.run_date.isoformat(), r.state_label, f"{r.invoices:,}", r.total_text, f"{r.skipped:,}",
                      f"{len(r.failures):,}" if r.failures else "", who, _when(r.started_at), _when(r.finished_at))
            return values[col] if 0 <= col < len(values) else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 1:
                return QBrush(STATE_COLOURS.get(r.state, MUTED))
            if col == 5 and r.failures:
                return QBrush(STATE_COLOURS["failed"])
        if role == Qt.ItemDataRole.FontRole and col == 1:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or r.summary_line
        return None


class BillRunsPanel(QWidget):
    """Billing → Bill runs. ``today`` gives the date the new-run dialog starts from (tests fix it)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today
        self.setObjectName("BillRunsPanel")
        self.dialog: NewBillRunDialog | None = None

        self.model = RunsModel(self)
        self.table = QTableView()
        self.table.setObjectName("BillRunsTable")
        self.table.setModel(self.model)
        _table(self.table)
        header = self.table.horizontalHeader()
        for col in range(len(RunsModel.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda index: self.open_run(index.row()))

        self.empty = EmptyState(EMPTY_TITLE, EMPTY_TEXT)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.count = QLabel()
        self.count.setObjectName("CountLabel")
        self.new_button = QPushButton("New bill run…")
        self.new_button.setObjectName("NewBillRun")
        self.new_button.clicked.connect(self.new_run)
        if not ctx.actor.can(Permission.BILLING_RUN):
            self.new_button.hide()
        elif ctx.read_only:
            self.new_button.setEnabled(False)
            self.new_button.setToolTip(f"Read-only: {ctx.db.read_only_reason}")
        self.error = FieldError()

        bar = QHBoxLayout()
        bar.addWidget(self.count, 1)
        bar.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        self.refresh()

    def refresh(self) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: bill_run.list_runs(ctx.uow(), ctx.actor), self._fill, self._failed,
                          key=f"bill-runs:{id(self)}", owner=self)

    def _fill(self, rows: list[RunResult]) -> None:
        self.error.clear_message()
        self.model.set_rows(rows)
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        if rows:
            last = rows[0]
            self.count.setText(f"{len(rows):,} bill run{'s' if len(rows) != 1 else ''} · the latest: "
                               f"{last.run_date.isoformat()}, {last.state_label.lower()} — {last.summary_line}")
        else:
            self.count.setText("")

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    def new_run(self) -> NewBillRunDialog:
        dialog = NewBillRunDialog(self.ctx, self, today=self.today())
        dialog.ran.connect(lambda _result: self.refresh())
        dialog.setModal(True)
        dialog.show()
        self.dialog = dialog
        return dialog

    def open_run(self, row: int) -> RunSummaryDialog | None:
        run = self.model.row_at(row)
        if run is None:
            return None
        dialog = RunSummaryDialog(run, self)
        dialog.show()
        return dialog


# -- a past run's summary ------------------------------------------------------------------------

class RunSummaryDialog(QDialog):
    """What one run did: the counts, why accounts were skipped, which failed and why."""

    def __init__(self, run: RunResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.setObjectName("RunSummaryDialog")
        self.setWindowTitle(f"Bill run of {run.run_date.isoformat()}")
        self.resize(720, 520)
        header = QLabel(f"<b>Bill run of {run.run_date.isoformat()}</b> — {run.state_label.lower()}")
        header.setObjectName("FormHeader")
        who = run.worker if not run.started_by or run.worker.startswith(f"{run.started_by}@") \
            else f"{run.started_by} on {run.worker}"
        lines = [run.summary_line,
                 f"Run by {who}, started {_when(run.started_at)}"
                 + (f", finished {_when(run.finished_at)}" if run.finished_at else "")]
        if run.due:
            lines.append(f"{run.due:,} accounts were due.")
        if run.skip_reasons:
            lines.append("Skipped: " + "; ".join(f"{reason} ({n:,})" for reason, n in
                                                 sorted(run.skip_reasons.items(), key=lambda kv: -kv[1])))
        self.text = QLabel("\n".join(lines))
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = FieldError()
        if run.error:
            self.error.show_message(run.error)

        self.failures = self._issues(run.failures, "Could not invoice")
        self.skipped = self._issues(run.skipped_accounts, "Skipped because")
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.text)
        layout.addWidget(self.error)
        if run.failures:
            title = QLabel(f"<b>{len(run.failures):,} account{'s' if len(run.failures) != 1 else ''} could not be "
                           "invoiced</b> — fix their data; the next run on this date invoices them")
            layout.addWidget(title)
            layout.addWidget(self.failures, 1)
        if run.skipped_accounts:
            more = run.skipped - len(run.skipped_accounts)
            title = QLabel(f"<b>Skipped accounts</b>{f' (the first {len(run.skipped_accounts):,})' if more > 0 else ''}")
            layout.addWidget(title)
            layout.addWidget(self.skipped, 2)
        if not run.failures and not run.skipped_accounts:
            layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @staticmethod
    def _issues(issues: tuple, what: str) -> QTableWidget:
        table = QTableWidget(len(issues), 3)
        table.setHorizontalHeaderLabels(["Account", "Name", what])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setShowGrid(False)
        for n, issue in enumerate(issues):
            for col, value in enumerate((issue.number, issue.name, issue.reason)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(n, col, item)
        header = table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        return table


# -- the preview table ---------------------------------------------------------------------------

class PreviewModel(RowsTableModel):
    """Every due account: the invoiced first-class, the skipped greyed with their reason."""

    COLUMNS = ("Account", "Name", "Period from", "Lines", "Amount", "Skipped because")
    NUMERIC = (3, 4)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.row_at(index.row())
        if r is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (r.number, r.name, r.period_start.isoformat() if r.billed and r.period_start else "",
                      str(r.lines) if r.billed else "", r.amount_text, r.reason)
            return values[col] if 0 <= col < len(values) else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and not r.billed:
            return QBrush(MUTED)
        if role == Qt.ItemDataRole.ToolTipRole and not r.billed:
            return r.reason
        return None


# -- the new run ---------------------------------------------------------------------------------

class NewBillRunDialog(QDialog):
    """Pick a date, preview, confirm, run (see the module docstring)."""

    previewed = Signal(object)  # RunPreview
    ran = Signal(object)  # RunResult
    refused = Signal(str)  # another run is in progress, or the run could not start

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("NewBillRunDialog")
        self.setWindowTitle("New bill run")
        self.resize(860, 600)
        self.preview_result: RunPreview | None = None
        self.result: RunResult | None = None
        self.task: Task | None = None
        self.running = False

        header = QLabel("<b>New bill run</b>")
        header.setObjectName("FormHeader")
        intro = QLabel("Invoices every account that is due on the bill date, for the coming period. Nothing is "
                       "posted until you have seen the preview and confirmed. Running a date again never "
                       "invoices anyone twice.")
        intro.setWordWrap(True)
        intro.setObjectName("CountLabel")

        start = bill_run.default_run_date(today or date.today())
        self.date = QDateEdit()
        self.date.setObjectName("BillDate")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setDate(QDate(start.year, start.month, start.day))
        self.date.setMaximumWidth(150)
        self.date.dateChanged.connect(self._date_changed)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("PreviewButton")
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview)

        self.summary = QLabel("Preview to see who will be invoiced.")
        self.summary.setObjectName("PreviewSummary")
        self.summary.setStyleSheet("font-weight: 600;")
        self.summary.setWordWrap(True)

        self.model = PreviewModel(self)
        self.table = QTableView()
        self.table.setObjectName("PreviewTable")
        self.table.setModel(self.model)
        _table(self.table)
        header_view = self.table.horizontalHeader()
        for col in range(len(PreviewModel.COLUMNS)):
            header_view.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)

        # The inline confirmation (no modal box: the preview stays in sight while deciding).
        self.confirm_bar = QFrame()
        self.confirm_bar.setObjectName("ConfirmBar")
        self.confirm_bar.setStyleSheet("#ConfirmBar { background: #fff8e1; border: 1px solid #f0d58a; "
                                       "border-radius: 4px; }")
        self.confirm_text = QLabel()
        self.confirm_text.setStyleSheet("font-weight: 600;")
        self.confirm_button = QPushButton("Invoice them")
        self.confirm_button.setObjectName("ConfirmRun")
        self.confirm_button.clicked.connect(self.start_run)
        self.not_yet = QPushButton("Not yet")
        self.not_yet.clicked.connect(self.confirm_bar.hide)
        confirm = QHBoxLayout(self.confirm_bar)
        confirm.addWidget(self.confirm_text, 1)
        confirm.addWidget(self.confirm_button)
        confirm.addWidget(self.not_yet)
        self.confirm_bar.hide()

        self.progress = QProgressBar()
        self.progress.setObjectName("RunProgress")
        self.progress.setFormat("%v of %m accounts")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setObjectName("CancelRun")
        self.cancel_button.setToolTip("Stop after the accounts being invoiced now; what is invoiced stays, and "
                                      "running this date again finishes the rest.")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.outcome = QLabel()
        self.outcome.setObjectName("RunOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        self.error = FieldError()

        self.run_button = QPushButton("Run…")
        self.run_button.setObjectName("RunButton")
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.ask_to_run)
        if not ctx.actor.can(Permission.BILLING_RUN):
            self.run_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel("Bill date"))
        top.addWidget(self.date)
        top.addWidget(self.preview_button)
        top.addStretch(1)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.run_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.confirm_bar)
        layout.addLayout(running)
        layout.addWidget(self.outcome)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        ctx.runner.task_progress.connect(self._task_progress)

    # -- the date and the preview --------------------------------------------------------------
    def run_date(self) -> date:
        d = self.date.date()
        return date(d.year(), d.month(), d.day())

    def _date_changed(self, _value: QDate) -> None:
        if self.running:
            return
        self.preview_result = None
        self.model.set_rows([])
        self.run_button.setEnabled(False)
        self.confirm_bar.hide()
        self.summary.setText("Preview to see who will be invoiced.")

    def preview(self) -> None:
        if self.running:
            return
        ctx, run_date = self.ctx, self.run_date()
        self.error.clear_message()
        self.outcome.hide()
        self.confirm_bar.hide()
        self.preview_button.setEnabled(False)
        self.run_button.setEnabled(False)
        self.summary.setText(f"Working out who is due on {run_date.isoformat()}…")
        ctx.runner.submit(lambda: bill_run.preview(ctx.uow(), ctx.actor, run_date), self._previewed,
                          self._preview_failed, label="Bill run preview", key=f"bill-run-preview:{id(self)}",
                          owner=self)

    def _previewed(self, result: RunPreview) -> None:
        self.preview_button.setEnabled(True)
        if result.run_date != self.run_date():
            return  # the date changed meanwhile
        self.preview_result = result
        self.model.set_rows(list(result.rows))
        if not result.rows:
            self.summary.setText(f"Nobody is due on {result.run_date.isoformat()}.")
        else:
            text = (f"{result.invoices:,} account{'s' if result.invoices != 1 else ''} will be invoiced for "
                    f"{result.total_text}")
            if result.skipped:
                text += f" · {result.skipped:,} skipped (greyed, with the reason)"
            self.summary.setText(text + ".")
        self.run_button.setEnabled(result.invoices > 0 and not self.ctx.read_only)
        self.previewed.emit(result)

    def _preview_failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.summary.setText("")
        self.error.show_message(f"The preview did not work: {exc}")

    # -- the run -------------------------------------------------------------------------------
    def ask_to_run(self) -> None:
        result = self.preview_result
        if result is None or self.running:
            return
        self.confirm_text.setText(f"Invoice {result.invoices:,} account{'s' if result.invoices != 1 else ''} for "
                                  f"{result.total_text}?")
        self.confirm_bar.show()
        self.confirm_button.setFocus()

    def start_run(self) -> bool:
        """Run for the previewed date on the task runner. False if not started."""
        result = self.preview_result
        if result is None or self.running or self.ctx.read_only or not self.ctx.actor.can(Permission.BILLING_RUN):
            return False
        self.running = True
        self.confirm_bar.hide()
        self.error.clear_message()
        self.outcome.hide()
        for widget in (self.date, self.preview_button, self.run_button, self.close_button):
            widget.setEnabled(False)
        self.progress.setRange(0, max(1, len(result.rows)))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        ctx, run_date = self.ctx, result.run_date

        def op(task: TaskContext) -> RunResult:  # on the pool thread
            return bill_run.run(ctx.uow, ctx.actor, run_date,
                                progress=lambda done, total: task.progress(done, total, "Bill run"),
                                cancelled=lambda: task.cancelled)

        self.task = ctx.runner.submit(op, self._ran, self._run_failed, label=f"Bill run {run_date.isoformat()}",
                                      owner=self, writes=True, with_context=True)
        return True

    def _task_progress(self, task: Task) -> None:
        if self.task is None or task.id != self.task.id:
            return
        self.progress.setRange(0, max(1, task.total))
        self.progress.setValue(task.done)

    def cancel(self) -> None:
        if self.task is not None and self.running:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")

    def _ran(self, result: RunResult) -> None:
        self._run_over()
        self.result = result
        text = f"{result.state_label}: {result.summary_line}."
        if result.state == "cancelled":
            text += " Run the same date again to invoice the rest."
        if result.failures:
            shown = "; ".join(f"{f.number} {f.name}: {f.reason}" for f in result.failures[:3])
            more = len(result.failures) - 3
            text += f"\nCould not invoice {shown}{f' and {more:,} more' if more > 0 else ''}."
        self.outcome.setText(text)
        self.outcome.show()
        self.progress.setValue(self.progress.maximum() if result.state == "done" else self.progress.value())
        self.ran.emit(result)

    def _run_failed(self, exc: BaseException) -> None:
        self._run_over()
        self.progress.hide()
        if isinstance(exc, BillRunInProgress):
            message = str(exc)
        else:
            message = f"The bill run stopped: {exc} What was invoiced stays; run the same date again to finish."
        self.error.show_message(message)
        self.refused.emit(message)

    def _run_over(self) -> None:
        self.running = False
        self.task = None
        self.cancel_button.hide()
        self.cancel_button.setText("Cancel run")
        for widget in (self.date, self.preview_button, self.close_button):
            widget.setEnabled(True)
        # The preview is spent: a new run wants a new look.
        self.preview_result = None
        self.run_button.setEnabled(False)

    def reject(self) -> None:
        if self.running:  # a run is not abandoned by closing its window: cancel it first
            self.error.show_message("The bill run is still going: cancel it first, or wait for it to finish.")
            return
        super().reject()
