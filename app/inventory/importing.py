"""Import items and stock from a spreadsheet: read a CSV (or XLSX), match each row to a model of
the catalogue and a location, check its identifiers with the rules the forms and receive mode
use, and write everything in one transaction.

    sheet = read_sheet(path)     # the address import's reader: any common encoding and separator
    result = import_items(uow, actor, sheet, default_location="L-000003", policy=ImportPolicy.VALID_ROWS)

Columns are found by their header (case-insensitive, with synonyms): manufacturer, model,
location (a location code, or a path such as ``Main warehouse › Shelf A``; ``>`` and ``/``
separate too), quantity (consumables), state (``in stock`` — the default — or ``faulty``), notes,
and one column per identifier: mac, serial, imei, imsi, or any custom field of a model (its key
or its label: "GPON SN"). Other columns are ignored and named in the result.

A row's model must already be in the catalogue (manufacturer and model name, any case): an
import never creates models. Row numbers are the spreadsheet's (the header is row 1). A serial
or MAC repeated in the file is refused as "already in row N"; one already in the database as
"already on item I-000123" — the same checks ``service.receive`` makes, by the same functions.

Everything is checked first, then written inside one unit of work and committed at the end: a
dry run, "all or nothing" with a bad row, or any error leaves the database as it was. Each item
gets its "received" movement (and a "marked faulty" one when its state is faulty); each
consumable row adds to the stock at its location with a movement; one audit entry covers the
import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time

from app.addresses.importing import (
    Cell,
    ImportFileError,
    ImportPolicy,
    Sheet,
    read_sheet,
)
from app.core import audit
from app.core.errors import ValidationError
from app.core.permissions import Actor, Permission
from app.inventory import identifiers as ids
from app.inventory import service
from app.inventory.catalogue import FieldSpec, LocationRow, location_rows
from app.inventory.models import (
    FAULTY,
    HOLDER_LOCATION,
    HOLDER_NONE,
    IN_STOCK,
    QUANTITY,
    ItemModel,
    ModelField,
    Movement,
)
from app.inventory.repository import InventoryRepository
from app.uow import UnitOfWork

__all__ = [
    "COLUMNS", "Columns", "ImportFileError", "ImportPolicy", "InventoryImportResult", "Places", "guess_columns",
    "header_key", "import_items", "parse_quantity", "parse_state", "read_sheet",
]

COLUMNS = ("manufacturer", "model", "location", "quantity", "state", "notes")
Progress = Callable[[int, int], None]

# Whole headers (lower-cased, punctuation as spaces) that name a column outright.
_SYNONYMS: dict[str, set[str]] = {
    "manufacturer": {"manufacturer", "make", "maker", "brand", "vendor", "mfr", "mfg", "manufacturer name"},
    "model": {"model", "model name", "product", "item model", "device model", "device", "model number"},
    "location": {"location", "location code", "where", "place", "stored at", "stored in", "bin", "shelf",
                 "storage", "location path"},
    "quantity": {"quantity", "qty", "count", "amount", "how many"},
    "state": {"state", "status", "condition"},
    "notes": {"notes", "note", "comment", "comments", "remarks", "remark"},
}
# Headers that name an identifier kind; a model's field of that kind takes the column.
_KIND_SYNONYMS: dict[str, set[str]] = {
    ids.MAC: {"mac", "mac address", "mac addr", "macaddress", "hw address", "hardware address", "ethernet mac"},
    ids.SERIAL: {"serial", "serial number", "serial no", "serial num", "serialnumber", "sn", "s n", "serial nr"},
    ids.IMEI: {"imei", "imei number", "imei no"},
    ids.IMSI: {"imsi", "imsi number", "imsi no"},
}
_IN_STOCK_WORDS = {"", "in stock", "instock", "in_stock", "stock", "new", "available", "ok", "good"}
_FAULTY_WORDS = {"faulty", "fault", "broken", "defective", "damaged", "bad", "dead"}
_PATH_SEPARATORS = (re.compile(r"\s*(?:›|>|/)\s*"), re.compile(r"\s*(?:›|>)\s*"))


class _RowError(Exception):
    """What is wrong with one row (the text after ``row N:``)."""


def header_words(header: str) -> str:
    """A header as lower-case words: "Serial No." → "serial no"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", (header or "").lower()).split())


def header_key(header: str) -> str:
    """A header or field label the way field keys are written: "GPON SN" → "gpon_sn"."""
    return header_words(header).replace(" ", "_")


# -- which column is which ---------------------------------------------------------------------

@dataclass(frozen=True)
class IdentifierColumn:
    index: int
    header: str  # as written in the file
    key: str  # header_key(header)
    kind: str | None  # mac | serial | imei | imsi when the header names a kind


@dataclass(frozen=True)
class Columns:
    """Where each column is: the fixed ones by name, the identifier columns, and the rest."""

    fixed: dict[str, int]  # manufacturer/model/location/quantity/state/notes → column index
    identifiers: tuple[IdentifierColumn, ...]
    ignored: tuple[str, ...]  # headers no field takes


def guess_columns(headers: Sequence[str], field_keys: AbstractSet[str] = frozenset()) -> Columns:
    """Which column holds what, from the header. ``field_keys``: every identifier field key (and
    label, as ``header_key`` writes it) in the catalogue, so custom fields find their column."""
    fixed: dict[str, int] = {}
    identifiers: list[IdentifierColumn] = []
    ignored: list[str] = []
    for index, header in enumerate(headers):
        words = header_words(header)
        if not words:
            continue
        name = next((n for n in COLUMNS if words in _SYNONYMS[n] and n not in fixed), None)
        if name is not None:
            fixed[name] = index
            continue
        kind = next((k for k, names in _KIND_SYNONYMS.items() if words in names), None)
        key = header_key(header)
        if kind is not None or key in field_keys:
            identifiers.append(IdentifierColumn(index, header.strip(), key, kind))
        else:
            ignored.append(header.strip())
    return Columns(fixed, tuple(identifiers), tuple(ignored))


def _field_for(column: IdentifierColumn, fields: Sequence[ModelField]) -> ModelField | None:
    """The model's field a column fills: same key, else same label, else the first of its kind."""
    for f in fields:
        if f.key == column.key:
            return f
    for f in fields:
        if header_key(f.label) == column.key:
            return f
    if column.kind is not None:
        for f in fields:
            if f.key == column.kind:
                return f
        for f in fields:
            if f.kind == column.kind:
                return f
    return None


# -- cells -------------------------------------------------------------------------------------

def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    return str(cell).strip()


def parse_state(text: str) -> str:
    """``in stock`` (also empty, "new", "available") or ``faulty`` ("broken", "defective")."""
    words = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if words in _IN_STOCK_WORDS:
        return IN_STOCK
    if words in _FAULTY_WORDS:
        return FAULTY
    raise ValidationError(f"State “{text}” is not one an import can give: use “in stock” or “faulty”.", "state")


def parse_quantity(text: str) -> int | None:
    """A whole number (thousands may be grouped: 1,000 or 1 000); None when empty."""
    raw = text.strip()
    if not raw:
        return None
    compact = re.sub(r"(?<=\d)[,\s_'](?=\d{3}(?:\D|$))", "", raw)
    if not re.fullmatch(r"[+-]?\d+", compact):
        raise ValidationError(f"Quantity “{raw}” is not a whole number.", "quantity")
    return int(compact)


# -- locations ---------------------------------------------------------------------------------

class Places:
    """Finds a location by its code, its full path (› > or / between the names) or, when no
    other location has that name, its name alone."""

    def __init__(self, rows: Sequence[LocationRow]) -> None:
        by_id = {r.id: r for r in rows}
        self.rows = list(rows)
        self.by_code = {r.code.upper(): r for r in rows}
        self.by_path: dict[tuple[str, ...], LocationRow] = {}
        by_name: dict[str, list[LocationRow]] = {}
        for row in rows:
            names, current, hops = [], row, 0
            while current is not None and hops < 64:  # the names from the top, not the path text
                names.append(_fold(current.name))
                current, hops = by_id.get(current.parent_id) if current.parent_id is not None else None, hops + 1
            self.by_path[tuple(reversed(names))] = row
            by_name.setdefault(_fold(row.name), []).append(row)
        self.unique_names = {name: found[0] for name, found in by_name.items() if len(found) == 1}

    def find(self, text: str) -> LocationRow | None:
        text = (text or "").strip()
        if not text:
            return None
        found = self.by_code.get(text.upper())
        if found is not None:
            return found
        whole = (_fold(text),)
        if whole in self.by_path:
            return self.by_path[whole]
        for separators in _PATH_SEPARATORS:
            parts = tuple(_fold(p) for p in separators.split(text) if p.strip())
            if parts in self.by_path:
                return self.by_path[parts]
        return self.unique_names.get(_fold(text))


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _location(places: Places, text: str) -> LocationRow:
    row = places.find(text)
    if row is None:
        raise _RowError(f"No location “{text}”: use a location's code or its full path "
                        "(e.g. Main warehouse › Shelf A).")
    if not row.active:
        raise _RowError(f"The location “{row.path}” is no longer in use.")
    return row


# -- the result --------------------------------------------------------------------------------

@dataclass(frozen=True)
class InventoryImportResult:
    rows: int  # non-blank rows below the header
    imported: int  # rows written (a dry run: rows that would be)
    rejected: list[tuple[int, str]]  # (row number, reason)
    items: int = 0  # serialized items among the imported rows
    quantities: int = 0  # consumable rows among them
    ignored_columns: tuple[str, ...] = ()
    dry_run: bool = False
    written: bool = False  # committed (False: a dry run, or all-or-nothing with a bad row)

    def summary(self) -> str:
        text = f"imported {self.imported:,}, rejected {len(self.rejected):,}"
        return f"{text} (dry run: nothing written)" if self.dry_run else text


@dataclass
class _Row:
    number: int
    model: ItemModel
    model_name: str
    location: LocationRow
    state: str = IN_STOCK
    quantity: int = 0
    cleaned: list = field(default_factory=list)  # (FieldSpec, value, lookup) as service checks them
    notes: str = ""


# -- the import --------------------------------------------------------------------------------

def import_items(
    uow: UnitOfWork,
    actor: Actor,
    sheet: Sheet,
    *,
    default_location: str = "",
    policy: ImportPolicy = ImportPolicy.VALID_ROWS,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> InventoryImportResult:
    """Check every row of ``sheet`` and, unless it is a dry run (or all-or-nothing with a bad
    row), write the good ones in one transaction. ``default_location``: a code or path used by
    rows with no location. Raises ImportFileError when the file cannot be imported at all (no
    manufacturer or model column, no location anywhere, an unknown ``default_location``)."""
    actor.require(Permission.INVENTORY_VIEW if dry_run else Permission.INVENTORY_EDIT)
    with uow:
        repo = uow.inventory
        labels = service.Labels(repo)
        catalogue = _Catalogue(repo)
        columns = guess_columns(sheet.headers, catalogue.field_keys)
        places = Places(location_rows(repo.locations(), {}))
        default = _check_columns(sheet, columns, places, default_location)
        rejected: list[tuple[int, str]] = []
        good: list[_Row] = []
        seen: dict[tuple, int] = {}  # (scope…, lookup) → the row that had it first
        total = len(sheet.rows)
        for i, (number, cells) in enumerate(sheet.rows):
            if progress and i % 500 == 0:
                progress(i, total)
            try:
                row = _check_row(repo, labels, catalogue, places, columns, default, number, cells, seen)
            except (_RowError, ValidationError) as exc:
                rejected.append((number, str(exc)))
                continue
            good.append(row)
        refused = policy is ImportPolicy.ALL_OR_NOTHING and bool(rejected)
        written = not dry_run and not refused and bool(good)
        imported = 0 if refused else len(good)
        items = 0 if refused else sum(r.model.tracking != QUANTITY for r in good)
        if written:
            _write(repo, labels, actor, good, sheet.name)
            audit.record(repo.session, actor, "inventory", "import", "import", None, {
                "file": sheet.name, "rows": total, "imported": imported, "rejected": len(rejected),
                "items": items, "policy": policy.value,
            })
            uow.commit()
        if progress:
            progress(total, total)
    return InventoryImportResult(
        rows=total, imported=imported, rejected=rejected, items=items, quantities=imported - items,
        ignored_columns=columns.ignored, dry_run=dry_run, written=written,
    )


class _Catalogue:
    """The models by (manufacturer, name), any case, with their identifier fields."""

    def __init__(self, repo: InventoryRepository) -> None:
        self.models: dict[tuple[str, str], tuple[ItemModel, str]] = {}
        self.manufacturers: set[str] = {_fold(m.name) for m in repo.manufacturers()}
        for model, maker, _category in repo.models():
            self.models[(_fold(maker), _fold(model.name))] = (model, f"{maker} {model.name}")
        self.fields: dict[int, list[ModelField]] = {}
        for f in repo.fields():
            self.fields.setdefault(f.model_id, []).append(f)
        self.field_keys = {f.key for fs in self.fields.values() for f in fs}
        self.field_keys |= {header_key(f.label) for fs in self.fields.values() for f in fs}

    def find(self, maker: str, name: str) -> tuple[ItemModel, str]:
        if not maker:
            raise _RowError("The manufacturer is empty.")
        if not name:
            raise _RowError("The model is empty.")
        found = self.models.get((_fold(maker), _fold(name)))
        if found is not None:
            return found
        if _fold(maker) not in self.manufacturers:
            raise _RowError(f"Unknown manufacturer “{maker}”: add it and its models to the catalogue first "
                            "(an import does not create models).")
        raise _RowError(f"Unknown model “{maker} {name}”: add it to the catalogue first "
                        "(an import does not create models).")


def _check_columns(sheet: Sheet, columns: Columns, places: Places, default_location: str) -> LocationRow | None:
    shown = ", ".join(f"'{h}'" for h in sheet.headers if h) or "no names"
    missing = [n for n in ("manufacturer", "model") if n not in columns.fixed]
    if missing:
        raise ImportFileError(
            f"{sheet.name} has no {' or '.join(missing)} column (its header has {shown}); name the columns "
            "in the first row, e.g. Manufacturer, Model, Location, Serial, MAC.")
    default = None
    if default_location.strip():
        default = places.find(default_location)
        if default is None:
            raise ImportFileError(f"No location has the code or path “{default_location.strip()}”.")
        if not default.active:
            raise ImportFileError(f"The location “{default.path}” is no longer in use.")
    elif "location" not in columns.fixed:
        raise ImportFileError(
            f"{sheet.name} has no location column (its header has {shown}): add one, or say where everything "
            "goes with --location CODE.")
    return default


def _cell(cells: tuple[Cell, ...], index: int | None) -> str:
    return _text(cells[index]) if index is not None and 0 <= index < len(cells) else ""


def _check_row(
    repo: InventoryRepository, labels: service.Labels, catalogue: _Catalogue, places: Places,
    columns: Columns, default: LocationRow | None, number: int, cells: tuple[Cell, ...], seen: dict[tuple, int],
) -> _Row:
    """One row, checked as receive mode checks a scan; raises _RowError or ValidationError."""
    def get(name: str) -> str:
        return _cell(cells, columns.fixed.get(name))

    model, name = catalogue.find(get("manufacturer"), get("model"))
    where = get("location")
    if where:
        location = _location(places, where)
    elif default is not None:
        location = default
    else:
        raise _RowError("No location: fill in the location column (or give --location CODE).")
    row = _Row(number, model, name, location, notes=service.clean_note(get("notes")))
    state = parse_state(get("state"))
    quantity = parse_quantity(get("quantity"))
    given: dict[str, str] = {}
    fields = catalogue.fields.get(model.id, [])
    for column in columns.identifiers:
        text = _cell(cells, column.index)
        if not text:
            continue
        if model.tracking == QUANTITY:
            raise _RowError(f"{name} is counted by quantity: leave {column.header} empty.")
        spec = _field_for(column, fields)
        if spec is None:
            raise _RowError(f"{name} has no {column.header} field.")
        if given.get(spec.key, text) != text:
            raise _RowError(f"Two columns give {name}'s {spec.label}.")
        given[spec.key] = text

    if model.tracking == QUANTITY:
        if quantity is None:
            raise _RowError(f"The quantity is empty ({name} is counted in {model.unit}).")
        if state != IN_STOCK:
            raise _RowError(f"{name} is counted by quantity, so it has no state: leave the state empty.")
        row.quantity = service.positive_quantity(quantity)
        return row
    if quantity not in (None, 1):
        raise _RowError(f"{name} is tracked one by one: give each item its own row (quantity empty or 1).")
    cleaned = service.clean_identifiers(repo, labels, model.id, given)
    for spec, value, lookup in cleaned:
        scope = _scope(model.id, spec)
        if scope + (lookup,) in seen:
            raise _RowError(f"{spec.label} {value} is already in row {seen[scope + (lookup,)]}.")
    for spec, _value, lookup in cleaned:
        seen[_scope(model.id, spec) + (lookup,)] = number
    row.state, row.cleaned = state, cleaned
    return row


def _scope(model_id: int, spec: FieldSpec) -> tuple:
    """A MAC is unique in the world; any other identifier within its model and field."""
    return ("mac",) if spec.kind == ids.MAC else (model_id, spec.key)


def _write(
    repo: InventoryRepository, labels: service.Labels, actor: Actor, rows: Sequence[_Row], file_name: str,
) -> None:
    """Items with their received (and marked faulty) movements; consumables added to the stock."""
    note = f"imported from {file_name}"[:service.NOTE_MAX]
    faulty = []
    for row in rows:
        if row.model.tracking == QUANTITY:
            repo.add_stock(row.model.id, row.location.id, row.quantity)
            repo.add(Movement(
                user_id=actor.user_id, username=actor.username, model_id=row.model.id, quantity=row.quantity,
                from_kind=HOLDER_NONE, to_kind=HOLDER_LOCATION, to_id=row.location.id, to_label=row.location.path,
                note=(f"{note}: {row.notes}" if row.notes else note)[:service.NOTE_MAX],
            ))
            continue
        item = service.add_new_item(
            repo, labels, actor, row.model.id, row.cleaned, row.location.id, row.notes, movement_note=note,
        )
        if row.state == FAULTY:
            faulty.append((item, row.location.id))
    repo.flush()
    for item, location_id in faulty:
        current = labels.rows([item])[0]
        service.apply_move(
            repo, labels, actor, item, current, service.Destination.location(location_id, faulty=True),
            "faulty on import",
        )
    repo.flush()


def ignored_columns_line(result: InventoryImportResult) -> str:
    """"ignored columns: Purchase date, Cost" — or empty when every column was used."""
    return f"ignored columns: {', '.join(result.ignored_columns)}" if result.ignored_columns else ""


def row_lines(rejected: Mapping[int, str] | Sequence[tuple[int, str]]) -> list[str]:
    """``row N: reason`` for each refused row, in row order."""
    pairs = rejected.items() if isinstance(rejected, Mapping) else rejected
    return [f"row {n}: {reason}" for n, reason in sorted(pairs, key=lambda p: p[0])]
