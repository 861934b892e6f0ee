"""Search everything at once (Ctrl+K): accounts, their contacts, and serviceable addresses.

Accounts come from the accounts list's indexed search, which already covers contact names,
e-mails and phones; the contacts shown are the matching contacts of those accounts, so a
landlord found by name appears as "financial contact of 100234 Ada Li". Addresses are searched
on their own, so a vacant unit is found too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import Contact
from app.accounts.repository import AccountQuery, AccountRow
from app.accounts.service import compose_search_text
from app.addresses.repository import AddressHit
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork


@dataclass(frozen=True)
class ContactHit:
    account_id: int
    name: str
    role: str  # "primary contact of 100234 Ada Li"
    detail: str  # e-mail or phone


@dataclass(frozen=True)
class SearchResults:
    accounts: list[AccountRow]
    contacts: list[ContactHit]
    addresses: list[AddressHit]
    more_accounts: int  # matches beyond those shown


def search_everything(uow: UnitOfWork, actor: Actor, text: str, limit: int = 8) -> SearchResults:
    terms = [t for t in text.lower().split() if t]
    if not terms:
        return SearchResults([], [], [], 0)
    accounts: list[AccountRow] = []
    contacts: list[ContactHit] = []
    addresses: list[AddressHit] = []
    total = 0
    with uow:
        if actor.can(Permission.ACCOUNTS_VIEW):
            total, accounts = uow.accounts.first_page(AccountQuery(text=text), max(limit, 30))
            by_id = {a.id: a for a in accounts}
            if by_id:
                for c in uow.session.scalars(select(Contact).where(Contact.account_id.in_(list(by_id)))
                                             .order_by(Contact.account_id, Contact.id)):
                    haystack = compose_search_text([], [(c.name, c.email, c.phone, c.mobile)])
                    if not all(t in haystack for t in terms):
                        continue
                    account = by_id[c.account_id]
                    if c.is_primary and c.name == account.name:
                        continue  # the account row already says it
                    role = "primary contact" if c.is_primary else ("financial contact" if c.is_financial else "contact")
                    contacts.append(ContactHit(c.account_id, c.name, f"{role} of {account.number} {account.name}",
                                               c.email or c.phone or c.mobile))
                    if len(contacts) >= limit:
                        break
            accounts = accounts[:limit]
        if actor.can(Permission.ADDRESSES_VIEW):
            addresses = uow.addresses.search(text, limit)
    return SearchResults(accounts, contacts, addresses, max(0, total - len(accounts)))
