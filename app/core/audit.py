"""The audit trail: who changed what, when, with the values before and after.

Every service that changes data calls ``record`` inside the same unit of work as the change,
so the entry and the change commit (or roll back) together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import utcnow
from app.core.orm import Base
from app.core.permissions import Actor


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    username: str
    entity: str
    entity_id: str
    action: str
    before: dict | None
    after: dict | None


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def changed_only(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep the keys whose values differ, so the trail reads as what actually changed."""
    keys = [k for k in after if before.get(k) != after.get(k)] + [k for k in before if k not in after]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: object,
    action: str,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    session.add(
        AuditEntry(
            user_id=actor.user_id,
            username=actor.username,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
        )
    )


def history(session: Session, entity: str, entity_id: object, limit: int = 200) -> list[AuditRow]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [AuditRow(r.at, r.username, r.entity, r.entity_id, r.action, r.before, r.after) for r in rows]
