"""The application's unit of work: the core transaction plus one repository per room.

A new room adds one property here; services reach its repository as ``uow.<room>``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from app.accounts.history_repository import HistoryRepository
from app.accounts.lookups_repository import LookupsRepository
from app.accounts.notes_repository import NotesRepository
from app.accounts.repository import AccountRepository
from app.addresses.repository import AddressRepository
from app.billing.catalogue_repository import CatalogueRepository
from app.billing.delinquency_repository import DelinquencyRepository
from app.billing.ledger_repository import LedgerRepository
from app.billing.runs_repository import BillRunRepository
from app.companies.repository import CompanyRepository
from app.core.db import Database
from app.core.uow import UnitOfWorkBase
from app.inventory.repository import InventoryRepository
from app.scheduling.repository import ScheduledEventRepository
from app.staff.repository import StaffRepository


class UnitOfWork(UnitOfWorkBase):
    @cached_property
    def staff(self) -> StaffRepository:
        return StaffRepository(self.session)

    @cached_property
    def companies(self) -> CompanyRepository:
        return CompanyRepository(self.session)

    @cached_property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.session, self.db.capabilities)

    @cached_property
    def notes(self) -> NotesRepository:
        return NotesRepository(self.session)

    @cached_property
    def lookups(self) -> LookupsRepository:
        return LookupsRepository(self.session)

    @cached_property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.session)

    @cached_property
    def addresses(self) -> AddressRepository:
        return AddressRepository(self.session)

    @cached_property
    def scheduling(self) -> ScheduledEventRepository:
        return ScheduledEventRepository(self.session, self.db.capabilities)

    @cached_property
    def inventory(self) -> InventoryRepository:
        return InventoryRepository(self.session)

    @cached_property
    def billing_catalogue(self) -> CatalogueRepository:
        return CatalogueRepository(self.session)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.session)

    @cached_property
    def bill_runs(self) -> BillRunRepository:
        return BillRunRepository(self.session)

    @cached_property
    def delinquency(self) -> DelinquencyRepository:
        return DelinquencyRepository(self.session)

    def __exit__(self, exc_type, exc, tb) -> bool:  # noqa: ANN001
        # Repositories hold the session: forget them with it.
        for name, attr in vars(UnitOfWork).items():
            if isinstance(attr, cached_property):
                self.__dict__.pop(name, None)
        return super().__exit__(exc_type, exc, tb)


UowFactory = Callable[[], UnitOfWork]


def uow_factory(db: Database) -> UowFactory:
    return lambda: UnitOfWork(db)
