"""Bill runs: the one-at-a-time claim, heartbeats, and the accounts due on a date.

Queries only; the rules (who is due, what a stale run is, what a skip means) are in
``app.billing.bill_run``. Plain-row ``select``s of columns and Core ``UPDATE``s: the bill run
walks thousands of accounts and must not build an ORM object per account.

**The claim** serialises on one row of the core ``counters`` table (``bill_run_lock``): the
claim transaction's first statement is an ``UPDATE`` of that row. On Postgres that takes the
row lock, so a second desktop's claim waits until the first one's has committed (and then sees
its running row); on SQLite an UPDATE as the first statement takes the single write lock before
anything is read. No dialect check and no advisory lock are needed: the running ``BillRun`` row
with its heartbeat is the lock for the run's duration, this row lock only makes "look for a
running run, then insert mine" atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, insert, not_, select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account, AccountStatus
from app.billing.models import BillingAccount, BillRun, Invoice
from app.core.counters import Counter, take_next

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
LOCK_COUNTER = "bill_run_lock"
IN_CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit; small Postgres plans)

_runs = BillRun.__table__
_ba = BillingAccount.__table__
_acc = Account.__table__
_status = AccountStatus.__table__
_inv = Invoice.__table__
_counters = Counter.__table__


@dataclass(frozen=True)
class DueRow:
    """An account whose ``next_bill_on`` has come (and that does not roll up into a parent)."""

    account_id: int
    number: str
    name: str
    company_id: int
    status: str
    activates: bool
    disconnected_on: date | None
    next_bill_on: date
    bill_day: int | None  # the account's own (anniversary mode sets it), else None


def _ids_in(column, ids: Sequence[int]):
    """``column IN (…)`` with the integer ids written into the SQL rather than bound: a chunk's
    IN lists of 500 bound parameters (with Postgres casts) cost more to render and for the driver
    to parse than the queries took to run. Only integers, so nothing can be injected."""
    return column.in_(bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True))


def _chunks(items: Sequence, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class BillRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the claim -----------------------------------------------------------------------------
    def lock_claims(self) -> None:
        """Serialise bill-run claims until this transaction ends (see the module docstring)."""
        updated = self.session.execute(
            update(_counters).where(_counters.c.name == LOCK_COUNTER).values(value=_counters.c.value + 1))
        if updated.rowcount == 0:
            # The first claim ever: make the row (two desktops at once: take_next's savepoint
            # lets the loser lock the winner's row instead).
            take_next(self.session, LOCK_COUNTER, 1)

    def running(self) -> list[BillRun]:
        return list(self.session.scalars(select(BillRun).where(BillRun.state == RUNNING).order_by(BillRun.id)))

    def start(self, run_date: date, worker: str, started_by: str, now: datetime) -> int:
        return self.session.execute(
            insert(_runs).returning(_runs.c.id),
            {"run_date": run_date, "state": RUNNING, "started_at": now, "heartbeat_at": now, "finished_at": None,
             "started_by": started_by[:60], "worker": worker[:200], "invoices": 0, "total": 0, "skipped": 0,
             "summary": {}, "error": ""},
        ).scalar_one()

    def abandon(self, run_id: int, now: datetime, error: str) -> bool:
        """Mark a run whose desktop stopped (stale heartbeat, dead process) as failed."""
        result = self.session.execute(
            update(_runs).where(_runs.c.id == run_id, _runs.c.state == RUNNING)
            .values(state=FAILED, finished_at=now, error=error[:2000]))
        return result.rowcount == 1

    def heartbeat(self, run_id: int, worker: str, now: datetime, *, invoices: int, total: int, skipped: int,
                  summary: dict | None = None) -> bool:
        """Record progress. False when the run is no longer this worker's (taken over after a
        stale heartbeat, or finished elsewhere): the caller must stop and roll back."""
        values: dict = {"heartbeat_at": now, "invoices": invoices, "total": total, "skipped": skipped}
        if summary is not None:
            values["summary"] = summary
        result = self.session.execute(
            update(_runs).where(_runs.c.id == run_id, _runs.c.state == RUNNING, _runs.c.worker == worker[:200])
            .values(**values))
        return result.rowcount == 1

    def finish(self, run_id: int, worker: str, now: datetime, state: str, *, invoices: int, total: int,
               skipped: int, summary: dict, error: str = "") -> bool:
        result = self.session.execute(
            update(_runs).where(_runs.c.id == run_id, _runs.c.state == RUNNING, _runs.c.worker == worker[:200])
            .values(state=state, finished_at=now, heartbeat_at=now, invoices=invoices, total=total,
                    skipped=skipped, summary=summary, error=error[:2000]))
        return result.rowcount == 1

    # -- reading runs --------------------------------------------------------------------------
    def get(self, run_id: int) -> BillRun | None:
        return self.session.get(BillRun, run_id)

    def runs(self, limit: int = 500) -> list[BillRun]:
        """The latest first."""
        return list(self.session.scalars(select(BillRun).order_by(BillRun.id.desc()).limit(limit)))

    def invoice_count(self, run_id: int) -> int:
        return int(self.session.scalar(select(func.count()).select_from(_inv).where(_inv.c.bill_run_id == run_id))
                   or 0)

    # -- who is due ----------------------------------------------------------------------------
    def _due_query(self, run_date: date):
        rolled = and_(_ba.c.roll_up_to_parent, _acc.c.parent_id.is_not(None))
        return (
            select(_acc.c.id, _acc.c.number, _acc.c.name, _acc.c.company_id, _status.c.name, _status.c.activates,
                   _acc.c.disconnected_on, _ba.c.next_bill_on, _ba.c.bill_day)
            .join(_acc, _acc.c.id == _ba.c.account_id)
            .join(_status, _status.c.id == _acc.c.status_id)
            .where(_ba.c.next_bill_on.is_not(None), _ba.c.next_bill_on <= run_date, not_(rolled))
        )

    @staticmethod
    def _due_row(r) -> DueRow:
        return DueRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8])

    def due(self, run_date: date) -> list[DueRow]:
        """Every account due on ``run_date``, by id."""
        rows = self.session.execute(self._due_query(run_date).order_by(_acc.c.id))
        return [self._due_row(r) for r in rows]

    def due_among(self, account_ids: Sequence[int], run_date: date) -> list[DueRow]:
        """Those of ``account_ids`` still due (read again inside a chunk's transaction), by id."""
        found: list[DueRow] = []
        for part in _chunks(list(account_ids)):
            rows = self.session.execute(self._due_query(run_date).where(_ids_in(_acc.c.id, part)))
            found.extend(self._due_row(r) for r in rows)
        found.sort(key=lambda r: r.account_id)
        return found

    def lock_accounts(self, account_ids: Sequence[int]) -> None:
        """Lock these accounts' rows until the transaction ends (``FOR UPDATE``, by id so two
        lockers cannot deadlock; SQLite's single writer needs no lock and ignores it)."""
        for part in _chunks(sorted(account_ids)):
            self.session.execute(select(_acc.c.id).where(_ids_in(_acc.c.id, part)).order_by(_acc.c.id).with_for_update())

    def standing_invoices(self, billing_keys: Sequence[str]) -> dict[str, str]:
        """{billing key: number} of the standing invoices that hold these keys."""
        found: dict[str, str] = {}
        for part in _chunks(list(billing_keys)):
            found.update(self.session.execute(
                select(_inv.c.billing_key, _inv.c.number).where(_inv.c.billing_key.in_(part))).all())
        return found

    def advance(self, next_dates: Sequence[tuple[int, date]], now: datetime) -> None:
        """Move accounts' ``next_bill_on`` on (one UPDATE per date: nearly always one date, so one
        UPDATE per 500 accounts). The row's version goes up, so a profile form loaded before the
        run reloads instead of saving over it."""
        by_day: dict[date, list[int]] = {}
        for account_id, day in next_dates:
            by_day.setdefault(day, []).append(account_id)
        for day, ids in sorted(by_day.items()):
            for part in _chunks(sorted(ids)):
                self.session.execute(
                    update(_ba).where(_ids_in(_ba.c.account_id, part))
                    .values(next_bill_on=day, version=_ba.c.version + 1, updated_at=now))
