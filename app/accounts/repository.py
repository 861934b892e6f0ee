"""Account queries. Paging, sorting and filtering happen in the database; no business rules here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Integer, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Account, AccountGroup, AccountStatus, AccountType, Contact, account_group_members
from app.addresses.models import ServiceableAddress
from app.companies.models import Company
from app.core.db import Capabilities
from app.core.search import contains, index_probe


# SQLite's trigram index over accounts.search_text (made by the first migration, kept by triggers).
SEARCH_TABLE = "accounts_search"
# A search with at most this many matches sorts its matches; a broader one walks the sort index.
SELECTIVE_SEARCH_ROWS = 5000


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
    group_id: int | None = None  # accounts in this group (a tag)
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


class AccountRepository:
    def __init__(self, session: Session, capabilities: Capabilities) -> None:
        self.session = session
        self.capabilities = capabilities

    # -- single rows ---------------------------------------------------------------------------
    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def by_number(self, number: str) -> Account | None:
        return self.session.scalars(select(Account).where(Account.number == number)).one_or_none()

    def groups(self) -> list[AccountGroup]:
        return list(self.session.scalars(select(AccountGroup).order_by(AccountGroup.name)))

    def count_children(self, account_id: int) -> int:
        return self.session.scalar(select(func.count(Account.id)).where(Account.parent_id == account_id)) or 0

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
    def _filtered(self, stmt: Select, query: AccountQuery, *, common: bool = False) -> Select:
        """``common``: the search is known to match many rows, so scan rather than use a
        full-text index (see ``app.core.search.contains``)."""
        conditions = [
            contains(self.capabilities, Account.search_text, term, key=Account.id, fts_table=SEARCH_TABLE,
                     use_index=not common)
            for term in query.terms()
        ]
        if query.status_id is not None:
            conditions.append(Account.status_id == query.status_id)
        if query.type_id is not None:
            conditions.append(Account.account_type_id == query.type_id)
        if query.company_id is not None:
            conditions.append(Account.company_id == query.company_id)
        if query.group_id is not None:
            members = account_group_members.c
            conditions.append(exists().where(members.account_id == Account.id, members.group_id == query.group_id))
        return stmt.where(and_(*conditions)) if conditions else stmt

    def count(self, query: AccountQuery, *, common: bool = False) -> int:
        return self.session.scalar(self._filtered(select(func.count(Account.id)), query, common=common)) or 0

    def first_page(self, query: AccountQuery, limit: int) -> tuple[int, list[AccountRow]]:
        """The count and the first rows: what every keystroke of a search needs.

        A search first probes for at most SELECTIVE_SEARCH_ROWS + 1 matches (through the search
        index; it stops early for a common term). Few matches: they are sorted and counted from
        that probe. Many: the count scans the column once, and the page walks the sort index,
        which meets matches at once when they are common.
        """
        common = False
        if query.terms() and not self.capabilities.plans_searches:
            few = self._few_matches(query)
            if few is not None:
                return len(few), self._rows(few[:limit])
            common = True
        total = self.count(query, common=common)
        return total, self._rows(self._page_ids(query, 0, limit, common=common))

    def page(self, query: AccountQuery, offset: int, limit: int, total: int | None = None) -> list[AccountRow]:
        """Rows ``offset`` … ``offset + limit`` in the query's order. ``total`` is the query's
        count when the caller knows it (a selective search is then sorted, not index-walked)."""
        if query.terms() and not self.capabilities.plans_searches and total is not None \
                and total <= SELECTIVE_SEARCH_ROWS:
            few = self._few_matches(query)
            if few is not None:
                return self._rows(few[offset:offset + limit])
        common = bool(query.terms()) and not self.capabilities.plans_searches and (
            total is None or total > SELECTIVE_SEARCH_ROWS)
        return self._rows(self._page_ids(query, offset, limit, common=common))

    def ordered_ids(self, query: AccountQuery) -> list[int]:
        """Every account id the query selects, in the list's order (the export reads their rows
        a chunk at a time with ``rows_for``)."""
        return list(self.session.scalars(self._sorted(self._filtered(select(Account.id), query), query)))

    def rows_for(self, ids: list[int]) -> list[AccountRow]:
        """The list's rows for these accounts, in the order given."""
        return self._rows(ids)

    def _rows(self, ids: list[int]) -> list[AccountRow]:
        """Everything the list shows for these accounts, in the order given."""
        if not ids:
            return []
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
        found = {
            r[0]: AccountRow(
                id=r[0], number=r[1], name=r[2], status=r[3], status_colour=r[4], account_type=r[5],
                company=r[6],
                address=(f"{r[7]}{' #' + r[8] if r[8] else ''}, {r[9]}" if r[7] else ""),
                contact=r[10] or "", email=r[11] or "", phone=r[12] or r[13] or "",
            )
            for chunk in _chunks(ids, 1000)  # a bound limit on parameters per statement
            for r in self.session.execute(stmt.where(Account.id.in_(chunk)))
        }
        return [found[i] for i in ids if i in found]

    def _sorted(self, stmt: Select, query: AccountQuery, *, indexed: bool = True) -> Select:
        """Join what the sort needs and order by it, ``id`` breaking ties."""
        if query.sort is AccountSort.STATUS:
            stmt = stmt.join(AccountStatus, Account.status_id == AccountStatus.id)
        elif query.sort is AccountSort.TYPE:
            stmt = stmt.join(AccountType, Account.account_type_id == AccountType.id)
        elif query.sort is AccountSort.COMPANY:
            stmt = stmt.join(Company, Account.company_id == Company.id)
        elif query.sort is AccountSort.ADDRESS:
            stmt = stmt.outerjoin(ServiceableAddress, Account.address_id == ServiceableAddress.id)
        keys = {
            AccountSort.NUMBER: [Account.number],  # unique: no tie-breaker needed
            AccountSort.NAME: [Account.name, Account.id],
            AccountSort.STATUS: [AccountStatus.sort_order, Account.name, Account.id],
            AccountSort.TYPE: [AccountType.sort_order, Account.name, Account.id],
            AccountSort.ADDRESS: [ServiceableAddress.street, ServiceableAddress.unit, Account.id],
            AccountSort.COMPANY: [Company.name, Account.name, Account.id],
        }[query.sort]
        if not indexed:
            keys = [_not_indexed(k) for k in keys]
        return stmt.order_by(*[k.desc() if query.descending else k.asc() for k in keys])

    def _page_ids(self, query: AccountQuery, offset: int, limit: int, *, common: bool = False) -> list[int]:
        # Only the tables the sort needs: for name or number an index-only walk, so a deep page
        # stays cheap; the few rows of the page are then joined to the rest by ``_rows``.
        stmt = self._sorted(self._filtered(select(Account.id), query, common=common), query)
        return list(self.session.scalars(stmt.offset(offset).limit(limit)))

    def _few_matches(self, query: AccountQuery) -> list[int] | None:
        """Every match in order when there are at most SELECTIVE_SEARCH_ROWS, else None."""
        limit = SELECTIVE_SEARCH_ROWS + 1
        probe = index_probe(self.capabilities, query.terms(), fts_table=SEARCH_TABLE,
                            text_column=Account.search_text.key, limit=limit)
        if probe is not None:
            # The full-text index names the candidates (stopping at ``limit``); the exact
            # conditions are then checked on those few rows only.
            candidates = list(self.session.scalars(probe))
            if len(candidates) >= limit:
                return None
            if not candidates:
                return []
            inner = self._filtered(select(Account.id), query, common=True).where(Account.id.in_(candidates))
        else:
            inner = self._filtered(select(Account.id), query).limit(limit)
        stmt = self._sorted(select(Account.id).where(Account.id.in_(inner)), query, indexed=False)
        ids = list(self.session.scalars(stmt))
        return ids if len(ids) <= SELECTIVE_SEARCH_ROWS else None


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _not_indexed(column: ColumnElement) -> ColumnElement:
    """The same ordering as ``column``, as an expression no index provides (works on both)."""
    if isinstance(column.type, Integer):
        return column + 0
    return column.concat("")
