"""The Addresses section, the new-account flow, the move-out/move-in wizard and Ctrl+K, driven
the way a property manager would, on a demo database."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QWizard

from app.accounts import service as accounts
from app.addresses import service as addresses
from app.addresses.repository import AddressHit
from app.scheduling import service as scheduling
from app.ui.accounts.new_account import NewAccountDialog
from app.ui.accounts.turnover import MoveOutWizard
from app.ui.addresses.view import AddressesView, BuildingsModel
from app.ui.main_window import MainWindow
from app.ui.search_palette import SearchPalette


def _vacant_unit(ctx) -> AddressHit:  # noqa: ANN001
    return addresses.search_addresses(ctx.uow(), ctx.actor, "", limit=1, vacant_only=True, units_only=True)[0]


def test_the_buildings_model_passes_qt_model_tester(qtmodeltester, ctx) -> None:  # noqa: ANN001
    model = BuildingsModel()
    model.set_rows(addresses.list_buildings(ctx.uow(), ctx.actor))
    assert model.rowCount() > 1
    qtmodeltester.check(model)


def test_choosing_a_building_draws_every_unit_coloured_by_state(qtbot, ctx) -> None:  # noqa: ANN001
    view = AddressesView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 760)
    view.show()
    qtbot.waitUntil(lambda: view.building is not None, timeout=5000)
    building = view.building
    assert len(view.grid._tiles) == len(building.units) > 0
    states = view.grid.states()
    occupied = sum(1 for u in building.units if u.account_id)
    assert states.get("Vacant", 0) + states.get("Not yet serviceable", 0) + occupied == len(building.units)
    legend = " ".join(label.text() for label in view.legend.findChildren(type(view.title)))
    assert all(name in legend for name in states)


def test_clicking_a_vacant_unit_offers_a_new_account_there(qtbot, ctx) -> None:  # noqa: ANN001
    view = AddressesView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 760)
    view.show()
    qtbot.waitUntil(lambda: view.building is not None, timeout=5000)
    for r in range(view.model.rowCount()):
        if view.model.rows[r].vacant:
            view.show_building(view.model.rows[r].id)
            qtbot.waitUntil(lambda r=r: view.building.building.id == view.model.rows[r].id, timeout=5000)
            break
    vacant = next(u for u in view.building.units if not u.account_id)
    rect = next(rect for rect, unit, _s in view.grid._tiles if unit.id == vacant.id)
    qtbot.mouseClick(view.grid, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: isinstance(getattr(view, "dialog", None), NewAccountDialog), timeout=5000)
    dialog = view.dialog
    assert dialog.form.unit.id == vacant.id
    dialog.form.name.setText("Grace Okafor")
    dialog.form.email.setText("grace@example.com")
    qtbot.waitUntil(lambda: dialog.form.kind.count() > 0, timeout=5000)
    with qtbot.waitSignal(dialog.created, timeout=5000) as created:
        dialog.create()
    detail = created.args[0]
    assert (detail.name, detail.address_id, detail.status) == ("Grace Okafor", vacant.id, "Active")
    assert detail.contacts[0].email == "grace@example.com" and detail.contacts[0].is_financial
    qtbot.waitUntil(lambda: any(u.id == vacant.id and u.account_id == detail.id for u in view.building.units),
                    timeout=5000)


def test_new_account_errors_show_beside_the_field_and_save_nothing(qtbot, ctx) -> None:  # noqa: ANN001
    unit = _vacant_unit(ctx)
    dialog = NewAccountDialog(ctx, unit)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.form.kind.count() > 0, timeout=5000)
    before = accounts.count_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery())
    dialog.form.name.setText("Ivy Chen")
    dialog.form.email.setText("not-an-email")
    dialog.create()
    qtbot.waitUntil(lambda: dialog.form.errors["contacts"].isVisibleTo(dialog), timeout=5000)
    assert "not an e-mail address" in dialog.form.errors["contacts"].text()
    dialog.form.email.setText("")
    dialog.form.shell.setChecked(True)
    dialog.form.parent_number.setText("")
    dialog.form._set_parent(None)
    dialog.create()
    qtbot.waitUntil(lambda: dialog.form.errors["parent"].isVisibleTo(dialog), timeout=5000)
    assert "parent" in dialog.form.errors["parent"].text()
    assert accounts.count_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery()) == before


def test_the_unit_picker_searches_vacant_units_as_you_type(qtbot, ctx) -> None:  # noqa: ANN001
    dialog = NewAccountDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    unit = _vacant_unit(ctx)
    dialog.form.unit_search.setText(f"{unit.label.split(',')[0]}")
    dialog.form.unit_search.flush()
    qtbot.waitUntil(lambda: dialog.form.unit_list.count() > 0 and
                    dialog.form.unit_list.item(0).data(Qt.ItemDataRole.UserRole) is not None, timeout=5000)
    dialog.form._pick_first()
    assert dialog.form.unit is not None and dialog.form.unit.id == unit.id


def _occupied_account(ctx) -> accounts.AccountDetail:  # noqa: ANN001
    rows = accounts.list_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery(), 0, 50)
    for row in rows:
        d = accounts.get_account(ctx.uow(), ctx.actor, row.id)
        if (d.address_id and d.disconnected_on is None and d.status == "Active" and not d.is_shell
                and accounts.leaving_on(ctx.uow(), ctx.actor, d.id) is None):
            return d
    raise AssertionError("no active tenant in the demo data")


def test_the_move_out_wizard_schedules_the_move_and_sets_up_the_next_tenant(qtbot, ctx) -> None:  # noqa: ANN001
    tenant = _occupied_account(ctx)
    wizard = MoveOutWizard(ctx, tenant, accounts.lookups(ctx.uow(), ctx.actor))
    qtbot.addWidget(wizard)
    wizard.show()
    leaving = date.today() + timedelta(days=14)
    wizard.move_out.fields.on.setDate(QDate(leaving.year, leaving.month, leaving.day))
    wizard.next()
    assert wizard.currentPage() is wizard.next_tenant
    page = wizard.next_tenant
    assert page.form.starts_on.date() == QDate(leaving.year, leaving.month, leaving.day)
    page.enabled.setChecked(True)
    qtbot.waitUntil(lambda: page.form.kind.count() > 0, timeout=5000)
    page.form.name.setText("Noor Haddad")
    page.form.phone.setText("(416) 555-0177")
    with qtbot.waitSignal(wizard.done_moving, timeout=8000) as done:
        wizard.button(QWizard.WizardButton.FinishButton).click()
    new_id = done.args[0]
    old_events = scheduling.list_events(ctx.uow(), ctx.actor, tenant.id)
    assert [(e.kind, e.due_on, e.state) for e in old_events] == [("disconnect", leaving, "pending")]
    newcomer = accounts.get_account(ctx.uow(), ctx.actor, new_id)
    assert newcomer.address_id == tenant.address_id and newcomer.status == "Lead"
    assert [c.name for c in newcomer.contacts] == ["Noor Haddad"]  # nothing of the old tenant
    assert [(e.kind, e.due_on) for e in scheduling.list_events(ctx.uow(), ctx.actor, new_id)] == [
        ("change_status", leaving)]
    # On the day: the old tenant is disconnected and the newcomer active.
    summary = scheduling.run_due_events(ctx.uow, ctx.actor, leaving, "test")
    assert summary.ran == 2 and summary.failed == 0
    assert accounts.get_account(ctx.uow(), ctx.actor, tenant.id).disconnected_on == leaving
    assert accounts.get_account(ctx.uow(), ctx.actor, new_id).status == "Active"


def test_a_refused_next_tenant_keeps_the_move_out_and_the_wizard_open(qtbot, ctx) -> None:  # noqa: ANN001
    tenant = _occupied_account(ctx)
    wizard = MoveOutWizard(ctx, tenant, accounts.lookups(ctx.uow(), ctx.actor))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.next_tenant
    page.enabled.setChecked(True)
    qtbot.waitUntil(lambda: page.form.kind.count() > 0, timeout=5000)
    page.form.name.setText("Taken Number")
    page.form.number.setText(tenant.number)  # already used
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: page.form.errors["number"].isVisibleTo(wizard), timeout=8000)
    assert "already used" in page.form.errors["number"].text()
    assert wizard.isVisible() and wizard.scheduled is not None
    page.form.number.setText("")
    with qtbot.waitSignal(wizard.done_moving, timeout=8000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    # The move-out (today: applied at once) happened on the first Finish only; a second attempt
    # would have been refused as "already disconnected" and done_moving would not have come.
    assert accounts.get_account(ctx.uow(), ctx.actor, tenant.id).disconnected_on == date.today()


def test_ctrl_k_finds_an_account_and_enter_opens_it(qtbot, ctx) -> None:  # noqa: ANN001
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    some = accounts.list_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery(), 0, 1)[0]
    view = window.section("Accounts")
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(window, "search_palette", None), SearchPalette), timeout=3000)
    palette = window.search_palette
    qtbot.keyClicks(palette.box, some.number)
    qtbot.keyClick(palette.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.page.account_id == some.id, timeout=5000)
    assert view.pages.currentWidget() is view.page
    assert some.number in view.page.title.text()


def test_ctrl_k_finds_a_unit_and_opens_its_building(qtbot, ctx) -> None:  # noqa: ANN001
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    unit = _vacant_unit(ctx)
    window.search_everything()
    palette = window.search_palette
    palette.box.setText(unit.label.replace(",", ""))
    palette.box.flush()
    qtbot.waitUntil(lambda: palette.results.currentItem() is not None, timeout=5000)
    assert "ADDRESSES" in [palette.results.item(i).text() for i in range(palette.results.count())]
    palette._open(palette.results.currentItem())
    view = window.section("Addresses")
    qtbot.waitUntil(lambda: view.building is not None and view.grid.selected_unit() is not None, timeout=5000)
    assert view.grid.selected_unit().id == unit.id
