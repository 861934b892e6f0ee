"""The outbox: work for another part of Riser, written in the same transaction as its cause.

Billing writes "throttle", "restore" and "disconnect" events for the network (topic
``network``) when an account's delinquency changes; the networking room consumes them and acts
on the router. Because the event commits with its cause, it is never lost and never sent for a
change that rolled back. A consumer marks an event processed when it has acted on it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import utcnow
from app.core.orm import Base

NETWORK = "network"


class OutboxEvent(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "topic", "processed_at", "id"),
        Index("ix_outbox_account_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True)


def emit(session: Session, topic: str, kind: str, account_id: int | None = None, **payload: object) -> OutboxEvent:
    """Add an event to the caller's transaction."""
    event = OutboxEvent(topic=topic, kind=kind, account_id=account_id, payload=dict(payload))
    session.add(event)
    return event
