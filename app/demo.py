"""Realistic, deterministic demo data: buildings with floors and units, tenants with contacts,
and the equipment an ISP keeps: a catalogue, a warehouse, vans, closets, and what is installed.

Same ``seed`` and size → the same database, so screenshots, benchmarks and bug reports agree.
Rows go in with bulk INSERT … RETURNING in chunks, so 100,000 accounts take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from app.accounts.models import Account, AccountStatus, AccountType, Contact
from app.accounts.service import compose_search_text
from app.addresses.models import ServiceableAddress
from app.addresses.normalise import address_search_text, match_key
from app.billing import rating
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
    invoices: int = 0
    payments: int = 0
    late_fees: int = 0
    delinquent: int = 0  # accounts delinquent today (either stage)


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


# -- billing -------------------------------------------------------------------------------------

# Region → the zone tax of the demo (names and rates are the demo's, not tax advice).
ZONE_TAX_RATE = {"CA": "8", "US": "7"}
PAY_METHODS = [("card", 40), ("bank", 30), ("check", 18), ("cash", 12)]
TIERS = [("Internet 100", 30), ("Internet 500", 45), ("Internet 1000", 25)]
BULK_RATE = 3500  # a bulk-contract unit's Internet 100, in minor units
BULK_REASON = "Bulk contract rate (condominium agreement)"
FAST_PAYMENTS = True  # see ``_demo_payments``


@dataclass(frozen=True)
class _Shop:
    """The demo catalogue's ids."""

    company_id: int
    currency: str
    tiers: dict[str, int]  # name → service id
    tv_package: int
    router: int
    installation: int
    welcome: int
    building: int
    loyalty: int
    delinquent_status: int
    suspended_status: int


@dataclass
class _Payer:
    """How one self-billed account pays: ``kind`` normal | late | partial | over | stops |
    stops_recently (see ``_demo_history``); ``stops_from``: the first bill date whose invoice
    it does not pay."""

    method: str
    kind: str = "normal"
    stops_from: date | None = None
    arrangement_until: date | None = None  # delinquency excluded until this day (then lifted)


@dataclass(frozen=True)
class _BillingSummary:
    invoices: int
    payments: int
    late_fees: int
    delinquent: int


def _demo_catalogue(factory: Callable[[], UnitOfWork], actor: Actor) -> _Shop:
    """The catalogue, taxes, usage policy and billing settings, through the catalogue services."""
    from app.accounts.lookups import LookupKind, add_lookup, list_lookups
    from app.billing import catalogue as cat
    from app.billing import models as bm

    with factory() as uow:
        company = uow.companies.default()
        company_id, currency, name = company.id, (company.currency or "USD").upper(), company.name
        place = " ".join(p for p in (company.city, company.region, company.postal_code) if p)
        remit_to = "\n".join(p for p in (company.name, company.street, place) if p)
        # The zone tax follows the region most demo buildings are in (ties: the most accounts).
        counts = uow.session.execute(
            select(ServiceableAddress.country, ServiceableAddress.region,
                   func.count(func.distinct(ServiceableAddress.parent_id)), func.count(Account.id))
            .join(Account, Account.address_id == ServiceableAddress.id)
            .group_by(ServiceableAddress.country, ServiceableAddress.region)).all()
    country, region = ("CA", "ON")
    if counts:
        country, region = max(counts, key=lambda r: (r[2], r[3], r[1]))[:2]
    statuses = {r.name.lower(): r.id for r in list_lookups(factory(), actor, LookupKind.STATUS)}
    if "delinquent" not in statuses:
        statuses["delinquent"] = add_lookup(factory(), actor, LookupKind.STATUS, "Delinquent", "#ef6c00",
                                            activates=True).id
    if "suspended" not in statuses:
        statuses["suspended"] = add_lookup(factory(), actor, LookupKind.STATUS, "Suspended", "#c62828",
                                           activates=False).id
    cat.save_settings(factory(), actor, cat.SettingsInput(
        company_id=company_id, bill_day_mode="fixed", bill_day=1, due_days=14, grace_days=7, status_switch_days=14,
        switch_status_id=statuses["suspended"], delinquent_status_id=statuses["delinquent"],
        minimum_delinquent_balance=500, late_fee_kind=cat.PERCENT, late_fee_amount=5000, late_fee_minimum=500,
        late_fee_days=5, printed_invoice_fee=200, currency=currency,
        invoice_message=f"Thank you for choosing {name}. Pay online, by phone or at the office.",
        remit_to=remit_to, check_weekdays="12345"))
    for month, day, name in ((12, 25, "Christmas Day"), (1, 1, "New Year's Day")):
        cat.add_exclusion(factory(), actor, company_id, month, day, None, name)
    gst = cat.save_tax(factory(), actor, cat.TaxInput("GST", rate_text="5", company_id=company_id, gl_code="2310"))
    kind = "provincial" if country == "CA" else "state"
    zone = cat.save_tax(factory(), actor, cat.TaxInput(
        f"{region} {kind} tax", rate_text=ZONE_TAX_RATE.get(country, "7"), country=country, region=region,
        company_id=company_id, gl_code="2320"))
    taxes = [gst.id, zone.id]
    policy = cat.save_usage_policy(factory(), actor, cat.UsagePolicyInput(
        "500 GB plan", allowance_text="500", rollover_months=2, overage_block_text="10", overage_price=200,
        free_periods=[cat.FreePeriodRow(None, "00:00", "06:00")], company_id=company_id))

    def service(name: str, kind: str, price: int, **extra: object) -> int:
        return cat.save_service(factory(), actor, cat.ServiceInput(
            name, kind=kind, price=price, tax_ids=taxes, company_id=company_id, **extra)).id  # type: ignore[arg-type]

    tiers = {
        "Internet 100": service("Internet 100", bm.DATA, 5500, download_kbps=100_000, upload_kbps=20_000,
                                gl_code="4100"),
        "Internet 500": service("Internet 500", bm.DATA, 7500, download_kbps=500_000, upload_kbps=100_000,
                                usage_policy_id=policy.id, gl_code="4100"),
        "Internet 1000": service("Internet 1000", bm.DATA, 9500, download_kbps=1_000_000, upload_kbps=500_000,
                                 gl_code="4100"),
    }
    tv = service("TV Basic", bm.GENERAL, 2500, gl_code="4200")
    box = service("Set-top box rental", bm.GENERAL, 700, gl_code="4300")
    router = service("Wi-Fi router rental", bm.GENERAL, 500, gl_code="4300")
    installation = service("Installation", bm.ONE_TIME, 9900, gl_code="4400")
    welcome = service("Welcome credit", bm.CREDIT_EXPIRING, 1000, expires_after_cycles=6, gl_code="4900")
    building = service("Building network management", bm.GENERAL, 15000, gl_code="4500")
    package = cat.save_package(factory(), actor, cat.PackageInput(
        "TV Basic bundle", company_id=company_id, roll_up=True, items=[(tv, 1), (box, 1)]))
    loyalty = cat.save_discount(factory(), actor, cat.DiscountInput(
        "Loyalty 10 %", kind=cat.PERCENT, amount=10_000, service_id=tiers["Internet 1000"], recurrence=bm.RECURRING,
        company_id=company_id))
    return _Shop(company_id, currency, tiers, package.id, router, installation, welcome, building, loyalty.id,
                 statuses["delinquent"], statuses["suspended"])


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _demo_subscriptions(factory: Callable[[], UnitOfWork], actor: Actor, rng: random.Random, shop: _Shop,
                        first_bill: date, today: date,
                        ) -> tuple[dict[int, _Payer], list[tuple[int, date]], dict[int, date]]:
    """Sell the catalogue to the accounts, in one unit of work through the subscription rules
    (``subscriptions._add_service`` & co., the functions ``add_service`` wraps — one transaction
    instead of 5,000 keeps the demo fast; the per-line audit entries are left out, as the demo
    writes none per account). Returns how each self-billed account pays, and the accounts on
    the usage-billed tier with the day their service started, and the day each self-billed
    account's service started.

    Dates: ~70 % of the customers are long-standing (service from months or years before the
    first bill date of the demo, ``first_bill``); their lines are marked billed through the day
    before it — billed by the system used before Riser — so the first invoice is a plain month,
    not years of arrears. The others started during the last four months: their first invoice
    prorates the stub (the installation charge, and often the welcome credit, with it)."""
    from app.billing import subscriptions as subs
    from app.billing.models import AccountService

    with factory() as uow:
        s = uow.session
        statuses = {st.name: st.id for st in s.scalars(select(AccountStatus))}
        types = {t.id: t.name for t in s.scalars(select(AccountType))}
        # The generator's Delinquent and Suspended labels become billing's work: those accounts
        # start Active, and the ones that stop paying are made delinquent by the daily check.
        labels = dict(s.execute(select(Account.id, Account.status_id).where(
            Account.status_id.in_([statuses.get("Delinquent", -1), statuses.get("Suspended", -1)]))).all())
        if labels and "Active" in statuses:
            s.execute(Account.__table__.update().where(Account.id.in_(list(labels)))
                      .values(status_id=statuses["Active"]))
        label_name = {statuses.get("Delinquent"): "Delinquent", statuses.get("Suspended"): "Suspended"}
        served = {st.id for st in s.scalars(select(AccountStatus).where(AccountStatus.activates))}
        accounts = list(s.scalars(select(Account).where(Account.company_id == shop.company_id)
                                  .order_by(Account.id)))
        # The session's identity map holds objects weakly: keep the catalogue referenced, or each
        # ``_add_service`` loads its service again.
        catalogue = (uow.billing_catalogue.services(shop.company_id), uow.billing_catalogue.packages(),
                     uow.billing_catalogue.discounts(), uow.companies.default())
        children: dict[int, list[Account]] = {}
        for a in accounts:
            if a.parent_id is not None:
                children.setdefault(a.parent_id, []).append(a)
        parents = [a for a in accounts if a.id in children]
        bulk = {p.id for p in parents if rng.random() < 0.5}
        if parents and not bulk:
            bulk.add(parents[0].id)
        payers: dict[int, _Payer] = {}
        started: dict[int, date] = {}
        metered: list[tuple[int, date]] = []
        old_lines: list[int] = []
        recent_from = rating.add_months(first_bill, -1)
        recent_days = max(1, (today - recent_from).days - 2)

        def start_day() -> tuple[date, bool]:
            if rng.random() < 0.7:
                return first_bill - timedelta(days=rng.randint(40, 1500)), False
            day = recent_from + timedelta(days=rng.randrange(recent_days))
            return (day.replace(day=1) if rng.random() < 0.2 else day), True

        for parent in parents:
            if parent.id not in bulk or parent.status_id not in served:
                continue
            starts = first_bill - timedelta(days=rng.randint(200, 1500))  # bulk contracts are old
            line = subs._add_service(uow, parent, shop.building, 1, starts)
            old_lines.append(line.id)
            payers[parent.id], started[parent.id] = _Payer("bank"), starts
            for child in children[parent.id]:
                if child.status_id not in served:
                    continue
                profile = subs.billing_account(uow, child)
                profile.roll_up_to_parent = True
                line = subs._add_service(uow, child, shop.tiers["Internet 100"], 1, starts, BULK_RATE, BULK_REASON)
                old_lines.append(line.id)

        for a in accounts:
            if a.id in children or a.status_id not in served or a.id in payers:
                continue
            if a.parent_id in bulk or rng.random() > 0.9:
                continue  # a bulk unit (billed above), or a customer not set up yet
            commercial = types.get(a.account_type_id) == "Commercial"
            tier = "Internet 1000" if commercial and rng.random() < 0.6 else _weighted(rng, TIERS)
            starts, new = start_day()
            profile = subs.billing_account(uow, a)  # held: the next lines find it in the session
            line = subs._add_service(uow, a, shop.tiers[tier], 1, starts)
            lines = [line.id]
            if tier == "Internet 500":
                metered.append((a.id, starts))
            if not commercial and rng.random() < 0.25:
                package = subs._add_package(uow, a, shop.tv_package, 1, starts)
                lines += [ln.id for ln in uow.billing_catalogue.services_of_account_package(package.id)]
            if rng.random() < 0.4:
                lines.append(subs._add_service(uow, a, shop.router, 1, starts).id)
            if new:
                subs._add_service(uow, a, shop.installation, 1, starts)
                if rng.random() < 0.6:
                    subs._add_service(uow, a, shop.welcome, 1, starts)
            else:
                old_lines += lines
                if tier == "Internet 1000" and starts < first_bill - timedelta(days=365) and rng.random() < 0.6:
                    subs._add_discount(uow, a, shop.loyalty, line.id, None, starts)
            if rng.random() < 0.03:
                profile.paper_invoice = True
            label = label_name.get(labels.get(a.id))
            payer = _Payer(_weighted(rng, PAY_METHODS))
            if label == "Suspended":
                payer.kind = "stops"  # stopped paying at once: suspended by now
            elif label == "Delinquent" and rng.random() < 0.35:
                payer.kind = "stops_recently"
            else:
                roll = rng.random()
                payer.kind = "late" if roll < 0.05 else "partial" if roll < 0.065 else "over" if roll < 0.075 \
                    else "normal"
            payers[a.id], started[a.id] = payer, starts
        uow.flush()
        del catalogue
        # Long-standing lines were billed before Riser, up to the day before the first bill date.
        for start in range(0, len(old_lines), CHUNK):
            part = old_lines[start:start + CHUNK]
            s.execute(AccountService.__table__.update().where(AccountService.id.in_(part))
                      .values(billed_through=first_bill - timedelta(days=1)))
        uow.commit()
    return payers, metered, started


def _demo_usage(factory: Callable[[], UnitOfWork], rng: random.Random, metered: list[tuple[int, date]],
                since: date, today: date) -> int:
    """Usage of the accounts on the usage-billed tier, as a feed summarising RADIUS accounting
    might leave it: one record a day, on alternate days the last two nights (00:30–05:30, inside
    the policy's free period) and the last two evenings. Most households stay under the 500 GB
    allowance; about one in eight goes over (some of it at night, which is free)."""
    from app.billing.models import UsageRecord

    table = UsageRecord.__table__
    made = 0
    with factory() as uow:
        rows: list[dict] = []
        for account_id, starts in metered:
            monthly_gb = rng.uniform(520, 780) if rng.random() < 0.12 else rng.uniform(120, 470)
            night_share = rng.uniform(0.05, 0.3)
            day = max(since, starts)
            night = day.toordinal() % 2 == 0
            while day < today:
                mb = int(monthly_gb * 1000 / 15 * rng.uniform(0.6, 1.4) * (night_share if night else 1 - night_share))
                base = datetime(day.year, day.month, day.day, tzinfo=UTC)
                begin, end = (timedelta(minutes=30), timedelta(hours=5, minutes=30)) if night else \
                    (timedelta(hours=17, minutes=rng.randint(0, 59)), timedelta(hours=23, minutes=50))
                down = mb * 88 // 100
                rows.append({"account_id": account_id, "started_at": base + begin, "ended_at": base + end,
                             "download_mb": down, "upload_mb": mb - down, "source": "demo"})
                night = not night
                day += timedelta(days=1)
            if len(rows) >= CHUNK:
                uow.session.execute(table.insert(), rows)
                made, rows = made + len(rows), []
        if rows:
            uow.session.execute(table.insert(), rows)
            made += len(rows)
        uow.commit()
    return made


def _demo_history(factory: Callable[[], UnitOfWork], actor: Actor, rng: random.Random, shop: _Shop,
                  payers: dict[int, _Payer], starts: dict[int, date], bills: list[date],
                  today: date) -> _BillingSummary:
    """Live through the last months day by day, through the billing services: a bill run on
    each bill date (``bill_run.run``), the day's payments (``payments.take_batch``: one deposit,
    card settlement or bank-transfer batch a day), and the daily chores
    (``daily.run_daily``: late fees, then delinquency).

    The daily chores run on the days they have something to do — the late-fee day of each bill
    date, the first check day after its grace, the first check day after the status-switch days,
    the end of a payment arrangement, and today — not on all ninety: each step is idempotent and
    keyed to those dates, so the result is the one daily runs would give, in a tenth of the time.

    Who pays how (``_Payer``): most pay in full two to thirteen days after the invoice; some
    late (after the due date, some after the late fee, some after they became delinquent — then
    the payment restores them); a few pay half, a couple pay more (the rest stays as credit).
    The accounts the generator labelled Suspended stopped paying at the first bill date (so by
    now they are delinquent and switched); about a third of those labelled Delinquent stopped at
    the last bill date whose grace is over by today. When that delinquency would already have
    switched, the account had a payment arrangement (excluded from delinquency) that ended in the
    last few days: so the demo always shows both stages, whatever the day of the month."""
    from app.billing import bill_run, daily, delinquency
    from app.billing import subscriptions as subs
    from app.billing.models import Invoice

    with factory() as uow:
        rules = delinquency.load_rules(uow.delinquency, shop.company_id)
        due_days = uow.billing_catalogue.settings(shop.company_id).due_days

    def check_day(day: date) -> date:
        return rules.next_check_day(day) or day

    def overdue_on(bill: date) -> date:  # the first day an invoice of ``bill`` counts as past grace
        return check_day(bill + timedelta(days=due_days + rules.grace_days + 1))

    eligible = [b for b in bills if overdue_on(b) <= today]
    last_overdue = eligible[-1] if eligible else bills[0]
    recent = [aid for aid, p in sorted(payers.items()) if p.kind == "stops_recently" and starts[aid] < last_overdue]
    if not recent:  # the small demos too show a delinquent account
        normal = [aid for aid, p in sorted(payers.items()) if p.kind == "normal" and starts[aid] < bills[0]]
        if normal:
            chosen = normal[len(normal) // 2]
            payers[chosen].kind = "stops_recently"
    arrangements: dict[date, list[int]] = {}
    lifts: dict[date, list[int]] = {}
    chores = {today}
    for bill in bills:
        chores |= {bill + timedelta(days=due_days + rules.late_fee_days), overdue_on(bill)}
        chores.add(check_day(overdue_on(bill) + timedelta(days=rules.status_switch_days)))
    for aid, payer in sorted(payers.items()):
        if payer.kind == "stops":
            payer.stops_from = bills[0]
        elif payer.kind == "stops_recently":
            payer.stops_from = last_overdue
            natural = overdue_on(last_overdue)
            if check_day(natural + timedelta(days=rules.status_switch_days)) <= today:
                days = [d for d in (today - timedelta(days=n) for n in range(1, 7)) if rules.skip_reason(d) is None]
                lift = rng.choice(days) if days else natural
                payer.arrangement_until = lift
                arrangements.setdefault(last_overdue, []).append(aid)
                lifts.setdefault(lift, []).append(aid)
                chores.add(lift)

    def set_excluded(account_id: int, excluded: bool) -> None:
        p = subs.get_profile(factory(), actor, account_id)
        subs.save_profile(factory(), actor, account_id, subs.ProfileInput(
            p.bill_day, p.tax_exempt, p.exemption_certificate, p.paper_invoice, p.roll_up_to_parent, excluded))

    to_pay: dict[date, list[tuple[int, str]]] = {}
    invoices = payments_made = late_fees = 0
    day = bills[0]
    while day <= today:
        if day in bills:
            result = bill_run.run(factory, actor, day)
            invoices += result.invoices
            with factory() as uow:
                billed = uow.session.execute(select(Invoice.account_id).where(Invoice.bill_run_id == result.id)
                                             .order_by(Invoice.account_id)).scalars().all()
            for account_id in billed:
                payer = payers.get(account_id)
                if payer is None or (payer.stops_from is not None and day >= payer.stops_from):
                    continue
                late = payer.kind == "late"
                when = day + timedelta(days=rng.randint(16, 26) if late else rng.randint(2, 13))
                how = "half" if payer.kind == "partial" and rng.random() < 0.6 else \
                    "over" if payer.kind == "over" else "full"
                if when <= today:
                    to_pay.setdefault(when, []).append((account_id, how))
            for account_id in arrangements.get(day, []):
                set_excluded(account_id, True)
        for account_id in lifts.get(day, []):
            set_excluded(account_id, False)
        if day in to_pay:
            payments_made += _demo_payments(factory, actor, rng, payers, day, to_pay.pop(day))
        if day in chores:
            done = daily.run_daily(factory, actor, day)
            late_fees += done.late_fees.applied
        day += timedelta(days=1)
    with factory() as uow:
        delinquent = len(uow.delinquency.delinquent_account_ids())
    return _BillingSummary(invoices, payments_made, late_fees, delinquent)


def _demo_payments(factory: Callable[[], UnitOfWork], actor: Actor, rng: random.Random, payers: dict[int, _Payer],
                   day: date, due: list[tuple[int, str]]) -> int:
    """The day's payments, one batch per way they came in (a deposit of cash and checks, a card
    settlement, the bank transfers), in one transaction: what ``payments.take_batch`` does for
    one batch. Each pays what the account owes that day (late fees included), half of it, or
    more (``how``).

    **The fast path.** ``payments._take`` costs ~13 ms a payment (some 25 statements: the
    credit sources, the balance twice, the delinquency hook…), so three months of payments of
    2,000 accounts took 50 s. Most payments here are plain: an account that is not delinquent,
    with exactly one open invoice, no credit, paying exactly what it owes. For those, what
    ``_take`` does reduces to: the ``Payment`` row, its PAYMENT ledger entry, one allocation of
    the whole amount to that invoice (``ledger.allocate``, which marks it paid), and the audit
    entry — written here with the same values, in bulk. Every other payment goes through
    ``payments._take`` itself. ``tests/integration/test_billing_demo.py`` checks that the
    fast path leaves exactly what ``_take`` leaves (``FAST_PAYMENTS = False`` turns it off)."""
    from app.billing import ledger as ledger_rules
    from app.billing import payments
    from app.billing.models import (
        OPEN,
        PAYMENT,
        BillingAccount,
        Invoice,
        LedgerEntry,
        Payment,
        PaymentBatch,
    )

    wanted: dict[int, str] = {}
    for account_id, how in due:  # two invoices' payments on one day: one payment of what is owed
        wanted[account_id] = how if account_id not in wanted else "full"
    paid = 0
    with factory() as uow:
        s = uow.session
        ids = sorted(wanted)
        balances = uow.delinquency.balances(ids)
        open_invoices: dict[int, list[Invoice]] = {}
        delinquent: set[int] = set()
        for start in range(0, len(ids), CHUNK // 10):
            part = ids[start:start + CHUNK // 10]
            for invoice in s.scalars(select(Invoice).where(Invoice.account_id.in_(part), Invoice.status == OPEN,
                                                           Invoice.total > Invoice.paid)
                                     .order_by(Invoice.issued_on, Invoice.id)):
                open_invoices.setdefault(invoice.account_id, []).append(invoice)
            delinquent.update(s.scalars(select(BillingAccount.account_id).where(
                BillingAccount.account_id.in_(part), BillingAccount.delinquent_since.is_not(None))))
        groups: dict[str, list[payments.PaymentInput]] = {}
        for n, account_id in enumerate(ids, 1):
            owed, how = balances.get(account_id, 0), wanted[account_id]
            if owed <= 0:
                continue
            amount = max(100, owed // 200 * 100) if how == "half" else \
                (owed // 5000 + 1) * 5000 if how == "over" else owed
            method = payers[account_id].method
            reference = {"check": f"{rng.randint(100, 9999)}", "card": f"AUTH {rng.randrange(16 ** 6):06X}",
                         "bank": f"EFT {day:%Y%m%d}-{n:04d}"}.get(method, "")
            group = "Deposit" if method in ("cash", "check") else \
                "Card settlement" if method == "card" else "Bank transfers"
            groups.setdefault(group, []).append(payments.PaymentInput(account_id, method, amount, day, reference))
        for group, inputs in sorted(groups.items()):
            reference = f"{group} {day.isoformat()}"
            batch = PaymentBatch(deposited_on=day, reference=reference, created_by=actor.username)
            s.add(batch)
            s.flush()
            plain: list[tuple[payments.PaymentInput, tuple[str, str, str], Invoice]] = []
            for n, p in enumerate(inputs, 1):
                checked = payments._check_input(p)
                invoices = open_invoices.get(p.account_id, [])
                if FAST_PAYMENTS and p.account_id not in delinquent and len(invoices) == 1 \
                        and invoices[0].total - invoices[0].paid == p.amount == balances.get(p.account_id):
                    plain.append((p, checked, invoices[0]))
                    continue
                try:
                    payments._take(uow, actor, p, checked, batch.id)
                except ValidationError as exc:
                    raise payments.LineError(n, exc.message, exc.field) from None
            rows = [Payment(account_id=p.account_id, kind=PAYMENT, method=method, reference=ref, amount=p.amount,
                            received_on=p.received_on, batch_id=batch.id, note=note, created_by=actor.username)
                    for p, (method, ref, note), _invoice in plain]
            s.add_all(rows)
            s.flush()
            s.add_all([LedgerEntry(
                account_id=p.account_id, kind=PAYMENT, amount=-p.amount, posted_on=p.received_on,
                description=f"Payment by {payments.METHOD_LABELS[method].lower()}" + (f" {ref}" if ref else ""),
                payment_id=row.id, created_by=actor.username)
                for row, (p, (method, ref, _note), _invoice) in zip(rows, plain, strict=True)])
            for row, (p, (method, ref, _note), invoice) in zip(rows, plain, strict=True):
                ledger_rules.allocate(uow, invoice, p.amount, payment_id=row.id)
                audit.record(s, actor, "payment", row.id, "take", None, {
                    "account_id": p.account_id, "method": method, "amount": p.amount, "reference": ref,
                    "received_on": p.received_on, "invoice_id": None, "batch_id": batch.id})
            audit.record(s, actor, "payment_batch", batch.id, "take", None, {
                "deposited_on": day, "reference": reference, "count": len(inputs),
                "total": sum(p.amount for p in inputs)})
            paid += len(inputs)
        uow.commit()
    return paid


def _billing(factory: Callable[[], UnitOfWork], actor: Actor, seed: int, today: date) -> _BillingSummary:
    """The billing part of the demo (see ``_demo_subscriptions`` and ``_demo_history``): the
    last three bill dates — the 1st of this month and of the two before — are billed for real."""
    rng = random.Random(f"{seed}-billing")
    shop = _demo_catalogue(factory, actor)
    this_month = today.replace(day=1)
    bills = [rating.add_months(this_month, -2), rating.add_months(this_month, -1), this_month]
    payers, metered, starts = _demo_subscriptions(factory, actor, rng, shop, bills[0], today)
    _demo_usage(factory, rng, metered, rating.add_months(bills[0], -1), today)
    return _demo_history(factory, actor, rng, shop, payers, starts, bills, today)


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
    *,
    today: date | None = None,
    billing: bool = True,
) -> DemoSummary:
    """Fill an empty database with about ``accounts`` tenant accounts in realistic buildings,
    and (``billing``) a catalogue, services on most accounts and three months of billing history
    up to ``today`` (default: the real today; the same seed and day give the same data)."""
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
    billed = _BillingSummary(0, 0, 0, 0)
    if billing:
        db = uow.db
        billed = _billing(lambda: type(uow)(db), actor, seed, today or date.today())
        with uow:
            uow.session.execute(text("ANALYZE"))
            uow.commit()
    return DemoSummary(made_buildings, made_units, made_accounts, made_contacts, admin_created, made_items,
                       billed.invoices, billed.payments, billed.late_fees, billed.delinquent)
