"""Spreadsheet import of serviceable addresses: read a CSV or XLSX file, guess which column is
which, check every row with ``clean_address`` (the rule the address form uses too) and add the
new places in one transaction.

    sheet = read_sheet(path)                    # ImportFileError when it cannot be read at all
    mapping = guess_mapping(sheet.headers)      # field → column index; the caller may change it
    result = import_addresses(uow, actor, sheet, mapping, policy=ImportPolicy.VALID_ROWS)

Row numbers are the spreadsheet's: the header is row 1 and blank lines count, so "row 7" is the
row Excel shows as 7. A row whose place is already in the database (the same match key, however
it is spelled) is *unchanged*, so importing a file twice adds nothing the second time. A row
repeating an earlier row of the same file is rejected as "duplicate of row M".

A unit finds or makes its building (the anchor row with the same country, street and city), as
``service.create_address`` does. Everything is written in one transaction, committed at the end:
a bad row under "all or nothing", a cancel (``check`` raising) or any error leaves the database
exactly as it was. Rows go in with bulk INSERTs in chunks, and the audit trail gets one entry for
the whole import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path

from app.addresses.normalise import normalise_country
from app.addresses.service import AddressInput, CleanAddress, clean_address
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import RiserError, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

FIELDS = ("building", "street", "unit", "floor", "city", "region", "postal_code", "country", "serviceable_from")
FIELD_LABELS = {
    "building": "Building", "street": "Street", "unit": "Unit", "floor": "Floor", "city": "City",
    "region": "State/province", "postal_code": "Postal code", "country": "Country",
    "serviceable_from": "Serviceable from",
}
REQUIRED_FIELDS = ("street", "city")

CHUNK = 2000  # rows per INSERT batch, and how often progress is reported and cancel checked
PREVIEW_ROWS = 20

Cell = str | int | float | bool | date | datetime | time | None
ColumnMapping = dict[str, int | None]  # target field → column index in the file (None: not in the file)
Progress = Callable[[int, int], None]


class ImportFileError(RiserError):
    """The file cannot be imported at all: unreadable, not a spreadsheet, or no street/city column."""


class ImportCancelled(Exception):  # noqa: N818 - a request, not an error
    """Raise from ``check`` to stop an import; nothing is written."""


class ImportPolicy(StrEnum):
    VALID_ROWS = "valid-rows"  # import the good rows, report the bad ones
    ALL_OR_NOTHING = "all-or-nothing"  # write nothing if any row is bad


@dataclass(frozen=True)
class Sheet:
    """What was read from the file: the header and every non-blank row with its row number."""

    name: str  # the file's name, for messages and the audit trail
    headers: list[str]
    rows: list[tuple[int, tuple[Cell, ...]]]  # (spreadsheet row number, cells)
    encoding: str = ""  # CSV: what the bytes were read as
    delimiter: str = ""  # CSV: the separator found

    def describe(self) -> str:
        """'1,204 rows · UTF-8 · semicolon-separated'"""
        parts = [f"{len(self.rows):,} row{'s' if len(self.rows) != 1 else ''}"]
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            parts.append(f"{_DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated")
        else:
            parts.append("Excel workbook")
        return " · ".join(parts)


@dataclass(frozen=True)
class ImportResult:
    imported: int  # rows added (a dry run: rows that would be added under the policy)
    unchanged: int  # rows already in the database
    rejected: list[tuple[int, str]]  # (row number, reason)
    new: int = 0  # valid rows not yet in the database, whatever the policy
    buildings: int = 0  # buildings made for unit rows whose building was not there yet
    rows: int = 0  # non-blank rows below the header
    dry_run: bool = False
    written: bool = False  # committed (False: a dry run, or all-or-nothing with a bad row)

    def summary(self) -> str:
        return f"imported {self.imported:,}, unchanged {self.unchanged:,}, rejected {len(self.rejected):,}"


@dataclass(frozen=True)
class RowStatus:
    """One row of the preview: what the file says for each mapped field, and what would happen."""

    row: int
    values: dict[str, str]  # field → the cell as text
    status: str  # "New", "Already known", "duplicate of row 3", or what is wrong
    ok: bool
    known: bool = False


@dataclass(frozen=True)
class Analysis:
    """A dry run of the whole file plus the first rows in detail (the import dialog's preview)."""

    result: ImportResult
    preview: list[RowStatus] = field(default_factory=list)


# -- reading the file --------------------------------------------------------------------------

_DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def read_sheet(path: str | Path) -> Sheet:
    """Read a CSV (any common encoding and separator) or the first sheet of an XLSX workbook."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a folder, not a spreadsheet.") from None
    except OSError as exc:
        raise ImportFileError(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    name = path.name
    if not data.strip():
        raise ImportFileError(f"{name} is empty.")
    suffix = path.suffix.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise ImportFileError(f"{name} is an Excel 97–2003 workbook (.xls): save it as .xlsx or CSV and import that.")
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(name, data)
    return _read_csv(name, data)


def _read_xlsx(name: str, data: bytes) -> Sheet:
    import openpyxl  # imported here: only workbooks need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike: not a workbook
        raise ImportFileError(f"{name} is not a readable Excel workbook ({type(exc).__name__}: {exc}).") from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(f"{name} has no worksheet.")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read every row there is
        # Empty rows come through as empty tuples, so the count stays the spreadsheet's row number.
        return _sheet(name, enumerate(sheet.iter_rows(values_only=True), 1))
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ImportFileError(f"{name} could not be read ({type(exc).__name__}: {exc}).") from None
    finally:
        workbook.close()


def _read_csv(name: str, data: bytes) -> Sheet:
    text, encoding = _decode(name, data)
    if "\x00" in text:
        raise ImportFileError(f"{name} is not a CSV file or an Excel workbook.")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return replace(_sheet(name, enumerate(reader, 1)), encoding=encoding, delimiter=delimiter)
    except csv.Error as exc:
        raise ImportFileError(f"{name}, line {reader.line_num}: {exc}.") from None


def _sheet(name: str, numbered: Iterable[tuple[int, Iterable[Cell]]]) -> Sheet:
    headers: list[str] | None = None
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    for number, raw in numbered:
        cells = list(raw)
        while cells and _blank(cells[-1]):
            cells.pop()
        if not cells:
            continue
        if headers is None:
            headers = [_text(c).strip() for c in cells]
        else:
            rows.append((number, tuple(cells)))
    if headers is None:
        raise ImportFileError(f"{name} is empty.")
    return Sheet(name, headers, rows)


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """The text and a name for its encoding: a BOM decides; then UTF-16 without a BOM (every
    other byte NUL); then UTF-8 when it decodes; else Windows-1252, else Latin-1."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError:
                raise ImportFileError(f"{name} starts like {label} text but is not valid {label}.") from None
    head = data[:4096]
    if len(head) >= 4 and head.count(0) > len(head) // 4:
        odd, even = head[1::2].count(0), head[0::2].count(0)
        codec = "utf-16-le" if odd > even else "utf-16-be"
        try:
            return data.decode(codec), "UTF-16"
        except UnicodeDecodeError:
            raise ImportFileError(f"{name} is not a CSV file or an Excel workbook.") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:  # five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "Latin-1"


def _sniff_delimiter(text: str) -> str:
    """csv.Sniffer over the first lines; when it fails or its choice does not split the header,
    the separator that splits the header into the most columns, the same count on most lines."""
    lines = [line for line in text[:65536].splitlines() if line.strip()][:50]
    if not lines:
        return ","

    def profile(delimiter: str) -> tuple[float, int]:
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        header = widths[0]
        steady = sum(w == header for w in widths) / len(widths)
        return (steady if header > 1 else 0.0), header

    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and profile(sniffed)[1] > 1:
        return sniffed
    best = max(_DELIMITERS, key=profile)
    return best if profile(best)[1] > 1 else ","


# -- which column is which ---------------------------------------------------------------------

# Whole headers (lower-cased, punctuation as spaces) that name a field outright …
_SYNONYMS: dict[str, set[str]] = {
    "building": {"building", "building name", "property", "property name", "complex", "site", "site name",
                 "development", "building property"},
    "street": {"street", "street address", "address", "address line 1", "address 1", "address1", "addr",
               "addr1", "street 1", "line 1", "street line 1", "civic address", "service address"},
    "unit": {"unit", "apt", "apartment", "suite", "unit no", "unit number", "unit num", "apt no", "apt number",
             "apartment number", "suite number", "flat", "room", "address line 2", "address 2", "address2",
             "line 2", "apt suite", "suite apt", "unit apt", "apt unit", "ste"},
    "floor": {"floor", "level", "storey", "story", "floor number", "floor no", "fl"},
    "city": {"city", "town", "city town", "town city", "municipality", "locality", "suburb"},
    "region": {"region", "state", "province", "prov", "state province", "province state", "territory",
               "state prov", "county"},
    "postal_code": {"postal code", "postcode", "post code", "zip", "zip code", "zipcode", "postal",
                    "zip postal code", "postal zip code", "zip postal", "postal zip", "pc"},
    "country": {"country", "country code", "nation", "iso country"},
    "serviceable_from": {"serviceable from", "available from", "available", "availability", "available date",
                         "serviceable", "serviceable date", "ready", "ready date", "ready for service",
                         "service date", "in service", "in service date", "from", "start date", "live date",
                         "lit date", "go live"},
}
# … and words that point at one when no header names it outright (checked in this order).
_KEYWORDS: list[tuple[str, set[str]]] = [
    ("postal_code", {"zip", "postal", "postcode", "zipcode"}),
    ("unit", {"apt", "apartment", "suite", "unit", "ste", "flat"}),
    ("floor", {"floor", "level", "storey"}),
    ("region", {"state", "province", "prov", "region"}),
    ("city", {"city", "town", "municipality"}),
    ("country", {"country"}),
    ("serviceable_from", {"available", "serviceable", "ready", "lit"}),
    ("street", {"street", "address", "addr", "road"}),
    ("building", {"building", "property", "complex"}),
]
_NOT_A_PLACE = {"email", "mail", "ip", "mac", "web", "url"}


def _header_key(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.lower().replace("e-mail", "email")).split())


def guess_mapping(headers: list[str]) -> ColumnMapping:
    """Which column holds which field, from the header: case-insensitive, with common synonyms
    ("Apt", "Suite", "Unit #" → unit; "ZIP", "Postcode" → postal code; "Province" → region …).
    Each field takes at most one column and each column at most one field."""
    keys = [_header_key(h) for h in headers]
    mapping: ColumnMapping = dict.fromkeys(FIELDS)
    used: set[int] = set()
    for name in FIELDS:
        for i, key in enumerate(keys):
            if i not in used and key in _SYNONYMS[name]:
                mapping[name] = i
                used.add(i)
                break
    for i, key in enumerate(keys):
        words = set(key.split())
        if i in used or not words or words & _NOT_A_PLACE:
            continue
        for name, hints in _KEYWORDS:
            if mapping[name] is None and words & hints:
                if name == "street" and ({"2", "line2"} & words):
                    continue
                if name == "building" and words & {"address", "street"}:
                    continue
                mapping[name] = i
                used.add(i)
                break
    return mapping


def check_mapping(sheet: Sheet, mapping: Mapping[str, int | None]) -> None:
    """Refuse a mapping without a street or city column (every row would be rejected)."""
    missing = [FIELD_LABELS[f].lower() for f in REQUIRED_FIELDS if mapping.get(f) is None]
    if missing:
        shown = ", ".join(f"'{h}'" for h in sheet.headers if h) or "no names"
        raise ImportFileError(
            f"{sheet.name} has no {' or '.join(missing)} column (its header has {shown}); "
            "name the columns in the first row, e.g. Street, Unit, City, Postal code.")
    for name, index in mapping.items():
        if name not in FIELD_LABELS:
            raise ImportFileError(f"'{name}' is not an address field (one of: {', '.join(FIELDS)}).")
        if index is not None and not 0 <= index < len(sheet.headers):
            raise ImportFileError(f"Column {index + 1} is not in {sheet.name}.")


# -- one row -----------------------------------------------------------------------------------

def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    return str(cell)


def _postal_text(cell: Cell, country: str) -> str:
    """A ZIP code a spreadsheet turned into a number lost its leading zeros (02110 → 2110)."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer() and country == "US":
        number = int(cell)
        if 0 <= number <= 99999:
            return f"{number:05d}"
        if 1_000_000 <= number <= 999_999_999:
            return f"{number:09d}"
    return _text(cell)


_ORDINAL_FLOOR = re.compile(r"^([+-]?\d{1,4})(?:st|nd|rd|th)?(?:\s*(?:floor|fl\.?))?$", re.IGNORECASE)


def parse_floor(cell: Cell) -> int | None:
    if _blank(cell):
        return None
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer():
        return int(cell)
    raw = _text(cell).strip()
    if raw.lower() in ("g", "gf", "ground", "ground floor", "main", "lobby"):
        return 0
    m = _ORDINAL_FLOOR.match(raw)
    if m:
        return int(m.group(1))
    raise ValidationError(f"Floor '{raw}' is not a number.", "floor")


_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y")


def parse_date(cell: Cell) -> date | None:
    """A date from a spreadsheet cell: an Excel date, YYYY-MM-DD (also with / or .), a day and
    month that cannot be mixed up (15/01/2026, 01/15/2026), or a month name (1 Mar 2026)."""
    if _blank(cell):
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if 1 <= cell < 2_958_466:  # an Excel serial day number (up to 9999-12-31)
            from openpyxl.utils.datetime import from_excel

            return from_excel(cell).date()
        raise ValidationError(f"'{_text(cell)}' is not a date; write it as YYYY-MM-DD.", "serviceable_from")
    raw = " ".join(_text(cell).split())
    try:
        m = _ISO_DATE.match(raw)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _NUMERIC_DATE.match(raw)
        if m:
            first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if first > 12 or first == second:
                return date(year, second, first)
            if second > 12:
                return date(year, first, second)
            raise ValidationError(
                f"'{raw}' could be {first} {_month(second)} or {second} {_month(first)}: "
                f"write it as {year}-{second:02d}-{first:02d} or {year}-{first:02d}-{second:02d}.",
                "serviceable_from")
        cleaned = raw.replace(",", " ").replace(".", " ")
        cleaned = " ".join(cleaned.split())
        for fmt in _MONTH_FORMATS:
            try:
                return datetime.strptime(cleaned, fmt).date()
            except ValueError:
                continue
    except ValueError:  # 2026-02-30
        pass
    raise ValidationError(f"'{raw}' is not a date; write it as YYYY-MM-DD.", "serviceable_from")


def _month(number: int) -> str:
    return date(2000, number, 1).strftime("%B")


def _cell(cells: tuple[Cell, ...], index: int | None) -> Cell:
    return cells[index] if index is not None and 0 <= index < len(cells) else None


def row_values(cells: tuple[Cell, ...], mapping: Mapping[str, int | None]) -> dict[str, str]:
    """The mapped cells of one row as text (for the preview)."""
    return {name: _text(_cell(cells, index)).strip() for name, index in mapping.items() if index is not None}


def row_input(cells: tuple[Cell, ...], mapping: Mapping[str, int | None], default_country: str) -> AddressInput:
    """One row as the form's input; raises ValidationError for a floor or date it cannot read."""
    def get(name: str) -> Cell:
        return _cell(cells, mapping.get(name))

    country_text = _text(get("country"))
    try:
        country = normalise_country(country_text) or default_country.upper()
    except ValidationError:
        country = ""  # clean_address says what is wrong with it
    return AddressInput(
        street=_text(get("street")), city=_text(get("city")), unit=_text(get("unit")),
        building=_text(get("building")), floor=parse_floor(get("floor")), region=_text(get("region")),
        postal_code=_postal_text(get("postal_code"), country), country=country_text,
        serviceable_from=parse_date(get("serviceable_from")),
    )


# -- the import --------------------------------------------------------------------------------

@dataclass
class _Plan:
    rows: int = 0
    new: list[tuple[int, CleanAddress]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    preview: list[RowStatus] = field(default_factory=list)


def _plan(sheet: Sheet, mapping: Mapping[str, int | None], default_country: str, existing: Mapping[str, object],
          preview: int, progress: Progress | None, check: Callable[[], None] | None, total: int) -> _Plan:
    plan = _Plan(rows=len(sheet.rows))
    first_row: dict[str, int] = {}  # match key → the row that had it first
    for i, (number, cells) in enumerate(sheet.rows):
        if i % CHUNK == 0:
            if check:
                check()
            if progress:
                progress(i, total)
        known = False
        try:
            clean = clean_address(row_input(cells, mapping, default_country), default_country)
        except ValidationError as exc:
            status, ok = str(exc), False
        else:
            earlier = first_row.get(clean.key)
            if earlier is not None:
                status, ok = f"duplicate of row {earlier}", False
            else:
                first_row[clean.key] = number
                if clean.key in existing:
                    plan.unchanged += 1
                    status, ok, known = "Already known", True, True
                else:
                    plan.new.append((number, clean))
                    status, ok = "New", True
        if not ok:
            plan.rejected.append((number, status))
        if i < preview:
            plan.preview.append(RowStatus(number, row_values(cells, mapping), status, ok, known))
    return plan


def import_addresses(
    uow: UnitOfWork,
    actor: Actor,
    sheet: Sheet,
    mapping: Mapping[str, int | None] | None = None,
    *,
    policy: ImportPolicy = ImportPolicy.VALID_ROWS,
    dry_run: bool = False,
    progress: Progress | None = None,
    check: Callable[[], None] | None = None,
) -> ImportResult:
    """Import the sheet's rows (``mapping`` None: guessed from the header). ``progress(done,
    total)`` is called as it goes; ``check()`` is called between chunks and may raise (e.g.
    ImportCancelled) to stop: nothing is then written. A dry run checks and counts only."""
    return _run(uow, actor, sheet, mapping, policy, dry_run, progress, check, preview=0).result


def analyse(uow: UnitOfWork, actor: Actor, sheet: Sheet, mapping: Mapping[str, int | None] | None = None,
            preview: int = PREVIEW_ROWS, policy: ImportPolicy = ImportPolicy.VALID_ROWS,
            check: Callable[[], None] | None = None) -> Analysis:
    """A dry run of the whole sheet, with the first ``preview`` rows' statuses."""
    return _run(uow, actor, sheet, mapping, policy, True, None, check, preview)


def _run(uow: UnitOfWork, actor: Actor, sheet: Sheet, mapping: Mapping[str, int | None] | None,
         policy: ImportPolicy, dry_run: bool, progress: Progress | None, check: Callable[[], None] | None,
         preview: int) -> Analysis:
    actor.require(Permission.ADDRESSES_VIEW if dry_run else Permission.ADDRESSES_EDIT)
    mapping = dict(guess_mapping(sheet.headers) if mapping is None else mapping)
    check_mapping(sheet, mapping)
    total = 2 * len(sheet.rows)  # checking the rows, then writing them
    with uow:
        default_country = uow.companies.default().country or "US"
        existing = uow.addresses.existing_keys()
        plan = _plan(sheet, mapping, default_country, existing, preview, progress, check, total)
        refused = policy is ImportPolicy.ALL_OR_NOTHING and bool(plan.rejected)
        buildings = 0
        if not dry_run and not refused:
            buildings = _write(uow, actor, plan, len(sheet.rows), progress, check)
            audit.record(uow.session, actor, "address", "import", "import", None, {
                "file": sheet.name, "rows": plan.rows, "imported": len(plan.new), "unchanged": plan.unchanged,
                "rejected": len(plan.rejected), "buildings": buildings, "policy": policy.value,
            })
            if check:
                check()  # the last moment a cancel still leaves everything as it was
            uow.commit()
        elif dry_run and not refused:
            buildings = _count_new_buildings(plan, existing)
        if progress:
            progress(total, total)
    imported = 0 if refused else len(plan.new)
    result = ImportResult(imported, plan.unchanged, plan.rejected, new=len(plan.new), buildings=buildings,
                          rows=plan.rows, dry_run=dry_run, written=not dry_run and not refused)
    return Analysis(result, plan.preview)


def _count_new_buildings(plan: _Plan, existing: Mapping[str, object]) -> int:
    explicit = {c.key for _, c in plan.new if not c.unit}
    return len({c.building_key for _, c in plan.new if c.unit} - explicit - set(existing))


def _write(uow: UnitOfWork, actor: Actor, plan: _Plan, rows: int, progress: Progress | None,
           check: Callable[[], None] | None) -> int:
    """Insert the plan's new rows: buildings first (with their ids back), then the units pointing
    at them. Returns how many buildings were made for unit rows."""
    anchors = uow.addresses.anchors()  # building key → (id, name) of the buildings already there
    made: dict[str, CleanAddress] = {}  # building key → the building row to insert
    explicit: set[str] = set()  # …of which the file has a row of its own
    for _, clean in plan.new:
        if not clean.unit:
            made[clean.key] = clean
            explicit.add(clean.key)
        elif clean.building_key not in anchors:
            anchor = made.get(clean.building_key)
            if anchor is None:  # as create_address makes it: from the unit's own row
                made[clean.building_key] = replace(clean, unit="", floor=None, key=clean.building_key)
            elif clean.building_key not in explicit and not anchor.building and clean.building:
                made[clean.building_key] = replace(anchor, building=clean.building)

    now = utcnow()
    audit_fields = dict(version=1, created_at=now, updated_at=now, updated_by_id=actor.user_id)
    units = [clean for _, clean in plan.new if clean.unit]
    keys = list(made)
    writes, written = len(keys) + len(units), 0

    def step(count: int) -> None:
        nonlocal written
        written += count
        if progress:
            progress(rows + rows * written // max(writes, 1), 2 * rows)

    new_ids: list[int] = []
    for start in range(0, len(keys), CHUNK):
        if check:
            check()
        batch = [_columns(made[k], None, audit_fields) for k in keys[start:start + CHUNK]]
        new_ids += uow.addresses.insert_many(batch, returning=True)
        step(len(batch))
    parents = dict(anchors)
    parents.update({key: (new_id, made[key].building) for key, new_id in zip(keys, new_ids, strict=True)})

    for start in range(0, len(units), CHUNK):
        if check:
            check()
        batch = []
        for clean in units[start:start + CHUNK]:
            parent_id, building = parents[clean.building_key]
            if not clean.building and building:
                clean = replace(clean, building=building)
            batch.append(_columns(clean, parent_id, audit_fields))
        uow.addresses.insert_many(batch)
        step(len(batch))
    return len(made) - len(explicit)


def _columns(clean: CleanAddress, parent_id: int | None, audit_fields: dict) -> dict:
    return dict(
        audit_fields, parent_id=parent_id, building=clean.building, street=clean.street, unit=clean.unit,
        floor=clean.floor, city=clean.city, region=clean.region, postal_code=clean.postal_code,
        country=clean.country, serviceable_from=clean.serviceable_from, match_key=clean.key,
        search_text=clean.search_text,
    )


# -- the rows that were refused ----------------------------------------------------------------

def write_rejected(sheet: Sheet, rejected: list[tuple[int, str]], path: str | Path) -> int:
    """The refused rows as a CSV to fix and import again: the file's own columns, then the row
    number and the reason (columns the import does not map, so they are ignored next time)."""
    by_row = {number: cells for number, cells in sheet.rows}
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*sheet.headers, "Source row", "Problem"])
        for number, reason in rejected:
            cells = [_text(c) for c in by_row.get(number, ())]
            cells += [""] * (len(sheet.headers) - len(cells))
            writer.writerow([*cells, number, reason])
    return len(rejected)
