"""Overdue invoices, delinquent accounts, exclusions, the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session


class DelinquencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
