"""Settings → statuses, types and groups: add, rename, colour, activates, order, delete; and the
accounts list filtered by a group."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QMessageBox

from app.accounts import lookups
from app.accounts import service as accounts
from app.accounts.lookups import LookupKind
from app.accounts.repository import AccountQuery
from app.core.permissions import BUILTIN_ROLES, Actor
from app.ui.accounts.view import make_accounts_model
from app.ui.settings.lookups_panel import IdRole, LookupPanel
from app.ui.settings.view import SettingsView


def _names(panel: LookupPanel) -> list[str]:
    return [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]


def _panel(qtbot, ctx, kind: LookupKind) -> LookupPanel:  # noqa: ANN001
    panel = LookupPanel(ctx, kind)
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0 or kind is LookupKind.GROUP, timeout=5000)
    ctx.runner.wait()
    qtbot.wait(20)
    return panel


def _row_of(panel: LookupPanel, name: str) -> int:
    return _names(panel).index(name)


@pytest.fixture()
def answer_yes(monkeypatch):  # noqa: ANN001
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_the_settings_view_shows_the_three_lists_beside_the_other_panels(qtbot, ctx) -> None:  # noqa: ANN001
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    panel = view.lookups
    qtbot.waitUntil(lambda: panel.statuses.table.rowCount() == 5 and panel.types.table.rowCount() == 4, timeout=5000)
    assert _names(panel.statuses) == ["Lead", "Active", "Delinquent", "Suspended", "Inactive"]
    assert panel.statuses.columns == ["Name", "Activates", "Accounts"]
    assert panel.groups.columns == ["Name", "Accounts"] and not panel.groups.up_button.isVisibleTo(panel.groups)
    active = _row_of(panel.statuses, "Active")
    assert panel.statuses.table.item(active, 1).checkState() == Qt.CheckState.Checked
    assert int(panel.statuses.table.item(active, 2).text().replace(",", "")) > 100
    assert panel.statuses.table.item(active, 0).data(Qt.ItemDataRole.DecorationRole) == QColor("#2e7d32")
    assert view.company is not None and view.database is not None


def test_adding_a_status_selects_it_and_a_duplicate_name_is_explained_inline(qtbot, ctx) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.STATUS)
    panel.name_edit.setText("Moving out")
    panel.add_button.click()
    qtbot.waitUntil(lambda: "Moving out" in _names(panel), timeout=5000)
    assert panel.selected().name == "Moving out" and panel.name_edit.text() == ""
    assert _names(panel)[-1] == "Moving out"
    panel.name_edit.setText("ACTIVE")
    panel.add()
    qtbot.waitUntil(lambda: panel.error.isVisibleTo(panel), timeout=5000)
    assert panel.error.text() == "There is already a status called “Active”."
    assert panel.name_edit.text() == "ACTIVE"  # kept, to correct


def test_renaming_in_place_saves_and_a_refused_name_springs_back(qtbot, ctx) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.TYPE)
    row = _row_of(panel, "Student")
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.table.item(row, 0).setText("Student housing")
    qtbot.waitUntil(lambda: "Student housing" in _names(panel), timeout=5000)
    assert "Student housing" in [t.name for t in accounts.lookups(ctx.uow(), ctx.actor).types]
    panel.table.item(_row_of(panel, "Student housing"), 0).setText("residential")
    qtbot.waitUntil(lambda: panel.error.isVisibleTo(panel), timeout=5000)
    assert "already an account type called “Residential”" in panel.error.text()
    qtbot.waitUntil(lambda: "residential" not in _names(panel), timeout=5000)
    assert "Student housing" in _names(panel)


def test_the_activates_box_saves_at_once(qtbot, ctx) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.STATUS)
    row = _row_of(panel, "Suspended")
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.table.item(row, 1).setCheckState(Qt.CheckState.Checked)
    suspended = next(s for s in accounts.lookups(ctx.uow(), ctx.actor).statuses if s.name == "Suspended")
    assert suspended.activates


def test_moving_a_status_down_and_up(qtbot, ctx) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.STATUS)
    panel.table.selectRow(0)
    assert not panel.up_button.isEnabled() and panel.down_button.isEnabled()
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.down_button.click()
    assert _names(panel)[:2] == ["Active", "Lead"]
    assert panel.selected().name == "Lead" and panel.up_button.isEnabled()
    assert [s.name for s in accounts.lookups(ctx.uow(), ctx.actor).statuses][:2] == ["Active", "Lead"]
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.up_button.click()
    assert _names(panel)[:2] == ["Lead", "Active"]


def test_choosing_a_colour_repaints_the_swatch(qtbot, ctx, monkeypatch) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.TYPE)
    panel.table.selectRow(_row_of(panel, "Commercial"))
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#123456"))
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.colour_button.click()
    item = panel.table.item(_row_of(panel, "Commercial"), 0)
    assert item.data(Qt.ItemDataRole.DecorationRole) == QColor("#123456")
    assert next(t for t in accounts.lookups(ctx.uow(), ctx.actor).types if t.name == "Commercial").colour == "#123456"


def test_a_status_in_use_is_not_deleted_and_an_unused_one_is_after_asking(qtbot, ctx, answer_yes) -> None:  # noqa: ANN001
    panel = _panel(qtbot, ctx, LookupKind.STATUS)
    panel.table.selectRow(_row_of(panel, "Active"))
    panel.delete_button.click()
    qtbot.waitUntil(lambda: panel.error.isVisibleTo(panel), timeout=5000)
    assert "use the status “Active”; give them another status" in panel.error.text()
    assert answer_yes == []  # nothing to ask: it cannot be deleted
    added = lookups.add_lookup(ctx.uow(), ctx.actor, LookupKind.STATUS, "Unused")
    panel.load()
    qtbot.waitUntil(lambda: "Unused" in _names(panel), timeout=5000)
    panel.select(added.id)
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.delete()
    assert answer_yes == ["Delete the status “Unused”?"]
    assert "Unused" not in _names(panel) and not panel.error.isVisibleTo(panel)


def test_deleting_a_group_in_use_says_how_many_accounts_leave_it(qtbot, ctx, answer_yes, monkeypatch) -> None:  # noqa: ANN001
    group = lookups.add_lookup(ctx.uow(), ctx.actor, LookupKind.GROUP, "Building 7 board", "#ff9800")
    ids = [r.id for r in accounts.list_accounts(ctx.uow(), ctx.actor, AccountQuery(), 0, 3)]
    for account_id in ids:
        lookups.set_account_groups(ctx.uow(), ctx.actor, account_id, [group.id])
    panel = _panel(qtbot, ctx, LookupKind.GROUP)

    def row_of(name: str) -> int:
        return next((r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == name), -1)

    qtbot.waitUntil(lambda: row_of("Building 7 board") >= 0, timeout=5000)
    before = panel.table.rowCount()  # the demo data brings groups of its own
    assert panel.table.item(row_of("Building 7 board"), 1).text() == "3"
    panel.table.selectRow(row_of("Building 7 board"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    panel.delete()
    ctx.runner.wait()
    qtbot.wait(20)
    assert panel.table.rowCount() == before
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: answer_yes.append(text) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.delete_button.click()
    assert "3 accounts are in it; they will simply leave the group." in answer_yes[-1]
    assert panel.table.rowCount() == before - 1 and row_of("Building 7 board") == -1
    assert lookups.account_groups(ctx.uow(), ctx.actor, ids[0]) == []


def test_a_user_without_settings_manage_sees_the_lists_but_cannot_change_them(qtbot, ctx) -> None:  # noqa: ANN001
    support = dataclasses.replace(ctx, actor=Actor(None, "sam", "Support", BUILTIN_ROLES["Support"][1]))
    panel = _panel(qtbot, support, LookupKind.STATUS)
    assert len(_names(panel)) == 5
    assert not panel.add_button.isVisibleTo(panel) and not panel.delete_button.isVisibleTo(panel)
    assert panel.table.editTriggers() == panel.table.EditTrigger.NoEditTriggers
    assert not panel.table.item(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    assert not panel.table.item(0, 1).flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert panel.table.item(0, 0).data(IdRole) == panel.rows[0].id


def test_the_accounts_list_model_filters_by_group(qtbot, ctx) -> None:  # noqa: ANN001
    group = lookups.add_lookup(ctx.uow(), ctx.actor, LookupKind.GROUP, "Bulk contract 2025")
    rows = accounts.list_accounts(ctx.uow(), ctx.actor, AccountQuery(), 0, 300)
    tagged = [r for r in rows[::37]]
    for row in tagged:
        lookups.set_account_groups(ctx.uow(), ctx.actor, row.id, [group.id])
    model = make_accounts_model(ctx)
    with qtbot.waitSignal(model.count_changed, timeout=5000):
        model.reload()
    assert model.rowCount() == 300
    with qtbot.waitSignal(model.count_changed, timeout=5000) as blocker:
        model.set_query(dataclasses.replace(model.query, group_id=group.id))
    assert blocker.args == [len(tagged)]
    qtbot.waitUntil(lambda: all(model.row(i) is not None for i in range(model.rowCount())), timeout=5000)
    assert sorted(model.row(i).id for i in range(model.rowCount())) == sorted(r.id for r in tagged)
