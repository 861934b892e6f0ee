"""Codes from a photo and label printing, driven through their dialogs: a picture of two Code 128
labels is read back with the right guesses; a broken file says so; a label sheet for three items
and a shelf is written as a PDF whose codes read back as printed."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from pathlib import Path

import barcode
import pytest
from barcode.writer import ImageWriter
from PIL import Image
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from app.inventory import barcodes, catalogue, service
from app.inventory.catalogue import FieldSpec, LocationInput, ModelInput
from app.inventory.service import ItemInput
from app.ui.inventory import photo
from app.ui.inventory.labels import LabelsDialog
from app.ui.inventory.photo import NO_CODES, PhotoCodesDialog

MAC, SERIAL = "24:5A:4C:11:22:33", "SN4471A0932"
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")


def _code128(text: str) -> Image.Image:
    out = io.BytesIO()
    barcode.get("code128", text, writer=ImageWriter()).write(out)
    out.seek(0)
    return Image.open(out).convert("RGB")


def _two_labels_png(path: Path) -> Path:
    """A MAC's and a serial's Code 128 side by side in one picture, as on a device's sticker."""
    left, right = _code128(MAC), _code128(SERIAL)
    picture = Image.new("RGB", (left.width + right.width + 60, max(left.height, right.height) + 40), "white")
    picture.paste(left, (20, 20))
    picture.paste(right, (left.width + 40, 20))
    picture.save(path)
    return path


@pytest.fixture()
def router(ctx) -> catalogue.ModelRow:
    return catalogue.save_model(ctx.uow(), ctx.actor, ModelInput(
        "Ubiquiti", "Access points", "UniFi 6 Lite",
        fields=(FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial", True)),
    ))


def _photo_dialog(qtbot, ctx) -> PhotoCodesDialog:
    dialog = PhotoCodesDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.model_combo.count() > 0, timeout=10000)
    return dialog


def _codes(dialog: PhotoCodesDialog) -> list[tuple[str, str, str]]:
    t = dialog.table
    return [(t.item(r, 0).text(), t.item(r, 1).text(), t.cellWidget(r, 2).currentText()) for r in range(t.rowCount())]


def test_a_photo_of_two_labels_lists_both_codes_with_what_they_look_like(qtbot, ctx, router, tmp_path) -> None:
    dialog = _photo_dialog(qtbot, ctx)
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_path(_two_labels_png(tmp_path / "sticker.png"))
    assert _codes(dialog) == [(MAC, "CODE128", "MAC address"), (SERIAL, "CODE128", "Serial number")]
    assert not dialog.message.isVisibleTo(dialog)
    assert not dialog.picture.pixmap().isNull()

    # Create item… maps the codes onto the model's fields by their "Use as".
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(router.id))
    with qtbot.waitSignal(dialog.create_requested) as requested:
        dialog.create_button.click()
    assert requested.args == [router.id, {"mac": MAC, "serial": SERIAL}]


def test_find_hands_the_selected_code_to_the_view_and_a_bad_mapping_is_explained(qtbot, ctx, router, tmp_path) -> None:
    dialog = _photo_dialog(qtbot, ctx)
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_path(_two_labels_png(tmp_path / "sticker.png"))
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(router.id))
    dialog.set_use_as(1, "imei")
    dialog.create_button.click()
    assert dialog.message.text() == (
        "Ubiquiti UniFi 6 Lite has no IMEI field: choose another “Use as” for SN4471A0932, or Ignore.")
    assert dialog.isVisible()
    dialog.table.selectRow(1)
    with qtbot.waitSignal(dialog.code_chosen) as chosen:
        dialog.find_button.click()
    assert chosen.args == [SERIAL] and not dialog.isVisible()


def test_a_pasted_picture_is_read_like_an_opened_one(qtbot, ctx, router, tmp_path) -> None:
    dialog = _photo_dialog(qtbot, ctx)
    mime = QMimeData()
    mime.setImageData(QImage(str(_two_labels_png(tmp_path / "sticker.png"))))
    clipboard = QApplication.clipboard()
    clipboard.setMimeData(mime)
    try:
        with qtbot.waitSignal(dialog.decoded, timeout=20000):
            qtbot.keyClick(dialog, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    finally:
        # Qt's offscreen clipboard still owning the picture at exit crashes the interpreter's
        # teardown (exit code 139): give it back now.
        clipboard.clear()
    assert [row[0] for row in _codes(dialog)] == [MAC, SERIAL]
    assert dialog.source_label.text() == "Pasted picture"


def test_an_unreadable_file_and_a_picture_without_codes_say_so(qtbot, ctx, tmp_path) -> None:
    dialog = _photo_dialog(qtbot, ctx)
    broken = tmp_path / "label.jpg"
    broken.write_text("not really a picture")
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_path(broken)
    assert dialog.message.isVisibleTo(dialog)
    assert dialog.message.text() == "This file is not an image Riser can read: its format is not recognised."
    assert dialog.table.rowCount() == 0 and not dialog.find_button.isEnabled()

    blank = tmp_path / "wall.png"
    Image.new("RGB", (200, 120), "white").save(blank)
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_path(blank)
    assert dialog.message.text() == NO_CODES


def test_a_missing_barcode_reader_is_explained(qtbot, ctx, tmp_path, monkeypatch) -> None:
    def missing(_source):
        raise barcodes.BarcodeReaderMissing("Reading barcodes from images needs the zbar library.")

    monkeypatch.setattr(barcodes, "decode_image", missing)
    dialog = _photo_dialog(qtbot, ctx)
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_path(_two_labels_png(tmp_path / "sticker.png"))
    assert dialog.message.text() == "Reading barcodes from images needs the zbar library."


@needs_pdftoppm
def test_labels_for_three_items_and_a_shelf_are_saved_as_a_pdf_that_scans_back(qtbot, ctx, router, tmp_path) -> None:
    shelf = catalogue.save_location(ctx.uow(), ctx.actor, LocationInput("Shelf A", "shelf", code="SHELF-A"))
    items = [
        service.create_item(ctx.uow(), ctx.actor, ItemInput(router.id, {"mac": f"24:5A:4C:11:22:3{n}", "serial": f"SN-{n}"},
                                                            shelf.id))
        for n in range(3)
    ]
    dialog = LabelsDialog(ctx, item_ids=[i.id for i in items], location_ids=[shelf.id])
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10000):
        dialog.show()
    t = dialog.table
    rows = [[t.item(r, c).text() for c in range(3)] for r in range(t.rowCount())]
    assert rows == [
        *[[i.tag, "Ubiquiti UniFi 6 Lite", f"MAC address 24:5A:4C:11:22:3{n}"] for n, i in enumerate(items)],
        ["SHELF-A", "Shelf A", ""],
    ]
    assert dialog.count.text() == "4 labels · 1 page"

    # Print the MACs instead; skip the first 2 positions of a used sheet.
    dialog.printing.setCurrentIndex(dialog.printing.findData("mac"))
    assert t.item(0, 0).text() == "24:5A:4C:11:22:30" and t.item(0, 2).text() == items[0].tag
    dialog.skip.setValue(2)
    target = tmp_path / "inventory-labels.pdf"
    with qtbot.waitSignal(dialog.saved, timeout=20000) as saved:
        dialog.save_pdf(target)
    assert saved.args == [str(target), 1]
    assert target.read_bytes().startswith(b"%PDF-")
    assert dialog.open_button.isVisibleTo(dialog) and str(target) in dialog.done_label.text()

    subprocess.run(["pdftoppm", "-r", "300", "-png", str(target), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    read = [code.data for code in barcodes.decode_image(pages[0])]
    assert sorted(read) == sorted([*(f"24:5A:4C:11:22:3{n}" for n in range(3)), "SHELF-A"])


def test_labels_can_be_added_by_typing_a_code_and_an_unwritable_folder_is_explained(qtbot, ctx, router, tmp_path) -> None:
    shelf = catalogue.save_location(ctx.uow(), ctx.actor, LocationInput("Shelf B", "shelf", code="SHELF-B"))
    item = service.create_item(ctx.uow(), ctx.actor, ItemInput(router.id, {"mac": "245a4c0000aa", "serial": "X1"}, shelf.id))
    dialog = LabelsDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10000):
        dialog.show()
    assert dialog.table.rowCount() == 0 and not dialog.save_button.isEnabled()
    for code, added in (("24-5A-4C-00-00-AA", True), ("shelf-b", True), (item.tag, False), ("NOPE-1", False)):
        dialog.code.setText(code)
        with qtbot.waitSignal(dialog.code_added, timeout=10000) as blocker:
            dialog.add_button.click()
        assert blocker.args == [code, added]
    assert dialog.error.text() == "No item or location has the code NOPE-1."
    assert [dialog.table.item(r, 0).text() for r in range(2)] == [item.tag, "SHELF-B"]
    # The roll has one label a page: nothing to skip.
    dialog.stock.setCurrentIndex(dialog.stock.findData(barcodes.ROLL_SINGLE.key))
    assert not dialog.skip.isEnabled() and dialog.count.text() == "2 labels · 2 pages"
    with qtbot.waitSignal(dialog.saved, timeout=20000) as saved:
        dialog.save_pdf(tmp_path / "roll.pdf")
    assert saved.args[1] == 2
    # A folder that does not exist: said inline.
    dialog.save_pdf(tmp_path / "missing" / "x.pdf")
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=10000)
    assert dialog.error.text().startswith("Cannot save")


def test_a_pasted_picture_is_encoded_on_the_task_runner_not_the_gui_thread(qtbot, ctx, router, tmp_path, monkeypatch) -> None:
    encoded_on: list[threading.Thread] = []
    encode = photo.image_png_bytes

    def watched(image: QImage) -> bytes:
        encoded_on.append(threading.current_thread())
        return encode(image)

    monkeypatch.setattr(photo, "image_png_bytes", watched)
    dialog = _photo_dialog(qtbot, ctx)
    with qtbot.waitSignal(dialog.decoded, timeout=20000):
        dialog.load_image(QImage(str(_two_labels_png(tmp_path / "sticker.png"))))
    assert [row[0] for row in _codes(dialog)] == [MAC, SERIAL]
    assert len(encoded_on) == 1 and encoded_on[0] is not threading.main_thread()
