"""Realistic, deterministic demo data: buildings with floors and units, tenants with contacts.

Same ``seed`` and size → the same database, so screenshots, benchmarks and bug reports agree.
Rows go in with bulk INSERT … RETURNING in chunks, so 100,000 accounts take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text

from app.accounts.models import Account, AccountStatus, AccountType, Contact
from app.accounts.service import compose_search_text
from app.addresses.models import ServiceableAddress
from app.addresses.normalise import address_search_text, match_key
from app.core import audit
from app.core.errors import ValidationError
from app.core.permissions import Actor, Permission
from app.reference import ACCOUNT_NUMBER_COUNTER, FIRST_ACCOUNT_NUMBER
from app.core.counters import Counter
from app.staff.models import Role, User
from app.core.passwords import hash_password
from app.uow import UnitOfWork

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "riser-demo"
DEMO_COMPANY = "Harbourview Networks"
CHUNK = 5000

FIRST = """Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Lucas Mia Mateo Isabella Levi Charlotte
Ethan Harper James Evelyn Aiden Abigail Leo Emily Jack Ella Logan Luna Owen Chloe Ben Nora Samuel Zoe Wei
Priya Arjun Fatima Omar Yuki Hiro Aisha Kwame Ines Diego Sofia Marco Chen Mei Ravi Anika Tomas Lena Ivan
Nadia Pierre Camille Jonas Freya Malik Zara Hana Kenji Rosa Andre Leila Hugo Elena Dmitri Sara Felix""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young
Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell
Carter Roberts Tremblay Gagnon Roy Cote Bouchard Gauthier Morin Lavoie Fortin Singh Patel Chen Wang Li
Kim Park Tanaka Sato Okafor Mensah Novak Kowalski Ivanova Rossi Russo Muller Schmidt Larsen Berg""".split()
BUILDING_NAMES = """The Marlowe|Cedar Court|Harbour Lofts|Maple Terrace|The Alder|Riverside Commons|Union Flats
|Birch House|The Foundry|Lakeview Tower|Parkside Residences|The Wexford|Elm Gardens|Granite Place|The Sterling
|Willow Crossing|Heritage Square|The Beacon|Quarry Lofts|Aspen Ridge|Station Yards|The Laurel|Orchard Mews
|Kingsway Suites|The Carlyle|Meadowbrook|Pier 9 Apartments|The Hudson|Ashgrove|Campus Pointe""".replace("\n", "").split("|")
STREETS = """King Street West|Queen Street East|Bloor Street|Main Street|Elm Avenue|Oak Street|Harbour Road
|College Street|University Avenue|Lakeshore Boulevard|Pine Street|Maple Drive|Spadina Avenue|Dundas Street
|Front Street|Wellington Street|Park Avenue|Washington Street|Lincoln Avenue|Broadway|Church Street
|Division Street|Water Street|Mill Road|Station Road|Market Street""".replace("\n", "").split("|")
# city, region, country, postal-code maker, area codes
CITIES = [
    ("Toronto", "ON", "CA", "M5V", ["416", "647"]),
    ("Ottawa", "ON", "CA", "K1P", ["613"]),
    ("Montreal", "QC", "CA", "H2X", ["514"]),
    ("Halifax", "NS", "CA", "B3J", ["902"]),
    ("Boston", "MA", "US", "021", ["617"]),
    ("Chicago", "IL", "US", "606", ["312", "773"]),
    ("Austin", "TX", "US", "787", ["512"]),
    ("Portland", "OR", "US", "972", ["503"]),
    ("Madison", "WI", "US", "537", ["608"]),
]
MAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net"]
LETTERS = "ABCEGHJKLMNPRSTVWXYZ"

STATUS_WEIGHTS = {"Active": 80, "Inactive": 8, "Delinquent": 6, "Suspended": 2, "Lead": 4}


@dataclass(frozen=True)
class DemoSummary:
    buildings: int
    units: int
    accounts: int
    contacts: int
    admin_created: bool


def _postal(rng: random.Random, country: str, prefix: str) -> str:
    if country == "CA":
        return f"{prefix} {rng.randint(0, 9)}{rng.choice(LETTERS)}{rng.randint(0, 9)}"
    return f"{prefix}{rng.randint(0, 99):02d}"


def _phone(rng: random.Random, area: str) -> str:
    return f"({area}) 555-{rng.randint(100, 199):04d}"


def _search_text(parts: list[str], contacts: list[dict]) -> str:
    return compose_search_text(parts, [(c["name"], c["email"], c["phone"], c["mobile"]) for c in contacts])


NOTES = [
    "Prefers e-mail; works nights, please do not call before noon.",
    "Router moved to the living room at the tenant's request.",
    "Asked about a faster plan for working from home.",
    "Buzzer code changed; the new one is with the concierge.",
    "Paid at the office in cash; receipt given.",
    "Reported slow Wi-Fi in the bedroom; suggested a mesh point.",
]
PINNED = [
    "Service dog in the unit: knock and wait before entering.",
    "Landlord pays for internet under the lease until the end of the term.",
    "Tenant is hard of hearing: text rather than call.",
]
GROUPS = [("Bulk contract", "#00897b"), ("Fibre pilot", "#8e24aa"), ("Priority support", "#f4511e")]


def _life(s, rng: random.Random, actor: Actor, statuses: dict[str, int]) -> None:  # noqa: ANN001
    """What a database in use has beyond accounts: groups, notes, call logs, a few tenants with a
    move-out scheduled, and a building whose top floors are not serviceable yet."""
    from datetime import date, timedelta

    from app.accounts.models import AccountGroup, AccountNote, CallLog, account_group_members
    from app.scheduling.models import ScheduledEvent

    today = date.today()
    group_ids = s.scalars(insert(AccountGroup).returning(AccountGroup.id, sort_by_parameter_order=True),
                          [dict(name=n, colour=c) for n, c in GROUPS]).all()
    rows = s.execute(select(Account.id, Account.parent_id, Account.status_id, Account.address_id)
                     .order_by(Account.id)).all()
    members, notes, calls, events = [], [], [], []
    inactive = statuses.get("Inactive")
    for account_id, parent_id, status_id, address_id in rows:
        if parent_id is not None:
            members.append(dict(account_id=account_id, group_id=group_ids[0]))
        roll = rng.random()
        if roll < 0.03:
            members.append(dict(account_id=account_id, group_id=group_ids[1]))
        elif roll < 0.04:
            members.append(dict(account_id=account_id, group_id=group_ids[2]))
        if rng.random() < 0.05:
            notes.append(dict(account_id=account_id, body=rng.choice(NOTES), pinned=False,
                              created_by_id=actor.user_id))
        if rng.random() < 0.01:
            notes.append(dict(account_id=account_id, body=rng.choice(PINNED), pinned=True,
                              created_by_id=actor.user_id))
        if rng.random() < 0.03:
            calls.append(dict(account_id=account_id, direction=rng.choice(["inbound", "outbound"]),
                              contact_name="", duration_seconds=rng.randint(40, 900),
                              summary=rng.choice(["Billing question answered.", "Booked a technician visit.",
                                                  "Wi-Fi password reset over the phone."]),
                              created_by_id=actor.user_id))
        if address_id is not None and status_id == statuses.get("Active") and inactive and rng.random() < 0.015:
            events.append(dict(account_id=account_id, kind="disconnect",
                               due_on=today + timedelta(days=rng.randint(3, 45)),
                               payload={"reason": "Moving out", "final_status_id": inactive},
                               description="Disconnect — Moving out; status → Inactive", created_by_id=actor.user_id,
                               created_by_name=actor.username))
    for table, batch in ((account_group_members, members), (AccountNote, notes), (CallLog, calls),
                         (ScheduledEvent, events)):
        if batch:
            s.execute(insert(table), batch)
    # The newest building: its top floors open in two months.
    newest = s.scalar(select(ServiceableAddress.id).where(ServiceableAddress.parent_id.is_(None))
                      .order_by(ServiceableAddress.id.desc()).limit(1))
    if newest is not None:
        top = s.scalar(select(func.max(ServiceableAddress.floor)).where(ServiceableAddress.parent_id == newest))
        occupied = select(Account.address_id).where(Account.address_id.is_not(None))
        if top and top > 2:
            s.execute(ServiceableAddress.__table__.update()
                      .where(ServiceableAddress.parent_id == newest, ServiceableAddress.floor >= top - 1,
                             ServiceableAddress.id.not_in(occupied))
                      .values(serviceable_from=today + timedelta(days=60)))


def generate(
    uow: UnitOfWork,
    actor: Actor,
    accounts: int,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an empty database with about ``accounts`` tenant accounts in realistic buildings."""
    actor.require(Permission.ACCOUNTS_EDIT)
    if accounts < 1 or accounts > 2_000_000:
        raise ValidationError("--accounts is a number from 1 to 2,000,000.", "accounts")
    rng = random.Random(seed)
    with uow:
        s = uow.session
        existing = s.scalar(select(func.count(Account.id))) or 0
        if existing:
            raise ValidationError(
                f"This database already has {existing:,} accounts; demo data goes into an empty one "
                "(pick another file with --database)."
            )
        statuses = {st.name: st.id for st in s.scalars(select(AccountStatus))}
        types = {t.name: t.id for t in s.scalars(select(AccountType))}
        status_names = [n for n in STATUS_WEIGHTS if n in statuses]
        weights = [STATUS_WEIGHTS[n] for n in status_names]
        company = uow.companies.default()
        if company.name == "My Company":
            company.name, company.street, company.city = DEMO_COMPANY, "200 Harbour Road, Suite 4", "Toronto"
            company.region, company.postal_code, company.country = "ON", "M5V 2T6", "CA"
            company.phone, company.email, company.website = "(416) 555-0100", "billing@example.com", "example.com"
            company.currency = "CAD"
        admin_created = False
        if uow.staff.count_users() == 0:
            role = s.scalars(select(Role).where(Role.name == "Administrator")).one()
            s.add(User(username=DEMO_ADMIN, username_key=DEMO_ADMIN, full_name="Demo Administrator",
                       password_hash=hash_password(DEMO_PASSWORD), role_id=role.id))
            admin_created = True
        s.flush()

        number = FIRST_ACCOUNT_NUMBER
        made_accounts = made_units = made_buildings = made_contacts = 0
        used_names: dict[tuple[str, str], int] = {}
        used_places: set[tuple[str, str]] = set()
        while made_accounts < accounts:
            made_buildings += 1
            city, region, country, prefix, areas = CITIES[rng.randrange(len(CITIES))]
            street_no = rng.randint(10, 980)
            street = f"{street_no} {rng.choice(STREETS)}"
            while (street, city) in used_places:  # one building per street address
                street_no += 2
                street = f"{street_no} {street.split(' ', 1)[1]}"
            used_places.add((street, city))
            base_name = rng.choice(BUILDING_NAMES)
            key = (base_name, city)
            used_names[key] = used_names.get(key, 0) + 1
            building = base_name if used_names[key] == 1 else f"{base_name} {used_names[key]}"
            postal = _postal(rng, country, prefix)
            floors = rng.randint(3, 18)
            per_floor = rng.randint(4, 14)
            student = "Campus" in building or rng.random() < 0.15
            bundled = rng.random() < 0.2  # condo board pays: units are shell accounts under the owner
            units = [(f, f"{f}{u:02d}") for f in range(1, floors + 1) for u in range(1, per_floor + 1)]
            place = dict(building=building, street=street, city=city, region=region, postal_code=postal,
                         country=country)
            anchor_id = s.scalars(insert(ServiceableAddress).returning(ServiceableAddress.id), [dict(
                place, unit="", match_key=match_key(country, street, city, ""),
                search_text=address_search_text(building, street, "", city, postal))]).one()
            addr_rows = [
                dict(place, unit=unit, floor=floor, parent_id=anchor_id,
                     match_key=match_key(country, street, city, unit),
                     search_text=address_search_text(building, street, unit, city, postal))
                for floor, unit in units
            ]
            ids = s.scalars(
                insert(ServiceableAddress).returning(ServiceableAddress.id, sort_by_parameter_order=True),
                addr_rows,
            ).all()
            made_units += len(ids)

            owner_id = None
            if bundled:
                owner_name = f"{building} Condominium Corp."
                treasurer = dict(name="Board Treasurer",
                                 email=f"treasurer@{building.lower().replace(' ', '')}.example.org",
                                 phone=_phone(rng, areas[0]), mobile="", is_primary=True, is_financial=True)
                owner = s.scalars(
                    insert(Account).returning(Account.id),
                    [dict(number=str(number), name=owner_name, account_type_id=types["Building owner"],
                          status_id=statuses["Active"], company_id=company.id,
                          search_text=_search_text([str(number), owner_name, street, city, postal], [treasurer]))],
                ).one()
                s.execute(insert(Contact), [dict(treasurer, account_id=owner)])
                owner_id, number, made_accounts, made_contacts = owner, number + 1, made_accounts + 1, made_contacts + 1

            acc_rows, contact_rows = [], []
            for (floor, unit), addr_id in zip(units, ids, strict=True):
                if made_accounts + len(acc_rows) >= accounts:
                    break
                if rng.random() > 0.9:  # vacant
                    continue
                first, last = rng.choice(FIRST), rng.choice(LAST)
                commercial = floor == 1 and rng.random() < 0.25
                name = f"{rng.choice(LAST)} {rng.choice(['Dental', 'Cafe', 'Studio', 'Books', 'Law'])}" if commercial else f"{first} {last}"
                acc_type = "Commercial" if commercial else ("Student" if student else "Residential")
                status = rng.choices(status_names, weights)[0]
                area = rng.choice(areas)
                email = f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@{rng.choice(MAIL_DOMAINS)}"
                phone = _phone(rng, area)
                mobile = _phone(rng, area) if rng.random() < 0.5 else ""
                contacts = [dict(name=name if not commercial else f"{first} {last}", email=email, phone=phone,
                                 mobile=mobile, is_primary=True, is_financial=not bundled)]
                if not bundled and rng.random() < 0.1:
                    landlord = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    contacts.append(dict(name=landlord, email=f"owner{rng.randint(1, 9999)}@example.org",
                                         phone=_phone(rng, area), mobile="", is_primary=False, is_financial=True))
                    contacts[0]["is_financial"] = False
                acc_rows.append(dict(number=str(number), name=name, account_type_id=types[acc_type],
                                     status_id=statuses[status], company_id=company.id, address_id=addr_id,
                                     parent_id=owner_id,
                                     search_text=_search_text([str(number), name, street, unit, city, postal,
                                                               building], contacts)))
                contact_rows.append(contacts)
                number += 1
            for start in range(0, len(acc_rows), CHUNK):
                chunk = acc_rows[start:start + CHUNK]
                acc_ids = s.scalars(insert(Account).returning(Account.id, sort_by_parameter_order=True), chunk).all()
                flat = [dict(c, account_id=aid) for aid, cs in zip(acc_ids, contact_rows[start:start + CHUNK], strict=True)
                        for c in cs]
                s.execute(insert(Contact), flat)
                made_contacts += len(flat)
            made_accounts += len(acc_rows)
            if progress:
                progress(min(made_accounts, accounts), accounts)

        _life(s, rng, actor, statuses)

        counter = s.get(Counter, ACCOUNT_NUMBER_COUNTER)
        if counter is not None:
            counter.value = max(counter.value, number - 1)
        audit.record(s, actor, "database", "demo", "generate demo data", None,
                     {"buildings": made_buildings, "units": made_units, "accounts": made_accounts, "seed": seed})
        uow.commit()
    # Fresh statistics, so both databases plan the list's queries well from the first search.
    with uow:
        uow.session.execute(text("ANALYZE"))
        uow.commit()
    return DemoSummary(made_buildings, made_units, made_accounts, made_contacts, admin_created)
