"""Realistic, deterministic demo data: buildings with floors and units, tenants with contacts,
and the equipment an ISP keeps: a catalogue, a warehouse, vans, closets, and what is installed.

Same ``seed`` and size → the same database, so screenshots, benchmarks and bug reports agree.
Rows go in with bulk INSERT … RETURNING in chunks, so 100,000 accounts take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text

from app.accounts.models import Account, AccountStatus, AccountType, Contact
from app.accounts.service import compose_search_text
from app.addresses.models import ServiceableAddress
from app.addresses.normalise import address_search_text, match_key
from app.core import audit
from app.core.counters import Counter
from app.core.errors import ValidationError
from app.core.passwords import hash_password
from app.core.permissions import Actor, Permission
from app.reference import ACCOUNT_NUMBER_COUNTER, FIRST_ACCOUNT_NUMBER
from app.staff.models import Role, User
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
    items: int = 0  # serialized inventory items


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

    from app.accounts.models import (
        AccountGroup,
        AccountNote,
        CallLog,
        account_group_members,
    )
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


# -- inventory -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _DemoModel:
    """A catalogue model of the demo and how its identifiers are made up."""

    maker: str
    category: str
    name: str
    fields: tuple[tuple[str, str, str, bool, str], ...] = ()  # key, label, kind, required, pattern
    tracking: str = "serialized"
    unit: str = "each"
    min_stock: int | None = None
    oui: str = ""  # the MAC's first six hex digits
    serial: str = ""  # the serial number, from a counter n
    gpon: str = ""  # the GPON SN's vendor id
    tac: str = ""  # the IMEI's type allocation code (8 digits)


_MAC = ("mac", "MAC address", "mac", True, "")
_SERIAL = ("serial", "Serial number", "serial", True, "")
_GPON = ("gpon_sn", "GPON SN", "custom", False, "[A-Z]{4}[0-9A-F]{8}")
DEMO_MODELS: dict[str, _DemoModel] = {
    "express": _DemoModel("Ubiquiti", "Router", "UniFi Express", (_MAC, _SERIAL), min_stock=20, oui="245A4C",
                          serial="UX{n:08X}"),
    "archer": _DemoModel("TP-Link", "Router", "Archer AX55", (_MAC, _SERIAL), min_stock=25, oui="50C7BF",
                         serial="2237{n:09d}"),
    "lte": _DemoModel("Zyxel", "Router", "LTE3301-PLUS backup modem",
                      (("imei", "IMEI", "imei", True, ""), ("imsi", "IMSI", "imsi", False, "")), min_stock=3,
                      tac="35891011"),
    "nokia": _DemoModel("Nokia", "ONT", "G-010G-Q", (_MAC, _SERIAL, _GPON), min_stock=10, oui="E8F8D0",
                        serial="NK{n:010d}", gpon="ALCL"),
    "calix": _DemoModel("Calix", "ONT", "GigaPoint 803G", (_MAC, _SERIAL, _GPON), min_stock=10, oui="CCBE59",
                        serial="C803G{n:07d}", gpon="CXNK"),
    "switch": _DemoModel("Ubiquiti", "Switch", "USW Lite 16 PoE", (_MAC, _SERIAL), min_stock=2, oui="245A4C",
                         serial="USW{n:08X}"),
    "ap": _DemoModel("Ubiquiti", "Access point", "U6 Lite", (_MAC, _SERIAL), min_stock=5, oui="245A4C",
                     serial="U6L{n:08X}"),
    "key": _DemoModel("Kwikset", "Key", "SmartKey closet key", (("serial", "Key number", "serial", True, "K[0-9]{5}"),),
                      serial="K{n:05d}"),
    "cable": _DemoModel("Belden", "Cable", "Cat6 U/UTP 2412", tracking="quantity", unit="m", min_stock=500),
    "rj45": _DemoModel("Belden", "Connector", "RJ45 Cat6 plug", tracking="quantity", min_stock=200),
}
# key, name, kind, parent key
DEMO_LOCATIONS = [
    ("wh", "Main warehouse", "warehouse", None), ("a", "Shelf A", "shelf", "wh"), ("a1", "Bin 1", "bin", "a"),
    ("a2", "Bin 2", "bin", "a"), ("a3", "Bin 3", "bin", "a"), ("b", "Shelf B", "shelf", "wh"),
    ("b1", "Bin 1", "bin", "b"), ("b2", "Bin 2", "bin", "b"), ("returns", "Returns", "shelf", "wh"),
    ("van1", "Van 1", "van", None), ("van2", "Van 2", "van", None), ("closets", "Network closets", "other", None),
]
HOME_BIN = {"express": "a1", "archer": "a1", "nokia": "a2", "calix": "a2", "ap": "a3", "switch": "a3",
            "rj45": "a3", "key": "b1", "lte": "b2", "cable": "b"}
# What sits in stock besides what is installed: (model, location, how many). Archer AX55s, Calix
# ONTs and RJ45 plugs are below their minimum, so the warning shows.
DEMO_STOCK = [
    ("express", "a1", 30), ("archer", "a1", 12), ("lte", "b2", 5), ("nokia", "a2", 14), ("calix", "a2", 6),
    ("switch", "a3", 4), ("ap", "a3", 9), ("key", "b1", 16), ("express", "van1", 3), ("nokia", "van1", 2),
    ("archer", "van2", 2), ("calix", "van2", 1),
]
DEMO_QUANTITIES = [("cable", "b", 1200), ("cable", "van1", 150), ("cable", "van2", 120), ("rj45", "a3", 120),
                   ("rj45", "van1", 40)]


def _check_digit(body: str) -> str:
    """The Luhn digit that makes ``body`` + digit valid (an IMEI's last digit)."""
    from app.inventory.identifiers import luhn_valid

    return next(d for d in "0123456789" if luhn_valid(body + d))


class _Equipment:
    """Items being made for the demo, each with its identifiers and its movements, so every
    item's history starts with "Received into …" and ends where the item is."""

    def __init__(self, rng: random.Random, actor: Actor, models: dict[str, int], paths: dict[int, str],
                 first_tag: int = 1) -> None:
        from app.core.clock import utcnow

        self.rng, self.actor, self.models, self.paths, self.first_tag = rng, actor, models, paths, first_tag
        self.now = utcnow()
        self.items: list[dict] = []
        self.identifiers: list[list[dict]] = []
        self.movements: list[list[dict]] = []
        self.counters: dict[str, int] = {}
        self.mac = 0x1A2000  # the MACs' last six hex digits, one counter for every OUI

    def _identifiers(self, key: str) -> list[dict]:
        from app.inventory import identifiers as ids

        spec = DEMO_MODELS[key]
        n = self.counters[key] = self.counters.get(key, 0) + 1
        texts = {}
        for field_key, _label, kind, _required, _pattern in spec.fields:
            if kind == ids.MAC:
                self.mac += 1
                texts[field_key] = f"{spec.oui}{self.mac:06X}"
            elif kind == ids.SERIAL:
                texts[field_key] = spec.serial.format(n=n + 1000 if spec.serial.startswith("K") else n + 40000)
            elif kind == ids.IMEI:
                body = f"{spec.tac}{n:06d}"
                texts[field_key] = body + _check_digit(body)
            elif kind == ids.IMSI:
                texts[field_key] = f"302720{n:09d}"
            elif field_key == "gpon_sn":
                texts[field_key] = f"{spec.gpon}{0x1C4E0000 + n:08X}"
        rows = []
        for field_key, _label, kind, _required, pattern in spec.fields:
            value, lookup = ids.normalise(kind, texts[field_key], pattern=pattern)  # the services' own check
            rows.append(dict(model_id=self.models[key], key=field_key, kind=kind, value=value, lookup=lookup))
        return rows

    def receive(self, key: str, location_id: int, days_ago: int) -> int:
        """A new item received into a location ``days_ago``; returns its index."""
        at = self.now - timedelta(days=days_ago, minutes=self.rng.randint(0, 600))
        self.items.append(dict(model_id=self.models[key], tag=f"I-{self.first_tag + len(self.items):06d}", state="in_stock",
                               location_id=location_id, account_id=None, staff_id=None, notes="", version=1,
                               created_at=at, updated_at=at, updated_by_id=self.actor.user_id))
        self.identifiers.append(self._identifiers(key))
        self.movements.append([self._movement(key, at, ("none", None, ""), ("location", location_id,
                                                                             self.paths[location_id]),
                                              "", "in_stock", "received")])
        return len(self.items) - 1

    def _movement(self, key: str, at: datetime, source: tuple, target: tuple, state_from: str, state_to: str,
                  note: str = "") -> dict:
        return dict(at=at, user_id=self.actor.user_id, username=self.actor.username, model_id=self.models[key],
                    quantity=1, from_kind=source[0], from_id=source[1], from_label=source[2], to_kind=target[0],
                    to_id=target[1], to_label=target[2], state_from=state_from, state_to=state_to, note=note)

    def move(self, index: int, key: str, to: tuple[str, int | None, str], state: str, days_later: int,
             note: str = "") -> None:
        """Move item ``index`` to ``to`` (kind, id, label) a few days after its last movement."""
        item, last = self.items[index], self.movements[index][-1]
        at = min(last["at"] + timedelta(days=days_later, minutes=self.rng.randint(5, 300)),
                 self.now - timedelta(minutes=self.rng.randint(5, 600)))
        at = max(at, last["at"] + timedelta(minutes=1))
        source = (last["to_kind"], last["to_id"], last["to_label"])
        self.movements[index].append(self._movement(key, at, source, to, item["state"], state, note))
        item.update(state=state, location_id=to[1] if to[0] == "location" else None,
                    account_id=to[1] if to[0] == "account" else None,
                    staff_id=to[1] if to[0] == "staff" else None, updated_at=at)


def _inventory(s, rng: random.Random, actor: Actor, statuses: dict[str, int], types: dict[str, int]) -> int:  # noqa: ANN001
    """The inventory of a working ISP: a catalogue (routers, ONTs, switches, keys, cable…), a
    warehouse with shelves and bins, two vans and a network closet per building; equipment
    installed at most occupied units, stock (some below its minimum), a few faulty items, one
    back with the vendor and two with staff. Every item has its movements. Returns the item count."""
    from app.inventory.catalogue import LOCATION_CODE_COUNTER
    from app.inventory.models import (
        Category,
        Item,
        ItemIdentifier,
        ItemModel,
        Location,
        Manufacturer,
        ModelField,
        Movement,
        Stock,
    )
    from app.inventory.service import ITEM_TAG_COUNTER

    makers = {name: Manufacturer(name=name) for name in dict.fromkeys(m.maker for m in DEMO_MODELS.values())}
    categories = {name: Category(name=name) for name in dict.fromkeys(m.category for m in DEMO_MODELS.values())}
    s.add_all([*makers.values(), *categories.values()])
    s.flush()
    model_rows = {key: ItemModel(manufacturer_id=makers[m.maker].id, category_id=categories[m.category].id,
                                 name=m.name, tracking=m.tracking, unit=m.unit, min_stock=m.min_stock,
                                 updated_by_id=actor.user_id) for key, m in DEMO_MODELS.items()}
    s.add_all(model_rows.values())
    s.flush()
    models = {key: row.id for key, row in model_rows.items()}
    s.add_all([ModelField(model_id=models[key], key=f[0], label=f[1], kind=f[2], required=f[3], pattern=f[4],
                          position=position)
               for key, m in DEMO_MODELS.items() for position, f in enumerate(m.fields)])

    # Locations, parents first; codes L-000001… as save_location would give them.
    first_code = _counter(s, LOCATION_CODE_COUNTER) + 1
    places: dict[str, Location] = {}
    paths: dict[int, str] = {}
    for key, name, kind, parent in DEMO_LOCATIONS:
        loc = Location(name=name, kind=kind, parent_id=places[parent].id if parent else None,
                       code=f"L-{first_code + len(places):06d}", updated_by_id=actor.user_id)
        s.add(loc)
        s.flush()
        places[key] = loc
        paths[loc.id] = f"{paths[loc.parent_id]} › {name}" if parent else name
    buildings = s.execute(select(ServiceableAddress.id, ServiceableAddress.building, ServiceableAddress.street)
                          .where(ServiceableAddress.parent_id.is_(None)).order_by(ServiceableAddress.id)).all()
    closets = [Location(name=f"{building or street} closet", kind="closet", parent_id=places["closets"].id,
                        code=f"L-{first_code + len(places) + n:06d}", address_id=address_id, updated_by_id=actor.user_id)
               for n, (address_id, building, street) in enumerate(buildings)]
    s.add_all(closets)
    s.flush()
    for closet in closets:
        paths[closet.id] = f"{paths[places['closets'].id]} › {closet.name}"
    closet_of = {c.address_id: c.id for c in closets}
    loc = {key: place.id for key, place in places.items()}

    kit = _Equipment(rng, actor, models, paths, first_tag=_counter(s, ITEM_TAG_COUNTER) + 1)

    def at_location(key: str) -> tuple[str, int, str]:
        return ("location", loc[key], paths[loc[key]])

    # Installed at the units: a router at most occupied homes, an ONT where the building is on
    # fibre, an LTE backup at some businesses. Some went out through a van first.
    served = {statuses.get(n) for n in ("Active", "Delinquent", "Suspended")} - {None}
    homes = {types.get(n) for n in ("Residential", "Student")} - {None}
    fibre: dict[int, str | None] = {}
    installed: list[tuple[int, int, str, tuple]] = []  # (item index, account id, model, account holder)
    accounts = s.execute(
        select(Account.id, Account.number, Account.name, Account.status_id, Account.account_type_id,
               ServiceableAddress.street, ServiceableAddress.unit, ServiceableAddress.city,
               ServiceableAddress.parent_id)
        .join(ServiceableAddress, ServiceableAddress.id == Account.address_id).order_by(Account.id)
    ).all()

    def install(key: str, account: tuple) -> None:
        index = kit.receive(key, loc[HOME_BIN[key]], rng.randint(20, 700))
        if rng.random() < 0.2:
            kit.move(index, key, at_location(rng.choice(["van1", "van2"])), "in_stock", rng.randint(1, 10))
        kit.move(index, key, account, "installed", rng.randint(1, 14))
        installed.append((index, account[1], key, account))

    for account_id, number, name, status_id, type_id, street, unit, city, building_id in accounts:
        if status_id not in served:
            continue
        holder = ("account", account_id, f"{number} {name} — {street}{f' #{unit}' if unit else ''}, {city}")
        if building_id not in fibre:
            fibre[building_id] = rng.choice(["nokia", "calix"]) if rng.random() < 0.5 else None
        home = type_id in homes
        if rng.random() < (0.85 if home else 0.6):
            install("express" if rng.random() < 0.6 else "archer", holder)
        if fibre[building_id] and rng.random() < 0.7:
            install(fibre[building_id], holder)
        if not home and rng.random() < 0.25:
            install("lte", holder)

    # Each closet has its switch; the warehouse, the vans and the keys rack have stock.
    for closet_id in closet_of.values():
        index = kit.receive("switch", loc["a3"], rng.randint(200, 900))
        kit.move(index, "switch", ("location", closet_id, paths[closet_id]), "in_stock", rng.randint(1, 20))
    for key, where, count in DEMO_STOCK:
        for _ in range(count):
            index = kit.receive(key, loc[HOME_BIN[key]], rng.randint(3, 300))
            if where != HOME_BIN[key]:
                kit.move(index, key, at_location(where), "in_stock", rng.randint(1, 5))
    # Routers that failed at a unit came back faulty (a new one went in); one went back to the vendor.
    for n, (_index, _account_id, key, holder) in enumerate(rng.sample(installed, min(4, len(installed)))):
        index = kit.receive(key, loc[HOME_BIN[key]], rng.randint(300, 700))
        kit.move(index, key, holder, "installed", rng.randint(1, 20))
        kit.move(index, key, at_location("returns"), "faulty", rng.randint(60, 200), "no power; replaced")
        if n == 0:
            kit.move(index, key, ("vendor", None, "the vendor"), "rma", rng.randint(2, 10), "RMA under warranty")
    # Two items out with staff.
    users = s.execute(select(User.id, User.full_name, User.username).order_by(User.id).limit(2)).all()
    for (user_id, full_name, username), key in zip(users * 2, ["express", "key"], strict=False):
        index = kit.receive(key, loc[HOME_BIN[key]], rng.randint(10, 200))
        kit.move(index, key, ("staff", user_id, full_name or username), "assigned", rng.randint(1, 5))

    # Bulk inserts, as plain executemany (Core, every column given, so rows are not split into
    # groups by which values are NULL): items, their ids back by tag, then what points at them.
    items = kit.items
    for start in range(0, len(items), CHUNK):
        s.execute(Item.__table__.insert(), items[start:start + CHUNK])
    by_tag = dict(s.execute(select(Item.tag, Item.id)).all())
    item_ids = [by_tag[row["tag"]] for row in items]
    identifiers = [dict(row, item_id=item_id) for item_id, rows in zip(item_ids, kit.identifiers, strict=True)
                   for row in rows]
    movements = [dict(row, item_id=item_id) for item_id, rows in zip(item_ids, kit.movements, strict=True)
                 for row in rows]
    for table, rows in ((ItemIdentifier, identifiers), (Movement, movements)):
        for start in range(0, len(rows), CHUNK):
            s.execute(table.__table__.insert(), rows[start:start + CHUNK])

    # Consumables: a quantity per location, each with its "received" movement.
    stock: dict[tuple[int, int], int] = {}
    quantity_moves = []
    for key, where, quantity in DEMO_QUANTITIES:
        stock[(models[key], loc[where])] = stock.get((models[key], loc[where]), 0) + quantity
        at = kit.now - timedelta(days=rng.randint(5, 90))
        quantity_moves.append(dict(kit._movement(key, at, ("none", None, ""), at_location(where), "", ""),  # noqa: SLF001
                                   quantity=quantity, item_id=None, note="received"))
    s.execute(Stock.__table__.insert(), [dict(model_id=m, location_id=lid, quantity=q) for (m, lid), q in stock.items()])
    s.execute(Movement.__table__.insert(), quantity_moves)

    for name, value in ((ITEM_TAG_COUNTER, kit.first_tag + len(items) - 1),
                        (LOCATION_CODE_COUNTER, first_code + len(places) + len(closets) - 1)):
        counter = s.get(Counter, name)
        if counter is None:
            s.add(Counter(name=name, value=value))
        else:
            counter.value = max(counter.value, value)
    s.flush()
    return len(items)


def _counter(s, name: str) -> int:  # noqa: ANN001
    """A named counter's value (0 when it was never taken): demo codes continue after it."""
    counter = s.get(Counter, name)
    return counter.value if counter is not None else 0


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
        made_items = _inventory(s, random.Random(f"{seed}-inventory"), actor, statuses, types)

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
    return DemoSummary(made_buildings, made_units, made_accounts, made_contacts, admin_created, made_items)
