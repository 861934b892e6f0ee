"""Going somewhere else in the app from anywhere: open an account, show a building.

Views ask the navigator; the main window listens and switches section. A view under test with
no main window simply has no one listening.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Navigator(QObject):
    account_requested = Signal(int)  # account id
    building_requested = Signal(int, int)  # building id, unit id to select (0: none)
    lookups_changed = Signal()  # statuses, types or groups were edited: filters and forms reload

    def open_account(self, account_id: int) -> None:
        self.account_requested.emit(account_id)

    def open_building(self, building_id: int, unit_id: int | None = None) -> None:
        self.building_requested.emit(building_id, unit_id or 0)
