"""The account's Notes and History tabs, driven like a person would: write, pin, log a call."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from app.accounts import history, notes
from app.accounts import service as accounts
from app.accounts.repository import AccountQuery
from app.core.permissions import BUILTIN_ROLES, Actor
from app.ui.accounts.history_tab import HistoryTab
from app.ui.accounts.notes_tab import CallDialog, NotesTab, TimelineModel, heading


@pytest.fixture()
def account(ctx):  # noqa: ANN001
    row = next(r for r in accounts.list_accounts(ctx.uow(), ctx.actor, AccountQuery(), 0, 50) if r.contact)
    return accounts.get_account(ctx.uow(), ctx.actor, row.id)


@pytest.fixture()
def tab(qtbot, ctx):  # noqa: ANN001
    widget = NotesTab(ctx)
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    return widget


def _loaded(qtbot, tab, rows: int) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: tab.add_button.isEnabled() and tab.model.rowCount() == rows, timeout=5000)


def test_an_account_without_notes_says_so_and_ctrl_enter_saves_a_note(qtbot, tab, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(lambda: tab.stack.currentWidget() is tab.empty and tab.add_button.isEnabled(), timeout=5000)
    assert tab.empty.title.text() == "No notes or calls yet"
    tab.editor.setPlainText("Gate code 4411")
    with qtbot.waitSignal(tab.changed, timeout=5000):
        qtbot.keyClick(tab.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    _loaded(qtbot, tab, 1)
    assert tab.stack.currentWidget() is tab.list
    assert tab.editor.toPlainText() == ""
    row = tab.model.row(0)
    assert (row.kind, row.text, row.who, row.pinned) == ("note", "Gate code 4411", "Demo Administrator", False)
    assert tab.count_label.text() == "1 note · 0 calls"


def test_a_plain_enter_adds_a_line_instead_of_saving(qtbot, tab, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(tab.add_button.isEnabled, timeout=5000)
    tab.editor.setPlainText("first line")
    tab.editor.moveCursor(tab.editor.textCursor().MoveOperation.End)
    qtbot.keyClick(tab.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(tab.editor, "second line")
    assert tab.editor.toPlainText() == "first line\nsecond line"
    assert notes.timeline(tab.ctx.uow(), tab.ctx.actor, account.id) == []


def test_an_empty_note_is_explained_inline(qtbot, tab, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(tab.add_button.isEnabled, timeout=5000)
    tab.editor.setPlainText("   ")
    tab.add_note()
    qtbot.waitUntil(lambda: tab.note_error.isVisibleTo(tab), timeout=5000)
    assert "Write something" in tab.note_error.text()
    assert tab.add_button.isEnabled()


def test_pinned_notes_come_first_and_pin_and_unpin_from_the_button(qtbot, tab, ctx, account) -> None:  # noqa: ANN001
    notes.add_note(ctx.uow(), ctx.actor, account.id, "older, pinned", pinned=True)
    notes.add_note(ctx.uow(), ctx.actor, account.id, "newer")
    tab.load(account.id)
    _loaded(qtbot, tab, 2)
    assert [r.text for r in tab.model.rows()] == ["older, pinned", "newer"]
    tab.list.setCurrentIndex(tab.model.index(1))
    assert tab.pin_button.text() == "Pin" and tab.pin_button.isEnabled()
    with qtbot.waitSignal(tab.changed, timeout=5000):
        tab.pin_button.click()
    qtbot.waitUntil(lambda: tab.model.row(0).text == "newer" and tab.model.row(0).pinned, timeout=5000)
    # The selection follows the note to its new place.
    assert tab.selected().text == "newer" and tab.pin_button.text() == "Unpin"
    with qtbot.waitSignal(tab.changed, timeout=5000):
        tab.toggle_pin()
    qtbot.waitUntil(lambda: not tab.model.row(1).pinned, timeout=5000)
    assert [n.text for n in tab.model.rows() if n.pinned] == ["older, pinned"]
    assert [n.body for n in notes.pinned_notes(ctx.uow(), ctx.actor, account.id)] == ["older, pinned"]


def test_the_pin_box_pins_a_new_note(qtbot, tab, ctx, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(tab.add_button.isEnabled, timeout=5000)
    tab.editor.setPlainText("Side door only")
    tab.pin.setChecked(True)
    tab.add_button.click()
    _loaded(qtbot, tab, 1)
    assert tab.model.row(0).pinned and not tab.pin.isChecked()
    assert heading(tab.model.row(0)).startswith("Pinned note · Demo Administrator · ")


def test_logging_a_call_with_a_contact_checks_the_duration_inline(qtbot, tab, ctx, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(tab.add_button.isEnabled, timeout=5000)
    tab.log_call()
    dialog = tab.call_dialog
    assert isinstance(dialog, CallDialog)
    primary = account.contacts[0]
    assert dialog.contact.currentData() == primary.id  # the primary contact is offered first
    dialog.outbound.setChecked(True)
    dialog.duration.setText("4:75")
    dialog.summary.setPlainText("Confirmed the install date")
    dialog.save()
    assert "mm:ss" in dialog.errors["duration"].text() and dialog.errors["duration"].isVisibleTo(dialog)
    dialog.duration.setText("4:05")
    with qtbot.waitSignal(tab.changed, timeout=5000):
        dialog.save_button.click()
    _loaded(qtbot, tab, 1)
    assert not dialog.isVisible()
    call = tab.model.row(0)
    assert (call.kind, call.direction, call.contact, call.duration, call.text) == (
        "call", "outbound", primary.name, 245, "Confirmed the install date")
    assert heading(call).startswith(f"↗ Outbound call with {primary.name} · 4:05 · Demo Administrator")


def test_a_call_without_a_summary_is_refused_next_to_the_summary(qtbot, tab, account) -> None:  # noqa: ANN001
    tab.load(account.id)
    qtbot.waitUntil(tab.add_button.isEnabled, timeout=5000)
    tab.log_call()
    dialog = tab.call_dialog
    dialog.contact.setCurrentIndex(0)  # nobody in particular
    dialog.duration.setText("12")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.errors["summary"].isVisibleTo(dialog), timeout=5000)
    assert "what the call was about" in dialog.errors["summary"].text()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    dialog.reject()


@pytest.mark.parametrize(("typed", "seconds"), [("", 0), ("12", 720), ("2.5", 150), ("2,5", 150), ("4:05", 245),
                                                ("1:02:05", 3725), ("0:00", 0)])
def test_durations_are_read_as_minutes_or_a_clock(typed, seconds) -> None:  # noqa: ANN001
    assert notes.parse_duration(typed) == seconds


@pytest.mark.parametrize("typed", ["abc", "4:60", "-3", "1:2:3:4", "25:00:00", "4:", "nan"])
def test_unreadable_durations_are_refused(typed) -> None:  # noqa: ANN001
    with pytest.raises(notes.ValidationError) as err:
        notes.parse_duration(typed)
    assert err.value.field == "duration"


def test_a_newer_account_replaces_an_older_one_still_loading(qtbot, tab, ctx, account) -> None:  # noqa: ANN001
    other = accounts.list_accounts(ctx.uow(), ctx.actor, AccountQuery(), 5, 1)[0]
    notes.add_note(ctx.uow(), ctx.actor, account.id, "about the first account")
    notes.add_note(ctx.uow(), ctx.actor, other.id, "about the other account")
    tab.load(account.id)
    tab.load(other.id)
    _loaded(qtbot, tab, 1)
    ctx.runner.wait()
    qtbot.wait(50)
    assert [r.text for r in tab.model.rows()] == ["about the other account"]


def test_a_read_only_user_reads_but_cannot_write(qtbot, ctx, account) -> None:  # noqa: ANN001
    notes.add_note(ctx.uow(), ctx.actor, account.id, "visible to all")
    reader = dataclasses.replace(ctx, actor=Actor(None, "rita", "Read-only", BUILTIN_ROLES["Read-only"][1]))
    tab = NotesTab(reader)
    qtbot.addWidget(tab)
    tab.show()
    tab.load(account.id)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=5000)
    assert not tab.composer.isVisible() and not tab.pin_button.isVisible()
    assert "Read-only users can read notes" in tab.read_only_label.text()
    tab.list.setCurrentIndex(tab.model.index(0))
    tab.log_call()
    assert tab.call_dialog is None


def test_the_timeline_model_passes_qt_model_tester(qtbot, qtmodeltester, ctx, account) -> None:  # noqa: ANN001
    notes.add_note(ctx.uow(), ctx.actor, account.id, "one", pinned=True)
    notes.add_call(ctx.uow(), ctx.actor, account.id, "inbound", None, 10, "two")
    model = TimelineModel()
    model.set_rows(notes.timeline(ctx.uow(), ctx.actor, account.id))
    assert model.rowCount() == 2
    qtmodeltester.check(model)


def test_the_history_tab_lists_changes_in_words(qtbot, ctx, account) -> None:  # noqa: ANN001
    note = notes.add_note(ctx.uow(), ctx.actor, account.id, "Gate code 4411")
    notes.set_pinned(ctx.uow(), ctx.actor, note.id, True)
    statuses = {s.name: s.id for s in accounts.lookups(ctx.uow(), ctx.actor).statuses}
    new_status = "Inactive" if account.status != "Inactive" else "Active"
    accounts.update_account(ctx.uow(), ctx.actor, account.id, account.version,
                            accounts.AccountChanges(account.name, statuses[new_status], list(account.contacts)))
    tab = HistoryTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(700, 400)
    tab.show()
    tab.load(account.id)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 3, timeout=5000)
    what = [tab.table.item(r, 2).text() for r in range(3)]
    assert what == [f"Status: {account.status} → {new_status}", "Note pinned: “Gate code 4411”",
                    "Note added: “Gate code 4411”"]
    assert tab.table.item(0, 1).text() == "Demo Administrator"
    assert tab.table.editTriggers() == tab.table.EditTrigger.NoEditTriggers
    assert tab.count_label.text() == "3 entries"
    assert [r.text for r in history.account_history(ctx.uow(), ctx.actor, account.id)] == what


def test_the_history_tab_has_an_empty_state(qtbot, ctx, account) -> None:  # noqa: ANN001
    tab = HistoryTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    tab.load(account.id)  # demo data writes no audit entries per account
    qtbot.waitUntil(lambda: tab.count_label.text() != "Loading…", timeout=5000)
    assert tab.stack.currentWidget() is tab.empty and tab.empty.title.text() == "No history yet"
