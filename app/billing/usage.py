"""Usage records from a CSV file (RADIUS accounting will feed the same table later), and top-ups.

The file: UTF-8 (with or without a BOM), comma- or semicolon-separated, a header row naming the
columns (any order, any case; aliases such as "account number" or "download_mb" are understood):

- ``account``: the account number;
- ``start``: when the span began, ISO 8601 (``2026-11-03T14:00``, ``2026-11-03 14:00:00``, a
  date alone is midnight);
- ``end``: optional; when it ended (empty: the start — a single reading);
- ``download``, ``upload``: megabytes as a plain number, or with a unit — ``800 MB``,
  ``1.5 GB``, ``2 TB``, ``500 KB``. Units are decimal, as on the invoice and in the usage
  policies: 1 TB = 1000 GB = 1,000,000 MB. A value that is not a whole number of MB is rounded
  half-even to the MB (meters report bytes; nobody is billed per byte). A decimal comma is
  understood when it cannot be a thousands separator ("1,5 GB"; "1,500" is fifteen hundred).

**Times are the network's clock reading.** They are kept as written — a time with an offset
(``…+02:00`` or ``Z``) is converted to UTC first — because the rating engine compares them with
the policy's free periods ("every day 00:00–06:00") in that same clock (``app.billing.loading``).

**Re-importing adds nothing.** A record is identified by (account, start, source "import") — the
table's unique key. A row whose key is already stored with the same amounts is *unchanged*; with
other amounts it is *rejected* ("already imported with other amounts"), because that usage may
already be on an invoice: a correction is a new record, never a silent overwrite. A key that
appears twice in the file is rejected the second time.

**One transaction.** The good rows are written together (bulk insert) or not at all; bad rows are
reported as ``row N: reason`` with N the spreadsheet's row number (the header is row 1) and do
not stop the good ones. ``dry_run`` checks everything and writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import insert, select

from app.accounts.models import Account
from app.billing.models import UsageRecord, UsageTopUp
from app.core import audit
from app.core.errors import NotFound, RiserError, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

SOURCE = "import"
MAX_BYTES = 200 * 1024 * 1024  # a month of five-minute readings for 10,000 accounts is far less
IN_CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit)
MAX_MB = 10**12  # an exabyte in one span: a typo, not usage

COLUMNS = {
    "account": {"account", "account number", "account no", "account_number", "accountnumber", "number", "acct"},
    "start": {"start", "started", "started at", "started_at", "start time", "from", "begin"},
    "end": {"end", "ended", "ended at", "ended_at", "end time", "to", "stop"},
    "download": {"download", "download mb", "download_mb", "down", "downloaded", "rx", "in"},
    "upload": {"upload", "upload mb", "upload_mb", "up", "uploaded", "tx", "out"},
}
REQUIRED = ("account", "start", "download", "upload")
UNITS = {"": Decimal(1), "KB": Decimal("0.001"), "MB": Decimal(1), "GB": Decimal(1000), "TB": Decimal(1_000_000)}
_SIZE = re.compile(r"^([0-9][0-9,.\s]*|[.,][0-9]+)\s*([A-Za-z]*)$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


class UsageFileError(RiserError):
    """The file cannot be imported at all: unreadable, not UTF-8, or a required column missing."""


@dataclass(frozen=True)
class UsageImportResult:
    imported: int  # records written (or, in a dry run, that would be)
    unchanged: int  # rows already imported with the same amounts
    rejected: tuple[tuple[int, str], ...]  # (row number, reason)
    dry_run: bool = False

    @property
    def row_lines(self) -> list[str]:
        return [f"row {n}: {reason}" for n, reason in self.rejected]

    def summary(self) -> str:
        """"imported A, unchanged U, rejected R"."""
        return f"imported {self.imported:,}, unchanged {self.unchanged:,}, rejected {len(self.rejected):,}"


@dataclass(frozen=True)
class TopUpRow:
    id: int
    account_id: int
    bought_on: date
    mb: int
    price: int


class _RowError(Exception):
    pass


# -- reading the file ----------------------------------------------------------------------------

def _read(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(headers, [(row number, cells)]) of a UTF-8 CSV, comma or semicolon."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_BYTES:
            raise UsageFileError(f"{file.name} is larger than {MAX_BYTES // (1024 * 1024)} MB: split it.")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise UsageFileError(f"There is no file at {path}.") from None
    except IsADirectoryError:
        raise UsageFileError(f"{path} is a folder, not a CSV file.") from None
    except OSError as exc:
        raise UsageFileError(f"{file.name} cannot be read: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageFileError(f"{file.name} is not UTF-8 text: save it as CSV UTF-8 and try again.") from None
    if "\x00" in text:
        raise UsageFileError(f"{file.name} is not a CSV file.")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise UsageFileError(f"{file.name} is empty.")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    headers: list[str] | None = None
    try:
        for cells in reader:
            number = reader.line_num
            if headers is None:
                if any(c.strip() for c in cells):
                    headers = cells
                continue
            if any(c.strip() for c in cells):
                rows.append((number, cells))
    except csv.Error as exc:
        raise UsageFileError(f"{file.name} is not a well-formed CSV file (line {reader.line_num}: {exc}).") from None
    return headers or [], rows


def _columns(headers: Sequence[str], name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = " ".join(header.strip().lower().replace("-", " ").split())
        for field, names in COLUMNS.items():
            if field not in found and (key in names or key.replace(" ", "_") in names):
                found[field] = index
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise UsageFileError(
            f"{name} has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}: the first row must name "
            "the columns account, start, end (optional), download and upload.")
    return found


# -- parsing one cell ----------------------------------------------------------------------------

def parse_mb(text: str, what: str = "amount") -> int:
    """"800 MB" → 800; "1.5 GB" → 1500; "2 TB" → 2,000,000; "250" → 250 (MB); "" → 0.
    Rounded half-even to the MB. Raises ValueError with a one-line reason."""
    raw = " ".join((text or "").split())
    if not raw:
        return 0
    if raw.startswith("-"):
        raise ValueError(f"negative {what} {raw}: usage cannot be negative")
    match = _SIZE.match(raw)
    if not match:
        raise ValueError(f"{what} “{raw}” is not a size: write MB, or a number with MB, GB or TB")
    number, unit = match.group(1).replace(" ", ""), match.group(2).upper()
    if unit in ("K", "M", "G", "T"):
        unit += "B"
    if unit not in UNITS:
        raise ValueError(f"{what} “{raw}”: unknown unit {match.group(2)} (use KB, MB, GB or TB; 1 TB = 1000 GB)")
    if _GROUPED.match(number):
        number = number.replace(",", "")
    elif "," in number and "." not in number and number.count(",") == 1:
        number = number.replace(",", ".")  # a decimal comma: "1,5 GB"
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"{what} “{raw}” is not a number") from None
    mb = (value * UNITS[unit]).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    if mb > MAX_MB:
        raise ValueError(f"{what} “{raw}” is far too large for one span; check it")
    return int(mb)


def parse_time(text: str, what: str) -> datetime:
    """ISO 8601 → an aware UTC datetime holding the clock reading (an offset is converted)."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(f"no {what} time")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(f"{what} “{raw}” is not a date and time: use YYYY-MM-DD HH:MM (ISO 8601)") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC)


def _cell(cells: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


# -- the import ----------------------------------------------------------------------------------

def _account_ids(uow: UnitOfWork, numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), IN_CHUNK):
        part = ordered[start:start + IN_CHUNK]
        found.update(uow.session.execute(select(Account.number, Account.id).where(Account.number.in_(part))).all())
    return found


def _stored(uow: UnitOfWork, account_ids: set[int], earliest: datetime,
            latest: datetime) -> dict[tuple[int, datetime], tuple[datetime, int, int]]:
    """{(account id, started_at): (ended_at, download, upload)} already imported in the span."""
    found: dict[tuple[int, datetime], tuple[datetime, int, int]] = {}
    ordered = sorted(account_ids)
    r = UsageRecord.__table__.c
    for start in range(0, len(ordered), IN_CHUNK):
        part = ordered[start:start + IN_CHUNK]
        rows = uow.session.execute(
            select(UsageRecord.account_id, UsageRecord.started_at, UsageRecord.ended_at, UsageRecord.download_mb,
                   UsageRecord.upload_mb)
            .where(r.account_id.in_(part), r.source == SOURCE, UsageRecord.started_at >= earliest,
                   UsageRecord.started_at <= latest))
        for account_id, started, ended, down, up in rows:
            found[(account_id, started)] = (ended, down, up)
    return found


def import_usage(uow: UnitOfWork, actor: Actor, path: str | Path, *, dry_run: bool = False) -> UsageImportResult:
    """Import the usage CSV at ``path`` (see the module docstring). Raises ``UsageFileError``
    when the file cannot be imported at all; bad rows are in the result."""
    actor.require(Permission.BILLING_EDIT)
    headers, rows = _read(path)
    columns = _columns(headers, Path(path).name)
    parsed: list[tuple[int, str, datetime, datetime, int, int]] = []
    rejected: list[tuple[int, str]] = []
    for number, cells in rows:
        try:
            account = _cell(cells, columns["account"])
            if not account:
                raise _RowError("no account number")
            try:
                started = parse_time(_cell(cells, columns["start"]), "start")
                end_text = _cell(cells, columns.get("end"))
                ended = parse_time(end_text, "end") if end_text else started
                download = parse_mb(_cell(cells, columns["download"]), "download")
                upload = parse_mb(_cell(cells, columns["upload"]), "upload")
            except ValueError as exc:
                raise _RowError(str(exc)) from None
            if ended < started:
                raise _RowError(f"end {end_text} is before start {_cell(cells, columns['start'])}")
        except _RowError as exc:
            rejected.append((number, str(exc)))
            continue
        parsed.append((number, account, started, ended, download, upload))
    with uow:
        ids = _account_ids(uow, {p[1] for p in parsed})
        known = [p for p in parsed if p[1] in ids]
        rejected += [(p[0], f"unknown account {p[1]}") for p in parsed if p[1] not in ids]
        stored = _stored(uow, {ids[p[1]] for p in known}, min((p[2] for p in known), default=datetime.now(UTC)),
                         max((p[2] for p in known), default=datetime.now(UTC))) if known else {}
        new: list[dict] = []
        seen: dict[tuple[int, datetime], int] = {}
        unchanged = 0
        for number, account, started, ended, download, upload in known:
            key = (ids[account], started)
            if key in seen:
                rejected.append((number, (f"account {account} from {started:%Y-%m-%d %H:%M:%S} is already in row "
                                          f"{seen[key]}")))
                continue
            seen[key] = number
            before = stored.get(key)
            if before is None:
                new.append({"account_id": key[0], "started_at": started, "ended_at": ended, "download_mb": download,
                            "upload_mb": upload, "source": SOURCE})
            elif before == (ended, download, upload):
                unchanged += 1
            else:
                rejected.append((number, (f"account {account} from {started:%Y-%m-%d %H:%M:%S} was already imported "
                                          f"with other amounts ({before[1]:,} MB down, {before[2]:,} MB up); a "
                                          "correction is a new record, the old one is kept")))
        rejected.sort(key=lambda r: r[0])
        if not dry_run and new:
            for start in range(0, len(new), 5000):
                uow.session.execute(insert(UsageRecord), new[start:start + 5000])
            audit.record(uow.session, actor, "billing_usage", "import", "import usage", None, {
                "file": Path(path).name, "imported": len(new), "unchanged": unchanged, "rejected": len(rejected),
                "accounts": len({r["account_id"] for r in new}),
            })
            uow.commit()
    return UsageImportResult(len(new), unchanged, tuple(rejected), dry_run)


# -- top-ups -------------------------------------------------------------------------------------

def add_topup(uow: UnitOfWork, actor: Actor, account_id: int, mb: int, price: int, bought_on: date) -> TopUpRow:
    """Record a top-up the account bought: ``mb`` more usage this period, for ``price`` (minor
    units), invoiced with the account's next bill (``app.billing.rating``)."""
    actor.require(Permission.BILLING_EDIT)
    for value, field, what in ((mb, "mb", "The top-up's size"), (price, "price", "The top-up's price")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{what} is a whole number ({'MB' if field == 'mb' else 'minor units'}).", field)
    if mb <= 0:
        raise ValidationError("A top-up adds at least 1 MB.", "mb")
    if price < 0:
        raise ValidationError("A top-up's price cannot be negative.", "price")
    if not isinstance(bought_on, date) or isinstance(bought_on, datetime):
        raise ValidationError("Choose the day the top-up was bought.", "bought_on")
    with uow:
        account = uow.session.get(Account, account_id) if isinstance(account_id, int) else None
        if account is None:
            raise NotFound("That account no longer exists.")
        row = UsageTopUp(account_id=account.id, bought_on=bought_on, mb=mb, price=price, invoiced=False)
        uow.session.add(row)
        uow.session.flush()
        audit.record(uow.session, actor, "account", account.id, "usage top-up", None,
                     {"topup": row.id, "mb": mb, "price": price, "bought_on": bought_on})
        uow.commit()
        return TopUpRow(row.id, account.id, bought_on, mb, price)
