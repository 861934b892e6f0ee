"""The account's History tab: the audit trail in words, newest first. Read-only.

    tab = HistoryTab(ctx)
    tab.load(account_id)     # again to refresh, or for another account
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.accounts import history
from app.accounts.history import HistoryRow
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState

HEADERS = ["When", "Who", "What"]


class HistoryTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("HistoryTab")
        self.account_id: int | None = None
        self.rows: list[HistoryRow] = []

        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")
        self.title = QLabel("Changes to this account, its contacts, notes, calls and scheduled events")
        self.title.setStyleSheet("font-weight: 600;")
        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("HistoryTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setShowGrid(False)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setStyleSheet("QTableWidget#HistoryTable::item { padding: 5px 6px; }")
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Rows grow to their text when the width changes (the "What" column wraps).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.empty = EmptyState("No history yet",
                                "Changes to this account — its status, contacts, groups, notes, calls and "
                                "scheduled events — are listed here with who made them and when.")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(self.stack, 1)

    def load(self, account_id: int) -> None:
        if account_id != self.account_id:
            self.table.setRowCount(0)
            self.count_label.setText("Loading…")
        self.account_id = account_id
        ctx = self.ctx
        ctx.runner.submit(lambda: (account_id, history.account_history(ctx.uow(), ctx.actor, account_id)),
                          self._fill, self._failed, key=f"history-tab:{id(self)}", owner=self)

    def _fill(self, loaded: tuple[int, list[HistoryRow]]) -> None:
        account_id, rows = loaded
        if account_id != self.account_id:
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for i, row in enumerate(rows):
            when = QTableWidgetItem(row.when.astimezone().strftime("%Y-%m-%d %H:%M"))
            who = QTableWidgetItem(row.who or "—")
            what = QTableWidgetItem(row.text)
            what.setToolTip(f"{row.action}\n{row.text}" if row.text != row.action else row.action)
            for item in (when, who):
                item.setForeground(grey)
            for col, item in enumerate((when, who, what)):
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self.table.setItem(i, col, item)
        self.count_label.setText(f"{len(rows)} entr{'ies' if len(rows) != 1 else 'y'}" if rows else "")
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        self.title.setVisible(bool(rows))
        if not rows:
            self.empty.set_message("No history yet",
                                   "Changes to this account — its status, contacts, groups, notes, calls and "
                                   "scheduled events — are listed here with who made them and when.")

    def _failed(self, exc: BaseException) -> None:
        self.count_label.setText("")
        self.title.hide()
        self.empty.set_message("The history could not be loaded", str(exc))
        self.stack.setCurrentWidget(self.empty)
