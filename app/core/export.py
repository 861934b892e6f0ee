"""Writing a table to CSV or XLSX, a row at a time. No Qt, no database: each room supplies its
rows (``app.addresses.exporting``, ``app.accounts.exporting``) and this writes them.

    count = write_table("accounts.xlsx", ExportFormat.XLSX, headers, rows)

Rows stream through: an XLSX is written with openpyxl's write-only workbook and a CSV line by
line, so an export of 100,000 accounts holds one chunk of rows at a time. A file is written
beside its target and renamed at the end, so a failed or cancelled export leaves no half file.
CSV files get a UTF-8 byte order mark, so Excel reads their accents right.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from app.core.errors import ValidationError


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @classmethod
    def for_path(cls, path: str | Path) -> ExportFormat | None:
        """The format a file name asks for by its extension, or None."""
        try:
            return cls(Path(path).suffix.lower().lstrip("."))
        except ValueError:
            return None


def write_table(target: str | Path | TextIO, fmt: ExportFormat, headers: Sequence[str],
                rows: Iterable[Sequence[object]], *, title: str = "Export",
                widths: Sequence[int] | None = None) -> int:
    """Write ``headers`` and ``rows`` to a file (or, CSV only, a text stream). Returns the number
    of rows written. ``widths``: XLSX column widths in characters."""
    if not isinstance(target, (str, Path)):
        if fmt is not ExportFormat.CSV:
            raise ValidationError("An Excel workbook needs a file name (-o FILE).", "path")
        return _write_csv(target, headers, rows, lineterminator="\n")
    path = Path(target)
    if not path.parent.exists():
        raise ValidationError(f"The folder {path.parent} does not exist.", "path")
    partial = path.with_name(f".{path.name}.part")
    try:
        if fmt is ExportFormat.CSV:
            with partial.open("w", encoding="utf-8-sig", newline="") as out:
                count = _write_csv(out, headers, rows, lineterminator="\r\n")
        else:
            count = _write_xlsx(partial, headers, rows, title, widths)
        os.replace(partial, path)
    except OSError as exc:
        raise ValidationError(f"Cannot write {path}: {exc.strerror or exc}.", "path") from None
    finally:
        partial.unlink(missing_ok=True)
    return count


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_csv(out: TextIO, headers: Sequence[str], rows: Iterable[Sequence[object]], lineterminator: str) -> int:
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        count += 1
    return count


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]], title: str,
                widths: Sequence[int] | None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for i, header in enumerate(headers, 1):
        width = widths[i - 1] if widths and i <= len(widths) else max(12, len(header) + 2)
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def heading(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    def value(v: object) -> object:
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", v)
            if v.startswith("="):  # text, never a formula
                cell = WriteOnlyCell(sheet, value=v)
                cell.data_type = "s"
                return cell
            return v
        if isinstance(v, datetime) and v.tzinfo is not None:
            return v.replace(tzinfo=None)  # Excel has no time zones; the values are UTC
        return v

    count = 0
    try:
        sheet.append([heading(h) for h in headers])
        for row in rows:
            sheet.append([value(v) for v in row])
            count += 1
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(path)
    return count


def _discard(sheet) -> None:  # noqa: ANN001
    """Close a write-only sheet that will not be saved, and remove its temporary file (left
    open, openpyxl would finish writing it whenever the garbage collector came by)."""
    try:
        sheet.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            writer.cleanup()
    except Exception:  # noqa: BLE001, S110 - best effort: the export already failed
        pass
