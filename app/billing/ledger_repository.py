"""Invoices, ledger entries, payments and allocations."""

from __future__ import annotations

from sqlalchemy.orm import Session


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
