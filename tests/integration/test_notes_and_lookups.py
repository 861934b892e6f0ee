"""Notes and calls on an account, the configurable statuses, types and groups, and the account's
history in words. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.accounts import history, lookups, notes
from app.accounts import service as accounts
from app.accounts.lookups import ConfirmationNeeded, LookupKind
from app.accounts.models import Account, AccountNote
from app.accounts.repository import AccountQuery
from app.core.audit import AuditEntry, record
from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from app.scheduling.models import ScheduledEvent

C = accounts.ContactInput
S, T, G = LookupKind.STATUS, LookupKind.TYPE, LookupKind.GROUP


def _actor(role: str, name: str = "viewer") -> Actor:
    return Actor(None, name, role, BUILTIN_ROLES[role][1])


@pytest.fixture()
def choices(uow, admin):  # noqa: ANN001
    return accounts.lookups(uow(), admin)


def _id(choices, name: str) -> int:  # noqa: ANN001
    return next(c.id for c in [*choices.statuses, *choices.types] if c.name == name)


def _account(uow, admin, choices, name, *, status="Active", kind="Residential", contacts=()):  # noqa: ANN001
    return accounts.create_account(uow(), admin, accounts.NewAccount(
        name=name, type_id=_id(choices, kind), status_id=_id(choices, status), contacts=list(contacts)))


@pytest.fixture()
def ada(uow, admin, choices):  # noqa: ANN001
    return _account(uow, admin, choices, "Ada Li", contacts=[
        C("Ada Li", "ada@example.com", "(416) 555-0142", is_primary=True),
        C("Sam Li", "sam@example.com", "", is_financial=True)])


# -- notes and calls ---------------------------------------------------------------------------

def test_a_note_is_stamped_with_its_author_and_time_and_audited(uow, admin, ada) -> None:  # noqa: ANN001
    note = notes.add_note(uow(), admin, ada.id, "  Gate code is 4411.\nBuzzer for 1203 is broken.  ")
    assert note.body == "Gate code is 4411.\nBuzzer for 1203 is broken."
    assert note.created_by == "Alice Admin" and not note.pinned
    assert note.created_at.tzinfo is not None
    with uow() as u:
        row = u.session.get(AccountNote, note.id)
        assert row.created_by_id == admin.user_id
        (entry,) = u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "account_note"))
        assert (entry.action, entry.entity_id, entry.username) == ("create", str(note.id), "alice")
        assert entry.after["account_id"] == ada.id


def test_notes_list_pinned_first_then_newest(uow, admin, ada) -> None:  # noqa: ANN001
    first = notes.add_note(uow(), admin, ada.id, "first")
    pinned = notes.add_note(uow(), admin, ada.id, "pinned early", pinned=True)
    notes.add_note(uow(), admin, ada.id, "third")
    last = notes.add_note(uow(), admin, ada.id, "fourth")
    assert [n.body for n in notes.list_notes(uow(), admin, ada.id)] == ["pinned early", "fourth", "third", "first"]
    notes.set_pinned(uow(), admin, first.id, True)
    assert [n.body for n in notes.pinned_notes(uow(), admin, ada.id)] == ["pinned early", "first"]
    unpinned = notes.set_pinned(uow(), admin, pinned.id, False)
    assert not unpinned.pinned and unpinned.created_by == "Alice Admin"
    assert [n.body for n in notes.pinned_notes(uow(), admin, ada.id)] == ["first"]
    notes.set_pinned(uow(), admin, last.id, False)  # already unpinned: nothing to audit
    with uow() as u:
        actions = [e.action for e in u.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "account_note").order_by(AuditEntry.id))]
    assert actions == ["create"] * 4 + ["pin", "unpin"]


@pytest.mark.parametrize(("body", "message"), [
    ("   \n ", "Write something"),
    ("x" * (notes.NOTE_MAX + 1), "at most 4,000 characters"),
])
def test_an_empty_or_overlong_note_is_refused(uow, admin, ada, body, message) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError, match=message) as err:
        notes.add_note(uow(), admin, ada.id, body)
    assert err.value.field == "body"
    assert notes.list_notes(uow(), admin, ada.id) == []


def test_a_call_keeps_the_contacts_name_as_it_was(uow, admin, ada) -> None:  # noqa: ANN001
    sam = next(c for c in ada.contacts if c.name == "Sam Li")
    call = notes.add_call(uow(), admin, ada.id, "inbound", sam.id, 245, "Asked why the invoice went to him.")
    assert (call.contact_name, call.duration_seconds, call.created_by) == ("Sam Li", 245, "Alice Admin")
    renamed = [C("Ada Li", "ada@example.com", "(416) 555-0142", is_primary=True, id=ada.contacts[0].id),
               C("Samuel Li", "sam@example.com", "", is_financial=True, id=sam.id)]
    accounts.update_account(uow(), admin, ada.id, ada.version, accounts.AccountChanges("Ada Li", ada.status_id, renamed))
    (logged,) = notes.list_calls(uow(), admin, ada.id)
    assert (logged.contact_name, logged.contact_id) == ("Sam Li", sam.id)
    without = notes.add_call(uow(), admin, ada.id, "outbound", None, 0, "Left a voicemail.")
    assert without.contact_name == "" and without.contact_id is None
    assert [c.name for c in notes.call_contacts(uow(), admin, ada.id)] == ["Ada Li", "Samuel Li"]


@pytest.mark.parametrize(("direction", "contact", "seconds", "summary", "field"), [
    ("sideways", None, 10, "x", "direction"),
    ("inbound", None, -1, "x", "duration"),
    ("inbound", None, 24 * 3600 + 1, "x", "duration"),
    ("inbound", None, 10, "  ", "summary"),
    ("inbound", None, 10, "y" * (notes.SUMMARY_MAX + 1), "summary"),
    ("inbound", "other", 10, "x", "contact"),
    ("inbound", 999_999, 10, "x", "contact"),
])
def test_bad_calls_are_refused(uow, admin, choices, ada, direction, contact, seconds, summary, field) -> None:  # noqa: ANN001
    if contact == "other":
        other = _account(uow, admin, choices, "Bo Other", contacts=[C("Bo Other", is_primary=True)])
        contact = other.contacts[0].id
    with pytest.raises(ValidationError) as err:
        notes.add_call(uow(), admin, ada.id, direction, contact, seconds, summary)
    assert err.value.field == field
    assert notes.list_calls(uow(), admin, ada.id) == []


def test_a_call_of_exactly_a_day_is_allowed(uow, admin, ada) -> None:  # noqa: ANN001
    assert notes.add_call(uow(), admin, ada.id, "outbound", None, 24 * 3600, "Long one").duration_seconds == 86400


def test_the_timeline_merges_notes_and_calls_newest_first(uow, admin, ada) -> None:  # noqa: ANN001
    notes.add_note(uow(), admin, ada.id, "Moved in")
    notes.add_call(uow(), admin, ada.id, "inbound", ada.contacts[0].id, 65, "Wi-Fi password")
    notes.add_note(uow(), admin, ada.id, "Router swapped", pinned=True)
    rows = notes.timeline(uow(), admin, ada.id)
    assert [(r.kind, r.text) for r in rows] == [("note", "Router swapped"), ("call", "Wi-Fi password"),
                                                ("note", "Moved in")]
    assert rows[0].pinned and rows[0].who == "Alice Admin"
    assert (rows[1].direction, rows[1].contact, rows[1].duration) == ("inbound", "Ada Li", 65)
    assert rows[0].when >= rows[1].when >= rows[2].when


def test_notes_written_from_the_command_line_name_it(uow, system, admin, ada) -> None:  # noqa: ANN001
    notes.add_note(uow(), system, ada.id, "Imported from the old system")
    (row,) = notes.timeline(uow(), admin, ada.id)
    assert row.who == "tests"


def test_viewing_needs_accounts_view_and_writing_accounts_edit(uow, admin, ada) -> None:  # noqa: ANN001
    note = notes.add_note(uow(), admin, ada.id, "hello")
    reader, tech = _actor("Read-only"), _actor("Technician")
    assert [r.text for r in notes.timeline(uow(), reader, ada.id)] == ["hello"]
    for write in (lambda a: notes.add_note(uow(), a, ada.id, "no"),
                  lambda a: notes.set_pinned(uow(), a, note.id, True),
                  lambda a: notes.add_call(uow(), a, ada.id, "inbound", None, 1, "no")):
        with pytest.raises(PermissionDenied):
            write(reader)
        with pytest.raises(PermissionDenied):
            write(tech)
    nobody = Actor(None, "nobody", "None")
    with pytest.raises(PermissionDenied):
        notes.timeline(uow(), nobody, ada.id)


def test_notes_on_a_missing_account_or_note_are_not_found(uow, admin) -> None:  # noqa: ANN001
    with pytest.raises(NotFound):
        notes.add_note(uow(), admin, 424242, "hello")
    with pytest.raises(NotFound):
        notes.set_pinned(uow(), admin, 424242, True)
    with pytest.raises(NotFound):
        notes.timeline(uow(), admin, 424242)


# -- statuses, types and groups ----------------------------------------------------------------

def test_a_new_status_goes_to_the_end_with_its_colour_and_activates_flag(uow, admin) -> None:  # noqa: ANN001
    made = lookups.add_lookup(uow(), admin, S, "  Moving   out ", "#1E88E5", activates=True)
    assert (made.name, made.colour, made.activates) == ("Moving out", "#1e88e5", True)
    rows = lookups.list_lookups(uow(), admin, S)
    assert rows[-1].name == "Moving out" and rows[-1].sort_order > rows[-2].sort_order
    assert [c.name for c in accounts.lookups(uow(), admin).statuses][-1] == "Moving out"
    with uow() as u:
        entry = u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "account_status")).one()
        assert entry.after == {"name": "Moving out", "colour": "#1e88e5", "activates": True,
                               "sort_order": made.sort_order}


@pytest.mark.parametrize("kind", [S, T, G])
def test_names_are_unique_whatever_their_case(uow, admin, kind) -> None:  # noqa: ANN001
    first = lookups.add_lookup(uow(), admin, kind, "Board members")
    with pytest.raises(ValidationError, match="already an? .* called “Board members”") as err:
        lookups.add_lookup(uow(), admin, kind, "BOARD  members")
    assert err.value.field == "name"
    other = lookups.add_lookup(uow(), admin, kind, "Other")
    with pytest.raises(ValidationError, match="already"):
        lookups.rename_lookup(uow(), admin, kind, other.id, "board members")
    # A change of case of its own name is fine.
    assert lookups.rename_lookup(uow(), admin, kind, first.id, "Board Members").name == "Board Members"


@pytest.mark.parametrize(("name", "colour", "field"), [
    ("", None, "name"), ("x" * 61, None, "name"), ("Fine", "red", "colour"), ("Fine", "#12345", "colour"),
    ("Fine", "#12345G", "colour"),
])
def test_bad_names_and_colours_are_refused(uow, admin, name, colour, field) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as err:
        lookups.add_lookup(uow(), admin, T, name, colour)
    assert err.value.field == field


def test_rename_colour_and_activates_are_audited(uow, admin, choices) -> None:  # noqa: ANN001
    lead = _id(choices, "Lead")
    lookups.rename_lookup(uow(), admin, S, lead, "Prospect")
    lookups.set_colour(uow(), admin, S, lead, "#AABBCC")
    row = lookups.set_activates(uow(), admin, lead, True)
    assert (row.name, row.colour, row.activates) == ("Prospect", "#aabbcc", True)
    lookups.set_colour(uow(), admin, S, lead, "#aabbcc")  # unchanged: no entry
    with uow() as u:
        entries = [(e.action, e.before, e.after) for e in u.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "account_status").order_by(AuditEntry.id))]
    assert entries == [
        ("rename", {"name": "Lead"}, {"name": "Prospect"}),
        ("colour", {"colour": "#7e57c2"}, {"colour": "#aabbcc"}),
        ("activates", {"activates": False}, {"activates": True}),
    ]


def test_statuses_and_types_move_up_and_down_and_reorder(uow, admin) -> None:  # noqa: ANN001
    names = [r.name for r in lookups.list_lookups(uow(), admin, T)]
    assert names == ["Residential", "Student", "Commercial", "Building owner"]
    student = lookups.list_lookups(uow(), admin, T)[1].id
    assert [r.name for r in lookups.move_lookup(uow(), admin, T, student, -1)][:2] == ["Student", "Residential"]
    assert [r.name for r in lookups.move_lookup(uow(), admin, T, student, -1)][:2] == ["Student", "Residential"]
    rows = lookups.list_lookups(uow(), admin, T)
    reordered = lookups.reorder_lookups(uow(), admin, T, [r.id for r in reversed(rows)])
    assert [r.name for r in reordered] == ["Building owner", "Commercial", "Residential", "Student"]
    assert [r.sort_order for r in reordered] == [0, 1, 2, 3]
    assert [c.name for c in accounts.lookups(uow(), admin).types] == [r.name for r in reordered]
    with pytest.raises(ValidationError, match="changed meanwhile"):
        lookups.reorder_lookups(uow(), admin, T, [r.id for r in rows[:2]])
    group = lookups.add_lookup(uow(), admin, G, "Tag")
    with pytest.raises(ValidationError, match="listed by name"):
        lookups.move_lookup(uow(), admin, G, group.id, 1)


def test_a_status_or_type_in_use_is_not_deleted(uow, admin, choices, ada) -> None:  # noqa: ANN001
    _account(uow, admin, choices, "Bo", kind="Student")
    rows = {r.name: r for r in lookups.list_lookups(uow(), admin, S)}
    assert rows["Active"].accounts == 2 and rows["Lead"].accounts == 0
    with pytest.raises(ValidationError, match="2 accounts use the status “Active”") as err:
        lookups.delete_lookup(uow(), admin, S, rows["Active"].id)
    assert err.value.field == "status"
    with pytest.raises(ValidationError, match="1 account uses the account type “Student”"):
        lookups.delete_lookup(uow(), admin, T, _id(choices, "Student"))
    lookups.delete_lookup(uow(), admin, S, rows["Lead"].id)
    assert "Lead" not in [r.name for r in lookups.list_lookups(uow(), admin, S)]
    with uow() as u:
        entry = u.session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).one()
        assert (entry.entity, entry.before["name"]) == ("account_status", "Lead")


def test_the_last_type_is_kept(uow, admin) -> None:  # noqa: ANN001
    rows = lookups.list_lookups(uow(), admin, T)
    for row in rows[:-1]:
        lookups.delete_lookup(uow(), admin, T, row.id)
    with pytest.raises(ValidationError, match="Keep at least one account type"):
        lookups.delete_lookup(uow(), admin, T, rows[-1].id)


def test_a_status_a_pending_event_will_set_is_not_deleted(uow, admin, choices, ada) -> None:  # noqa: ANN001
    lead = _id(choices, "Lead")
    with uow() as u:
        u.session.add(ScheduledEvent(account_id=ada.id, kind="change_status", due_on=date(2031, 1, 1),
                                     payload={"status_id": lead}))
        u.commit()
    with pytest.raises(ValidationError, match="1 scheduled event will still change accounts to “Lead”"):
        lookups.delete_lookup(uow(), admin, S, lead)


def test_a_group_in_use_is_deleted_only_when_confirmed(uow, admin, choices, ada) -> None:  # noqa: ANN001
    board = lookups.add_lookup(uow(), admin, G, "Building 7 board", "#ff9800")
    empty = lookups.add_lookup(uow(), admin, G, "Empty")
    lookups.set_account_groups(uow(), admin, ada.id, [board.id])
    lookups.delete_lookup(uow(), admin, G, empty.id)
    with pytest.raises(ConfirmationNeeded, match="1 account is in the group “Building 7 board”") as err:
        lookups.delete_lookup(uow(), admin, G, board.id)
    assert err.value.accounts == 1
    assert lookups.account_groups(uow(), admin, ada.id)[0].name == "Building 7 board"
    lookups.delete_lookup(uow(), admin, G, board.id, confirmed=True)
    assert lookups.account_groups(uow(), admin, ada.id) == []
    assert lookups.list_lookups(uow(), admin, G) == []


def test_changing_the_lists_needs_settings_manage(uow, admin, choices) -> None:  # noqa: ANN001
    support = _actor("Support")
    assert lookups.list_lookups(uow(), support, S)
    for change in (lambda: lookups.add_lookup(uow(), support, G, "X"),
                   lambda: lookups.rename_lookup(uow(), support, S, _id(choices, "Lead"), "X"),
                   lambda: lookups.set_activates(uow(), support, _id(choices, "Lead"), True),
                   lambda: lookups.move_lookup(uow(), support, T, _id(choices, "Student"), 1),
                   lambda: lookups.delete_lookup(uow(), support, S, _id(choices, "Lead"))):
        with pytest.raises(PermissionDenied):
            change()


def test_tagging_an_account_is_audited_and_leaves_its_version_alone(uow, admin, choices, ada) -> None:  # noqa: ANN001
    a = lookups.add_lookup(uow(), admin, G, "Bulk contract 2025")
    b = lookups.add_lookup(uow(), admin, G, "Alpha")
    got = lookups.set_account_groups(uow(), admin, ada.id, [a.id, b.id])
    assert [g.name for g in got] == ["Alpha", "Bulk contract 2025"]
    lookups.set_account_groups(uow(), admin, ada.id, [b.id, a.id])  # the same: no entry
    lookups.set_account_groups(uow(), admin, ada.id, [a.id])
    with uow() as u:
        assert u.session.get(Account, ada.id).version == ada.version
        entries = [(e.before, e.after) for e in u.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "groups").order_by(AuditEntry.id))]
    assert entries == [
        ({"groups": []}, {"groups": ["Alpha", "Bulk contract 2025"]}),
        ({"groups": ["Alpha", "Bulk contract 2025"]}, {"groups": ["Bulk contract 2025"]}),
    ]
    with pytest.raises(ValidationError, match="no longer exists") as err:
        lookups.set_account_groups(uow(), admin, ada.id, [a.id, 999_999])
    assert err.value.field == "groups"
    with pytest.raises(PermissionDenied):
        lookups.set_account_groups(uow(), _actor("Read-only"), ada.id, [])
    # The account form still saves: tagging did not make its version stale.
    accounts.update_account(uow(), admin, ada.id, ada.version,
                            accounts.AccountChanges("Ada Li", ada.status_id, list(ada.contacts)))


def test_the_accounts_list_filters_by_group(uow, admin, choices, ada) -> None:  # noqa: ANN001
    bo = _account(uow, admin, choices, "Bo Brown", contacts=[C("Bo Brown", "bo@example.com", is_primary=True)])
    _account(uow, admin, choices, "Cy Chen")
    board = lookups.add_lookup(uow(), admin, G, "Board")
    other = lookups.add_lookup(uow(), admin, G, "Other")
    lookups.set_account_groups(uow(), admin, ada.id, [board.id, other.id])
    lookups.set_account_groups(uow(), admin, bo.id, [board.id])
    q = AccountQuery(group_id=board.id)
    assert accounts.count_accounts(uow(), admin, q) == 2
    total, rows = accounts.first_page(uow(), admin, q, 10)
    assert (total, [r.name for r in rows]) == (2, ["Ada Li", "Bo Brown"])
    assert [r.name for r in accounts.list_accounts(uow(), admin, q, 1, 10, total)] == ["Bo Brown"]
    # With search words too (the selective search path), and with other filters.
    assert [r.name for r in accounts.first_page(uow(), admin, AccountQuery(text="bo", group_id=board.id), 10)[1]] \
        == ["Bo Brown"]
    assert accounts.first_page(uow(), admin, AccountQuery(text="bo", group_id=other.id), 10) == (0, [])
    assert accounts.count_accounts(uow(), admin, AccountQuery(group_id=other.id)) == 1
    assert accounts.count_accounts(uow(), admin, AccountQuery(group_id=other.id, status_id=_id(choices, "Lead"))) == 0
    assert accounts.count_accounts(uow(), admin, AccountQuery()) == 3


# -- history -----------------------------------------------------------------------------------

def test_the_history_tells_what_happened_in_words(uow, admin, choices, ada) -> None:  # noqa: ANN001
    ada_c, _sam = ada.contacts
    accounts.update_account(uow(), admin, ada.id, ada.version, accounts.AccountChanges(
        "Ada Li", _id(choices, "Inactive"),
        [C("Ada Li", "ada.li@example.com", ada_c.phone, is_primary=True, id=ada_c.id),
         C("Kim Li", "kim@example.com", "", is_financial=True)]))
    note = notes.add_note(uow(), admin, ada.id, "Gate code 4411")
    notes.set_pinned(uow(), admin, note.id, True)
    notes.add_call(uow(), admin, ada.id, "outbound", ada_c.id, 125, "Confirmed the move-out date")
    board = lookups.add_lookup(uow(), admin, G, "Board")
    lookups.set_account_groups(uow(), admin, ada.id, [board.id])
    with uow() as u:  # an entry as app.scheduling.service writes it
        event = ScheduledEvent(account_id=ada.id, kind="change_status", due_on=date(2031, 1, 1),
                               description="Status → Lead", payload={})
        u.session.add(event)
        u.flush()
        record(u.session, admin, "account", ada.id, "schedule event", None,
               {"event": event.id, "kind": "change_status", "due_on": date(2031, 1, 1),
                "description": "Status → Lead"})
        u.commit()
    other = _account(uow, admin, choices, "Someone Else")
    notes.add_note(uow(), admin, other.id, "not Ada's")

    rows = history.account_history(uow(), admin, ada.id)
    assert all(r.who == "Alice Admin" for r in rows)
    assert [r.when for r in rows] == sorted((r.when for r in rows), reverse=True)
    by_action = {r.action: r.text for r in rows}
    assert list(by_action) == ["Event scheduled", "Groups changed", "Call logged", "Note pinned", "Note added",
                               "Account updated", "Account created"]
    assert by_action["Account created"].splitlines() == [
        f"Account created: {ada.number} · Ada Li · Active", "Contacts: Ada Li, Sam Li"]
    assert by_action["Account updated"].splitlines() == [
        "Status: Active → Inactive",
        "Contact renamed: Sam Li → Kim Li",
        "Contact Ada Li: e-mail ada@example.com → ada.li@example.com",
        "Contact Kim Li: e-mail sam@example.com → kim@example.com",
    ]
    assert by_action["Note added"] == "Note added: “Gate code 4411”"
    assert by_action["Note pinned"] == "Note pinned: “Gate code 4411”"
    assert by_action["Call logged"] == "Outbound call with Ada Li, 2:05: “Confirmed the move-out date”"
    assert by_action["Groups changed"] == "Added to group: Board"
    assert by_action["Event scheduled"] == "Scheduled: Status → Lead, due 2031-01-01"
    assert "not Ada's" not in " ".join(r.text for r in rows)


def test_history_sentences_for_contacts_flags_and_unknown_entries() -> None:
    before = {"contacts": [{"name": "A", "primary": True, "financial": False},
                           {"name": "B", "primary": False, "financial": False}]}
    after = {"contacts": [{"name": "A", "primary": False, "financial": True},
                          {"name": "B", "primary": True, "financial": False},
                          {"name": "C", "primary": False, "financial": False}]}
    assert history.describe("account", "update", before, after)[1] == [
        "Contact added: C",
        "Contact A: no longer the primary contact; now a financial contact",
        "Contact B: now the primary contact",
    ]
    heading, lines = history.describe("account", "make_shell", {"disconnected_on": None, "is_shell": False},
                                      {"disconnected_on": "2031-02-01", "is_shell": True, "reason_code": "moved"})
    assert heading == "Make shell"
    assert lines == ["Disconnected on: — → 2031-02-01", "Shell account: no → yes", "Reason code: — → moved"]


def test_history_sentences_for_scheduled_events() -> None:
    assert history.describe("account", "cancel event", {"event": 3, "state": "pending"},
                            {"event": 3, "state": "cancelled", "description": "Status → Lead"}) == (
        "Event cancelled", ["Cancelled: Status → Lead"])
    assert history.describe("account", "run event", {"status": "Active"},
                            {"status": "Lead", "event": 3, "description": "Status → Lead", "worker": "w@h (1)",
                             "result": "Status is now Lead"}) == (
        "Event ran", ["Scheduled event ran: Status → Lead", "Status: Active → Lead"])
    assert history.describe("account", "disconnect", {"disconnected_on": None, "disconnect_reason": ""},
                            {"disconnected_on": "2031-02-01", "disconnect_reason": "Moved out",
                             "reason": "Moved out", "result": "Disconnected"}) == (
        "Account disconnected", ["Disconnected on: — → 2031-02-01", "Disconnect reason: — → Moved out"])
    # An entity of its own for events (if the scheduling service ever writes one) reads too.
    assert history.describe("scheduled_event", "cancel", None, {"description": "Status → Lead", "due_on": "2031-01-01"}
                            ) == ("Event cancelled", ["Status → Lead, due 2031-01-01"])


def test_history_needs_accounts_view(uow, admin, ada) -> None:  # noqa: ANN001
    assert history.account_history(uow(), _actor("Technician"), ada.id)
    with pytest.raises(PermissionDenied):
        history.account_history(uow(), Actor(None, "nobody", "None"), ada.id)
    with pytest.raises(NotFound):
        history.account_history(uow(), admin, 424242)
