"""The unit of work: one transaction, committed explicitly, rolled back otherwise.

    with uow_factory() as uow:
        account = uow.accounts.get(42)
        ...
        uow.commit()

Leaving the block without ``commit()`` rolls everything back, so a failed save, import or run
leaves the data exactly as it was. Driver errors leave as ``DatabaseError`` with a readable
message; a stale version becomes a ``ConflictError``.
"""

from __future__ import annotations

from typing import Self

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.core.db import Database, translate_error
from app.core.errors import ConflictError, ReadOnlyDatabase


class UnitOfWorkBase:
    session: Session

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Self:
        self.session = self.db.session_factory()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:  # noqa: ANN001
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, StaleDataError):
            raise ConflictError("record", None, None) from exc
        if isinstance(exc, DBAPIError):
            raise translate_error(exc, self.db.url) from exc
        return False

    def commit(self) -> None:
        if self.db.read_only_reason:
            raise ReadOnlyDatabase(self.db.read_only_reason)
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()
