"""Hear a USB barcode reader anywhere in one part of the window.

A reader is a keyboard that types very fast (a few milliseconds between keys) and ends with
Enter (some are set up to end with Tab). ``ScanListener`` watches the key presses aimed at a
scope widget and its children and tells a scan from a person typing by the gaps between keys.

What it does with the keys, by where the focus is:

- **A text input has focus** (an editable QLineEdit, QPlainTextEdit, QTextEdit, spin box or
  editable combo box): keys go through, so typing works as always. When a fast burst ends with
  Enter or Tab, that key is consumed (no ``returnPressed``, no focus change), the field is put
  back as it was before the burst (text, cursor and selection), and ``scanned`` is emitted. A
  slow sequence is typing: its Enter goes through and nothing is emitted.
- **Nothing to type into** (a table, a button, nothing focused at all): printable keys are held
  back while the listener decides. A scan is consumed completely. Keys that turn out to be a
  person's are handed back to the widget they were aimed at (a press and a release each) as soon
  as that is clear: at the next slow key, at a key that cannot be part of a scan, at an Enter
  that does not complete one, or after ``2 × max_gap`` of quiet. Type-ahead search in a table,
  Space on a focused button and plain-key shortcuts keep working, about 0.1 s late. (Plain-key
  shortcuts are held back by accepting their ShortcutOverride, so a letter in a code never fires
  one. They do fire when the key is handed back, although that is a ``sendEvent`` and not a key
  from the window system: for a key press that is not spontaneous ``QApplication.notify`` first
  sends a ShortcutOverride and tries the shortcut map itself — the listener lets that one
  through. test_scan_listener's one-letter shortcut test holds this.)

Rules for a scan: at least ``min_length`` printable characters (after stripping spaces), every
gap between them at most ``max_gap``, then Enter/Return/keypad Enter/Tab within ``2 × max_gap``.
Shift (and the keypad modifier) are fine — readers send capitals with Shift. Ctrl/Alt/Meta
combinations, auto-repeat and non-printable keys (arrows, Backspace, Escape…) end the burst and
go through untouched. The gaps are measured with the injected ``clock`` when each key press
arrives, never with ``QKeyEvent.timestamp()``, so tests can drive it with a fake clock.

It only listens while it is enabled, the scope is visible (so a listener on a hidden tab or
stacked page does nothing) and the scope's window is the active window (so an open dialog takes
the keys). ``isActiveWindow()`` is reliable on the offscreen platform too: a shown window is
activated. A key counts as aimed at the scope when its target is the scope or a descendant, or
when nothing in the scope's window has focus and the key went to the window itself.

Not covered: while a QCompleter popup is open the popup takes the keys (QCompleter forwards them
to its line edit without passing the application filter), so a scan is typed into the field.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocumentFragment
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_KEY_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride})
_MODIFIER_KEYS = frozenset(
    int(k)
    for k in (
        Qt.Key.Key_Shift,
        Qt.Key.Key_Control,
        Qt.Key.Key_Alt,
        Qt.Key.Key_AltGr,
        Qt.Key.Key_Meta,
        Qt.Key.Key_Super_L,
        Qt.Key.Key_Super_R,
        Qt.Key.Key_Hyper_L,
        Qt.Key.Key_Hyper_R,
        Qt.Key.Key_CapsLock,
        Qt.Key.Key_NumLock,
    )
)
_TERMINATORS = frozenset(int(k) for k in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab))
_M = Qt.KeyboardModifier
_COMBO = _M.ControlModifier | _M.AltModifier | _M.MetaModifier  # Shift and keypad are fine


class _Kind(Enum):
    MODIFIER = auto()  # Shift, Ctrl… pressed on its own: not a key of the code, ignored
    PRINTABLE = auto()
    TERMINATOR = auto()
    OTHER = auto()  # ends a burst and goes through


def _kind(event: QKeyEvent) -> _Kind:
    key = event.key()
    if key in _MODIFIER_KEYS:
        return _Kind.MODIFIER
    if event.isAutoRepeat() or event.modifiers() & _COMBO:
        return _Kind.OTHER
    if key in _TERMINATORS:
        return _Kind.TERMINATOR
    text = event.text()
    return _Kind.PRINTABLE if text and text.isprintable() else _Kind.OTHER


def _editor(widget: QWidget) -> QLineEdit | QPlainTextEdit | QTextEdit | None:
    """The editable text field behind a focused widget, or None if there is nothing to type into."""
    if isinstance(widget, QLineEdit):
        return None if widget.isReadOnly() else widget
    if isinstance(widget, (QPlainTextEdit, QTextEdit)):
        return None if widget.isReadOnly() else widget
    if isinstance(widget, QAbstractSpinBox):
        return None if widget.isReadOnly() else widget.findChild(QLineEdit)
    if isinstance(widget, QComboBox) and widget.isEditable():
        return widget.lineEdit()
    return None


@dataclass(frozen=True)
class _LineState:
    """A line edit as it was before a burst; restoring it drops whatever the burst typed."""

    edit: QLineEdit
    text: str
    cursor: int
    selection_start: int
    selection_length: int

    @classmethod
    def take(cls, edit: QLineEdit) -> _LineState:
        return cls(edit, edit.text(), edit.cursorPosition(), edit.selectionStart(), edit.selectionLength())

    def restore(self, typed: int) -> None:
        del typed  # the whole line is put back
        if not shiboken6.isValid(self.edit):
            return
        self.edit.setText(self.text)
        if self.selection_length > 0:
            start, length = self.selection_start, self.selection_length
            if self.cursor == start:  # selected backwards: keep the cursor where it was
                self.edit.setSelection(start + length, -length)
            else:
                self.edit.setSelection(start, length)
        else:
            self.edit.setCursorPosition(self.cursor)


@dataclass(frozen=True)
class _DocumentState:
    """A multi-line editor before a burst: only the burst's characters are taken out again, so
    the rest of the document keeps its formatting and the undo history stays usable."""

    edit: QPlainTextEdit | QTextEdit
    anchor: int
    position: int
    selection: QTextDocumentFragment | None

    @classmethod
    def take(cls, edit: QPlainTextEdit | QTextEdit) -> _DocumentState:
        cursor = edit.textCursor()
        selection = cursor.selection() if cursor.hasSelection() else None
        return cls(edit, cursor.anchor(), cursor.position(), selection)

    def restore(self, typed: int) -> None:
        if not shiboken6.isValid(self.edit):
            return
        start = min(self.anchor, self.position)
        end = self.edit.textCursor().position()
        if end - start != typed:  # something else edited the document meanwhile: leave it be
            return
        cursor = QTextCursor(self.edit.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        if self.selection is not None:
            cursor.insertFragment(self.selection)
        else:
            cursor.removeSelectedText()
        cursor.setPosition(self.anchor)
        cursor.setPosition(self.position, QTextCursor.MoveMode.KeepAnchor)
        self.edit.setTextCursor(cursor)


def _field_state(widget: QWidget) -> _LineState | _DocumentState | None:
    edit = _editor(widget)
    if isinstance(edit, QLineEdit):
        return _LineState.take(edit)
    if edit is not None:
        return _DocumentState.take(edit)
    return None


@dataclass(frozen=True)
class _HeldKey:
    key: int
    modifiers: Qt.KeyboardModifier
    text: str


class ScanListener(QObject):
    """Emits ``scanned(code)`` when a barcode reader types a code into ``scope`` (see module doc).

    ``parent`` defaults to ``scope``, so the listener lives and dies with it; when the scope is
    destroyed the listener takes itself off the application. ``stop()`` does that for good.
    """

    scanned = Signal(str)

    def __init__(
        self,
        scope: QWidget,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_length: int = 4,
        max_gap: float = 0.05,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else scope)
        app = QApplication.instance()
        if app is None:
            raise RuntimeError("ScanListener needs a QApplication")
        self._app = app
        self._scope: QWidget | None = scope
        self._clock = clock
        self._min_length = min_length
        self._max_gap = max_gap
        self._end_gap = 2 * max_gap  # a reader may pause a little longer before its Enter
        self._enabled = True
        self._stopped = False
        self._last_code: str | None = None
        self._replaying = False
        # The burst being typed: its characters, the widget they go to, the clock at the last
        # one, and either the field as it was before (text input) or the keys held back.
        self._chars: list[str] = []
        self._target: QWidget | None = None
        self._last_at = 0.0
        self._field: _LineState | _DocumentState | None = None
        self._held: list[_HeldKey] = []
        self._quiet = QTimer(self)
        self._quiet.setSingleShot(True)
        self._quiet.setInterval(max(1, round(self._end_gap * 1000)))
        self._quiet.timeout.connect(self._end_burst)
        scope.destroyed.connect(self._scope_destroyed)
        app.installEventFilter(self)

    # -- public ---------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled and not self._stopped

    def set_enabled(self, enabled: bool) -> None:
        if not enabled:
            self._end_burst()
        self._enabled = enabled

    @property
    def last_code(self) -> str | None:
        """The last code scanned, or None before the first scan."""
        return self._last_code

    def stop(self) -> None:
        """Stop listening for good (held keys are handed back). Safe to call more than once."""
        if self._stopped:
            return
        self._end_burst()
        self._stopped = True
        self._quiet.stop()
        if shiboken6.isValid(self._app):
            self._app.removeEventFilter(self)

    # -- the filter -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        etype = event.type()
        if etype not in _KEY_EVENTS or self._replaying:  # releases always go through
            return False
        if not isinstance(watched, QWidget) or not self._listening() or not self._aimed_at_scope(watched):
            return False
        if etype == QEvent.Type.ShortcutOverride:
            return self._shortcut_override(watched, event)  # type: ignore[arg-type]
        return self._key_press(watched, event)  # type: ignore[arg-type]

    def _listening(self) -> bool:
        scope = self._scope
        return (
            self._enabled
            and not self._stopped
            and scope is not None
            and shiboken6.isValid(scope)
            and scope.isVisible()
            and scope.window().isActiveWindow()
        )

    def _aimed_at_scope(self, widget: QWidget) -> bool:
        focus = QApplication.focusWidget()
        if focus is not None and widget is not focus and widget.isAncestorOf(focus):
            return False  # the focus widget ignored the key and Qt passes it up: seen already
        scope = self._scope
        assert scope is not None
        if widget is scope or scope.isAncestorOf(widget):
            return True
        # Nothing in the window has focus, so the key went to the window itself.
        return widget is scope.window() and widget.focusWidget() is None

    def _shortcut_override(self, widget: QWidget, event: QKeyEvent) -> bool:
        kind = _kind(event)
        if kind is _Kind.OTHER:  # a Ctrl+F that fires a shortcut never arrives as a key press
            self._end_burst()
            return False
        plain_key_on_a_non_field = kind is _Kind.PRINTABLE and _editor(widget) is None
        if plain_key_on_a_non_field or (kind is _Kind.TERMINATOR and self._completes(widget, self._clock())):
            event.accept()  # deliver it as a key press (to us) rather than fire a shortcut
            return True
        return False

    def _key_press(self, widget: QWidget, event: QKeyEvent) -> bool:
        kind = _kind(event)
        if kind is _Kind.MODIFIER:
            return False
        now = self._clock()
        if kind is _Kind.TERMINATOR:
            if self._completes(widget, now):
                self._finish_scan()
                return True
            self._end_burst()
            return False
        if kind is _Kind.OTHER:
            self._end_burst()
            return False
        if self._chars and (widget is not self._target or now - self._last_at > self._max_gap):
            self._end_burst()
        if not self._chars:
            self._target = widget
            self._field = _field_state(widget)
        self._chars.append(event.text())
        self._last_at = now
        if self._field is not None:
            return False  # typing into a field: let it through
        self._held.append(_HeldKey(event.key(), event.modifiers(), event.text()))
        self._quiet.start()
        return True

    def _completes(self, widget: QWidget, now: float) -> bool:
        return (
            bool(self._chars)
            and widget is self._target
            and now - self._last_at <= self._end_gap
            and len("".join(self._chars).strip()) >= self._min_length
        )

    def _finish_scan(self) -> None:
        code = "".join(self._chars).strip()
        typed = sum(len(c) for c in self._chars)
        field = self._field
        self._reset()  # held keys were the code: drop them
        if field is not None:
            field.restore(typed)
        self._last_code = code
        self.scanned.emit(code)

    def _end_burst(self) -> None:
        """The burst is not a scan: hand held keys back to their widget and start afresh."""
        target, held = self._target, self._held
        self._reset()
        if not held or target is None or not shiboken6.isValid(target):
            return
        self._replaying = True
        try:
            for key in held:
                for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(target, QKeyEvent(etype, key.key, key.modifiers, key.text))
        finally:
            self._replaying = False

    def _reset(self) -> None:
        self._quiet.stop()
        self._chars = []
        self._held = []
        self._target = None
        self._field = None

    def _scope_destroyed(self) -> None:
        self._scope = None
        if shiboken6.isValid(self._quiet):
            self._reset()
        self._stopped = True
        if shiboken6.isValid(self._app):
            self._app.removeEventFilter(self)
