"""Serviceable addresses and the rules that tie accounts to units, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.addresses import service
from app.addresses.models import ServiceableAddress
from app.addresses.service import AddressInput, DuplicateAddress
from app.core.audit import AuditEntry
from app.core.errors import ConflictError, ValidationError
from app.scheduling.models import ScheduledEvent

TODAY = date(2026, 11, 23)


def _unit(uow, actor, unit: str, **kw):  # noqa: ANN001, ANN202
    base = dict(street="12 Main Street", city="Ottawa", region="on", postal_code="k1p1a1", country="CA",
                building="The Alder")
    base.update(kw)
    return service.create_address(uow(), actor, AddressInput(unit=unit, **base))


def _account(uow, actor, name, address_id, status="Active", **kw):  # noqa: ANN001, ANN202
    lk = accounts.lookups(uow(), actor)
    return accounts.create_account(uow(), actor, accounts.NewAccount(
        name=name, type_id=lk.types[0].id, status_id=next(s.id for s in lk.statuses if s.name == status),
        address_id=address_id, contacts=[accounts.ContactInput(name, is_primary=True)], **kw), today=TODAY)


def test_a_unit_is_normalised_and_hung_under_its_building(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "Apt 4B")
    assert (a.unit, a.floor, a.postal_code, a.region) == ("4B", 4, "K1P 1A1", "ON")
    assert a.parent_id is not None
    b = _unit(uow, admin, "5C", street="12 main st.")  # the same building, spelled otherwise
    assert b.parent_id == a.parent_id
    [building] = service.list_buildings(uow(), admin)
    assert (building.building, building.units, building.vacant, building.occupied) == ("The Alder", 2, 2, 0)


def test_the_same_unit_written_differently_is_refused_with_a_pointer(uow, admin) -> None:  # noqa: ANN001
    first = _unit(uow, admin, "Apt 4B")
    for written in ("#4b", "Unit 4-B", "4B"):
        with pytest.raises(DuplicateAddress) as err:
            _unit(uow, admin, written)
        assert err.value.existing_id == first.id and "already exists" in str(err.value)
    with uow() as u:
        assert u.session.scalar(select(func.count(ServiceableAddress.id))) == 2  # building + unit


def test_a_bad_postal_code_saves_nothing(uow, admin) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as err:
        _unit(uow, admin, "1", postal_code="123")
    assert err.value.field == "postal_code"
    with uow() as u:
        assert u.session.scalar(select(func.count(ServiceableAddress.id))) == 0


def test_the_grid_shows_each_unit_with_its_occupant_and_state(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101")
    _unit(uow, admin, "102")
    _unit(uow, admin, "201", serviceable_from=TODAY + timedelta(days=30))
    _account(uow, admin, "Ada Li", a.id)
    grid = service.building_grid(uow(), admin, a.parent_id, TODAY)
    by_unit = {u.unit: u for u in grid.units}
    assert by_unit["101"].account_name == "Ada Li" and by_unit["101"].status == "Active"
    assert by_unit["102"].account_id is None
    assert by_unit["201"].serviceable_from == TODAY + timedelta(days=30) and by_unit["201"].floor == 2
    [b] = service.list_buildings(uow(), admin, today=TODAY)
    assert (b.units, b.occupied, b.vacant, b.not_yet) == (3, 1, 1, 1)


def test_an_occupied_unit_is_refused_for_a_second_tenant(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101")
    _account(uow, admin, "Ada Li", a.id)
    with pytest.raises(ValidationError, match="occupied by .* Ada Li") as err:
        _account(uow, admin, "Bo Chen", a.id)
    assert err.value.field == "address"


def test_the_next_tenant_can_move_in_on_the_day_the_last_one_leaves(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101")
    ada = _account(uow, admin, "Ada Li", a.id)
    leaving = TODAY + timedelta(days=10)
    with uow() as u:
        u.session.add(ScheduledEvent(account_id=ada.id, kind="disconnect", due_on=leaving,
                                     payload={"reason": "moving", "final_status_id": ada.status_id}))
        u.commit()
    assert accounts.occupant(uow(), admin, a.id).leaving_on == leaving
    with pytest.raises(ValidationError, match="until") as err:
        _account(uow, admin, "Bo Chen", a.id, starts_on=leaving - timedelta(days=1))
    assert err.value.field == "starts_on"
    bo = _account(uow, admin, "Bo Chen", a.id, starts_on=leaving)
    assert bo.status == "Lead" and bo.contacts[0].name == "Bo Chen"  # nothing of Ada's carried over
    with uow() as u:
        [event] = u.session.scalars(select(ScheduledEvent).where(ScheduledEvent.account_id == bo.id)).all()
        assert (event.kind, event.due_on, event.state) == ("change_status", leaving, "pending")


def test_a_future_address_takes_accounts_only_from_its_date(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101", serviceable_from=TODAY + timedelta(days=5))
    with pytest.raises(ValidationError, match="serviceable from"):
        _account(uow, admin, "Ada Li", a.id)
    assert _account(uow, admin, "Ada Li", a.id, starts_on=TODAY + timedelta(days=5)).status == "Lead"


def test_a_shell_account_needs_a_paying_parent(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101")
    with pytest.raises(ValidationError) as err:
        _account(uow, admin, "Ada Li", a.id, is_shell=True)
    assert err.value.field == "parent"
    board = _account(uow, admin, "Alder Condo Board", a.parent_id)  # the building itself
    ada = _account(uow, admin, "Ada Li", a.id, is_shell=True, parent_id=board.id)
    assert ada.is_shell and ada.parent.endswith("Alder Condo Board")
    assert accounts.get_account(uow(), admin, board.id).children == 1


def test_editing_a_building_moves_its_units_and_refreshes_account_search(uow, admin) -> None:  # noqa: ANN001
    from app.accounts.repository import AccountQuery

    a = _unit(uow, admin, "101")
    _account(uow, admin, "Ada Li", a.id)
    b = service.get_address(uow(), admin, a.parent_id)
    service.update_address(uow(), admin, b.id, b.version, AddressInput(
        street="14 Main Street", city="Ottawa", building="The Alder", postal_code="K1P 1A1", country="CA"))
    unit = service.get_address(uow(), admin, a.id)
    assert unit.street == "14 Main Street"
    total, rows = accounts.first_page(uow(), admin, AccountQuery(text="14 main"), 10)
    assert total == 1 and rows[0].name == "Ada Li"
    with pytest.raises(ConflictError):
        service.update_address(uow(), admin, b.id, b.version, AddressInput(street="16 Main Street", city="Ottawa"))
    with uow() as u:
        actions = u.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "address")).all()
        assert actions.count("update") == 1


def test_search_finds_vacant_units_by_any_word(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101")
    _unit(uow, admin, "102")
    _account(uow, admin, "Ada Li", a.id)
    hits = service.search_addresses(uow(), admin, "alder 10", vacant_only=True, units_only=True, today=TODAY)
    assert [h.label for h in hits] == ["12 Main Street #102, Ottawa"]
    everything = service.search_addresses(uow(), admin, "main", today=TODAY)
    assert {h.occupied_by.split(" ", 1)[-1] for h in everything if h.occupied_by} == {"Ada Li"}
    assert service.tenants(uow(), admin, a.id)[0].name == "Ada Li"


def _turnover(uow, admin):  # noqa: ANN001, ANN202
    """Ada lives in 4B and leaves in ten days; Bo is set up to move in that day."""
    from app.scheduling import service as scheduling

    a = _unit(uow, admin, "Apt 4B")
    ada = _account(uow, admin, "Ada Li", a.id)
    leaving = TODAY + timedelta(days=10)
    inactive = next(s.id for s in accounts.lookups(uow(), admin).statuses if s.name == "Inactive")
    scheduling.schedule_move_out(uow(), admin, ada.id, leaving, "Moving out", inactive, TODAY)
    bo = _account(uow, admin, "Bo Chen", a.id, starts_on=leaving)
    return a, ada, bo, leaving


def test_a_unit_in_turnover_is_found_once_and_by_any_spelling(uow, admin) -> None:  # noqa: ANN001
    a, ada, _bo, _leaving = _turnover(uow, admin)
    for words in ("main 4b", "Main Apt 4-B", "12 main street #4B", "alder unit 4b"):
        hits = service.search_addresses(uow(), admin, words, units_only=True, today=TODAY)
        assert [h.id for h in hits] == [a.id], words
    assert hits[0].occupied_by == f"{ada.number} Ada Li"  # the one leaving, until the day


def test_the_move_out_cannot_be_cancelled_once_the_next_tenant_is_set_up(uow, admin) -> None:  # noqa: ANN001
    from app.scheduling import service as scheduling

    _a, ada, _bo, _leaving = _turnover(uow, admin)
    [event] = scheduling.list_events(uow(), admin, ada.id)
    with pytest.raises(ValidationError, match="Bo Chen is already set up"):
        scheduling.cancel_event(uow(), admin, event.id, event.version)
    assert scheduling.list_events(uow(), admin, ada.id)[0].state == "pending"


def test_a_disconnected_account_cannot_become_billed_again(uow, admin) -> None:  # noqa: ANN001
    from app.scheduling import service as scheduling

    _a, ada, _bo, leaving = _turnover(uow, admin)
    active = next(s.id for s in accounts.lookups(uow(), admin).statuses if s.name == "Active")
    assert scheduling.run_due_events(uow, admin, leaving, "test").ran == 2
    gone = accounts.get_account(uow(), admin, ada.id)
    assert gone.disconnected_on == leaving and gone.status == "Inactive"
    with pytest.raises(ValidationError, match="disconnected on"):
        accounts.update_account(uow(), admin, ada.id, gone.version,
                                accounts.AccountChanges(gone.name, active, list(gone.contacts)))
    with pytest.raises(ValidationError, match="disconnected on"):
        scheduling.schedule_event(uow(), admin, ada.id, "change_status", leaving + timedelta(days=1),
                                  {"status_id": active})


def test_a_future_unit_with_its_tenant_already_signed_counts_as_occupied(uow, admin) -> None:  # noqa: ANN001
    a = _unit(uow, admin, "101", serviceable_from=TODAY + timedelta(days=5))
    _unit(uow, admin, "102", serviceable_from=TODAY + timedelta(days=5))
    _account(uow, admin, "Ada Li", a.id, starts_on=TODAY + timedelta(days=5))
    [b] = service.list_buildings(uow(), admin, today=TODAY)
    assert (b.units, b.occupied, b.not_yet, b.vacant) == (2, 1, 1, 0)
