"""Receive mode driven like a tech with a USB reader: scan the shelf's label, scan the devices'
MACs and serials, watch bad scans bounce off, finish — and see a batch refused at the end leave
the database as it was."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.inventory import catalogue, service
from app.inventory import identifiers as ids
from app.inventory.catalogue import FieldSpec, LocationInput, ModelInput
from app.inventory.repository import ItemQuery
from app.inventory.service import ItemInput
from app.ui.inventory.receive import ReceiveDialog

READER_MS = 5


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reader:
    """A USB barcode reader: a key press and release per character, 5 ms apart, then Enter.

    The keys go to whatever has focus in the dialog, or to the dialog itself when nothing does —
    where a real reader's keys go."""

    def __init__(self, clock: FakeClock, window: QWidget) -> None:
        self.clock, self.window = clock, window

    def _key(self, key: int, text: str, modifiers: Qt.KeyboardModifier) -> None:
        self.clock.now += READER_MS / 1000
        target = QApplication.focusWidget() or self.window
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, key, modifiers, text))

    def scan(self, code: str) -> None:
        for ch in code:
            shift = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
            self._key(ord(ch.upper()), ch, shift)
        self._key(int(Qt.Key.Key_Return), "\r", Qt.KeyboardModifier.NoModifier)


@dataclass
class Stock:
    warehouse: int
    shelf: int
    shelf_code: str
    router: int  # MAC (required) + serial (required)
    keyfob: int  # serial only
    cable: int  # by quantity, metres


@pytest.fixture()
def stock(ctx) -> Stock:
    uow, actor = ctx.uow, ctx.actor
    warehouse = catalogue.save_location(uow(), actor, LocationInput("North depot", "warehouse"))
    shelf = catalogue.save_location(uow(), actor, LocationInput("Rack 7", "shelf", warehouse.id, code="RACK-7"))
    router = catalogue.save_model(uow(), actor, ModelInput(
        "Ubiquiti", "Access points", "UniFi 6 Lite",
        fields=(FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial", True)),
    ))
    keyfob = catalogue.save_model(uow(), actor, ModelInput(
        "Salto", "Keys", "Key fob", fields=(FieldSpec("serial", "Serial number", "serial", True),)))
    cable = catalogue.save_model(uow(), actor, ModelInput("Belden", "Cable", "Cat6 CMR", tracking="quantity", unit="m"))
    return Stock(warehouse.id, shelf.id, shelf.code, router.id, keyfob.id, cable.id)


def _open(qtbot, ctx, clock: FakeClock, location_id: int | None = None) -> ReceiveDialog:
    dialog = ReceiveDialog(ctx, location_id=location_id, clock=clock)
    dialog.confirm_discard = lambda: True
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10000):
        dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def _scan(qtbot, dialog: ReceiveDialog, reader: Reader, code: str) -> bool:
    """Scan and wait until the dialog has dealt with the code; True when it was added."""
    with qtbot.waitSignal(dialog.scan_handled, timeout=10000) as blocker:
        reader.scan(code)
    assert blocker.args[0] == code
    return blocker.args[1]


def _rows(dialog: ReceiveDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _items_at(ctx, location_id: int) -> list[service.ItemRow]:
    _total, rows = service.first_items_page(ctx.uow(), ctx.actor, ItemQuery(location_ids=(location_id,)), 500)
    return rows


MACS = ["24:5A:4C:11:22:33", "245a4c112234", "24-5A-4C-11-22-35"]
SERIALS = ["SN4471A0931", "SN4471A0932", "SN4471A0933"]


def test_scanning_a_shelf_then_macs_and_serials_receives_each_device_once(qtbot, ctx, stock) -> None:
    already = service.create_item(ctx.uow(), ctx.actor, ItemInput(
        stock.router, {"mac": "24:5A:4C:00:00:01", "serial": "SN0000"}, stock.warehouse))
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock)
    reader = Reader(clock, dialog)
    assert dialog.steps.currentIndex() == 0  # "Scan a location label"

    # Step 1: the shelf's label, scanned with nothing focused.
    dialog.setFocus()
    assert _scan(qtbot, dialog, reader, stock.shelf_code)
    assert dialog.steps.currentIndex() == 1 and dialog.location_id == stock.shelf
    assert "North depot › Rack 7" in dialog.where.text()

    # Step 2: MAC, serial, MAC, serial… each pair is one item.
    dialog.select_model(stock.router)
    assert _scan(qtbot, dialog, reader, MACS[0])
    assert _rows(dialog) == [["1", "Ubiquiti UniFi 6 Lite", "MAC address 24:5A:4C:11:22:33", "Scan the Serial number"]]
    assert dialog.status.text() == "✓ 24:5A:4C:11:22:33 (MAC address) — 1 item · now scan the Serial number"
    assert not dialog.model_combo.isEnabled()  # half an item: the model stays
    assert _scan(qtbot, dialog, reader, SERIALS[0])
    for mac, serial in zip(MACS[1:], SERIALS[1:], strict=True):
        assert _scan(qtbot, dialog, reader, mac)
        if mac == MACS[2]:  # the reader slips back to the first box: its MAC is no serial number
            assert not _scan(qtbot, dialog, reader, "245A4C112233")
            assert dialog.status.text() == ("✗ Not added: 245A4C112233 is the MAC address on line 1: "
                                            "scan this item's Serial number.")
        assert _scan(qtbot, dialog, reader, serial)
    assert [row[2:] for row in _rows(dialog)] == [
        ["MAC address 24:5A:4C:11:22:33  ·  Serial number SN4471A0931", "Ready"],
        ["MAC address 24:5A:4C:11:22:34  ·  Serial number SN4471A0932", "Ready"],
        ["MAC address 24:5A:4C:11:22:35  ·  Serial number SN4471A0933", "Ready"],
    ]
    assert dialog.counters.text() == "3 items · 0 consumable lines"
    assert dialog.rejected_toggle.text() == "Rejected: 1"

    # A duplicate in the batch, however it is written, is flagged and not added.
    assert not _scan(qtbot, dialog, reader, "245A4C112234")
    assert dialog.status.text().startswith("✗ Not added: MAC address 24:5A:4C:11:22:34 is already in this batch (line 2)")
    # So is one already on an item in the database, and a MAC that is not one.
    assert not _scan(qtbot, dialog, reader, "24:5a:4c:00:00:01")
    assert f"is already on item {already.tag}" in dialog.status.text()
    assert not _scan(qtbot, dialog, reader, "24:5A:4C:11:22")
    assert "has 10 hex digits; a MAC address has 12" in dialog.status.text()
    assert len(_rows(dialog)) == 3
    assert dialog.rejected_toggle.text() == "Rejected: 4" and dialog.rejected_toggle.isVisibleTo(dialog)
    assert not dialog.rejected_list.isVisibleTo(dialog)
    dialog.rejected_toggle.setChecked(True)
    assert dialog.rejected_list.count() == 4 and dialog.rejected_list.isVisibleTo(dialog)
    assert dialog.rejected_list.item(1).text().startswith("245A4C112234 — MAC address")

    # Some cable by quantity, and one more item typed by hand (its label would not scan).
    dialog.select_model(stock.cable)
    assert dialog.quantity.isVisibleTo(dialog) and dialog.quantity_unit.text() == "m"
    dialog.quantity.setValue(305)
    dialog.add_quantity.click()
    dialog.select_model(stock.keyfob)
    dialog.manual.setText("FOB-0042")
    with qtbot.waitSignal(dialog.scan_handled, timeout=10000):
        dialog.manual.returnPressed.emit()
    assert [row[1:] for row in _rows(dialog)[3:]] == [
        ["Belden Cat6 CMR", "305 m", "Consumable"], ["Salto Key fob", "Serial number FOB-0042", "Ready"]]
    assert dialog.counters.text() == "4 items · 1 consumable line"

    with qtbot.waitSignal(dialog.received, timeout=10000) as received:
        qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(received.args[0].items) == 4
    assert dialog.result() == ReceiveDialog.DialogCode.Accepted
    assert dialog.summary_text.startswith("Received into North depot › Rack 7: 4 items")
    dialog.summary_box.close()

    items = _items_at(ctx, stock.shelf)
    assert sorted(i.identifier("mac") for i in items if i.model_id == stock.router) == [
        "24:5A:4C:11:22:33", "24:5A:4C:11:22:34", "24:5A:4C:11:22:35"]
    assert sorted(i.identifier("serial") for i in items) == ["FOB-0042", *SERIALS]
    for item in items:
        history = service.item_history(ctx.uow(), ctx.actor, item.id)
        assert [m.description for m in history] == ["Received into North depot › Rack 7"]
    cable = [s for s in service.stock_levels(ctx.uow(), ctx.actor, stock.shelf) if s.model_id == stock.cable]
    assert [c.quantity for c in cable] == [305]


def test_a_batch_refused_at_finish_shows_the_line_and_writes_nothing(qtbot, ctx, stock) -> None:
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    assert dialog.steps.currentIndex() == 1  # started with a location: straight to scanning
    dialog.select_model(stock.router)
    for mac, serial in zip(MACS, SERIALS, strict=True):
        assert _scan(qtbot, dialog, reader, mac)
        assert _scan(qtbot, dialog, reader, serial)
    # Someone else adds the second device meanwhile.
    other = service.create_item(ctx.uow(), ctx.actor, ItemInput(
        stock.router, {"mac": MACS[1], "serial": "SN-ELSEWHERE"}, stock.warehouse))

    with qtbot.waitSignal(dialog.finish_failed, timeout=10000) as failed:
        dialog.finish()
    assert failed.args[0] == f"line 2: MAC address 24:5A:4C:11:22:34 is already on item {other.tag}."
    assert dialog.error.isVisibleTo(dialog) and "Nothing was received — line 2:" in dialog.error.text()
    assert _rows(dialog)[1][3] == f"MAC address 24:5A:4C:11:22:34 is already on item {other.tag}."
    assert dialog.table.item(1, 3).background().color().name() == "#fde0e0"
    assert dialog.isVisible() and len(dialog.lines) == 3
    assert _items_at(ctx, stock.shelf) == []

    # Remove the line, finish again: the other two go in.
    dialog.table.selectRow(1)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert len(dialog.lines) == 2 and dialog.counters.text() == "2 items · 0 consumable lines"
    with qtbot.waitSignal(dialog.received, timeout=10000):
        dialog.finish()
    dialog.summary_box.close()
    assert sorted(i.identifier("serial") for i in _items_at(ctx, stock.shelf)) == [SERIALS[0], SERIALS[2]]


def test_a_single_field_model_takes_one_scan_per_item_and_cancel_asks_first(qtbot, ctx, stock) -> None:
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    dialog.select_model(stock.keyfob)
    for code in ("FOB-1001", "FOB-1002", "FOB-1003"):
        assert _scan(qtbot, dialog, reader, code)
    assert [row[3] for row in _rows(dialog)] == ["Ready"] * 3
    assert not _scan(qtbot, dialog, reader, "fob-1002")  # serials match whatever the case
    assert "already in this batch (line 2)" in dialog.status.text()
    # Scanning another location's label mid-batch does not move the batch.
    assert not _scan(qtbot, dialog, reader, "RACK-7")
    assert "press Change location" in dialog.status.text()

    asked: list[bool] = []
    dialog.confirm_discard = lambda: asked.append(True) or False
    dialog.reject()
    assert asked == [True] and dialog.isVisible()
    dialog.confirm_discard = lambda: True
    dialog.reject()
    assert not dialog.isVisible() and dialog.result() == ReceiveDialog.DialogCode.Rejected
    assert _items_at(ctx, stock.shelf) == []


def test_a_scan_in_step_one_that_is_not_a_location_says_so(qtbot, ctx, stock) -> None:
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock)
    reader = Reader(clock, dialog)
    assert not _scan(qtbot, dialog, reader, "NOWHERE-9")
    assert dialog.status.text() == "✗ No location has the code NOWHERE-9."
    assert dialog.steps.currentIndex() == 0
    dialog.location_combo.setCurrentIndex(dialog.location_combo.findData(stock.warehouse))
    dialog.start_button.click()
    assert dialog.steps.currentIndex() == 1 and dialog.location_id == stock.warehouse


# -- regressions: a model whose second field is optional -----------------------------------------

def _imei(body: str) -> str:
    """``body`` (14 digits) with the Luhn check digit an IMEI ends in."""
    return next(body + d for d in "0123456789" if ids.luhn_valid(body + d))


def _identifiers(ctx, location_id: int) -> list[dict[str, str]]:
    rows = sorted(_items_at(ctx, location_id), key=lambda r: r.tag)
    return [{i.key: i.value for i in row.identifiers} for row in rows]


def test_the_next_modems_imei_starts_a_new_item_when_the_imsi_is_optional(qtbot, ctx, stock) -> None:
    modem = catalogue.save_model(ctx.uow(), ctx.actor, ModelInput("Zyxel", "Modems", "LTE3301", fields=(
        FieldSpec("imei", "IMEI", "imei", True), FieldSpec("imsi", "IMSI", "imsi", False))))
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    dialog.select_model(modem.id)
    imeis = [_imei(f"3589101100000{n}") for n in range(1, 4)]
    for code in imeis:
        assert _scan(qtbot, dialog, reader, code)
    assert dialog.status.text() == f"✓ {imeis[2]} (IMEI) — 3 items · the IMSI next, if it has one"
    assert not ids.luhn_valid("302720123456789")  # an IMSI that does not look like an IMEI
    assert _scan(qtbot, dialog, reader, "302720123456789")  # the last one has an IMSI
    assert [row[2] for row in _rows(dialog)] == [
        f"IMEI {imeis[0]}", f"IMEI {imeis[1]}", f"IMEI {imeis[2]}  ·  IMSI 302720123456789"]
    with qtbot.waitSignal(dialog.received, timeout=10000):
        dialog.finish()
    dialog.summary_box.close()
    assert _identifiers(ctx, stock.shelf) == [
        {"imei": imeis[0]}, {"imei": imeis[1]}, {"imei": imeis[2], "imsi": "302720123456789"}]


def test_the_next_routers_mac_starts_a_new_item_when_the_serial_is_optional(qtbot, ctx, stock) -> None:
    router = catalogue.save_model(ctx.uow(), ctx.actor, ModelInput("TP-Link", "Routers", "Archer C6", fields=(
        FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial", False))))
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    dialog.select_model(router.id)
    for code in (MACS[0], MACS[1], "SN-C6-0002", MACS[2]):
        assert _scan(qtbot, dialog, reader, code)
    assert [row[2] for row in _rows(dialog)] == [
        "MAC address 24:5A:4C:11:22:33",
        "MAC address 24:5A:4C:11:22:34  ·  Serial number SN-C6-0002",
        "MAC address 24:5A:4C:11:22:35",
    ]


def test_a_model_with_two_macs_still_takes_the_second_mac_on_the_same_item(qtbot, ctx, stock) -> None:
    gateway = catalogue.save_model(ctx.uow(), ctx.actor, ModelInput("Acme", "Gateways", "Dual", fields=(
        FieldSpec("mac", "LAN MAC", "mac", True), FieldSpec("wan_mac", "WAN MAC", "mac", False))))
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    dialog.select_model(gateway.id)
    for code in MACS[:2]:
        assert _scan(qtbot, dialog, reader, code)
    assert [row[2] for row in _rows(dialog)] == ["LAN MAC 24:5A:4C:11:22:33  ·  WAN MAC 24:5A:4C:11:22:34"]


def test_a_taken_scan_beeps_once_and_a_refused_one_twice(qtbot, ctx, stock) -> None:
    clock = FakeClock()
    dialog = _open(qtbot, ctx, clock, location_id=stock.shelf)
    reader = Reader(clock, dialog)
    beeps: list[float] = []
    dialog.beep = lambda: beeps.append(clock.now)
    dialog.select_model(stock.keyfob)
    assert _scan(qtbot, dialog, reader, "FOB-2001")
    qtbot.wait(400)
    assert len(beeps) == 1
    beeps.clear()
    assert not _scan(qtbot, dialog, reader, "FOB-2001")
    qtbot.waitUntil(lambda: len(beeps) == 2, timeout=2000)
    assert dialog.status.text().startswith("✗ Not added:")
    qtbot.wait(400)
    assert len(beeps) == 2
