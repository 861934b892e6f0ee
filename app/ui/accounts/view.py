"""The Accounts section: a paged, database-sorted and -filtered list of every account."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QStackedLayout,
    QTableView, QVBoxLayout, QWidget,
)

from app.accounts import service
from app.accounts.repository import AccountQuery, AccountRow, AccountSort
from app.core.permissions import Permission
from app.ui.accounts.account_view import AccountPage
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, SearchBox
from app.ui.widgets.paged_model import Column, PagedTableModel

COLUMNS: list[Column[AccountRow]] = [
    Column("Number", lambda r: r.number, AccountSort.NUMBER, 80),
    Column("Name", lambda r: r.name, AccountSort.NAME, 160),
    Column("Status", lambda r: r.status, AccountSort.STATUS, 105, colour=lambda r: r.status_colour),
    Column("Type", lambda r: r.account_type, AccountSort.TYPE, 95),
    Column("Address", lambda r: r.address, AccountSort.ADDRESS, 235),
    Column("Primary contact", lambda r: r.contact, None, 140),
    Column("E-mail", lambda r: r.email, None, 215),
    Column("Phone", lambda r: r.phone, None, 125),
    Column("Company", lambda r: r.company, AccountSort.COMPANY, 150),
]


def make_accounts_model(ctx: AppContext, parent=None) -> PagedTableModel[AccountRow, AccountQuery]:  # noqa: ANN001
    return PagedTableModel(
        ctx.runner,
        COLUMNS,
        first_page=lambda q, limit: service.first_page(ctx.uow(), ctx.actor, q, limit),
        page=lambda q, offset, limit, total: service.list_accounts(ctx.uow(), ctx.actor, q, offset, limit, total),
        query=AccountQuery(),
        parent=parent,
    )


class AccountsView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("AccountsView")
        self.model = make_accounts_model(ctx, self)

        self.search = SearchBox("Search name, number, e-mail, phone or address   (Ctrl+F)")
        self.search.setObjectName("AccountSearch")
        self.search.search.connect(self._on_search)
        self.search.returnPressed.connect(self.search.flush)
        self.status_filter = QComboBox()
        self.type_filter = QComboBox()
        self.company_filter = QComboBox()
        self.group_filter = QComboBox()
        self.group_filter.hide()  # shown once groups exist
        for combo, everything in ((self.status_filter, "All statuses"), (self.type_filter, "All types"),
                                  (self.company_filter, "All companies"), (self.group_filter, "All groups")):
            combo.addItem(everything, None)
            combo.setMinimumWidth(90)
            # Sized by a short minimum, not by the longest status or group name.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
            combo.currentIndexChanged.connect(self._on_filter)
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")

        # Two rows, so a laptop-sized window keeps every filter: search and actions, then filters.
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        filters = QHBoxLayout()
        filters.addWidget(self.status_filter)
        filters.addWidget(self.type_filter)
        filters.addWidget(self.company_filter)
        filters.addWidget(self.group_filter)
        filters.addWidget(self.count_label)
        filters.addStretch(1)
        self.new_button = QPushButton("New account…")
        self.new_button.setToolTip("Set up a tenant on a vacant unit (Ctrl+N)")
        self.new_button.clicked.connect(self.new_account)
        self.new_button.setEnabled(ctx.actor.can(Permission.ACCOUNTS_EDIT) and not ctx.read_only)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this list, as filtered, as CSV or Excel")
        self.export_button.clicked.connect(self.export)
        bar.addWidget(self.export_button)
        bar.addWidget(self.new_button)

        self.table = QTableView()
        self.table.setObjectName("AccountsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, column in enumerate(COLUMNS):
            self.table.setColumnWidth(i, column.width)
        self.table.doubleClicked.connect(self._open_index)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self._open_current,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.model.reload)

        self.empty = EmptyState("", "")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.list_page = QWidget()
        layout = QVBoxLayout(self.list_page)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addLayout(self.stack, 1)
        self.page = AccountPage(ctx)
        self.page.back.connect(self.show_list)
        self.page.changed.connect(lambda _id: self.model.reload())
        self.pages = QStackedLayout(self)
        self.pages.addWidget(self.list_page)
        self.pages.addWidget(self.page)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_account)
        ctx.nav.lookups_changed.connect(self._on_lookups_changed)

        header_state = QSettings().value("accounts/header")
        if header_state is not None:
            self.table.horizontalHeader().restoreState(header_state)
        self.model.count_changed.connect(self._on_count)
        self.model.loading_changed.connect(self._on_loading)
        self.model.load_failed.connect(self._on_failed)
        self._load_lookups()

    def save_layout(self, settings: QSettings) -> None:
        """Column widths and order, kept for the next start (called by the main window)."""
        settings.setValue("accounts/header", self.table.horizontalHeader().saveState())

    # -- loading -------------------------------------------------------------------------------
    def _load_lookups(self) -> None:
        self.ctx.runner.submit(
            lambda: service.lookups(self.ctx.uow(), self.ctx.actor),
            self._fill_filters, self._on_failed, label="Loading accounts", owner=self,
        )

    def _on_lookups_changed(self) -> None:
        """Settings changed a status, type or group: new choices in the filters, new colours and
        names in the rows."""
        self._load_lookups()
        self.model.reload()

    def _fill_filters(self, lookups: service.Lookups) -> None:
        for combo, choices in ((self.status_filter, lookups.statuses), (self.type_filter, lookups.types),
                               (self.company_filter, lookups.companies), (self.group_filter, lookups.groups)):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for choice in choices:
                combo.addItem(choice.name, choice.id)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
            combo.blockSignals(False)
        self.group_filter.setVisible(bool(lookups.groups))
        if any(c.currentData() is None and x is not None for c, x in (
                (self.status_filter, self.model.query.status_id), (self.type_filter, self.model.query.type_id),
                (self.group_filter, self.model.query.group_id))):
            self._on_filter()  # a chosen filter value was deleted in Settings
        several = len(lookups.companies) > 1
        self.company_filter.setVisible(several)
        self.table.setColumnHidden(len(COLUMNS) - 1, not several)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _on_search(self, text: str) -> None:
        self.model.set_query(dataclasses.replace(self.model.query, text=text))

    def _on_filter(self) -> None:
        self.model.set_query(
            dataclasses.replace(
                self.model.query,
                status_id=self.status_filter.currentData(),
                type_id=self.type_filter.currentData(),
                company_id=self.company_filter.currentData(),
                group_id=self.group_filter.currentData(),
            )
        )

    def _on_loading(self, loading: bool) -> None:
        if loading and not self.count_label.text():
            self.count_label.setText("Loading…")

    def _on_count(self, count: int) -> None:
        q = self.model.query
        self.count_label.setText(f"{count:,} account{'s' if count != 1 else ''}")
        if count:
            self.stack.setCurrentWidget(self.table)
            return
        filtered = bool(q.terms()) or any(x is not None for x in (q.status_id, q.type_id, q.company_id, q.group_id))
        if filtered:
            what = f"“{q.text.strip()}”" if q.terms() else "these filters"
            self.empty.set_message("No matching accounts", f"No account matches {what}. Try fewer words, "
                                   "part of an e-mail address, or the last digits of a phone number.")
        else:
            self.empty.set_message(
                "No accounts yet",
                "Accounts appear here once tenants are set up. To explore Riser with realistic data, "
                "run: python main.py --database demo.sqlite demo --accounts 2000",
            )
        self.stack.setCurrentWidget(self.empty)

    def _on_failed(self, exc: BaseException) -> None:
        if self.model.rowCount():
            # Some rows could not be fetched: keep the list; they are asked for again on the
            # next paint, and F5 reloads.
            self.count_label.setText(f"Some rows did not load: {exc}")
            return
        self.count_label.setText("")
        self.empty.set_message("The accounts could not be loaded", str(exc))
        self.stack.setCurrentWidget(self.empty)

    # -- opening -------------------------------------------------------------------------------
    def _open_current(self) -> None:
        self._open_index(self.table.currentIndex())

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row(index.row()) if index.isValid() else None
        if row is None:
            return
        self.open_account(row.id)

    def open_account(self, account_id: int) -> None:
        """Show the account's page in place of the list (Alt+Left returns)."""
        self.pages.setCurrentWidget(self.page)
        self.page.load(account_id)

    def show_list(self) -> None:
        self.pages.setCurrentWidget(self.list_page)
        self.table.setFocus()

    def new_account(self, unit_id: int | None = None) -> None:
        if not self.new_button.isEnabled():
            return
        from app.ui.accounts.new_account import NewAccountDialog

        dialog = NewAccountDialog(self.ctx, parent=self)
        dialog.created.connect(lambda d: (self.model.reload(), self.open_account(d.id)))
        dialog.open()
        self.dialog = dialog

    def export(self) -> None:
        from app.ui.widgets.export import export_list

        export_list(self, self.ctx, "accounts", self.model.query)
