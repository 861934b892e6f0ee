"""The account's Equipment tab: what is installed at the unit, installing by scanning, returning.

    tab = EquipmentTab(ctx)          # or EquipmentTab(ctx, account_id) to load at once
    tab.load(account_id)             # again to refresh, or for another account
    tab.loaded.connect(...)          # list[ItemRow] installed now (the page shows the count)
    tab.changed.connect(...)         # something was installed or returned

- **Installed here** (``inventory.equipment_at``): tag, model, MAC / serial, and since when
  (the date of the movement that brought it here). Below, the account's recent equipment
  movements (``inventory.account_movements``).
- **Install by scanning**: while the tab is shown, a ``ScanListener`` hears a USB reader anywhere
  in its window — also when the focus is on the page's buttons or nowhere, which is where it
  usually is (a text field keeps working as a text field). It listens only while the tab is
  visible and the window active, so an open dialog takes the keys. A scan runs
  ``inventory.install_by_code`` on the task runner; the status line confirms it in green, or
  says in red why not (installed elsewhere, unknown code). "Install item…" does the same for a
  code typed by hand.
- **Return…**: the selected items go back to a location (the last one chosen is remembered),
  in stock or marked faulty, with a note. In the dialog a scanned or typed code ticks its item.

Without ``inventory.view`` the account page leaves the tab out; without ``inventory.edit`` (or on
a read-only database) the actions are disabled and say why.

Also used by the move-out wizard: ``LocationCombo`` (where returned things go) and
``StatusLine`` (a green ✓ or a red message).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import RiserError
from app.core.permissions import Permission
from app.inventory import catalogue
from app.inventory import service as inventory
from app.inventory.catalogue import LocationRow
from app.inventory.models import ASSIGNED, FAULTY, INSTALLED, RETIRED, RMA
from app.inventory.service import Destination, ItemRow, MovementRow
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, FieldError
from app.ui.widgets.scan import ScanListener

ITEM_HEADERS = ["Tag", "Model", "MAC / Serial", "Since"]
MOVEMENT_HEADERS = ["When", "Who", "Item", "What"]
OK_COLOUR, ERROR_COLOUR, MUTED_COLOUR = "#2e7d32", "#c62828", "#5b6673"
RETURN_LOCATION_SETTING = "inventory/return_location"


# -- small helpers shared with the move-out wizard -----------------------------------------------

def identifier_text(row: ItemRow) -> str:
    """The MAC and/or serial number, the identifiers a tech reads off the device."""
    parts = [v for v in (row.identifier("mac"), row.identifier("serial")) if v]
    if not parts and row.identifiers:
        parts = [row.identifiers[0].value]
    return " · ".join(parts)


def where_text(row: ItemRow) -> str:
    """Where an item is, in words: "installed at 100123 Owen White", "in stock at Van 2"."""
    if row.state == INSTALLED:
        return f"installed at {row.holder}"
    if row.state == ASSIGNED:
        return f"with {row.holder}"
    if row.state == RMA:
        return "returned to the vendor"
    if row.state == RETIRED:
        return "retired"
    if row.state == FAULTY:
        return f"faulty at {row.holder}"
    return f"in stock at {row.holder}"


def error_text(exc: BaseException) -> str:
    """A domain error's own message; anything else as one line, never a traceback."""
    if isinstance(exc, RiserError):
        return str(exc)
    return f"Something went wrong: {exc}" if str(exc) else f"Something went wrong ({type(exc).__name__})."


def movement_text(m: MovementRow) -> str:
    """The movement's sentence, saying when something came back faulty, and its note."""
    faulty = " (faulty)" if m.state_to == FAULTY and m.state_from != FAULTY and m.to_kind == "location" else ""
    return m.description + faulty + (f" — {m.note}" if m.note else "")


def local_time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


class StatusLine(QLabel):
    """One line under a list saying what the last scan or action did: green ✓ or red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScanStatus")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ok_state: bool | None = None
        self.hide()

    def ok(self, text: str) -> None:
        self._show(f"✓ {text}" if not text.startswith("✓") else text, OK_COLOUR, True)

    def error(self, text: str) -> None:
        self._show(text, ERROR_COLOUR, False)

    def note(self, text: str) -> None:
        """Neutral progress text ("Installing …")."""
        self._show(text, MUTED_COLOUR, None)

    def clear_status(self) -> None:
        self.ok_state = None
        self.setText("")
        self.hide()

    def _show(self, text: str, colour: str, ok: bool | None) -> None:
        self.ok_state = ok
        weight = "600" if ok is not None else "normal"
        self.setStyleSheet(f"QLabel#ScanStatus {{ color: {colour}; font-weight: {weight}; }}")
        self.setText(text)
        self.setVisible(bool(text))


class LocationCombo(QComboBox):
    """The locations things can be returned to, by path, remembering the last one chosen.

    Loads itself on the task runner; ``location_id()`` is None until then (or if there are none).
    ``remember()`` stores the current choice for the next time (any LocationCombo)."""

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ReturnLocation")
        self.setMinimumContentsLength(28)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.rows: list[LocationRow] = []
        self.addItem("Loading locations…", None)
        self.setEnabled(False)
        self.activated.connect(lambda _i: self.remember())
        if not ctx.actor.can(Permission.INVENTORY_VIEW):
            self.setItemText(0, "No access to inventory locations")
            return
        ctx.runner.submit(lambda: catalogue.list_locations(ctx.uow(), ctx.actor, include_inactive=False),
                          self._fill, self._failed, label="Loading locations", owner=self)

    def _fill(self, rows: list[LocationRow]) -> None:
        self.rows = rows
        self.clear()
        for row in rows:
            self.addItem(row.path, row.id)
            self.setItemData(self.count() - 1, f"{row.path} ({row.code})", Qt.ItemDataRole.ToolTipRole)
        if not rows:
            self.addItem("No locations yet: add one in Inventory", None)
        self.setEnabled(bool(rows))
        remembered = QSettings().value(RETURN_LOCATION_SETTING)
        index = self.findData(int(remembered)) if remembered not in (None, "") else -1
        self.setCurrentIndex(max(0, index))
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.clear()
        self.addItem(f"Locations could not be loaded: {error_text(exc)}", None)
        self.loaded.emit()

    def location_id(self) -> int | None:
        value = self.currentData()
        return int(value) if value is not None else None

    def set_location(self, location_id: int) -> None:
        index = self.findData(location_id)
        if index >= 0:
            self.setCurrentIndex(index)

    def remember(self) -> None:
        location_id = self.location_id()
        if location_id is not None:
            QSettings().setValue(RETURN_LOCATION_SETTING, location_id)


def _table(headers: Sequence[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


# -- loading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EquipmentData:
    account_id: int
    items: list[ItemRow]
    movements: list[MovementRow]

    def since(self, item: ItemRow) -> MovementRow | None:
        """The movement that brought the item here (the newest one into an account)."""
        return next((m for m in self.movements if m.item_id == item.id and m.to_kind == "account"), None)


def load_equipment(ctx: AppContext, account_id: int) -> EquipmentData:
    return EquipmentData(account_id, inventory.equipment_at(ctx.uow(), ctx.actor, account_id),
                         inventory.account_movements(ctx.uow(), ctx.actor, account_id))


# -- the tab -------------------------------------------------------------------------------------

class EquipmentTab(QWidget):
    changed = Signal()  # something was installed or returned
    loaded = Signal(list)  # the ItemRows installed now

    RECENT = 50  # movements shown below the list

    def __init__(self, ctx: AppContext, account_id: int | None = None, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: what the scan listener measures key gaps with (tests pass a fake one)."""
        super().__init__(parent)
        self.ctx = ctx
        self._clock = clock
        self.listener: ScanListener | None = None  # made when first shown, on the window it is in
        self._listener_scope: QWidget | None = None
        self.setObjectName("EquipmentTab")
        self.account_id: int | None = None
        self.data: EquipmentData | None = None
        self.loading = False
        self.pending = 0  # installs on their way
        self.dialog: QDialog | None = None
        self.editable = ctx.actor.can(Permission.INVENTORY_EDIT) and not ctx.read_only
        self.not_editable_reason = ctx.db.read_only_reason or (
            f"{ctx.actor.role} users can see the equipment but not install or return it.")

        self.title = QLabel("Installed at this unit")
        self.title.setStyleSheet("font-weight: 600;")
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")
        self.install_button = QPushButton("Install item…")
        self.install_button.setObjectName("InstallItem")
        self.install_button.setToolTip("Type an item's tag, MAC or serial (a scan anywhere on this tab works too)")
        self.install_button.clicked.connect(self.open_install_dialog)
        self.return_button = QPushButton("Return…")
        self.return_button.setObjectName("ReturnItems")
        self.return_button.setToolTip("Bring the selected items back to a location")
        self.return_button.clicked.connect(self.open_return_dialog)
        if not self.editable:
            for button in (self.install_button, self.return_button):
                button.setEnabled(False)
                button.setToolTip(self.not_editable_reason)
        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.install_button)
        bar.addWidget(self.return_button)

        self.table = _table(ITEM_HEADERS, "EquipmentTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        for col, mode in enumerate([QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents]):
            header.setSectionResizeMode(col, mode)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _i: self.open_return_dialog())
        self.empty = EmptyState("No equipment at this unit",
                                "Scan an item's barcode to install it here." if self.editable else
                                "Nothing is installed at this unit.")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        self.status = StatusLine()
        hint = ("Scan an item's barcode anywhere on this tab to install it here." if self.editable
                else self.not_editable_reason)
        self.hint = QLabel(hint)
        self.hint.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.hint.setWordWrap(True)

        self.movements_title = QLabel("Recent equipment movements")
        self.movements_title.setStyleSheet("font-weight: 600;")
        self.movements = _table(MOVEMENT_HEADERS, "EquipmentMovements")
        self.movements.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.movements.horizontalHeader()
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.message = FieldError()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(self.stack, 2)
        layout.addWidget(self.status)
        layout.addWidget(self.hint)
        layout.addSpacing(6)
        layout.addWidget(self.movements_title)
        layout.addWidget(self.movements, 3)
        layout.addWidget(self.message)

        self._update_buttons()
        if account_id is not None:
            self.load(account_id)

    # -- the scan listener ---------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        window = self.window()
        if self.listener is None or self._listener_scope is not window:
            if self.listener is not None:
                self.listener.stop()
                self.listener.deleteLater()
            # The whole window, not just the tab: the focus is often on the page's header buttons
            # or the tab bar, and a reader's Enter must not press them.
            self.listener = ScanListener(window, clock=self._clock, parent=self)
            self._listener_scope = window
            self.listener.scanned.connect(self.install_code)
        self.listener.set_enabled(self.editable)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if self.listener is not None:
            self.listener.set_enabled(False)

    # -- loading -------------------------------------------------------------------------------
    def load(self, account_id: int) -> None:
        if account_id != self.account_id:
            self.data = None
            self.table.setRowCount(0)
            self.movements.setRowCount(0)
            self.status.clear_status()
            self.count_label.setText("Loading…")
        self.account_id = account_id
        self.loading = True
        ctx = self.ctx
        ctx.runner.submit(lambda: load_equipment(ctx, account_id), self._fill, self._load_failed,
                          label="Loading equipment", key=f"equipment-tab:{id(self)}", owner=self)

    def reload(self) -> None:
        if self.account_id is not None:
            self.load(self.account_id)

    @property
    def items(self) -> list[ItemRow]:
        return self.data.items if self.data else []

    def _fill(self, data: EquipmentData) -> None:
        if data.account_id != self.account_id:
            return
        selected = {r.id for r in self.selected()}
        self.loading = False
        self.data = data
        self.message.clear_message()
        self.table.setRowCount(len(data.items))
        for r, item in enumerate(data.items):
            since = data.since(item)
            cells = [item.tag, item.model, identifier_text(item),
                     since.at.astimezone().strftime("%Y-%m-%d") if since else ""]
            tip = f"{item.summary}\n{item.state_label}" + (f"\n{item.notes}" if item.notes else "")
            if since is not None:
                tip += f"\nInstalled {local_time(since.at)} by {since.who}"
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                self.table.setItem(r, col, cell)
        self.table.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for r, item in enumerate(data.items):
            if item.id in selected:  # the same items stay selected after a refresh
                self.table.selectionModel().select(self.table.model().index(r, 0), flags)
        n = len(data.items)
        self.count_label.setText(f"{n} item{'s' if n != 1 else ''}" if n else "")
        self.stack.setCurrentWidget(self.table if n else self.empty)
        self.title.setVisible(bool(n))
        self.hint.setVisible(bool(n) or not self.editable)

        # Newest first by when it happened (movements entered late, e.g. imported, sort in place).
        recent = sorted(data.movements, key=lambda m: m.at, reverse=True)[: self.RECENT]
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText)
        self.movements.setRowCount(len(recent))
        for r, m in enumerate(recent):
            what = movement_text(m)
            cells = [QTableWidgetItem(local_time(m.at)), QTableWidgetItem(m.who or "—"),
                     QTableWidgetItem(m.item), QTableWidgetItem(what)]
            for cell in cells[:2]:
                cell.setForeground(grey)
            cells[3].setToolTip(what)
            for col, cell in enumerate(cells):
                self.movements.setItem(r, col, cell)
        # No movements at all: the empty state above says everything.
        self.movements_title.setVisible(bool(recent))
        self.movements.setVisible(bool(recent))
        self._update_buttons()
        self.loaded.emit(list(data.items))

    def _load_failed(self, exc: BaseException) -> None:
        self.loading = False
        self.count_label.setText("")
        self.message.show_message(f"The equipment could not be loaded: {error_text(exc)}")

    # -- selection -----------------------------------------------------------------------------
    def selected(self) -> list[ItemRow]:
        if self.data is None:
            return []
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.data.items[r] for r in rows if 0 <= r < len(self.data.items)]

    def _update_buttons(self) -> None:
        if not self.editable:
            return
        self.install_button.setEnabled(self.account_id is not None)
        self.return_button.setEnabled(bool(self.selected()))

    # -- installing ----------------------------------------------------------------------------
    def install_code(self, code: str) -> None:
        """Install the item with this tag, MAC, serial… here (a scan, or typed in the dialog)."""
        code = code.strip()
        if not code or self.account_id is None or not self.editable:
            return
        ctx, account_id = self.ctx, self.account_id
        self.pending += 1
        self.status.note(f"Installing {code}…")
        ctx.runner.submit(lambda: inventory.install_by_code(ctx.uow(), ctx.actor, account_id, code),
                          lambda row: self._installed(account_id, row),
                          lambda exc: self._install_failed(account_id, exc),
                          label=f"Installing {code}", writes=True, owner=self)

    def _installed(self, account_id: int, row: ItemRow) -> None:
        self.pending -= 1
        if account_id != self.account_id:
            return
        self.status.ok(f"Installed {row.tag} {row.model}")
        self.reload()
        self.changed.emit()

    def _install_failed(self, account_id: int, exc: BaseException) -> None:
        self.pending -= 1
        if account_id != self.account_id:
            return
        self.status.error(error_text(exc))

    def open_install_dialog(self) -> None:
        if self.account_id is None or not self.editable:
            return
        dialog = InstallDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # a new one each time
        dialog.install.connect(self.install_code)
        self.dialog = dialog
        dialog.open()

    # -- returning -----------------------------------------------------------------------------
    def open_return_dialog(self) -> None:
        chosen = self.selected()
        if self.account_id is None or not self.editable or not chosen:
            return
        dialog = ReturnDialog(self.ctx, self.account_id, self.items, [r.id for r in chosen], self, clock=self._clock)
        # A new one each time: deleted when closed, its scan listener stopped (see ReturnDialog.done).
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.returned.connect(self._returned)
        self.dialog = dialog
        dialog.open()

    def _returned(self, rows: list[ItemRow]) -> None:
        if rows:
            where = rows[0].holder
            what = ", ".join(f"{r.tag} {r.model}" for r in rows[:3]) + (f" and {len(rows) - 3} more"
                                                                      if len(rows) > 3 else "")
            faulty = " (faulty)" if all(r.state == FAULTY for r in rows) else ""
            self.status.ok(f"Returned {what} to {where}{faulty}")
        self.reload()
        self.changed.emit()


class InstallDialog(QDialog):
    """A code typed by hand (no reader at hand): Enter or Install hands it to the tab."""

    install = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("InstallDialog")
        self.setWindowTitle("Install an item here")
        self.setMinimumWidth(420)
        intro = QLabel("Type the tag on the item's Riser label, its MAC address or its serial number. "
                       "It must be in stock or with a technician.")
        intro.setWordWrap(True)
        self.code = QLineEdit()
        self.code.setObjectName("InstallCode")
        self.code.setPlaceholderText("I-000012, 24:5A:4C:11:22:33, serial…")
        self.error = FieldError()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("Install", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.code)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def submit(self) -> None:
        code = self.code.text().strip()
        if not code:
            self.error.show_message("Type a tag, MAC or serial number.")
            return
        self.install.emit(code)
        self.accept()


class ReturnDialog(QDialog):
    """Bring items back from the unit into a location: tick them (or scan / type their codes),
    choose where they go, faulty or not, and a note. Each item moves in its own transaction; any
    that could not be returned stay listed with the reason."""

    returned = Signal(list)  # the ItemRows now at the location

    def __init__(self, ctx: AppContext, account_id: int, items: Sequence[ItemRow], selected_ids: Sequence[int],
                 parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.ctx, self.account_id = ctx, account_id
        self.setObjectName("ReturnDialog")
        self.setWindowTitle("Return equipment from the unit")
        self.setMinimumWidth(520)
        self.rows: dict[int, ItemRow] = {r.id: r for r in items}

        intro = QLabel("Tick what came back. Scanning an item's barcode (or typing its code below) ticks it.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("ReturnItemsList")
        for row in items:
            extra = identifier_text(row)
            entry = QListWidgetItem(f"{row.tag}   {row.model}" + (f"   ·   {extra}" if extra else ""))
            entry.setData(Qt.ItemDataRole.UserRole, row.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked if row.id in selected_ids else Qt.CheckState.Unchecked)
            self.list.addItem(entry)
        self.list.itemChanged.connect(lambda _i: self._update_ok())
        self.list.setMinimumHeight(min(220, 28 * max(3, len(items)) + 8))

        self.code = QLineEdit()
        self.code.setObjectName("ReturnCode")
        self.code.setPlaceholderText("Scan or type a tag, MAC or serial, then Enter")
        self.code.returnPressed.connect(lambda: self.tick_code(self.code.text()))
        self.location = LocationCombo(ctx)
        self.faulty = QCheckBox("Faulty — keep it apart for testing or a return to the vendor")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional: what was wrong, who brought it back…")
        self.scan_status = StatusLine()
        self.error = FieldError()

        form = QFormLayout()
        form.addRow("Code", self.code)
        form.addRow("", self.scan_status)
        form.addRow("Return to", self.location)
        form.addRow("", self.faulty)
        form.addRow("Note", self.note)

        # Plain buttons, none of them default: Enter in the code field ticks an item and must not
        # press Return (a QDialogButtonBox makes its accept button the default when shown).
        self.ok = QPushButton("Return")
        self.ok.setObjectName("ReturnSubmit")
        self.ok.clicked.connect(self.submit)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (cancel, self.ok):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.listener = ScanListener(self, clock=clock)
        self.listener.scanned.connect(self.tick_code)
        self._update_ok()

    def done(self, result: int) -> None:
        """Closing (Return, Cancel, Escape) stops the scan listener: it filters every key of the
        application while installed."""
        self.listener.stop()
        super().done(result)

    def checked_ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _update_ok(self) -> None:
        n = len(self.checked_ids())
        self.ok.setText(f"Return {n} item{'s' if n != 1 else ''}" if n else "Return")
        self.ok.setEnabled(n > 0)

    def _entry(self, item_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == item_id:
                return self.list.item(i)
        return None

    # -- ticking by code -----------------------------------------------------------------------
    def tick_code(self, code: str) -> None:
        code = code.strip()
        if not code:
            return
        ctx = self.ctx
        ctx.runner.submit(lambda: inventory.find_code(ctx.uow(), ctx.actor, code), self._found,
                          lambda exc: self.scan_status.error(error_text(exc)), label="Looking up a code", owner=self)

    def _found(self, match: inventory.CodeMatch) -> None:
        here = [r for r in match.items if self._entry(r.id) is not None]
        if here:
            for row in here:
                self._entry(row.id).setCheckState(Qt.CheckState.Checked)  # type: ignore[union-attr]
            self.scan_status.ok(f"Ticked {', '.join(f'{r.tag} {r.model}' for r in here)}")
            self.code.clear()
        elif match.items:
            row = match.items[0]
            self.scan_status.error(f"{row.tag} is not installed at this account: it is {where_text(row)}.")
        else:
            self.scan_status.error(f"No item has the code {match.code}.")

    # -- returning -----------------------------------------------------------------------------
    def submit(self) -> None:
        ids = self.checked_ids()
        location_id = self.location.location_id()
        self.error.clear_message()
        if not ids:
            self.error.show_message("Tick the items that came back.")
            return
        if location_id is None:
            self.error.show_message("Choose the location they go back to.")
            return
        self.location.remember()
        ctx, account_id = self.ctx, self.account_id
        faulty, note = self.faulty.isChecked(), self.note.text()
        destination = Destination.location(location_id, faulty=faulty)
        rows = dict(self.rows)  # the op reads plain values, never the dialog

        def op() -> tuple[list[ItemRow], list[tuple[ItemRow, str]]]:
            done: list[ItemRow] = []
            failed: list[tuple[ItemRow, str]] = []
            for item_id in ids:
                try:
                    done.append(inventory.move_item(ctx.uow(), ctx.actor, item_id, destination, note=note,
                                                    expected_account_id=account_id))
                except RiserError as exc:  # this one stays; the others still go back
                    failed.append((rows[item_id], str(exc)))
            return done, failed

        self.ok.setEnabled(False)
        ctx.runner.submit(op, self._done, self._failed, label="Returning equipment", writes=True, owner=self)

    def _done(self, result: tuple[list[ItemRow], list[tuple[ItemRow, str]]]) -> None:
        done, failed = result
        for row in done:
            entry = self._entry(row.id)
            if entry is not None:
                self.list.takeItem(self.list.row(entry))
        if done:
            self.returned.emit(done)
        if not failed:
            self.accept()
            return
        self._update_ok()
        self.error.show_message("\n".join(f"{row.tag}: {message}" for row, message in failed))

    def _failed(self, exc: BaseException) -> None:
        self._update_ok()
        self.error.show_message(error_text(exc))


__all__ = [
    "EquipmentData",
    "EquipmentTab",
    "InstallDialog",
    "LocationCombo",
    "ReturnDialog",
    "StatusLine",
    "error_text",
    "identifier_text",
    "load_equipment",
    "movement_text",
    "where_text",
]
