"""Queries over serviceable addresses: buildings with their counts, a building's units with the
account that occupies each, search for the unit picker and global search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Account, AccountStatus
from app.addresses.models import ServiceableAddress
from app.addresses.normalise import normalise_unit
from app.core.errors import ValidationError

A = ServiceableAddress


@dataclass(frozen=True)
class BuildingRow:
    id: int
    building: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    units: int
    occupied: int
    vacant: int
    not_yet: int  # units not serviceable yet


@dataclass(frozen=True)
class UnitRow:
    id: int
    unit: str
    floor: int | None
    serviceable_from: date | None
    account_id: int | None
    account_number: str
    account_name: str
    status: str
    status_colour: str
    activates: bool


@dataclass(frozen=True)
class AddressHit:
    id: int
    label: str  # "12 Main St #4B, Ottawa"
    building: str
    building_id: int | None
    is_building: bool
    occupied_by: str  # "100234 Ada Li", or ''


_DESIGNATOR_WORDS = {"apt", "apartment", "unit", "suite", "ste", "no", "flat", "room", "rm"}


def search_words(text: str) -> list[str]:
    """The words an address search looks for, spelled as the search text stores them: designator
    words dropped and units normalised ("Apt 4-B" → "4b"), so every spelling the import accepts
    also finds the unit."""
    words = []
    for word in re.sub(r"[#,]", " ", text).lower().split():
        word = word.strip(".")
        if not word or word in _DESIGNATOR_WORDS:
            continue
        if any(ch.isdigit() for ch in word):
            try:
                word = normalise_unit(word).lower() or word
            except ValidationError:
                pass
        words.append(word)
    return words


def _contains(column, term: str):  # noqa: ANN001, ANN202 - a plain scan: addresses are tens of thousands
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def _occupant():  # noqa: ANN202
    """Join condition for the account occupying a unit: one account not disconnected — the
    earliest, so on the day of a turnover the tenant leaving still shows. Correlated, so it is
    an index lookup per address row, never an aggregate over every account."""
    first = (select(func.min(Account.id))
             .where(Account.address_id == A.id, Account.disconnected_on.is_(None))
             .correlate(A).scalar_subquery())
    return Account.id == first


class AddressRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, address_id: int) -> ServiceableAddress | None:
        return self.session.get(A, address_id)

    def by_match_key(self, key: str) -> ServiceableAddress | None:
        return self.session.scalars(select(A).where(A.match_key == key)).first()

    def existing_keys(self) -> dict[str, int]:
        return dict(self.session.execute(select(A.match_key, A.id)).all())

    # -- bulk: the spreadsheet import and export ------------------------------------------------
    def anchors(self) -> dict[str, tuple[int, str]]:
        """Every building (unit ''): its match key → (id, building name)."""
        stmt = select(A.match_key, A.id, A.building).where(A.unit == "")
        return {key: (address_id, name) for key, address_id, name in self.session.execute(stmt)}

    def insert_many(self, rows: list[dict], *, returning: bool = False) -> list[int]:
        """Bulk INSERT of ready column values, no ORM objects (batched by the driver). With
        ``returning`` the new ids come back in the order of ``rows``."""
        if not rows:
            return []
        if returning:
            return list(self.session.scalars(insert(A).returning(A.id, sort_by_parameter_order=True), rows))
        self.session.execute(insert(A), rows)
        return []

    def count_all(self) -> int:
        return self.session.scalar(select(func.count(A.id))) or 0

    def export_rows(self, chunk: int = 2000) -> Iterator[tuple]:
        """Every address as (building, street, unit, floor, city, region, postal_code, country,
        serviceable_from): each building followed by its units, streamed ``chunk`` rows at a time."""
        stmt = (
            select(A.building, A.street, A.unit, A.floor, A.city, A.region, A.postal_code, A.country,
                   A.serviceable_from)
            .order_by(func.coalesce(A.parent_id, A.id), func.length(A.unit), A.unit, A.id)
            .execution_options(yield_per=chunk)
        )
        for row in self.session.execute(stmt):
            yield tuple(row)

    def units_of(self, building_id: int) -> list[ServiceableAddress]:
        return list(self.session.scalars(select(A).where(A.parent_id == building_id)))

    def lock(self, address_id: int) -> None:
        """Hold the address until the transaction ends (FOR UPDATE on Postgres; SQLite's single
        writer needs nothing)."""
        self.session.scalar(select(A.id).where(A.id == address_id).with_for_update())

    def occupants(self, address_id: int) -> list[Account]:
        """Accounts occupying the unit now (normally one; two during a same-day turnover)."""
        return list(self.session.scalars(
            select(Account).where(Account.address_id == address_id, Account.disconnected_on.is_(None))
            .order_by(Account.id)))

    def accounts_at(self, address_ids: list[int]) -> list[Account]:
        return list(self.session.scalars(select(Account).where(Account.address_id.in_(address_ids))))

    def buildings(self, text: str = "", today: date | None = None) -> list[BuildingRow]:
        today = today or date.today()
        unit = aliased(A)
        occupied_units = (
            select(Account.address_id).where(Account.disconnected_on.is_(None), Account.address_id.is_not(None))
            .distinct().subquery()
        )
        counts = (
            select(
                unit.parent_id.label("building_id"),
                func.count(unit.id).label("units"),
                func.count(occupied_units.c.address_id).label("occupied"),
                func.sum(case((and_(unit.serviceable_from > today, occupied_units.c.address_id.is_(None)), 1),
                              else_=0)).label("not_yet"),
            )
            .select_from(unit)
            .outerjoin(occupied_units, occupied_units.c.address_id == unit.id)
            .where(unit.parent_id.is_not(None))
            .group_by(unit.parent_id)
            .subquery()
        )
        stmt = (
            select(A, counts.c.units, counts.c.occupied, counts.c.not_yet)
            .outerjoin(counts, counts.c.building_id == A.id)
            .where(A.parent_id.is_(None), A.unit == "")
            .order_by(func.lower(A.building), A.street, A.id)
        )
        if text.strip():
            stmt = stmt.where(_contains(A.search_text, text.strip().lower()))
        rows = []
        for a, units, occupied, not_yet in self.session.execute(stmt):
            units, occupied, not_yet = units or 0, occupied or 0, int(not_yet or 0)
            rows.append(BuildingRow(a.id, a.building, a.street, a.city, a.region, a.postal_code, a.country,
                                    units, occupied, units - occupied - not_yet, not_yet))
        return rows

    def units(self, building_id: int) -> list[UnitRow]:
        stmt = (
            select(A.id, A.unit, A.floor, A.serviceable_from, Account.id, Account.number, Account.name,
                   AccountStatus.name, AccountStatus.colour, AccountStatus.activates)
            .select_from(A)
            .outerjoin(Account, _occupant())
            .outerjoin(AccountStatus, AccountStatus.id == Account.status_id)
            .where(A.parent_id == building_id)
            .order_by(A.floor, A.unit, A.id)
        )
        return [UnitRow(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6] or "", r[7] or "", r[8] or "", bool(r[9]))
                for r in self.session.execute(stmt)]

    def search(self, text: str, limit: int = 20, vacant_only: bool = False, units_only: bool = False,
               today: date | None = None) -> list[AddressHit]:
        parent = aliased(A)
        stmt = (
            select(A, parent.building, Account.number, Account.name)
            .outerjoin(parent, parent.id == A.parent_id)
            .outerjoin(Account, _occupant())
        )
        for word in search_words(text):
            stmt = stmt.where(_contains(A.search_text, word))
        if units_only:
            stmt = stmt.where(A.unit != "")
        if vacant_only:
            stmt = stmt.where(Account.id.is_(None), or_(A.serviceable_from.is_(None),
                                                      A.serviceable_from <= (today or date.today())))
        stmt = stmt.order_by(A.street, A.city, A.floor, A.unit).limit(limit)
        hits = []
        for a, parent_building, number, name in self.session.execute(stmt):
            hits.append(AddressHit(
                a.id, a.one_line(), parent_building or a.building, a.parent_id or (a.id if a.is_building else None),
                a.is_building, f"{number} {name}" if number else ""))
        return hits
