"""Guards against a broken Qt binding: PySide6 6.12.0 on Python 3.11 dropped one reference to
None on every call of a method returning nothing, and aborted the app after a few thousand
(``Fatal Python error: none_dealloc``). A desktop app makes that many calls in minutes."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_calling_qt_methods_does_not_leak_references_to_none(qtbot) -> None:  # noqa: ANN001
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("unit 4B")
    drift = sys.getrefcount(None) - before
    assert abs(drift) < 100, f"the Qt binding lost {-drift} references to None in 2000 calls"
