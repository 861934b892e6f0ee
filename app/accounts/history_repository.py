"""Audit entries about one account and the rows that belong to it (notes, calls, contacts,
scheduled events). No business rules here."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import AccountNote, CallLog, Contact
from app.core.audit import AuditEntry
from app.scheduling.models import ScheduledEvent

ACCOUNT_ENTITY = "account"
CONTACT_ENTITY = "contact"
# What the scheduling service may call its audit entity; any of them is read.
EVENT_ENTITIES = ("scheduled_event", "scheduled_events", "event")


class HistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def note_bodies(self, account_id: int) -> dict[int, str]:
        rows = self.session.execute(
            select(AccountNote.id, AccountNote.body).where(AccountNote.account_id == account_id))
        return {note_id: body for note_id, body in rows}

    def call_ids(self, account_id: int) -> list[int]:
        return list(self.session.scalars(select(CallLog.id).where(CallLog.account_id == account_id)))

    def contact_ids(self, account_id: int) -> list[int]:
        return list(self.session.scalars(select(Contact.id).where(Contact.account_id == account_id)))

    def event_ids(self, account_id: int) -> list[int]:
        return list(self.session.scalars(select(ScheduledEvent.id).where(ScheduledEvent.account_id == account_id)))

    def entries(self, wanted: dict[str, list[int]], limit: int) -> list[AuditEntry]:
        """Entries for any of these entities and ids, newest first."""
        conditions = [
            and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_([str(i) for i in ids]))
            for entity, ids in wanted.items() if ids
        ]
        if not conditions:
            return []
        return list(self.session.scalars(
            select(AuditEntry).where(or_(*conditions))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
