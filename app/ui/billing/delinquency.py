"""Billing → Delinquency: who is behind on payments, since when, and what happens next, when.

One table, worst first (``delinquency_overview``): accounts whose status has switched
(Suspended), delinquent accounts, accounts past due that will become delinquent, and overdue
accounts nothing will happen to (excluded, or a balance under the minimum), each row tinted
by its stage. The line above counts them ("12 delinquent · 3 will be suspended this week ·
5 overdue"). A double click opens the account.

**Run checks now** runs the daily chores (late fees, then the delinquency check) for today on
the task runner, as the scheduler does once a day; the one-line summary shows under the
counts and the table reloads. Running them again the same day changes nothing twice.
Hidden for users without BILLING_RUN; disabled (with the reason) on a read-only database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.billing import daily
from app.billing.delinquency import (
    DELINQUENT,
    EXEMPT,
    NEXT_SWITCH,
    OVERDUE,
    SWITCHED,
    DelinquentRow,
    delinquency_overview,
    overview_counts,
)
from app.core.money import format_minor
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, FieldError

EMPTY_TITLE = "Nobody is behind on payments"
EMPTY_TEXT = ("Accounts show here as soon as an invoice is past its due date: when they will become "
              "delinquent, and when their status will switch.")
STAGE_LABELS = {SWITCHED: "Status switched", DELINQUENT: "Delinquent", OVERDUE: "Overdue", EXEMPT: "Overdue, exempt"}
STAGE_BACKGROUNDS = {
    SWITCHED: QColor("#fdecea"),  # red tint
    DELINQUENT: QColor("#fff3e0"),  # orange tint
    OVERDUE: QColor("#fffbe6"),  # yellow tint
}
STAGE_COLOURS = {SWITCHED: QColor("#c62828"), DELINQUENT: QColor("#ef6c00"), OVERDUE: QColor("#b28704"),
                 EXEMPT: QColor("#8a939e")}
MUTED_COLOUR = QColor("#5b6673")
SOON_DAYS = 7  # a next step this close is shown in bold


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


class DelinquencyModel(QAbstractTableModel):
    """The overview rows; every row is held (hundreds at most, not the whole account list)."""

    COLUMNS = ("Account", "Name", "Balance", "Oldest overdue", "Due", "Delinquent since", "Status",
               "What happens next")
    BALANCE, DUE, SINCE, STATUS, NEXT = 2, 4, 5, 6, 7

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[DelinquentRow] = []
        self.today = date.today()

    def set_rows(self, rows: list[DelinquentRow], today: date) -> None:
        self.beginResetModel()
        self.rows, self.today = list(rows), today
        self.endResetModel()

    def row_at(self, row: int) -> DelinquentRow | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, account_id: int) -> int:
        return next((n for n, r in enumerate(self.rows) if r.account_id == account_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {self.BALANCE: "The account's balance: every charge, fee, payment and credit",
                    self.NEXT: "What happens next by itself if nothing is paid, and when"}.get(section)
        return None

    def _soon(self, row: DelinquentRow) -> bool:
        return row.next_on is not None and row.next_on < self.today + timedelta(days=SOON_DAYS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (row.number, row.name, format_minor(row.balance, row.currency), row.invoice_number,
                      _day(row.invoice_due_on), _day(row.delinquent_since), row.status, row.next_step)
            return values[col] if 0 <= col < len(values) else None
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return STAGE_COLOURS[row.stage]  # a swatch of the stage's colour
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.BALANCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = STAGE_BACKGROUNDS.get(row.stage)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.STATUS:
                return QBrush(QColor(row.status_colour))
            if row.stage == EXEMPT:
                return QBrush(MUTED_COLOUR)
            return None
        if role == Qt.ItemDataRole.FontRole and (
                col == self.STATUS or (col == self.NEXT and row.next_kind and self._soon(row))):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return STAGE_LABELS[row.stage]
            if col == self.NEXT:
                return row.next_step
        return None


class DelinquencyPanel(QWidget):
    """Billing → Delinquency. ``today`` gives the date the view is for (tests fix it)."""

    ran = Signal(object)  # DailyResult, after "Run checks now"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = today
        self.setObjectName("DelinquencyPanel")
        self.rows: list[DelinquentRow] = []
        self.running = False

        self.model = DelinquencyModel(self)
        self.table = QTableView()
        self.table.setObjectName("DelinquencyTable")
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
        for col in range(len(DelinquencyModel.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.doubleClicked.connect(self._open_account)

        self.empty = EmptyState(EMPTY_TITLE, EMPTY_TEXT)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.summary = QLabel()
        self.summary.setObjectName("DelinquencySummary")
        self.summary.setStyleSheet("padding-left: 8px; font-weight: 600;")
        self.result = QLabel()
        self.result.setObjectName("CountLabel")
        self.result.setWordWrap(True)
        self.result.hide()
        self.run_button = QPushButton("Run checks now")
        self.run_button.setToolTip("Charge the late fees due today, then run today's delinquency check "
                                   "(what the scheduler does once a day).")
        self.run_button.clicked.connect(self.run_checks)
        if not ctx.actor.can(Permission.BILLING_RUN):
            self.run_button.hide()
        elif ctx.read_only:
            self.run_button.setEnabled(False)
            self.run_button.setToolTip(f"Read-only: {ctx.db.read_only_reason}")
        self.error = FieldError()

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.result)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        self.refresh()

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the overview on the task runner."""
        ctx, today = self.ctx, self.today()
        ctx.runner.submit(lambda: (today, delinquency_overview(ctx.uow(), ctx.actor, today)),
                          lambda loaded: self._fill(*loaded), self._failed,
                          key=f"billing-delinquency:{id(self)}", owner=self)

    def _fill(self, today: date, rows: list[DelinquentRow]) -> None:
        self.rows = rows
        self.error.clear_message()
        selected = self.selected()
        self.model.set_rows(rows, today)
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        self.summary.setText(overview_counts(rows, today))
        soon = any(r.next_kind == NEXT_SWITCH and self.model._soon(r) for r in rows)
        self.summary.setProperty("warning", soon)
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        if selected is not None:
            self.select(selected.account_id)

    def _failed(self, exc: BaseException) -> None:
        self.error.show_message(str(exc))

    # -- the selection -------------------------------------------------------------------------
    def selected(self) -> DelinquentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, account_id: int) -> bool:
        row = self.model.row_of(account_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        return row >= 0

    def _open_account(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.ctx.nav.open_account(row.account_id)

    # -- run checks now ------------------------------------------------------------------------
    def run_checks(self) -> bool:
        """Late fees and the delinquency check for today, in the background. False if not started."""
        if self.running or self.ctx.read_only or not self.ctx.actor.can(Permission.BILLING_RUN):
            return False
        self.running = True
        self.run_button.setEnabled(False)
        self.run_button.setText("Running checks…")
        self.error.clear_message()
        uow, actor, today = self.ctx.uow, self.ctx.actor, self.today()
        self.ctx.runner.submit(lambda: daily.run_daily(uow, actor, today), self._checks_done, self._checks_failed,
                               label="Late fees and delinquency checks", owner=self, writes=True)
        return True

    def _checks_done(self, result: daily.DailyResult) -> None:
        self._checks_over()
        text = f"Checks for {result.today.isoformat()}: {result.summary}"
        if result.errors:
            text += "\n" + "\n".join(result.errors[:3])
        self.result.setText(text)
        self.result.show()
        self.ran.emit(result)
        self.refresh()

    def _checks_failed(self, exc: BaseException) -> None:
        self._checks_over()
        self.error.show_message(f"The checks did not run: {exc}")

    def _checks_over(self) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.run_button.setText("Run checks now")
