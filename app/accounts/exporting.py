"""Export the accounts list to CSV or XLSX: exactly the rows the list shows for an AccountQuery
(search words, filters, sort order), with the list's columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from app.accounts.repository import AccountQuery
from app.core.export import ExportFormat, write_table
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

HEADERS = ["Number", "Name", "Status", "Type", "Address", "Primary contact", "E-mail", "Phone", "Company"]
WIDTHS = [10, 28, 12, 13, 36, 22, 32, 16, 24]
CHUNK = 1000


def export_accounts(
    uow: UnitOfWork,
    actor: Actor,
    target: str | Path | TextIO,
    fmt: ExportFormat,
    query: AccountQuery | None = None,
    progress: Callable[[int, int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> int:
    """Write the accounts ``query`` selects (default: all, by name) to ``target`` (a file, or a
    text stream for CSV); returns the count. Rows are read a chunk at a time. ``check()`` is
    called between chunks and may raise to stop (no file is left behind)."""
    actor.require(Permission.ACCOUNTS_VIEW)
    query = query or AccountQuery()
    with uow:
        ids = uow.accounts.ordered_ids(query)

        def rows() -> Iterator[tuple]:
            for start in range(0, len(ids), CHUNK):
                if check:
                    check()
                if progress:
                    progress(start, len(ids))
                for r in uow.accounts.rows_for(ids[start:start + CHUNK]):
                    yield (r.number, r.name, r.status, r.account_type, r.address, r.contact, r.email, r.phone,
                           r.company)

        count = write_table(target, fmt, HEADERS, rows(), title="Accounts", widths=WIDTHS)
        if progress:
            progress(count, max(count, len(ids)))
        return count
