from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, Versioned


class ScheduledEvent(Versioned, Base):
    """A change that happens to an account on a date: change its status, disconnect it, change a
    contact (billing adds services, packages and prices later).

    ``state`` goes pending → done | failed, or pending → cancelled. A worker claims a pending row
    and applies it in one transaction, so an event runs exactly once even with several desktops
    on one database and after a crash mid-run (the crashed transaction never committed).
    """

    __tablename__ = "scheduled_events"
    __table_args__ = (
        Index("ix_scheduled_events_due", "state", "due_on", "id"),
        Index("ix_scheduled_events_account_id", "account_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(12), default="pending")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_by_name: Mapped[str] = mapped_column(String(120), default="")
    ran_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ran_by: Mapped[str] = mapped_column(String(200), default="")  # worker: user@host (pid)
    result: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
