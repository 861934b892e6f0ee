"""Export every serviceable address to CSV or XLSX: each building, then its units.

The columns are the import's fields under the names the import recognises, so an exported file
imports again as it is (into another database, or into this one as "all unchanged").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from app.addresses.importing import FIELD_LABELS, FIELDS
from app.core.export import ExportFormat, write_table
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

HEADERS = [FIELD_LABELS[f] for f in FIELDS]
WIDTHS = [22, 30, 8, 7, 18, 15, 12, 9, 16]
CHUNK = 2000


def export_addresses(
    uow: UnitOfWork,
    actor: Actor,
    target: str | Path | TextIO,
    fmt: ExportFormat,
    progress: Callable[[int, int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> int:
    """Write every address to ``target`` (a file, or a text stream for CSV); returns the count.
    ``check()`` is called between chunks and may raise to stop (no file is left behind)."""
    actor.require(Permission.ADDRESSES_VIEW)
    with uow:
        total = uow.addresses.count_all()

        def rows() -> Iterator[tuple]:
            for done, row in enumerate(uow.addresses.export_rows(CHUNK)):
                if done % CHUNK == 0:
                    if check:
                        check()
                    if progress:
                        progress(done, total)
                yield row

        count = write_table(target, fmt, HEADERS, rows(), title="Addresses", widths=WIDTHS)
        if progress:
            progress(count, max(total, count))
        return count
