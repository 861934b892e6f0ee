"""What a scheduled event can do: a small registry of kinds, each with its own handler.

A kind knows how to check a payload when the event is scheduled, how to describe it to a person,
and how to apply it when it falls due. The account kinds (change status, disconnect, change a
contact) live in ``app.scheduling.handlers``; billing registers its own (add_service,
remove_service, change_price) the same way, from its own room:

    register(EventKind("add_service", "Add a service", check=…, describe=…, apply=…))

``apply`` runs inside the worker's transaction, after the event was claimed. It changes what it
must through ``change.uow`` and returns a short result text; when the change can no longer be
made (the contact was removed, the status deleted) it raises a ``RiserError`` saying why, and the
whole transaction rolls back. The caller bumps the account's version, refreshes its search text
and writes the audit entry, so a handler does none of that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from app.core.permissions import Actor

if TYPE_CHECKING:
    from app.accounts.models import Account
    from app.uow import UnitOfWork


@dataclass(frozen=True)
class Change:
    """One event being applied (or checked): to this account, as of this date, with this payload."""

    uow: UnitOfWork
    actor: Actor
    account: Account
    due_on: date
    payload: dict


@dataclass(frozen=True)
class EventKind:
    name: str  # stored in scheduled_events.kind: never rename one that is in use
    label: str  # for people: "Change status"
    # Validate and clean the payload when the event is scheduled; raise ValidationError(message,
    # field) naming the payload key. Returns the payload to store.
    check: Callable[[Change], dict]
    # "Status → Suspended": stored with the event and shown in its list.
    describe: Callable[[Change], str]
    # Make the change when the event falls due; returns what was done ("Status Active → Inactive").
    apply: Callable[[Change], str]


_KINDS: dict[str, EventKind] = {}


def register(kind: EventKind) -> EventKind:
    """Add a kind. Registering the same name twice is a programming error, unless it is the very
    same kind again (a module imported twice)."""
    known = _KINDS.get(kind.name)
    if known is not None and known is not kind:
        raise ValueError(f"event kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """For tests that register a kind of their own."""
    _KINDS.pop(name, None)


def get(name: str) -> EventKind | None:
    return _KINDS.get(name)


def all_kinds() -> list[EventKind]:
    return list(_KINDS.values())
