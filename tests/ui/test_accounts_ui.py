"""The accounts view driven like a person would: sign in, search, filter, open, edit, save."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app import demo
from app.accounts import service
from app.accounts.repository import AccountQuery
from app.staff import service as staff
from app.ui.accounts.form import AccountForm
from app.ui.accounts.view import AccountsView, make_accounts_model
from app.ui.login import FirstAdminDialog, LoginDialog
from app.ui.main_window import SECTIONS, MainWindow
from app.ui.widgets.common import EmptyState
from app.uow import UnitOfWork


def _loaded(qtbot, model) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() > 0, timeout=5000)


def test_the_accounts_model_passes_qt_model_tester(qtbot, qtmodeltester, ctx) -> None:  # noqa: ANN001
    model = make_accounts_model(ctx)
    with qtbot.waitSignal(model.count_changed, timeout=5000):
        model.reload()
    for row in range(model.rowCount()):
        model.row(row)
    qtbot.waitUntil(lambda: model.loaded_rows() == model.rowCount(), timeout=5000)
    qtmodeltester.check(model)


def test_the_model_holds_only_a_few_pages_however_far_you_scroll(qtbot, ctx) -> None:  # noqa: ANN001
    model = make_accounts_model(ctx)
    model.page_size, model.max_pages = 20, 3
    with qtbot.waitSignal(model.count_changed, timeout=5000):
        model.reload()
    total = model.rowCount()
    assert total == 300
    for row in range(0, total, 7):  # scrolling fast from top to bottom
        model.row(row)
        qtbot.wait(1)
    last_pages = (total - 1, total - 21, total - 41)  # the three pages the scroll ended on
    qtbot.waitUntil(lambda: all(model.row(r) is not None for r in last_pages), timeout=5000)
    assert model.loaded_rows() <= 3 * 20
    # Row 0 was evicted long ago: it shows as loading until its page comes back.
    assert model.data(model.index(0, 0)) == "…"


def test_sign_in_dialog_shows_a_wrong_password_inline_and_accepts_the_right_one(qtbot, demo_db, app) -> None:  # noqa: ANN001
    dialog = LoginDialog(lambda u, p: staff.sign_in(UnitOfWork(demo_db), u, p), demo_db.describe())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.username.setText("admin")
    dialog.password.setText("wrong")
    dialog.submit()
    assert dialog.error.isVisibleTo(dialog) and "Wrong user name or password" in dialog.error.text()
    assert dialog.result() != LoginDialog.DialogCode.Accepted
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, demo.DEMO_PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert dialog.actor is not None and dialog.actor.role == "Administrator"


def test_the_first_start_asks_for_an_administrator(qtbot, sqlite_url_fresh, app) -> None:  # noqa: ANN001
    from app.core.db import open_database

    db = open_database(sqlite_url_fresh)
    assert staff.needs_first_admin(UnitOfWork(db))
    dialog = FirstAdminDialog(lambda u, p, n: staff.create_first_admin(UnitOfWork(db), u, p, n))
    qtbot.addWidget(dialog)
    dialog.full_name.setText("Dana Owner")
    dialog.password.setText("a good password")
    dialog.again.setText("a different one")
    dialog.submit()
    assert "differ" in dialog.error.text()
    dialog.again.setText("a good password")
    dialog.submit()
    assert dialog.actor is not None and dialog.actor.username == "admin"
    assert not staff.needs_first_admin(UnitOfWork(db))
    db.dispose()


def _window(qtbot, ctx) -> MainWindow:  # noqa: ANN001
    QSettings().clear()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_typing_a_search_filters_the_rows_in_the_database(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    _loaded(qtbot, view.model)
    assert view.count_label.text() == "300 accounts"
    some = view.model.row(5)
    surname = some.name.split()[-1]
    expected = service.count_accounts(ctx.uow(), ctx.actor, AccountQuery(text=surname))
    with qtbot.waitSignal(view.model.count_changed, timeout=5000):
        qtbot.keyClicks(view.search, surname.lower())
    assert view.model.rowCount() == expected < 300
    names = [view.model.row(r) for r in range(view.model.rowCount())]
    assert all(r is not None for r in names)
    assert view.count_label.text().startswith(f"{expected} account")

    with qtbot.waitSignal(view.model.count_changed, timeout=5000):
        qtbot.keyClicks(view.search, " zzzz-nothing")
    assert view.model.rowCount() == 0
    assert view.stack.currentWidget() is view.empty
    assert "No matching accounts" in view.empty.title.text()


def test_the_status_filter_runs_in_the_database(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    _loaded(qtbot, view.model)
    qtbot.waitUntil(lambda: view.status_filter.count() > 1, timeout=5000)
    index = view.status_filter.findText("Delinquent")
    with qtbot.waitSignal(view.model.count_changed, timeout=5000):
        view.status_filter.setCurrentIndex(index)
    rows = [view.model.row(r) for r in range(view.model.rowCount())]
    assert rows and {r.status for r in rows} == {"Delinquent"}


def _wait_for_form(qtbot, view) -> AccountForm:  # noqa: ANN001
    """Double-click opened the account's page; Edit… (Ctrl+E) opens the form on it."""
    page = view.page
    qtbot.waitUntil(lambda: view.pages.currentWidget() is page and page.data is not None, timeout=5000)
    assert page.edit_button.isEnabled()
    page.edit()
    qtbot.waitUntil(lambda: isinstance(getattr(page, "dialog", None), AccountForm) and page.dialog.isVisible(),
                    timeout=5000)
    return page.dialog


def _open_first(qtbot, view) -> AccountForm:  # noqa: ANN001
    _loaded(qtbot, view.model)
    index = view.model.index(0, 1)
    rect = view.table.visualRect(index)
    # A real double-click is press, release, then the double-click event.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return _wait_for_form(qtbot, view)


def test_double_click_opens_the_account_page_and_saving_goes_through_the_service(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    form = _open_first(qtbot, view)
    account_id = form.detail.id
    form.name.setText("Zed Renamed-Tenant")
    with qtbot.waitSignal(form.saved, timeout=5000):
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert service.get_account(ctx.uow(), ctx.actor, account_id).name == "Zed Renamed-Tenant"


def test_a_bad_email_is_shown_next_to_the_contacts_and_nothing_is_saved(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    form = _open_first(qtbot, view)
    before = service.get_account(ctx.uow(), ctx.actor, form.detail.id)
    form.contacts.item(0, 1).setText("not an email")
    form.save()
    qtbot.waitUntil(lambda: form.contacts_error.isVisibleTo(form), timeout=5000)
    assert "not an e-mail address" in form.contacts_error.text()
    assert form.contacts.currentColumn() == 1
    assert service.get_account(ctx.uow(), ctx.actor, form.detail.id) == before


def test_a_conflicting_save_offers_to_reload(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    form = _open_first(qtbot, view)
    d = form.detail
    staff.add_user(ctx.uow(), ctx.actor, "colleague", "long enough pw", "Support", "Chris Colleague")
    colleague = staff.sign_in(ctx.uow(), "colleague", "long enough pw")
    service.update_account(ctx.uow(), colleague, d.id, d.version,
                           service.AccountChanges("Changed Elsewhere", d.status_id, list(d.contacts)))
    seen: dict[str, str] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen["text"] = box.text()
            reload = next(b for b in box.buttons() if b.text() == "Reload")
            reload.click()
        else:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(20, answer)
    form.name.setText("My Edit")
    form.save()
    qtbot.waitUntil(lambda: form.name.text() == "Changed Elsewhere", timeout=5000)
    assert "changed by Chris Colleague" in seen["text"]
    assert service.get_account(ctx.uow(), ctx.actor, d.id).name == "Changed Elsewhere"


def test_sections_not_built_yet_are_honest_and_have_no_dead_buttons(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    for section in SECTIONS:
        widget = window.section(section.name)
        if isinstance(widget, EmptyState):
            assert "not built yet" in widget.title.text()
            assert widget.findChildren(QPushButton) == []


def test_the_status_bar_shows_the_database_and_the_user(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    assert window.db_label.text().startswith("SQLite · ")
    assert window.user_label.text() == "Signed in as admin (Administrator)"


def test_the_window_remembers_its_section_and_size(qtbot, ctx) -> None:  # noqa: ANN001
    window = _window(qtbot, ctx)
    view = window.section("Accounts")
    qtbot.waitUntil(lambda: view.status_filter.count() > 1, timeout=5000)  # filters settled
    # Within the offscreen screen (800 × 600), which restoreGeometry clamps to.
    width = max(760, window.minimumSizeHint().width())
    assert width < 800, f"the window cannot shrink below {width} px"
    window.resize(width, 520)
    window.sidebar.setCurrentRow(len(SECTIONS) - 1)
    window.close()
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert again.sidebar.currentRow() == len(SECTIONS) - 1
    assert (again.width(), again.height()) == (width, 520)


def test_groups_are_ticked_on_the_account_page_and_filter_the_list(qtbot, ctx) -> None:  # noqa: ANN001
    from app.accounts import lookups
    from app.ui.accounts.account_view import GroupsDialog

    group = lookups.add_lookup(ctx.uow(), ctx.actor, lookups.LookupKind.GROUP, "Bulk contract 2026")
    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    _loaded(qtbot, view.model)
    target = view.model.row(3)
    view.open_account(target.id)
    page = view.page
    qtbot.waitUntil(lambda: page.data is not None and page.groups_button.isEnabled(), timeout=5000)
    page.edit_groups()
    dialog = page.dialog
    assert isinstance(dialog, GroupsDialog)
    [item] = dialog.list.findItems("Bulk contract 2026", Qt.MatchFlag.MatchExactly)
    item.setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.save()
    assert "Bulk contract 2026" in [g.name for g in lookups.account_groups(ctx.uow(), ctx.actor, target.id)]
    qtbot.waitUntil(lambda: "Bulk contract 2026" in page.data.detail.groups, timeout=5000)
    page.back.emit()
    view._load_lookups()
    qtbot.waitUntil(lambda: view.group_filter.findData(group.id) > 0, timeout=5000)
    with qtbot.waitSignal(view.model.count_changed, timeout=5000):
        view.group_filter.setCurrentIndex(view.group_filter.findData(group.id))
    assert view.model.rowCount() == 1 and view.model.row(0).id == target.id


def test_a_group_added_in_settings_appears_in_the_list_filter_at_once(qtbot, ctx) -> None:  # noqa: ANN001
    from app.accounts import lookups

    window = _window(qtbot, ctx)
    view: AccountsView = window.section("Accounts")
    qtbot.waitUntil(lambda: view.group_filter.count() > 1, timeout=5000)
    before = view.group_filter.count()
    settings = window.section("Settings")
    lookups.add_lookup(ctx.uow(), ctx.actor, lookups.LookupKind.GROUP, "Summer sublets")
    settings.lookups.changed.emit()  # what the panel emits after an edit
    qtbot.waitUntil(lambda: view.group_filter.count() == before + 1, timeout=5000)
    assert view.group_filter.findText("Summer sublets") > 0
