"""Account queries. Paging, sorting and filtering happen in the database; no business rules here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Account, AccountStatus, AccountType, Contact
from app.addresses.models import ServiceableAddress
from app.companies.models import Company


class AccountSort(StrEnum):
    NUMBER = "number"
    NAME = "name"
    STATUS = "status"
    TYPE = "type"
    ADDRESS = "address"
    COMPANY = "company"


@dataclass(frozen=True)
class AccountQuery:
    """What the accounts list shows: search words, filters and the sort order."""

    text: str = ""
    status_id: int | None = None
    type_id: int | None = None
    company_id: int | None = None
    sort: AccountSort = AccountSort.NAME
    descending: bool = False

    def terms(self) -> list[str]:
        return [t for t in self.text.lower().split() if t]


@dataclass(frozen=True)
class AccountRow:
    id: int
    number: str
    name: str
    status: str
    status_colour: str
    account_type: str
    company: str
    address: str
    contact: str
    email: str
    phone: str


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")



class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- single rows ---------------------------------------------------------------------------
    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def by_number(self, number: str) -> Account | None:
        return self.session.scalars(select(Account).where(Account.number == number)).one_or_none()

    def add(self, account: Account) -> None:
        self.session.add(account)

    def statuses(self) -> list[AccountStatus]:
        return list(self.session.scalars(select(AccountStatus).order_by(AccountStatus.sort_order, AccountStatus.name)))

    def types(self) -> list[AccountType]:
        return list(self.session.scalars(select(AccountType).order_by(AccountType.sort_order, AccountType.name)))

    def status(self, status_id: int) -> AccountStatus | None:
        return self.session.get(AccountStatus, status_id)

    def account_type(self, type_id: int) -> AccountType | None:
        return self.session.get(AccountType, type_id)

    # -- the list ------------------------------------------------------------------------------
    def _filtered(self, stmt: Select, query: AccountQuery) -> Select:
        conditions = []
        for term in query.terms():
            conditions.append(Account.search_text.like(f"%{_like_escape(term)}%", escape="\\"))
        if query.status_id is not None:
            conditions.append(Account.status_id == query.status_id)
        if query.type_id is not None:
            conditions.append(Account.account_type_id == query.type_id)
        if query.company_id is not None:
            conditions.append(Account.company_id == query.company_id)
        return stmt.where(and_(*conditions)) if conditions else stmt

    def count(self, query: AccountQuery) -> int:
        return self.session.scalar(self._filtered(select(func.count(Account.id)), query)) or 0

    def page(self, query: AccountQuery, offset: int, limit: int) -> list[AccountRow]:
        primary = aliased(Contact)
        stmt = (
            select(
                Account.id, Account.number, Account.name,
                AccountStatus.name, AccountStatus.colour, AccountType.name, Company.name,
                ServiceableAddress.street, ServiceableAddress.unit, ServiceableAddress.city,
                primary.name, primary.email, primary.phone, primary.mobile,
            )
            .join(AccountStatus, Account.status_id == AccountStatus.id)
            .join(AccountType, Account.account_type_id == AccountType.id)
            .join(Company, Account.company_id == Company.id)
            .outerjoin(ServiceableAddress, Account.address_id == ServiceableAddress.id)
            .outerjoin(primary, and_(primary.account_id == Account.id, primary.is_primary.is_(True)))
        )
        stmt = self._filtered(stmt, query)
        keys = {
            AccountSort.NUMBER: [Account.number],
            AccountSort.NAME: [Account.name],
            AccountSort.STATUS: [AccountStatus.sort_order, Account.name],
            AccountSort.TYPE: [AccountType.sort_order, Account.name],
            AccountSort.ADDRESS: [ServiceableAddress.street, ServiceableAddress.unit],
            AccountSort.COMPANY: [Company.name, Account.name],
        }[query.sort] + [Account.id]
        stmt = stmt.order_by(*[k.desc() if query.descending else k.asc() for k in keys])
        rows = self.session.execute(stmt.offset(offset).limit(limit)).all()
        return [
            AccountRow(
                id=r[0], number=r[1], name=r[2], status=r[3], status_colour=r[4], account_type=r[5],
                company=r[6],
                address=(f"{r[7]}{' #' + r[8] if r[8] else ''}, {r[9]}" if r[7] else ""),
                contact=r[10] or "", email=r[11] or "", phone=r[12] or r[13] or "",
            )
            for r in rows
        ]
