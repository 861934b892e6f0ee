"""Codes from a photo: open or paste a picture of a device's label, read every barcode and QR code
in it, and say which is the MAC, the serial, the IMEI.

Reading runs on the task runner (``barcodes.decode_image``, pyzbar); the dialog shows the picture
with a numbered mark on each code found, and a table of the codes with a "Use as" choice guessed
by ``identifiers.guess_kind``. Then either **Find** the selected code (the inventory view opens
the item it names) or **Create item…** of a chosen model, its fields filled in from the codes by
their "Use as" kind.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import RiserError
from app.inventory import barcodes, catalogue
from app.inventory import identifiers as ids
from app.inventory.barcodes import BarcodeReaderMissing, DecodedCode
from app.inventory.catalogue import ModelRow
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
IGNORE = "ignore"
USE_AS = ((ids.MAC, "MAC address"), (ids.SERIAL, "Serial number"), (ids.IMEI, "IMEI"), (ids.IMSI, "IMSI"),
          (ids.CUSTOM, "Custom"), (IGNORE, "Ignore"))
NO_CODES = "No barcodes or QR codes found in this image. Try a sharper photo, closer to the label."
PREVIEW = QSize(420, 360)
MARK = QColor("#2f6fd0")
CODE, SYMBOLOGY, KIND = range(3)


def image_png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG (what ``decode_image`` is given for a pasted picture)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def fields_for(model: ModelRow, chosen: list[tuple[str, str]]) -> tuple[dict[str, str], str]:
    """Map ``(kind, code)`` choices onto the model's fields by kind, in the model's order.

    Returns ``({field key: code}, "")`` or ``({}, problem)`` when a code has no field left of its
    kind, or none of them fits the model at all."""
    free = list(model.fields)
    values: dict[str, str] = {}
    for kind, code in chosen:
        spec = next((f for f in free if f.kind == kind), None)
        if spec is None:
            label = dict(USE_AS)[kind]
            have = sum(1 for f in model.fields if f.kind == kind)
            if not have:
                return {}, f"{model.full_name} has no {label} field: choose another “Use as” for {code}, or Ignore."
            return {}, f"{model.full_name} has {have} {label} field{'s' if have != 1 else ''}, and more codes are marked so."
        free.remove(spec)
        values[spec.key] = code
    if not values:
        return {}, "Mark at least one code as what it is (MAC address, Serial number…) to create an item."
    return values, ""


class _CodePicture(QLabel):
    """The picture, scaled to fit, with a numbered badge where each code was found."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("PhotoPreview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(PREVIEW)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("#PhotoPreview { background: white; border: 1px solid #d9dee5; color: #5b6673; }")
        self.setText("Open an image of a device's label,\nor paste one (Ctrl+V).")
        self.image = QImage()

    def show_image(self, image: QImage, codes: list[DecodedCode]) -> None:
        self.image = image
        if image.isNull():
            self.setPixmap(QPixmap())
            self.setText("No picture")
            return
        pixmap = QPixmap.fromImage(image).scaled(PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)
        scale = pixmap.width() / image.width()
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(12)
        painter.setFont(font)
        for n, code in enumerate(codes, start=1):
            centre = QPointF(code.left * scale + 2, code.top * scale + 2)
            badge = QRectF(centre.x() - 10, centre.y() - 10, 20, 20)
            painter.setPen(QPen(QColor("white"), 2))
            painter.setBrush(MARK)
            painter.drawEllipse(badge)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, str(n))
        painter.end()
        self.setPixmap(pixmap)


class PhotoCodesDialog(QDialog):
    """Read the codes in a photo of a label.

    Signals: ``decoded`` after each picture is read (codes listed, or a message shown),
    ``code_chosen(code)`` from Find, ``create_requested(model_id, {field key: value})`` from
    Create item…; the dialog closes after either."""

    decoded = Signal()
    code_chosen = Signal(str)
    create_requested = Signal(int, dict)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("PhotoCodesDialog")
        self.setWindowTitle("Codes from a photo")
        self.resize(980, 520)
        self.codes: list[DecodedCode] = []
        self.source = ""
        self._models: list[ModelRow] = []

        self.open_button = QPushButton("Open image…")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.choose_file)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setAutoDefault(False)
        self.paste_button.setToolTip("Paste a picture, or an image file, from the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self, self.paste)
        self.source_label = QLabel("")
        self.source_label.setObjectName("CountLabel")
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.paste_button)
        top.addWidget(self.source_label, 1)

        self.picture = _CodePicture()
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("PhotoCodes")
        self.table.setHorizontalHeaderLabels(["Code", "Symbology", "Use as"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.verticalHeader().setToolTip("The number marked on the picture")
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(CODE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SYMBOLOGY, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(KIND, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(KIND, 150)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.find())
        self.message = FieldError()
        self.message.setObjectName("FieldError")

        self.find_button = QPushButton("Find")
        self.find_button.setAutoDefault(False)
        self.find_button.setToolTip("Look the selected code up and open its item")
        self.find_button.clicked.connect(self.find)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("PhotoModel")
        self.model_combo.setMinimumWidth(220)
        self.create_button = QPushButton("Create item…")
        self.create_button.setAutoDefault(False)
        self.create_button.setToolTip("A new item of this model with its fields filled from the codes")
        self.create_button.clicked.connect(self.create_item)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        actions = QHBoxLayout()
        actions.addWidget(self.find_button)
        actions.addStretch(1)
        actions.addWidget(QLabel("Model"))
        actions.addWidget(self.model_combo)
        actions.addWidget(self.create_button)

        right = QVBoxLayout()
        right.addWidget(self.table, 1)
        right.addWidget(self.message)
        right.addLayout(actions)
        body = QHBoxLayout()
        body.addWidget(self.picture, 5)
        body.addLayout(right, 6)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addLayout(bottom)

        self._update_buttons()
        self._load_models()

    # -- models for "Create item…" ------------------------------------------------------------
    def _load_models(self) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: catalogue.list_models(ctx.uow(), ctx.actor, enabled_only=True),
                          self._on_models, self._show_error, label="Loading models", owner=self)

    def _on_models(self, models: list[ModelRow]) -> None:
        self._models = [m for m in models if m.serialized and m.fields]
        self.model_combo.clear()
        for model in self._models:
            self.model_combo.addItem(model.full_name, model.id)
        self._update_buttons()

    # -- pictures in -------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo of a label", "", IMAGE_FILTER)
        if path:
            self.load_path(path)

    def load_path(self, path: str | Path) -> None:
        """Show and read the picture in this file."""
        path = Path(path)
        self.source = str(path)
        self.source_label.setText(path.name)
        self._decode(QImage(str(path)), lambda: barcodes.decode_image(path))

    def load_image(self, image: QImage, source: str = "Pasted picture") -> None:
        """Show and read a picture already in memory (pasted).

        The PNG encoding (slow for a big photo) runs on the task runner with the reading. It gets
        its own deep copy of the image: a QImage shares its pixels with its copies, and the one
        on screen must not be touched from another thread."""
        self.source = source
        self.source_label.setText(source)
        pixels = image.copy()
        self._decode(image, lambda: barcodes.decode_image(image_png_bytes(pixels)))

    def paste(self) -> None:
        """Ctrl+V: a picture on the clipboard, or a copied image file."""
        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.load_image(image)
                return
        if mime is not None and mime.hasUrls():
            local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
            if local:
                self.load_path(local[0])
                return
        self._say("The clipboard holds no picture: copy an image, or an image file, then paste.")

    def _decode(self, image: QImage, op) -> None:
        self.codes = []
        self.table.setRowCount(0)
        self.picture.show_image(image, [])
        self._say("")
        self.source_label.setText(f"{self.source_label.text()} — reading…")
        self._update_buttons()
        self.ctx.runner.submit(op, lambda codes: self._on_decoded(image, codes), self._on_decode_failed,
                               label="Reading codes from the picture", key=f"photo-{id(self)}", owner=self)

    def _on_decoded(self, image: QImage, codes: list[DecodedCode]) -> None:
        self.source_label.setText(self.source_label.text().removesuffix(" — reading…"))
        self.codes = list(codes)
        self.picture.show_image(image, self.codes)
        self._fill_table()
        if not codes:
            self._say(NO_CODES)
        else:
            self.table.selectRow(0)
        self._update_buttons()
        self.decoded.emit()

    def _on_decode_failed(self, exc: BaseException) -> None:
        self.source_label.setText(self.source_label.text().removesuffix(" — reading…"))
        self._show_error(exc)
        self._update_buttons()
        self.decoded.emit()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.codes))
        for row, code in enumerate(self.codes):
            text = QTableWidgetItem(code.data)
            text.setToolTip(code.data)
            self.table.setItem(row, CODE, text)
            self.table.setItem(row, SYMBOLOGY, QTableWidgetItem(code.symbology))
            combo = QComboBox()
            for kind, label in USE_AS:
                combo.addItem(label, kind)
            combo.setCurrentIndex(combo.findData(ids.guess_kind(code.data)))
            self.table.setCellWidget(row, KIND, combo)

    # -- choices out ---------------------------------------------------------------------------
    def use_as(self, row: int) -> str:
        """The kind chosen for the code on ``row`` (mac, serial, imei, imsi, custom or ignore)."""
        combo = self.table.cellWidget(row, KIND)
        return combo.currentData() if isinstance(combo, QComboBox) else IGNORE

    def set_use_as(self, row: int, kind: str) -> None:
        combo = self.table.cellWidget(row, KIND)
        combo.setCurrentIndex(combo.findData(kind))

    def selected_code(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.codes[rows[0].row()].data if rows else None

    def find(self) -> None:
        """Look the selected code up: the inventory view opens its item."""
        code = self.selected_code()
        if code is None:
            self._say("Select the code to look up.")
            return
        self.code_chosen.emit(code)
        self.accept()

    def create_item(self) -> None:
        """Ask for a new item of the chosen model, its fields filled by the codes' "Use as"."""
        model = next((m for m in self._models if m.id == self.model_combo.currentData()), None)
        if model is None:
            self._say("Choose the model of the new item.")
            return
        chosen = [(self.use_as(row), code.data) for row, code in enumerate(self.codes)
                  if self.use_as(row) != IGNORE]
        values, problem = fields_for(model, chosen)
        if problem:
            self._say(problem)
            return
        self.create_requested.emit(model.id, values)
        self.accept()

    # -- state -------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.find_button.setEnabled(bool(self.codes) and self.selected_code() is not None)
        self.create_button.setEnabled(bool(self.codes) and bool(self._models) and not self.ctx.read_only)
        self.model_combo.setEnabled(bool(self._models))

    def _say(self, text: str) -> None:
        if text:
            self.message.show_message(text)
        else:
            self.message.clear_message()

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, (RiserError, BarcodeReaderMissing)):
            self._say(str(exc))
        else:
            log.error("reading a picture failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
            self._say(f"Unexpected error: {exc}")
