"""The Inventory section: a header of actions, and tabs — Items, Stock, Locations, Catalogue.

Actions: Receive… (Ctrl+R), New item… (Ctrl+N), Codes from a photo…, Print labels… (Ctrl+P,
for the selected items) and Refresh (F5).

A USB barcode reader works anywhere in the section, focused field or not (``ScanListener``):

- an item's code (its tag or any identifier) opens the item; when several items carry it, a small
  list asks which;
- a location's code shows the items kept there (and inside it) on the Items tab;
- an unknown code offers to create an item with it, the field whose kind the code looks like
  (MAC, IMEI, serial…) already filled in.

A status line beside the tabs says what each scan did ("Scanned 24:5A:…: opened I-000012"),
so the user sees it landed. Typing into the search box at a person's speed still just searches.

The dialogs a scan opens (the item, "Which item?", "Unknown code") listen for the reader too: the
next scan closes the dialog and is looked up like the first, so a tech can scan device after
device without touching the keyboard. An item dialog with unsaved edits stays open and says
"Save or close this item first" instead; nothing of the scan is typed into it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.permissions import Permission
from app.inventory import catalogue, service
from app.inventory import identifiers as ids
from app.inventory.catalogue import ModelRow
from app.inventory.service import CodeMatch, ItemRow
from app.ui.context import AppContext
from app.ui.inventory.catalogue import CataloguePanel
from app.ui.inventory.item_dialog import ItemDialog, NewItemDialog, error_text
from app.ui.inventory.items import ItemsPanel
from app.ui.inventory.locations import LocationsPanel
from app.ui.inventory.stock import StockPanel
from app.ui.widgets.scan import ScanListener

CODE_SHOWN = 24  # characters of a scanned code shown in the status line


def short_code(code: str) -> str:
    return code if len(code) <= CODE_SHOWN else f"{code[:CODE_SHOWN - 1]}…"


class ChooseItemDialog(QDialog):
    """Several items carry the scanned code: pick the one to open."""

    def __init__(self, code: str, items: Sequence[ItemRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChooseItemDialog")
        self.setWindowTitle("Which item?")
        self.setMinimumWidth(520)
        text = QLabel(f"{len(items)} items carry the code {code}. Open which?")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.PlainText)
        self.list = QListWidget()
        self.list.setObjectName("ChooseItemList")
        for row in items:
            entry = QListWidgetItem(f"{row.summary}   ·   {row.state_label}")
            entry.setData(Qt.ItemDataRole.UserRole, row.id)
            self.list.addItem(entry)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        open_button = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        open_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def chosen(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


def best_field(models: Sequence[ModelRow], kind: str) -> tuple[int, str] | None:
    """The first model with a field of ``kind``, and that field's key (else the first field)."""
    for model in models:
        for spec in model.fields:
            if spec.kind == kind:
                return model.id, spec.key
    for model in models:
        if model.fields:
            return model.id, model.fields[0].key
    return None


class UnknownCodeDialog(QDialog):
    """"No item has the code X — create one?": pick the model and which of its fields the code
    is (pre-chosen by the kind the code looks like), then go on to the New item dialog."""

    def __init__(self, ctx: AppContext, match: CodeMatch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.match = match
        self.models: list[ModelRow] = []
        self.setObjectName("UnknownCodeDialog")
        self.setWindowTitle("Unknown code")
        self.setMinimumWidth(520)
        self.text = QLabel(f"No item has the code {match.code} — create one?")
        self.text.setObjectName("UnknownCodeText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.guess = QLabel(f"It looks like a {ids.KIND_LABELS.get(match.guessed_kind, 'serial number')}.")
        self.guess.setObjectName("CountLabel")
        self.model = QComboBox()
        self.model.setObjectName("UnknownCodeModel")
        self.model.setMinimumContentsLength(30)
        self.model.addItem("Loading models…", None)
        self.model.currentIndexChanged.connect(self._on_model)
        self.field = QComboBox()
        self.field.setObjectName("UnknownCodeField")
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("The code is its", self.field)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create item…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        self.create_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.guess)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        ctx.runner.submit(lambda: catalogue.list_models(ctx.uow(), ctx.actor, enabled_only=True), self._fill,
                          lambda exc: self.text.setText(error_text(exc)), owner=self)

    def _fill(self, models: list[ModelRow]) -> None:
        self.models = [m for m in models if m.serialized]
        best = best_field(self.models, self.match.guessed_kind)
        self.model.blockSignals(True)
        self.model.clear()
        for m in self.models:
            self.model.addItem(m.full_name, m.id)
        if not self.models:
            self.model.addItem("No serialized models yet — add one on the Catalogue tab", None)
        if best is not None:
            self.model.setCurrentIndex(max(0, self.model.findData(best[0])))
        self.model.blockSignals(False)
        self._on_model(prefer=best[1] if best else None)

    def _on_model(self, _index: int = 0, prefer: str | None = None) -> None:
        model = next((m for m in self.models if m.id == self.model.currentData()), None)
        self.field.clear()
        for spec in model.fields if model else ():
            self.field.addItem(spec.label, spec.key)
        if model is not None and prefer is None:
            prefer = next((s.key for s in model.fields if s.kind == self.match.guessed_kind), None)
        if prefer is not None:
            self.field.setCurrentIndex(max(0, self.field.findData(prefer)))
        self.create_button.setEnabled(model is not None)

    def chosen(self) -> tuple[int, dict[str, str]] | None:
        """The model and the identifiers to pre-fill: ``(model_id, {field key: code})``."""
        model_id = self.model.currentData()
        if model_id is None:
            return None
        key = self.field.currentData()
        return model_id, ({key: self.match.code} if key else {})


class InventoryView(QWidget):
    """The Inventory section (see the module doc)."""

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("InventoryView")
        self.editable = ctx.actor.can(Permission.INVENTORY_EDIT) and not ctx.read_only
        self._clock = clock
        self.dialog: QDialog | None = None  # the last dialog opened from here (tests look at it)
        self.item_dialog: ItemDialog | None = None

        # -- header
        self.receive_button = QPushButton("Receive…")
        self.receive_button.setToolTip("Scan a delivery into a location (Ctrl+R)")
        self.receive_button.clicked.connect(self.receive)
        self.new_button = QPushButton("New item…")
        self.new_button.setToolTip("Add one item by hand (Ctrl+N)")
        self.new_button.clicked.connect(lambda: self.new_item())
        self.photo_button = QPushButton("Codes from a photo…")
        self.photo_button.setToolTip("Read the barcodes on a photo of a device's label")
        self.photo_button.clicked.connect(self.codes_from_photo)
        self.labels_button = QPushButton("Print labels…")
        self.labels_button.setToolTip("Barcode labels for the selected items (Ctrl+P)")
        self.labels_button.clicked.connect(self.print_labels)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Reload every tab (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        for button in (self.receive_button, self.new_button):
            button.setEnabled(self.editable)
        self.status = QLabel("Scan a code anywhere here to open its item or location.")
        self.status.setObjectName("ScanStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet("QLabel#ScanStatus { color: #3b4450; padding-left: 2px; }")
        # A long message is cut short rather than widen the window (the tooltip has it all).
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(120)
        header = QHBoxLayout()
        for button in (self.receive_button, self.new_button, self.photo_button, self.labels_button):
            header.addWidget(button)
        header.addStretch(1)
        header.addWidget(self.refresh_button)

        # -- tabs
        self.items = ItemsPanel(ctx)
        self.items.item_activated.connect(self.open_item)
        self.stock = StockPanel(ctx)
        self.locations = LocationsPanel(ctx)
        self.locations.location_selected.connect(self.show_location)
        self.catalogue = CataloguePanel(ctx)
        for signal_owner in (self.locations, self.catalogue):
            changed = getattr(signal_owner, "changed", None)
            if changed is not None:
                changed.connect(self.items.refresh)
        print_requested = getattr(self.locations, "print_labels_requested", None)
        if print_requested is not None:
            print_requested.connect(lambda location_ids: self.print_labels(location_ids=location_ids))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("InventoryTabs")
        self.tabs.addTab(self.items, "Items")
        self.tabs.addTab(self.stock, "Stock")
        self.tabs.addTab(self.locations, "Locations")
        self.tabs.addTab(self.catalogue, "Catalogue")
        # The scan status sits beside the tabs, where the eye is after a scan.
        self.tabs.setCornerWidget(self.status, Qt.Corner.TopRightCorner)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)

        shortcuts = (
            ("Ctrl+R", self.receive), ("Ctrl+N", lambda: self.new_item()), ("Ctrl+P", self.print_labels),
            ("F5", self.refresh),
        )
        for keys, slot in shortcuts:
            QShortcut(QKeySequence(keys), self, slot)

        self.scanner = ScanListener(self, clock=clock)
        self.scanner.scanned.connect(self.handle_scan)

    def save_layout(self, settings: QSettings) -> None:
        """Column widths, kept for the next start (called by the main window)."""
        self.items.save_layout(settings)

    # -- header actions ------------------------------------------------------------------------
    def refresh(self) -> None:
        for panel in (self.items, self.stock, self.locations, self.catalogue):
            panel.refresh()

    def _show_dialog(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def receive(self) -> None:
        """Receive mode: scan a location, then a delivery into it, committed as one batch."""
        if not self.editable:
            return
        from app.ui.inventory.receive import ReceiveDialog

        dialog = ReceiveDialog(self.ctx, self, location_id=self.items.location_filter.currentData())
        dialog.finished.connect(lambda result: self.refresh() if result == QDialog.DialogCode.Accepted else None)
        self._show_dialog(dialog)

    def new_item(self, model_id: int | None = None, identifiers: dict[str, str] | None = None) -> NewItemDialog | None:
        if not self.editable:
            return None
        dialog = NewItemDialog(self.ctx, self, model_id=model_id, identifiers=identifiers,
                               location_id=self.items.location_filter.currentData())
        dialog.created.connect(self._on_created)
        self._show_dialog(dialog)
        return dialog

    def _on_created(self, row: ItemRow) -> None:
        self.set_status(f"Created {row.tag} ({row.model}).")
        self.items.refresh()
        self.open_item(row.id)

    def codes_from_photo(self) -> None:
        from app.ui.inventory.photo import PhotoCodesDialog

        dialog = PhotoCodesDialog(self.ctx, self)
        dialog.code_chosen.connect(self.handle_scan)
        dialog.create_requested.connect(lambda model_id, identifiers: self.new_item(model_id, dict(identifiers)))
        self._show_dialog(dialog)

    def print_labels(self, item_ids: Sequence[int] | None = None, location_ids: Sequence[int] = ()) -> None:
        """Labels for the given items or locations; by default the items selected in the list."""
        from app.ui.inventory.labels import LabelsDialog

        if item_ids is None:
            item_ids = () if location_ids else self.items.selected_item_ids()
        self._show_dialog(LabelsDialog(self.ctx, self, item_ids=tuple(item_ids), location_ids=tuple(location_ids)))

    # -- items and locations -------------------------------------------------------------------
    def open_item(self, item_id: int) -> ItemDialog:
        dialog = ItemDialog(self.ctx, item_id, self)
        dialog.changed.connect(lambda _id: self.items.model.reload())
        self.item_dialog = dialog
        self._listen_for_scans(dialog, busy=lambda: self._item_busy(dialog))
        self._show_dialog(dialog)
        return dialog

    def _listen_for_scans(self, dialog: QDialog, busy: Callable[[], str] | None = None) -> ScanListener:
        """Hear the reader while ``dialog`` is open: a scan closes it and is looked up as usual.

        ``busy`` says why the dialog must stay ("" when it may close); then the scan is ignored
        and the reason shown in the dialog (``show_scan_refused``)."""
        listener = ScanListener(dialog, clock=self._clock)

        def scanned(code: str) -> None:
            reason = busy() if busy is not None else ""
            if reason:
                refuse = getattr(dialog, "show_scan_refused", None)
                if refuse is not None:
                    refuse(reason)
                return
            listener.stop()
            dialog.reject()
            self.handle_scan(code)

        listener.scanned.connect(scanned)
        dialog.finished.connect(lambda _result: listener.stop())
        return listener

    @staticmethod
    def _item_busy(dialog: ItemDialog) -> str:
        if dialog.has_unsaved_edits():
            return "Save or close this item first, then scan again."
        if dialog.picker is not None:  # pragma: no cover - the picker is the active window then
            return "Finish the move first: the scan was not used."
        return ""

    def show_location(self, location_id: int) -> None:
        """The Items tab, filtered to the location and everything inside it."""
        self.items.set_location(location_id)
        self.tabs.setCurrentWidget(self.items)

    # -- scanning ------------------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)

    def handle_scan(self, code: str) -> None:
        """Look a scanned (or photographed) code up and act on what it is."""
        code = code.strip()
        if not code:
            return
        self.set_status(f"Scanned {short_code(code)}: looking it up…")
        ctx = self.ctx
        ctx.runner.submit(lambda: service.find_code(ctx.uow(), ctx.actor, code), self._on_match,
                          lambda exc: self.set_status(f"Scanned {short_code(code)}: {error_text(exc)}"),
                          label="Looking up a code", key=f"inventory-scan:{id(self)}", owner=self)

    def _on_match(self, match: CodeMatch) -> None:
        shown = short_code(match.code)
        if len(match.items) == 1:
            item = match.items[0]
            self.set_status(f"Scanned {shown}: opened {item.tag} ({item.model}).")
            self.open_item(item.id)
        elif match.items:
            self.set_status(f"Scanned {shown}: {len(match.items)} items carry it — choose one.")
            chooser = ChooseItemDialog(match.code, match.items, self)
            chooser.accepted.connect(lambda: self._open_chosen(chooser.chosen()))
            self._listen_for_scans(chooser)
            self._show_dialog(chooser)
        elif match.location is not None:
            retired = "" if match.location.active else " (no longer in use)"
            self.set_status(f"Scanned {shown}: showing what is at {match.location.path}{retired}.")
            self.show_location(match.location.id)
        else:
            self.set_status(f"Scanned {shown}: no item has this code.")
            if self.editable:
                self.offer_create(match)

    def _open_chosen(self, item_id: int | None) -> None:
        if item_id is not None:
            self.open_item(item_id)

    def offer_create(self, match: CodeMatch) -> UnknownCodeDialog:
        dialog = UnknownCodeDialog(self.ctx, match, self)

        def go_on() -> None:
            chosen = dialog.chosen()
            if chosen is not None:
                self.new_item(*chosen)

        dialog.accepted.connect(go_on)
        self._listen_for_scans(dialog)
        self._show_dialog(dialog)
        return dialog
