"""Bill runs: the one-at-a-time claim, heartbeats, and the accounts due on a date."""

from __future__ import annotations

from sqlalchemy.orm import Session


class BillRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
