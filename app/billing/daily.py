"""The daily billing chores: late fees, then the delinquency check.

``run_daily`` is what the desktop's scheduler calls once a day and what a command line
(``python main.py billing daily [--date YYYY-MM-DD]``) and cron will call. Late fees go first so
that the delinquency check sees the balance with today's fees in it. Both halves are safe to
run again the same day, and on several desktops at once: each fee is charged once, each
account changes once (see ``app.billing.delinquency``).

``due_for_today`` is the dry look: what a run today would do, changing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from app.billing import delinquency
from app.billing.delinquency import (
    NEXT_DELINQUENT,
    NEXT_RESTORE,
    NEXT_SWITCH,
    DelinquencyResult,
    LateFeeResult,
)
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork


@dataclass(frozen=True)
class DailyResult:
    today: date
    late_fees: LateFeeResult
    delinquency: DelinquencyResult

    @property
    def summary(self) -> str:
        """One line: "2 late fees, 50.00 · delinquency: 1 delinquent, 1 restored"."""
        return f"{self.late_fees.summary} · delinquency: {self.delinquency.summary}"

    @property
    def errors(self) -> tuple[str, ...]:
        return self.delinquency.errors


@dataclass(frozen=True)
class DuePreview:
    """What ``run_daily`` would do today."""

    today: date
    late_fees: int  # invoices whose late fee is due
    to_delinquent: int
    to_switch: int
    to_restore: int
    skipped: str  # "Saturday is not a check day" when no company checks today, else ""

    @property
    def anything(self) -> bool:
        return bool(self.late_fees or self.to_delinquent or self.to_switch or self.to_restore)


def run_daily(uow_factory: Callable[[], UnitOfWork], actor: Actor, today: date) -> DailyResult:
    """Late fees, then delinquency, for ``today``. Needs BILLING_RUN."""
    actor.require(Permission.BILLING_RUN)
    fees = delinquency.apply_late_fees(uow_factory, actor, today)
    checked = delinquency.run_delinquency(uow_factory, actor, today)
    return DailyResult(today, fees, checked)


def due_for_today(uow: UnitOfWork, actor: Actor, today: date) -> DuePreview:
    """Count what a run today would change, without changing anything."""
    actor.require(Permission.BILLING_VIEW)
    rows = delinquency.delinquency_overview(uow, actor, today)
    with uow:
        repo = uow.delinquency
        late_fees = 0
        reasons: list[str | None] = []
        for company in repo.companies():
            rules = delinquency.load_rules(repo, company.id)
            reasons.append(rules.skip_reason(today))
            if rules.charges_late_fees:
                late_fees += len(repo.late_fee_candidates(company.id, today - timedelta(days=rules.late_fee_days)))
    checking = any(r is None for r in reasons) or not reasons

    def count(kind: str) -> int:
        return sum(1 for r in rows if r.next_kind == kind and r.next_on is not None and r.next_on <= today)

    return DuePreview(
        today=today, late_fees=late_fees,
        to_delinquent=count(NEXT_DELINQUENT) if checking else 0,
        to_switch=count(NEXT_SWITCH) if checking else 0,
        to_restore=count(NEXT_RESTORE),
        skipped="" if checking else "; ".join(dict.fromkeys(r for r in reasons if r)),
    )
