"""Items and stock: create, find by any code, move between holders, receive in batches.

Who may do what: reading needs ``inventory.view``; every change needs ``inventory.edit``.

- **Finding** (``find_code``): a scanned or typed code is turned into its lookup forms and
  matched, index-backed, against every item's tag and identifiers, and against location codes.
- **Moving** (``move_item``): one path for every change of holder or state. The item row is
  locked first (``FOR UPDATE`` on Postgres), so of two desktops assigning the same item the
  second waits, then sees who has it and is told so. Each move writes a ``Movement``.
- **Consumables**: quantities change by conditional UPDATEs that never take a quantity below
  zero (and a CHECK constraint backs them up).
- **Receiving** (``receive``): a batch of scanned items and quantities into one location,
  checked line by line and written in one transaction: a failure leaves the stock as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.clock import utcnow
from app.core.counters import take_next
from app.core.errors import ConflictError, NotFound, RiserError, ValidationError
from app.core.permissions import Actor, Permission
from app.inventory import identifiers as ids
from app.inventory.catalogue import (
    FieldSpec,
    LocationRow,
    location_paths,
    location_rows,
    location_subtree,
)
from app.inventory.models import (
    ASSIGNED,
    FAULTY,
    HOLDER_ACCOUNT,
    HOLDER_LOCATION,
    HOLDER_NONE,
    HOLDER_STAFF,
    HOLDER_VENDOR,
    IN_STOCK,
    INSTALLED,
    QUANTITY,
    RETIRED,
    RMA,
    SERIALIZED,
    STATE_LABELS,
    STATES,
    Item,
    ItemIdentifier,
    ItemModel,
    Movement,
)
from app.inventory.repository import InventoryRepository, ItemQuery
from app.uow import UnitOfWork

ITEM_TAG_COUNTER = "inventory_item_tag"
NOTE_MAX = 300


class ItemUnavailable(RiserError):
    """The item is not where the user thought: someone else has it, or it changed state."""

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder


# -- rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdentifierValue:
    key: str
    label: str
    kind: str
    value: str


@dataclass(frozen=True)
class ItemRow:
    id: int
    tag: str
    model_id: int
    model: str  # "Ubiquiti UniFi 6 Lite"
    state: str
    holder_kind: str  # location | account | staff | none
    holder_id: int | None
    holder: str  # "Main warehouse › Shelf A", "100123 Owen White — 12 Main St 4B", "Jo Tech"
    identifiers: tuple[IdentifierValue, ...]
    notes: str
    updated_at: datetime
    version: int

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    def identifier(self, kind_or_key: str) -> str:
        for ident in self.identifiers:
            if kind_or_key in (ident.key, ident.kind):
                return ident.value
        return ""

    @property
    def summary(self) -> str:
        """One line for lists and messages: tag, model and the first identifier."""
        first = self.identifiers[0] if self.identifiers else None
        extra = f" ({first.label} {first.value})" if first else ""
        return f"{self.tag} {self.model}{extra}"


@dataclass(frozen=True)
class MovementRow:
    id: int
    at: datetime
    who: str
    item_id: int | None
    item: str  # tag and model, or the model and quantity for consumables
    quantity: int
    from_kind: str
    from_label: str
    to_kind: str
    to_label: str
    state_from: str
    state_to: str
    note: str

    @property
    def description(self) -> str:
        """A sentence: "Installed at 100123 Owen White", "Moved to Van 2", "Marked faulty"."""
        verb = {
            (HOLDER_NONE, HOLDER_LOCATION): "Received into",
            (HOLDER_LOCATION, HOLDER_LOCATION): "Moved to",
            (HOLDER_STAFF, HOLDER_LOCATION): "Returned to",
            (HOLDER_ACCOUNT, HOLDER_LOCATION): "Returned from the unit to",
            (HOLDER_LOCATION, HOLDER_ACCOUNT): "Installed at",
            (HOLDER_STAFF, HOLDER_ACCOUNT): "Installed at",
            (HOLDER_LOCATION, HOLDER_STAFF): "Assigned to",
            (HOLDER_ACCOUNT, HOLDER_STAFF): "Picked up from the unit by",
            (HOLDER_LOCATION, HOLDER_VENDOR): "Sent back to the vendor",
            (HOLDER_VENDOR, HOLDER_LOCATION): "Back from the vendor into",
        }.get((self.from_kind, self.to_kind))
        if self.to_kind == HOLDER_NONE and self.state_to == RETIRED:
            text = "Retired"
        elif self.from_kind == self.to_kind and self.from_label == self.to_label and self.state_from != self.state_to:
            text = f"Marked {STATE_LABELS.get(self.state_to, self.state_to).lower()}"
        elif verb == "Sent back to the vendor":
            text = verb
        elif verb:
            text = f"{verb} {self.to_label}"
        else:
            text = f"{self.from_label or '—'} → {self.to_label or '—'}"
        if self.item_id is None:
            text = f"{self.quantity} × {text[0].lower()}{text[1:]}" if self.quantity else text
        return text


@dataclass(frozen=True)
class CodeMatch:
    """What a scanned code found: items, a location, or nothing (with guesses for a new item)."""

    code: str
    items: tuple[ItemRow, ...] = ()
    location: LocationRow | None = None
    guessed_kind: str = ids.SERIAL  # mac | imei | imsi | serial, for "create an item with it"

    @property
    def found(self) -> bool:
        return bool(self.items) or self.location is not None


@dataclass(frozen=True)
class ItemInput:
    model_id: int
    identifiers: dict[str, str] = field(default_factory=dict)  # field key → text as typed
    location_id: int | None = None  # where a new item is kept
    notes: str = ""


@dataclass(frozen=True)
class Destination:
    """Where ``move_item`` takes an item. Build with the class methods."""

    kind: str
    id: int | None = None
    state: str = IN_STOCK

    @classmethod
    def location(cls, location_id: int, *, faulty: bool = False) -> Destination:
        return cls(HOLDER_LOCATION, location_id, FAULTY if faulty else IN_STOCK)

    @classmethod
    def account(cls, account_id: int) -> Destination:
        return cls(HOLDER_ACCOUNT, account_id, INSTALLED)

    @classmethod
    def staff(cls, user_id: int) -> Destination:
        return cls(HOLDER_STAFF, user_id, ASSIGNED)

    @classmethod
    def vendor(cls) -> Destination:
        return cls(HOLDER_VENDOR, None, RMA)

    @classmethod
    def retired(cls) -> Destination:
        return cls(HOLDER_NONE, None, RETIRED)


@dataclass(frozen=True)
class StockRow:
    model_id: int
    model: str
    unit: str
    location_id: int
    location: str
    quantity: int
    min_stock: int | None
    model_total: int  # across every location

    @property
    def below_minimum(self) -> bool:
        return self.min_stock is not None and self.model_total < self.min_stock


@dataclass(frozen=True)
class ReceiveLine:
    """One line of a receive batch: a serialized item's identifiers, or a quantity."""

    model_id: int
    identifiers: dict[str, str] = field(default_factory=dict)
    quantity: int = 1


@dataclass(frozen=True)
class ReceiveResult:
    location: str
    items: tuple[ItemRow, ...]
    quantities: tuple[tuple[str, int, str], ...]  # (model, quantity, unit)


# -- building rows -------------------------------------------------------------------------------

class Labels:
    """Names for holders and models, looked up once per batch of rows."""

    def __init__(self, repo: InventoryRepository) -> None:
        self.repo = repo
        self._paths: dict[int, str] | None = None
        self._models: dict[int, tuple[ItemModel, str]] = {}
        self._fields: dict[int, dict[str, FieldSpec]] = {}

    @property
    def paths(self) -> dict[int, str]:
        if self._paths is None:
            self._paths = location_paths(self.repo)
        return self._paths

    def model(self, model_id: int) -> tuple[ItemModel, str]:
        if model_id not in self._models:
            model = self.repo.get_model(model_id)
            if model is None:
                raise NotFound("That model no longer exists.")
            maker = self.repo.get_manufacturer(model.manufacturer_id)
            self._models[model_id] = (model, f"{maker.name} {model.name}" if maker else model.name)
        return self._models[model_id]

    def fields(self, model_id: int) -> dict[str, FieldSpec]:
        if model_id not in self._fields:
            self._fields[model_id] = {
                f.key: FieldSpec(f.key, f.label, f.kind, f.required, f.pattern) for f in self.repo.fields([model_id])
            }
        return self._fields[model_id]

    def account(self, account) -> str:  # noqa: ANN001
        where = f" — {account.address.one_line()}" if account.address is not None else ""
        return f"{account.number} {account.name}{where}"

    def user(self, user) -> str:  # noqa: ANN001
        return user.full_name or user.username

    def holder(self, item: Item, accounts: dict, users: dict) -> tuple[str, int | None, str]:
        if item.account_id is not None:
            account = accounts.get(item.account_id) or self.repo.get_account(item.account_id)
            return HOLDER_ACCOUNT, item.account_id, self.account(account) if account else f"account #{item.account_id}"
        if item.staff_id is not None:
            user = users.get(item.staff_id) or self.repo.get_user(item.staff_id)
            return HOLDER_STAFF, item.staff_id, self.user(user) if user else f"user #{item.staff_id}"
        if item.location_id is not None:
            return HOLDER_LOCATION, item.location_id, self.paths.get(item.location_id, f"location #{item.location_id}")
        if item.state == RMA:
            return HOLDER_VENDOR, None, "the vendor"
        return HOLDER_NONE, None, ""

    def rows(self, items: Sequence[Item]) -> list[ItemRow]:
        repo = self.repo
        idents = repo.identifiers([i.id for i in items])
        accounts = repo.accounts(i.account_id for i in items)
        users = repo.users(i.staff_id for i in items)
        rows = []
        for item in items:
            _, model_name = self.model(item.model_id)
            fields = self.fields(item.model_id)
            order = {key: n for n, key in enumerate(fields)}
            values = sorted(idents.get(item.id, []), key=lambda x: order.get(x.key, 99))
            kind, holder_id, holder = self.holder(item, accounts, users)
            rows.append(ItemRow(
                id=item.id, tag=item.tag, model_id=item.model_id, model=model_name, state=item.state,
                holder_kind=kind, holder_id=holder_id, holder=holder,
                identifiers=tuple(
                    IdentifierValue(v.key, fields[v.key].label if v.key in fields else v.key, v.kind, v.value)
                    for v in values
                ),
                notes=item.notes, updated_at=item.updated_at, version=item.version,
            ))
        return rows


# -- reading -------------------------------------------------------------------------------------

def get_item(uow: UnitOfWork, actor: Actor, item_id: int) -> ItemRow:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        item = uow.inventory.get_item(item_id)
        if item is None:
            raise NotFound("That item no longer exists.")
        return Labels(uow.inventory).rows([item])[0]


def resolve_query(uow: UnitOfWork, query: ItemQuery, location_id: int | None) -> ItemQuery:
    """A filter on a location includes everything inside it."""
    if location_id is None:
        return query
    with uow:
        return replace(query, location_ids=location_subtree(uow.inventory, location_id))


def first_items_page(uow: UnitOfWork, actor: Actor, query: ItemQuery, limit: int) -> tuple[int, list[ItemRow]]:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        total = repo.count_items(query)
        rows = Labels(repo).rows(repo.items_by_ids(repo.item_ids(query, 0, limit))) if total else []
        return total, rows


def items_page(uow: UnitOfWork, actor: Actor, query: ItemQuery, offset: int, limit: int) -> list[ItemRow]:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        return Labels(repo).rows(repo.items_by_ids(repo.item_ids(query, offset, limit)))


def find_code(uow: UnitOfWork, actor: Actor, code: str) -> CodeMatch:
    """Look a scanned or typed code up across every identifier, item tags and location codes."""
    actor.require(Permission.INVENTORY_VIEW)
    code = (code or "").strip()
    if not code:
        raise ValidationError("Scan or type a code.")
    candidates = ids.lookup_candidates(code)
    with uow:
        repo = uow.inventory
        items = repo.items_by_ids(repo.items_matching(candidates))
        location = repo.location_by_code(code)
        location_row = _location_row(repo, location.id) if location is not None else None
        return CodeMatch(code, tuple(Labels(repo).rows(items)), location_row, ids.guess_kind(code))


def _location_row(repo: InventoryRepository, location_id: int) -> LocationRow | None:
    rows = location_rows(repo.locations(), repo.items_at_location_count())
    return next((r for r in rows if r.id == location_id), None)


def item_history(uow: UnitOfWork, actor: Actor, item_id: int) -> list[MovementRow]:
    """Every movement of the item, newest first."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        item = repo.get_item(item_id)
        if item is None:
            raise NotFound("That item no longer exists.")
        _, model = Labels(repo).model(item.model_id)
        return [_movement_row(m, f"{item.tag} {model}") for m in repo.movements_of_item(item_id)]


def account_movements(uow: UnitOfWork, actor: Actor, account_id: int) -> list[MovementRow]:
    """Equipment installed at or taken back from an account, newest first."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        movements = repo.movements_of_account(account_id)
        tags = {i.id: i.tag for i in repo.items_by_ids(sorted({m.item_id for m in movements if m.item_id}))}
        return [
            _movement_row(m, f"{tags.get(m.item_id, '')} {labels.model(m.model_id)[1]}".strip())
            for m in movements
        ]


def _movement_row(m: Movement, item: str) -> MovementRow:
    return MovementRow(m.id, m.at, m.username, m.item_id, item, m.quantity, m.from_kind, m.from_label, m.to_kind,
                       m.to_label, m.state_from, m.state_to, m.note)


def equipment_at(uow: UnitOfWork, actor: Actor, account_id: int) -> list[ItemRow]:
    """The items installed at the account's unit (what a move-out must bring back)."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        return Labels(repo).rows(repo.items_at_account(account_id))


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name: str
    username: str


def list_staff(uow: UnitOfWork, actor: Actor) -> list[StaffChoice]:
    """Active staff users equipment can be assigned to (a technician may see them without
    the right to manage users)."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        return [StaffChoice(u.id, u.full_name or u.username, u.username) for u in uow.inventory.active_users()]


def stock_levels(uow: UnitOfWork, actor: Actor, location_id: int | None = None) -> list[StockRow]:
    """Quantities of consumables per location (within ``location_id`` if given)."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        within = location_subtree(repo, location_id) if location_id is not None else None
        totals = repo.in_stock_counts()
        rows = []
        for s in repo.stock_levels(within):
            model, name = labels.model(s.model_id)
            rows.append(StockRow(s.model_id, name, model.unit, s.location_id, labels.paths.get(s.location_id, ""),
                                 s.quantity, model.min_stock, totals.get(s.model_id, 0)))
        return sorted(rows, key=lambda r: (r.model.lower(), r.location.lower()))


# -- creating and editing items ------------------------------------------------------------------

def clean_identifiers(
    repo: InventoryRepository, labels: Labels, model_id: int, given: dict[str, str], *,
    exclude_item: int | None = None, partial: bool = False,
) -> list[tuple[FieldSpec, str, str]]:
    """Check the identifiers against the model's fields; return (field, value, lookup) per value.
    ``partial``: an item still being scanned; a required field may be empty for now."""
    model, name = labels.model(model_id)
    if model.tracking != SERIALIZED:
        raise ValidationError(f"{name} is counted by quantity, not one by one.", "model_id")
    fields = labels.fields(model_id)
    unknown = [k for k, v in given.items() if k not in fields and (v or "").strip()]
    if unknown:
        raise ValidationError(f"{name} has no field “{unknown[0]}”.", unknown[0])
    cleaned = []
    for key, spec in fields.items():
        text = (given.get(key) or "").strip()
        if not text:
            if spec.required and not partial:
                raise ValidationError(f"{spec.label} is required for {name}.", key)
            continue
        try:
            value, lookup = ids.normalise(spec.kind, text, label=spec.label, pattern=spec.pattern)
        except ValidationError as exc:
            raise ValidationError(str(exc), key) from None
        owner = repo.identifier_owner(model_id, key, lookup, exclude_item)
        if owner is None and spec.kind == ids.MAC:
            owner = repo.mac_owner(lookup, exclude_item)
        if owner is not None:
            raise ValidationError(f"{spec.label} {value} is already on item {owner.tag}.", key)
        cleaned.append((spec, value, lookup))
    return cleaned


def _flush_identifiers(repo: InventoryRepository, cleaned: list[tuple[FieldSpec, str, str]]) -> None:
    """Write the identifiers now. The checks above read before writing; another desktop saving
    the same MAC or serial at the same moment is caught by the unique indexes, and told so."""
    try:
        repo.flush()
    except IntegrityError:
        shown = ", ".join(f"{spec.label} {value}" for spec, value, _ in cleaned) or "this item"
        raise ValidationError(
            f"{shown}: another desk saved an item with the same identifier a moment ago. Search for it first."
        ) from None


def _next_tag(repo: InventoryRepository) -> str:
    while True:
        tag = f"I-{take_next(repo.session, ITEM_TAG_COUNTER, 1):06d}"
        if repo.item_by_tag(tag) is None:
            return tag


def _usable_location(repo: InventoryRepository, location_id: int | None) -> None:
    location = repo.get_location(location_id) if location_id is not None else None
    if location is None:
        raise ValidationError("That location no longer exists.", "location_id")
    if not location.active:
        raise ValidationError(f"“{location.name}” is no longer in use.", "location_id")


def clean_note(note: str) -> str:
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise ValidationError(f"The note is longer than {NOTE_MAX} characters.", "note")
    return note


def add_new_item(
    repo: InventoryRepository, labels: Labels, actor: Actor, model_id: int, cleaned: list, location_id: int,
    notes: str = "", movement_note: str = "",
) -> Item:
    item = Item(model_id=model_id, tag=_next_tag(repo), state=IN_STOCK, location_id=location_id, notes=notes,
                updated_by_id=actor.user_id)
    repo.add(item)
    repo.flush()
    for spec, value, lookup in cleaned:
        repo.add(ItemIdentifier(item_id=item.id, model_id=model_id, key=spec.key, kind=spec.kind, value=value,
                                lookup=lookup))
    _flush_identifiers(repo, cleaned)
    repo.add(Movement(user_id=actor.user_id, username=actor.username, item_id=item.id, model_id=model_id, quantity=1,
                      from_kind=HOLDER_NONE, to_kind=HOLDER_LOCATION, to_id=location_id,
                      to_label=labels.paths.get(location_id, ""), state_from="", state_to=IN_STOCK,
                      note=movement_note))
    return item


def create_item(uow: UnitOfWork, actor: Actor, data: ItemInput) -> ItemRow:
    """A new serialized item in stock at ``data.location_id``."""
    actor.require(Permission.INVENTORY_EDIT)
    if data.location_id is None:
        raise ValidationError("Choose the location the item is kept at.", "location_id")
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        _usable_location(repo, data.location_id)
        cleaned = clean_identifiers(repo, labels, data.model_id, data.identifiers)
        item = add_new_item(repo, labels, actor, data.model_id, cleaned, data.location_id, data.notes.strip())
        repo.flush()
        audit.record(repo.session, actor, "inventory_item", item.id, "create", None,
                     {"tag": item.tag, **{spec.key: value for spec, value, _ in cleaned}})
        uow.commit()
        item_id = item.id
    return get_item(uow, actor, item_id)


def update_item(
    uow: UnitOfWork, actor: Actor, item_id: int, identifiers: dict[str, str], notes: str, expected_version: int | None = None
) -> ItemRow:
    """Correct an item's identifiers and notes (its holder changes only through ``move_item``)."""
    actor.require(Permission.INVENTORY_EDIT)
    with uow:
        repo = uow.inventory
        item = repo.lock_item(item_id)
        if item is None:
            raise NotFound("That item no longer exists.")
        if expected_version is not None and item.version != expected_version:
            raise ConflictError("item", None, item.updated_at)
        labels = Labels(repo)
        cleaned = clean_identifiers(repo, labels, item.model_id, identifiers, exclude_item=item.id)
        current = repo.identifiers([item.id])[item.id]
        before = {i.key: i.value for i in current} | {"notes": item.notes}
        for ident in current:
            repo.session.delete(ident)
        repo.flush()
        for spec, value, lookup in cleaned:
            repo.add(ItemIdentifier(item_id=item.id, model_id=item.model_id, key=spec.key, kind=spec.kind,
                                    value=value, lookup=lookup))
        item.notes = notes.strip()
        item.updated_by_id = actor.user_id
        after = {spec.key: value for spec, value, _ in cleaned} | {"notes": item.notes}
        b, a = audit.changed_only(before, after)
        if a or b:
            # The identifiers live in their own rows: touch the item so its version moves on
            # and a desk still holding the old one gets a conflict.
            item.updated_at = utcnow()
            audit.record(repo.session, actor, "inventory_item", item.id, "update", b, a)
        _flush_identifiers(repo, cleaned)
        uow.commit()
    return get_item(uow, actor, item_id)


# -- moving items --------------------------------------------------------------------------------

# Which states an item may leave for each destination.
_ALLOWED_FROM = {
    (HOLDER_LOCATION, IN_STOCK): set(STATES),  # anything can come back into stock
    (HOLDER_LOCATION, FAULTY): set(STATES),
    (HOLDER_ACCOUNT, INSTALLED): {IN_STOCK, ASSIGNED},
    (HOLDER_STAFF, ASSIGNED): {IN_STOCK, ASSIGNED, INSTALLED, FAULTY},
    (HOLDER_VENDOR, RMA): {IN_STOCK, FAULTY},
    (HOLDER_NONE, RETIRED): {IN_STOCK, FAULTY, RMA},
}


def move_item(
    uow: UnitOfWork, actor: Actor, item_id: int, to: Destination, *, note: str = "",
    expected_version: int | None = None, expected_account_id: int | None = None,
) -> ItemRow:
    """Move an item to a location (in stock or faulty), an account (installed), a staff member
    (assigned), the vendor (RMA) or retirement. One transaction, one Movement.

    ``expected_version``: the version the user saw; if someone moved it since, the move is
    refused with who has it now. ``expected_account_id``: only move it if it is installed there
    (returns from a unit)."""
    actor.require(Permission.INVENTORY_EDIT)
    note = clean_note(note)
    with uow:
        repo = uow.inventory
        item = repo.lock_item(item_id)
        if item is None:
            raise NotFound("That item no longer exists.")
        labels = Labels(repo)
        row = labels.rows([item])[0]
        _check_move(repo, labels, item, row, to, expected_version, expected_account_id)
        apply_move(repo, labels, actor, item, row, to, note)
        uow.commit()
    return get_item(uow, actor, item_id)


def _check_move(
    repo: InventoryRepository, labels: Labels, item: Item, row: ItemRow, to: Destination,
    expected_version: int | None, expected_account_id: int | None,
) -> None:
    where = _where(row)
    if expected_version is not None and item.version != expected_version:
        raise ItemUnavailable(f"{item.tag} was changed a moment ago: it is now {where}.", row.holder)
    if expected_account_id is not None and item.account_id != expected_account_id:
        raise ItemUnavailable(f"{item.tag} is not installed at this account: it is {where}.", row.holder)
    allowed = _ALLOWED_FROM.get((to.kind, to.state))
    if allowed is None:
        raise ValidationError("Riser cannot move an item there.")
    if to.kind == HOLDER_ACCOUNT and item.state == INSTALLED:
        if item.account_id == to.id:
            raise ItemUnavailable(f"{item.tag} is already installed at this account.", row.holder)
        raise ItemUnavailable(f"{item.tag} is installed at {row.holder}: return it from there first.", row.holder)
    if to.kind == HOLDER_STAFF and item.state == ASSIGNED and item.staff_id != to.id:
        raise ItemUnavailable(f"{item.tag} is with {row.holder}.", row.holder)
    if item.state not in allowed:
        raise ItemUnavailable(
            f"{item.tag} is {where}; it cannot be {_destination_verb(to)} from there.", row.holder
        )
    same_place = (to.kind, to.id) == (row.holder_kind, row.holder_id)
    if same_place and to.state == item.state:
        raise ItemUnavailable(f"{item.tag} is already {where}.", row.holder)
    if to.kind == HOLDER_LOCATION:
        _usable_location(repo, to.id)
    elif to.kind == HOLDER_ACCOUNT:
        account = repo.get_account(to.id) if to.id is not None else None
        if account is None:
            raise ValidationError("That account no longer exists.", "account_id")
        if account.disconnected_on is not None:
            raise ValidationError(
                f"{account.number} {account.name} is disconnected: install it at the current tenant's account.",
                "account_id",
            )
    elif to.kind == HOLDER_STAFF:
        user = repo.get_user(to.id) if to.id is not None else None
        if user is None:
            raise ValidationError("That staff member no longer exists.", "staff_id")


def _where(row: ItemRow) -> str:
    if row.state == INSTALLED:
        return f"installed at {row.holder}"
    if row.state == ASSIGNED:
        return f"with {row.holder}"
    if row.state == RMA:
        return "returned to the vendor"
    if row.state == RETIRED:
        return "retired"
    if row.state == FAULTY:
        return f"faulty at {row.holder}"
    return f"in stock at {row.holder}"


def _destination_verb(to: Destination) -> str:
    return {
        HOLDER_ACCOUNT: "installed", HOLDER_STAFF: "assigned", HOLDER_VENDOR: "sent to the vendor",
        HOLDER_NONE: "retired", HOLDER_LOCATION: "moved",
    }[to.kind]


def apply_move(
    repo: InventoryRepository, labels: Labels, actor: Actor, item: Item, row: ItemRow, to: Destination, note: str
) -> None:
    to_label = ""
    if to.kind == HOLDER_LOCATION:
        to_label = labels.paths.get(to.id, "")
    elif to.kind == HOLDER_ACCOUNT:
        to_label = labels.account(repo.get_account(to.id))
    elif to.kind == HOLDER_STAFF:
        to_label = labels.user(repo.get_user(to.id))
    elif to.kind == HOLDER_VENDOR:
        to_label = "the vendor"
    state_from = item.state
    item.location_id = to.id if to.kind == HOLDER_LOCATION else None
    item.account_id = to.id if to.kind == HOLDER_ACCOUNT else None
    item.staff_id = to.id if to.kind == HOLDER_STAFF else None
    item.state = to.state
    item.updated_by_id = actor.user_id
    repo.add(Movement(
        user_id=actor.user_id, username=actor.username, item_id=item.id, model_id=item.model_id, quantity=1,
        from_kind=row.holder_kind, from_id=row.holder_id, from_label=row.holder, to_kind=to.kind, to_id=to.id,
        to_label=to_label, state_from=state_from, state_to=to.state, note=note,
    ))
    summary = row.summary
    if to.kind == HOLDER_ACCOUNT:
        audit.record(repo.session, actor, "account", to.id, "equipment installed", None, {"item": summary})
    if row.holder_kind == HOLDER_ACCOUNT and to.kind != HOLDER_ACCOUNT:
        audit.record(repo.session, actor, "account", row.holder_id, "equipment returned", None,
                     {"item": summary, "to": to_label or STATE_LABELS[to.state]})
    repo.flush()


def install_by_code(uow: UnitOfWork, actor: Actor, account_id: int, code: str) -> ItemRow:
    """Install the item a scanned code names at the account (it must be in stock or with a
    tech). Where the code is on several items, the one that can be installed is meant."""
    item = _one_item(uow, actor, code, prefer=lambda i: i.state in (IN_STOCK, ASSIGNED))
    return move_item(uow, actor, item.id, Destination.account(account_id))


def return_by_code(
    uow: UnitOfWork, actor: Actor, account_id: int, code: str, location_id: int, *, faulty: bool = False, note: str = ""
) -> ItemRow:
    """Bring back, by its scanned code, an item installed at the account, into a location."""
    item = _one_item(uow, actor, code,
                     prefer=lambda i: i.holder_kind == HOLDER_ACCOUNT and i.holder_id == account_id)
    return move_item(uow, actor, item.id, Destination.location(location_id, faulty=faulty), note=note,
                     expected_account_id=account_id)


def _one_item(uow: UnitOfWork, actor: Actor, code: str, prefer: Callable[[ItemRow], bool]) -> ItemRow:
    """The item a code names. A serial may be on items of several models: then the one
    ``prefer`` picks out is meant; if none or several are, the user is told which tags."""
    match = find_code(uow, actor, code)
    if not match.items:
        raise NotFound(f"No item has the code {match.code}.")
    if len(match.items) == 1:
        return match.items[0]
    preferred = [i for i in match.items if prefer(i)]
    if len(preferred) == 1:
        return preferred[0]
    tags = ", ".join(i.tag for i in (preferred or match.items)[:5])
    raise ValidationError(f"The code {match.code} is on several items ({tags}): scan the item's tag instead.")


# -- consumables ---------------------------------------------------------------------------------

def _quantity_model(labels: Labels, model_id: int) -> tuple[ItemModel, str]:
    model, name = labels.model(model_id)
    if model.tracking != QUANTITY:
        raise ValidationError(f"{name} is tracked one by one: receive or move its items instead.", "model_id")
    return model, name


def positive_quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValidationError("The quantity must be a whole number.", "quantity")
    if quantity <= 0:
        raise ValidationError("The quantity must be more than zero.", "quantity")
    return quantity


def add_stock(uow: UnitOfWork, actor: Actor, model_id: int, location_id: int, quantity: int, note: str = "") -> int:
    """Receive ``quantity`` of a consumable into a location; returns the new quantity there."""
    actor.require(Permission.INVENTORY_EDIT)
    quantity, note = positive_quantity(quantity), clean_note(note)
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        _quantity_model(labels, model_id)
        _usable_location(repo, location_id)
        repo.add_stock(model_id, location_id, quantity)
        repo.add(Movement(user_id=actor.user_id, username=actor.username, model_id=model_id, quantity=quantity,
                          from_kind=HOLDER_NONE, to_kind=HOLDER_LOCATION, to_id=location_id,
                          to_label=labels.paths.get(location_id, ""), note=note))
        repo.flush()
        left = repo.stock_row(model_id, location_id).quantity
        uow.commit()
        return left


def take_stock(
    uow: UnitOfWork, actor: Actor, model_id: int, from_location_id: int, quantity: int, to: Destination, note: str = ""
) -> int:
    """Move ``quantity`` of a consumable from a location to another location, or use it at an
    account (installed at the unit), or write it off (``Destination.retired()``). Refused,
    with what is there, when the location has less; returns what is left there."""
    actor.require(Permission.INVENTORY_EDIT)
    quantity, note = positive_quantity(quantity), clean_note(note)
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        model, name = _quantity_model(labels, model_id)
        if to.kind == HOLDER_LOCATION:
            if to.id == from_location_id:
                raise ValidationError("Choose a different location to move it to.", "location_id")
            _usable_location(repo, to.id)
            to_label = labels.paths.get(to.id, "")
        elif to.kind == HOLDER_ACCOUNT:
            account = repo.get_account(to.id)
            if account is None:
                raise ValidationError("That account no longer exists.", "account_id")
            to_label = labels.account(account)
        elif to.kind == HOLDER_NONE:
            to_label = "written off"
        else:
            raise ValidationError("Consumables go to a location, an account, or are written off.")
        if not repo.take_stock(model_id, from_location_id, quantity):
            row = repo.stock_row(model_id, from_location_id)
            have = row.quantity if row else 0
            raise ValidationError(
                f"Only {have} {model.unit} of {name} at {labels.paths.get(from_location_id, 'that location')}; "
                f"cannot take {quantity}.", "quantity",
            )
        if to.kind == HOLDER_LOCATION:
            repo.add_stock(model_id, to.id, quantity)
        repo.add(Movement(user_id=actor.user_id, username=actor.username, model_id=model_id, quantity=quantity,
                          from_kind=HOLDER_LOCATION, from_id=from_location_id,
                          from_label=labels.paths.get(from_location_id, ""), to_kind=to.kind, to_id=to.id,
                          to_label=to_label, note=note))
        if to.kind == HOLDER_ACCOUNT:
            audit.record(repo.session, actor, "account", to.id, "equipment installed", None,
                         {"item": f"{quantity} {model.unit} {name}"})
        repo.flush()
        left = repo.stock_row(model_id, from_location_id).quantity
        uow.commit()
        return left


# -- receiving -----------------------------------------------------------------------------------

def check_receive_line(
    uow: UnitOfWork, actor: Actor, line: ReceiveLine, pending: Sequence[ReceiveLine] = (), *, partial: bool = False
) -> None:
    """Check one scanned line before it joins the batch: its format, and that no item (in the
    database or already in the batch) has the same identifier. ``partial``: the item is still
    being scanned, so its missing required fields are not an error yet. Raises ValidationError."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        _check_line(repo, labels, line, _pending_lookups(labels, pending), partial=partial)


def _pending_lookups(labels: Labels, lines: Sequence[ReceiveLine]) -> dict[tuple, int]:
    seen: dict[tuple, int] = {}
    for n, line in enumerate(lines, start=1):
        model, _ = labels.model(line.model_id)
        if model.tracking != SERIALIZED:
            continue
        fields = labels.fields(line.model_id)
        for key, text in line.identifiers.items():
            spec = fields.get(key)
            if spec is None or not (text or "").strip():
                continue
            try:
                _, lookup = ids.normalise(spec.kind, text, pattern=spec.pattern)
            except ValidationError:
                continue
            scope = ("mac",) if spec.kind == ids.MAC else (line.model_id, key)
            seen.setdefault((*scope, lookup), n)
    return seen


def _check_line(
    repo: InventoryRepository, labels: Labels, line: ReceiveLine, seen: dict[tuple, int], *, partial: bool = False
) -> list:
    model, name = labels.model(line.model_id)
    if model.tracking == QUANTITY:
        positive_quantity(line.quantity)
        return []
    cleaned = clean_identifiers(repo, labels, line.model_id, line.identifiers, partial=partial)
    for spec, value, lookup in cleaned:
        scope = ("mac",) if spec.kind == ids.MAC else (line.model_id, spec.key)
        if (*scope, lookup) in seen:
            raise ValidationError(f"{spec.label} {value} is already in this batch (line {seen[(*scope, lookup)]}).",
                                  spec.key)
    return cleaned


def receive(uow: UnitOfWork, actor: Actor, location_id: int, lines: Sequence[ReceiveLine], note: str = "") -> ReceiveResult:
    """Receive a batch into a location as one change: every line is checked, then everything
    is written in one transaction. A bad line raises ValidationError naming it ("line 4: …")
    and nothing is written."""
    actor.require(Permission.INVENTORY_EDIT)
    note = clean_note(note)
    if not lines:
        raise ValidationError("Nothing to receive: scan some items first.")
    with uow:
        repo = uow.inventory
        labels = Labels(repo)
        _usable_location(repo, location_id)
        # Check every line first (against the database and the lines before it), then write.
        seen: dict[tuple, int] = {}
        checked: list[tuple[ReceiveLine, list]] = []
        for n, line in enumerate(lines, start=1):
            try:
                cleaned = _check_line(repo, labels, line, seen)
            except (ValidationError, NotFound) as exc:
                raise ValidationError(f"line {n}: {exc}") from None
            for spec, _value, lookup in cleaned:
                scope = ("mac",) if spec.kind == ids.MAC else (line.model_id, spec.key)
                seen[(*scope, lookup)] = n
            checked.append((line, cleaned))
        created: list[Item] = []
        quantities: dict[int, int] = {}
        for line, cleaned in checked:
            if labels.model(line.model_id)[0].tracking == QUANTITY:
                quantities[line.model_id] = quantities.get(line.model_id, 0) + line.quantity
            else:
                created.append(add_new_item(repo, labels, actor, line.model_id, cleaned, location_id,
                                            movement_note=note or "received"))
        for model_id, quantity in quantities.items():
            repo.add_stock(model_id, location_id, quantity)
            repo.add(Movement(user_id=actor.user_id, username=actor.username, model_id=model_id, quantity=quantity,
                              from_kind=HOLDER_NONE, to_kind=HOLDER_LOCATION, to_id=location_id,
                              to_label=labels.paths.get(location_id, ""), note=note or "received"))
        repo.flush()
        audit.record(repo.session, actor, "inventory_location", location_id, "receive", None,
                     {"items": len(created), "quantities": {labels.model(m)[1]: q for m, q in quantities.items()}})
        uow.commit()
        rows = labels.rows(created)
        return ReceiveResult(
            labels.paths.get(location_id, ""), tuple(rows),
            tuple((labels.model(m)[1], q, labels.model(m)[0].unit) for m, q in quantities.items()),
        )
