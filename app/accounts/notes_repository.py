"""Queries over an account's notes and call log. No business rules here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AccountNote, CallLog, Contact
from app.core.audit import AuditEntry

NOTE_ENTITY = "account_note"
CALL_ENTITY = "call_log"


class NotesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: AccountNote | CallLog) -> None:
        self.session.add(row)

    def note(self, note_id: int) -> AccountNote | None:
        return self.session.get(AccountNote, note_id)

    def notes(self, account_id: int, *, pinned_only: bool = False, pinned_first: bool = False,
              limit: int | None = None) -> list[AccountNote]:
        stmt = select(AccountNote).where(AccountNote.account_id == account_id)
        if pinned_only:
            stmt = stmt.where(AccountNote.pinned.is_(True))
        order = [AccountNote.created_at.desc(), AccountNote.id.desc()]
        if pinned_first:
            order.insert(0, AccountNote.pinned.desc())
        return list(self.session.scalars(stmt.order_by(*order).limit(limit)))

    def calls(self, account_id: int, *, limit: int | None = None) -> list[CallLog]:
        stmt = (select(CallLog).where(CallLog.account_id == account_id)
                .order_by(CallLog.created_at.desc(), CallLog.id.desc()).limit(limit))
        return list(self.session.scalars(stmt))

    def contact(self, contact_id: int) -> Contact | None:
        return self.session.get(Contact, contact_id)

    def contacts(self, account_id: int) -> list[Contact]:
        return list(self.session.scalars(
            select(Contact).where(Contact.account_id == account_id)
            .order_by(Contact.is_primary.desc(), Contact.name, Contact.id)))

    def recorded_by(self, entity: str, ids: list[int]) -> dict[int, str]:
        """Who the audit trail says created these rows: the fallback name when the row has no
        staff user (written by the command line, or the user was deleted)."""
        if not ids:
            return {}
        rows = self.session.execute(
            select(AuditEntry.entity_id, AuditEntry.username)
            .where(AuditEntry.entity == entity, AuditEntry.action == "create",
                   AuditEntry.entity_id.in_([str(i) for i in ids])))
        return {int(entity_id): username for entity_id, username in rows}
