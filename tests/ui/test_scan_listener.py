"""The barcode-reader listener, driven by a fake clock: a reader types a key every 5 ms, a person
every 150 ms. Keys go where real ones go — to the focused widget, or to the window when nothing
has focus — as a press and a release, through QApplication.sendEvent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.scan import ScanListener

READER_MS = 5
PERSON_MS = 150


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000


class Keyboard:
    """Presses keys at the focused widget (or ``at``), moving the fake clock before each one."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.at: QWidget | None = None

    def _send(self, etype: QEvent.Type, key: int, modifiers: Qt.KeyboardModifier, text: str) -> None:
        target = self.at or QApplication.focusWidget() or QApplication.activeWindow()
        assert target is not None, "no widget to type at"
        QApplication.sendEvent(target, QKeyEvent(etype, key, modifiers, text))

    def key(
        self, key: Qt.Key, text: str = "", modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        *, after_ms: float = READER_MS,
    ) -> None:
        self.clock.advance(after_ms)
        self._send(QEvent.Type.KeyPress, int(key), modifiers, text)
        self._send(QEvent.Type.KeyRelease, int(key), modifiers, text)

    def type(self, text: str, *, ms_per_key: float) -> None:
        shift = Qt.KeyboardModifier.ShiftModifier
        for ch in text:
            if ch.isupper():  # as readers and people send capitals: Shift down, key, Shift up
                self._send(QEvent.Type.KeyPress, int(Qt.Key.Key_Shift), shift, "")
                self.key(Qt.Key(ord(ch)), ch, shift, after_ms=ms_per_key)
                self._send(QEvent.Type.KeyRelease, int(Qt.Key.Key_Shift), Qt.KeyboardModifier.NoModifier, "")
            else:
                self.key(Qt.Key(ord(ch.upper())), ch, after_ms=ms_per_key)

    def enter(self, *, after_ms: float = READER_MS) -> None:
        self.key(Qt.Key.Key_Return, "\r", after_ms=after_ms)

    def scan(self, code: str, *, ms_per_key: float = READER_MS, end: Qt.Key = Qt.Key.Key_Return) -> None:
        self.type(code, ms_per_key=ms_per_key)
        self.key(end, "\r" if end == Qt.Key.Key_Return else "\t", after_ms=ms_per_key)


@dataclass
class Screen:
    window: QWidget
    sidebar: QListWidget  # outside the scope, like the main window's navigation
    scope: QWidget
    search: QLineEdit
    table: QTableView
    notes: QPlainTextEdit
    button: QPushButton
    listener: ScanListener
    codes: list[str]
    returns: list[str]


def _show(qtbot, window: QWidget) -> None:  # noqa: ANN001
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def _fruit_table() -> QTableView:
    table = QTableView()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # read-only, as our lists are
    model = QStandardItemModel(table)
    for name in ("apple", "banana", "cherry"):
        model.appendRow(QStandardItem(name))
    table.setModel(model)
    table.setCurrentIndex(model.index(0, 0))
    return table


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def keyboard(clock: FakeClock) -> Keyboard:
    return Keyboard(clock)


@pytest.fixture()
def screen(qtbot, clock: FakeClock) -> Screen:  # noqa: ANN001
    window = QWidget()
    window.resize(700, 500)
    row = QHBoxLayout(window)
    sidebar = QListWidget()
    sidebar.addItems(["Accounts", "Inventory", "Billing"])
    scope = QWidget()
    column = QVBoxLayout(scope)
    search = QLineEdit()
    table = _fruit_table()
    notes = QPlainTextEdit()
    button = QPushButton("Receive")
    for widget in (search, table, notes, button):
        column.addWidget(widget)
    row.addWidget(sidebar)
    row.addWidget(scope, 1)
    _show(qtbot, window)
    listener = ScanListener(scope, clock=clock)
    codes: list[str] = []
    returns: list[str] = []
    listener.scanned.connect(codes.append)
    search.returnPressed.connect(lambda: returns.append(search.text()))
    table.setFocus()
    assert QApplication.focusWidget() is table
    return Screen(window, sidebar, scope, search, table, notes, button, listener, codes, returns)


def test_a_scan_at_reader_speed_with_no_field_focused_emits_the_code_once(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    keyboard.scan("AB12CD34")
    assert screen.codes == ["AB12CD34"]
    assert screen.listener.last_code == "AB12CD34"
    qtbot.wait(250)  # past the quiet period: nothing is handed back to the table
    assert screen.codes == ["AB12CD34"]
    assert screen.table.currentIndex().row() == 0
    assert QApplication.focusWidget() is screen.table


def test_the_same_code_typed_at_human_speed_emits_nothing(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    keyboard.type("AB12CD34", ms_per_key=PERSON_MS)
    keyboard.enter(after_ms=PERSON_MS)
    qtbot.wait(250)
    assert screen.codes == []
    assert screen.listener.last_code is None


def test_a_persons_keys_on_a_table_still_reach_it_for_type_ahead(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    keyboard.type("ch", ms_per_key=PERSON_MS)
    qtbot.waitUntil(lambda: screen.table.currentIndex().row() == 2)  # "cherry"
    assert screen.codes == []


def test_space_on_a_focused_button_still_clicks_it(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    clicks: list[bool] = []
    screen.button.clicked.connect(lambda: clicks.append(True))
    screen.button.setFocus()
    keyboard.key(Qt.Key.Key_Space, " ", after_ms=PERSON_MS)
    qtbot.waitUntil(lambda: clicks == [True])
    assert screen.codes == []


def test_a_scan_into_the_search_box_emits_the_code_and_leaves_the_search_as_it_was(screen, keyboard) -> None:  # noqa: ANN001
    screen.search.setText("router")
    screen.search.setFocus()
    texts: list[str] = []
    screen.search.textChanged.connect(texts.append)
    keyboard.scan("AB12CD34")
    assert screen.codes == ["AB12CD34"]
    assert screen.search.text() == "router"
    assert screen.search.cursorPosition() == 6
    assert texts[-1] == "router"  # a search box listening to textChanged searches for "router" again
    assert screen.returns == []  # the reader's Enter did not reach the line edit


def test_a_scan_over_selected_search_text_puts_the_selection_back(screen, keyboard) -> None:  # noqa: ANN001
    screen.search.setText("router")
    screen.search.setFocus()
    screen.search.selectAll()
    keyboard.scan("AB12CD34")
    assert screen.codes == ["AB12CD34"]
    assert (screen.search.text(), screen.search.selectedText()) == ("router", "router")


def test_typing_at_human_speed_into_the_search_box_is_just_typing(screen, keyboard) -> None:  # noqa: ANN001
    screen.search.setFocus()
    keyboard.type("Modem", ms_per_key=PERSON_MS)
    keyboard.enter(after_ms=PERSON_MS)
    assert screen.search.text() == "Modem"
    assert screen.returns == ["Modem"]
    assert screen.codes == []


def test_a_quick_typist_pausing_before_enter_is_typing_too(screen, keyboard) -> None:  # noqa: ANN001
    screen.search.setFocus()
    keyboard.type("AB12CD34", ms_per_key=READER_MS)
    keyboard.enter(after_ms=150)  # more than twice the 50 ms gap
    assert screen.codes == []
    assert screen.returns == ["AB12CD34"]


def test_a_reader_may_pause_a_little_before_its_enter(screen, keyboard) -> None:  # noqa: ANN001
    keyboard.type("AB12CD34", ms_per_key=READER_MS)
    keyboard.enter(after_ms=90)  # within twice the gap
    assert screen.codes == ["AB12CD34"]


def test_a_scan_into_the_notes_takes_out_only_the_scanned_characters(screen, keyboard) -> None:  # noqa: ANN001
    screen.notes.setPlainText("line one\nline two")
    cursor = screen.notes.textCursor()
    cursor.setPosition(5)
    cursor.setPosition(8, cursor.MoveMode.KeepAnchor)  # "one" selected
    screen.notes.setTextCursor(cursor)
    screen.notes.setFocus()
    keyboard.scan("AB12CD34")
    assert screen.codes == ["AB12CD34"]
    assert screen.notes.toPlainText() == "line one\nline two"
    assert screen.notes.textCursor().selectedText() == "one"


def test_a_listener_on_a_hidden_tab_ignores_a_scan(qtbot, clock, keyboard) -> None:  # noqa: ANN001
    tabs = QTabWidget()
    pages = [_fruit_table(), _fruit_table()]
    tabs.addTab(pages[0], "Stock")
    tabs.addTab(pages[1], "Equipment")
    _show(qtbot, tabs)
    heard: dict[str, list[str]] = {"Stock": [], "Equipment": []}
    for page, name in zip(pages, heard, strict=True):
        ScanListener(page, clock=clock).scanned.connect(heard[name].append)
    pages[0].setFocus()
    keyboard.scan("AB12CD34")
    assert heard == {"Stock": ["AB12CD34"], "Equipment": []}
    # Nothing focused: the keys go to the window, and only the visible page's listener hears them.
    pages[0].clearFocus()
    assert QApplication.focusWidget() is None
    keyboard.scan("EF56GH78")
    assert heard == {"Stock": ["AB12CD34", "EF56GH78"], "Equipment": []}
    tabs.setCurrentIndex(1)
    pages[1].setFocus()
    keyboard.scan("JK90LM12")
    assert heard == {"Stock": ["AB12CD34", "EF56GH78"], "Equipment": ["JK90LM12"]}


def test_a_disabled_listener_ignores_a_fast_scan_and_lets_the_keys_through(screen, keyboard) -> None:  # noqa: ANN001
    screen.listener.set_enabled(False)
    assert not screen.listener.enabled
    screen.search.setFocus()
    keyboard.scan("AB12CD34")
    assert screen.codes == []
    assert screen.returns == ["AB12CD34"]
    screen.search.clear()
    screen.listener.set_enabled(True)
    keyboard.scan("AB12CD34")
    assert screen.codes == ["AB12CD34"]
    assert screen.search.text() == ""


def test_a_listener_whose_window_is_not_active_ignores_a_scan(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    other = QWidget()
    _show(qtbot, other)
    assert not screen.window.isActiveWindow()
    keyboard.at = screen.search
    keyboard.scan("AB12CD34")
    assert screen.codes == []
    assert screen.search.text() == "AB12CD34"


def test_keys_typed_outside_the_scope_are_left_alone(screen, keyboard) -> None:  # noqa: ANN001
    screen.sidebar.setCurrentRow(0)
    screen.sidebar.setFocus()
    keyboard.scan("BILLING")  # type-ahead in the sidebar, immediately
    assert screen.codes == []
    assert screen.sidebar.currentRow() == 2


def test_bursts_shorter_than_the_minimum_are_not_scans(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    keyboard.scan("C1X")
    assert screen.codes == []
    qtbot.waitUntil(lambda: screen.table.currentIndex().row() == 2)  # the keys reached the table after all
    keyboard.scan("C1X9")
    assert screen.codes == ["C1X9"]


def test_capitals_sent_with_shift_are_part_of_the_code(screen, keyboard) -> None:  # noqa: ANN001
    keyboard.scan("Ab12-Xy.z")
    assert screen.codes == ["Ab12-Xy.z"]


def test_ctrl_f_in_the_middle_of_a_burst_starts_over_and_still_works(screen, keyboard) -> None:  # noqa: ANN001
    finds: list[bool] = []

    def find() -> None:
        finds.append(True)
        screen.search.setFocus()

    QShortcut(QKeySequence("Ctrl+F"), screen.window, find)
    keyboard.type("AB12", ms_per_key=READER_MS)
    keyboard.key(Qt.Key.Key_F, "", Qt.KeyboardModifier.ControlModifier)
    assert finds == [True]
    keyboard.scan("CD34")
    assert screen.codes == ["CD34"]
    assert screen.search.text() == ""


def test_two_scans_back_to_back_emit_two_codes(screen, keyboard) -> None:  # noqa: ANN001
    keyboard.scan("AB12CD34")
    keyboard.scan("EF56GH78")
    screen.search.setText("router")
    screen.search.setFocus()
    keyboard.scan("JK90LM12")
    keyboard.scan("NP34QR56")
    assert screen.codes == ["AB12CD34", "EF56GH78", "JK90LM12", "NP34QR56"]
    assert screen.search.text() == "router"
    assert screen.returns == []


def test_a_scan_ending_with_tab_counts_and_keeps_the_focus(screen, keyboard) -> None:  # noqa: ANN001
    screen.search.setFocus()
    keyboard.scan("AB12CD34", end=Qt.Key.Key_Tab)
    assert screen.codes == ["AB12CD34"]
    assert QApplication.focusWidget() is screen.search
    assert screen.search.text() == ""


def test_a_stopped_listener_hears_nothing_and_can_be_stopped_twice(screen, keyboard) -> None:  # noqa: ANN001
    screen.listener.stop()
    screen.listener.stop()
    assert not screen.listener.enabled
    screen.search.setFocus()
    keyboard.scan("AB12CD34")
    assert screen.codes == []
    assert screen.search.text() == "AB12CD34"


def test_the_listener_goes_away_with_its_scope(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    listener = screen.listener
    screen.scope.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(listener))
    screen.sidebar.setFocus()
    keyboard.scan("AB12CD34")  # the application filter is gone with it: no error
    assert screen.codes == []


def test_a_listener_owned_elsewhere_survives_its_scope_quietly(qtbot, clock, keyboard) -> None:  # noqa: ANN001
    window = QWidget()
    row = QHBoxLayout(window)
    scope, other = _fruit_table(), _fruit_table()
    row.addWidget(scope)
    row.addWidget(other)
    _show(qtbot, window)
    listener = ScanListener(scope, clock=clock, parent=window)
    codes: list[str] = []
    listener.scanned.connect(codes.append)
    scope.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(scope))
    assert not listener.enabled
    other.setFocus()
    keyboard.scan("AB12CD34")
    assert codes == []


def test_a_one_letter_shortcut_does_not_fire_on_a_scan_but_still_fires_for_a_person(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    refreshes: list[bool] = []
    QShortcut(QKeySequence("R"), screen.window, lambda: refreshes.append(True))
    keyboard.scan("RR12CD34")
    assert screen.codes == ["RR12CD34"]
    assert refreshes == []
    keyboard.type("r", ms_per_key=PERSON_MS)
    qtbot.waitUntil(lambda: refreshes == [True])


def test_qtbots_own_key_clicks_are_heard_like_a_reader(qtbot, screen) -> None:  # noqa: ANN001
    ticks = iter(range(10**6))
    listener = ScanListener(screen.scope, clock=lambda: next(ticks) * 0.005)  # 5 ms per reading
    heard: list[str] = []
    listener.scanned.connect(heard.append)
    screen.listener.stop()
    qtbot.keyClicks(screen.table, "ab12cd34")
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    assert heard == ["ab12cd34"]
    assert screen.table.currentIndex().row() == 0


def test_a_listener_deleted_on_its_own_leaves_the_keys_alone(qtbot, screen, keyboard) -> None:  # noqa: ANN001
    listener = screen.listener
    listener.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(listener))
    screen.search.setFocus()
    keyboard.scan("AB12CD34")
    assert screen.codes == []
    assert screen.returns == ["AB12CD34"]
    screen.scope.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(screen.scope))
