"""The Inventory section driven as a technician would: the items list and its filters, a USB
reader's scans (real key events at reader speed, on a fake clock), the item dialog's moves and
its inline errors, and a new item from an unknown code. Everything is set up through the
services on the demo database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.accounts import service as accounts
from app.accounts.repository import AccountQuery, AccountRow
from app.core.db import open_database
from app.core.permissions import Actor
from app.core.secrets import SecretStore
from app.inventory import catalogue, service
from app.inventory.catalogue import (
    FieldSpec,
    LocationInput,
    LocationRow,
    ModelInput,
    ModelRow,
)
from app.inventory.models import FAULTY, IN_STOCK, INSTALLED, RETIRED
from app.inventory.service import Destination, ItemInput, ItemRow
from app.ui.context import AppContext
from app.ui.inventory.item_dialog import AccountChooser, ItemDialog, NewItemDialog
from app.ui.inventory.items import ItemListQuery, ItemsPanel, make_items_model
from app.ui.inventory.view import ChooseItemDialog, InventoryView, UnknownCodeDialog
from app.ui.tasks import TaskRunner

READER_MS = 5
PERSON_MS = 150


# -- a small stockroom ---------------------------------------------------------------------------

@dataclass
class Stockroom:
    router: ModelRow  # MAC (required) and serial
    ont: ModelRow  # serial (required)
    depot: LocationRow
    shelf: LocationRow  # inside the depot
    van: LocationRow
    routers: list[ItemRow]  # on the shelf
    onts: list[ItemRow]  # in the van
    account: AccountRow


def _mac(n: int) -> str:
    return f"24:5A:4C:00:10:{n:02X}"


@pytest.fixture()
def room(ctx) -> Stockroom:
    uow, actor = ctx.uow, ctx.actor
    router = catalogue.save_model(uow(), actor, ModelInput(
        "Testlink", "Routers", "AX1800 Test", fields=[FieldSpec("mac", "MAC address", "mac", True),
                                                      FieldSpec("serial", "Serial number", "serial")]))
    ont = catalogue.save_model(uow(), actor, ModelInput(
        "Testlink", "ONTs", "GPON T1", fields=[FieldSpec("serial", "Serial number", "serial", True)]))
    depot = catalogue.save_location(uow(), actor, LocationInput("Test depot", "warehouse", code="TDEPOT"))
    shelf = catalogue.save_location(uow(), actor, LocationInput("Shelf T", "shelf", depot.id, code="TSHELF"))
    van = catalogue.save_location(uow(), actor, LocationInput("Test van", "van", code="TVAN"))
    routers = [
        service.create_item(uow(), actor, ItemInput(router.id, {"mac": _mac(n), "serial": f"RT-{n:04d}"}, shelf.id))
        for n in range(1, 7)
    ]
    onts = [service.create_item(uow(), actor, ItemInput(ont.id, {"serial": f"ONT-{n:04d}"}, van.id)) for n in range(3)]
    account = accounts.first_page(uow(), actor, AccountQuery(), 1)[1][0]
    return Stockroom(router, ont, depot, shelf, van, routers, onts, account)


def _move(ctx, item: ItemRow, to: Destination) -> ItemRow:
    return service.move_item(ctx.uow(), ctx.actor, item.id, to)


# -- keys as a reader and a person send them ------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000


class Keyboard:
    """Key presses and releases at the focused widget, moving the fake clock before each."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def key(self, key: int, text: str, modifiers: Qt.KeyboardModifier, after_ms: float) -> None:
        self.clock.advance(after_ms)
        target = QApplication.focusWidget() or QApplication.activeWindow()
        assert target is not None
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(etype, key, modifiers, text))

    def type(self, text: str, ms_per_key: float) -> None:
        for ch in text:
            shift = Qt.KeyboardModifier.ShiftModifier if ch.isupper() else Qt.KeyboardModifier.NoModifier
            self.key(ord(ch.upper()), ch, shift, ms_per_key)

    def scan(self, code: str) -> None:
        self.type(code, READER_MS)
        self.key(int(Qt.Key.Key_Return), "\r", Qt.KeyboardModifier.NoModifier, READER_MS)


def _shown(qtbot, widget: QWidget) -> None:
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    with qtbot.waitExposed(widget):
        widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)


def _loaded(qtbot, panel: ItemsPanel, count: int) -> None:
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == count, timeout=5000)


def _only_test_models(qtbot, panel: ItemsPanel, room: Stockroom) -> None:
    """Filter to the test router model (the demo database may grow inventory of its own)."""
    qtbot.waitUntil(lambda: panel.model_filter.findData(room.router.id) > 0, timeout=5000)
    panel.model_filter.setCurrentIndex(panel.model_filter.findData(room.router.id))


# -- the list ------------------------------------------------------------------------------------

def test_the_items_model_passes_qt_model_tester(qtbot, qtmodeltester, ctx, room) -> None:
    model = make_items_model(ctx)
    model.set_query(ItemListQuery(model_id=room.router.id))
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=5000)
    qtmodeltester.check(model)
    where = model.index(0, 4)
    assert model.data(where, Qt.ItemDataRole.ToolTipRole) == "Test depot › Shelf T"
    assert model.data(model.index(0, 2), Qt.ItemDataRole.ToolTipRole) == f"MAC address: {_mac(1)}\nSerial number: RT-0001"


def test_the_list_shows_the_items_and_filters_them_by_state(qtbot, ctx, room) -> None:
    _move(ctx, room.routers[0], Destination.location(room.shelf.id, faulty=True))
    _move(ctx, room.routers[1], Destination.account(room.account.id))
    panel = ItemsPanel(ctx)
    _shown(qtbot, panel)
    _only_test_models(qtbot, panel, room)
    _loaded(qtbot, panel, 6)
    assert panel.count_label.text() == "6 items"
    tags = {panel.model.row(r).tag for r in range(6)}
    assert tags == {i.tag for i in room.routers}

    panel.set_state(FAULTY)
    _loaded(qtbot, panel, 1)
    row = panel.model.row(0)
    assert row.tag == room.routers[0].tag and row.holder == "Test depot › Shelf T"
    panel.set_state(INSTALLED)
    _loaded(qtbot, panel, 1)
    assert panel.model.row(0).holder.startswith(f"{room.account.number} {room.account.name}")

    panel.set_state(RETIRED)
    _loaded(qtbot, panel, 0)
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.title.text() == "No items match"


def test_the_search_finds_a_mac_typed_without_separators_and_a_serial(qtbot, ctx, room) -> None:
    panel = ItemsPanel(ctx)
    _shown(qtbot, panel)
    qtbot.waitUntil(lambda: panel.choices is not None, timeout=5000)
    panel.search.setText("245a4c001003")
    panel.search.flush()
    _loaded(qtbot, panel, 1)
    assert panel.model.row(0).tag == room.routers[2].tag
    assert panel.model.row(0).identifiers[0].value == _mac(3)

    panel.search.setText("ont-0002")
    panel.search.flush()
    _loaded(qtbot, panel, 1)
    assert panel.model.row(0).tag == room.onts[2].tag


def test_the_location_filter_includes_the_locations_inside_it(qtbot, ctx, room) -> None:
    panel = ItemsPanel(ctx)
    _shown(qtbot, panel)
    qtbot.waitUntil(lambda: panel.location_filter.findData(room.depot.id) > 0, timeout=5000)
    panel.set_location(room.depot.id)  # the routers are on a shelf inside the depot
    _loaded(qtbot, panel, 6)
    assert panel.location_filter.currentText() == "Test depot"
    panel.set_location(room.van.id)
    _loaded(qtbot, panel, 3)


def test_an_empty_inventory_says_how_to_start(qtbot, app, sqlite_url_fresh) -> None:
    db = open_database(sqlite_url_fresh)  # no demo data: not one item yet
    runner = TaskRunner(single_writer=True)
    panel = ItemsPanel(AppContext(db, Actor.system(), runner, SecretStore()))
    try:
        _shown(qtbot, panel)
        qtbot.waitUntil(lambda: panel.choices is not None and not panel.model.loading, timeout=5000)
        assert panel.stack.currentWidget() is panel.empty
        assert panel.empty.title.text() == "No items yet"
        assert "Receive…" in panel.empty.text.text()
        assert panel.count_label.text() == "0 items"
    finally:
        runner.shutdown()
        db.dispose()


# -- scanning ------------------------------------------------------------------------------------

@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def view(qtbot, ctx, room, clock) -> InventoryView:
    view = InventoryView(ctx, clock=clock)
    _shown(qtbot, view)
    qtbot.waitUntil(lambda: view.items.choices is not None and not view.items.model.loading, timeout=5000)
    return view


def test_a_scan_at_reader_speed_opens_the_item_with_that_mac(qtbot, view, room, clock) -> None:
    view.items.table.setFocus()
    Keyboard(clock).scan("245A4C001004")  # the MAC as a label's barcode carries it: no separators
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    dialog = view.item_dialog
    assert dialog.item.tag == room.routers[3].tag
    assert dialog.edits["mac"].text() == _mac(4)
    assert view.status.text() == f"Scanned 245A4C001004: opened {room.routers[3].tag} (Testlink AX1800 Test)."
    dialog.reject()


def test_a_scan_into_the_search_box_opens_the_item_and_leaves_the_search_alone(qtbot, view, room, clock) -> None:
    view.items.search.setText("ont")
    view.items.search.setFocus()
    view.items.search.setCursorPosition(3)
    Keyboard(clock).scan(room.onts[1].tag)
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == room.onts[1].id
    assert view.items.search.text() == "ont"
    view.item_dialog.reject()


def test_typing_at_a_persons_speed_in_the_search_box_searches_and_opens_nothing(qtbot, view, room, clock) -> None:
    view.items.search.setFocus()
    keyboard = Keyboard(clock)
    keyboard.type("RT-0005", PERSON_MS)
    keyboard.key(int(Qt.Key.Key_Return), "\r", Qt.KeyboardModifier.NoModifier, PERSON_MS)
    assert view.items.search.text() == "RT-0005"
    _loaded(qtbot, view.items, 1)
    assert view.items.model.row(0).tag == room.routers[4].tag
    qtbot.wait(150)
    assert view.item_dialog is None
    assert view.scanner.last_code is None


def test_a_scanned_location_label_shows_the_items_kept_there(qtbot, view, room) -> None:
    view.tabs.setCurrentWidget(view.catalogue)
    view.handle_scan("TVAN")
    qtbot.waitUntil(lambda: view.items.location_filter.currentData() == room.van.id, timeout=5000)
    assert view.tabs.currentWidget() is view.items
    _loaded(qtbot, view.items, 3)
    assert view.status.text() == "Scanned TVAN: showing what is at Test van."


def test_choosing_a_location_on_the_locations_tab_filters_the_items(qtbot, view, room) -> None:
    view.tabs.setCurrentWidget(view.locations)
    view.locations.location_selected.emit(room.shelf.id)
    assert view.tabs.currentWidget() is view.items
    _loaded(qtbot, view.items, 6)
    assert view.items.location_filter.currentText() == "Test depot › Shelf T"


def test_a_code_on_several_items_asks_which_one_to_open(qtbot, ctx, view, room) -> None:
    # A serial is unique within a model, not across models.
    twin = service.create_item(ctx.uow(), ctx.actor, ItemInput(room.ont.id, {"serial": "RT-0002"}, room.van.id))
    view.handle_scan("RT-0002")
    qtbot.waitUntil(lambda: isinstance(view.dialog, ChooseItemDialog), timeout=5000)
    chooser = view.dialog
    assert chooser.list.count() == 2
    chooser.list.setCurrentRow(next(r for r in range(2) if chooser.list.item(r).data(Qt.ItemDataRole.UserRole) == twin.id))
    chooser.accept()
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == twin.id
    view.item_dialog.reject()


def test_a_scan_of_an_unknown_code_offers_a_new_item_with_that_field_filled_in(qtbot, ctx, view, room, clock) -> None:
    view.items.table.setFocus()
    Keyboard(clock).scan("A4:3B:00:99:88:77")
    qtbot.waitUntil(lambda: isinstance(view.dialog, UnknownCodeDialog), timeout=5000)
    offer = view.dialog
    assert offer.text.text() == "No item has the code A4:3B:00:99:88:77 — create one?"
    assert "Scanned A4:3B:00:99:88:77: no item has this code." == view.status.text()
    qtbot.waitUntil(lambda: offer.create_button.isEnabled(), timeout=5000)
    # A MAC: a model with a MAC field is chosen, and its MAC field.
    model_id, identifiers = offer.chosen()
    model = next(m for m in offer.models if m.id == model_id)
    mac_key = next(f.key for f in model.fields if f.kind == "mac")
    assert identifiers == {mac_key: "A4:3B:00:99:88:77"}
    offer.model.setCurrentIndex(offer.model.findData(room.router.id))
    assert offer.chosen() == (room.router.id, {"mac": "A4:3B:00:99:88:77"})
    offer.create_button.click()

    qtbot.waitUntil(lambda: isinstance(view.dialog, NewItemDialog), timeout=5000)
    new = view.dialog
    qtbot.waitUntil(lambda: "mac" in new.edits, timeout=5000)
    assert new.model.currentData() == room.router.id
    assert new.edits["mac"].text() == "A4:3B:00:99:88:77"
    new.location.setCurrentIndex(new.location.findData(room.van.id))
    new.edits["serial"].setText("RT-0001")  # already on another router
    new.create_button.click()
    qtbot.waitUntil(lambda: new.errors["serial"].isVisible(), timeout=5000)
    assert new.errors["serial"].text() == f"Serial number RT-0001 is already on item {room.routers[0].tag}."

    new.edits["serial"].setText("RT-0099")
    new.create_button.click()
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    created = view.item_dialog.item
    assert created.identifier("mac") == "A4:3B:00:99:88:77" and created.holder == "Test van"
    view.item_dialog.reject()


def test_the_new_item_dialog_marks_required_fields_and_puts_errors_under_them(qtbot, ctx, room) -> None:
    dialog = NewItemDialog(ctx, model_id=room.router.id, location_id=room.shelf.id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "mac" in dialog.edits, timeout=5000)
    labels = [dialog.fields_form.itemAt(r, dialog.fields_form.ItemRole.LabelRole) for r in range(dialog.fields_form.rowCount())]
    texts = [item.widget().text() for item in labels if item is not None and item.widget() is not None]
    assert "MAC address *" in texts and "Serial number" in texts
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.errors["mac"].isVisible(), timeout=5000)
    assert dialog.errors["mac"].text() == "MAC address is required for Testlink AX1800 Test."
    dialog.edits["mac"].setText("24:5A:4C:00:10")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "10 hex digits" in dialog.errors["mac"].text(), timeout=5000)


# -- the item dialog -----------------------------------------------------------------------------

def _item_dialog(qtbot, ctx, item: ItemRow) -> ItemDialog:
    dialog = ItemDialog(ctx, item.id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.item is not None, timeout=5000)
    return dialog


def test_the_item_dialog_shows_where_the_item_is_and_its_history_newest_first(qtbot, ctx, room) -> None:
    item = room.routers[0]
    _move(ctx, item, Destination.location(room.van.id))
    _move(ctx, item, Destination.account(room.account.id))
    dialog = _item_dialog(qtbot, ctx, item)
    assert dialog.title.text() == f"{item.tag}  Testlink AX1800 Test"
    assert "Installed" in dialog.pill.text()
    assert dialog.where.text().startswith(f"Installed at {room.account.number} {room.account.name}")
    assert dialog.history.rowCount() == 3
    assert dialog.history.item(0, 2).text().startswith(f"Installed at {room.account.number}")
    assert dialog.history.item(1, 2).text() == "Moved to Test van"
    assert dialog.history.item(2, 2).text() == "Received into Test depot › Shelf T"
    assert not dialog.install_button.isEnabled() and dialog.return_button.isEnabled()


def test_installing_an_item_at_an_account_from_the_dialog(qtbot, ctx, room) -> None:
    item = room.routers[2]
    dialog = _item_dialog(qtbot, ctx, item)
    changed: list[int] = []
    dialog.changed.connect(changed.append)
    dialog.install_button.click()
    picker = dialog.picker
    assert picker is not None and isinstance(picker.chooser, AccountChooser)
    picker.chooser.search.setText(room.account.number)
    picker.chooser.search.flush()
    qtbot.waitUntil(lambda: picker.chooser.results.count() >= 1, timeout=5000)
    assert picker.chooser.value() == room.account.id
    picker.note.setText("new tenant")
    picker.ok_button.click()
    qtbot.waitUntil(lambda: dialog.item.state == INSTALLED, timeout=5000)
    assert changed == [item.id]
    assert dialog.banner.kind == "info"
    assert service.get_item(ctx.uow(), ctx.actor, item.id).holder_id == room.account.id
    qtbot.waitUntil(lambda: dialog.history.rowCount() == 2, timeout=5000)
    assert dialog.history.item(0, 3).text() == "new tenant"


def test_the_dialog_says_inline_when_the_item_was_moved_meanwhile(qtbot, ctx, room) -> None:
    item = room.routers[5]
    dialog = _item_dialog(qtbot, ctx, item)
    assert dialog.item.state == IN_STOCK and dialog.faulty_button.isEnabled()
    _move(ctx, item, Destination.account(room.account.id))  # someone else, behind the dialog's back
    dialog.faulty_button.click()
    qtbot.waitUntil(lambda: dialog.banner.isVisible(), timeout=5000)
    assert dialog.banner.kind == "error"
    assert dialog.banner.text().startswith(f"{item.tag} was changed a moment ago: it is now installed at "
                                           f"{room.account.number} {room.account.name}")
    qtbot.waitUntil(lambda: dialog.item.state == INSTALLED, timeout=5000)  # reloaded
    assert dialog.banner.isVisible()
    assert service.get_item(ctx.uow(), ctx.actor, item.id).state == INSTALLED


def test_an_invalid_identifier_is_refused_under_its_field_and_a_valid_one_saved(qtbot, ctx, room) -> None:
    item = room.routers[4]
    dialog = _item_dialog(qtbot, ctx, item)
    assert not dialog.save_button.isEnabled()
    dialog.edits["mac"].setText("24:5A:4C:00:10:0G")
    dialog.edits["mac"].textEdited.emit("24:5A:4C:00:10:0G")
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.errors["mac"].isVisible(), timeout=5000)
    assert "is not a MAC address" in dialog.errors["mac"].text()
    dialog.edits["mac"].setText("24-5a-4c-00-10-ff")
    qtbot.keyClick(dialog.edits["mac"], Qt.Key.Key_Return)  # Enter in a field saves; it does not close
    qtbot.waitUntil(lambda: dialog.item.identifier("mac") == "24:5A:4C:00:10:FF", timeout=5000)
    assert dialog.edits["mac"].text() == "24:5A:4C:00:10:FF"
    assert not dialog.errors["mac"].isVisible()
    assert dialog.isVisible() and dialog.banner.text() == f"Saved {item.tag}."


def test_the_main_window_opens_the_inventory_section(qtbot, ctx) -> None:
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow

    QSettings().clear()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    view = window.section("Inventory")
    assert isinstance(view, InventoryView)
    assert [view.tabs.tabText(i) for i in range(view.tabs.count())] == ["Items", "Stock", "Locations", "Catalogue"]
    assert view.minimumSizeHint().width() + window.sidebar.width() < 800  # fits a small laptop screen


def test_the_header_actions_open_receive_labels_and_photo_with_what_is_chosen(qtbot, view, room) -> None:
    from app.ui.inventory.labels import LabelsDialog
    from app.ui.inventory.photo import PhotoCodesDialog
    from app.ui.inventory.receive import ReceiveDialog

    view.items.set_location(room.van.id)
    _loaded(qtbot, view.items, 3)
    view.items.table.setFocus()
    qtbot.keyClick(view.items.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(view.dialog, ReceiveDialog)
    view.dialog.reject()

    view.items.table.selectRow(1)
    view.print_labels()
    assert isinstance(view.dialog, LabelsDialog)
    view.dialog.reject()

    view.codes_from_photo()
    photo = view.dialog
    assert isinstance(photo, PhotoCodesDialog)
    photo.create_requested.emit(room.router.id, {"mac": "A4:3B:00:12:34:56"})
    qtbot.waitUntil(lambda: isinstance(view.dialog, NewItemDialog) and "mac" in view.dialog.edits, timeout=5000)
    new = view.dialog
    assert new.edits["mac"].text() == "A4:3B:00:12:34:56"
    assert new.location.currentData() == room.van.id  # the location the list is filtered to
    new.reject()


# -- regressions: a reader's keys while a dialog is open -------------------------------------------

def _scanned_open(qtbot, view: InventoryView, clock: FakeClock, code: str) -> ItemDialog:
    """Scan ``code`` with the focus on the list; the item dialog it opens, loaded and active."""
    view.items.table.setFocus()
    Keyboard(clock).scan(code)
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    dialog = view.item_dialog
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def test_the_item_dialog_opens_with_the_focus_on_its_history_not_in_a_field(qtbot, view, room, clock) -> None:
    dialog = _scanned_open(qtbot, view, clock, "245A4C001004")
    assert QApplication.focusWidget() is dialog.history
    dialog.reject()


def test_a_second_scan_while_an_item_is_open_closes_it_and_opens_the_next_item(qtbot, ctx, view, room, clock) -> None:
    first = _scanned_open(qtbot, view, clock, "245A4C001004")
    assert first.item.id == room.routers[3].id
    Keyboard(clock).scan(room.routers[4].tag)
    qtbot.waitUntil(lambda: view.item_dialog is not first and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == room.routers[4].id
    assert view.status.text() == f"Scanned {room.routers[4].tag}: opened {room.routers[4].tag} (Testlink AX1800 Test)."
    assert service.get_item(ctx.uow(), ctx.actor, room.routers[3].id).notes == ""  # nothing typed into its notes
    qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=3000)  # closed and deleted
    view.item_dialog.reject()


def test_a_scan_with_the_focus_in_an_identifier_field_opens_the_next_item_and_saves_nothing(
        qtbot, ctx, view, room, clock) -> None:
    dialog = _scanned_open(qtbot, view, clock, "245A4C001004")
    serial = dialog.edits["serial"]
    serial.setFocus()
    serial.end(False)  # the tech clicked into the serial to read it
    Keyboard(clock).scan("RT-0005")
    qtbot.waitUntil(lambda: view.item_dialog is not dialog and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == room.routers[4].id
    qtbot.wait(200)
    assert service.get_item(ctx.uow(), ctx.actor, room.routers[3].id).identifier("serial") == "RT-0004"
    view.item_dialog.reject()


def test_a_scan_while_an_item_has_unsaved_edits_is_ignored_and_the_dialog_says_to_save_first(
        qtbot, ctx, view, room, clock) -> None:
    dialog = _scanned_open(qtbot, view, clock, "245A4C001004")
    dialog.notes.setPlainText("dented case")  # typed, not saved
    dialog.history.setFocus()
    Keyboard(clock).scan(room.routers[4].tag)
    qtbot.wait(300)
    assert view.item_dialog is dialog and dialog.isVisible()
    assert dialog.banner.kind == "error"
    assert dialog.banner.text() == "Save or close this item first, then scan again."
    assert dialog.notes.toPlainText() == "dented case"  # the scan typed nothing anywhere
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.banner.kind == "info", timeout=5000)
    Keyboard(clock).scan(room.routers[4].tag)  # saved: now the scan opens the next item
    qtbot.waitUntil(lambda: view.item_dialog is not dialog and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == room.routers[4].id
    assert service.get_item(ctx.uow(), ctx.actor, room.routers[3].id).notes == "dented case"
    view.item_dialog.reject()


def test_a_second_scan_in_the_unknown_code_dialog_looks_the_new_code_up_and_creates_nothing(
        qtbot, ctx, view, room, clock) -> None:
    view.items.table.setFocus()
    Keyboard(clock).scan("ZZSERIAL0001")
    qtbot.waitUntil(lambda: isinstance(view.dialog, UnknownCodeDialog), timeout=5000)
    offer = view.dialog
    qtbot.waitUntil(lambda: offer.create_button.isEnabled() and offer.isActiveWindow(), timeout=5000)
    model_before = offer.model.currentText()
    Keyboard(clock).scan("TESTX0002")  # neither jumps the model list nor presses Create item…
    assert offer.model.currentText() == model_before
    qtbot.waitUntil(lambda: view.dialog is not offer and isinstance(view.dialog, UnknownCodeDialog), timeout=5000)
    assert view.dialog.match.code == "TESTX0002"
    assert view.status.text() == "Scanned TESTX0002: no item has this code."
    view.dialog.reject()


def test_a_scan_while_choosing_among_several_items_closes_the_choice_and_opens_the_scanned_item(
        qtbot, ctx, view, room, clock) -> None:
    service.create_item(ctx.uow(), ctx.actor, ItemInput(room.ont.id, {"serial": "RT-0002"}, room.van.id))
    view.handle_scan("RT-0002")
    qtbot.waitUntil(lambda: isinstance(view.dialog, ChooseItemDialog), timeout=5000)
    chooser = view.dialog
    qtbot.waitUntil(chooser.isActiveWindow, timeout=3000)
    Keyboard(clock).scan(room.onts[0].tag)
    qtbot.waitUntil(lambda: view.item_dialog is not None and view.item_dialog.item is not None, timeout=5000)
    assert view.item_dialog.item.id == room.onts[0].id
    view.item_dialog.reject()


# -- regressions: Enter in the account chooser and the new item dialog ----------------------------

def test_enter_right_after_typing_another_account_searches_and_installs_nowhere_until_a_result_is_chosen(
        qtbot, ctx, room, clock) -> None:
    rows = accounts.first_page(ctx.uow(), ctx.actor, AccountQuery(), 50)[1]
    listed, wanted = rows[0], next(r for r in rows[1:] if r.number not in rows[0].number)
    item = room.routers[2]
    dialog = _item_dialog(qtbot, ctx, item)
    dialog.activateWindow()
    dialog.install_button.click()
    picker = dialog.picker
    qtbot.waitUntil(picker.isActiveWindow, timeout=3000)
    chooser = picker.chooser
    assert not picker.ok_button.isDefault()
    chooser.search.setFocus()
    chooser.search.setText(listed.number)
    chooser.search.flush()
    qtbot.waitUntil(lambda: chooser.value() == listed.id, timeout=5000)

    chooser.search.clear()  # a person types another number and presses Enter at once
    keyboard = Keyboard(clock)
    keyboard.type(wanted.number, PERSON_MS)
    assert chooser.pending and chooser.value() is None
    keyboard.key(int(Qt.Key.Key_Return), "\r", Qt.KeyboardModifier.NoModifier, PERSON_MS)
    qtbot.waitUntil(lambda: not chooser.pending, timeout=5000)  # Enter searched…
    assert picker.isVisible()  # …and installed nowhere
    assert service.get_item(ctx.uow(), ctx.actor, item.id).state == IN_STOCK
    assert chooser.value() == wanted.id

    chooser.search.setText(listed.number)  # typed but not searched yet: Install waits
    picker.ok_button.click()
    assert picker.isVisible() and picker.error.text() == "Wait for the search, then choose the account."
    chooser.search.flush()
    qtbot.waitUntil(lambda: chooser.value() == listed.id, timeout=5000)
    chooser.search.setText(wanted.number)
    chooser.search.flush()
    qtbot.waitUntil(lambda: chooser.value() == wanted.id, timeout=5000)
    chooser.results.setFocus()
    keyboard.key(int(Qt.Key.Key_Return), "\r", Qt.KeyboardModifier.NoModifier, PERSON_MS)  # Enter on the result
    qtbot.waitUntil(lambda: dialog.item.state == INSTALLED, timeout=5000)
    assert service.get_item(ctx.uow(), ctx.actor, item.id).holder_id == wanted.id


def test_a_readers_enter_in_a_new_item_moves_to_the_next_empty_field_and_only_the_last_creates(
        qtbot, ctx, room, clock) -> None:
    dialog = NewItemDialog(ctx, model_id=room.router.id, location_id=room.van.id)
    created: list[ItemRow] = []
    dialog.created.connect(created.append)
    _shown(qtbot, dialog)
    qtbot.waitUntil(lambda: "serial" in dialog.edits and dialog.create_button.isEnabled(), timeout=5000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.edits["mac"], timeout=3000)
    keyboard = Keyboard(clock)
    keyboard.scan("A4:3B:00:99:88:01")  # the MAC, then the reader's Enter: on to the serial
    assert QApplication.focusWidget() is dialog.edits["serial"]
    qtbot.wait(200)
    assert created == [] and dialog.isVisible()
    keyboard.scan("RT-0777")  # Enter in the last field creates
    qtbot.waitUntil(lambda: len(created) == 1, timeout=5000)
    assert created[0].identifier("mac") == "A4:3B:00:99:88:01"
    assert created[0].identifier("serial") == "RT-0777"


def test_enter_in_a_new_item_with_only_the_last_field_empty_creates_it(qtbot, ctx, room, clock) -> None:
    dialog = NewItemDialog(ctx, model_id=room.router.id, identifiers={"serial": "RT-0778"}, location_id=room.van.id)
    created: list[ItemRow] = []
    dialog.created.connect(created.append)
    _shown(qtbot, dialog)
    qtbot.waitUntil(lambda: "mac" in dialog.edits and dialog.create_button.isEnabled(), timeout=5000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.edits["mac"], timeout=3000)
    Keyboard(clock).scan("A4:3B:00:99:88:02")  # nothing empty after it: Enter creates
    qtbot.waitUntil(lambda: len(created) == 1, timeout=5000)
    assert created[0].identifier("serial") == "RT-0778"


# -- regressions: a location no longer in use -----------------------------------------------------

def test_a_scanned_label_of_a_location_no_longer_in_use_shows_what_is_still_kept_there(
        qtbot, ctx, view, room) -> None:
    old = catalogue.save_location(ctx.uow(), ctx.actor, LocationInput("Old van", "van", code="TOLDVAN"))
    service.create_item(ctx.uow(), ctx.actor, ItemInput(room.ont.id, {"serial": "ONT-OLD1"}, old.id))
    catalogue.save_location(ctx.uow(), ctx.actor, LocationInput("Old van", "van", code="TOLDVAN", active=False),
                            old.id, expected_version=old.version)
    view.handle_scan("TOLDVAN")
    qtbot.waitUntil(lambda: view.items.location_filter.currentData() == old.id, timeout=5000)
    _loaded(qtbot, view.items, 1)
    assert view.items.model.row(0).identifier("serial") == "ONT-OLD1"
    assert view.items.location_filter.currentText() == "Old van (not in use)"
    assert view.status.text() == "Scanned TOLDVAN: showing what is at Old van (no longer in use)."


def test_enter_moves_on_even_right_after_another_models_fields_appear(qtbot, ctx, room, clock) -> None:
    dialog = NewItemDialog(ctx, model_id=room.ont.id, location_id=room.van.id)
    _shown(qtbot, dialog)
    qtbot.waitUntil(lambda: "serial" in dialog.edits and dialog.create_button.isEnabled(), timeout=5000)
    dialog.model.setCurrentIndex(dialog.model.findData(room.router.id))  # new rows, not shown by Qt yet
    assert QApplication.focusWidget() is dialog.edits["mac"]
    Keyboard(clock).scan("A4:3B:00:99:88:03")  # no event loop in between: the serial is there at once
    assert QApplication.focusWidget() is dialog.edits["serial"]
    dialog.reject()
