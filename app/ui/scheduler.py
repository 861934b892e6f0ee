"""Runs the due scheduled events in the background: at start-up, then every minute; and once a
day the billing checks (late fees, then delinquency — both safe to run on several desktops: each
fee and each change is claimed once).

Every desktop runs it; the service makes sure each event still runs exactly once (several
desktops on one Postgres claim different events; SQLite has one writer). A run never overlaps
the previous one, goes through the runner's write pool (one writer on SQLite), and takes at most
``BATCH`` events before it lets other writes in; a backlog continues straight away. Failures are
logged, never shown in a dialog: a failed event records its reason on the event itself.
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QObject, QTimer, Signal

from app.billing import daily
from app.core.permissions import Actor
from app.scheduling import service
from app.ui.context import AppContext
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

INTERVAL_MS = 60_000
BATCH = 50
# Events were authorised by whoever scheduled them; running them is the application's work, so
# it does not depend on the role of whoever is signed in here. The audit entry names this actor,
# the event names the desktop (``ran_by``).
SCHEDULER = Actor.system("scheduler")


class EventScheduler(QObject):
    ran = Signal(object)  # RunSummary, after each run that did something
    daily_ran = Signal(object)  # billing DailyResult, once a day

    def __init__(self, ctx: AppContext, runner: TaskRunner, parent: QObject | None = None,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.ctx, self.runner = ctx, runner
        self.worker = service.worker_name(ctx.actor.username)
        self.busy = False
        self.daily_on: date | None = None  # the day the billing checks last ran here
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.run_now)

    def start(self) -> None:
        self.run_now()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def run_now(self) -> bool:
        """Start a run unless one is under way (or the database is read-only). True if started."""
        if self.busy or self.ctx.read_only:
            return False
        self.busy = True
        uow, worker = self.ctx.uow, self.worker
        self.runner.submit(
            lambda: service.run_due_events(uow, SCHEDULER, date.today(), worker, limit=BATCH),
            self._done, self._failed, writes=True, owner=self,
        )
        return True

    def run_daily(self) -> bool:
        """The billing checks, once per calendar day on this desktop. True if started."""
        today = date.today()
        if self.daily_on == today or self.ctx.read_only:
            return False
        self.daily_on = today
        uow = self.ctx.uow
        self.runner.submit(
            lambda: daily.run_daily(uow, SCHEDULER, today), self._daily_done, self._daily_failed,
            writes=True, owner=self, label="Billing checks",
        )
        return True

    def _daily_done(self, result: daily.DailyResult) -> None:
        log.info("billing checks: %s", result.summary)
        for error in result.errors:
            log.warning("billing check: %s", error)
        self.daily_ran.emit(result)

    def _daily_failed(self, exc: BaseException) -> None:
        self.daily_on = None  # try again at the next tick
        log.warning("billing checks could not run: %s", exc)

    def _done(self, summary: service.RunSummary) -> None:
        self.busy = False
        self.run_daily()
        if not (summary.ran or summary.failed or summary.skipped):
            return
        log.info("scheduled events: ran %d, failed %d", summary.ran, summary.failed)
        for error in summary.errors:
            log.warning("scheduled %s", error)
        self.ran.emit(summary)
        if summary.ran + summary.failed + summary.skipped >= BATCH:
            QTimer.singleShot(0, self.run_now)  # more are due: carry on after what queued meanwhile

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.warning("scheduled events could not run: %s", exc)
