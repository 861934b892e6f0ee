"""Ctrl+K from anywhere: type a name, number, e-mail, phone, unit or street; arrows pick, Enter
opens (an account's page, or the building with the unit selected); Escape closes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QDialog, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.global_search import SearchResults, search_everything
from app.ui.context import AppContext
from app.ui.widgets.common import SearchBox


class SearchPalette(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("SearchPalette")
        self.setWindowTitle("Search everything")
        self.setMinimumSize(640, 440)
        self.box = SearchBox("Search accounts, contacts and addresses…", delay_ms=90)
        self.box.setObjectName("PaletteSearch")
        self.box.search.connect(self._search)
        self.box.installEventFilter(self)
        self.results = QListWidget()
        self.results.setObjectName("PaletteResults")
        self.results.itemActivated.connect(self._open)
        self._searched = ""  # the text the shown results are for
        self._open_when_ready = False  # Enter came before the results: open the first when they do
        self.hint = QLabel("↑ ↓ to choose · Enter to open · Esc to close")
        self.hint.setObjectName("CountLabel")
        layout = QVBoxLayout(self)
        layout.addWidget(self.box)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        self.box.setFocus()

    def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802 - arrows and Enter from the box
        if obj is self.box and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.box.text().strip() and self._pending():
                    self.box.flush()
                    self._open_when_ready = True
                else:
                    self._open(self.results.currentItem())
                return True
            if key == Qt.Key.Key_Escape and not self.box.text():
                self.reject()
                return True
        return super().eventFilter(obj, event)

    def _pending(self) -> bool:
        return self.box.text() != self._searched

    def _move(self, step: int) -> None:
        row = self.results.currentRow()
        count = self.results.count()
        for _ in range(count):
            row = (row + step) % count if count else -1
            item = self.results.item(row)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) is not None:
                self.results.setCurrentRow(row)
                return

    def _search(self, text: str) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: (text, search_everything(ctx.uow(), ctx.actor, text)), self._show,
                          lambda exc: self.hint.setText(str(exc)), label="Searching", key="palette", owner=self)

    def _show(self, found: tuple[str, SearchResults]) -> None:
        text, results = found
        self._searched = text
        self.results.clear()
        if not text.strip():
            return

        def heading(title: str) -> None:
            item = QListWidgetItem(title.upper())
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QColor("#5b6673"))
            self.results.addItem(item)

        def entry(text: str, target: tuple) -> None:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, target)
            self.results.addItem(item)

        if results.accounts:
            more = f" — {results.more_accounts:,} more in Accounts" if results.more_accounts else ""
            heading(f"Accounts{more}")
            for a in results.accounts:
                entry(f"{a.number}  {a.name}   ·   {a.status}   ·   {a.address or 'no address'}", ("account", a.id))
        if results.contacts:
            heading("Contacts")
            for c in results.contacts:
                entry(f"{c.name}   ·   {c.role}   ·   {c.detail}", ("account", c.account_id))
        if results.addresses:
            heading("Addresses")
            for h in results.addresses:
                state = "building" if h.is_building else (f"occupied by {h.occupied_by}" if h.occupied_by else "vacant")
                entry(f"{h.label}   ·   {h.building + '   ·   ' if h.building else ''}{state}",
                      ("address", h.building_id or h.id, 0 if h.is_building else h.id))
        if self.results.count() == 0:
            heading(f"Nothing matches “{text.strip()}”")
        self.results.setCurrentRow(-1)
        self._move(1)
        if self._open_when_ready:
            self._open_when_ready = False
            self._open(self.results.currentItem())

    def _open(self, item: QListWidgetItem | None) -> None:
        target = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if target is None:
            return
        if target[0] == "account":
            self.ctx.nav.open_account(target[1])
        else:
            self.ctx.nav.open_building(target[1], target[2])
        self.accept()
