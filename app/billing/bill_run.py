"""The bill run: invoice every account that is due on a date — once, whatever happens.

``preview`` is the dry run (who will be invoiced, for how much, who is skipped and why; it
changes nothing). ``run`` does it. Both walk the same decisions (``_bill``), so what the preview
promises is what the run posts.

**Who is due.** An account whose ``BillingAccount.next_bill_on`` is on or before the run date
and that does not roll up into a parent (its charges are on its parent's invoice; the loading
attaches it there when its status activates). The period billed starts on the last bill date on
or before the run date, counted from ``next_bill_on`` with the account's bill day (its own —
anniversary mode keeps the day service started — or the company's): a run that was missed for a
month bills the coming period, and the rating engine bills the missed days from each service's
``billed_through`` (no gap, nothing twice). ``next_bill_on`` then moves to the next bill date
after that period's start, which is after the run date.

**Skipped**, with the reason shown in the preview and kept in the run's summary:
"disconnected on …", "status Inactive does not bill" (both stay due: a reactivated account is
billed by the next run), "already invoiced for this period (invoice 100234)", "no services" and
"nothing to bill this period" (those move ``next_bill_on`` on: the period is settled).

**One run at a time, also across desktops.** ``run`` first claims the run lock: a ``BillRun``
row in state running whose heartbeat is fresh blocks any other run ("A bill run is already in
progress on alice@desk-2 (pid 4242) since 2026-03-01 09:14 (1,200 invoices so far)"). The claim
is atomic (``BillRunRepository.lock_claims``). A run whose heartbeat is older than two minutes
(a desktop that crashed or lost the network), or whose process is gone on this very computer,
is marked failed and taken over. The heartbeat is written in every chunk's transaction, and
only while the row is still this worker's: a run that was taken over stops at its next chunk
and rolls it back, so two workers never post side by side.

**Idempotent and crash-safe.** Accounts go in id order, 500 per transaction (``CHUNK``). In one
transaction a chunk's invoices are posted (``invoicing.post_invoices``: bulk inserts), the
accounts' ``next_bill_on`` moved on, and the heartbeat written, so a chunk is entirely done or
not at all. A run killed half way leaves the chunks it committed; the next run finds the rest
still due and bills them with the same dates, so the result is the one an uninterrupted run
gives. The same date twice finds nobody due (and the unique ``billing_key`` would refuse a
second invoice for a period anyway).

**Bad data does not stop the run.** A chunk that fails (an account whose data the rating or the
database refuses) is rolled back and retried one account per transaction; the accounts that
fail alone are recorded with their error in the run's summary and stay due, the others are
invoiced. Errors that are not about an account (the connection is lost, the database is locked
by another program, the run was taken over) end the run as failed; a rerun finishes it.

**Cancel** is honoured between chunks: the run ends as cancelled, what was committed stays, and
a rerun on the same date finishes the rest.

The invoice: issued on the run date, due ``settings.due_days`` later, in the company's
currency, with its invoice message; a statement in statement mode.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError

from app.billing import invoicing, loading, rating
from app.billing.catalogue import currency_of
from app.billing.invoicing import ToPost, billing_key
from app.billing.models import BillRun
from app.billing.runs_repository import CANCELLED, DONE, FAILED, RUNNING, DueRow
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import (
    DatabaseError,
    NotFound,
    PermissionDenied,
    RiserError,
    ValidationError,
)
from app.core.money import format_minor
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

# Accounts per transaction. 500 rather than 200: a chunk costs ~25 statements whatever its size,
# and on a busy Postgres each round trip counts (10,000 accounts: 13.8 s instead of 17.0 s in
# tests/benchmarks/bench_bill_run.py on a loaded 2-core box; SQLite 8.4 s instead of 10.6 s). An
# SQLite chunk holds the write lock for well under a second, inside other desktops' 5 s patience.
CHUNK = 500
STALE_AFTER = timedelta(minutes=2)  # a heartbeat older than this: the run's desktop is gone
SKIP_DETAIL = 1000  # skipped accounts listed one by one in a run's summary (the rest are counted)

ProgressFn = Callable[[int, int], None]

STATE_LABELS = {RUNNING: "Running", DONE: "Done", FAILED: "Failed", CANCELLED: "Cancelled"}


class BillRunInProgress(RiserError):
    """Another bill run holds the lock."""

    def __init__(self, worker: str, since: datetime, invoices: int) -> None:
        when = since.astimezone().strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"A bill run is already in progress on {worker} since {when} ({invoices:,} invoices so far).")
        self.worker, self.since, self.invoices = worker, since, invoices


class BillRunTakenOver(RiserError):
    """This run's lock was taken by another worker (its heartbeat had gone stale)."""


# -- rows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreviewRow:
    account_id: int
    number: str
    name: str
    currency: str
    period_start: date | None
    total: int = 0
    lines: int = 0
    reason: str = ""  # why it is skipped; "" when it will be invoiced

    @property
    def billed(self) -> bool:
        return not self.reason

    @property
    def amount_text(self) -> str:
        return format_minor(self.total, self.currency) if self.billed else ""


def totals_text(totals: dict[str, int]) -> str:
    """"1,234.50 CAD" (or several currencies joined with " + "; "0.00" when nothing)."""
    if not totals:
        return "0.00"
    return " + ".join(f"{format_minor(v, c)} {c}" for c, v in sorted(totals.items()))


@dataclass(frozen=True)
class RunPreview:
    run_date: date
    rows: tuple[PreviewRow, ...]
    invoices: int
    skipped: int
    totals: dict[str, int]  # currency → minor units

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def total_text(self) -> str:
        return totals_text(self.totals)


@dataclass(frozen=True)
class RunIssue:
    """An account a run skipped (``reason``) or could not invoice (the error)."""

    account_id: int
    number: str
    name: str
    reason: str


@dataclass(frozen=True)
class RunResult:
    """A bill run as recorded (``list_runs``, ``get_run``, and what ``run`` returns)."""

    id: int
    run_date: date
    state: str  # running | done | failed | cancelled
    invoices: int
    total: int
    totals: dict[str, int]
    skipped: int
    failures: tuple[RunIssue, ...]
    skipped_accounts: tuple[RunIssue, ...]  # the first SKIP_DETAIL of them
    skip_reasons: dict[str, int]  # reason (without the invoice number) → accounts
    due: int
    started_by: str
    worker: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    error: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state.title())

    @property
    def total_text(self) -> str:
        return totals_text(self.totals) if self.totals else format_minor(self.total)

    @property
    def summary_line(self) -> str:
        """"invoices 812, total 61,234.50 CAD, skipped 14" (", failed 1" when any failed)."""
        text = f"invoices {self.invoices:,}, total {self.total_text}, skipped {self.skipped:,}"
        if self.failures:
            text += f", failed {len(self.failures):,}"
        return text


def _result(row: BillRun) -> RunResult:
    s = row.summary or {}
    return RunResult(
        id=row.id, run_date=row.run_date, state=row.state, invoices=row.invoices, total=row.total,
        totals={str(k): int(v) for k, v in (s.get("totals") or {}).items()}, skipped=row.skipped,
        failures=tuple(RunIssue(f.get("account_id", 0), f.get("number", ""), f.get("name", ""), f.get("error", ""))
                       for f in s.get("failures") or []),
        skipped_accounts=tuple(RunIssue(k.get("account_id", 0), k.get("number", ""), k.get("name", ""),
                                        k.get("reason", "")) for k in s.get("skipped") or []),
        skip_reasons={str(k): int(v) for k, v in (s.get("skip_reasons") or {}).items()},
        due=int(s.get("due") or 0), started_by=row.started_by, worker=row.worker, started_at=row.started_at,
        heartbeat_at=row.heartbeat_at, finished_at=row.finished_at, error=row.error or "",
    )


# -- the decisions shared by the preview and the run --------------------------------------------

@dataclass(frozen=True)
class _Terms:
    """A company's billing settings as the run needs them."""

    bill_day: int
    anniversary: bool
    due_days: int
    statement_mode: bool
    message: str
    currency: str


def _terms(uow: UnitOfWork, company_ids: set[int]) -> dict[int, _Terms]:
    found: dict[int, _Terms] = {}
    for company_id in company_ids:
        s = uow.billing_catalogue.settings(company_id)
        currency = currency_of(uow, company_id)
        if s is None:
            found[company_id] = _Terms(1, False, 14, False, "", currency)
        else:
            found[company_id] = _Terms(s.bill_day or 1, s.bill_day_mode == "anniversary", s.due_days or 0,
                                       bool(s.statement_mode), s.invoice_message or "", currency)
    return found


def bill_day_of(row: DueRow, terms: _Terms) -> int:
    """The account's own bill day, else (anniversary mode) the day its bills fall on, else the
    company's."""
    if row.bill_day:
        return row.bill_day
    if terms.anniversary:
        return min(row.next_bill_on.day, 28)
    return terms.bill_day


def period_start_for(next_bill_on: date, run_date: date, bill_day: int) -> date:
    """The last bill date on or before ``run_date``, counted from ``next_bill_on``."""
    start = next_bill_on
    while True:
        following = rating.next_bill_date(start, bill_day)
        if following > run_date:
            return start
        start = following


@dataclass
class _Billed:
    """What ``_bill`` decided for some due accounts."""

    to_post: list[tuple[DueRow, ToPost, rating.Draft]] = field(default_factory=list)
    skipped: list[tuple[DueRow, str]] = field(default_factory=list)
    advance: dict[int, date] = field(default_factory=dict)  # account id → next bill date
    period_of: dict[int, date] = field(default_factory=dict)
    known: invoicing.KnownState = field(default_factory=lambda: invoicing.KnownState({}, {}, {}))

    def remember(self, account: rating.AccountToRate) -> None:
        """Keep what the loading read of the rows the draft may advance (for the undo notes)."""
        known = self.known
        for member in _family(account):
            for sub in member.subscriptions:
                known.subscriptions[sub.id] = (sub.billed_through, sub.cycles_billed)
            for disc in member.discounts:
                known.discounts[disc.id] = disc.cycles_used
            for roll in member.rollovers:
                known.rollovers[roll.id] = roll.mb_left


def _family(account: rating.AccountToRate) -> list[rating.AccountToRate]:
    out = [account]
    for child in account.children:
        out.extend(_family(child))
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while thousands of drafts pile up (as ``rating.rate_all``
    does, and for the same reason: nothing here makes a cycle, and each collection would scan
    every draft built so far — it more than doubled the time of 10,000 accounts)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _bill(uow: UnitOfWork, rows: Sequence[DueRow], run_date: date, terms: dict[int, _Terms],
          taxes: dict[int, dict[int, rating.TaxSpec]]) -> _Billed:
    """Decide each account: skip (and why), or its draft. Reads only."""
    with _gc_paused():
        return _decide(uow, rows, run_date, terms, taxes)


def _decide(uow: UnitOfWork, rows: Sequence[DueRow], run_date: date, terms: dict[int, _Terms],
            taxes: dict[int, dict[int, rating.TaxSpec]]) -> _Billed:
    out = _Billed()
    session = uow.session
    candidates: list[tuple[DueRow, date, date]] = []  # (row, period start, next bill date)
    for row in rows:
        t = terms[row.company_id]
        if row.disconnected_on is not None and row.disconnected_on <= run_date:
            out.skipped.append((row, f"disconnected on {row.disconnected_on.isoformat()}"))
        elif not row.activates:
            out.skipped.append((row, f"status {row.status} does not bill"))
        else:
            day = bill_day_of(row, t)
            start = period_start_for(row.next_bill_on, run_date, day)
            candidates.append((row, start, rating.next_bill_date(start, day)))
    standing = uow.bill_runs.standing_invoices([billing_key(r.account_id, s) for r, s, _ in candidates])
    by_period: dict[date, list[tuple[DueRow, date]]] = {}
    for row, start, following in candidates:
        number = standing.get(billing_key(row.account_id, start))
        out.period_of[row.account_id] = start
        if number is not None:
            out.skipped.append((row, f"already invoiced for this period (invoice {number})"))
            out.advance[row.account_id] = following
        else:
            by_period.setdefault(start, []).append((row, following))
    for start, group in sorted(by_period.items()):
        inputs = loading.accounts_to_rate(session, [r.account_id for r, _ in group], start)
        for row, following in group:
            account = inputs.get(row.account_id)
            if account is None:
                out.skipped.append((row, "not found (it rolls up into a parent, or was removed)"))
                continue
            company_taxes = taxes.get(row.company_id)
            if company_taxes is None:
                company_taxes = taxes[row.company_id] = loading.taxes_for(session, row.company_id)
            draft = rating.rate(account, start, company_taxes)
            out.remember(account)
            if draft.empty:
                reason = "no services" if not account.subscriptions and not account.children \
                    else "nothing to bill this period"
                out.skipped.append((row, reason))
                out.advance[row.account_id] = following
                continue
            t = terms[row.company_id]
            out.to_post.append((row, ToPost(draft, row.company_id, run_date, run_date + timedelta(days=t.due_days),
                                            t.currency, t.message, t.statement_mode), draft))
            out.advance[row.account_id] = following
    return out


# -- the preview ---------------------------------------------------------------------------------

def preview(uow: UnitOfWork, actor: Actor, run_date: date) -> RunPreview:
    """Who a run on ``run_date`` would invoice and for how much, who it would skip and why.
    Changes nothing."""
    actor.require(Permission.BILLING_VIEW)
    _check_date(run_date)
    with uow, _gc_paused():
        rows = uow.bill_runs.due(run_date)
        terms = _terms(uow, {r.company_id for r in rows})
        billed = _decide(uow, rows, run_date, terms, {})
    out: dict[int, PreviewRow] = {}
    totals: dict[str, int] = {}
    for row, item, draft in billed.to_post:
        currency = terms[row.company_id].currency
        out[row.account_id] = PreviewRow(row.account_id, row.number, row.name, currency, draft.period_start,
                                         draft.total, len(draft.lines))
        totals[currency] = totals.get(currency, 0) + draft.total
    for row, reason in billed.skipped:
        out[row.account_id] = PreviewRow(row.account_id, row.number, row.name, terms[row.company_id].currency,
                                         billed.period_of.get(row.account_id), reason=reason)
    ordered = tuple(out[r.account_id] for r in rows)
    return RunPreview(run_date, ordered, len(billed.to_post), len(billed.skipped), totals)


def _check_date(run_date: object) -> None:
    if not isinstance(run_date, date) or isinstance(run_date, datetime):
        raise ValidationError("Choose the date to bill.", "run_date")


# -- the run -------------------------------------------------------------------------------------

def worker_name(username: str | None = None) -> str:
    """Who runs it, as stored in ``BillRun.worker``: ``user@host (pid N)``."""
    from app.scheduling.service import worker_name as name

    return name(username)  # one format for every worker


_WORKER = re.compile(r"^.*@(?P<host>[^ ]+) \(pid (?P<pid>\d+)\)$")


def _process_gone(worker: str) -> bool:
    """True when ``worker`` names a process on this computer that no longer runs (a desktop
    that crashed here need not wait for its heartbeat to go stale)."""
    match = _WORKER.match(worker or "")
    if match is None or match["host"] != socket.gethostname():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (owned by someone else) or we cannot tell
        return False
    return False


def _claim(uow: UnitOfWork, actor: Actor, run_date: date, worker: str, stale_after: timedelta) -> int:
    with uow:
        repo = uow.bill_runs
        repo.lock_claims()
        now = utcnow()
        for other in repo.running():
            stale = other.heartbeat_at < now - stale_after
            if not stale and not _process_gone(other.worker):
                raise BillRunInProgress(other.worker, other.started_at, other.invoices)
            why = ("its process is gone" if not stale else
                   f"no heartbeat since {other.heartbeat_at.astimezone():%Y-%m-%d %H:%M:%S}")
            repo.abandon(other.id, now, f"Stopped without finishing ({why}); taken over by {worker}.")
            audit.record(uow.session, actor, "bill_run", other.id, "taken over", {"state": RUNNING},
                         {"state": FAILED, "by": worker})
        run_id = repo.start(run_date, worker, actor.username, now)
        audit.record(uow.session, actor, "bill_run", run_id, "start", None,
                     {"run_date": run_date.isoformat(), "worker": worker})
        uow.commit()
        return run_id


@dataclass
class _Tally:
    """A run's counts so far (only what committed)."""

    due: int = 0
    invoices: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    skip_detail: list[dict] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def copy(self) -> _Tally:
        return _Tally(self.due, self.invoices, dict(self.totals), self.skipped, list(self.skip_detail),
                      dict(self.skip_reasons), list(self.failures))

    def skip(self, row: DueRow, reason: str) -> None:
        self.skipped += 1
        key = reason.split(" (")[0]
        self.skip_reasons[key] = self.skip_reasons.get(key, 0) + 1
        if len(self.skip_detail) < SKIP_DETAIL:
            self.skip_detail.append({"account_id": row.account_id, "number": row.number, "name": row.name,
                                     "reason": reason})

    def summary(self) -> dict:
        currencies = sorted(self.totals)
        return {"due": self.due, "totals": dict(self.totals), "currency": currencies[0] if len(currencies) == 1 else "",
                "skipped": self.skip_detail, "skipped_more": max(0, self.skipped - len(self.skip_detail)),
                "skip_reasons": self.skip_reasons, "failures": self.failures}


def run(
    uow_factory: Callable[[], UnitOfWork],
    actor: Actor,
    run_date: date,
    *,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
    worker: str | None = None,
    chunk_size: int = CHUNK,
    stale_after: timedelta = STALE_AFTER,
    before_commit: Callable[[int], None] | None = None,
) -> RunResult:
    """Invoice every account due on ``run_date`` (see the module docstring). Raises
    ``BillRunInProgress`` when another run holds the lock. ``progress(done, due)`` is called
    after each chunk; ``cancelled()`` is asked before each. ``before_commit(chunk number)`` is
    for the crash tests: it runs inside each chunk's transaction, just before the commit."""
    actor.require(Permission.BILLING_RUN)
    _check_date(run_date)
    worker = (worker or worker_name(actor.username if actor.user_id is not None else None))[:200]
    run_id = _claim(uow_factory(), actor, run_date, worker, stale_after)
    tally = _Tally()
    try:
        with uow_factory() as uow:
            due = uow.bill_runs.due(run_date)
            terms = _terms(uow, {r.company_id for r in due})
        tally.due = len(due)
        rows_by_id = {r.account_id: r for r in due}
        ids = [r.account_id for r in due]
        context = _RunContext(uow_factory, actor, run_date, run_id, worker, terms, before_commit)
        if progress:
            progress(0, len(ids))
        for chunk_no, start in enumerate(range(0, len(ids), max(1, chunk_size))):
            if cancelled is not None and cancelled():
                return _finish(uow_factory, actor, run_id, worker, CANCELLED, tally)
            part = ids[start:start + chunk_size]
            try:
                tally = context.chunk(part, tally, chunk_no)
            except Exception as exc:  # sorted below: bad data is recorded, the rest raised
                if _fatal(exc):
                    raise
                log.warning("bill run %s: a chunk of %d accounts failed (%s); retrying one by one",
                            run_id, len(part), _message(exc))
                for account_id in part:
                    try:
                        tally = context.chunk([account_id], tally, chunk_no)
                    except Exception as one:
                        if _fatal(one):
                            raise
                        row = rows_by_id[account_id]
                        log.warning("bill run %s: account %s not invoiced: %s", run_id, row.number, _message(one))
                        tally.failures.append({"account_id": row.account_id, "number": row.number, "name": row.name,
                                               "error": _message(one)})
            if progress:
                progress(min(start + chunk_size, len(ids)), len(ids))
        return _finish(uow_factory, actor, run_id, worker, DONE, tally)
    except BillRunTakenOver:
        raise
    except BaseException as exc:
        try:
            _finish(uow_factory, actor, run_id, worker, FAILED, tally, _message(exc))
        except Exception:  # the original error is the one to report
            log.exception("bill run %s: could not record its failure", run_id)
        raise


@dataclass
class _RunContext:
    uow_factory: Callable[[], UnitOfWork]
    actor: Actor
    run_date: date
    run_id: int
    worker: str
    terms: dict[int, _Terms]
    before_commit: Callable[[int], None] | None

    def chunk(self, ids: list[int], tally: _Tally, chunk_no: int) -> _Tally:
        """Bill ``ids`` in one transaction; the tally after it committed."""
        with self.uow_factory() as uow:
            # The accounts first (Postgres row locks; SQLite has one writer): a service changed on
            # another desktop waits until this chunk committed, so what is loaded is what is posted.
            uow.bill_runs.lock_accounts(ids)
            rows = uow.bill_runs.due_among(ids, self.run_date)  # still due (read again, in this transaction)
            missing = {r.company_id for r in rows} - self.terms.keys()
            if missing:
                self.terms.update(_terms(uow, missing))
            billed = _bill(uow, rows, self.run_date, self.terms, {})
            posted = invoicing.post_invoices(uow, self.actor, [item for _, item, _ in billed.to_post],
                                             bill_run_id=self.run_id, known=billed.known)
            after = tally.copy()
            for row, item, draft in billed.to_post:
                if row.account_id in posted.existing:  # posted by someone else since we looked
                    after.skip(row, f"already invoiced for this period (invoice {posted.existing[row.account_id]})")
                elif row.account_id in posted.invoice_ids:
                    after.invoices += 1
                    after.totals[item.currency] = after.totals.get(item.currency, 0) + draft.total
                else:
                    after.skip(row, "no longer exists")
                    billed.advance.pop(row.account_id, None)
            for row, reason in billed.skipped:
                after.skip(row, reason)
            now = utcnow()
            uow.bill_runs.advance(sorted(billed.advance.items()), now)
            if not uow.bill_runs.heartbeat(self.run_id, self.worker, now, invoices=after.invoices, total=after.total,
                                           skipped=after.skipped, summary=after.summary()):
                raise BillRunTakenOver(
                    "This bill run was taken over by another desktop after its heartbeat stopped; it stopped "
                    "here and the other run finishes the work.")
            if self.before_commit is not None:
                self.before_commit(chunk_no)
            uow.commit()
        return after


def _finish(uow_factory: Callable[[], UnitOfWork], actor: Actor, run_id: int, worker: str, state: str,
            tally: _Tally, error: str = "") -> RunResult:
    with uow_factory() as uow:
        repo = uow.bill_runs
        if not repo.finish(run_id, worker, utcnow(), state, invoices=tally.invoices, total=tally.total,
                           skipped=tally.skipped, summary=tally.summary(), error=error):
            raise BillRunTakenOver("This bill run was taken over by another desktop before it finished.")
        audit.record(uow.session, actor, "bill_run", run_id, state, {"state": RUNNING},
                     {"state": state, "invoices": tally.invoices, "total": tally.total, "skipped": tally.skipped,
                      "failures": len(tally.failures)})
        uow.commit()
        row = repo.get(run_id)
        assert row is not None
        return _result(row)


def _fatal(exc: BaseException) -> bool:
    """Errors that are not about one account's data: stop the run instead of retrying."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (BillRunTakenOver, PermissionDenied, OperationalError, InterfaceError)):
            return True
        if isinstance(current, DatabaseError) and current.__cause__ is None:
            return True  # read-only database, schema problems
        current = current.__cause__ or current.__context__
    return False


def _message(exc: BaseException) -> str:
    if isinstance(exc, RiserError):
        return str(exc)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


# -- reading -------------------------------------------------------------------------------------

def list_runs(uow: UnitOfWork, actor: Actor, limit: int = 500) -> list[RunResult]:
    """The bill runs, the latest first."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        return [_result(r) for r in uow.bill_runs.runs(limit)]


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> RunResult:
    actor.require(Permission.BILLING_VIEW)
    with uow:
        row = uow.bill_runs.get(run_id)
        if row is None:
            raise NotFound("That bill run no longer exists.")
        return _result(row)


def default_run_date(today: date) -> date:
    """What the dialog proposes: today when it is the 1st, else the next 1st of a month."""
    if today.day == 1:
        return today
    return rating.add_months(today.replace(day=1), 1)
