"""Inventory → Catalogue, Locations and Stock: the panels and their dialogs, driven like a user
would (fill the widgets, click the button), checked against what lands in the database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from app.accounts.models import Account
from app.inventory import catalogue, service
from app.inventory.catalogue import FieldSpec, LocationInput, ModelInput
from app.ui.inventory.catalogue import CatalogueModel, CataloguePanel, ModelDialog
from app.ui.inventory.locations import TOP_LEVEL, IdRole, LocationsPanel
from app.ui.inventory.stock import EMPTY_TEXT, StockData, StockModel, StockPanel

# -- helpers -------------------------------------------------------------------------------------

def _settle(qtbot, ctx) -> None:
    """Let every job finish and its result be delivered."""
    ctx.runner.wait()
    qtbot.wait(30)


def _show(qtbot, ctx, panel):
    qtbot.addWidget(panel)
    panel.resize(1000, 560)
    panel.show()
    _settle(qtbot, ctx)
    return panel


def _save_and_close(qtbot, ctx, dialog) -> None:
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    _settle(qtbot, ctx)


def _model(ctx, name: str, **kwargs):
    data = ModelInput(manufacturer=kwargs.pop("manufacturer", "Testco"), category=kwargs.pop("category", "Cable"),
                      name=name, **kwargs)
    return catalogue.save_model(ctx.uow(), ctx.actor, data)


def _location(ctx, name: str, kind: str = "warehouse", parent_id: int | None = None):
    return catalogue.save_location(ctx.uow(), ctx.actor, LocationInput(name, kind, parent_id))


def _quantity(ctx, model_id: int, location_id: int) -> int:
    rows = service.stock_levels(ctx.uow(), ctx.actor)
    return next((r.quantity for r in rows if (r.model_id, r.location_id) == (model_id, location_id)), 0)


def _stock_row(panel: StockPanel, model_id: int, location_id: int) -> int:
    return panel.model.row_of(model_id, location_id)


@pytest.fixture()
def cable(ctx):
    """A consumable in metres, 100 m of it in a warehouse, and a van to move it to."""
    model = _model(ctx, "Cat6 drop cable", tracking="quantity", unit="m", min_stock=50)
    warehouse = _location(ctx, "Main warehouse")
    van = _location(ctx, "Van 2", "van")
    service.add_stock(ctx.uow(), ctx.actor, model.id, warehouse.id, 100)
    return model, warehouse, van


# -- catalogue -----------------------------------------------------------------------------------

def test_a_model_created_in_the_dialog_lands_in_the_database_with_its_two_identifier_fields(qtbot, ctx) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    dialog = panel.new_model()
    assert isinstance(dialog, ModelDialog) and dialog.isVisible()
    dialog.manufacturer.setEditText("Ubiquiti")
    dialog.category.setEditText("Wi-Fi access points")
    QTest.keyClicks(dialog.name, "UniFi 6 Lite")
    assert dialog.one_by_one.isChecked() and dialog.fields_box.isVisibleTo(dialog)
    editor = dialog.fields
    assert [f.kind for f in editor.fields()] == ["serial"]  # a new model starts with a serial number
    editor.add_button.click()  # the next field offered is the MAC address
    assert editor.kind_combo(1).currentData() == "mac"
    assert editor.label_edit(1).text() == "MAC address"
    editor.required_box(1).setChecked(True)
    editor.table.selectRow(1)
    editor.up_button.click()  # the MAC first
    editor.pattern_edit(1).setText("[A-Z]{2}[0-9]{6}")
    assert not editor.pattern_edit(0).isEnabled()  # a MAC has a fixed format

    _save_and_close(qtbot, ctx, dialog)

    saved = next(m for m in catalogue.list_models(ctx.uow(), ctx.actor) if m.name == "UniFi 6 Lite")
    assert (saved.manufacturer, saved.category, saved.tracking) == ("Ubiquiti", "Wi-Fi access points", "serialized")
    assert saved.fields == (
        FieldSpec("mac", "MAC address", "mac", True, ""),
        FieldSpec("serial", "Serial number", "serial", True, "[A-Z]{2}[0-9]{6}"),
    )
    row = panel.model.row_of(saved.id)
    assert row >= 0 and panel.selected().id == saved.id
    assert panel.model.index(row, 4).data() == "MAC address*, Serial number*"


def test_an_invalid_format_is_shown_under_the_fields_and_nothing_is_saved(qtbot, ctx) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    dialog = panel.new_model()
    dialog.manufacturer.setEditText("Acme Optics")
    dialog.category.setEditText("ONTs")
    dialog.name.setText("PMG5317")
    dialog.fields.pattern_edit(0).setText("SN[0-9")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.fields_error.isVisibleTo(dialog), timeout=5000)
    assert "not a valid regular expression" in dialog.fields_error.text()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert dialog.fields.selected_row() == 0  # the field with the bad format is picked out
    assert not [m for m in catalogue.list_models(ctx.uow(), ctx.actor) if m.name == "PMG5317"]
    assert "Acme Optics" not in [m.name for m in catalogue.list_manufacturers(ctx.uow(), ctx.actor)]


def test_a_duplicate_model_name_is_shown_under_the_name(qtbot, ctx) -> None:
    _model(ctx, "RB5009", manufacturer="MikroTik", category="Routers")
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    dialog = panel.new_model()
    assert dialog.manufacturer.findText("MikroTik") >= 0  # existing names are offered
    dialog.manufacturer.setEditText("MikroTik")
    dialog.category.setEditText("Routers")
    dialog.name.setText("rb5009")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.name_error.isVisibleTo(dialog), timeout=5000)
    assert dialog.name_error.text() == "MikroTik already has a model called “RB5009”."


def test_editing_a_consumable_keeps_it_counted_by_quantity_and_saves_the_minimum(qtbot, ctx) -> None:
    model = _model(ctx, "RJ45 connectors", tracking="quantity", unit="each")
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    panel.select(model.id)
    dialog = panel.edit_selected()
    assert dialog.by_quantity.isChecked() and not dialog.fields_box.isVisibleTo(dialog)
    assert dialog.min_stock.text() == "no minimum"
    dialog.min_stock.setValue(200)
    _save_and_close(qtbot, ctx, dialog)
    saved = catalogue.get_model(ctx.uow(), ctx.actor, model.id)
    assert (saved.tracking, saved.min_stock, saved.fields) == ("quantity", 200, ())
    row = panel.model.row_of(model.id)
    stock = panel.model.index(row, CatalogueModel.STOCK_COLUMN)
    assert stock.data() == "⚠ 0" and stock.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#c62828"
    assert "below minimum stock" in panel.summary.text()


def test_a_disabled_model_is_greyed_in_the_catalogue(qtbot, ctx, qtmodeltester) -> None:
    model = _model(ctx, "Old router", category="Routers", enabled=False,
                   fields=(FieldSpec("", "Serial", "serial", True),))
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    row = panel.model.row_of(model.id)
    assert panel.model.index(row, 7).data() == "No"
    assert panel.model.index(row, 1).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#9aa3ad"
    qtmodeltester.check(panel.model)


# -- locations -----------------------------------------------------------------------------------

def _children(item) -> list[str]:
    return [item.child(i).text(0) for i in range(item.childCount())]


def test_nested_locations_created_in_the_dialog_show_in_the_tree_with_their_paths(qtbot, ctx) -> None:
    panel = _show(qtbot, ctx, LocationsPanel(ctx))
    dialog = panel.new_location()  # nothing selected: a top-level warehouse
    assert dialog.parent_combo.currentText() == TOP_LEVEL and dialog.kind.currentData() == "warehouse"
    dialog.name.setText("North warehouse")
    _save_and_close(qtbot, ctx, dialog)
    warehouse = panel.selected()
    assert warehouse.name == "North warehouse"

    dialog = panel.new_location()  # inside the selected one: a shelf
    assert dialog.parent_combo.currentData() == warehouse.id and dialog.kind.currentData() == "shelf"
    dialog.name.setText("Shelf A")
    _save_and_close(qtbot, ctx, dialog)
    shelf = panel.selected()

    dialog = panel.new_location()
    assert dialog.kind.currentData() == "bin"
    dialog.name.setText("Bin 3")
    dialog.code.setText("nw-a-3")
    _save_and_close(qtbot, ctx, dialog)

    top = panel.items_by_id[warehouse.id]
    assert top.parent() is None and _children(top) == ["Shelf A"]
    assert _children(panel.items_by_id[shelf.id]) == ["Bin 3"]
    bin_row = panel.selected()
    assert bin_row.path == "North warehouse › Shelf A › Bin 3" and bin_row.code == "NW-A-3"
    assert panel.items_by_id[bin_row.id].toolTip(0) == "North warehouse › Shelf A › Bin 3"
    assert panel.items_by_id[bin_row.id].text(1) == "Bin"
    paths = [r.path for r in catalogue.list_locations(ctx.uow(), ctx.actor)]
    assert "North warehouse › Shelf A › Bin 3" in paths


def test_a_location_cannot_be_put_inside_itself_and_a_taken_code_is_shown_under_the_code(qtbot, ctx) -> None:
    top = _location(ctx, "Depot")
    inner = _location(ctx, "Rack 1", "shelf", top.id)
    _location(ctx, "Closet 12 Main St", "closet")
    panel = _show(qtbot, ctx, LocationsPanel(ctx))
    panel.select(top.id)
    dialog = panel.edit_selected()
    offered = [dialog.parent_combo.itemData(i) for i in range(dialog.parent_combo.count())]
    assert top.id not in offered and inner.id not in offered
    dialog.code.setText(inner.code)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.code_error.isVisibleTo(dialog), timeout=5000)
    assert dialog.code_error.text() == f"The code {inner.code} already labels “Rack 1”."


def test_show_items_here_and_a_double_click_emit_the_location_and_print_label_the_selection(qtbot, ctx) -> None:
    van = _location(ctx, "Van 7", "van")
    closet = _location(ctx, "Closet 4 Elm St", "closet")
    panel = _show(qtbot, ctx, LocationsPanel(ctx))
    panel.select(van.id)
    with qtbot.waitSignal(panel.location_selected, timeout=2000) as blocker:
        panel.show_button.click()
    assert blocker.args == [van.id]

    item = panel.items_by_id[closet.id]
    rect = panel.tree.visualItemRect(item)
    with qtbot.waitSignal(panel.location_selected, timeout=2000) as blocker:
        QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [closet.id]

    panel.items_by_id[van.id].setSelected(True)
    with qtbot.waitSignal(panel.print_labels_requested, timeout=2000) as blocker:
        panel.print_button.click()
    assert sorted(blocker.args[0]) == sorted([van.id, closet.id])
    assert panel.print_button.text() == "Print labels…"
    assert panel.items_by_id[van.id].data(0, IdRole) == van.id


# -- stock ---------------------------------------------------------------------------------------

def test_adding_then_moving_stock_through_the_dialogs_updates_the_quantities(qtbot, ctx, cable) -> None:
    model, warehouse, van = cable
    panel = _show(qtbot, ctx, StockPanel(ctx))
    dialog = panel.add_stock()
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(model.id))
    dialog.location_combo.setCurrentIndex(dialog.location_combo.findData(warehouse.id))
    assert dialog.quantity.suffix() == " m"
    dialog.quantity.setValue(20)
    dialog.note.setText("delivery 4411")
    _save_and_close(qtbot, ctx, dialog)
    assert _quantity(ctx, model.id, warehouse.id) == 120
    row = _stock_row(panel, model.id, warehouse.id)
    assert panel.model.index(row, 2).data() == "120 m" and panel.selected().location_id == warehouse.id
    assert "Added 20 m of Testco Cat6 drop cable" in panel.notice.text()

    dialog = panel.move_selected()
    offered = [dialog.location_combo.itemData(i) for i in range(dialog.location_combo.count())]
    assert warehouse.id not in offered
    dialog.location_combo.setCurrentIndex(dialog.location_combo.findData(van.id))
    dialog.quantity.setValue(75)
    _save_and_close(qtbot, ctx, dialog)
    assert (_quantity(ctx, model.id, warehouse.id), _quantity(ctx, model.id, van.id)) == (45, 75)
    assert panel.model.index(_stock_row(panel, model.id, van.id), 2).data() == "75 m"
    assert panel.model.index(_stock_row(panel, model.id, warehouse.id), 2).data() == "45 m"
    assert panel.model.index(_stock_row(panel, model.id, van.id), 3).data() == "120 m"


def test_taking_more_than_there_is_shows_the_error_under_the_quantity_and_leaves_it(qtbot, ctx, cable) -> None:
    model, warehouse, van = cable
    panel = _show(qtbot, ctx, StockPanel(ctx))
    panel.select(model.id, warehouse.id)
    dialog = panel.move_selected()
    dialog.location_combo.setCurrentIndex(dialog.location_combo.findData(van.id))
    dialog.quantity.setValue(160)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.quantity_error.isVisibleTo(dialog), timeout=5000)
    assert dialog.quantity_error.text() == (
        "Only 100 m of Testco Cat6 drop cable at Main warehouse; cannot take 160.")
    assert dialog.isVisible()
    assert (_quantity(ctx, model.id, warehouse.id), _quantity(ctx, model.id, van.id)) == (100, 0)


def test_using_stock_at_an_account_finds_it_by_number_and_an_unknown_number_is_explained(qtbot, ctx, cable) -> None:
    model, warehouse, _van = cable
    with ctx.uow() as uow:
        number = uow.session.scalars(select(Account.number).order_by(Account.id).limit(1)).one()
    panel = _show(qtbot, ctx, StockPanel(ctx))
    panel.select(model.id, warehouse.id)
    dialog = panel.use_selected()
    dialog.account.setText("no-such-account")
    dialog.quantity.setValue(15)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.account_error.isVisibleTo(dialog), timeout=5000)
    assert dialog.account_error.text() == "No account has the number no-such-account."
    dialog.account.setText(number)
    _save_and_close(qtbot, ctx, dialog)
    assert _quantity(ctx, model.id, warehouse.id) == 85
    assert f"at {number} " in panel.notice.text()


def test_writing_off_asks_first_and_only_then_takes_the_quantity(qtbot, ctx, cable, monkeypatch) -> None:
    model, warehouse, _van = cable
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    panel = _show(qtbot, ctx, StockPanel(ctx))
    panel.select(model.id, warehouse.id)
    dialog = panel.write_off_selected()
    dialog.quantity.setValue(30)
    dialog.save_button.click()
    _settle(qtbot, ctx)
    assert dialog.isVisible() and _quantity(ctx, model.id, warehouse.id) == 100
    _save_and_close(qtbot, ctx, dialog)
    assert _quantity(ctx, model.id, warehouse.id) == 70
    assert asked[0].startswith("Write off 30 m of Testco Cat6 drop cable at Main warehouse?")


def test_a_consumable_below_its_minimum_is_highlighted_and_counted(qtbot, ctx, cable, qtmodeltester) -> None:
    model, warehouse, _van = cable
    service.take_stock(ctx.uow(), ctx.actor, model.id, warehouse.id, 70, service.Destination.retired())
    panel = _show(qtbot, ctx, StockPanel(ctx))
    row = _stock_row(panel, model.id, warehouse.id)
    assert panel.model.index(row, 3).data() == "⚠ 30 m" and panel.model.index(row, 4).data() == "50 m"
    assert panel.model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fdecea"
    below = [m for m in catalogue.list_models(ctx.uow(), ctx.actor) if not m.serialized and m.below_minimum]
    assert model.id in [m.id for m in panel.data.below_minimum] and len(below) >= 1
    assert panel.summary.text() == f"⚠ {len(below)} model{'s' if len(below) > 1 else ''} below minimum"
    qtmodeltester.check(panel.model)


def test_the_stock_tab_explains_itself_when_there_are_no_consumables(qtbot, ctx) -> None:
    panel = _show(qtbot, ctx, StockPanel(ctx))
    panel._fill(StockData([], [], [], []))
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.text.text() == EMPTY_TEXT
    assert not panel.add_button.isEnabled() and not panel.move_button.isEnabled()


def test_the_custom_table_models_pass_the_model_tester_empty_and_filled(qtmodeltester, ctx, cable) -> None:
    catalogue_model = CatalogueModel()
    qtmodeltester.check(catalogue_model)
    catalogue_model.set_rows(catalogue.list_models(ctx.uow(), ctx.actor))
    qtmodeltester.check(catalogue_model)
    stock_model = StockModel()
    qtmodeltester.check(stock_model)
    stock_model.set_rows(service.stock_levels(ctx.uow(), ctx.actor))
    qtmodeltester.check(stock_model)
