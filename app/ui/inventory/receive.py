"""Receive mode: the tech's main screen for putting new stock on the shelf.

Step 1: scan the label of the location the goods go to (or choose it from the list). Step 2:
choose the model being received, then scan the devices one after another. Each scan fills the
next identifier of the item being scanned (a MAC, then a serial…); when every field is filled the
item joins the running list. Consumables are added by quantity instead.

Every scan is checked before it is added — its format against the model's fields, and
``service.check_receive_line`` for a duplicate in the batch or on an item already in the
database — and is either confirmed (the row flashes green, a tick in the status line, one beep) or
flagged in red (two beeps) and kept out of the batch, listed under "Rejected". The beeps are the
system bell (``QApplication.beep``): PySide6-Essentials has no QtMultimedia to play a tone.

A model whose later fields are optional (MAC then an optional serial, IMEI then an optional
IMSI): once the required fields are in, a code of a kind the item already has (the next device's
MAC or IMEI), or one that fits none of its empty fields, starts the next item.

Finish (Ctrl+Enter) writes the whole batch as one change with ``service.receive``. If any line is
refused nothing is written: the line is highlighted with the reason and the batch stays, so it
can be fixed and finished again.

Scans are handled one at a time, in the order they arrive: where a code goes depends on what the
scans before it did, and the check runs on the task runner.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import RiserError, ValidationError
from app.inventory import catalogue, service
from app.inventory import identifiers as ids
from app.inventory.catalogue import FieldSpec, LocationRow, ModelRow
from app.inventory.service import ReceiveLine, ReceiveResult
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError
from app.ui.widgets.scan import ScanListener

log = logging.getLogger(__name__)

LAST_MODEL_SETTING = "inventory/receive_model"
GOOD, BAD, WAITING = QColor("#2e7d32"), QColor("#c62828"), QColor("#5b6673")
FLASH, ERROR_ROW = QColor("#c8e6c9"), QColor("#fde0e0")
FLASH_MS = 700
SECOND_BEEP_MS = 180  # the gap between a refused scan's two beeps
COLUMNS = ("#", "Model", "Identifiers", "Status")
# Hex pairs joined by separators ("24:5A:4C:11:22"): a MAC gone wrong, never a serial number.
_MAC_LIKE = re.compile(r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){2,}")
_LINE_NUMBER = re.compile(r"^line (\d+):")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class BatchLine:
    """One line of the batch as the dialog holds it: an item being scanned or complete, or a
    quantity of a consumable. ``identifiers`` maps field keys to the values as shown."""

    model: ModelRow
    identifiers: dict[str, str] = field(default_factory=dict)
    quantity: int = 1
    closed: bool = False  # finished with optional fields left empty

    @property
    def serialized(self) -> bool:
        return self.model.serialized

    @property
    def open_fields(self) -> list[FieldSpec]:
        return [f for f in self.model.fields if f.key not in self.identifiers]

    @property
    def complete(self) -> bool:
        """Every field scanned, or closed with only optional ones empty (or a consumable)."""
        return not self.serialized or self.closed or not self.open_fields

    @property
    def missing_required(self) -> list[FieldSpec]:
        return [f for f in self.open_fields if f.required] if self.serialized else []

    def as_receive_line(self) -> ReceiveLine:
        if self.serialized:
            return ReceiveLine(self.model.id, dict(self.identifiers))
        return ReceiveLine(self.model.id, quantity=self.quantity)

    def describe(self) -> str:
        if not self.serialized:
            return f"{self.quantity:,} {self.model.unit}"
        labels = {f.key: f.label for f in self.model.fields}
        return "  ·  ".join(f"{labels.get(k, k)} {v}" for k, v in self.identifiers.items())


def choose_field(model: ModelRow, filled: dict[str, str], code: str) -> tuple[FieldSpec | None, str]:
    """Which still-empty field of the item a scanned ``code`` fills: ``(field, "")``, or
    ``(None, reason)`` when it fits none of them.

    Among the fields the code fits, the one of the kind it looks like (``identifiers.guess_kind``)
    wins, then the first in the model's order. For a model with a MAC field, a code made of hex
    pairs with separators that is not a valid MAC is a bad MAC, never a serial number."""
    open_fields = [f for f in model.fields if f.key not in filled]
    if not open_fields:
        return None, "This item has all its identifiers already."
    text = code.strip()
    macs = [f for f in model.fields if f.kind == ids.MAC]
    if macs and _MAC_LIKE.fullmatch(text) and not ids.fits(ids.MAC, text):
        return None, _format_problem(macs[0], text)
    fitting = [f for f in open_fields if ids.fits(f.kind, text, f.pattern)]
    if not fitting:
        return None, _format_problem(open_fields[0], text)
    guess = ids.guess_kind(text)
    return next((f for f in fitting if f.kind == guess), fitting[0]), ""


def starts_next_item(current: BatchLine, code: str, spec: FieldSpec | None) -> bool:
    """Whether ``code`` begins the next item rather than fill an optional field of ``current``.

    Only once ``current`` has every required field: then a code that fits none of its empty
    fields (``spec`` is None), or a code of the kind of a field already filled on it — a second
    MAC, a second IMEI: the next device — unless an empty field takes that kind too (a model with
    a LAN and a WAN MAC gets both). ``identifiers.guess_kind`` decides the kind: a 15-digit IMSI
    that happens to pass the IMEI check digit (one in ten) is taken for the next device's IMEI,
    which the status line shows ("(IMEI) — 2 items"); its line can be removed."""
    if current.missing_required:
        return False
    if spec is None:
        return True
    kind = ids.guess_kind(code)
    filled_kinds = {f.kind for f in current.model.fields if f.key in current.identifiers}
    open_kinds = {f.kind for f in current.open_fields}
    return kind in filled_kinds and kind not in open_kinds


def _format_problem(spec: FieldSpec, text: str) -> str:
    try:
        ids.normalise(spec.kind, text, label=spec.label, pattern=spec.pattern)
    except ValidationError as exc:
        return str(exc)
    return f"“{text}” is not a {spec.label}."  # pragma: no cover - normalise accepted what fits() refused


def _shown_value(spec: FieldSpec, text: str) -> str:
    value, _lookup = ids.normalise(spec.kind, text, label=spec.label, pattern=spec.pattern)
    return value


def _batch_clash(lines: list[BatchLine], model: ModelRow, spec: FieldSpec, value: str) -> str:
    """Why ``value`` for ``spec`` clashes with a line already in the batch, or "".

    The service finds this too, but only once every required field of the item is filled in;
    a reader's double scan should bounce at once. A MAC is unique across models, any other
    identifier within its model and field (as ``service.receive`` sees it)."""
    _value, lookup = ids.normalise(spec.kind, value, pattern=spec.pattern)
    for number, line in enumerate(lines, start=1):
        if not line.serialized:
            continue
        for other in line.model.fields:
            text = line.identifiers.get(other.key)
            if not text:
                continue
            same_scope = (spec.kind == ids.MAC and other.kind == ids.MAC) or (
                line.model.id == model.id and other.key == spec.key)
            if same_scope and _lookup(other, text) == lookup:
                return f"{spec.label} {value} is already in this batch (line {number})."
    return ""


def _line_with_mac(lines: list[BatchLine], code: str) -> int:
    """The number of the line whose MAC is ``code``, or 0."""
    lookup = _lookup(FieldSpec("mac", "MAC address", ids.MAC), code)
    for number, line in enumerate(lines, start=1):
        for spec in line.model.fields if line.serialized else ():
            if spec.kind == ids.MAC and lookup and _lookup(spec, line.identifiers.get(spec.key, "")) == lookup:
                return number
    return 0


def _lookup(spec: FieldSpec, text: str) -> str:
    try:
        return ids.normalise(spec.kind, text, pattern=spec.pattern)[1]
    except ValidationError:
        return ""


def _same_code(a: str, b: str) -> bool:
    return bool(set(ids.lookup_candidates(a)) & set(ids.lookup_candidates(b)))


class ReceiveDialog(QDialog):
    """Receive mode. ``location_id``: start at step 2, receiving into that location.

    ``clock`` is handed to the scan listener (tests drive it with a fake clock).

    Signals: ``loaded`` once the locations and models are in, ``scan_handled(code, added)``
    after each scan or typed code is dealt with, ``finish_failed(message)`` when Finish is
    refused, ``received(ReceiveResult)`` after the batch is written."""

    loaded = Signal()
    scan_handled = Signal(str, bool)
    finish_failed = Signal(str)
    received = Signal(object)

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, location_id: int | None = None, *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ReceiveDialog")
        self.setWindowTitle("Receive stock")
        self.resize(900, 640)
        self.location_id: int | None = None
        self.location_path = ""
        self.lines: list[BatchLine] = []
        self.rejected: list[tuple[str, str]] = []  # (code, reason)
        self.receive_result: ReceiveResult | None = None
        self.summary_text = ""
        self.summary_box: QMessageBox | None = None
        self._locations: dict[int, LocationRow] = {}
        self._location_codes: dict[str, int] = {}
        self._models: dict[int, ModelRow] = {}
        self._wanted_location = location_id
        self._queue: deque[str] = deque()
        self._busy = False  # a scan is being checked
        self._committing = False
        self._generation = 0  # bumped whenever the batch changes under a running check
        self._flash = 0
        # The system bell. PySide6-Essentials has no QtMultimedia (no QSoundEffect), so there is
        # no tone of our own; on a desktop whose bell is off the colours and the status line are
        # the feedback.
        self.beep: Callable[[], None] = QApplication.beep

        # -- step 1: where the goods go
        prompt = QLabel("Scan a location label")
        prompt.setObjectName("ReceivePrompt")
        prompt.setStyleSheet("font-size: 26px; font-weight: 600; color: #2b3440;")
        prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel("Scan the barcode on the shelf, bin or van the goods go to — or choose it here:")
        hint.setObjectName("CountLabel")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        self.location_combo = QComboBox()
        self.location_combo.setObjectName("ReceiveLocation")
        self.location_combo.setMinimumWidth(380)
        self.location_combo.setMaxVisibleItems(20)
        self.start_button = QPushButton("Start receiving here")
        self.start_button.setAutoDefault(False)
        self.start_button.clicked.connect(self._start_from_combo)
        pick = QHBoxLayout()
        pick.addStretch(1)
        pick.addWidget(self.location_combo)
        pick.addWidget(self.start_button)
        pick.addStretch(1)
        step1 = QWidget()
        step1_layout = QVBoxLayout(step1)
        step1_layout.addStretch(2)
        step1_layout.addWidget(prompt)
        step1_layout.addSpacing(8)
        step1_layout.addWidget(hint)
        step1_layout.addSpacing(12)
        step1_layout.addLayout(pick)
        step1_layout.addStretch(3)

        # -- step 2: what comes in
        self.where = QLabel("")
        self.where.setObjectName("FormHeader")
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.change_location = QPushButton("Change location")
        self.change_location.setAutoDefault(False)
        self.change_location.clicked.connect(self.show_location_step)
        where_row = QHBoxLayout()
        where_row.addWidget(self.where, 1)
        where_row.addWidget(self.change_location)

        self.model_combo = QComboBox()
        self.model_combo.setObjectName("ReceiveModel")
        self.model_combo.setMinimumWidth(300)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.model_hint = QLabel("")
        self.model_hint.setObjectName("CountLabel")
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 1_000_000)
        self.quantity.setMinimumWidth(110)
        self.quantity_unit = QLabel("")
        self.add_quantity = QPushButton("Add")
        self.add_quantity.setAutoDefault(False)
        self.add_quantity.clicked.connect(self.add_quantity_line)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model_combo)
        model_row.addWidget(self.model_hint, 1)
        model_row.addWidget(self.quantity)
        model_row.addWidget(self.quantity_unit)
        model_row.addWidget(self.add_quantity)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("ReceiveLines")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(1, 200)
        self.table.setColumnWidth(3, 210)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table, self.remove_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.remove_button = QPushButton("Remove line")
        self.remove_button.setAutoDefault(False)
        self.remove_button.setToolTip("Remove the selected lines (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.counters = QLabel("")
        self.counters.setObjectName("CountLabel")
        counters_row = QHBoxLayout()
        counters_row.addWidget(self.counters, 1)
        counters_row.addWidget(self.remove_button)

        self.rejected_toggle = QToolButton()
        self.rejected_toggle.setObjectName("RejectedToggle")
        self.rejected_toggle.setCheckable(True)
        self.rejected_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.rejected_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.rejected_toggle.setAutoRaise(True)
        self.rejected_toggle.setStyleSheet("color: #c62828; font-weight: 600;")
        self.rejected_toggle.toggled.connect(self._toggle_rejected)
        self.rejected_list = QListWidget()
        self.rejected_list.setObjectName("RejectedScans")
        self.rejected_list.hide()

        step2 = QWidget()
        step2_layout = QVBoxLayout(step2)
        step2_layout.setContentsMargins(0, 0, 0, 0)
        step2_layout.addLayout(where_row)
        step2_layout.addLayout(model_row)
        step2_layout.addWidget(self.table, 1)
        step2_layout.addLayout(counters_row)
        step2_layout.addWidget(self.rejected_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        step2_layout.addWidget(self.rejected_list)

        self.steps = QStackedWidget()
        self.steps.addWidget(step1)
        self.steps.addWidget(step2)

        # -- shared: the status line and a field for codes that will not scan
        self.status = QLabel("Loading…")
        self.status.setObjectName("ScanStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(30)
        self.manual = QLineEdit()
        self.manual.setObjectName("ManualCode")
        self.manual.setClearButtonEnabled(True)
        self.manual.returnPressed.connect(self._manual_entered)
        self.manual_add = QPushButton("Add")
        self.manual_add.setAutoDefault(False)
        self.manual_add.clicked.connect(self._manual_entered)
        manual_row = QHBoxLayout()
        manual_row.addWidget(QLabel("Code"))
        manual_row.addWidget(self.manual, 1)
        manual_row.addWidget(self.manual_add)

        # -- the buttons
        self.error = FieldError()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.finish_button = QPushButton("Finish")
        self.finish_button.setObjectName("FinishReceive")
        self.finish_button.setAutoDefault(False)
        self.finish_button.setToolTip("Receive everything in the list as one change (Ctrl+Enter)")
        self.finish_button.clicked.connect(self.finish)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress)
        buttons.addStretch(1)
        buttons.addWidget(self.finish_button)
        buttons.addWidget(self.cancel_button)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sequence), self, self.finish)

        layout = QVBoxLayout(self)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.status)
        layout.addLayout(manual_row)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.listener = ScanListener(self, clock=clock)
        self.listener.scanned.connect(self.handle_code)
        self._refresh()
        self._load()

    # -- loading -----------------------------------------------------------------------------
    def _load(self) -> None:
        ctx = self.ctx

        def op() -> tuple[list[LocationRow], list[ModelRow]]:
            return (catalogue.list_locations(ctx.uow(), ctx.actor, include_inactive=False),
                    catalogue.list_models(ctx.uow(), ctx.actor, enabled_only=True))

        ctx.runner.submit(op, self._on_loaded, self._on_load_failed, label="Loading locations and models", owner=self)

    def _on_loaded(self, loaded: tuple[list[LocationRow], list[ModelRow]]) -> None:
        locations, models = loaded
        self._locations = {row.id: row for row in locations}
        self._location_codes = {row.code.upper(): row.id for row in locations}
        self.location_combo.clear()
        self.location_combo.addItem("— choose a location —", None)
        for row in locations:
            self.location_combo.addItem(f"{'    ' * row.depth}{row.name}  ({row.code})", row.id)
            self.location_combo.setItemData(self.location_combo.count() - 1, row.path, Qt.ItemDataRole.ToolTipRole)
        self._models = {row.id: row for row in models}
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for row in models:
            how = "" if row.serialized else f"  (by quantity, {row.unit})"
            self.model_combo.addItem(f"{row.full_name}{how}", row.id)
        last = QSettings().value(LAST_MODEL_SETTING)
        index = self.model_combo.findData(int(last)) if str(last or "").isdigit() else -1
        self.model_combo.setCurrentIndex(max(0, index) if models else -1)
        self.model_combo.blockSignals(False)
        self._model_changed()
        if not locations:
            self.error.show_message("There are no locations yet: add a warehouse or shelf in Inventory first.")
        if not models:
            self.error.show_message("There are no models to receive yet: add one in Inventory first.")
        wanted = self._wanted_location
        if wanted is not None and wanted in self._locations:
            self.set_location(wanted)
        else:
            self.show_location_step()
        self.loaded.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._show_error(exc)
        self.status.setText("")
        self.loaded.emit()

    # -- step 1 ------------------------------------------------------------------------------
    def show_location_step(self) -> None:
        self.steps.setCurrentIndex(0)
        if self.location_id is not None:
            self.location_combo.setCurrentIndex(max(0, self.location_combo.findData(self.location_id)))
        self.manual.setPlaceholderText("Or type a location code and press Enter")
        self._say("Scan the label of the place the goods go to.", WAITING)
        self._refresh()

    def _start_from_combo(self) -> None:
        location_id = self.location_combo.currentData()
        if location_id is None:
            self._say("Choose a location first, or scan its label.", BAD)
            return
        self.set_location(location_id)

    def set_location(self, location_id: int) -> None:
        """Receive into this location (the batch so far goes there too) and go to step 2."""
        row = self._locations.get(location_id)
        if row is None:
            self._say("That location is no longer in use.", BAD)
            return
        self.location_id, self.location_path = row.id, row.path
        self.where.setText(f"Receiving into  {row.path}  ({row.code})")
        self.steps.setCurrentIndex(1)
        self.manual.setPlaceholderText("Type a code that will not scan and press Enter")
        self.error.clear_message()
        self._generation += 1
        self._say(f"Receiving into {row.path}. Now scan the items.", WAITING)
        self._refresh()

    def _location_scanned(self, code: str) -> None:
        ctx = self.ctx

        def done(match: service.CodeMatch) -> None:
            if match.location is not None and match.location.id in self._locations:
                self.set_location(match.location.id)
                self._finished_with(code, True)
                return
            if match.location is not None:
                reason = f"{match.location.path} is no longer in use."
            elif match.items:
                reason = f"That is the item {match.items[0].summary}, not a location: scan the shelf's label."
            else:
                reason = f"No location has the code {code}."
            self._say(f"✗ {reason}", BAD)
            self._finished_with(code, False)

        def failed(exc: BaseException) -> None:
            self._say(f"✗ {self._message(exc)}", BAD)
            self._finished_with(code, False)

        ctx.runner.submit(lambda: service.find_code(ctx.uow(), ctx.actor, code), done, failed,
                          label="Looking up the location", owner=self)

    # -- step 2: scanning ----------------------------------------------------------------------
    @property
    def current_model(self) -> ModelRow | None:
        return self._models.get(self.model_combo.currentData())

    @property
    def current_item(self) -> BatchLine | None:
        """The item being scanned: the last line, while some of its fields are still empty."""
        if self.lines and self.lines[-1].serialized and not self.lines[-1].complete:
            return self.lines[-1]
        return None

    def select_model(self, model_id: int) -> None:
        self.model_combo.setCurrentIndex(self.model_combo.findData(model_id))

    def _model_changed(self) -> None:
        model = self.current_model
        serialized = model is None or model.serialized
        for widget in (self.quantity, self.quantity_unit, self.add_quantity):
            widget.setVisible(not serialized)
        current = self.current_item
        if current is not None and model is not None and model.id != current.model.id and not current.missing_required:
            current.closed = True  # only optional fields left: the item is done
            self._fill_table()
        if model is None:
            self.model_hint.setText("")
            return
        QSettings().setValue(LAST_MODEL_SETTING, model.id)
        if serialized:
            names = [f.label + ("" if f.required else " (optional)") for f in model.fields]
            if len(names) > 1:
                self.model_hint.setText(f"Scan per item: {', then '.join(names)}")
            elif names:
                self.model_hint.setText(f"Each scan is one item ({names[0]})")
            else:
                self.model_hint.setText("This model has no identifier fields to scan.")
        else:
            self.quantity_unit.setText(model.unit)
            self.model_hint.setText("Counted by quantity: enter how many and press Add")

    def handle_code(self, code: str) -> None:
        """A scanned or typed code: queued, then checked and added or rejected, in order."""
        code = code.strip()
        if not code:
            return
        self._queue.append(code)
        self._pump()

    def _manual_entered(self) -> None:
        code = self.manual.text().strip()
        self.manual.clear()
        self.handle_code(code)

    def _pump(self) -> None:
        if self._busy or not self._queue:
            return
        code = self._queue.popleft()
        if self._committing:
            self._reject(code, "The batch is being saved: scan it again when that is done.")
            return
        if self.steps.currentIndex() == 0 or self.location_id is None:
            self._busy = True
            self._location_scanned(code)
            return
        self._item_scanned(code)

    def _item_scanned(self, code: str) -> None:
        location_id = self._location_codes.get(code.upper())
        if location_id is not None:
            if not self.lines:
                self.set_location(location_id)
                self._finished_with(code, True)
            else:
                self._reject(code, f"{code} is the label of {self._locations[location_id].path}. "
                                   "To receive this batch there instead, press Change location.")
            return
        current = self.current_item
        model = current.model if current is not None else self.current_model
        if model is None:
            self._reject(code, "Choose the model being received first.")
            return
        if not model.serialized:
            self._reject(code, f"{model.full_name} is counted by quantity: enter how many and press Add.")
            return
        if not model.fields:
            self._reject(code, f"{model.full_name} has no identifier fields to scan.")
            return
        filled = dict(current.identifiers) if current is not None else {}
        if any(_same_code(code, value) for value in filled.values()):
            self._reject(code, f"{code} was just scanned for this item.")
            return
        spec, reason = choose_field(model, filled, code)
        new_item = current is None
        if current is not None and starts_next_item(current, code, spec):
            # Only optional fields are left, and the code is another device's (a second MAC or
            # IMEI), or it fits none of them: it starts the next item.
            model = self.current_model or current.model
            filled, new_item = {}, True
            spec, reason = choose_field(model, filled, code)
        if spec is None:
            self._reject(code, reason)
            return
        if spec.kind != ids.MAC and ids.guess_kind(code) == ids.MAC:
            # A MAC going into another field: a double scan of a MAC already in the batch is
            # an accident, not this item's serial number.
            number = _line_with_mac(self.lines, code)
            if number:
                self._reject(code, f"{code} is the MAC address on line {number}: scan this item's {spec.label}.")
                return
        value = _shown_value(spec, code)
        pending_lines = [line for line in self.lines if new_item or line is not current]
        clash = _batch_clash(pending_lines, model, spec, value)
        if clash:
            self._reject(code, clash)
            return
        candidate = ReceiveLine(model.id, {**filled, spec.key: value})
        pending = [line.as_receive_line() for line in pending_lines]
        ctx, generation = self.ctx, self._generation
        self._busy = True
        ctx.runner.submit(
            lambda: service.check_receive_line(ctx.uow(), ctx.actor, candidate, pending, partial=True),
            lambda _none: self._checked(code, model, spec, value, new_item, generation, None),
            lambda exc: self._checked(code, model, spec, value, new_item, generation, exc),
            owner=self,
        )

    def _checked(self, code: str, model: ModelRow, spec: FieldSpec, value: str, new_item: bool, generation: int,
                 exc: BaseException | None) -> None:
        self._busy = False
        if generation != self._generation:  # the batch changed meanwhile: check the code again
            self._queue.appendleft(code)
            self._pump()
            return
        current = None if new_item else self.current_item
        filled = current.identifiers if current is not None else {}
        dropped = ""
        if exc is not None:
            key = getattr(exc, "field", None)
            if not isinstance(exc, RiserError):
                log.error("checking a scan failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
                self._reject(code, f"Unexpected error: {exc}")
                return
            if key in filled and current is not None:
                # A value scanned earlier could only be checked now that the fields before it are
                # in (the service checks them in order): it goes, this scan stays.
                dropped = f"  (removed: {exc})"
                self._note_rejected(filled[key], str(exc))
                del current.identifiers[key]
            elif key != spec.key and key in {f.key for f in model.fields} and key not in filled:
                pass  # only says a field still to be scanned is required: fine for now
            else:
                self._reject(code, str(exc))
                return
        if current is None:
            previous = self.current_item
            if previous is not None:
                previous.closed = True
            current = BatchLine(model)
            self.lines.append(current)
        current.identifiers[spec.key] = value
        row = len(self.lines) - 1
        self._fill_table()
        self._flash_row(row)
        items = sum(1 for line in self.lines if line.serialized)
        text = f"✓ {value} ({spec.label}) — {_plural(items, 'item')}"
        if current.missing_required:
            text += f" · now scan the {current.missing_required[0].label}"
        elif not current.complete:
            text += f" · the {current.open_fields[0].label} next, if it has one"
        self._say(text + dropped, GOOD if not dropped else BAD)
        self._finished_with(code, True, warn=bool(dropped))

    def _reject(self, code: str, reason: str) -> None:
        self._note_rejected(code, reason)
        self._say(f"✗ Not added: {reason}", BAD)
        self._finished_with(code, False)

    def _note_rejected(self, code: str, reason: str) -> None:
        self.rejected.append((code, reason))
        self.rejected_list.addItem(reason if reason.startswith(code) else f"{code} — {reason}")
        self.rejected_list.scrollToBottom()
        rows = min(self.rejected_list.count(), 4)
        self.rejected_list.setFixedHeight(rows * max(self.rejected_list.sizeHintForRow(0), 18) + 6)
        self._refresh()

    def _finished_with(self, code: str, added: bool, *, warn: bool = False) -> None:
        self._busy = False
        self._sound(added and not warn)
        self.scan_handled.emit(code, added)
        QTimer.singleShot(0, self._pump)

    def _sound(self, ok: bool) -> None:
        """One beep for a scan taken, two in quick succession for one refused (or taken with a
        problem), so the tech hears the difference without looking. ``self.beep`` makes the
        sound: ``QApplication.beep`` (tests replace it)."""
        self.beep()
        if not ok:
            QTimer.singleShot(SECOND_BEEP_MS, self, self.beep)

    def add_quantity_line(self) -> None:
        """Add the quantity in the spin box of the chosen consumable."""
        model = self.current_model
        if model is None or model.serialized or self._committing:
            return
        current = self.current_item
        if current is not None and current.missing_required:
            self._say(f"✗ Finish scanning the {current.model.full_name} first, or remove its line.", BAD)
            return
        if current is not None:
            current.closed = True
        self.lines.append(BatchLine(model, quantity=self.quantity.value()))
        self._generation += 1
        self._fill_table()
        self._flash_row(len(self.lines) - 1)
        self._say(f"✓ {self.quantity.value():,} {model.unit} {model.full_name}", GOOD)
        self.quantity.setValue(1)

    def remove_selected(self) -> None:
        """Remove the selected lines (Delete)."""
        if self._committing:
            return
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()}, reverse=True)
        if not rows:
            return
        for row in rows:
            if 0 <= row < len(self.lines):
                del self.lines[row]
        self._generation += 1
        self.error.clear_message()
        self._fill_table()
        self._say(f"Removed {_plural(len(rows), 'line')}.", WAITING)
        if self.lines:
            self.table.selectRow(min(rows[-1], len(self.lines) - 1))

    # -- the list ------------------------------------------------------------------------------
    def _fill_table(self, error_row: int | None = None, error: str = "") -> None:
        table = self.table
        table.setRowCount(len(self.lines))
        for row, line in enumerate(self.lines):
            number = QTableWidgetItem(str(row + 1))
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            described = line.describe()
            if line.serialized and not line.complete:
                status, colour = f"Scan the {line.open_fields[0].label}", WAITING
            else:
                status, colour = ("Ready" if line.serialized else "Consumable"), GOOD
            if row == error_row:
                status, colour = error, BAD
            cells = [number, QTableWidgetItem(line.model.full_name), QTableWidgetItem(described),
                     QTableWidgetItem(status)]
            cells[3].setForeground(colour)
            for column, cell in enumerate(cells):
                cell.setToolTip(cell.text())
                if row == error_row:
                    cell.setBackground(ERROR_ROW)
                table.setItem(row, column, cell)
        if self.lines:
            table.scrollToItem(table.item(len(self.lines) - 1 if error_row is None else error_row, 0))
        self._refresh()

    def _flash_row(self, row: int) -> None:
        self._flash += 1
        flash = self._flash
        for column in range(self.table.columnCount()):
            cell = self.table.item(row, column)
            if cell is not None:
                cell.setBackground(FLASH)

        def fade() -> None:
            if flash != self._flash or row >= self.table.rowCount():
                return
            for column in range(self.table.columnCount()):
                cell = self.table.item(row, column)
                if cell is not None:
                    cell.setData(Qt.ItemDataRole.BackgroundRole, None)

        QTimer.singleShot(FLASH_MS, self, fade)

    def _refresh(self) -> None:
        items = sum(1 for line in self.lines if line.serialized)
        consumables = len(self.lines) - items
        self.counters.setText(f"{_plural(items, 'item')} · {_plural(consumables, 'consumable line')}")
        n = len(self.rejected)
        self.rejected_toggle.setText(f"Rejected: {n}")
        self.rejected_toggle.setVisible(n > 0)
        self.rejected_list.setVisible(n > 0 and self.rejected_toggle.isChecked())
        scanning = self.steps.currentIndex() == 1
        current = self.current_item
        blocking = current is not None and bool(current.missing_required)
        self.model_combo.setEnabled(not blocking and not self._committing)
        self.model_combo.setToolTip("Finish or remove the item being scanned to change the model."
                                    if blocking else "")
        self.finish_button.setEnabled(scanning and bool(self.lines) and not self._committing
                                      and self.location_id is not None and not self.ctx.read_only)
        self.remove_button.setEnabled(bool(self.lines) and not self._committing)
        for widget in (self.change_location, self.add_quantity, self.manual, self.manual_add, self.table):
            widget.setEnabled(not self._committing)

    def _toggle_rejected(self, on: bool) -> None:
        self.rejected_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._refresh()

    def _say(self, text: str, colour: QColor) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"font-size: 15px; font-weight: 600; color: {colour.name()}; padding: 4px 2px;")

    # -- finishing -----------------------------------------------------------------------------
    def batch(self) -> list[ReceiveLine]:
        return [line.as_receive_line() for line in self.lines]

    def finish(self) -> None:
        """Write the batch as one change (Ctrl+Enter). A refused line is shown; nothing is written."""
        if self._committing or self.location_id is None or not self.lines or self.ctx.read_only:
            return
        self.error.clear_message()
        for row, line in enumerate(self.lines):
            missing = line.missing_required
            if missing:
                message = (f"Line {row + 1} has no {missing[0].label} yet: scan it, "
                           "or remove the line (Delete).")
                self._fill_table(row, f"Needs the {missing[0].label}")
                self.error.show_message(message)
                self.finish_failed.emit(message)
                return
        # Optional fields left empty on the last item are fine at the end.
        ctx, location_id, lines = self.ctx, self.location_id, self.batch()
        self._committing = True
        self.progress.show()
        self._say(f"Receiving {_plural(len(lines), 'line')} into {self.location_path}…", WAITING)
        self._refresh()
        ctx.runner.submit(lambda: service.receive(ctx.uow(), ctx.actor, location_id, lines), self._on_received,
                          self._on_receive_failed, label="Receiving stock", owner=self, writes=True)

    def _on_received(self, result: ReceiveResult) -> None:
        self._committing = False
        self.progress.hide()
        self.receive_result = result
        parts = []
        if result.items:
            parts.append(f"{_plural(len(result.items), 'item')} ({result.items[0].tag}"
                         f"{' to ' + result.items[-1].tag if len(result.items) > 1 else ''})")
        parts.extend(f"{quantity:,} {unit} {model}" for model, quantity, unit in result.quantities)
        text = f"Received into {result.location}: {', '.join(parts)}."
        self.summary_text = text
        self.lines.clear()
        self.received.emit(result)
        self._show_summary(text)
        super().accept()

    def _show_summary(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Received", text, QMessageBox.StandardButton.Ok,
                          self.parentWidget())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.summary_box = box

    def _on_receive_failed(self, exc: BaseException) -> None:
        self._committing = False
        self.progress.hide()
        message = self._message(exc)
        match = _LINE_NUMBER.match(message)
        row = int(match.group(1)) - 1 if match else None
        if row is not None and 0 <= row < len(self.lines):
            self._fill_table(row, message.split(":", 1)[1].strip())
            self.table.selectRow(row)
        else:
            self._fill_table()
        self.error.show_message(f"Nothing was received — {message} Fix or remove the line, then Finish again.")
        self._say("✗ Not received: the batch is still here.", BAD)
        self.finish_failed.emit(message)

    # -- closing -------------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """Ask before throwing a scanned batch away (tests replace this)."""
        items = sum(1 for line in self.lines if line.serialized)
        what = _plural(items, "scanned item") if items else _plural(len(self.lines), "line")
        answer = QMessageBox.question(self, "Discard the batch?", f"Discard {what}? Nothing has been received yet.",
                                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def reject(self) -> None:
        """Cancel or Escape: a non-empty batch is only discarded when the user says so."""
        if self._committing:
            return
        if self.lines and not self.confirm_discard():
            return
        self.listener.stop()
        super().reject()

    def done(self, result: int) -> None:
        self.listener.stop()
        super().done(result)

    # -- errors --------------------------------------------------------------------------------
    def _message(self, exc: BaseException) -> str:
        if isinstance(exc, RiserError):
            return str(exc)
        log.error("receive failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
        return f"Unexpected error: {exc}"

    def _show_error(self, exc: BaseException) -> None:
        self.error.show_message(self._message(exc))
