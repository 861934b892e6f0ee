"""The inventory catalogue and the places things are kept: manufacturers, categories, models
(with the identifier fields their items carry) and locations.

Reading needs ``inventory.view``; changing needs ``inventory.edit``. Every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core import audit
from app.core.counters import take_next
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.inventory import identifiers as ids
from app.inventory.models import (
    QUANTITY,
    SERIALIZED,
    Category,
    ItemModel,
    Location,
    Manufacturer,
    ModelField,
)
from app.inventory.repository import InventoryRepository
from app.uow import UnitOfWork

LOCATION_KINDS = ("warehouse", "shelf", "bin", "van", "closet", "other")
UNITS = ("each", "m", "ft", "box", "roll")
LOCATION_CODE_COUNTER = "inventory_location_code"


# -- rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamedRow:
    id: int
    name: str


@dataclass(frozen=True)
class FieldSpec:
    """One identifier field of a model, as the form edits it and the services check it."""

    key: str
    label: str
    kind: str
    required: bool = False
    pattern: str = ""


@dataclass(frozen=True)
class ModelRow:
    id: int
    manufacturer_id: int
    manufacturer: str
    category_id: int
    category: str
    name: str
    tracking: str
    unit: str
    min_stock: int | None
    enabled: bool
    notes: str
    fields: tuple[FieldSpec, ...]
    version: int
    in_stock: int = 0  # items in stock, or the summed quantity

    @property
    def full_name(self) -> str:
        return f"{self.manufacturer} {self.name}"

    @property
    def serialized(self) -> bool:
        return self.tracking == SERIALIZED

    @property
    def below_minimum(self) -> bool:
        return self.min_stock is not None and self.in_stock < self.min_stock


@dataclass(frozen=True)
class ModelInput:
    manufacturer: str  # by name: a new one is created
    category: str  # by name: a new one is created
    name: str
    tracking: str = SERIALIZED
    unit: str = "each"
    min_stock: int | None = None
    enabled: bool = True
    notes: str = ""
    fields: Sequence[FieldSpec] = field(default_factory=tuple)


@dataclass(frozen=True)
class LocationRow:
    id: int
    parent_id: int | None
    name: str
    kind: str
    code: str
    path: str  # "Main warehouse › Shelf A › Bin 3"
    depth: int
    address_id: int | None
    active: bool
    notes: str
    items: int  # serialized items held here (not counting inside)
    version: int


@dataclass(frozen=True)
class LocationInput:
    name: str
    kind: str = "shelf"
    parent_id: int | None = None
    code: str = ""  # empty: the next L-000001
    address_id: int | None = None
    active: bool = True
    notes: str = ""


# -- manufacturers and categories ----------------------------------------------------------------

def list_manufacturers(uow: UnitOfWork, actor: Actor) -> list[NamedRow]:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        return [NamedRow(m.id, m.name) for m in uow.inventory.manufacturers()]


def list_categories(uow: UnitOfWork, actor: Actor) -> list[NamedRow]:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        return [NamedRow(c.id, c.name) for c in uow.inventory.categories()]


def _name(text: str, what: str, limit: int, field_name: str) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise ValidationError(f"Give the {what} a name.", field_name)
    if len(name) > limit:
        raise ValidationError(f"The {what}'s name is longer than {limit} characters.", field_name)
    return name


def _manufacturer(repo: InventoryRepository, actor: Actor, name: str) -> Manufacturer:
    name = _name(name, "manufacturer", 80, "manufacturer")
    found = repo.manufacturer_named(name)
    if found is None:
        found = Manufacturer(name=name)
        repo.add(found)
        repo.flush()
        audit.record(repo.session, actor, "manufacturer", found.id, "create", None, {"name": name})
    return found


def _category(repo: InventoryRepository, actor: Actor, name: str) -> Category:
    name = _name(name, "category", 60, "category")
    found = repo.category_named(name)
    if found is None:
        found = Category(name=name)
        repo.add(found)
        repo.flush()
        audit.record(repo.session, actor, "category", found.id, "create", None, {"name": name})
    return found


# -- models --------------------------------------------------------------------------------------

def _field_specs(fields: Sequence[ModelField]) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(f.key, f.label, f.kind, f.required, f.pattern) for f in fields)


def list_models(uow: UnitOfWork, actor: Actor, *, enabled_only: bool = False) -> list[ModelRow]:
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        models = repo.models()
        fields_by_model: dict[int, list[ModelField]] = {}
        for f in repo.fields([m.id for m, _, _ in models]):
            fields_by_model.setdefault(f.model_id, []).append(f)
        counts = repo.in_stock_counts()
        return [
            _model_row(m, mf, cat, fields_by_model.get(m.id, []), counts.get(m.id, 0))
            for m, mf, cat in models
            if m.enabled or not enabled_only
        ]


def get_model(uow: UnitOfWork, actor: Actor, model_id: int) -> ModelRow:
    for row in list_models(uow, actor):
        if row.id == model_id:
            return row
    raise NotFound("That model no longer exists.")


def _model_row(m: ItemModel, manufacturer: str, category: str, fields: Sequence[ModelField], in_stock: int) -> ModelRow:
    return ModelRow(
        id=m.id, manufacturer_id=m.manufacturer_id, manufacturer=manufacturer, category_id=m.category_id,
        category=category, name=m.name, tracking=m.tracking, unit=m.unit, min_stock=m.min_stock,
        enabled=m.enabled, notes=m.notes, fields=_field_specs(fields), version=m.version, in_stock=in_stock,
    )


def _clean_fields(specs: Sequence[FieldSpec], tracking: str) -> list[FieldSpec]:
    if tracking == QUANTITY and specs:
        raise ValidationError("Consumables are counted, not identified: remove the identifier fields.", "fields")
    cleaned: list[FieldSpec] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.kind not in ids.KINDS:
            raise ValidationError(f"Unknown identifier kind “{spec.kind}”.", "fields")
        label = " ".join((spec.label or ids.KIND_LABELS[spec.kind]).split())[:60]
        key = (spec.key or (spec.kind if spec.kind != ids.CUSTOM else label)).strip().lower()
        key = re.sub(r"[^a-z0-9]+", "_", key).strip("_")[:30]
        if not key:
            raise ValidationError("Each identifier field needs a name.", "fields")
        if key in seen:
            raise ValidationError(f"Two identifier fields are both called “{label}”.", "fields")
        seen.add(key)
        if spec.kind in (ids.SERIAL, ids.CUSTOM):
            ids.check_pattern(spec.pattern)
        pattern = spec.pattern if spec.kind in (ids.SERIAL, ids.CUSTOM) else ""
        cleaned.append(FieldSpec(key, label, spec.kind, bool(spec.required), pattern))
    return cleaned


def save_model(
    uow: UnitOfWork, actor: Actor, data: ModelInput, model_id: int | None = None, expected_version: int | None = None
) -> ModelRow:
    """Create a model, or change one. Fields can be added, relabelled or made optional at any
    time; a field whose values exist on items cannot be removed or change kind."""
    actor.require(Permission.INVENTORY_EDIT)
    if data.tracking not in (SERIALIZED, QUANTITY):
        raise ValidationError("Choose how the model is tracked: one by one, or by quantity.", "tracking")
    unit = (data.unit or "each").strip()[:12] or "each"
    if data.min_stock is not None and data.min_stock < 0:
        raise ValidationError("The minimum stock cannot be negative.", "min_stock")
    specs = _clean_fields(data.fields, data.tracking)
    with uow:
        repo = uow.inventory
        manufacturer = _manufacturer(repo, actor, data.manufacturer)
        category = _category(repo, actor, data.category)
        name = _name(data.name, "model", 100, "name")
        clash = repo.model_named(manufacturer.id, name)
        if clash is not None and clash.id != model_id:
            raise ValidationError(f"{manufacturer.name} already has a model called “{clash.name}”.", "name")
        if model_id is None:
            model = ItemModel(manufacturer_id=manufacturer.id, category_id=category.id, name=name, tracking=data.tracking,
                              unit=unit, min_stock=data.min_stock, enabled=data.enabled, notes=data.notes.strip(),
                              updated_by_id=actor.user_id)
            repo.add(model)
            repo.flush()
            before: dict = {}
            old_fields: list[ModelField] = []
        else:
            model = repo.get_model(model_id)
            if model is None:
                raise NotFound("That model no longer exists.")
            if expected_version is not None and model.version != expected_version:
                    raise ConflictError("model", None, model.updated_at)
            before = _model_audit(model, repo.fields([model.id]))
            if model.tracking != data.tracking and (repo.items_of_model(model.id) or repo.stock_of_model(model.id)):
                raise ValidationError("This model already has stock: its tracking cannot change.", "tracking")
            model.manufacturer_id, model.category_id, model.name = manufacturer.id, category.id, name
            model.tracking, model.unit, model.min_stock = data.tracking, unit, data.min_stock
            model.enabled, model.notes, model.updated_by_id = data.enabled, data.notes.strip(), actor.user_id
            old_fields = repo.fields([model.id])
        _apply_fields(repo, model, old_fields, specs)
        repo.flush()
        after = _model_audit(model, repo.fields([model.id]))
        if model_id is None:
            audit.record(repo.session, actor, "inventory_model", model.id, "create", None, after)
        else:
            b, a = audit.changed_only(before, after)
            if a or b:
                audit.record(repo.session, actor, "inventory_model", model.id, "update", b, a)
        uow.commit()
        model_id = model.id
    return get_model(uow, actor, model_id)


def _apply_fields(repo: InventoryRepository, model: ItemModel, old: list[ModelField], specs: list[FieldSpec]) -> None:
    by_key = {f.key: f for f in old}
    wanted = {s.key for s in specs}
    for f in old:
        if f.key in wanted:
            continue
        used = repo.identifiers_in_field(model.id, f.key)
        if used:
            raise ValidationError(f"“{f.label}” is filled in on {used} item(s): it cannot be removed.", "fields")
        repo.session.delete(f)
    for position, spec in enumerate(specs):
        f = by_key.get(spec.key)
        if f is None:
            repo.add(ModelField(model_id=model.id, key=spec.key, label=spec.label, kind=spec.kind,
                                required=spec.required, pattern=spec.pattern, position=position))
            continue
        if f.kind != spec.kind:
            used = repo.identifiers_in_field(model.id, f.key)
            if used:
                raise ValidationError(f"“{f.label}” is filled in on {used} item(s): its kind cannot change.", "fields")
        f.label, f.kind, f.required, f.pattern, f.position = spec.label, spec.kind, spec.required, spec.pattern, position


def _model_audit(model: ItemModel, fields: Sequence[ModelField]) -> dict:
    return {
        "name": model.name, "tracking": model.tracking, "unit": model.unit, "min_stock": model.min_stock,
        "enabled": model.enabled,
        "fields": [f"{f.label} ({f.kind}{', required' if f.required else ''})" for f in fields],
    }


# -- locations -----------------------------------------------------------------------------------

def list_locations(uow: UnitOfWork, actor: Actor, *, include_inactive: bool = True) -> list[LocationRow]:
    """Every location in tree order (a parent before its children, siblings by name)."""
    actor.require(Permission.INVENTORY_VIEW)
    with uow:
        repo = uow.inventory
        return [row for row in location_rows(repo.locations(), repo.items_at_location_count())
                if row.active or include_inactive]


def location_rows(locations: Sequence[Location], counts: dict[int, int]) -> list[LocationRow]:
    children: dict[int | None, list[Location]] = {}
    known = {loc.id for loc in locations}
    for loc in locations:
        parent = loc.parent_id if loc.parent_id in known else None
        children.setdefault(parent, []).append(loc)
    rows: list[LocationRow] = []

    def walk(parent: int | None, prefix: str, depth: int) -> None:
        for loc in children.get(parent, []):
            path = f"{prefix} › {loc.name}" if prefix else loc.name
            rows.append(LocationRow(loc.id, loc.parent_id, loc.name, loc.kind, loc.code, path, depth, loc.address_id,
                                    loc.active, loc.notes, counts.get(loc.id, 0), loc.version))
            walk(loc.id, path, depth + 1)

    walk(None, "", 0)
    return rows


def location_paths(repo: InventoryRepository) -> dict[int, str]:
    return {row.id: row.path for row in location_rows(repo.locations(), {})}


def location_subtree(repo: InventoryRepository, location_id: int) -> tuple[int, ...]:
    """The location and every location inside it."""
    children: dict[int | None, list[int]] = {}
    for loc in repo.locations():
        children.setdefault(loc.parent_id, []).append(loc.id)
    found, stack = [], [location_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return tuple(found)


def save_location(
    uow: UnitOfWork, actor: Actor, data: LocationInput, location_id: int | None = None,
    expected_version: int | None = None,
) -> LocationRow:
    actor.require(Permission.INVENTORY_EDIT)
    name = _name(data.name, "location", 80, "name")
    if data.kind not in LOCATION_KINDS:
        raise ValidationError(f"Choose a kind of location: {', '.join(LOCATION_KINDS)}.", "kind")
    code = (data.code or "").strip().upper()
    if code and not re.fullmatch(r"[A-Z0-9][A-Z0-9\-_.]{0,39}", code):
        raise ValidationError("A location code uses letters, digits, - _ or . (up to 40), so a label can carry it.", "code")
    with uow:
        repo = uow.inventory
        if data.parent_id is not None:
            parent = repo.get_location(data.parent_id)
            if parent is None:
                raise ValidationError("The parent location no longer exists.", "parent_id")
            if location_id is not None and data.parent_id in location_subtree(repo, location_id):
                raise ValidationError("A location cannot sit inside itself.", "parent_id")
        if code:
            clash = repo.location_by_code(code)
            if clash is not None and clash.id != location_id:
                raise ValidationError(f"The code {code} already labels “{clash.name}”.", "code")
        if location_id is None:
            if not code:
                code = _next_location_code(repo)
            loc = Location(name=name, kind=data.kind, parent_id=data.parent_id, code=code, address_id=data.address_id,
                           active=data.active, notes=data.notes.strip(), updated_by_id=actor.user_id)
            repo.add(loc)
            repo.flush()
            audit.record(repo.session, actor, "inventory_location", loc.id, "create", None, _location_audit(loc))
        else:
            loc = repo.get_location(location_id)
            if loc is None:
                raise NotFound("That location no longer exists.")
            if expected_version is not None and loc.version != expected_version:
                    raise ConflictError("location", None, loc.updated_at)
            before = _location_audit(loc)
            loc.name, loc.kind, loc.parent_id = name, data.kind, data.parent_id
            loc.code = code or loc.code
            loc.address_id, loc.active, loc.notes = data.address_id, data.active, data.notes.strip()
            loc.updated_by_id = actor.user_id
            repo.flush()
            b, a = audit.changed_only(before, _location_audit(loc))
            if a or b:
                audit.record(repo.session, actor, "inventory_location", loc.id, "update", b, a)
        uow.commit()
        new_id = loc.id
    for row in list_locations(uow, actor):
        if row.id == new_id:
            return row
    raise NotFound("That location no longer exists.")  # pragma: no cover - just saved


def _next_location_code(repo: InventoryRepository) -> str:
    while True:
        code = f"L-{take_next(repo.session, LOCATION_CODE_COUNTER, 1):06d}"
        if repo.location_by_code(code) is None:
            return code


def _location_audit(loc: Location) -> dict:
    return {"name": loc.name, "kind": loc.kind, "parent_id": loc.parent_id, "code": loc.code, "active": loc.active}
