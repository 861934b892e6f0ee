"""A building drawn floor by floor: one tile per unit, coloured by what is going on there.

Painted in one pass (no widget per unit), so a 500-unit tower draws in a few milliseconds.
Click or Enter on a tile emits ``unit_activated``; arrow keys move between tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.addresses.repository import UnitRow

TILE_W, TILE_H, GAP, LABEL_W, MARGIN = 104, 48, 6, 66, 8
MIN_TILE_W = 76  # narrower tiles before a floor wraps onto a second line
VACANT = QColor("#ffffff")
VACANT_BORDER = QColor("#9aa5b1")
NOT_YET = QColor("#e4e7eb")
TEXT = QColor("#1d2630")
MUTED = QColor("#5b6673")
SELECTED = QColor("#2f6fd0")


@dataclass(frozen=True)
class TileState:
    key: str  # "vacant", "not_yet" or the status name
    label: str
    colour: QColor


def unit_state(unit: UnitRow, today: date) -> TileState:
    if unit.account_id is not None:
        return TileState(unit.status, unit.status, QColor(unit.status_colour or "#607d8b"))
    if unit.serviceable_from is not None and unit.serviceable_from > today:
        return TileState("not_yet", "Not yet serviceable", NOT_YET)
    return TileState("vacant", "Vacant", VACANT)


def _floor_key(unit: UnitRow) -> tuple[int, int]:
    return (1, unit.floor) if unit.floor is not None else (0, 0)


def tint(colour: QColor, amount: float = 0.78) -> QColor:
    """The colour mixed towards white, for a tile's fill (the full colour marks its edge)."""
    return QColor(int(colour.red() + (255 - colour.red()) * amount),
                  int(colour.green() + (255 - colour.green()) * amount),
                  int(colour.blue() + (255 - colour.blue()) * amount))


class BuildingGridWidget(QWidget):
    unit_activated = Signal(object)  # UnitRow
    selection_changed = Signal(object)  # UnitRow | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BuildingGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.units: list[UnitRow] = []
        self.today = date.today()
        self._tiles: list[tuple[QRect, UnitRow, TileState]] = []
        self._rows: list[tuple[QRect, str]] = []
        self._selected: int | None = None
        self._size = QSize(400, 200)
        self.tile_w = TILE_W
        self._styles: dict[tuple, list[QRect]] = {}
        self._strips: dict[str, list[QRect]] = {}
        self._bold_text: list[tuple[QPoint, str]] = []
        self._small_text: dict[bool, list[tuple[QPoint, str]]] = {True: [], False: []}
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(7.0, self.font().pointSizeF() - 1.5))

    # -- data ----------------------------------------------------------------------------------
    def set_units(self, units: list[UnitRow], today: date | None = None) -> None:
        self.units = units
        self.today = today or date.today()
        self._selected = None
        self._layout()
        self.update()

    def states(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _rect, _unit, state in self._tiles:
            counts[state.label] = counts.get(state.label, 0) + 1
        return counts

    def select_unit(self, address_id: int) -> None:
        for i, (_rect, unit, _state) in enumerate(self._tiles):
            if unit.id == address_id:
                self._select(i)
                return

    def selected_unit(self) -> UnitRow | None:
        return self._tiles[self._selected][1] if self._selected is not None else None

    # -- layout --------------------------------------------------------------------------------
    def _layout(self) -> None:
        """Floors top-down (highest first), units left to right; wide floors wrap."""
        floors: dict[tuple[int, int], list[UnitRow]] = {}
        for unit in self.units:
            floors.setdefault(_floor_key(unit), []).append(unit)
        avail = max(self.width(), 400) - LABEL_W - 2 * MARGIN + GAP
        widest = max((len(u) for u in floors.values()), default=1)
        # Shrink tiles (down to MIN_TILE_W) so the widest floor fits on one line when it can.
        self.tile_w = max(MIN_TILE_W, min(TILE_W, avail // widest - GAP))
        per_row = max(1, avail // (self.tile_w + GAP))
        self._tiles, self._rows = [], []
        y = MARGIN
        for key in sorted(floors, reverse=True):
            units = floors[key]
            label = f"Floor {key[1]}" if key[0] else "Other"
            lines = (len(units) + per_row - 1) // per_row
            self._rows.append((QRect(MARGIN, y, LABEL_W - 8, TILE_H), label))
            for i, unit in enumerate(units):
                r, c = divmod(i, per_row)
                rect = QRect(MARGIN + LABEL_W + c * (self.tile_w + GAP), y + r * (TILE_H + GAP), self.tile_w, TILE_H)
                self._tiles.append((rect, unit, unit_state(unit, self.today)))
            y += lines * (TILE_H + GAP) + 4
        width = MARGIN * 2 + LABEL_W + min(per_row, widest) * (self.tile_w + GAP)
        self._size = QSize(width, y + MARGIN)
        self.setMinimumHeight(self._size.height())
        self.updateGeometry()
        self._prepare()

    def _prepare(self) -> None:
        """Everything paintEvent needs, worked out once per layout: tiles grouped by style (so each
        group is one batched call) and the text already elided and placed."""
        bold, small = QFontMetrics(self._bold), QFontMetrics(self._small)
        self._styles: dict[tuple, list[QRect]] = {}
        self._strips: dict[str, list[QRect]] = {}
        self._bold_text: list[tuple[QPoint, str]] = []
        self._small_text: dict[bool, list[tuple[QPoint, str]]] = {True: [], False: []}
        small_width = small.averageCharWidth()
        for rect, unit, state in self._tiles:
            if state.key == "vacant":
                style = ("vacant",)
            elif state.key == "not_yet":
                style = ("not_yet",)
            else:
                style = ("status", state.colour.name())
                self._strips.setdefault(state.colour.name(), []).append(
                    QRect(rect.left() + 1, rect.top() + 1, 4, rect.height() - 2))
            self._styles.setdefault(style, []).append(rect.adjusted(0, 0, -1, -1))
            self._bold_text.append((QPoint(rect.left() + 10, rect.top() + 5 + bold.ascent()), unit.unit))
            if unit.account_id is not None:
                line = unit.account_name
            elif state.key == "not_yet" and unit.serviceable_from:
                line = f"from {unit.serviceable_from:%b} {unit.serviceable_from.day}"
            else:
                line = "Vacant"
            room = rect.width() - 14
            if len(line) * small_width > room * 0.8 and small.horizontalAdvance(line) > room:
                line = small.elidedText(line, Qt.TextElideMode.ElideRight, room)
            muted = unit.account_id is None
            self._small_text[muted].append((QPoint(rect.left() + 10, rect.bottom() - 6 - small.descent()), line))

    def sizeHint(self) -> QSize:  # noqa: N802
        return self._size

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        self._layout()
        super().resizeEvent(event)

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setPen(MUTED)
        p.setFont(self._bold)
        for rect, label in self._rows:
            p.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), label)
        for style, rects in self._styles.items():
            if style[0] == "vacant":
                p.setBrush(VACANT)
                p.setPen(QPen(VACANT_BORDER, 1, Qt.PenStyle.DashLine))
            elif style[0] == "not_yet":
                p.setBrush(QBrush(QColor("#c3c9d1"), Qt.BrushStyle.BDiagPattern))
                p.setPen(QPen(VACANT_BORDER, 1))
            else:
                colour = QColor(style[1])
                p.setBrush(tint(colour))
                p.setPen(QPen(colour, 1))
            p.drawRects(rects)
        p.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self._strips.items():
            p.setBrush(QColor(colour))
            p.drawRects(rects)
        p.setPen(TEXT)
        for point, text in self._bold_text:
            p.drawText(point, text)
        p.setFont(self._small)
        for muted, texts in self._small_text.items():
            p.setPen(MUTED if muted else TEXT)
            for point, text in texts:
                p.drawText(point, text)
        if self._selected is not None:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(SELECTED, 2.5))
            p.drawRect(self._tiles[self._selected][0].adjusted(1, 1, -2, -2))
        p.end()

    # -- interaction ---------------------------------------------------------------------------
    def _index_at(self, pos: QPoint) -> int | None:
        for i, (rect, _unit, _state) in enumerate(self._tiles):
            if rect.contains(pos):
                return i
        return None

    def _select(self, index: int | None) -> None:
        if index == self._selected:
            return
        old = self._selected
        self._selected = index
        for i in (old, index):
            if i is not None:
                self.update(self._tiles[i][0].adjusted(-2, -2, 2, 2))
        self.selection_changed.emit(self.selected_unit())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._select(self._index_at(event.position().toPoint()))
        self.setFocus()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self._index_at(event.position().toPoint())
        if index is not None:
            self.unit_activated.emit(self._tiles[index][1])

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self._index_at(event.position().toPoint())
        if index is not None and index == self._selected and event.button() == Qt.MouseButton.LeftButton:
            self.unit_activated.emit(self._tiles[index][1])

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if not self._tiles:
            return super().keyPressEvent(event)
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected is not None:
            self.unit_activated.emit(self._tiles[self._selected][1])
            return None
        moves = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if key not in moves:
            return super().keyPressEvent(event)
        if self._selected is None:
            self._select(0)
            return None
        dx, dy = moves[key]
        current = self._tiles[self._selected][0].center()
        target = QPoint(current.x() + dx * (self.tile_w + GAP), current.y() + dy * (TILE_H + GAP))
        best, best_distance = None, None
        for i, (rect, _u, _s) in enumerate(self._tiles):
            c = rect.center()
            if (dx and (c.x() - current.x()) * dx <= 0) or (dy and (c.y() - current.y()) * dy <= 0):
                continue
            distance = (c - target).manhattanLength()
            if best_distance is None or distance < best_distance:
                best, best_distance = i, distance
        if best is not None:
            self._select(best)
        return None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self._index_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                _rect, unit, state = self._tiles[index]
                who = f"{unit.account_number} {unit.account_name}" if unit.account_id else state.label
                extra = "" if unit.account_id else "\nClick to set up a new account here."
                QToolTip.showText(event.globalPos(), f"Unit {unit.unit} — {who}{extra}", self)
            return True
        return super().event(event)
