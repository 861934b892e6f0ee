"""Accounts: numbers, search, filters, sorting and paging in the database, saving with audit
and conflict detection. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.accounts import service
from app.accounts.models import Account, Contact
from app.accounts.repository import AccountQuery, AccountSort
from app.core.audit import AuditEntry, history
from app.core.db import open_database
from app.core.errors import ConflictError, PermissionDenied, ValidationError
from app.staff import service as staff
from app.uow import UnitOfWork

C = service.ContactInput


@pytest.fixture()
def lookups(uow, admin):  # noqa: ANN001
    return service.lookups(uow(), admin)


def _status(lookups, name: str) -> int:  # noqa: ANN001
    return next(s.id for s in lookups.statuses if s.name == name)


def _type(lookups, name: str) -> int:  # noqa: ANN001
    return next(t.id for t in lookups.types if t.name == name)


def _new(uow, actor, lookups, name, *, status="Active", kind="Residential", number=None, contacts=(), address=None):  # noqa: ANN001
    address_id = None
    if address:
        from app.addresses import service as addresses

        address_id = addresses.create_address(uow(), actor, addresses.AddressInput(
            street=address[0], unit=address[1], city=address[2], postal_code="M5V 1A1", country="CA")).id
    return service.create_account(uow(), actor, service.NewAccount(
        name=name, type_id=_type(lookups, kind), status_id=_status(lookups, status), number=number,
        address_id=address_id, contacts=list(contacts)))


@pytest.fixture()
def tenants(uow, admin, lookups):  # noqa: ANN001
    made = [
        _new(uow, admin, lookups, "Marie Tremblay", contacts=[C("Marie Tremblay", "marie.t@example.com", "(416) 555-0142", is_primary=True)],
             address=("12 King Street West", "4B", "Toronto")),
        _new(uow, admin, lookups, "Omar Haddad", status="Delinquent", kind="Student",
             contacts=[C("Omar Haddad", "omar@example.net", "", "+1 613 555 0199", is_primary=True),
                       C("Leila Haddad", "landlord@example.org", "613-555-0100", is_financial=True)],
             address=("80 Elm Avenue", "1203", "Ottawa")),
        _new(uow, admin, lookups, "Cafe Lune", kind="Commercial", number="BIZ-7",
             contacts=[C("Pierre Roy", "pierre@cafelune.example.com", "514 555 0123", is_primary=True)],
             address=("5 Rue Ste-Catherine", "", "Montreal")),
        _new(uow, admin, lookups, "Abe Zimmer", status="Inactive"),
    ]
    return {d.name: d for d in made}


def test_automatic_numbers_count_up_and_skip_numbers_already_given(uow, admin, lookups) -> None:  # noqa: ANN001
    first = _new(uow, admin, lookups, "A")
    given = _new(uow, admin, lookups, "B", number=str(int(first.number) + 1))
    third = _new(uow, admin, lookups, "C")
    assert int(first.number) >= 100001
    assert int(third.number) == int(given.number) + 1


def test_a_given_account_number_must_be_unique(uow, admin, lookups) -> None:  # noqa: ANN001
    _new(uow, admin, lookups, "First", number="A-100")
    with pytest.raises(ValidationError, match="A-100 is already used by First") as err:
        _new(uow, admin, lookups, "Second", number="A-100")
    assert err.value.field == "number"
    with pytest.raises(ValidationError, match="up to 30"):
        _new(uow, admin, lookups, "Third", number="has spaces")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tremblay", {"Marie Tremblay"}),
        ("MARIE", {"Marie Tremblay"}),
        ("biz-7", {"Cafe Lune"}),
        ("landlord@example", {"Omar Haddad"}),
        ("5550142", {"Marie Tremblay"}),
        ("(416) 555-0142", {"Marie Tremblay"}),
        ("555 0199", {"Omar Haddad"}),
        ("king street", {"Marie Tremblay"}),
        ("ottawa 1203", {"Omar Haddad"}),
        ("pierre", {"Cafe Lune"}),
        ("no-such-thing", set()),
        ("4b", {"Marie Tremblay"}),  # two characters: too short for the trigram index
        ("ki", {"Marie Tremblay"}),
        ("100%", set()),
    ],
)
def test_search_matches_name_number_email_phone_and_address(uow, admin, tenants, text, expected) -> None:  # noqa: ANN001
    q = AccountQuery(text=text)
    count, rows = service.first_page(uow(), admin, q, 50)
    assert {r.name for r in rows} == expected
    assert count == len(expected)


def test_filters_run_in_the_database(uow, admin, tenants, lookups) -> None:  # noqa: ANN001
    q = AccountQuery(status_id=_status(lookups, "Delinquent"))
    assert [r.name for r in service.list_accounts(uow(), admin, q, 0, 10)] == ["Omar Haddad"]
    q = AccountQuery(type_id=_type(lookups, "Commercial"))
    assert [r.name for r in service.list_accounts(uow(), admin, q, 0, 10)] == ["Cafe Lune"]
    company = lookups.companies[0].id
    assert service.count_accounts(uow(), admin, AccountQuery(company_id=company)) == 4
    assert service.count_accounts(uow(), admin, AccountQuery(company_id=company + 999)) == 0


def test_rows_carry_the_primary_contact_and_address(uow, admin, tenants) -> None:  # noqa: ANN001
    (row,) = service.list_accounts(uow(), admin, AccountQuery(text="haddad"), 0, 10)
    assert (row.contact, row.email, row.phone) == ("Omar Haddad", "omar@example.net", "+1 613 555 0199")
    assert row.address == "80 Elm Avenue #1203, Ottawa"
    assert row.status == "Delinquent" and row.status_colour.startswith("#")


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_runs_in_the_database(uow, admin, tenants, descending) -> None:  # noqa: ANN001
    names = [r.name for r in service.list_accounts(uow(), admin, AccountQuery(descending=descending), 0, 10)]
    assert names == sorted(names, reverse=descending)
    by_status = service.list_accounts(uow(), admin, AccountQuery(sort=AccountSort.STATUS), 0, 10)
    assert [r.status for r in by_status] == ["Active", "Active", "Delinquent", "Inactive"]


def test_pages_cover_every_row_once(uow, admin, lookups) -> None:  # noqa: ANN001
    for i in range(23):
        _new(uow, admin, lookups, f"Tenant {i:02d}")
    seen = []
    for offset in range(0, 30, 5):
        seen += [r.id for r in service.list_accounts(uow(), admin, AccountQuery(sort=AccountSort.NUMBER), offset, 5)]
    assert len(seen) == len(set(seen)) == 23


def test_saving_the_form_writes_an_audit_entry_with_before_and_after(uow, admin, tenants, lookups) -> None:  # noqa: ANN001
    marie = tenants["Marie Tremblay"]
    contacts = [*marie.contacts, C("Paul Tremblay", "paul@example.com", is_financial=True)]
    saved = service.update_account(uow(), admin, marie.id, marie.version,
                                   service.AccountChanges("Marie-Ève Tremblay", _status(lookups, "Suspended"), contacts))
    assert saved.version > marie.version
    assert saved.updated_by == "Alice Admin"
    assert [c.name for c in saved.contacts] == ["Marie Tremblay", "Paul Tremblay"]
    with uow() as u:
        (entry,) = [e for e in history(u.session, "account", marie.id) if e.action == "update"]
    assert entry.username == "alice"
    assert entry.before["name"] == "Marie Tremblay" and entry.after["name"] == "Marie-Ève Tremblay"
    assert entry.before["status"] == "Active" and entry.after["status"] == "Suspended"
    # The new contact is found by search straight away.
    assert service.count_accounts(uow(), admin, AccountQuery(text="paul@example")) == 1


def _counts(uow) -> tuple[int, int, int]:  # noqa: ANN001
    with uow() as u:
        s = u.session
        return (s.scalar(select(func.count(AuditEntry.id))), s.scalar(select(func.count(Contact.id))),
                s.scalar(select(func.count(Account.id))))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(name="  "), "name"),
        (dict(contacts=[C("", "a@b.com", is_primary=True)]), "contacts[0].name"),
        (dict(contacts=[C("X", "not-an-email", is_primary=True)]), "contacts[0].email"),
        (dict(contacts=[C("X", phone="call me", is_primary=True)]), "contacts[0].phone"),
        (dict(contacts=[C("X"), C("Y")]), "contacts"),
        (dict(contacts=[C("X", is_primary=True), C("Y", is_primary=True)]), "contacts"),
        (dict(status_id=999999), "status"),
    ],
)
def test_bad_input_is_refused_and_leaves_the_data_as_it_was(uow, admin, tenants, changes, field) -> None:  # noqa: ANN001
    marie = tenants["Marie Tremblay"]
    before = _counts(uow)
    base = dict(name=marie.name, status_id=marie.status_id, contacts=list(marie.contacts))
    with pytest.raises(ValidationError) as err:
        service.update_account(uow(), admin, marie.id, marie.version, service.AccountChanges(**{**base, **changes}))
    assert err.value.field == field
    assert _counts(uow) == before
    assert service.get_account(uow(), admin, marie.id) == marie


def test_a_stale_save_names_who_changed_the_account_and_changes_nothing(uow, admin, tenants, lookups) -> None:  # noqa: ANN001
    staff.add_user(uow(), admin, "bob", "long enough pw", "Support", "Bob Support")
    bob = staff.sign_in(uow(), "bob", "long enough pw")
    omar = tenants["Omar Haddad"]
    service.update_account(uow(), bob, omar.id, omar.version,
                           service.AccountChanges("Omar H. Haddad", omar.status_id, list(omar.contacts)))
    with pytest.raises(ConflictError, match="changed by Bob Support at") as err:
        service.update_account(uow(), admin, omar.id, omar.version,
                               service.AccountChanges("Omar Haddad Sr.", omar.status_id, list(omar.contacts)))
    assert "reload" in str(err.value)
    assert service.get_account(uow(), admin, omar.id).name == "Omar H. Haddad"


def test_two_desktops_saving_at_once_cannot_both_win(db_url, admin, tenants) -> None:  # noqa: ANN001
    """Two engines (two desktops) load the same version and save at the same moment."""
    desktops = [open_database(db_url), open_database(db_url)]
    omar = tenants["Omar Haddad"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(db, name) -> None:  # noqa: ANN001
        class Racing(UnitOfWork):
            def commit(self) -> None:
                barrier.wait(timeout=10)  # both have passed the version check
                super().commit()

        try:
            service.update_account(Racing(db), admin, omar.id, omar.version,
                                   service.AccountChanges(name, omar.status_id, list(omar.contacts)))
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 - SQLite's writer lock may refuse the loser instead
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=save, args=(d, f"Name {i}")) for i, d in enumerate(desktops)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("saved") == 1, outcomes
    assert service.get_account(UnitOfWork(desktops[0]), admin, omar.id).name in ("Name 0", "Name 1")
    for d in desktops:
        d.dispose()


def test_a_read_only_user_cannot_save(uow, admin, tenants) -> None:  # noqa: ANN001
    staff.add_user(uow(), admin, "rita", "long enough pw", "Read-only")
    rita = staff.sign_in(uow(), "rita", "long enough pw")
    marie = tenants["Marie Tremblay"]
    assert service.get_account(uow(), rita, marie.id).name == "Marie Tremblay"
    with pytest.raises(PermissionDenied):
        service.update_account(uow(), rita, marie.id, marie.version,
                               service.AccountChanges("X", marie.status_id, list(marie.contacts)))


def test_a_technician_cannot_list_billing_but_can_see_accounts(uow, admin, tenants) -> None:  # noqa: ANN001
    staff.add_user(uow(), admin, "tech", "long enough pw", "Technician")
    tech = staff.sign_in(uow(), "tech", "long enough pw")
    assert service.count_accounts(uow(), tech, AccountQuery()) == 4


@pytest.mark.parametrize("sort", list(AccountSort))
def test_selective_and_broad_searches_give_the_same_rows_in_the_same_order(uow, admin, lookups, monkeypatch, sort) -> None:  # noqa: ANN001
    """A search with few matches sorts them; one with many walks the sort index. Same answer."""
    from app.accounts import repository

    for i, status in enumerate(["Active", "Lead", "Active", "Inactive", "Active", "Delinquent", "Active"]):
        _new(uow, admin, lookups, f"Tenant {'CBAGFED'[i]} Walker", status=status,
             address=(f"{10 + i % 3} Elm Avenue", f"{i}A", "Ottawa") if i % 2 else None)
    _new(uow, admin, lookups, "Someone Else")
    answers = []
    for threshold in (1000, 2):  # 7 matches: the first is selective, the second broad
        monkeypatch.setattr(repository, "SELECTIVE_SEARCH_ROWS", threshold)
        for descending in (False, True):
            q = AccountQuery(text="walker", sort=sort, descending=descending)
            total, first = service.first_page(uow(), admin, q, 3)
            pages = [r.id for offset in (0, 3, 6) for r in service.list_accounts(uow(), admin, q, offset, 3, total)]
            answers.append((total, [r.id for r in first], pages))
    selective, broad = answers[:2], answers[2:]
    assert selective == broad
    assert selective[0][0] == 7 and len(set(selective[0][2])) == 7
