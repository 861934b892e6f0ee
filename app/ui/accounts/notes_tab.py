"""The account's Notes tab: notes and logged calls in one timeline, pinned notes first.

    tab = NotesTab(ctx)
    tab.load(account_id)          # again whenever another account is shown
    tab.changed.connect(...)      # a note was added or (un)pinned, or a call logged

Writing a note: type in the box, Ctrl+Enter (or "Add note") saves; "Pin" keeps it at the top
and in the account header. "Log call…" records a call with one of the account's contacts.
Every database call runs on the task runner; results for an account no longer shown are dropped.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QStackedLayout,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.accounts import notes
from app.accounts.notes import CallRow, ContactChoice, NoteRow, TimelineRow
from app.core.errors import ValidationError
from app.core.permissions import Permission
from app.ui.context import AppContext
from app.ui.widgets.common import EmptyState, FieldError

RowRole = Qt.ItemDataRole.UserRole + 1

ACCENT_NOTE = QColor("#90a4ae")
ACCENT_PINNED = QColor("#e69500")
ACCENT_CALL = QColor("#43a047")


def when_text(row: TimelineRow) -> str:
    return row.when.astimezone().strftime("%Y-%m-%d %H:%M")


def heading(row: TimelineRow) -> str:
    """The small line above a note or call: what, with whom, how long, who wrote it, when."""
    if row.kind == "call":
        arrow = "↙" if row.direction == "inbound" else "↗"
        what = f"{arrow} {row.direction.capitalize()} call"
        if row.contact:
            what += f" with {row.contact}"
        if row.duration:
            what += f" · {notes.format_duration(row.duration)}"
    else:
        what = "Pinned note" if row.pinned else "Note"
    return " · ".join(p for p in (what, row.who, when_text(row)) if p)


class TimelineModel(QAbstractListModel):
    """Notes and calls, pinned notes first, then newest first."""

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._rows: list[TimelineRow] = []

    def set_rows(self, rows: list[TimelineRow]) -> None:
        self.beginResetModel()
        # Sorting is stable: within each part the service's newest-first order stays.
        self._rows = sorted(rows, key=lambda r: not r.pinned)
        self.endResetModel()

    def row(self, index: int) -> TimelineRow | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def rows(self) -> list[TimelineRow]:
        return list(self._rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN201
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return heading(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{heading(row)}. {row.text}"
        if role == RowRole:
            return row
        return None


class TimelineDelegate(QStyledItemDelegate):
    """Each entry as a card: an accent bar (amber pinned, grey note, green call), a small
    heading line, and the text wrapped to the width of the list."""

    PAD_X, PAD_Y, GAP, SPACING, BAR = 12, 8, 4, 6, 4

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        body = QFont(option.font)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, body.pointSizeF() * 0.9))
        return small, body

    def _item_width(self, option: QStyleOptionViewItem) -> int:
        view = self.parent()
        if isinstance(view, QAbstractItemView) and view.viewport().width() > 0:
            return view.viewport().width()
        return max(200, option.rect.width())

    def _body_width(self, item_width: int) -> int:
        """The wrapping width of the text in an item this wide (the same in sizeHint and paint)."""
        return max(80, item_width - 3 - 2 * self.PAD_X - self.BAR)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        row: TimelineRow | None = index.data(RowRole)
        if row is None:
            return super().sizeHint(option, index)
        small, body = self._fonts(option)
        item_width = self._item_width(option)
        body_h = QFontMetrics(body).boundingRect(QRect(0, 0, self._body_width(item_width), 100000),
                                                 Qt.TextFlag.TextWordWrap, row.text).height()
        height = self.PAD_Y * 2 + QFontMetrics(small).height() + self.GAP + body_h + self.SPACING
        return QSize(item_width, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row: TimelineRow | None = index.data(RowRole)
        if row is None:
            super().paint(painter, option, index)
            return
        small, body = self._fonts(option)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = option.rect.adjusted(1, 1, -1, -self.SPACING)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        path = QPainterPath()
        path.addRoundedRect(card, 6, 6)
        painter.fillPath(path, QColor("#eaf2fd") if selected else QColor("#fffaf0") if row.pinned else QColor("white"))
        painter.setPen(QPen(QColor("#4f9cf9") if selected else QColor("#dfe4ea"), 1))
        painter.drawPath(path)
        accent = ACCENT_CALL if row.kind == "call" else ACCENT_PINNED if row.pinned else ACCENT_NOTE
        bar = QPainterPath()
        bar.addRoundedRect(card.x(), card.y(), self.BAR + 3, card.height(), 3, 3)
        clip = QPainterPath()
        clip.addRect(card.x(), card.y(), self.BAR, card.height())
        painter.fillPath(bar.intersected(clip), accent)

        x = card.x() + self.BAR + self.PAD_X
        width = self._body_width(option.rect.width())
        y = card.y() + self.PAD_Y
        small_h = QFontMetrics(small).height()
        if row.pinned:
            self._pin(painter, QRect(x, y, small_h, small_h))
            x_text, w_text = x + small_h + 4, width - small_h - 4
        else:
            x_text, w_text = x, width
        painter.setFont(small)
        painter.setPen(QColor("#5b6673"))
        head = QFontMetrics(small).elidedText(heading(row), Qt.TextElideMode.ElideRight, w_text)
        painter.drawText(QRect(x_text, y, w_text, small_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, head)
        painter.setFont(body)
        painter.setPen(QColor("#1f2a37"))
        painter.drawText(QRect(x, y + small_h + self.GAP, width, card.bottom() - y),
                         Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, row.text)
        painter.restore()

    @staticmethod
    def _pin(painter: QPainter, box: QRect) -> None:
        """A small push-pin (drawn, so it shows without an emoji font)."""
        s = box.height()
        painter.save()
        painter.translate(box.x(), box.y())
        painter.setPen(QPen(QColor("#8d6e00"), max(1.2, s / 10)))
        painter.drawLine(int(s * 0.45), int(s * 0.55), int(s * 0.12), int(s * 0.92))  # the needle
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ACCENT_PINNED)
        painter.drawEllipse(int(s * 0.38), int(s * 0.08), int(s * 0.5), int(s * 0.5))  # the head
        painter.restore()


class NoteEditor(QPlainTextEdit):
    """A multi-line box where Ctrl+Enter submits instead of adding a line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class CallDialog(QDialog):
    """Log a call: direction, the contact, how long, what it was about."""

    logged = Signal(object)  # CallRow

    def __init__(self, ctx: AppContext, account_id: int, contacts: list[ContactChoice],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.account_id = ctx, account_id
        self.setObjectName("CallDialog")
        self.setWindowTitle("Log a call")
        self.setMinimumWidth(460)
        self.inbound = QRadioButton("Inbound — they called us")
        self.outbound = QRadioButton("Outbound — we called them")
        self.inbound.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.inbound)
        group.addButton(self.outbound)
        direction = QVBoxLayout()
        direction.setSpacing(2)
        direction.addWidget(self.inbound)
        direction.addWidget(self.outbound)
        self.contact = QComboBox()
        self.contact.addItem("— nobody in particular —", None)
        for c in contacts:
            self.contact.addItem(f"{c.name} · {c.phone}" if c.phone else c.name, c.id)
        if contacts:
            self.contact.setCurrentIndex(1)
        self.duration = QLineEdit()
        self.duration.setPlaceholderText("minutes (12) or mm:ss (4:05)")
        self.duration.setMaximumWidth(220)
        self.summary = QPlainTextEdit()
        self.summary.setPlaceholderText("What was it about? What was agreed?")
        self.summary.setMinimumHeight(90)
        self.errors = {key: FieldError() for key in ("direction", "contact", "duration", "summary")}
        self.form_error = FieldError()

        form = QFormLayout()
        form.addRow("Direction", direction)
        form.addRow("", self.errors["direction"])
        form.addRow("Contact", self.contact)
        form.addRow("", self.errors["contact"])
        form.addRow("Duration", self.duration)
        form.addRow("", self.errors["duration"])
        form.addRow("Summary", self.summary)
        form.addRow("", self.errors["summary"])
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Log call")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

    def _clear_errors(self) -> None:
        for error in [*self.errors.values(), self.form_error]:
            error.clear_message()

    def save(self) -> None:
        self._clear_errors()
        try:
            seconds = notes.parse_duration(self.duration.text())
        except ValidationError as exc:
            self._show_error(exc)
            return
        ctx, account_id = self.ctx, self.account_id
        direction = "inbound" if self.inbound.isChecked() else "outbound"
        contact_id, summary = self.contact.currentData(), self.summary.toPlainText()
        self.save_button.setEnabled(False)
        ctx.runner.submit(
            lambda: notes.add_call(ctx.uow(), ctx.actor, account_id, direction, contact_id, seconds, summary),
            self._saved, self._failed, label="Logging the call", writes=True, owner=self,
        )

    def _saved(self, call: CallRow) -> None:
        self.save_button.setEnabled(True)
        self.logged.emit(call)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        field = getattr(exc, "field", None)
        target = self.errors.get(field or "", self.form_error)
        target.show_message(str(exc))
        focus = {"duration": self.duration, "summary": self.summary, "contact": self.contact}.get(field or "")
        if focus is not None:
            focus.setFocus()


class NotesTab(QWidget):
    changed = Signal()  # a note was added or (un)pinned, or a call was logged

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("NotesTab")
        self.account_id: int | None = None
        self.contacts: list[ContactChoice] = []
        self.call_dialog: CallDialog | None = None
        self.editable = ctx.actor.can(Permission.ACCOUNTS_EDIT) and not ctx.read_only

        # -- writing a note
        self.editor = NoteEditor()
        self.editor.setObjectName("NoteEditor")
        self.editor.setPlaceholderText("Add a note about this account…   (Ctrl+Enter saves)")
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(74)
        self.editor.submitted.connect(self.add_note)
        self.pin = QCheckBox("Pin to the account header")
        self.note_error = FieldError()
        self.add_button = QPushButton("Add note")
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.add_note)
        self.call_button = QPushButton("Log call…")
        self.call_button.clicked.connect(self.log_call)
        self.composer = QFrame()
        self.composer.setObjectName("NoteComposer")
        composer_buttons = QHBoxLayout()
        composer_buttons.addWidget(self.pin)
        composer_buttons.addStretch(1)
        composer_buttons.addWidget(self.call_button)
        composer_buttons.addWidget(self.add_button)
        composer = QVBoxLayout(self.composer)
        composer.setContentsMargins(0, 0, 0, 0)
        composer.setSpacing(4)
        composer.addWidget(self.editor)
        composer.addWidget(self.note_error)
        composer.addLayout(composer_buttons)

        # -- the timeline
        self.count_label = QLabel("")
        self.count_label.setObjectName("CountLabel")
        self.pin_button = QPushButton("Pin")
        self.pin_button.setToolTip("Pin the selected note to the top and to the account header, or unpin it")
        self.pin_button.clicked.connect(self.toggle_pin)
        self.pin_button.setEnabled(False)
        bar = QHBoxLayout()
        title = QLabel("Notes and calls")
        title.setStyleSheet("font-weight: 600;")
        bar.addWidget(title)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.pin_button)

        self.model = TimelineModel(self)
        self.list = QListView()
        self.list.setObjectName("Timeline")
        self.list.setModel(self.model)
        self.list.setItemDelegate(TimelineDelegate(self.list))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setUniformItemSizes(False)
        self.list.setWordWrap(True)
        self.list.setSpacing(0)
        self.list.setStyleSheet("QListView#Timeline { background: transparent; border: none; }")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.selectionModel().currentChanged.connect(lambda *_: self._sync_pin_button())
        self.list_error = FieldError()

        self.empty = EmptyState("No notes or calls yet",
                                "Notes and logged calls about this account appear here, newest first. "
                                "Pinned notes stay on top and show in the account header.")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.composer)
        if not self.editable:
            self.composer.hide()
            self.pin_button.hide()
            reason = ctx.db.read_only_reason or f"{ctx.actor.role} users can read notes but not add them."
            self.read_only_label = QLabel(reason)
            self.read_only_label.setObjectName("ReadOnlyNote")
            self.read_only_label.setStyleSheet("color: #5b6673;")
            self.read_only_label.setWordWrap(True)
            layout.addWidget(self.read_only_label)
        layout.addSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.list_error)
        layout.addLayout(self.stack, 1)
        self._set_enabled(False)

    # -- loading -------------------------------------------------------------------------------
    def load(self, account_id: int) -> None:
        """Show this account's notes and calls (replacing whatever was shown)."""
        if account_id != self.account_id:
            self.model.set_rows([])
            self.contacts = []
            self.editor.clear()
            self.pin.setChecked(False)
            self.note_error.clear_message()
            self.count_label.setText("Loading…")
        self.account_id = account_id
        self.reload()

    def reload(self) -> None:
        if self.account_id is None:
            return
        ctx, account_id = self.ctx, self.account_id

        def fetch() -> tuple[int, list[TimelineRow], list[ContactChoice]]:
            return (account_id, notes.timeline(ctx.uow(), ctx.actor, account_id),
                    notes.call_contacts(ctx.uow(), ctx.actor, account_id))

        ctx.runner.submit(fetch, self._fill, self._load_failed, key=f"notes-tab:{id(self)}", owner=self)

    def _fill(self, loaded: tuple[int, list[TimelineRow], list[ContactChoice]]) -> None:
        account_id, rows, contacts = loaded
        if account_id != self.account_id:
            return
        selected = self.selected()
        self.contacts = contacts
        self.list_error.clear_message()
        self.model.set_rows(rows)
        self._set_enabled(True)
        n_notes = sum(1 for r in rows if r.kind == "note")
        n_calls = len(rows) - n_notes
        parts = [f"{n_notes} note{'s' if n_notes != 1 else ''}", f"{n_calls} call{'s' if n_calls != 1 else ''}"]
        self.count_label.setText(" · ".join(parts) if rows else "")
        self.stack.setCurrentWidget(self.list if rows else self.empty)
        if selected is not None:
            for i, row in enumerate(self.model.rows()):
                if (row.kind, row.id) == (selected.kind, selected.id):
                    self.list.setCurrentIndex(self.model.index(i))
                    break
        self._sync_pin_button()

    def _load_failed(self, exc: BaseException) -> None:
        self.count_label.setText("")
        if self.model.rowCount():
            self.list_error.show_message(f"Could not refresh: {exc}")
            return
        self.empty.set_message("The notes could not be loaded", str(exc))
        self.stack.setCurrentWidget(self.empty)

    def _set_enabled(self, enabled: bool) -> None:
        for w in (self.editor, self.pin, self.add_button, self.call_button):
            w.setEnabled(enabled)

    # -- selection and pinning -----------------------------------------------------------------
    def selected(self) -> TimelineRow | None:
        index = self.list.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _sync_pin_button(self) -> None:
        row = self.selected()
        is_note = row is not None and row.kind == "note"
        self.pin_button.setVisible(self.editable and self.model.rowCount() > 0)
        self.pin_button.setEnabled(is_note and self.editable)
        self.pin_button.setText("Unpin" if is_note and row.pinned else "Pin")

    def _context_menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        row = self.model.row(index.row()) if index.isValid() else None
        if row is None or row.kind != "note" or not self.editable:
            return
        self.list.setCurrentIndex(index)
        menu = QMenu(self)
        action = menu.addAction("Unpin note" if row.pinned else "Pin note")
        action.triggered.connect(self.toggle_pin)
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def toggle_pin(self) -> None:
        row = self.selected()
        if row is None or row.kind != "note":
            return
        ctx = self.ctx
        self.pin_button.setEnabled(False)
        self.list_error.clear_message()
        ctx.runner.submit(lambda: notes.set_pinned(ctx.uow(), ctx.actor, row.id, not row.pinned),
                          self._pinned, self._pin_failed, label="Pinning the note", writes=True, owner=self)

    def _pinned(self, _note: NoteRow) -> None:
        self.reload()
        self.changed.emit()

    def _pin_failed(self, exc: BaseException) -> None:
        self._sync_pin_button()
        self.list_error.show_message(str(exc))

    # -- adding --------------------------------------------------------------------------------
    def add_note(self) -> None:
        if self.account_id is None or not self.editable or not self.add_button.isEnabled():
            return
        ctx, account_id = self.ctx, self.account_id
        body, pinned = self.editor.toPlainText(), self.pin.isChecked()
        self.note_error.clear_message()
        self.add_button.setEnabled(False)
        ctx.runner.submit(lambda: notes.add_note(ctx.uow(), ctx.actor, account_id, body, pinned),
                          self._added, self._add_failed, label="Saving the note", writes=True, owner=self)

    def _added(self, note: NoteRow) -> None:
        self.add_button.setEnabled(True)
        if note.account_id == self.account_id:
            self.editor.clear()
            self.pin.setChecked(False)
            self.reload()
        self.changed.emit()

    def _add_failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.note_error.show_message(str(exc))
        self.editor.setFocus()

    def log_call(self) -> None:
        if self.account_id is None or not self.editable:
            return
        self.call_dialog = CallDialog(self.ctx, self.account_id, self.contacts, self)
        self.call_dialog.logged.connect(self._call_logged)
        self.call_dialog.open()

    def _call_logged(self, call: CallRow) -> None:
        if call.account_id == self.account_id:
            self.reload()
        self.changed.emit()
