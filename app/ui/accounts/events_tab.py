"""The account's scheduled events: what will happen on which date, and what already did.

``ScheduledEventsTab(ctx)`` shows one account's events (``load(account_id)``): pending ones first,
then the past with who ran them and the result or the error. "Schedule…" opens a small dialog
(change the status, disconnect, change a contact, on a date); "Cancel event" cancels the selected
pending one. ``changed`` is emitted after either, so the account page can refresh.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
    QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton, QSizePolicy, QStackedWidget, QTableView,
    QVBoxLayout, QWidget,
)

from app.accounts import service as accounts
from app.core.errors import ValidationError
from app.core.permissions import Permission
from app.scheduling import service
from app.scheduling.service import EventRow
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

HEADERS = ["Due", "What", "State", "Ran", "Result", "Scheduled by"]
STATE_COLOURS = {"pending": "#1565c0", "done": "#2e7d32", "failed": "#c62828", "cancelled": "#757575"}
STATE_LABELS = {"pending": "Pending", "done": "Done", "failed": "Failed", "cancelled": "Cancelled"}
LABEL_WIDTH = 125
# The theme styles line edits and combo boxes; a date field matches them.
DATE_STYLE = "QDateEdit { padding: 5px 7px; border: 1px solid #c9d0d9; border-radius: 4px; background: white; }"


def _local(moment) -> str:  # noqa: ANN001 - an aware datetime
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _outcome(row: EventRow) -> str:
    if row.state == "failed":
        return row.error
    if row.state == "cancelled":
        return f"Cancelled by {row.cancelled_by}" if row.cancelled_by else "Cancelled"
    return row.result


class EventsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[EventRow] = []

    def set_rows(self, rows: list[EventRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> EventRow | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802, ANN201
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN201
        if not index.isValid():
            return None
        r = self.row(index.row())
        if r is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tooltip(r, col)
            return self._text(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                return QBrush(QColor(STATE_COLOURS.get(r.state, "#333333")))
            if col == 4 and r.state == "failed":
                return QBrush(QColor(STATE_COLOURS["failed"]))
            if r.state == "cancelled":
                return QBrush(QColor("#8a939e"))
            return None
        if role == Qt.ItemDataRole.FontRole and col == 2:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None

    @staticmethod
    def _text(r: EventRow, col: int) -> str:
        if col == 0:
            return r.due_on.isoformat()
        if col == 1:
            return r.description or r.what
        if col == 2:
            return STATE_LABELS.get(r.state, r.state)
        if col == 3:  # the desk, without its process id (in the tooltip)
            return f"{_local(r.ran_at)} · {r.ran_by.split(' (pid')[0]}" if r.ran_at else ""
        if col == 4:
            return _outcome(r)
        return r.created_by_name

    @staticmethod
    def _tooltip(r: EventRow, col: int) -> str | None:
        if col == 1:
            return r.description or None
        if col == 3:
            return f"Ran {_local(r.ran_at)} on {r.ran_by}" if r.ran_at else None
        if col == 4:
            return _outcome(r) or None
        if col == 5:
            return f"Scheduled by {r.created_by_name} on {_local(r.created_at)}"
        return None


class ScheduledEventsTab(QWidget):
    changed = Signal()  # an event was scheduled or cancelled

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ScheduledEventsTab")
        self.account_id: int | None = None
        self.loading = False
        self.dialog: ScheduleEventDialog | None = None
        self.editable = ctx.actor.can(Permission.ACCOUNTS_EDIT) and not ctx.read_only

        intro = QLabel("Changes that happen to this account on a date: a status change, the disconnection, "
                       "a contact's new details. Each runs once, on its day.")
        intro.setObjectName("CountLabel")
        intro.setWordWrap(True)
        self.schedule_button = QPushButton("Schedule…")
        self.schedule_button.setObjectName("ScheduleEvent")
        self.schedule_button.clicked.connect(self.open_schedule_dialog)
        self.cancel_button = QPushButton("Cancel event")
        self.cancel_button.setObjectName("CancelEvent")
        self.cancel_button.clicked.connect(self.cancel_selected)
        if not self.editable:
            reason = ctx.db.read_only_reason or f"{ctx.actor.role} users can look but not change accounts."
            for button in (self.schedule_button, self.cancel_button):
                button.setEnabled(False)
                button.setToolTip(reason)
        bar = QHBoxLayout()
        bar.addWidget(intro, 1)
        bar.addWidget(self.schedule_button)
        bar.addWidget(self.cancel_button)

        self.model = EventsModel(self)
        self.table = QTableView()
        self.table.setObjectName("EventsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        for col, width in enumerate([88, 300, 80, 255, 280, 150]):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.message = FieldError()
        self.empty = QLabel("Nothing scheduled yet. Schedule… changes the status, disconnects the account "
                            "or changes a contact on a date you choose.")
        self.empty.setObjectName("CountLabel")
        self.empty.setWordWrap(True)
        self.empty.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.message)
        self._update_buttons()

    # -- loading -------------------------------------------------------------------------------
    def load(self, account_id: int) -> None:
        if account_id != self.account_id:
            self.model.set_rows([])
        self.account_id = account_id
        self.loading = True
        ctx = self.ctx
        ctx.runner.submit(lambda: service.list_events(ctx.uow(), ctx.actor, account_id), self._show,
                          self._load_failed, key=f"events-tab-{id(self)}", owner=self)

    def reload(self) -> None:
        if self.account_id is not None:
            self.load(self.account_id)

    def _show(self, rows: list[EventRow]) -> None:
        selected = self.selected()
        self.loading = False
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        if selected is not None:
            for i, r in enumerate(rows):
                if r.id == selected.id:
                    self.table.selectRow(i)
        self._update_buttons()

    def _load_failed(self, exc: BaseException) -> None:
        self.loading = False
        self.message.show_message(f"The scheduled events could not be loaded: {exc}")

    # -- selection -----------------------------------------------------------------------------
    def selected(self) -> EventRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        if self.editable:
            row = self.selected()
            self.schedule_button.setEnabled(self.account_id is not None)
            self.cancel_button.setEnabled(row is not None and row.pending)

    # -- scheduling ----------------------------------------------------------------------------
    def open_schedule_dialog(self) -> None:
        if self.account_id is None:
            return
        ctx, account_id = self.ctx, self.account_id

        def load() -> tuple[accounts.AccountDetail, accounts.Lookups]:
            return accounts.get_account(ctx.uow(), ctx.actor, account_id), accounts.lookups(ctx.uow(), ctx.actor)

        self.schedule_button.setEnabled(False)
        ctx.runner.submit(load, self._open_dialog, self._action_failed, label="Opening the schedule",
                          key=f"events-dialog-{id(self)}", owner=self)

    def _open_dialog(self, loaded: tuple[accounts.AccountDetail, accounts.Lookups]) -> None:
        self._update_buttons()
        detail, lookups = loaded
        self.message.clear_message()
        dialog = ScheduleEventDialog(self.ctx, detail, lookups, self)
        dialog.scheduled.connect(self._on_scheduled)
        self.dialog = dialog
        dialog.open()

    def _on_scheduled(self, _row: EventRow) -> None:
        self.reload()
        self.changed.emit()

    # -- cancelling ----------------------------------------------------------------------------
    def cancel_selected(self) -> None:
        row = self.selected()
        if row is None or not row.pending:
            return
        answer = QMessageBox.question(
            self, "Cancel event",
            f"Cancel “{row.description}” due {row.due_on.isoformat()}?\n\nIt will not happen.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        ctx = self.ctx
        self.cancel_button.setEnabled(False)
        self.message.clear_message()
        ctx.runner.submit(lambda: service.cancel_event(ctx.uow(), ctx.actor, row.id, row.version),
                          self._on_cancelled, self._action_failed, label="Cancelling the event", writes=True,
                          owner=self)

    def _on_cancelled(self, _row: EventRow) -> None:
        self.reload()
        self.changed.emit()

    def _action_failed(self, exc: BaseException) -> None:
        self.message.show_message(str(exc))
        self._update_buttons()
        self.reload()  # show what happened to the event meanwhile


class ScheduleEventDialog(QDialog):
    """Kind, date and the kind's fields; messages appear next to the field they are about."""

    scheduled = Signal(object)  # EventRow

    KINDS = [("change_status", "Change status"), ("disconnect", "Disconnect"), ("change_contact", "Change contact")]

    def __init__(self, ctx: AppContext, detail: accounts.AccountDetail, lookups: accounts.Lookups,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.detail = ctx, detail
        self.setObjectName("ScheduleEventDialog")
        self.setWindowTitle(f"Schedule a change — {detail.number} {detail.name}")
        self.setMinimumWidth(520)
        self.errors: dict[str, FieldError] = {}

        self.kind = QComboBox()
        self.kind.setObjectName("EventKind")
        for name, label in self.KINDS:
            self.kind.addItem(label, name)
        self.on = QDateEdit()
        self.on.setObjectName("EventDate")
        self.on.setCalendarPopup(True)
        self.on.setDisplayFormat("yyyy-MM-dd")
        self.on.setStyleSheet(DATE_STYLE)
        today = date.today()
        self.on.setMinimumDate(QDate(today.year, today.month, today.day))
        tomorrow = today + timedelta(days=1)
        self.on.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))

        top = self._form([("What", self.kind), ("On", self.on), ("", self._error("due_on"))])

        # Change status
        self.status = QComboBox()
        self.status.setObjectName("EventStatus")
        for s in lookups.statuses:
            self.status.addItem(s.name, s.id)
        # Another status than today's, to start with (today's stays available: "back to Active").
        self.status.setCurrentIndex(next((i for i, s in enumerate(lookups.statuses) if s.id != detail.status_id), 0))
        status_page = self._form([("New status", self.status), ("", self._error("status_id"))])

        # Disconnect
        self.reason = QLineEdit()
        self.reason.setObjectName("EventReason")
        self.reason.setPlaceholderText("Moving out, non-payment, service cancelled…")
        self.final_status = QComboBox()
        self.final_status.setObjectName("EventFinalStatus")
        for s in lookups.statuses:
            if not s.activates:
                self.final_status.addItem(s.name, s.id)
        inactive = self.final_status.findText("Inactive")
        self.final_status.setCurrentIndex(max(0, inactive))
        disconnect_page = self._form([
            ("Reason", self.reason), ("", self._error("reason")),
            ("Status afterwards", self.final_status), ("", self._error("final_status_id")),
            ("", self._note("The account stops occupying its unit on this date."))])

        # Change contact
        self.contact = QComboBox()
        self.contact.setObjectName("EventContact")
        for c in detail.contacts:
            self.contact.addItem(c.name + (" (primary)" if c.is_primary else ""), c.id)
        self.contact.currentIndexChanged.connect(self._fill_contact)
        self.contact_fields = {key: QLineEdit() for key in ("name", "email", "phone", "mobile")}
        self.is_primary = QCheckBox("Primary contact")
        self.is_financial = QCheckBox("Receives the invoices (financial contact)")
        contact_rows: list[tuple[str, QWidget]] = [("Contact", self.contact), ("", self._error("contact_id"))]
        for key, label in (("name", "Name"), ("email", "E-mail"), ("phone", "Phone"), ("mobile", "Mobile")):
            contact_rows += [(label, self.contact_fields[key]), ("", self._error(key))]
        contact_rows += [("", self.is_primary), ("", self._error("is_primary")),
                         ("", self.is_financial), ("", self._error("is_financial"))]
        contact_page = self._form(contact_rows)
        if not detail.contacts:
            self.kind.removeItem(self.kind.findData("change_contact"))

        self.pages = QStackedWidget()
        self.page_for = {"change_status": status_page, "disconnect": disconnect_page, "change_contact": contact_page}
        for page in self.page_for.values():
            self.pages.addWidget(page)
        self.kind.currentIndexChanged.connect(self._on_kind)

        self.form_error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Schedule", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(self.pages)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._fill_contact()
        self._on_kind()

    # -- building ------------------------------------------------------------------------------
    def _error(self, key: str) -> FieldError:
        self.errors[key] = FieldError()
        return self.errors[key]

    @staticmethod
    def _note(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("CountLabel")
        label.setWordWrap(True)
        return label

    @staticmethod
    def _form(rows: list[tuple[str, QWidget]]) -> QWidget:
        """A form whose labels are one width, so the fields of the top form and of each kind's
        page line up."""
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        for text, widget in rows:
            if not text:
                form.addRow("", widget)  # no label: a hidden error line takes no room
                continue
            label = QLabel(text)
            label.setMinimumWidth(LABEL_WIDTH)
            form.addRow(label, widget)
        return page

    def _on_kind(self) -> None:
        current = self.page_for[self.kind.currentData()]
        for page in self.page_for.values():  # the dialog takes the height of the page shown
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.pages.setCurrentWidget(current)
        self.clear_errors()

    def _fit(self) -> None:
        """Take the height the page shown and its messages need (wrapped lines included), at the
        current width: a dialog does not follow its layout once it has a minimum width."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width() if self.isVisible() else max(self.sizeHint().width(), self.minimumWidth())
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        self.resize(width, max(height, layout.totalMinimumSize().height()))

    def _current_contact(self) -> accounts.ContactInput | None:
        return next((c for c in self.detail.contacts if c.id == self.contact.currentData()), None)

    def _fill_contact(self) -> None:
        c = self._current_contact()
        for key, edit in self.contact_fields.items():
            edit.setText(getattr(c, key) if c else "")
        self.is_primary.setChecked(bool(c and c.is_primary))
        self.is_financial.setChecked(bool(c and c.is_financial))

    # -- submitting ----------------------------------------------------------------------------
    def payload(self) -> tuple[str, date, dict]:
        kind = self.kind.currentData()
        on = self.on.date().toPython()
        if kind == "change_status":
            return kind, on, {"status_id": self.status.currentData()}
        if kind == "disconnect":
            return kind, on, {"reason": self.reason.text(), "final_status_id": self.final_status.currentData()}
        c = self._current_contact()
        payload: dict = {"contact_id": c.id if c else None}
        if c is not None:
            for key, edit in self.contact_fields.items():
                if edit.text().strip() != getattr(c, key):
                    payload[key] = edit.text()
            for key, box in (("is_primary", self.is_primary), ("is_financial", self.is_financial)):
                if box.isChecked() != getattr(c, key):
                    payload[key] = box.isChecked()
        return kind, on, payload

    def clear_errors(self) -> None:
        for label in (*self.errors.values(), self.form_error):
            label.clear_message()
        self._fit()

    def submit(self) -> None:
        kind, on, payload = self.payload()
        ctx, account_id = self.ctx, self.detail.id
        self.clear_errors()
        self.ok.setEnabled(False)
        ctx.runner.submit(lambda: service.schedule_event(ctx.uow(), ctx.actor, account_id, kind, on, payload),
                          self._done, self._failed, label="Scheduling", writes=True, owner=self)

    def _done(self, row: EventRow) -> None:
        self.ok.setEnabled(True)
        self.scheduled.emit(row)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        label = self.errors.get(exc.field) if isinstance(exc, ValidationError) and exc.field else None
        (label or self.form_error).show_message(str(exc))
        self._fit()
