"""Scheduled events: changes that happen to an account on a date, each exactly once.

Staff schedule them (``schedule_event``, ``disconnect_account``, ``schedule_move_out``) and may
cancel a pending one. ``run_due_events`` applies every due event: the desktop app calls it at
start-up and every minute, ``python main.py events run`` from the command line or cron. Several
desktops may run it at once on one database; each event still runs exactly once (see
``ScheduledEventRepository.claim_next``), and a crash half-way changes nothing.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

import app.billing.handlers  # noqa: F401 - registers the billing event kinds
from app.accounts.models import Account
from app.accounts.service import build_search_text
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import (
    ConflictError,
    NotFound,
    ReadOnlyDatabase,
    RiserError,
    ValidationError,
)
from app.core.permissions import Actor, Permission
from app.scheduling import handlers, registry
from app.scheduling.models import ScheduledEvent
from app.scheduling.registry import Change, EventKind
from app.scheduling.repository import CANCELLED, DONE, FAILED, PENDING
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

STATES = (PENDING, DONE, FAILED, CANCELLED)
_DESCRIPTION_LENGTH = 300
_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class EventRow:
    id: int
    version: int
    account_id: int
    kind: str
    what: str  # the kind for people: "Change status"
    due_on: date
    description: str  # "Disconnect — moving out; status → Inactive"
    state: str  # pending | done | failed | cancelled
    created_by_name: str
    created_at: datetime
    ran_at: datetime | None
    ran_by: str  # the worker: user@host (pid N)
    result: str
    error: str
    cancelled_by: str = ""

    @property
    def pending(self) -> bool:
        return self.state == PENDING


@dataclass(frozen=True)
class RunSummary:
    ran: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker while this one was recording a failure
    errors: tuple[str, ...] = ()  # "event 12 (account 100004): That contact is no longer …"


@dataclass(frozen=True)
class Disconnection:
    """What ``disconnect_account`` / ``schedule_move_out`` did."""

    applied: bool  # True: disconnected now; False: scheduled for ``on``
    on: date
    description: str
    event: EventRow | None  # the scheduled event (None when applied now)


@dataclass(frozen=True)
class AccountRef:
    id: int
    number: str
    name: str


def kinds() -> list[tuple[str, str]]:
    """(kind, label) of every kind that can be scheduled."""
    return [(k.name, k.label) for k in registry.all_kinds()]


def worker_name(username: str | None = None) -> str:
    """Who runs events, as stored in ``ran_by``: ``user@host (pid N)``."""
    if not username:
        try:
            username = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (a container): still name the host
            username = "unknown"
    return f"{username}@{socket.gethostname()} (pid {os.getpid()})"


# -- reading -----------------------------------------------------------------------------------

def list_events(uow: UnitOfWork, actor: Actor, account_id: int) -> list[EventRow]:
    """The account's events: pending ones first (soonest first), then the past ones."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        if uow.session.get(Account, account_id) is None:
            raise NotFound("That account no longer exists.")
        return [_row(uow, e) for e in uow.scheduling.for_account(account_id)]


def account_by_number(uow: UnitOfWork, actor: Actor, number: str) -> AccountRef:
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        account = uow.accounts.by_number(number.strip())
        if account is None:
            raise NotFound(f"No account is numbered {number.strip()}.")
        return AccountRef(account.id, account.number, account.name)


# -- scheduling and cancelling -----------------------------------------------------------------

def schedule_event(
    uow: UnitOfWork, actor: Actor, account_id: int, kind: str, due_on: date | None, payload: dict | None
) -> EventRow:
    """Schedule ``kind`` for the account on ``due_on``. The payload is checked now (and again
    when the event runs); a ValidationError names the payload key it is about."""
    actor.require(Permission.ACCOUNTS_EDIT)
    spec = registry.get(kind)
    if spec is None:
        raise ValidationError("Choose what should happen.", "kind")
    due_on = _a_date(due_on)
    with uow:
        account = uow.scheduling.lock_account(account_id)  # one scheduler at a time per account
        if account is None:
            raise NotFound("That account no longer exists.")
        change = Change(uow, actor, account, due_on, dict(payload or {}))
        change = replace(change, payload=spec.check(change))
        event = ScheduledEvent(
            account_id=account.id, kind=spec.name, due_on=due_on, payload=change.payload,
            description=spec.describe(change)[:_DESCRIPTION_LENGTH], state=PENDING,
            created_by_id=actor.user_id, created_by_name=_who(uow, actor), updated_by_id=actor.user_id,
        )
        uow.scheduling.add(event)
        uow.flush()
        audit.record(uow.session, actor, "account", account.id, "schedule event", None,
                     {"event": event.id, "kind": spec.name, "due_on": due_on, "description": event.description})
        uow.commit()
        return _row(uow, event)


def cancel_event(uow: UnitOfWork, actor: Actor, event_id: int, expected_version: int) -> EventRow:
    """Cancel a pending event. One that has run (or failed, or was cancelled) meanwhile is
    refused with what happened to it; a stale ``expected_version`` raises ConflictError."""
    actor.require(Permission.ACCOUNTS_EDIT)
    with uow:
        event = uow.scheduling.get(event_id)
        if event is None:
            raise NotFound("That scheduled event no longer exists.")
        if event.state != PENDING:
            raise ValidationError(_no_longer_pending(uow, event))
        if event.version != expected_version:
            raise ConflictError("scheduled event", uow.staff.display_name(event.updated_by_id), event.updated_at)
        if event.kind == handlers.DISCONNECT:
            _check_no_successor(uow, event)
        event.state = CANCELLED
        event.updated_by_id = actor.user_id
        event.updated_at = utcnow()
        audit.record(uow.session, actor, "account", event.account_id, "cancel event",
                     {"event": event.id, "state": PENDING}, {"event": event.id, "state": CANCELLED,
                                                            "description": event.description})
        uow.commit()
        return _row(uow, event)


def disconnect_account(
    uow: UnitOfWork, actor: Actor, account_id: int, on: date | None, reason: str, final_status_id: int | None,
    today: date,
) -> Disconnection:
    """Disconnect the account on ``on``: now if that is today or past (the account is disconnected
    as of ``on``), otherwise as a scheduled event. Refused when the account is already
    disconnected or a disconnection is already scheduled."""
    actor.require(Permission.ACCOUNTS_EDIT)
    on = _a_date(on)
    payload = {"reason": reason, "final_status_id": final_status_id}
    if on > today:
        event = schedule_event(uow, actor, account_id, handlers.DISCONNECT, on, payload)
        return Disconnection(False, on, event.description, event)
    spec = handlers.DISCONNECT_KIND
    with uow:
        account = uow.scheduling.lock_account(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        change = Change(uow, actor, account, on, payload)
        change = replace(change, payload=spec.check(change))
        description = spec.describe(change)
        result = _apply(change, spec, "disconnect", {"reason": change.payload["reason"]})
        uow.commit()
        log.info("account %s: %s", account.number, result)
        return Disconnection(True, on, description, None)


def schedule_move_out(
    uow: UnitOfWork, actor: Actor, account_id: int, move_out_on: date | None, reason: str,
    final_status_id: int | None, today: date,
) -> Disconnection:
    """The tenant moves out on ``move_out_on``: the account is disconnected that day, which frees
    the unit for the next tenant (applied at once when the day is today or past)."""
    return disconnect_account(uow, actor, account_id, move_out_on, reason.strip() or "Moving out",
                              final_status_id, today)


# -- running -----------------------------------------------------------------------------------

def run_due_events(
    uow_factory: Callable[[], UnitOfWork], actor: Actor, today: date, worker: str, limit: int | None = None,
    before_commit: Callable[[], None] | None = None,
) -> RunSummary:
    """Apply every pending event due on or before ``today``, each in its own transaction.

    Per event: claim it, apply it, mark it done (with ``worker`` and the result) and write the
    account's audit entry, then commit, all or nothing. An event whose change fails (a contact
    removed meanwhile…) is rolled back whole and then marked failed with the reason, in a new
    transaction. ``before_commit`` is called just before each commit (a hook for tests).
    """
    actor.require(Permission.ACCOUNTS_EDIT)
    probe = uow_factory()
    if probe.db.read_only_reason:
        raise ReadOnlyDatabase(probe.db.read_only_reason)
    known = frozenset(k.name for k in registry.all_kinds())
    ran = failed = skipped = 0
    errors: list[str] = []
    leave: set[int] = set()
    while limit is None or ran + failed + skipped < limit:
        outcome = _run_one(uow_factory, actor, today, worker, known, frozenset(leave), before_commit)
        if outcome is None:
            break
        state, event_id, error = outcome
        if state == DONE:
            ran += 1
        elif state == FAILED:
            failed += 1
            errors.append(error)
        else:
            skipped += 1
            leave.add(event_id)
    return RunSummary(ran, failed, skipped, tuple(errors))


def _run_one(
    uow_factory: Callable[[], UnitOfWork], actor: Actor, today: date, worker: str, known: frozenset[str],
    leave: frozenset[int], before_commit: Callable[[], None] | None,
) -> tuple[str, int, str] | None:
    event_id: int | None = None
    label = ""
    try:
        with uow_factory() as uow:
            event_id = uow.scheduling.claim_next(today, worker, utcnow(), known, leave)
            if event_id is None:
                return None
            event = uow.scheduling.get(event_id)
            account = uow.scheduling.lock_account(event.account_id)
            label = f"event {event.id} (account {account.number})"
            spec = registry.get(event.kind)
            change = Change(uow, actor, account, event.due_on, dict(event.payload or {}))
            event.result = _apply(change, spec, "run event",
                                  {"event": event.id, "description": event.description, "worker": worker})
            uow.flush()
            if before_commit is not None:
                before_commit()
            uow.commit()
            log.info("%s ran: %s", label, event.result)
            return DONE, event_id, ""
    except Exception as exc:  # noqa: BLE001 - any failure fails the event, below
        if event_id is None:
            raise  # the claim itself failed (the database is unreachable…): nothing happened
        message = _failure_message(exc)
    # That transaction rolled back: the account is as it was, and the event pending again.
    # Record the failure, only if it is still pending (another worker may have taken it since).
    with uow_factory() as uow:
        marked = uow.scheduling.mark_failed(event_id, worker, utcnow(), message[:_ERROR_LENGTH])
        uow.commit()
    label = label or f"event {event_id}"
    if not marked:
        return "skipped", event_id, ""
    log.warning("%s failed: %s", label, message)
    return FAILED, event_id, f"{label}: {message}"


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, RiserError):
        return str(exc)
    log.error("unexpected error while running a scheduled event", exc_info=exc)
    return f"Unexpected error: {type(exc).__name__}: {exc}"


# -- helpers -----------------------------------------------------------------------------------

def _apply(change: Change, spec: EventKind, action: str, extra: dict) -> str:
    """Apply one change to the account and write its audit entry; returns the result text.
    The account's version moves (its row is touched) and its search text is refreshed."""
    account = change.account
    before = _state(account)
    result = spec.apply(change)
    account.search_text = build_search_text(account)
    account.updated_at = utcnow()
    account.updated_by_id = change.actor.user_id
    old, new = audit.changed_only(before, _state(account))
    audit.record(change.uow.session, change.actor, "account", account.id, action, old,
                 {**new, **extra, "result": result})
    return result


def _state(account: Account) -> dict:
    return {
        "status": account.status.name,
        "disconnected_on": account.disconnected_on,
        "disconnect_reason": account.disconnect_reason,
        "contacts": [
            {"name": c.name, "email": c.email, "phone": c.phone, "mobile": c.mobile,
             "primary": c.is_primary, "financial": c.is_financial}
            for c in account.contacts
        ],
    }


def _a_date(value: date | None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise ValidationError("Choose the date it happens.", "due_on")
    return value


def _check_no_successor(uow: UnitOfWork, event: ScheduledEvent) -> None:
    """A move-out cannot be cancelled once the next tenant is set up on the unit: the unit would
    keep two occupants."""
    account = uow.accounts.get(event.account_id)
    if account is None or account.address_id is None:
        return
    others = [a for a in uow.addresses.occupants(account.address_id) if a.id != account.id]
    if others:
        nxt = others[0]
        raise ValidationError(
            f"{nxt.number} {nxt.name} is already set up to move into this unit, so the move-out stays. "
            "Disconnect or move that account first, then cancel this event.")


def _who(uow: UnitOfWork, actor: Actor) -> str:
    return (uow.staff.display_name(actor.user_id) or actor.username)[:120]


def _no_longer_pending(uow: UnitOfWork, event: ScheduledEvent) -> str:
    if event.state == DONE:
        when = event.ran_at.astimezone().strftime("%Y-%m-%d %H:%M") if event.ran_at else "already"
        return f"This event already ran ({when}); it can no longer be cancelled."
    if event.state == FAILED:
        return "This event already ran and failed; there is nothing left to cancel."
    who = uow.staff.display_name(event.updated_by_id) or "someone"
    return f"This event was already cancelled by {who}."


def _row(uow: UnitOfWork, e: ScheduledEvent) -> EventRow:
    spec = registry.get(e.kind)
    cancelled_by = ""
    if e.state == CANCELLED:
        cancelled_by = uow.staff.display_name(e.updated_by_id) or "someone"
    return EventRow(
        id=e.id, version=e.version, account_id=e.account_id, kind=e.kind,
        what=spec.label if spec else e.kind.replace("_", " ").capitalize(), due_on=e.due_on,
        description=e.description, state=e.state, created_by_name=e.created_by_name, created_at=e.created_at,
        ran_at=e.ran_at, ran_by=e.ran_by, result=e.result, error=e.error, cancelled_by=cancelled_by,
    )
