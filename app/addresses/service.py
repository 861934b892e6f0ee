"""Serviceable-address use cases: add and edit one address, list buildings, draw a building.

``clean_address`` is the one validation rule, shared by the form and the spreadsheet import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from app.addresses.models import ServiceableAddress
from app.addresses.normalise import (
    address_search_text, clean_text, derive_floor, match_key, normalise_country, normalise_postal_code, normalise_unit,
)
from app.addresses.repository import AddressHit, BuildingRow, UnitRow
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork


class DuplicateAddress(ValidationError):
    """The address already exists; ``existing_id`` points at it."""

    def __init__(self, message: str, existing_id: int) -> None:
        super().__init__(message, "unit")
        self.existing_id = existing_id


@dataclass(frozen=True)
class AddressInput:
    street: str
    city: str
    unit: str = ""
    building: str = ""
    floor: int | None = None  # None: derived from the unit when it says (4B → 4)
    region: str = ""
    postal_code: str = ""
    country: str = ""  # '' → the company's country
    serviceable_from: date | None = None


@dataclass(frozen=True)
class CleanAddress:
    street: str
    city: str
    unit: str
    building: str
    floor: int | None
    region: str
    postal_code: str
    country: str
    serviceable_from: date | None
    key: str
    building_key: str

    @property
    def label(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        return f"{self.street}{unit}, {self.city}"

    @property
    def search_text(self) -> str:
        return address_search_text(self.building, self.street, self.unit, self.city, self.postal_code)


@dataclass(frozen=True)
class AddressDetail:
    id: int
    version: int
    parent_id: int | None
    building: str
    street: str
    unit: str
    floor: int | None
    city: str
    region: str
    postal_code: str
    country: str
    serviceable_from: date | None
    label: str


@dataclass(frozen=True)
class TenantRow:
    account_id: int
    number: str
    name: str
    status: str
    current: bool
    disconnected_on: date | None


@dataclass(frozen=True)
class BuildingGrid:
    building: AddressDetail
    units: list[UnitRow]
    today: date


def clean_address(value: AddressInput, default_country: str = "US") -> CleanAddress:
    """Validate and normalise one address, or raise ValidationError naming the field."""
    street = clean_text(value.street, "Street", "street", 200, required=True)
    city = clean_text(value.city, "City", "city", 100, required=True)
    building = clean_text(value.building, "Building name", "building", 120)
    region = clean_text(value.region, "State or province", "region", 100)
    if len(region) == 2:
        region = region.upper()
    country = normalise_country(value.country) or (default_country or "US").upper()
    postal = normalise_postal_code(value.postal_code, country)
    unit = normalise_unit(value.unit)
    floor = value.floor
    if floor is not None and not -5 <= floor <= 300:
        raise ValidationError("A floor is a number from -5 to 300.", "floor")
    if floor is None and unit:
        floor = derive_floor(unit)
    return CleanAddress(street, city, unit, building, floor, region, postal, country, value.serviceable_from,
                        match_key(country, street, city, unit), match_key(country, street, city, ""))


# -- reading -----------------------------------------------------------------------------------

def list_buildings(uow: UnitOfWork, actor: Actor, text: str = "", today: date | None = None) -> list[BuildingRow]:
    actor.require(Permission.ADDRESSES_VIEW)
    with uow:
        return uow.addresses.buildings(text, today)


def building_grid(uow: UnitOfWork, actor: Actor, building_id: int, today: date | None = None) -> BuildingGrid:
    """A building and every unit with the account occupying it (for the floor grid)."""
    actor.require(Permission.ADDRESSES_VIEW)
    with uow:
        building = uow.addresses.get(building_id)
        if building is None or not building.is_building:
            raise NotFound("That building no longer exists.")
        return BuildingGrid(_detail(building), uow.addresses.units(building_id), today or date.today())


def get_address(uow: UnitOfWork, actor: Actor, address_id: int) -> AddressDetail:
    actor.require(Permission.ADDRESSES_VIEW)
    with uow:
        address = uow.addresses.get(address_id)
        if address is None:
            raise NotFound("That address no longer exists.")
        return _detail(address)


def search_addresses(uow: UnitOfWork, actor: Actor, text: str, limit: int = 20, vacant_only: bool = False,
                     units_only: bool = False, today: date | None = None) -> list[AddressHit]:
    """Search as you type: every word must appear in the building, street, unit, city or code."""
    actor.require(Permission.ADDRESSES_VIEW)
    with uow:
        return uow.addresses.search(text, limit, vacant_only, units_only, today)


def tenants(uow: UnitOfWork, actor: Actor, address_id: int) -> list[TenantRow]:
    """Everyone who has had service at this unit, the current occupant first: the place's history."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        rows = [TenantRow(a.id, a.number, a.name, a.status.name, a.disconnected_on is None, a.disconnected_on)
                for a in uow.addresses.accounts_at([address_id])]
    current = [r for r in rows if r.current]
    past = sorted((r for r in rows if not r.current), key=lambda r: r.disconnected_on, reverse=True)
    return current + past


# -- writing -----------------------------------------------------------------------------------

def create_address(uow: UnitOfWork, actor: Actor, value: AddressInput) -> AddressDetail:
    """Add one building or unit. A unit's building is found (same street, city, country) or made.
    A second copy of a place, however spelled, is refused with a pointer to the first."""
    actor.require(Permission.ADDRESSES_EDIT)
    with uow:
        clean = clean_address(value, uow.companies.default().country)
        existing = uow.addresses.by_match_key(clean.key)
        if existing is not None:
            raise DuplicateAddress(
                f"{existing.one_line()} already exists{' (a building)' if existing.is_building else ''}.", existing.id)
        parent = None
        if clean.unit:
            parent = uow.addresses.by_match_key(clean.building_key)
            if parent is None:
                parent = _new(replace(clean, unit="", floor=None, key=clean.building_key), None, actor)
                uow.session.add(parent)
                uow.flush()
                audit.record(uow.session, actor, "address", parent.id, "create", None, _snapshot(parent))
            elif not clean.building and parent.building:
                clean = replace(clean, building=parent.building)
        address = _new(clean, parent.id if parent else None, actor)
        uow.session.add(address)
        uow.flush()
        audit.record(uow.session, actor, "address", address.id, "create", None, _snapshot(address))
        uow.commit()
        return _detail(address)


def update_address(uow: UnitOfWork, actor: Actor, address_id: int, expected_version: int,
                   value: AddressInput) -> AddressDetail:
    """Edit one address. Editing a building carries its street, city, codes and name to its units
    and refreshes the search text of every account there."""
    actor.require(Permission.ADDRESSES_EDIT)
    with uow:
        address = uow.addresses.get(address_id)
        if address is None:
            raise NotFound("That address no longer exists.")
        if address.version != expected_version:
            raise ConflictError("address", uow.staff.display_name(address.updated_by_id), address.updated_at)
        clean = clean_address(value, uow.companies.default().country)
        if address.is_building and clean.unit:
            raise ValidationError("A building has no unit; add the unit as its own address.", "unit")
        if not address.is_building and not clean.unit:
            raise ValidationError("A unit needs its unit number.", "unit")
        other = uow.addresses.by_match_key(clean.key)
        if other is not None and other.id != address.id:
            raise DuplicateAddress(f"{other.one_line()} already exists.", other.id)
        before = _snapshot(address)
        _assign(address, clean, actor)
        touched = [address]
        if address.is_building:
            for unit in uow.addresses.units_of(address.id):
                moved = replace(clean, unit=unit.unit, floor=unit.floor, serviceable_from=unit.serviceable_from,
                                key=match_key(clean.country, clean.street, clean.city, unit.unit))
                clash = uow.addresses.by_match_key(moved.key)
                if clash is not None and clash.id != unit.id:
                    raise DuplicateAddress(f"Moving the building would make {clash.one_line()} twice.", clash.id)
                _assign(unit, moved, actor)
                touched.append(unit)
        elif address.parent_id is not None:
            parent = uow.addresses.get(address.parent_id)
            if parent is not None and clean.building_key != parent.match_key:
                raise ValidationError(
                    "A unit keeps its building's street and city; edit the building to move it.", "street")
        _refresh_accounts(uow, [a.id for a in touched])
        old, new = audit.changed_only(before, _snapshot(address))
        if old or new:
            audit.record(uow.session, actor, "address", address.id, "update", old, new)
        uow.commit()
        return _detail(address)


def _refresh_accounts(uow: UnitOfWork, address_ids: list[int]) -> None:
    from app.accounts.service import build_search_text  # accounts depend on addresses, not back

    uow.flush()
    for account in uow.addresses.accounts_at(address_ids):
        account.search_text = build_search_text(account)


def _new(clean: CleanAddress, parent_id: int | None, actor: Actor) -> ServiceableAddress:
    address = ServiceableAddress(parent_id=parent_id)
    _assign(address, clean, actor)
    return address


def _assign(address: ServiceableAddress, clean: CleanAddress, actor: Actor) -> None:
    address.building, address.street, address.unit = clean.building, clean.street, clean.unit
    address.floor, address.city, address.region = clean.floor, clean.city, clean.region
    address.postal_code, address.country = clean.postal_code, clean.country
    address.serviceable_from, address.match_key = clean.serviceable_from, clean.key
    address.search_text = clean.search_text
    address.updated_by_id = actor.user_id
    address.updated_at = utcnow()


def _snapshot(a: ServiceableAddress) -> dict:
    return {"building": a.building, "street": a.street, "unit": a.unit, "floor": a.floor, "city": a.city,
            "region": a.region, "postal_code": a.postal_code, "country": a.country,
            "serviceable_from": a.serviceable_from.isoformat() if a.serviceable_from else None}


def _detail(a: ServiceableAddress) -> AddressDetail:
    return AddressDetail(a.id, a.version, a.parent_id, a.building, a.street, a.unit, a.floor, a.city, a.region,
                         a.postal_code, a.country, a.serviceable_from, a.one_line())
