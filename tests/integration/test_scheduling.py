"""Scheduled events: each kind applies on its date, exactly once, and a failure changes nothing.

Every test runs on SQLite and PostgreSQL. The process tests start real worker processes
(tests/integration/event_worker.py): two at once on one database, and one killed mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app.accounts import service as accounts
from app.accounts.models import Account, AccountNote, AccountStatus, Contact
from app.accounts.repository import AccountQuery
from app.addresses.models import ServiceableAddress
from app.core.audit import AuditEntry
from app.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from app.core.permissions import Actor
from app.scheduling import registry
from app.scheduling import service as scheduling
from app.scheduling.models import ScheduledEvent
from app.scheduling.registry import EventKind
from app.staff import service as staff

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 1)
C = accounts.ContactInput


# -- helpers -----------------------------------------------------------------------------------

@pytest.fixture()
def lookups(uow, admin):  # noqa: ANN001
    return accounts.lookups(uow(), admin)


@pytest.fixture()
def status(lookups):  # noqa: ANN001
    ids = {s.name: s.id for s in lookups.statuses}
    return lambda name: ids[name]


def _account(uow, actor, lookups, name, *, contacts=None, unit=None):  # noqa: ANN001
    address_id = None
    if unit:
        with uow() as u:
            row = ServiceableAddress(street="12 King Street West", unit=unit, city="Toronto",
                                     match_key=f"CA|12 king st w|toronto|{unit}")
            u.session.add(row)
            u.commit()
            address_id = row.id
    if contacts is None:
        contacts = [C(name, f"{name.split()[0].lower()}@example.com", "(416) 555-0142", is_primary=True)]
    active = next(s.id for s in lookups.statuses if s.name == "Active")
    residential = next(t.id for t in lookups.types if t.name == "Residential")
    return accounts.create_account(uow(), actor, accounts.NewAccount(
        name=name, type_id=residential, status_id=active, address_id=address_id, contacts=list(contacts)))


def _run(uow, actor=None, today=TODAY, worker="tests@here (pid 1)", **kw) -> scheduling.RunSummary:  # noqa: ANN001
    return scheduling.run_due_events(uow, actor or Actor.system("scheduler"), today, worker, **kw)


def _event(uow, event_id: int) -> ScheduledEvent:  # noqa: ANN001
    with uow() as u:
        event = u.session.get(ScheduledEvent, event_id)
        u.session.expunge(event)  # keep its values after the unit of work ends
        return event


def _run_entries(uow) -> Counter:  # noqa: ANN001
    """How many 'run event' audit entries each event has."""
    with uow() as u:
        entries = u.session.scalars(select(AuditEntry).where(AuditEntry.action == "run event")).all()
        return Counter(e.after["event"] for e in entries)


def _row_counts(uow) -> tuple[int, ...]:  # noqa: ANN001
    with uow() as u:
        s = u.session
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (AuditEntry, Contact, Account))


# -- each kind ---------------------------------------------------------------------------------

def test_a_status_change_waits_for_its_date_then_applies_exactly_once(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    assert (event.state, event.description, event.created_by_name) == ("pending", "Status → Suspended", "Alice Admin")

    assert _run(uow, today=TODAY - timedelta(days=1)) == scheduling.RunSummary(0, 0, 0)
    assert accounts.get_account(uow(), admin, marie.id).status == "Active"

    assert _run(uow, today=TODAY, worker="alice@desk-3 (pid 42)") == scheduling.RunSummary(1, 0, 0)
    after = accounts.get_account(uow(), admin, marie.id)
    assert after.status == "Suspended"
    assert after.version > marie.version
    (row,) = scheduling.list_events(uow(), admin, marie.id)
    assert (row.state, row.ran_by, row.result, row.error) == ("done", "alice@desk-3 (pid 42)", "Status Active → Suspended", "")
    assert row.ran_at is not None

    # Running again (the next minute, another desktop) finds nothing to do.
    assert _run(uow, today=TODAY + timedelta(days=30)) == scheduling.RunSummary(0, 0, 0)
    assert accounts.get_account(uow(), admin, marie.id).version == after.version
    assert _run_entries(uow) == {event.id: 1}


def test_the_run_is_audited_on_the_account_with_before_and_after(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    _run(uow)
    with uow() as u:
        entries = u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "account",
                                                             AuditEntry.entity_id == str(marie.id))
                                    .order_by(AuditEntry.id)).all()
        u.session.expunge_all()
    assert [e.action for e in entries] == ["create", "schedule event", "run event"]
    run = entries[-1]
    assert run.username == "scheduler"
    assert run.before == {"status": "Active"}
    assert run.after["status"] == "Suspended" and run.after["event"] == event.id
    assert run.after["worker"] == "tests@here (pid 1)"


def test_moving_out_frees_the_unit_on_the_move_out_date(uow, admin, lookups, status) -> None:  # noqa: ANN001
    omar = _account(uow, admin, lookups, "Omar Haddad", unit="1203")
    move_out = TODAY + timedelta(days=14)
    scheduled = scheduling.schedule_move_out(uow(), admin, omar.id, move_out, "", status("Inactive"), today=TODAY)
    assert not scheduled.applied and scheduled.on == move_out
    assert scheduled.event is not None and scheduled.event.description == "Disconnect — moving out; status → Inactive"

    _run(uow, today=move_out - timedelta(days=1))
    with uow() as u:
        assert u.session.get(Account, omar.id).occupies_unit

    assert _run(uow, today=move_out).ran == 1
    with uow() as u:
        account = u.session.get(Account, omar.id)
        assert account.disconnected_on == move_out
        assert account.disconnect_reason == "Moving out"
        assert account.status.name == "Inactive"
        assert not account.occupies_unit
    assert scheduling.list_events(uow(), admin, omar.id)[0].result == \
        f"Disconnected on {move_out.isoformat()}; status Active → Inactive"


@pytest.mark.parametrize("days_ago", [0, 3])
def test_a_disconnection_dated_today_or_earlier_applies_at_once(uow, admin, lookups, status, days_ago) -> None:  # noqa: ANN001
    omar = _account(uow, admin, lookups, "Omar Haddad", unit="1203")
    on = TODAY - timedelta(days=days_ago)
    done = scheduling.disconnect_account(uow(), admin, omar.id, on, "Non-payment", status("Suspended"), today=TODAY)
    assert done.applied and done.event is None
    assert done.description == "Disconnect — non-payment; status → Suspended"
    with uow() as u:
        account = u.session.get(Account, omar.id)
        assert (account.disconnected_on, account.disconnect_reason, account.status.name) == (on, "Non-payment", "Suspended")
        assert not account.occupies_unit
        (entry,) = u.session.scalars(select(AuditEntry).where(AuditEntry.action == "disconnect")).all()
        assert entry.after["disconnected_on"] == on.isoformat() and entry.username == "alice"
    assert scheduling.list_events(uow(), admin, omar.id) == []
    assert accounts.get_account(uow(), admin, omar.id).version > omar.version


def test_an_account_is_disconnected_only_once(uow, admin, lookups, status) -> None:  # noqa: ANN001
    omar = _account(uow, admin, lookups, "Omar Haddad")
    inactive = status("Inactive")
    scheduling.schedule_move_out(uow(), admin, omar.id, TODAY + timedelta(days=9), "Moving out", inactive, today=TODAY)
    with pytest.raises(ValidationError, match="already scheduled to be disconnected on 2026-12-10") as err:
        scheduling.disconnect_account(uow(), admin, omar.id, TODAY, "Moving out", inactive, today=TODAY)
    assert err.value.field == "due_on"
    with pytest.raises(ValidationError, match="already scheduled to be disconnected on 2026-12-10"):
        scheduling.schedule_event(uow(), admin, omar.id, "disconnect", TODAY + timedelta(days=20),
                                  {"reason": "x", "final_status_id": inactive})

    pending = scheduling.list_events(uow(), admin, omar.id)[0]
    scheduling.cancel_event(uow(), admin, pending.id, pending.version)
    scheduling.disconnect_account(uow(), admin, omar.id, TODAY, "Moving out", inactive, today=TODAY)
    with pytest.raises(ValidationError, match=f"{omar.number} was already disconnected on 2026-12-01"):
        scheduling.schedule_move_out(uow(), admin, omar.id, TODAY + timedelta(days=5), "", inactive, today=TODAY)


def test_a_contact_change_keeps_exactly_one_primary_and_search_finds_the_new_details(uow, admin, lookups) -> None:  # noqa: ANN001
    omar = _account(uow, admin, lookups, "Omar Haddad", contacts=[
        C("Omar Haddad", "omar@example.net", is_primary=True),
        C("Leila Haddad", "landlord@example.org", "613-555-0100", is_financial=True)])
    leila = next(c for c in omar.contacts if c.name == "Leila Haddad")
    event = scheduling.schedule_event(uow(), admin, omar.id, "change_contact", TODAY, {
        "contact_id": leila.id, "email": " leila.h@example.com ", "mobile": "+1 613 555 0177", "is_primary": True})
    assert event.description == ("Contact Leila Haddad — e-mail → leila.h@example.com, mobile → +1 613 555 0177, "
                                 "make primary")
    assert _run(uow).ran == 1
    after = accounts.get_account(uow(), admin, omar.id)
    by_name = {c.name: c for c in after.contacts}
    assert by_name["Leila Haddad"].email == "leila.h@example.com"
    assert by_name["Leila Haddad"].mobile == "+1 613 555 0177"
    assert by_name["Leila Haddad"].phone == "613-555-0100"  # not in the payload: unchanged
    assert [c.name for c in after.contacts if c.is_primary] == ["Leila Haddad"]
    assert accounts.count_accounts(uow(), admin, AccountQuery(text="leila.h@example")) == 1
    assert accounts.count_accounts(uow(), admin, AccountQuery(text="6135550177")) == 1


def test_one_accounts_events_apply_in_date_order_whatever_order_they_were_scheduled_in(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    for days, name in ((3, "Active"), (1, "Suspended"), (2, "Delinquent")):
        scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY + timedelta(days=days),
                                  {"status_id": status(name)})
    # Two on the same day run in the order they were scheduled.
    scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY + timedelta(days=3), {"status_id": status("Lead")})
    assert _run(uow, today=TODAY + timedelta(days=3)).ran == 4
    results = [r.result for r in sorted(scheduling.list_events(uow(), admin, marie.id), key=lambda r: r.ran_at)]
    assert results == ["Status Active → Suspended", "Status Suspended → Delinquent", "Status Delinquent → Active",
                       "Status Active → Lead"]
    assert accounts.get_account(uow(), admin, marie.id).status == "Lead"


def test_limit_runs_at_most_that_many_and_the_next_run_continues(uow, admin, lookups, status) -> None:  # noqa: ANN001
    for i in range(5):
        a = _account(uow, admin, lookups, f"Tenant {i}")
        scheduling.schedule_event(uow(), admin, a.id, "change_status", TODAY, {"status_id": status("Suspended")})
    assert _run(uow, limit=2).ran == 2
    assert _run(uow).ran == 3


# -- failures ----------------------------------------------------------------------------------

def _remove_contact(uow, admin, account, name) -> str:  # noqa: ANN001
    current = accounts.get_account(uow(), admin, account.id)
    keep = [c for c in current.contacts if c.name != name]
    accounts.update_account(uow(), admin, current.id, current.version,
                            accounts.AccountChanges(current.name, current.status_id, keep))
    return "That contact is no longer on this account."


def _delete_status(uow, admin, account, name) -> str:  # noqa: ANN001
    with uow() as u:
        u.session.execute(delete(AccountStatus).where(AccountStatus.name == name))
        u.commit()
    return "That status no longer exists."


@pytest.mark.parametrize("case", ["contact removed", "status deleted"])
def test_an_event_that_can_no_longer_apply_fails_and_leaves_the_account_as_it_was(uow, admin, lookups, case) -> None:  # noqa: ANN001
    omar = _account(uow, admin, lookups, "Omar Haddad", contacts=[
        C("Omar Haddad", "omar@example.net", is_primary=True), C("Leila Haddad", "leila@example.org")])
    if case == "contact removed":
        leila = next(c for c in omar.contacts if c.name == "Leila Haddad")
        event = scheduling.schedule_event(uow(), admin, omar.id, "change_contact", TODAY,
                                          {"contact_id": leila.id, "is_primary": True, "name": "Leila H."})
        expected = _remove_contact(uow, admin, omar, "Leila Haddad")
    else:
        with uow() as u:
            u.session.add(AccountStatus(name="Moving", colour="#123456", activates=False, sort_order=9))
            u.commit()
        moving = next(s.id for s in accounts.lookups(uow(), admin).statuses if s.name == "Moving")
        event = scheduling.schedule_event(uow(), admin, omar.id, "change_status", TODAY, {"status_id": moving})
        expected = _delete_status(uow, admin, omar, "Moving")
    before, counts = accounts.get_account(uow(), admin, omar.id), _row_counts(uow)

    summary = _run(uow, worker="w1")
    assert (summary.ran, summary.failed) == (0, 1)
    assert summary.errors == (f"event {event.id} (account {omar.number}): {expected}",)
    assert accounts.get_account(uow(), admin, omar.id) == before  # same version, same everything
    assert _row_counts(uow) == counts  # not even an audit entry
    (row,) = scheduling.list_events(uow(), admin, omar.id)
    assert (row.state, row.error, row.result, row.ran_by) == ("failed", expected, "", "w1")
    assert _run(uow) == scheduling.RunSummary(0, 0, 0)  # a failed event is not retried


def test_an_error_after_the_change_was_made_rolls_the_whole_change_back(uow, admin, lookups, status) -> None:  # noqa: ANN001
    """The change is made and flushed, then something fails before the commit: nothing stays."""
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "disconnect", TODAY,
                                      {"reason": "Moving out", "final_status_id": status("Inactive")})
    before, counts = accounts.get_account(uow(), admin, marie.id), _row_counts(uow)

    def boom() -> None:
        raise RuntimeError("the disk is full")

    assert _run(uow, before_commit=boom).failed == 1
    assert accounts.get_account(uow(), admin, marie.id) == before
    assert _row_counts(uow) == counts
    with uow() as u:
        assert u.session.get(Account, marie.id).disconnected_on is None
    assert _event(uow, event.id).error == "Unexpected error: RuntimeError: the disk is full"


@pytest.fixture()
def temporary_kinds():  # noqa: ANN201
    added: list[str] = []

    def add(kind: EventKind) -> None:
        registry.register(kind)
        added.append(kind.name)

    yield add
    for name in added:
        registry.unregister(name)


def test_a_kind_registered_later_runs_like_the_built_in_ones(uow, admin, lookups, temporary_kinds) -> None:  # noqa: ANN001
    """What billing will do with add_service / remove_service / change_price."""

    def check(change):  # noqa: ANN001, ANN202
        if not change.payload.get("text"):
            raise ValidationError("Write the note.", "text")
        return {"text": change.payload["text"]}

    def apply(change):  # noqa: ANN001, ANN202
        change.uow.session.add(AccountNote(account_id=change.account.id, body=change.payload["text"]))
        return "Note added"

    temporary_kinds(EventKind("add_note", "Add a note", check, lambda c: f"Note: {c.payload['text']}", apply))
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    with pytest.raises(ValidationError) as err:
        scheduling.schedule_event(uow(), admin, marie.id, "add_note", TODAY, {})
    assert err.value.field == "text"
    event = scheduling.schedule_event(uow(), admin, marie.id, "add_note", TODAY, {"text": "Call the landlord"})
    assert event.what == "Add a note" and event.description == "Note: Call the landlord"
    assert _run(uow).ran == 1
    with uow() as u:
        assert u.session.scalars(select(AccountNote.body)).all() == ["Call the landlord"]
    assert ("add_note", "Add a note") in scheduling.kinds()
    with pytest.raises(ValueError, match="already registered"):
        registry.register(EventKind("add_note", "Another", check, str, apply))


def test_a_handler_raising_midway_leaves_nothing_behind(uow, admin, lookups, temporary_kinds) -> None:  # noqa: ANN001
    def apply(change):  # noqa: ANN001, ANN202
        change.account.name = "Renamed"
        change.uow.flush()
        raise ValidationError("The price list changed meanwhile.")

    temporary_kinds(EventKind("rename_then_fail", "Rename", lambda c: {}, lambda c: "Rename", apply))
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "rename_then_fail", TODAY, {})
    assert _run(uow).failed == 1
    assert accounts.get_account(uow(), admin, marie.id).name == "Marie Tremblay"
    assert _event(uow, event.id).error == "The price list changed meanwhile."


def test_events_of_a_kind_this_riser_does_not_know_wait_with_what_follows_them(uow, admin, lookups, status) -> None:  # noqa: ANN001
    """An older desktop leaves a newer kind (and that account's later events) to one that knows it."""
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    with uow() as u:
        u.session.add(ScheduledEvent(account_id=marie.id, kind="activate_hotspot", due_on=TODAY - timedelta(days=1),
                                     payload={"hotspot_id": 1}, description="Activate the lobby hotspot"))
        u.commit()
    later = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    assert _run(uow) == scheduling.RunSummary(0, 0, 0)
    states = {r.kind: (r.state, r.what) for r in scheduling.list_events(uow(), admin, marie.id)}
    assert states == {"activate_hotspot": ("pending", "Activate hotspot"), "change_status": ("pending", "Change status")}
    assert _event(uow, later.id).state == "pending"


# -- cancelling --------------------------------------------------------------------------------

def test_a_cancelled_event_never_runs(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    cancelled = scheduling.cancel_event(uow(), admin, event.id, event.version)
    assert (cancelled.state, cancelled.cancelled_by) == ("cancelled", "Alice Admin")
    assert _run(uow, today=TODAY + timedelta(days=365)) == scheduling.RunSummary(0, 0, 0)
    assert accounts.get_account(uow(), admin, marie.id).status == "Active"
    with pytest.raises(ValidationError, match="already cancelled by Alice Admin"):
        scheduling.cancel_event(uow(), admin, event.id, cancelled.version)


def test_cancelling_checks_the_version_and_refuses_an_event_that_already_ran(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    with pytest.raises(ConflictError, match="scheduled event was changed"):
        scheduling.cancel_event(uow(), admin, event.id, event.version + 1)
    _run(uow)
    with pytest.raises(ValidationError, match="already ran .*can no longer be cancelled"):
        scheduling.cancel_event(uow(), admin, event.id, event.version)
    assert _event(uow, event.id).state == "done"
    with pytest.raises(NotFound):
        scheduling.cancel_event(uow(), admin, event.id + 1000, 1)


# -- listing -----------------------------------------------------------------------------------

def test_the_list_shows_pending_events_soonest_first_then_the_past_newest_first(uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    other = _account(uow, admin, lookups, "Someone Else")

    def at(days: int, name: str = "Suspended", who=marie):  # noqa: ANN001, ANN202
        return scheduling.schedule_event(uow(), admin, who.id, "change_status", TODAY + timedelta(days=days),
                                         {"status_id": status(name)})

    ran = at(-5)
    cancelled = at(-2, "Active")
    scheduling.cancel_event(uow(), admin, cancelled.id, cancelled.version)
    later, sooner = at(30, "Inactive"), at(10)
    at(1, who=other)
    _run(uow, today=TODAY)
    rows = scheduling.list_events(uow(), admin, marie.id)
    assert [r.id for r in rows] == [sooner.id, later.id, cancelled.id, ran.id]
    assert [r.state for r in rows] == ["pending", "pending", "cancelled", "done"]
    assert all(r.created_by_name == "Alice Admin" for r in rows)
    assert rows[0].pending and not rows[3].pending
    with pytest.raises(NotFound):
        scheduling.list_events(uow(), admin, 10**6)


# -- validation and permissions ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "due", "payload", "field", "message"),
    [
        ("explode", TODAY, {}, "kind", "Choose what should happen"),
        ("change_status", None, {"status_id": "Suspended"}, "due_on", "Choose the date"),
        ("change_status", TODAY, {}, "status_id", "Choose a status"),
        ("change_status", TODAY, {"status_id": 10**6}, "status_id", "no longer exists"),
        ("change_status", TODAY, {"status_id": "Suspended", "colour": "red"}, "colour", "not something"),
        ("disconnect", TODAY, {"reason": "  ", "final_status_id": "Inactive"}, "reason", "Say why"),
        ("disconnect", TODAY, {"reason": "x" * 201, "final_status_id": "Inactive"}, "reason", "at most 200"),
        ("disconnect", TODAY, {"reason": "Moving out"}, "final_status_id", "Choose the account's status"),
        ("disconnect", TODAY, {"reason": "Moving out", "final_status_id": "Active"}, "final_status_id",
         "Active is a billed status"),
        ("change_contact", TODAY, {"email": "a@b.com"}, "contact_id", "Choose the contact"),
        ("change_contact", TODAY, {"contact_id": "other", "email": "a@b.com"}, "contact_id", "no longer on this account"),
        ("change_contact", TODAY, {"contact_id": "marie"}, None, "at least one detail"),
        ("change_contact", TODAY, {"contact_id": "marie", "email": "not-an-email"}, "email", "not an e-mail"),
        ("change_contact", TODAY, {"contact_id": "marie", "phone": "call me"}, "phone", "not a phone"),
        ("change_contact", TODAY, {"contact_id": "marie", "name": "  "}, "name", "needs a name"),
        ("change_contact", TODAY, {"contact_id": "marie", "is_primary": False}, "is_primary", "make another contact primary"),
        ("change_contact", TODAY, {"contact_id": "marie", "is_financial": "yes"}, "is_financial", "yes or no"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_written(uow, admin, lookups, status, kind, due, payload, field, message) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    other = _account(uow, admin, lookups, "Someone Else")
    ids = {"marie": marie.contacts[0].id, "other": other.contacts[0].id}
    payload = dict(payload)  # the table above is shared by both databases' runs
    for key, value in payload.items():  # names in it become this database's ids
        if key.endswith("status_id") and isinstance(value, str):
            payload[key] = status(value)
        elif key == "contact_id":
            payload[key] = ids[value]
    counts = _row_counts(uow)
    with pytest.raises(ValidationError, match=message) as err:
        scheduling.schedule_event(uow(), admin, marie.id, kind, due, payload)
    assert err.value.field == field
    assert _row_counts(uow) == counts
    assert scheduling.list_events(uow(), admin, marie.id) == []


def test_scheduling_for_an_account_that_is_gone_says_so(uow, admin, status) -> None:  # noqa: ANN001
    with pytest.raises(NotFound, match="no longer exists"):
        scheduling.schedule_event(uow(), admin, 10**6, "change_status", TODAY, {"status_id": status("Active")})


def test_a_read_only_user_sees_the_events_but_cannot_schedule_cancel_or_run_them(uow, admin, lookups, status) -> None:  # noqa: ANN001
    staff.add_user(uow(), admin, "rita", "long enough pw", "Read-only")
    rita = staff.sign_in(uow(), "rita", "long enough pw")
    marie = _account(uow, admin, lookups, "Marie Tremblay")
    event = scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    assert [r.id for r in scheduling.list_events(uow(), rita, marie.id)] == [event.id]
    with pytest.raises(PermissionDenied):
        scheduling.schedule_event(uow(), rita, marie.id, "change_status", TODAY, {"status_id": status("Lead")})
    with pytest.raises(PermissionDenied):
        scheduling.cancel_event(uow(), rita, event.id, event.version)
    with pytest.raises(PermissionDenied):
        scheduling.disconnect_account(uow(), rita, marie.id, TODAY, "x", status("Inactive"), today=TODAY)
    with pytest.raises(PermissionDenied):
        _run(uow, actor=rita)
    assert _event(uow, event.id).state == "pending"


# -- worker processes --------------------------------------------------------------------------

def _worker(url: str, name: str, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.event_worker", url, "--today", TODAY.isoformat(),
         "--worker", name, *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, what: str, procs=(), timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        for p in procs:
            if p.poll() is not None:
                pytest.fail(f"a worker exited while waiting for {what}: {p.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def _states(uow) -> dict[int, tuple[str, str]]:  # noqa: ANN001
    with uow() as u:
        return {e.id: (e.state, e.ran_by) for e in u.session.scalars(select(ScheduledEvent))}


def _versions(uow) -> dict[int, int]:  # noqa: ANN001
    with uow() as u:
        return dict(u.session.execute(select(Account.id, Account.version)).all())


def test_two_worker_processes_run_every_event_exactly_once(db_url, uow, admin, lookups, status, tmp_path) -> None:  # noqa: ANN001
    """40 due events, two processes claiming at the same moment, each holding every claim a
    little before committing so their transactions overlap."""
    names = ["Suspended", "change_contact", "Delinquent", "Lead"]
    tenants = [_account(uow, admin, lookups, f"Tenant {i:02d}") for i in range(10)]
    for a in tenants:
        for days, what in enumerate(names):
            due = TODAY - timedelta(days=len(names) - days)
            if what == "change_contact":
                scheduling.schedule_event(uow(), admin, a.id, what, due,
                                          {"contact_id": a.contacts[0].id, "email": f"new.{a.id}@example.com"})
            else:
                scheduling.schedule_event(uow(), admin, a.id, "change_status", due, {"status_id": status(what)})
    versions = _versions(uow)
    go = tmp_path / "go"
    workers = [_worker(db_url, f"worker-{i}", "--sleep-ms", "20", "--ready", str(tmp_path / f"ready-{i}"),
                       "--go", str(go)) for i in range(2)]
    _wait_for(lambda: all((tmp_path / f"ready-{i}").exists() for i in range(2)), "both workers", workers)
    go.write_text("go")
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _out, err in outputs]
    summaries = [json.loads(out) for out, _err in outputs]
    assert sum(s["ran"] for s in summaries) == 40
    assert sum(s["failed"] for s in summaries) == 0

    states = _states(uow)
    assert len(states) == 40 and all(state == "done" for state, _ in states.values())
    assert {by for _, by in states.values()} <= {"worker-0", "worker-1"}
    assert _run_entries(uow) == {event_id: 1 for event_id in states}
    after = _versions(uow)
    for a in tenants:
        assert after[a.id] == versions[a.id] + 4  # four changes, each applied once
        detail = accounts.get_account(uow(), admin, a.id)
        assert detail.status == "Lead"  # the last one: each account's events applied in order
        assert detail.contacts[0].email == f"new.{a.id}@example.com"


def test_a_worker_killed_mid_transaction_leaves_its_event_for_the_next_run(db_url, uow, admin, lookups, status, tmp_path) -> None:  # noqa: ANN001
    """The worker commits 5 events, then is killed inside the 6th transaction (claimed, applied,
    flushed, not committed). The next run does the other 15, each once; nothing twice."""
    expected: dict[int, tuple[str, str]] = {}
    for i in range(20):
        a = _account(uow, admin, lookups, f"Tenant {i:02d}")
        if i % 3 == 0:
            scheduling.schedule_event(uow(), admin, a.id, "change_status", TODAY, {"status_id": status("Suspended")})
            expected[a.id] = ("Suspended", a.contacts[0].email)
        elif i % 3 == 1:
            scheduling.schedule_event(uow(), admin, a.id, "change_contact", TODAY,
                                      {"contact_id": a.contacts[0].id, "email": f"moved.{i}@example.com"})
            expected[a.id] = ("Active", f"moved.{i}@example.com")
        else:
            scheduling.schedule_move_out(uow(), admin, a.id, TODAY, "Moving out", status("Inactive"),
                                         today=TODAY - timedelta(days=7))
            expected[a.id] = ("Inactive", a.contacts[0].email)
    versions = _versions(uow)
    stalled = tmp_path / "stalled"
    worker = _worker(db_url, "doomed", "--stall-after", "5", "--stall-file", str(stalled))
    try:
        _wait_for(stalled.exists, "the worker to stall mid-transaction", [worker])
        states = _states(uow)
        assert sorted(Counter(s for s, _ in states.values()).items()) == [("done", 5), ("pending", 15)]
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    assert worker.returncode == -signal.SIGKILL

    # Run until nothing is pending (Postgres may take a moment to notice the dead client and
    # release its row lock; until then that event is skipped, not run twice).
    ran, deadline = 0, time.monotonic() + 60
    while any(s == "pending" for s, _ in _states(uow).values()):
        summary = _run(uow, worker="survivor")
        assert summary.failed == 0, summary.errors
        ran += summary.ran
        assert time.monotonic() < deadline, "the killed worker's event stayed locked"
        time.sleep(0.05)
    assert ran == 15

    states = _states(uow)
    assert Counter(by for _, by in states.values()) == {"doomed": 5, "survivor": 15}
    assert _run_entries(uow) == {event_id: 1 for event_id in states}
    after = _versions(uow)
    with uow() as u:
        for account_id, (status_name, email) in expected.items():
            account = u.session.get(Account, account_id)
            assert after[account_id] == versions[account_id] + 1
            assert (account.status.name, account.contacts[0].email) == (status_name, email)
            assert (account.disconnected_on is not None) == (status_name == "Inactive")


# -- the command line --------------------------------------------------------------------------

def _riser(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_command_line_runs_and_lists_events(db_url, uow, admin, lookups, status) -> None:  # noqa: ANN001
    marie = _account(uow, admin, lookups, "Marie Tremblay", contacts=[
        C("Marie Tremblay", "marie@example.com", is_primary=True), C("Paul Tremblay", "paul@example.com")])
    paul = next(c for c in marie.contacts if c.name == "Paul Tremblay")
    scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY, {"status_id": status("Suspended")})
    scheduling.schedule_event(uow(), admin, marie.id, "change_contact", TODAY, {"contact_id": paul.id, "mobile": "416 555 0100"})
    scheduling.schedule_event(uow(), admin, marie.id, "change_status", TODAY + timedelta(days=1), {"status_id": status("Active")})
    _remove_contact(uow, admin, marie, "Paul Tremblay")

    result = _riser("--database", db_url, "events", "run", "--date", TODAY.isoformat())
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ran 1, failed 1"
    assert "That contact is no longer on this account." in lines[1]
    again = _riser("--database", db_url, "events", "run", "--date", TODAY.isoformat())
    assert (again.returncode, again.stdout.strip()) == (0, "ran 0, failed 0")

    listing = _riser("--database", db_url, "events", "list", marie.number)
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout.splitlines()
    assert out[0] == f"{marie.number} Marie Tremblay: 3 events"
    assert out[1].startswith("2026-12-02  pending    Status → Active  (by Alice Admin)")
    assert any("done" in line and "Status Active → Suspended" in line for line in out)
    assert any("failed" in line and "no longer on this account" in line for line in out)


@pytest.mark.parametrize(("args", "code", "text"), [
    (("events", "run", "--date", "2026-02-30"), 2, "'2026-02-30' is not a date: use YYYY-MM-DD"),
    (("events", "list", "NOPE-1"), 1, "No account is numbered NOPE-1."),
    (("events",), 2, "required"),
])
def test_the_command_line_refuses_bad_input_in_one_line(sqlite_url_fresh, args, code, text) -> None:  # noqa: ANN001
    result = _riser("--database", sqlite_url_fresh, *args)
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("riser: ") and text in line

