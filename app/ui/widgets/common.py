"""Small shared widgets: empty states, inline field errors, a debounced search box."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget


class EmptyState(QWidget):
    """A calm, honest message where there is nothing to show yet. No buttons that do nothing."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.title = QLabel(title)
        self.title.setObjectName("EmptyStateTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(text)
        self.text.setObjectName("EmptyStateText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setMaximumWidth(560)
        # Centred by stretches rather than by an alignment flag: a word-wrapped label placed with
        # an alignment gets its one-line width and is cut off; in a row it gets the height its
        # wrapped lines need.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.text, 100)
        row.addStretch(1)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addStretch(3)

    def set_message(self, title: str, text: str) -> None:
        self.title.setText(title)
        self.text.setText(text)


class FieldError(QLabel):
    """The red line under a field that says what is wrong with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FieldError")
        self.setWordWrap(True)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class SearchBox(QLineEdit):
    """Emits ``search`` a short moment after typing pauses; Escape clears."""

    search = Signal(str)

    def __init__(self, placeholder: str, delay_ms: int = 120, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(lambda: self.search.emit(self.text()))
        self.textChanged.connect(lambda _t: self._timer.start())
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.clear, context=Qt.ShortcutContext.WidgetShortcut)

    def flush(self) -> None:
        """Search now (Enter, tests)."""
        self._timer.stop()
        self.search.emit(self.text())
