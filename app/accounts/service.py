"""Account use cases: list, open, create and edit accounts with their contacts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.accounts.models import Account, Contact
from app.accounts.repository import AccountQuery, AccountRow
from app.addresses.models import ServiceableAddress
from app.scheduling.models import ScheduledEvent
from app.core import audit
from app.core.clock import utcnow
from app.core.counters import take_next
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.reference import ACCOUNT_NUMBER_COUNTER, FIRST_ACCOUNT_NUMBER
from app.uow import UnitOfWork

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ().\-]{7,25}(\s*(x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,29}$")


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    colour: str = ""
    activates: bool = False


@dataclass(frozen=True)
class Lookups:
    """The lists a form or filter offers."""

    statuses: list[Choice]
    types: list[Choice]
    companies: list[Choice]
    groups: list[Choice] = field(default_factory=list)


@dataclass(frozen=True)
class ContactInput:
    name: str
    email: str = ""
    phone: str = ""
    mobile: str = ""
    is_primary: bool = False
    is_financial: bool = False
    id: int | None = None  # None for a new contact
    # Which notices the contact receives.
    notify_billing: bool = True
    notify_outages: bool = True
    notify_jobs: bool = True
    notify_general: bool = True


@dataclass(frozen=True)
class AccountDetail:
    id: int
    version: int
    number: str
    name: str
    status_id: int
    status: str
    type_id: int
    account_type: str
    company_id: int
    company: str
    address: str
    contacts: list[ContactInput]
    updated_at: str
    updated_by: str | None
    status_colour: str = ""
    activates: bool = False
    address_id: int | None = None
    building_id: int | None = None
    is_shell: bool = False
    parent_id: int | None = None
    parent: str = ""  # "100002 Cedar Court Condominium Corp."
    children: int = 0
    disconnected_on: date | None = None
    disconnect_reason: str = ""
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountChanges:
    name: str
    status_id: int
    contacts: list[ContactInput] = field(default_factory=list)


@dataclass(frozen=True)
class NewAccount:
    name: str
    type_id: int
    status_id: int
    company_id: int | None = None
    number: str | None = None  # None: the next automatic number
    address_id: int | None = None
    parent_id: int | None = None
    contacts: list[ContactInput] = field(default_factory=list)
    is_shell: bool = False  # paid through its parent: no payment details of its own
    # Moving in later: the account waits as a Lead and takes ``status_id`` on this date.
    starts_on: date | None = None


@dataclass(frozen=True)
class Occupant:
    account_id: int
    number: str
    name: str
    leaving_on: date | None  # the date of its pending disconnect, if one is scheduled


# -- reading -----------------------------------------------------------------------------------

def lookups(uow: UnitOfWork, actor: Actor) -> Lookups:
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        return Lookups(
            statuses=[Choice(s.id, s.name, s.colour, s.activates) for s in uow.accounts.statuses()],
            types=[Choice(t.id, t.name, t.colour) for t in uow.accounts.types()],
            companies=[Choice(c.id, c.name) for c in uow.companies.all()],
            groups=[Choice(g.id, g.name, g.colour) for g in uow.accounts.groups()],
        )


def count_accounts(uow: UnitOfWork, actor: Actor, query: AccountQuery) -> int:
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        return uow.accounts.count(query)


def list_accounts(
    uow: UnitOfWork, actor: Actor, query: AccountQuery, offset: int, limit: int, total: int | None = None
) -> list[AccountRow]:
    """One page of the list. ``total``, the query's count when known, helps plan searches."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        return uow.accounts.page(query, offset, limit, total)


def first_page(
    uow: UnitOfWork, actor: Actor, query: AccountQuery, limit: int
) -> tuple[int, list[AccountRow]]:
    """The count and the first page in one transaction (what a new search needs)."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        return uow.accounts.first_page(query, limit)


def get_account(uow: UnitOfWork, actor: Actor, account_id: int) -> AccountDetail:
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        return _detail(uow, account)


# -- writing -----------------------------------------------------------------------------------

def create_account(uow: UnitOfWork, actor: Actor, new: NewAccount, today: date | None = None) -> AccountDetail:
    """Open an account, usually on a vacant unit. A future ``starts_on`` keeps it as a Lead and
    schedules its status for that day; a unit still occupied is refused unless its occupant is
    scheduled to leave by then."""
    actor.require(Permission.ACCOUNTS_EDIT)
    name = _clean_name(new.name)
    contacts = _clean_contacts(new.contacts)
    with uow:
        status = uow.accounts.status(new.status_id)
        if status is None:
            raise ValidationError("Choose a status.", "status")
        if uow.accounts.account_type(new.type_id) is None:
            raise ValidationError("Choose an account type.", "type")
        company = uow.companies.get(new.company_id) if new.company_id else uow.companies.default()
        if company is None:
            raise ValidationError("Choose a company.", "company")
        today = today or date.today()
        starts_on = new.starts_on if new.starts_on and new.starts_on > today else None
        address = None
        if new.address_id is not None:
            address = uow.session.get(ServiceableAddress, new.address_id)
            if address is None:
                raise ValidationError("That address no longer exists.", "address")
            if address.serviceable_from and address.serviceable_from > (starts_on or today):
                raise ValidationError(
                    f"{address.one_line()} is serviceable from {address.serviceable_from.isoformat()}; "
                    "start the account on or after that date.", "address")
            if address.unit:
                # Lock the unit (FOR UPDATE on Postgres) so two desktops cannot both seat a tenant.
                uow.addresses.lock(address.id)
                _check_vacant(uow, address, starts_on or today)
        parent = None
        if new.parent_id is not None:
            parent = uow.accounts.get(new.parent_id)
            if parent is None:
                raise ValidationError("The parent account no longer exists.", "parent")
            if parent.is_shell:
                raise ValidationError(f"{parent.number} {parent.name} is itself a shell account; "
                                      "choose the account that pays.", "parent")
        if new.is_shell and parent is None:
            raise ValidationError("A shell account is paid through its parent: choose the parent account.",
                                  "parent")
        number = _account_number(uow, new.number)
        if starts_on is not None:
            lead = next((s for s in uow.accounts.statuses() if not s.activates and s.name.lower() == "lead"), None)
            first_status = lead or next((s for s in uow.accounts.statuses() if not s.activates), status)
        else:
            first_status = status
        account = Account(
            number=number, name=name, status=first_status, account_type_id=new.type_id,
            company_id=company.id, address=address, parent_id=parent.id if parent else None,
            is_shell=new.is_shell, updated_by_id=actor.user_id,
        )
        account.contacts = [_contact(c) for c in contacts]
        account.search_text = build_search_text(account)
        uow.accounts.add(account)
        uow.flush()
        audit.record(uow.session, actor, "account", account.id, "create", None, _snapshot(account))
        if starts_on is not None and first_status.id != status.id:
            from app.scheduling.handlers import CHANGE_STATUS

            event = ScheduledEvent(
                account_id=account.id, kind=CHANGE_STATUS, due_on=starts_on, payload={"status_id": status.id},
                description=f"Move in — status → {status.name}", created_by_id=actor.user_id,
                created_by_name=(uow.staff.display_name(actor.user_id) or actor.username)[:120],
                updated_by_id=actor.user_id)
            uow.session.add(event)
            uow.flush()
            audit.record(uow.session, actor, "account", account.id, "schedule event", None,
                         {"event": event.id, "kind": CHANGE_STATUS, "due_on": starts_on,
                          "description": event.description})
        uow.commit()
        return _detail(uow, account)


def occupant(uow: UnitOfWork, actor: Actor, address_id: int) -> Occupant | None:
    """Who occupies a unit now, and when they leave if a disconnect is scheduled."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        current = uow.addresses.occupants(address_id)
        if not current:
            return None
        a = current[0]
        return Occupant(a.id, a.number, a.name, _leaving_on(uow, a.id))


def leaving_on(uow: UnitOfWork, actor: Actor, account_id: int) -> date | None:
    """The date of the account's scheduled disconnection (its move-out), if one is pending."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        return _leaving_on(uow, account_id)


def find_by_number(uow: UnitOfWork, actor: Actor, number: str) -> Occupant | None:
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        a = uow.accounts.by_number(number.strip())
        return Occupant(a.id, a.number, a.name, None) if a else None


def parent_suggestion(uow: UnitOfWork, actor: Actor, address_id: int) -> Occupant | None:
    """The account at a unit's building (the owner or condo board), the usual parent for a shell
    account there."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        unit = uow.addresses.get(address_id)
        if unit is None or unit.parent_id is None:
            return None
        owners = [a for a in uow.addresses.occupants(unit.parent_id) if not a.is_shell]
        return Occupant(owners[0].id, owners[0].number, owners[0].name, None) if owners else None


def _leaving_on(uow: UnitOfWork, account_id: int) -> date | None:
    from app.scheduling.handlers import DISCONNECT

    pending = uow.scheduling.pending_of_kind(account_id, DISCONNECT)
    return pending[0].due_on if pending else None


def _check_vacant(uow: UnitOfWork, address: ServiceableAddress, on: date) -> None:
    """A unit has one occupant. The next tenant may be set up before the move-out only when the
    current one is scheduled to be disconnected on or before the move-in date."""
    for other in uow.addresses.occupants(address.id):
        leaving = _leaving_on(uow, other.id)
        if leaving is None:
            raise ValidationError(
                f"Unit {address.unit} is occupied by {other.number} {other.name}. "
                "Move them out first (Move out…), or pick a vacant unit.", "address")
        if leaving > on:
            raise ValidationError(
                f"Unit {address.unit} is occupied by {other.number} {other.name} until {leaving.isoformat()}; "
                f"move in on or after that date.", "starts_on")


def update_account(
    uow: UnitOfWork, actor: Actor, account_id: int, expected_version: int, changes: AccountChanges
) -> AccountDetail:
    """Save the simple account form. A stale ``expected_version`` raises ConflictError naming who
    saved in between; nothing is written in that case."""
    actor.require(Permission.ACCOUNTS_EDIT)
    name = _clean_name(changes.name)
    contacts = _clean_contacts(changes.contacts)
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        if account.version != expected_version:
            raise ConflictError("account", uow.staff.display_name(account.updated_by_id), account.updated_at)
        status = uow.accounts.status(changes.status_id)
        if status is None:
            raise ValidationError("Choose a status.", "status")
        if status.activates and account.disconnected_on is not None and status.id != account.status_id:
            raise ValidationError(
                f"This account was disconnected on {account.disconnected_on.isoformat()}; a billed status such as "
                f"{status.name} needs an account with service — set up a new account on the unit.", "status")
        before = _snapshot(account)
        account.name = name
        account.status = status
        _apply_contacts(account, contacts)
        account.search_text = build_search_text(account)
        # Touch the row even when only contacts changed, so its version moves on.
        account.updated_at = utcnow()
        account.updated_by_id = actor.user_id
        old, new = audit.changed_only(before, _snapshot(account))
        if old or new:
            audit.record(uow.session, actor, "account", account.id, "update", old, new)
        uow.commit()
        return _detail(uow, account)


# -- helpers -----------------------------------------------------------------------------------

def build_search_text(account: Account, address: ServiceableAddress | None = None) -> str:
    """Everything search-as-you-type matches, lower-cased, in one string."""
    address = address or account.address
    parts = [account.number, account.name]
    if address is not None:
        parts += [address.building, address.street, address.unit, address.city, address.postal_code]
    return compose_search_text(parts, [(c.name, c.email, c.phone, c.mobile) for c in account.contacts])


def compose_search_text(parts: list[str], contacts: list[tuple[str, str, str, str]]) -> str:
    """The search text from plain values: ``parts`` (number, name, address fields) and each
    contact's (name, e-mail, phone, mobile); phones also as digits only."""
    words = list(parts)
    for name, email, phone, mobile in contacts:
        words += [name, email]
        for number in (phone, mobile):
            if number:
                words += [number, re.sub(r"\D", "", number)]
    return " ".join(w for w in words if w).lower()


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("The account needs a name.", "name")
    if len(name) > 200:
        raise ValidationError("An account name has at most 200 characters.", "name")
    return name


def _clean_contacts(contacts: list[ContactInput]) -> list[ContactInput]:
    cleaned = []
    for i, c in enumerate(contacts):
        name = " ".join(c.name.split())
        email, phone, mobile = c.email.strip(), c.phone.strip(), c.mobile.strip()
        if not name:
            raise ValidationError(f"Contact {i + 1} needs a name.", f"contacts[{i}].name")
        if email and not EMAIL_RE.match(email):
            raise ValidationError(f"'{email}' is not an e-mail address.", f"contacts[{i}].email")
        for label, value, key in (("phone", phone, "phone"), ("mobile", mobile, "mobile")):
            if value and not PHONE_RE.match(value):
                raise ValidationError(f"'{value}' is not a {label} number.", f"contacts[{i}].{key}")
        cleaned.append(ContactInput(name, email, phone, mobile, c.is_primary, c.is_financial, c.id,
                                    c.notify_billing, c.notify_outages, c.notify_jobs, c.notify_general))
    primaries = [c for c in cleaned if c.is_primary]
    if cleaned and len(primaries) != 1:
        raise ValidationError(
            "Mark exactly one contact as primary." if primaries else "Mark one contact as primary.",
            "contacts",
        )
    return cleaned


def _contact(c: ContactInput) -> Contact:
    return Contact(name=c.name, email=c.email, phone=c.phone, mobile=c.mobile,
                   is_primary=c.is_primary, is_financial=c.is_financial,
                   notify_billing=c.notify_billing, notify_outages=c.notify_outages,
                   notify_jobs=c.notify_jobs, notify_general=c.notify_general)


def _apply_contacts(account: Account, contacts: list[ContactInput]) -> None:
    existing = {c.id: c for c in account.contacts}
    keep: list[Contact] = []
    for c in contacts:
        row = existing.get(c.id) if c.id is not None else None
        if row is None:
            if c.id is not None:
                raise ConflictError("account", None, None)  # that contact was removed meanwhile
            row = _contact(c)
        else:
            row.name, row.email, row.phone, row.mobile = c.name, c.email, c.phone, c.mobile
            row.is_primary, row.is_financial = c.is_primary, c.is_financial
            row.notify_billing, row.notify_outages = c.notify_billing, c.notify_outages
            row.notify_jobs, row.notify_general = c.notify_jobs, c.notify_general
        keep.append(row)
    account.contacts = keep


def _account_number(uow: UnitOfWork, given: str | None) -> str:
    if given is not None and given.strip():
        number = given.strip()
        if not NUMBER_RE.match(number):
            raise ValidationError(
                "An account number is up to 30 letters, digits or dashes, starting with a letter or digit.",
                "number",
            )
        taken = uow.accounts.by_number(number)
        if taken is not None:
            raise ValidationError(f"Account number {number} is already used by {taken.name}.", "number")
        return number
    while True:
        candidate = str(take_next(uow.session, ACCOUNT_NUMBER_COUNTER, FIRST_ACCOUNT_NUMBER))
        if uow.accounts.by_number(candidate) is None:
            return candidate


def _snapshot(account: Account) -> dict:
    return {
        "number": account.number,
        "name": account.name,
        "status": account.status.name if account.status else account.status_id,
        "contacts": [
            {"name": c.name, "email": c.email, "phone": c.phone, "mobile": c.mobile,
             "primary": c.is_primary, "financial": c.is_financial,
             "notices": [k for k in ("billing", "outages", "jobs", "general") if getattr(c, f"notify_{k}")]}
            for c in account.contacts
        ],
        "shell": account.is_shell,
    }


def _detail(uow: UnitOfWork, account: Account) -> AccountDetail:
    return AccountDetail(
        id=account.id, version=account.version, number=account.number, name=account.name,
        status_id=account.status_id, status=account.status.name,
        type_id=account.account_type_id, account_type=account.account_type.name,
        company_id=account.company_id, company=account.company.name,
        address=account.address.one_line() if account.address else "",
        contacts=[ContactInput(c.name, c.email, c.phone, c.mobile, c.is_primary, c.is_financial, c.id,
                               c.notify_billing, c.notify_outages, c.notify_jobs, c.notify_general)
                  for c in account.contacts],
        updated_at=account.updated_at.isoformat(),
        updated_by=uow.staff.display_name(account.updated_by_id),
        status_colour=account.status.colour, activates=account.status.activates,
        address_id=account.address_id,
        building_id=(account.address.parent_id or account.address.id) if account.address else None,
        is_shell=account.is_shell, parent_id=account.parent_id,
        parent=f"{account.parent.number} {account.parent.name}" if account.parent else "",
        children=uow.accounts.count_children(account.id),
        disconnected_on=account.disconnected_on, disconnect_reason=account.disconnect_reason,
        groups=[g.name for g in account.groups],
    )
