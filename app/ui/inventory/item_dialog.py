"""One item in a dialog, and a dialog for a new one.

``ItemDialog(ctx, item_id)``: the tag, model, state, where it is, its identifiers and notes
(editable, with an error under each field), its history newest first, and the moves: Move to
location…, Install at account…, Assign to staff…, Mark faulty, Send to vendor (RMA)…, Return
to stock…, Retire…. Every move goes through ``service.move_item`` with the version shown, so an
item someone else moved meanwhile is refused; the reason shows in the dialog and it reloads.

``NewItemDialog(ctx, model_id=None, identifiers=None, location_id=None)``: pick a model; its
identifier fields appear (required ones marked *); pick the location it is kept at. Enter in a
field moves on to the next empty one; Enter with none left after it creates the item.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.accounts import service as accounts
from app.accounts.repository import AccountQuery, AccountRow
from app.core.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    RiserError,
    ValidationError,
)
from app.core.permissions import Permission
from app.inventory import catalogue, service
from app.inventory.catalogue import FieldSpec, LocationRow, ModelRow
from app.inventory.models import (
    ASSIGNED,
    FAULTY,
    HOLDER_LOCATION,
    IN_STOCK,
    INSTALLED,
    RETIRED,
    RMA,
    STATE_LABELS,
)
from app.inventory.service import Destination, ItemRow, ItemUnavailable, MovementRow
from app.ui.context import AppContext
from app.ui.inventory.items import STATE_COLOURS, local_time
from app.ui.widgets.common import FieldError, SearchBox

E = html.escape
HISTORY_HEADERS = ["When", "Who", "What", "Note"]


def state_pill(state: str) -> str:
    """The item's state as a small coloured label (rich text)."""
    colour = STATE_COLOURS.get(state, "#78838f")
    return (f"<span style='background:{colour}; color:white; font-weight:600'>"
            f"&nbsp;{E(STATE_LABELS.get(state, state))}&nbsp;</span>")


def where_text(row: ItemRow) -> str:
    """Where the item is, as a phrase: "In stock at Main › Shelf A", "Installed at 100123 …"."""
    if row.state == RMA:
        return "Returned to the vendor"
    if row.state == RETIRED:
        return "Retired"
    if not row.holder:
        return STATE_LABELS.get(row.state, row.state)
    if row.state == ASSIGNED:
        return f"With {row.holder}"
    return f"{STATE_LABELS.get(row.state, row.state)} at {row.holder}"


class Banner(QLabel):
    """A one-line (wrapping) message at the top of a dialog: an error in red, news in green."""

    STYLES: ClassVar[dict[str, str]] = {
        "error": "background:#fdecea; border:1px solid #f1b5b0; color:#8e1c14;",
        "info": "background:#e8f5e9; border:1px solid #a5d6a7; color:#1b5e20;",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setStyleSheet(f"QLabel#Banner {{ {self.STYLES[kind]} border-radius:4px; padding:6px 10px; }}")
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()


def error_text(exc: BaseException) -> str:
    """What to tell the user about a failed call: the domain's own words, never a traceback."""
    if isinstance(exc, RiserError):
        return str(exc)
    return f"Something went wrong: {exc}"


def _is_enter(event: QKeyEvent) -> bool:
    """Enter or Return, on its own (the keypad's too)."""
    return (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)


# -- choosers used by the move dialogs ----------------------------------------------------------

class LocationChooser(QComboBox):
    """Active locations by their path, in tree order."""

    def __init__(self, ctx: AppContext, preferred: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LocationChooser")
        self.setMinimumContentsLength(30)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._preferred = preferred
        self.addItem("Loading locations…", None)
        ctx.runner.submit(lambda: catalogue.list_locations(ctx.uow(), ctx.actor, include_inactive=False),
                          self._fill, lambda exc: self.setItemText(0, error_text(exc)), owner=self)

    def _fill(self, rows: list[LocationRow]) -> None:
        self.clear()
        if not rows:
            self.addItem("No locations yet — add one on the Locations tab", None)
            return
        for row in rows:
            self.addItem(row.path, row.id)
        index = self.findData(self._preferred) if self._preferred is not None else 0
        self.setCurrentIndex(max(0, index))

    def value(self) -> int | None:
        return self.currentData()


class AccountChooser(QWidget):
    """Type an account number or a name; pick from what matches.

    The results always belong to one search text. While the box says something else (typed but
    not searched yet) or a search is running, ``pending`` is true and ``value()`` is None, so a
    quick Enter never picks an account from the list of the text before. Enter in the box
    searches at once and goes no further (it never presses the dialog's button); Enter or a
    double-click on a result emits ``chosen``."""

    chosen = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._shown_for = ""  # the search text the results belong to
        self._searching: str | None = None  # the text of the search running now, if any
        self.search = SearchBox("Account number or name…", delay_ms=150)
        self.search.setObjectName("AccountChooserSearch")
        self.search.search.connect(self._search)
        self.search.installEventFilter(self)
        self.results = QListWidget()
        self.results.setObjectName("AccountChooserResults")
        self.results.setMinimumHeight(180)
        self.results.setMinimumWidth(460)
        self.results.installEventFilter(self)
        self.results.itemActivated.connect(lambda _item: self.chosen.emit())  # a double-click
        self.hint = QLabel("")
        self.hint.setObjectName("CountLabel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        self.search.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the box searches now; Enter on a result chooses it. Neither reaches the dialog."""
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress and _is_enter(event):
            if watched is self.search:
                self.search.flush()
                return True
            if watched is self.results:
                if self.results.currentItem() is not None:
                    self.chosen.emit()
                return True
        return super().eventFilter(watched, event)

    @property
    def pending(self) -> bool:
        """The results do not (yet) belong to what the box says."""
        return self._searching is not None or self.search.text().strip() != self._shown_for

    def _search(self, text: str) -> None:
        text = text.strip()
        if not text:
            self._searching = None
            self._shown_for = ""
            self.results.clear()
            self.hint.setText("")
            return
        ctx = self.ctx
        self._searching = text
        self.hint.setText("Searching…")
        ctx.runner.submit(lambda: accounts.first_page(ctx.uow(), ctx.actor, AccountQuery(text=text), 20),
                          lambda found: self._show(text, found), lambda exc: self._failed(text, exc),
                          key=f"account-chooser:{id(self)}", owner=self)

    def _failed(self, text: str, exc: BaseException) -> None:
        if text != self._searching:
            return
        self._searching = None
        self._shown_for = ""
        self.results.clear()
        self.hint.setText(error_text(exc))

    def _show(self, text: str, found: tuple[int, list[AccountRow]]) -> None:
        if text != self._searching:  # an older search: a newer one is on its way
            return
        self._searching = None
        self._shown_for = text
        total, rows = found
        self.results.clear()
        for row in rows:
            item = QListWidgetItem(f"{row.number}  {row.name}   ·   {row.address or 'no address'}   ·   {row.status}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.results.addItem(item)
        if rows:
            self.results.setCurrentRow(0)
        more = f" (first {len(rows)} shown)" if total > len(rows) else ""
        self.hint.setText(f"{total:,} match{'es' if total != 1 else ''}{more}" if total else "No account matches.")

    def value(self) -> int | None:
        """The chosen account, or None — also while the results are for another text."""
        if self.pending:
            return None
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


class StaffChooser(QComboBox):
    """Active staff users by name."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StaffChooser")
        self.setMinimumContentsLength(24)
        self.addItem("Loading staff…", None)
        ctx.runner.submit(lambda: service.list_staff(ctx.uow(), ctx.actor), self._fill, self._failed, owner=self)

    def _fill(self, users: list[service.StaffChoice]) -> None:
        self.clear()
        for user in users:
            self.addItem(f"{user.name}  ({user.username})", user.id)

    def _failed(self, exc: BaseException) -> None:
        self.clear()
        if isinstance(exc, PermissionDenied):
            self.addItem("You may not see the staff list", None)
        else:
            self.addItem(error_text(exc), None)

    def value(self) -> int | None:
        return self.currentData()


class MoveDialog(QDialog):
    """Asks where (if ``chooser`` is given) and for an optional note, then says OK.

    With an ``AccountChooser`` the OK button is not the default: Enter in the search box searches,
    Enter on a result (or in the note, or on the button) says OK — and only once the results
    belong to what the box says."""

    def __init__(
        self, title: str, text: str, ok_text: str, chooser: QWidget | None = None, *,
        note_hint: str = "Note (optional)", parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MoveDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.chooser = chooser
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.note = QLineEdit()
        self.note.setObjectName("MoveNote")
        self.note.setPlaceholderText(note_hint)
        self.note.setMaxLength(service.NOTE_MAX)
        self.error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self._enter_searches = isinstance(chooser, AccountChooser)
        if self._enter_searches:
            assert isinstance(chooser, AccountChooser)
            chooser.chosen.connect(self._ok)
            self.note.returnPressed.connect(self._ok)
        else:
            self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        if chooser is not None:
            layout.addWidget(chooser, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._enter_searches:
            # A QDialogButtonBox makes its accept button the default when it is shown.
            self.ok_button.setDefault(False)

    def value(self) -> int | None:
        getter = getattr(self.chooser, "value", None)
        return getter() if getter is not None else None

    def _ok(self) -> None:
        if self.result() == QDialog.DialogCode.Accepted and not self.isVisible():
            return  # said OK already
        if getattr(self.chooser, "pending", False):
            self.error.show_message("Wait for the search, then choose the account.")
            return
        if self.chooser is not None and self.value() is None:
            self.error.show_message("Choose one first.")
            return
        self.accept()


# -- the item ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemPage:
    item: ItemRow
    fields: tuple[FieldSpec, ...]
    history: list[MovementRow]


def load_item_page(ctx: AppContext, item_id: int) -> ItemPage:
    item = service.get_item(ctx.uow(), ctx.actor, item_id)
    try:
        fields = catalogue.get_model(ctx.uow(), ctx.actor, item.model_id).fields
    except NotFound:
        fields = tuple(FieldSpec(i.key, i.label, i.kind) for i in item.identifiers)
    return ItemPage(item, fields, service.item_history(ctx.uow(), ctx.actor, item_id))


class ItemDialog(QDialog):
    """One item: what it is, where it is, its identifiers, its history, and the moves."""

    changed = Signal(int)  # item id: lists showing it should refresh

    def __init__(self, ctx: AppContext, item_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.item_id = item_id
        self.page: ItemPage | None = None
        self.picker: MoveDialog | None = None  # the open move dialog, if any
        self._busy = False
        self._dirty = False
        self.editable = ctx.actor.can(Permission.INVENTORY_EDIT) and not ctx.read_only
        self.setObjectName("ItemDialog")
        self.setWindowTitle("Item")
        self.resize(960, 640)

        self.title = QLabel("Loading…")
        self.title.setObjectName("FormHeader")
        self.title.setStyleSheet("QLabel#FormHeader { font-size: 18px; font-weight: 600; }")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pill = QLabel("")
        self.pill.setObjectName("StatePill")
        self.pill.setTextFormat(Qt.TextFormat.RichText)
        self.where = QLabel("")
        self.where.setObjectName("ItemWhere")
        self.where.setWordWrap(True)
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = Banner()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.pill)
        head.addStretch(1)

        # Identifiers and notes.
        self.fields_box = QGroupBox("Identifiers")
        self.fields_form = QFormLayout()
        self.fields_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, FieldError] = {}
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("ItemNotes")
        self.notes.setPlaceholderText("Notes")
        self.notes.setFixedHeight(54)
        self.notes.textChanged.connect(self._on_edited)
        self.notes_error = FieldError()
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("SaveItem")
        self.save_button.setEnabled(False)
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        # The identifier rows are inserted above these two (see _fill_fields).
        self.fields_form.addRow("Notes", self.notes)
        self.fields_form.addRow("", self.notes_error)
        box = QVBoxLayout(self.fields_box)
        box.addLayout(self.fields_form)
        box.addStretch(1)
        box.addLayout(save_row)

        # Moves.
        self.actions_box = QGroupBox("Move")
        self.move_button = QPushButton("Move to location…")
        self.move_button.clicked.connect(self.move_to_location)
        self.install_button = QPushButton("Install at account…")
        self.install_button.clicked.connect(self.install_at_account)
        self.assign_button = QPushButton("Assign to staff…")
        self.assign_button.clicked.connect(self.assign_to_staff)
        self.faulty_button = QPushButton("Mark faulty")
        self.faulty_button.clicked.connect(self.mark_faulty)
        self.rma_button = QPushButton("Send to vendor (RMA)…")
        self.rma_button.clicked.connect(self.send_to_vendor)
        self.return_button = QPushButton("Return to stock…")
        self.return_button.clicked.connect(self.return_to_stock)
        self.retire_button = QPushButton("Retire…")
        self.retire_button.clicked.connect(self.retire)
        self.action_buttons = (self.move_button, self.install_button, self.assign_button, self.faulty_button,
                               self.rma_button, self.return_button, self.retire_button)
        actions = QVBoxLayout(self.actions_box)
        for button in self.action_buttons:
            button.setAutoDefault(False)
            button.setEnabled(False)
            actions.addWidget(button)
        actions.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(self.fields_box, 1)
        top.addWidget(self.actions_box)

        # History.
        self.history = QTableWidget(0, len(HISTORY_HEADERS))
        self.history.setObjectName("ItemHistory")
        self.history.setHorizontalHeaderLabels(HISTORY_HEADERS)
        self.history.verticalHeader().hide()
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setAlternatingRowColors(True)
        self.history.setWordWrap(True)
        self.history.setShowGrid(False)
        header = self.history.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(3, 200)
        self.history.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history_label = QLabel("History")
        self.history_label.setStyleSheet("font-weight: 600;")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        # Enter in a field saves it (see _fill_fields); it must not close the dialog.
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.where)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addWidget(self.history_label)
        layout.addWidget(self.history, 1)
        layout.addWidget(self.buttons)
        # Open with the focus on the history, not in a field: a reader's next scan (or a stray
        # key) must not type into the notes.
        self.history.setFocus()
        self.reload()

    # -- loading -------------------------------------------------------------------------------
    @property
    def item(self) -> ItemRow | None:
        return self.page.item if self.page is not None else None

    def reload(self) -> None:
        ctx, item_id = self.ctx, self.item_id
        ctx.runner.submit(lambda: load_item_page(ctx, item_id), self._show, self._load_failed,
                          label="Loading item", key=f"item-dialog:{id(self)}", owner=self)

    def _load_failed(self, exc: BaseException) -> None:
        self.banner.show_message(error_text(exc))
        self._set_buttons()

    def _show(self, page: ItemPage) -> None:
        first = self.page is None
        self.page = page
        item = page.item
        self.setWindowTitle(f"{item.tag} — {item.model}")
        self.title.setText(f"{item.tag}  {item.model}")
        self.pill.setText(state_pill(item.state))
        self.where.setText(f"{where_text(item)}   ·   updated {local_time(item.updated_at)}")
        if first or not self._dirty:
            self._fill_fields(page)
        self._fill_history(page.history)
        self._set_buttons()

    def _fill_fields(self, page: ItemPage) -> None:
        while self.fields_form.rowCount() > 2:  # all but the notes
            self.fields_form.removeRow(0)
        self.edits.clear()
        self.errors.clear()
        values = {ident.key: ident.value for ident in page.item.identifiers}
        row = 0
        for spec in page.fields:
            edit = QLineEdit(values.get(spec.key, ""))
            edit.setObjectName(f"field_{spec.key}")
            edit.setReadOnly(not self.editable)
            edit.setMinimumWidth(260)
            edit.textEdited.connect(self._on_edited)
            edit.returnPressed.connect(self._save_if_changed)
            error = FieldError()
            self.edits[spec.key] = edit
            self.errors[spec.key] = error
            self.fields_form.insertRow(row, f"{spec.label}{' *' if spec.required else ''}", edit)
            self.fields_form.insertRow(row + 1, "", error)
            row += 2
        if not page.fields:
            self.fields_form.insertRow(0, QLabel("This model has no identifier fields."))
        self.notes.blockSignals(True)
        self.notes.setPlainText(page.item.notes)
        self.notes.blockSignals(False)
        self.notes.setReadOnly(not self.editable)
        self.notes_error.clear_message()
        self._dirty = False
        self.save_button.setEnabled(False)

    def _fill_history(self, rows: list[MovementRow]) -> None:
        self.history.setRowCount(len(rows))
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for i, row in enumerate(rows):
            cells = (QTableWidgetItem(local_time(row.at)), QTableWidgetItem(row.who or "—"),
                     QTableWidgetItem(row.description), QTableWidgetItem(row.note))
            cells[2].setToolTip(f"From: {row.from_label or '—'}\nTo: {row.to_label or '—'}")
            for cell in cells[:2]:
                cell.setForeground(grey)
            for col, cell in enumerate(cells):
                cell.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                self.history.setItem(i, col, cell)
        moves = len(rows)
        self.history_label.setText(f"History — {moves} movement{'s' if moves != 1 else ''}, newest first")

    def _set_buttons(self) -> None:
        item = self.item
        state = item.state if item is not None else None
        at_location = item is not None and item.holder_kind == HOLDER_LOCATION
        enabled = {
            self.move_button: at_location,
            self.install_button: state in (IN_STOCK, ASSIGNED),
            self.assign_button: state in (IN_STOCK, ASSIGNED, INSTALLED, FAULTY),
            self.faulty_button: state in (IN_STOCK, ASSIGNED, INSTALLED, RMA),
            self.rma_button: state in (IN_STOCK, FAULTY),
            self.return_button: state is not None and state != IN_STOCK,
            self.retire_button: state in (IN_STOCK, FAULTY, RMA),
        }
        for button, on in enabled.items():
            button.setEnabled(bool(on) and self.editable and not self._busy)
        self.save_button.setEnabled(self.editable and self._dirty and not self._busy and item is not None)

    # -- editing -------------------------------------------------------------------------------
    def has_unsaved_edits(self) -> bool:
        """Whether an identifier or the notes differ from what is saved (or a save is running).

        Compares the text, not the edit flag: a reader's scan typed into a field and put back by
        the scan listener leaves nothing unsaved."""
        item = self.item
        if item is None:
            return False
        if self._busy and self._dirty:
            return True
        saved = {ident.key: ident.value for ident in item.identifiers}
        if any(edit.text() != saved.get(key, "") for key, edit in self.edits.items()):
            return True
        return self.notes.toPlainText() != item.notes

    def show_scan_refused(self, reason: str) -> None:
        """A scan arrived that this dialog cannot act on now (unsaved edits): say so at the top."""
        self.banner.show_message(reason)

    def _on_edited(self, *_args: object) -> None:
        self._dirty = True
        self._set_buttons()

    def _save_if_changed(self) -> None:
        if self.save_button.isEnabled():
            self.save()

    def save(self) -> None:
        item = self.item
        if item is None or not self.editable:
            return
        values = {key: edit.text() for key, edit in self.edits.items()}
        notes = self.notes.toPlainText()
        for error in (*self.errors.values(), self.notes_error):
            error.clear_message()
        self.banner.clear_message()
        ctx, item_id, version = self.ctx, self.item_id, item.version
        self._busy = True
        self._set_buttons()
        ctx.runner.submit(
            lambda: service.update_item(ctx.uow(), ctx.actor, item_id, values, notes, expected_version=version),
            self._saved, self._save_failed, label="Saving item", owner=self, writes=True,
        )

    def _saved(self, row: ItemRow) -> None:
        self._busy = False
        self._dirty = False
        if self.page is not None:  # show what is saved now, before the reload brings the history
            self.page = replace(self.page, item=row)
            self._fill_fields(self.page)
        self.banner.show_message(f"Saved {row.tag}.", "info")
        self.reload()
        self.changed.emit(self.item_id)

    def _save_failed(self, exc: BaseException) -> None:
        self._busy = False
        field = getattr(exc, "field", None)
        if isinstance(exc, ValidationError) and field in self.errors:
            self.errors[field].show_message(str(exc))
            self.edits[field].setFocus()
        elif isinstance(exc, ValidationError) and field == "note":
            self.notes_error.show_message(str(exc))
        else:
            self.banner.show_message(error_text(exc))
            if isinstance(exc, (ConflictError, NotFound)):
                self._dirty = False  # show what is there now
                self.reload()
        self._set_buttons()

    # -- moves ---------------------------------------------------------------------------------
    def move(self, to: Destination, note: str = "", done_text: str = "") -> None:
        """Move the item (``service.move_item`` with the version on screen)."""
        item = self.item
        if item is None or self._busy or not self.editable:
            return
        self.banner.clear_message()
        ctx, item_id, version = self.ctx, self.item_id, item.version
        self._busy = True
        self._set_buttons()
        ctx.runner.submit(
            lambda: service.move_item(ctx.uow(), ctx.actor, item_id, to, note=note, expected_version=version),
            lambda row: self._moved(row, done_text), self._move_failed,
            label=f"Moving {item.tag}", owner=self, writes=True,
        )

    def _moved(self, row: ItemRow, done_text: str) -> None:
        self._busy = False
        self.banner.show_message(done_text or f"{row.tag}: {where_text(row).lower()}.", "info")
        self.reload()
        self.changed.emit(self.item_id)

    def _move_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.banner.show_message(error_text(exc))
        if isinstance(exc, (ItemUnavailable, ValidationError, ConflictError, NotFound)):
            self.reload()  # show where it really is now
        self._set_buttons()

    def _ask(self, dialog: MoveDialog, destination: Callable[[MoveDialog], Destination | None]) -> None:
        """Open a move dialog; when it is accepted, move to the destination it describes."""
        self.picker = dialog

        def finished(result: int) -> None:
            if self.picker is dialog:
                self.picker = None
            if result == QDialog.DialogCode.Accepted:
                to = destination(dialog)
                if to is not None:
                    self.move(to, dialog.note.text())
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    def _tag(self) -> str:
        return self.item.tag if self.item is not None else "the item"

    def _current_location(self) -> int | None:
        item = self.item
        return item.holder_id if item is not None and item.holder_kind == HOLDER_LOCATION else None

    def move_to_location(self) -> None:
        faulty = self.item is not None and self.item.state == FAULTY
        chooser = LocationChooser(self.ctx, self._current_location())
        self._ask(MoveDialog("Move to location", f"Where is {self._tag()} going?", "Move", chooser, parent=self),
                  lambda d: Destination.location(d.value(), faulty=faulty))

    def install_at_account(self) -> None:
        chooser = AccountChooser(self.ctx)
        self._ask(MoveDialog("Install at account", f"Which account's unit is {self._tag()} installed at?",
                             "Install", chooser, parent=self),
                  lambda d: Destination.account(d.value()))

    def assign_to_staff(self) -> None:
        chooser = StaffChooser(self.ctx)
        self._ask(MoveDialog("Assign to staff", f"Who takes {self._tag()}?", "Assign", chooser, parent=self),
                  lambda d: Destination.staff(d.value()))

    def mark_faulty(self) -> None:
        here = self._current_location()
        if here is not None:
            self.move(Destination.location(here, faulty=True))
            return
        chooser = LocationChooser(self.ctx)
        self._ask(MoveDialog("Mark faulty", f"{self._tag()} is faulty. Where is it kept now?", "Mark faulty",
                             chooser, note_hint="What is wrong (optional)", parent=self),
                  lambda d: Destination.location(d.value(), faulty=True))

    def send_to_vendor(self) -> None:
        self._ask(MoveDialog("Send to vendor", f"Send {self._tag()} back to the vendor (RMA)?", "Send",
                             note_hint="RMA number or reason (optional)", parent=self),
                  lambda _d: Destination.vendor())

    def return_to_stock(self) -> None:
        chooser = LocationChooser(self.ctx, self._current_location())
        self._ask(MoveDialog("Return to stock", f"Where is {self._tag()} put back?", "Return", chooser, parent=self),
                  lambda d: Destination.location(d.value()))

    def retire(self) -> None:
        self._ask(MoveDialog("Retire", f"Retire {self._tag()}? It leaves the inventory for good; its history "
                             "stays.", "Retire", note_hint="Why (optional)", parent=self),
                  lambda _d: Destination.retired())


# -- a new item ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewItemChoices:
    models: list[ModelRow]  # enabled, serialized
    locations: list[LocationRow]  # active


def load_new_item_choices(ctx: AppContext) -> NewItemChoices:
    models = [m for m in catalogue.list_models(ctx.uow(), ctx.actor, enabled_only=True) if m.serialized]
    locations = catalogue.list_locations(ctx.uow(), ctx.actor, include_inactive=False)
    return NewItemChoices(models, locations)


class NewItemDialog(QDialog):
    """A new serialized item: model, its identifiers, the location it is kept at."""

    created = Signal(object)  # ItemRow

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, model_id: int | None = None,
        identifiers: dict[str, str] | None = None, location_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("NewItemDialog")
        self.setWindowTitle("New item")
        self.setMinimumWidth(560)
        self.choices: NewItemChoices | None = None
        self._model_id = model_id
        self._values: dict[str, str] = dict(identifiers or {})
        self._location_id = location_id
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, FieldError] = {}

        self.model = QComboBox()
        self.model.setObjectName("NewItemModel")
        self.model.setMinimumContentsLength(30)
        self.model.addItem("Loading models…", None)
        self.model.currentIndexChanged.connect(self._on_model)
        self.location = QComboBox()
        self.location.setObjectName("NewItemLocation")
        self.location.setMinimumContentsLength(30)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Notes (optional)")
        self.field_errors = {k: FieldError() for k in ("model_id", "location_id", "notes", "form")}
        # One form, so the labels line up: the model's identifier rows go in after its first two.
        self.fields_form = QFormLayout()
        self.fields_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.fields_form.addRow("Model", self.model)
        self.fields_form.addRow("", self.field_errors["model_id"])
        self.fields_form.addRow("Kept at", self.location)
        self.fields_form.addRow("", self.field_errors["location_id"])
        self.fields_form.addRow("Notes", self.notes)
        self.fields_form.addRow("", self.field_errors["notes"])
        self._field_rows = 0
        self.hint = QLabel("* required")
        self.hint.setObjectName("CountLabel")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create item", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setObjectName("CreateItem")
        self.create_button.setDefault(True)
        self.create_button.setEnabled(False)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.fields_form)
        layout.addWidget(self.field_errors["form"])
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        ctx.runner.submit(lambda: load_new_item_choices(ctx), self._fill, self._failed,
                          label="Loading models", owner=self)

    def _fill(self, choices: NewItemChoices) -> None:
        self.choices = choices
        self.model.blockSignals(True)
        self.model.clear()
        for m in choices.models:
            self.model.addItem(m.full_name, m.id)
        if not choices.models:
            self.model.addItem("No serialized models yet — add one on the Catalogue tab", None)
        self.model.setCurrentIndex(max(0, self.model.findData(self._model_id)) if self._model_id else 0)
        self.model.blockSignals(False)
        self.location.clear()
        for loc in choices.locations:
            self.location.addItem(loc.path, loc.id)
        if not choices.locations:
            self.location.addItem("No locations yet — add one on the Locations tab", None)
        self.location.setCurrentIndex(max(0, self.location.findData(self._location_id)) if self._location_id else 0)
        self._on_model()

    def _failed(self, exc: BaseException) -> None:
        self.field_errors["form"].show_message(error_text(exc))

    def selected_model(self) -> ModelRow | None:
        model_id = self.model.currentData()
        if self.choices is None or model_id is None:
            return None
        return next((m for m in self.choices.models if m.id == model_id), None)

    def _on_model(self) -> None:
        """Show the chosen model's identifier fields, keeping what was typed in same-named ones."""
        self._values.update({key: edit.text() for key, edit in self.edits.items() if edit.text()})
        for _ in range(self._field_rows):
            self.fields_form.removeRow(2)
        self._field_rows = 0
        self.edits.clear()
        self.errors.clear()
        model = self.selected_model()
        first: QLineEdit | None = None

        def add(label: str, widget: QWidget) -> None:
            self.fields_form.insertRow(2 + self._field_rows, label, widget)
            self._field_rows += 1

        for spec in model.fields if model else ():
            edit = QLineEdit(self._values.get(spec.key, ""))
            edit.setObjectName(f"field_{spec.key}")
            edit.setMinimumWidth(300)
            edit.setPlaceholderText(_placeholder(spec))
            error = FieldError()
            self.edits[spec.key] = edit
            self.errors[spec.key] = error
            add(f"{spec.label}{' *' if spec.required else ''}", edit)
            add("", error)
            if first is None and not edit.text():
                first = edit
        if model is not None and not model.fields:
            add("", QLabel("This model has no identifier fields."))
        self.create_button.setEnabled(model is not None and self.location.currentData() is not None)
        # A row added to a shown form is only shown later (a queued call), and a hidden field
        # does not take the focus (now, or from Enter in the field before it): show them now.
        for edit in self.edits.values():
            edit.show()
        if first is not None:
            first.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in an identifier field goes on to the next empty field after it, so a reader's
        Enter after a scan never creates the item while a later field is still empty. Enter
        with no empty field after it (the last field, the notes, the Create button) creates."""
        if _is_enter(event):
            following = self.next_empty_field(self.focusWidget())
            if following is not None:
                following.setFocus()
                event.accept()
                return
        super().keyPressEvent(event)

    def next_empty_field(self, widget: QWidget | None) -> QLineEdit | None:
        """The first empty identifier field after ``widget``, if ``widget`` is one of them."""
        fields = list(self.edits.values())
        if widget not in fields:
            return None
        return next((edit for edit in fields[fields.index(widget) + 1:] if not edit.text().strip()), None)

    def collect(self) -> service.ItemInput:
        return service.ItemInput(
            model_id=self.model.currentData(),
            identifiers={key: edit.text() for key, edit in self.edits.items()},
            location_id=self.location.currentData(),
            notes=self.notes.text(),
        )

    def create(self) -> None:
        if self.model.currentData() is None:
            self.field_errors["model_id"].show_message("Choose a model.")
            return
        for error in (*self.errors.values(), *self.field_errors.values()):
            error.clear_message()
        data = self.collect()
        ctx = self.ctx
        self.create_button.setEnabled(False)
        ctx.runner.submit(lambda: service.create_item(ctx.uow(), ctx.actor, data), self._created, self._create_failed,
                          label="Creating item", owner=self, writes=True)

    def _created(self, row: ItemRow) -> None:
        self.created.emit(row)
        self.accept()

    def _create_failed(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        field = getattr(exc, "field", None) or "form"
        if field in self.errors:
            self.errors[field].show_message(str(exc))
            self.edits[field].setFocus()
        else:
            self.field_errors.get(field, self.field_errors["form"]).show_message(error_text(exc))


def _placeholder(spec: FieldSpec) -> str:
    return {
        "mac": "12 hex digits, any separators",
        "imei": "15 digits",
        "imsi": "6 to 15 digits",
    }.get(spec.kind, f"format {spec.pattern}" if spec.pattern else "")
