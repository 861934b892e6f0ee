"""The account's Equipment tab and the move-out wizard's "Equipment to bring back" page, driven
like a tech with a USB reader would: keys at reader speed (a fake clock, 5 ms a key) ending in
Enter, sent where real keys go. Inventory is set up through the inventory services, under names
of its own, and on tenants with nothing installed (the demo may have equipment of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton, QVBoxLayout, QWidget, QWizard

from app.accounts import service as accounts
from app.core.permissions import Permission
from app.inventory import catalogue
from app.inventory import service as inventory
from app.inventory.catalogue import FieldSpec, LocationInput, LocationRow, ModelInput
from app.inventory.models import FAULTY, IN_STOCK, INSTALLED
from app.inventory.service import Destination, ItemInput, ItemRow
from app.staff import service as staff
from app.ui.accounts.account_view import AccountPage
from app.ui.accounts.equipment_tab import EquipmentTab, ReturnDialog
from app.ui.accounts.turnover import MoveOutWizard
from app.ui.context import AppContext

READER_MS = 5
MODEL = "Acme Lab router"
DEPOT = "Test depot"


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def scan(clock: FakeClock, code: str, *, ms_per_key: float = READER_MS) -> None:
    """A reader types ``code`` and Enter at the focused widget (or the active window)."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "no widget to type at"
    shift = Qt.KeyboardModifier.ShiftModifier
    keys = [(Qt.Key(ord(ch.upper())) if ch.isalnum() else Qt.Key(ord(ch)), ch) for ch in code]
    keys.append((Qt.Key.Key_Return, "\r"))
    for key, text in keys:
        clock.now += ms_per_key / 1000
        mods = shift if text.isupper() else Qt.KeyboardModifier.NoModifier
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(etype, int(key), mods, text))


@dataclass
class Stock:
    warehouse: LocationRow
    returns: LocationRow
    shelf: LocationRow
    items: list[ItemRow]


def _stock(ctx: AppContext, n: int = 4) -> Stock:
    uow, actor = ctx.uow, ctx.actor
    model = catalogue.save_model(uow(), actor, ModelInput(
        "Acme", "Routers", "Lab router",
        fields=(FieldSpec("mac", "MAC address", "mac", True), FieldSpec("serial", "Serial number", "serial"))))
    warehouse = catalogue.save_location(uow(), actor, LocationInput(DEPOT, kind="warehouse"))
    shelf = catalogue.save_location(uow(), actor, LocationInput("Shelf A", parent_id=warehouse.id))
    returns = catalogue.save_location(uow(), actor, LocationInput("Returns", parent_id=warehouse.id))
    items = [
        inventory.create_item(uow(), actor, ItemInput(model.id, {"mac": f"02:00:5e:00:10:{i:02x}",
                                                                 "serial": f"TX2403{i:04d}"}, shelf.id))
        for i in range(n)
    ]
    return Stock(warehouse, returns, shelf, items)


def _tenants(ctx: AppContext, n: int) -> list[accounts.AccountDetail]:
    """Active tenants with a unit, no move-out scheduled and no equipment installed."""
    found = []
    for row in accounts.list_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery(), 0, 80):
        d = accounts.get_account(ctx.uow(), ctx.actor, row.id)
        if (d.address_id and d.disconnected_on is None and d.status == "Active" and not d.is_shell
                and accounts.leaving_on(ctx.uow(), ctx.actor, d.id) is None
                and not inventory.equipment_at(ctx.uow(), ctx.actor, d.id)):
            found.append(d)
            if len(found) == n:
                return found
    raise AssertionError("not enough active tenants in the demo data")


def _install(ctx: AppContext, item: ItemRow, account_id: int) -> None:
    inventory.move_item(ctx.uow(), ctx.actor, item.id, Destination.account(account_id))


def _show(qtbot, window: QWidget) -> None:
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def _tab(qtbot, ctx: AppContext, account_id: int, clock: FakeClock) -> EquipmentTab:
    tab = EquipmentTab(ctx, account_id, clock=clock)
    tab.resize(820, 560)
    _show(qtbot, tab)
    qtbot.waitUntil(lambda: tab.data is not None, timeout=5000)
    return tab


@pytest.fixture(autouse=True)
def _forget_the_last_location() -> None:
    QSettings().remove("inventory/return_location")


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


def _table_rows(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


# -- the tab -------------------------------------------------------------------------------------

def test_the_equipment_tab_lists_what_is_installed_with_its_identifiers_and_movements(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    for item in stock.items[:2]:
        _install(ctx, item, tenant.id)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    rows = _table_rows(tab.table)
    today = date.today().isoformat()
    assert rows == [
        [stock.items[0].tag, MODEL, "02:00:5E:00:10:00 · TX24030000", today],
        [stock.items[1].tag, MODEL, "02:00:5E:00:10:01 · TX24030001", today],
    ]
    assert tab.count_label.text() == "2 items"
    movements = _table_rows(tab.movements)
    assert len(movements) == 2
    assert movements[0][1] == "admin"
    assert movements[0][2] == f"{stock.items[1].tag} {MODEL}"
    assert movements[0][3].startswith(f"Installed at {tenant.number} {tenant.name}")


def test_an_empty_unit_says_how_to_install_something(qtbot, ctx, clock) -> None:
    [tenant] = _tenants(ctx, 1)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    assert tab.stack.currentWidget() is tab.empty
    assert tab.empty.title.text() == "No equipment at this unit"
    assert tab.empty.text.text() == "Scan an item's barcode to install it here."
    assert not tab.movements_title.isVisible() and not tab.movements.isVisible()


def test_a_scan_at_reader_speed_installs_the_item_and_the_list_refreshes(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.setFocus()  # nothing to type into: the keys are held back, then taken as a scan
    item = stock.items[2]
    with qtbot.waitSignal(tab.changed, timeout=5000):
        scan(clock, "02-00-5E-00-10-02")  # the MAC as printed on the box, with dashes
    assert tab.status.ok_state is True
    assert tab.status.text() == f"✓ Installed {item.tag} {MODEL}"
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=5000)
    assert tab.table.item(0, 0).text() == item.tag
    assert tab.movements.rowCount() == 1
    now = inventory.get_item(ctx.uow(), ctx.actor, item.id)
    assert (now.state, now.holder_id) == (INSTALLED, tenant.id)


def test_a_scan_while_a_button_outside_the_tab_has_focus_installs_and_does_not_press_it(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    window = QWidget()
    back = QPushButton("← Accounts", window)  # like the account page's header, outside the tab
    tab = EquipmentTab(ctx, tenant.id, clock=clock)
    column = QVBoxLayout(window)
    column.addWidget(back)
    column.addWidget(tab)
    window.resize(820, 560)
    _show(qtbot, window)
    qtbot.waitUntil(lambda: tab.data is not None, timeout=5000)
    pressed: list[bool] = []
    back.clicked.connect(lambda: pressed.append(True))
    back.setFocus()
    with qtbot.waitSignal(tab.changed, timeout=5000):
        scan(clock, stock.items[0].tag)
    qtbot.wait(150)
    assert pressed == []
    assert inventory.get_item(ctx.uow(), ctx.actor, stock.items[0].id).holder_id == tenant.id
    # On another tab of the page, the same scan does nothing.
    tab.hide()
    scan(clock, stock.items[1].tag)
    qtbot.wait(150)
    assert inventory.get_item(ctx.uow(), ctx.actor, stock.items[1].id).state == IN_STOCK


def test_the_same_code_typed_slowly_installs_nothing(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.setFocus()
    scan(clock, stock.items[0].tag, ms_per_key=150)
    qtbot.wait(300)
    assert tab.pending == 0 and not tab.status.isVisible()
    assert inventory.get_item(ctx.uow(), ctx.actor, stock.items[0].id).state == IN_STOCK


def test_a_scan_of_an_item_installed_at_another_account_names_that_account(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    here, there = _tenants(ctx, 2)
    elsewhere = stock.items[3]
    _install(ctx, elsewhere, there.id)
    tab = _tab(qtbot, ctx, here.id, clock)
    tab.table.setFocus()
    scan(clock, elsewhere.tag)
    qtbot.waitUntil(lambda: tab.status.ok_state is False, timeout=5000)
    assert f"installed at {there.number} {there.name}" in tab.status.text()
    assert "return it from there first" in tab.status.text()
    assert "color: #c62828" in tab.status.styleSheet()
    assert inventory.get_item(ctx.uow(), ctx.actor, elsewhere.id).holder_id == there.id
    assert tab.table.rowCount() == 0


def test_an_unknown_code_is_refused_in_red(qtbot, ctx, clock) -> None:
    _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.setFocus()
    scan(clock, "NOSUCHCODE42")
    qtbot.waitUntil(lambda: tab.status.ok_state is False, timeout=5000)
    assert tab.status.text() == "No item has the code NOSUCHCODE42."


def test_install_item_by_typing_a_code_for_someone_without_a_reader(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.install_button.click()
    dialog = tab.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    dialog.code.setText("tx24030001")  # the serial, in lower case
    with qtbot.waitSignal(tab.changed, timeout=5000):
        dialog.ok.click()
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=5000)
    assert tab.table.item(0, 0).text() == stock.items[1].tag


def test_return_moves_the_selected_item_back_to_the_chosen_location(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    first, second = stock.items[:2]
    for item in (first, second):
        _install(ctx, item, tenant.id)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.selectRow(1)
    assert tab.return_button.isEnabled()
    tab.return_button.click()
    dialog = tab.dialog
    assert isinstance(dialog, ReturnDialog)
    qtbot.waitUntil(lambda: dialog.location.isEnabled(), timeout=5000)
    assert dialog.checked_ids() == [second.id]
    assert dialog.ok.text() == "Return 1 item"
    dialog.location.set_location(stock.returns.id)
    dialog.faulty.setChecked(True)
    dialog.note.setText("LED blinks red")
    with qtbot.waitSignal(tab.changed, timeout=5000):
        dialog.ok.click()
    assert not dialog.isVisible()
    back = inventory.get_item(ctx.uow(), ctx.actor, second.id)
    assert (back.state, back.holder_id, back.holder) == (FAULTY, stock.returns.id, f"{DEPOT} › Returns")
    history = inventory.item_history(ctx.uow(), ctx.actor, second.id)
    assert history[0].note == "LED blinks red"
    assert inventory.get_item(ctx.uow(), ctx.actor, first.id).state == INSTALLED
    qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=5000)
    assert tab.status.text() == f"✓ Returned {second.tag} {MODEL} to {DEPOT} › Returns (faulty)"
    # The next Return… offers the same location again.
    tab.table.selectRow(0)
    tab.open_return_dialog()
    again = tab.dialog
    qtbot.waitUntil(lambda: again.location.isEnabled(), timeout=5000)
    assert again.location.location_id() == stock.returns.id
    again.reject()


def test_scanning_in_the_return_dialog_ticks_the_item_and_flags_a_stranger(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    first, second, stranger = stock.items[:3]
    for item in (first, second):
        _install(ctx, item, tenant.id)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.selectRow(0)
    tab.open_return_dialog()
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.isActiveWindow() and dialog.location.isEnabled(), timeout=5000)
    dialog.code.setFocus()
    scan(clock, second.identifier("serial"), ms_per_key=150)  # typed by hand, then Enter
    qtbot.waitUntil(lambda: dialog.checked_ids() == [first.id, second.id], timeout=5000)
    assert dialog.isVisible()  # Enter in the code field ticked; it did not press Return
    assert dialog.scan_status.text() == f"✓ Ticked {second.tag} {MODEL}"
    scan(clock, stranger.tag)
    qtbot.waitUntil(lambda: dialog.scan_status.ok_state is False, timeout=5000)
    assert dialog.scan_status.text() == (f"{stranger.tag} is not installed at this account: "
                                         f"it is in stock at {DEPOT} › Shelf A.")
    assert dialog.checked_ids() == [first.id, second.id]
    qtbot.wait(200)
    assert dialog.isVisible()
    assert {inventory.get_item(ctx.uow(), ctx.actor, i.id).state for i in (first, second)} == {INSTALLED}
    dialog.reject()


def test_without_inventory_edit_the_actions_are_off_and_say_why(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    _install(ctx, stock.items[0], tenant.id)
    staff.add_user(ctx.uow(), ctx.actor, "desk", "long enough pw", "Support", "Sam Support")
    support = staff.sign_in(ctx.uow(), "desk", "long enough pw")
    assert support.can(Permission.INVENTORY_VIEW) and not support.can(Permission.INVENTORY_EDIT)
    view_only = AppContext(ctx.db, support, ctx.runner, ctx.secrets)
    tab = _tab(qtbot, view_only, tenant.id, clock)
    assert tab.table.rowCount() == 1
    for button in (tab.install_button, tab.return_button):
        assert not button.isEnabled()
        assert "Support users can see the equipment but not install or return it." in button.toolTip()
    tab.table.setFocus()
    scan(clock, stock.items[1].tag)
    qtbot.wait(200)
    assert inventory.get_item(ctx.uow(), ctx.actor, stock.items[1].id).state == IN_STOCK


def test_the_account_page_shows_the_tab_with_a_count_only_to_those_who_may_see_inventory(qtbot, ctx) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    for item in stock.items[:2]:
        _install(ctx, item, tenant.id)
    page = AccountPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.load(tenant.id)
    qtbot.waitUntil(lambda: page.data is not None, timeout=5000)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles == ["Overview", "Contacts", "Notes && calls", "Scheduled events", "Billing", "Equipment (2)", "History"]
    page.tabs.setCurrentWidget(page.equipment_tab)
    qtbot.waitUntil(lambda: page.equipment_tab.table.rowCount() == 2, timeout=5000)

    from app.core.permissions import Actor

    no_inventory = Actor(ctx.actor.user_id, "billing", "Billing",
                         frozenset(p for p in Permission if not p.value.startswith("inventory")))
    other = AccountPage(AppContext(ctx.db, no_inventory, ctx.runner, ctx.secrets))
    qtbot.addWidget(other)
    assert other.equipment_tab is None
    assert "Equipment" not in [other.tabs.tabText(i) for i in range(other.tabs.count())]


# -- the move-out wizard -------------------------------------------------------------------------

def _wizard(qtbot, ctx: AppContext, tenant: accounts.AccountDetail, clock: FakeClock) -> MoveOutWizard:
    wizard = MoveOutWizard(ctx, tenant, accounts.lookups(ctx.uow(), ctx.actor),
                           equipment=inventory.equipment_at(ctx.uow(), ctx.actor, tenant.id), scan_clock=clock)
    _show(qtbot, wizard)
    return wizard


def test_the_move_out_wizard_returns_equipment_by_scan_and_leaves_the_rest_installed(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    router, ont, spare = stock.items[:3]
    for item in (router, ont, spare):
        _install(ctx, item, tenant.id)
    wizard = _wizard(qtbot, ctx, tenant, clock)
    wizard.next()
    page = wizard.equipment
    assert wizard.currentPage() is page
    assert [page.table.item(r, 0).text() for r in range(3)] == [router.tag, ont.tag, spare.tag]
    assert page.progress.text() == "0 of 3 returned"
    qtbot.waitUntil(lambda: page.location.isEnabled(), timeout=5000)
    page.location.set_location(stock.returns.id)

    scan(clock, router.identifier("mac").replace(":", ""))
    qtbot.waitUntil(lambda: page.progress.text() == "1 of 3 returned", timeout=5000)
    assert page.table.item(0, 3).text() == f"✓ returned to {DEPOT} › Returns"
    assert page.status.text() == f"✓ {router.tag} {MODEL} returned to {DEPOT} › Returns"
    assert wizard.currentPage() is page  # the reader's Enter did not press Next
    scan(clock, router.tag)  # the same router again
    assert page.status.text() == f"{router.tag} is already back: returned to {DEPOT} › Returns."

    stranger = stock.items[3]
    scan(clock, stranger.tag)
    qtbot.waitUntil(lambda: page.status.ok_state is False, timeout=5000)
    assert page.status.text() == (f"{stranger.tag} is not installed at this account: "
                                  f"it is in stock at {DEPOT} › Shelf A.")
    scan(clock, "I-999999")
    qtbot.waitUntil(lambda: page.status.text() == "No item has the code I-999999.", timeout=5000)

    page.table.selectRow(1)  # ticked by hand
    page.faulty.setChecked(True)
    page.mark_button.click()
    qtbot.waitUntil(lambda: page.progress.text() == "2 of 3 returned", timeout=5000)
    assert page.table.item(1, 3).text() == f"✓ returned to {DEPOT} › Returns (faulty)"
    assert not page.faulty.isChecked()  # only that one was faulty
    assert page.warning.text() == "1 item is still at the unit; it stays on the account until returned."

    wizard.next()
    assert wizard.currentPage() is wizard.next_tenant
    with qtbot.waitSignal(wizard.done_moving, timeout=8000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    now = {i.id: inventory.get_item(ctx.uow(), ctx.actor, i.id) for i in (router, ont, spare)}
    assert (now[router.id].state, now[router.id].holder_id) == (IN_STOCK, stock.returns.id)
    assert (now[ont.id].state, now[ont.id].holder_id) == (FAULTY, stock.returns.id)
    assert (now[spare.id].state, now[spare.id].holder_id) == (INSTALLED, tenant.id)
    assert accounts.get_account(ctx.uow(), ctx.actor, tenant.id).disconnected_on == date.today()


def test_the_wizard_skips_the_equipment_page_when_nothing_is_installed(qtbot, ctx, clock) -> None:
    _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    wizard = _wizard(qtbot, ctx, tenant, clock)
    wizard.next()
    assert wizard.currentPage() is wizard.next_tenant


def test_the_return_and_install_dialogs_stop_listening_and_are_deleted_when_closed(qtbot, ctx, clock) -> None:
    stock = _stock(ctx)
    [tenant] = _tenants(ctx, 1)
    _install(ctx, stock.items[0], tenant.id)
    tab = _tab(qtbot, ctx, tenant.id, clock)
    tab.table.selectRow(0)
    tab.open_return_dialog()
    returning = tab.dialog
    assert isinstance(returning, ReturnDialog)
    listener = returning.listener
    assert listener.enabled
    returning.reject()
    assert not listener.enabled  # off the application at once, not just when deleted
    qtbot.waitUntil(lambda: not shiboken6.isValid(returning), timeout=3000)

    tab.open_install_dialog()
    installing = tab.dialog
    qtbot.waitUntil(installing.isVisible, timeout=3000)
    installing.reject()
    qtbot.waitUntil(lambda: not shiboken6.isValid(installing), timeout=3000)
    # The tab's own listener still hears the reader.
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow, timeout=3000)
    tab.table.setFocus()
    with qtbot.waitSignal(tab.changed, timeout=5000):
        scan(clock, stock.items[1].tag)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 2, timeout=5000)
