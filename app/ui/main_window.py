"""The main window: a sidebar of sections, the section on the right, and a status bar that
shows the database, the signed-in user and any background work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QProgressBar,
    QSizePolicy, QStackedWidget, QWidget,
)

from app import __version__
from app.ui.accounts.view import AccountsView
from app.ui.addresses.view import AddressesView
from app.ui.context import AppContext
from app.ui.billing.view import BillingView
from app.ui.inventory.view import InventoryView
from app.ui.scheduler import EventScheduler
from app.ui.settings.view import SettingsView
from app.ui.tasks import Task
from app.ui.widgets.common import EmptyState


@dataclass(frozen=True)
class Section:
    name: str
    build: Callable[[AppContext], QWidget]


def _planned(title: str, text: str) -> Callable[[AppContext], QWidget]:
    return lambda ctx: EmptyState(f"{title} — not built yet", text)


SECTIONS = [
    Section("Accounts", lambda ctx: AccountsView(ctx)),
    Section("Addresses", lambda ctx: AddressesView(ctx)),
    Section("Billing", lambda ctx: BillingView(ctx)),
    Section("Inventory", lambda ctx: InventoryView(ctx)),
    Section("Tickets", _planned("Tickets", "Support tickets and e-mail threads per account.")),
    Section("Network", _planned("Network",
            "IP addresses, RADIUS provisioning, and device polling with a network map.")),
    Section("Reports", _planned("Reports", "Revenue, delinquency, occupancy and churn reports.")),
    Section("Settings", lambda ctx: SettingsView(ctx)),
]


class TaskIndicator(QWidget):
    """Shows what runs in the background: a label and a progress bar, hidden when idle."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.label = QLabel()
        # A long task name is cut short rather than widen the window.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(140)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        ctx.runner.task_started.connect(self._refresh)
        ctx.runner.task_progress.connect(self._refresh)
        ctx.runner.task_ended.connect(self._refresh)
        self._refresh()

    def _refresh(self, _task: Task | None = None) -> None:
        tasks = self.ctx.runner.running()
        if not tasks:
            self.hide()
            return
        current = tasks[-1]
        more = f" (+{len(tasks) - 1} more)" if len(tasks) > 1 else ""
        self.label.setText(f"{current.text or current.label}…{more}")
        if current.total:
            self.bar.setRange(0, current.total)
            self.bar.setValue(current.done)
        else:
            self.bar.setRange(0, 0)  # busy
        self.show()


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"Riser — {ctx.db.describe()}")
        self.resize(1280, 800)

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setFixedWidth(180)
        self.stack = QStackedWidget()
        self._built: dict[int, QWidget] = {}
        for i, section in enumerate(SECTIONS):
            item = QListWidgetItem(section.name)
            item.setToolTip(f"{section.name}  (Ctrl+{i + 1})")
            self.sidebar.addItem(item)
            self.stack.addWidget(QWidget())  # placeholder until first shown
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, lambda i=i: self.sidebar.setCurrentRow(i))
        self.sidebar.currentRowChanged.connect(self.show_section)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        status = self.statusBar()
        self.db_label = QLabel(ctx.db.describe())
        self.db_label.setObjectName("DatabaseLabel")
        self.db_label.setToolTip(ctx.db.describe())
        # A long file path may be cut short rather than widen the window.
        self.db_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.db_label.setMinimumWidth(220)
        if ctx.read_only:
            self.db_label.setText(f"{ctx.db.describe()} — READ-ONLY")
            self.db_label.setToolTip(ctx.db.read_only_reason or "")
            self.db_label.setProperty("warning", True)
        status.addWidget(self.db_label)
        self.tasks = TaskIndicator(ctx)
        status.addWidget(self.tasks)
        self.user_label = QLabel(f"Signed in as {ctx.actor.username} ({ctx.actor.role})")
        self.user_label.setObjectName("UserLabel")
        status.addPermanentWidget(self.user_label)
        status.addPermanentWidget(QLabel(f"Riser {__version__}"))
        ctx.runner.error.connect(self._on_unhandled)

        QShortcut(QKeySequence.StandardKey.Quit, self, self.close)
        QShortcut(QKeySequence("Ctrl+K"), self, self.search_everything)
        ctx.nav.account_requested.connect(self.open_account)
        ctx.nav.building_requested.connect(self.open_building)
        self._restore()
        self.scheduler = EventScheduler(ctx, ctx.runner, self)  # due events, now and every minute
        self.scheduler.start()

    def show_section(self, row: int) -> None:
        if row < 0:
            return
        if row not in self._built:
            widget = SECTIONS[row].build(self.ctx)
            old = self.stack.widget(row)
            self.stack.insertWidget(row, widget)
            self.stack.removeWidget(old)
            old.deleteLater()
            self._built[row] = widget
        self.stack.setCurrentIndex(row)

    def section(self, name: str) -> QWidget:
        row = [s.name for s in SECTIONS].index(name)
        self.sidebar.setCurrentRow(row)
        return self._built[row]

    def open_account(self, account_id: int) -> None:
        self.section("Accounts").open_account(account_id)

    def open_building(self, building_id: int, unit_id: int = 0) -> None:
        self.section("Addresses").show_building(building_id, unit_id)

    def search_everything(self) -> None:
        """Ctrl+K: one search box over accounts, contacts and addresses."""
        from app.ui.search_palette import SearchPalette

        palette = SearchPalette(self.ctx, self)
        palette.open()
        self.search_palette = palette

    def _on_unhandled(self, exc: BaseException) -> None:
        QMessageBox.warning(self, "Riser", str(exc))

    # -- layout memory -------------------------------------------------------------------------
    def _restore(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value("main/state")
        if state is not None:
            self.restoreState(state)
        section = settings.value("main/section", 0, int)
        self.sidebar.setCurrentRow(section if 0 <= section < len(SECTIONS) else 0)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/state", self.saveState())
        settings.setValue("main/section", self.sidebar.currentRow())
        for widget in self._built.values():
            save = getattr(widget, "save_layout", None)
            if save:
                save(settings)
        self.ctx.runner.shutdown()
        super().closeEvent(event)
