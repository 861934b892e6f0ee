"""The scheduled-events tab and the background scheduler, driven like a person would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import Account, AccountStatus
from app.core.permissions import Actor
from app.scheduling import service as scheduling
from app.staff import service as staff
from app.ui.accounts.events_tab import ScheduledEventsTab
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.scheduler import EventScheduler


@pytest.fixture()
def account(ctx) -> int:  # noqa: ANN001
    """An active, connected demo account with a contact."""
    with ctx.uow() as u:
        return u.session.scalars(
            select(Account.id).join(Account.status).where(
                Account.disconnected_on.is_(None), AccountStatus.name == "Active",
                Account.contacts.any()).order_by(Account.id).limit(1)).one()


def _status(ctx, name: str) -> int:  # noqa: ANN001
    return next(s.id for s in accounts.lookups(ctx.uow(), ctx.actor).statuses if s.name == name)


def _tab(qtbot, ctx, account_id: int) -> ScheduledEventsTab:  # noqa: ANN001
    tab = ScheduledEventsTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1100, 360)
    tab.show()
    qtbot.waitExposed(tab)
    tab.load(account_id)
    qtbot.waitUntil(lambda: not tab.loading, timeout=5000)
    return tab


def _open_dialog(qtbot, tab):  # noqa: ANN001, ANN202
    tab.dialog = None
    qtbot.mouseClick(tab.schedule_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5000)
    return tab.dialog


def _some_events(ctx, account_id: int) -> None:  # noqa: ANN001
    """One event in each state on the account: pending, cancelled, failed, done twice."""
    today = date.today()
    uow, actor, system = ctx.uow, ctx.actor, Actor.system("scheduler")
    contact = accounts.get_account(uow(), actor, account_id).contacts[0]
    scheduling.schedule_event(uow(), actor, account_id, "change_status", today - timedelta(days=2),
                              {"status_id": _status(ctx, "Suspended")})
    scheduling.schedule_event(uow(), actor, account_id, "change_contact", today - timedelta(days=1),
                              {"contact_id": contact.id, "email": "moved@example.com"})
    scheduling.run_due_events(uow, system, today, "frontdesk@desk-2 (pid 4242)")
    scheduling.schedule_event(uow(), actor, account_id, "change_contact", today,
                              {"contact_id": contact.id, "phone": "416 555 0199"})
    current = accounts.get_account(uow(), actor, account_id)  # that contact goes before it runs
    accounts.update_account(uow(), actor, account_id, current.version, accounts.AccountChanges(
        current.name, current.status_id, [accounts.ContactInput("Sam Lodger", "sam@example.com", is_primary=True)]))
    scheduling.run_due_events(uow, system, today, "frontdesk@desk-2 (pid 4242)")
    cancelled = scheduling.schedule_event(uow(), actor, account_id, "change_status", today + timedelta(days=3),
                                          {"status_id": _status(ctx, "Delinquent")})
    scheduling.cancel_event(uow(), actor, cancelled.id, cancelled.version)
    scheduling.disconnect_account(uow(), actor, account_id, today + timedelta(days=30), "Moving out",
                                  _status(ctx, "Inactive"), today)


def test_the_events_model_passes_qt_model_tester(qtbot, qtmodeltester, ctx, account) -> None:  # noqa: ANN001
    _some_events(ctx, account)
    tab = _tab(qtbot, ctx, account)
    assert [tab.model.row(i).state for i in range(tab.model.rowCount())] == \
        ["pending", "cancelled", "failed", "done", "done"]
    assert tab.model.index(2, 4).data() == "That contact is no longer on this account."
    ran = tab.model.index(3, 3)
    assert ran.data().endswith(" · frontdesk@desk-2")  # the desk; the process id is in the tooltip
    assert ran.data(Qt.ItemDataRole.ToolTipRole).endswith(" on frontdesk@desk-2 (pid 4242)")
    qtmodeltester.check(tab.model)


def test_scheduling_a_status_change_through_the_dialog_and_cancelling_it(qtbot, ctx, account, monkeypatch) -> None:  # noqa: ANN001
    tab = _tab(qtbot, ctx, account)
    assert tab.model.rowCount() == 0 and tab.empty.isVisible()
    assert not tab.cancel_button.isEnabled()

    dialog = _open_dialog(qtbot, tab)
    dialog.kind.setCurrentIndex(dialog.kind.findData("change_status"))
    dialog.status.setCurrentIndex(dialog.status.findText("Suspended"))
    due = date.today() + timedelta(days=5)
    dialog.on.setDate(QDate(due.year, due.month, due.day))
    with qtbot.waitSignal(tab.changed, timeout=5000, raising=True):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=5000)
    assert not dialog.isVisible()
    row = tab.model.row(0)
    assert (row.state, row.description, row.due_on) == ("pending", "Status → Suspended", due)
    assert tab.model.index(0, 2).data() == "Pending"
    assert not tab.empty.isVisible()

    tab.table.selectRow(0)
    assert tab.cancel_button.isEnabled()
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(tab.changed, timeout=5000, raising=True):
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert "Status → Suspended" in asked[0] and due.isoformat() in asked[0]
    qtbot.waitUntil(lambda: tab.model.row(0) is not None and tab.model.row(0).state == "cancelled", timeout=5000)
    assert tab.model.index(0, 4).data().startswith("Cancelled by")
    assert not tab.cancel_button.isEnabled()
    assert accounts.get_account(ctx.uow(), ctx.actor, account).status != "Suspended"


def test_saying_no_to_the_confirmation_keeps_the_event(qtbot, ctx, account, monkeypatch) -> None:  # noqa: ANN001
    scheduling.schedule_event(ctx.uow(), ctx.actor, account, "change_status", date.today() + timedelta(days=1),
                              {"status_id": _status(ctx, "Lead")})
    tab = _tab(qtbot, ctx, account)
    tab.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert scheduling.list_events(ctx.uow(), ctx.actor, account)[0].state == "pending"


def test_the_dialog_shows_what_is_wrong_next_to_the_field(qtbot, ctx, account) -> None:  # noqa: ANN001
    tab = _tab(qtbot, ctx, account)
    dialog = _open_dialog(qtbot, tab)
    dialog.kind.setCurrentIndex(dialog.kind.findData("disconnect"))
    assert dialog.pages.currentWidget() is dialog.page_for["disconnect"]
    dialog.reason.setText("   ")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.errors["reason"].isVisible(), timeout=5000)
    assert "Say why" in dialog.errors["reason"].text()
    assert dialog.isVisible()

    dialog.kind.setCurrentIndex(dialog.kind.findData("change_contact"))
    assert not dialog.errors["reason"].isVisible()  # switching kind clears the old messages
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)  # nothing changed
    qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=5000)
    assert "at least one detail" in dialog.form_error.text()

    dialog.contact_fields["email"].setText("not-an-email")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.errors["email"].isVisible(), timeout=5000)
    assert "not an e-mail address" in dialog.errors["email"].text()

    dialog.contact_fields["email"].setText("new.address@example.com")
    with qtbot.waitSignal(tab.changed, timeout=5000, raising=True):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=5000)
    assert "e-mail → new.address@example.com" in tab.model.row(0).description


def test_a_read_only_user_sees_the_events_but_cannot_change_them(qtbot, ctx, account) -> None:  # noqa: ANN001
    staff.add_user(ctx.uow(), ctx.actor, "rita", "long enough pw", "Read-only")
    rita = staff.sign_in(ctx.uow(), "rita", "long enough pw")
    scheduling.schedule_event(ctx.uow(), ctx.actor, account, "change_status", date.today() + timedelta(days=1),
                              {"status_id": _status(ctx, "Lead")})
    tab = _tab(qtbot, AppContext(ctx.db, rita, ctx.runner, ctx.secrets), account)
    assert tab.model.rowCount() == 1
    tab.table.selectRow(0)
    assert not tab.schedule_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert "Read-only" in tab.schedule_button.toolTip()


def test_the_scheduler_runs_due_events_in_the_background_without_overlapping(qtbot, ctx, account) -> None:  # noqa: ANN001
    event = scheduling.schedule_event(ctx.uow(), ctx.actor, account, "change_status", date.today(),
                                      {"status_id": _status(ctx, "Suspended")})
    scheduler = EventScheduler(ctx, ctx.runner)
    with qtbot.waitSignal(scheduler.ran, timeout=5000, raising=True) as ran:
        assert scheduler.run_now()
        assert not scheduler.run_now()  # one run at a time
    assert ran.args[0].ran == 1
    (row,) = scheduling.list_events(ctx.uow(), ctx.actor, account)
    assert row.id == event.id and row.state == "done"
    assert row.ran_by == scheduling.worker_name(ctx.actor.username)
    assert row.ran_by.startswith(f"{ctx.actor.username}@") and "(pid " in row.ran_by
    qtbot.waitUntil(lambda: not scheduler.busy, timeout=5000)
    assert scheduler.run_now()  # free again once the run is over
    qtbot.waitUntil(lambda: not scheduler.busy, timeout=5000)


def test_the_main_window_runs_due_events_at_start_up(qtbot, ctx, account) -> None:  # noqa: ANN001
    scheduling.schedule_event(ctx.uow(), ctx.actor, account, "change_status", date.today(),
                              {"status_id": _status(ctx, "Suspended")})
    QSettings().clear()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert window.scheduler.timer.isActive() and window.scheduler.timer.interval() == 60_000
    qtbot.waitUntil(lambda: scheduling.list_events(ctx.uow(), ctx.actor, account)[0].state == "done", timeout=5000)
    assert accounts.get_account(ctx.uow(), ctx.actor, account).status == "Suspended"
