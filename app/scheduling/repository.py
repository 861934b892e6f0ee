"""Scheduled-event queries, and the claim that makes each event run exactly once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Account
from app.core.db import Capabilities
from app.scheduling.models import ScheduledEvent

PENDING, DONE, FAILED, CANCELLED = "pending", "done", "failed", "cancelled"

_events = ScheduledEvent.__table__


class ScheduledEventRepository:
    def __init__(self, session: Session, capabilities: Capabilities) -> None:
        self.session = session
        self.capabilities = capabilities

    # -- single rows ---------------------------------------------------------------------------
    def get(self, event_id: int) -> ScheduledEvent | None:
        return self.session.get(ScheduledEvent, event_id)

    def add(self, event: ScheduledEvent) -> None:
        self.session.add(event)

    def lock_account(self, account_id: int) -> Account | None:
        """The account, locked until the transaction ends (Postgres ``FOR UPDATE``; SQLite's one
        writer needs no lock). Saves by others wait instead of racing the change being made."""
        locked = self.session.scalar(select(Account.id).where(Account.id == account_id).with_for_update())
        return self.session.get(Account, locked) if locked is not None else None

    # -- lists ---------------------------------------------------------------------------------
    def for_account(self, account_id: int) -> list[ScheduledEvent]:
        """Pending events first, soonest first; then the past ones (done, failed, cancelled),
        the latest due date first."""
        pending = ScheduledEvent.state == PENDING
        return list(self.session.scalars(
            select(ScheduledEvent)
            .where(ScheduledEvent.account_id == account_id)
            .order_by(
                case((pending, 0), else_=1),
                case((pending, ScheduledEvent.due_on), else_=None),
                ScheduledEvent.due_on.desc(),
                case((pending, ScheduledEvent.id), else_=-ScheduledEvent.id),
            )
        ))

    def pending_of_kind(self, account_id: int, kind: str) -> list[ScheduledEvent]:
        return list(self.session.scalars(
            select(ScheduledEvent)
            .where(ScheduledEvent.account_id == account_id, ScheduledEvent.kind == kind,
                   ScheduledEvent.state == PENDING)
            .order_by(ScheduledEvent.due_on, ScheduledEvent.id)
        ))

    # -- the worker's claim --------------------------------------------------------------------
    def claim_next(
        self, today: date, worker: str, now: datetime, kinds: frozenset[str], skip: frozenset[int] = frozenset()
    ) -> int | None:
        """Claim one due pending event for this transaction and return its id (None: nothing due).

        One statement: ``UPDATE … SET state = 'done' WHERE id = (the first due pending event)
        AND state = 'pending'``. The state changes in this transaction only, so it becomes
        visible together with the change the event makes, or (rolled back, crashed) not at all.
        - Postgres: the inner select takes the row with ``FOR UPDATE SKIP LOCKED``, so several
          desktops each claim a different event and never wait on one another.
        - SQLite: the UPDATE is the transaction's first statement, so it takes the single write
          lock before it reads; a second worker waits for the first to commit and then sees the
          event done.
        An event is not claimed while an earlier one of the same account is still pending, so one
        account's events apply in their order even with several workers (the earlier one may be
        in another worker's hands: this worker moves on, and the next pass takes the later one).
        Only ``kinds`` this worker knows are claimed: an older Riser leaves a newer kind (and what
        follows it on that account) to a desktop that knows it. ``skip``: ids not to claim again.
        """
        e, earlier = aliased(ScheduledEvent), aliased(ScheduledEvent)
        blocked = exists().where(
            earlier.account_id == e.account_id,
            earlier.state == PENDING,
            or_(earlier.due_on < e.due_on, and_(earlier.due_on == e.due_on, earlier.id < e.id)),
        )
        conditions = [e.state == PENDING, e.due_on <= today, e.kind.in_(sorted(kinds)), ~blocked]
        if skip:
            conditions.append(e.id.not_in(sorted(skip)))
        candidate = select(e.id).where(*conditions).order_by(e.due_on, e.id).limit(1)
        if self.capabilities.skip_locked:
            candidate = candidate.with_for_update(skip_locked=True)
        return self.session.execute(
            update(_events)
            .where(_events.c.id == candidate.scalar_subquery(), _events.c.state == PENDING)
            .values(state=DONE, ran_at=now, ran_by=worker[:200], error="",
                    version=_events.c.version + 1, updated_at=now)
            .returning(_events.c.id)
        ).scalar_one_or_none()

    def mark_failed(self, event_id: int, worker: str, now: datetime, error: str) -> bool:
        """Record that the event could not be applied. Only a still-pending event changes, so an
        event another worker has meanwhile run (or cancelled) keeps its state. True if marked."""
        result = self.session.execute(
            update(_events)
            .where(_events.c.id == event_id, _events.c.state == PENDING)
            .values(state=FAILED, ran_at=now, ran_by=worker[:200], error=error, result="",
                    version=_events.c.version + 1, updated_at=now)
        )
        return result.rowcount == 1
