"""An account's history in words: the audit trail of the account and of what belongs to it
(notes, calls, contacts, scheduled events), each entry turned into short sentences such as
"Status: Active → Inactive", "Contact added: Ada Li" or "Note pinned: “Gate code 4411”".

Reading it needs ACCOUNTS_VIEW: whoever may open the account may see how it came to be so
(the office-wide audit log, across every account, is AUDIT_VIEW's business).

The wording is tolerant: entries written by services this module does not know yet still read
as "Label: before → after" lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.accounts.history_repository import (
    ACCOUNT_ENTITY,
    CONTACT_ENTITY,
    EVENT_ENTITIES,
)
from app.accounts.notes import format_duration
from app.accounts.notes_repository import CALL_ENTITY, NOTE_ENTITY
from app.core.audit import AuditEntry
from app.core.errors import NotFound
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

HISTORY_LIMIT = 500
EXCERPT = 80
ARROW = "→"


@dataclass(frozen=True)
class HistoryRow:
    when: datetime
    who: str
    action: str  # a short heading: "Account updated", "Note pinned", "Call logged"…
    text: str  # one or more sentences, one per line


def account_history(uow: UnitOfWork, actor: Actor, account_id: int, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """Newest first, at most ``limit`` entries."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound("That account no longer exists.")
        repo = uow.history
        bodies = repo.note_bodies(account_id)
        wanted: dict[str, list[int]] = {
            ACCOUNT_ENTITY: [account_id],
            NOTE_ENTITY: list(bodies),
            CALL_ENTITY: repo.call_ids(account_id),
            CONTACT_ENTITY: repo.contact_ids(account_id),
        }
        events = repo.event_ids(account_id)
        for entity in EVENT_ENTITIES:
            wanted[entity] = events
        names: dict[int, str] = {}

        def who(entry: AuditEntry) -> str:
            if entry.user_id is None:
                return entry.username
            if entry.user_id not in names:
                names[entry.user_id] = uow.staff.display_name(entry.user_id) or entry.username
            return names[entry.user_id]

        rows = []
        for entry in repo.entries(wanted, limit):
            action, lines = describe(entry.entity, entry.action, entry.before, entry.after,
                                     note_body=bodies.get(_int(entry.entity_id), ""))
            rows.append(HistoryRow(entry.at, who(entry), action, "\n".join(lines) or action))
        return rows


# -- words -------------------------------------------------------------------------------------

LABELS = {
    "number": "Account number", "name": "Name", "status": "Status", "type": "Type",
    "account_type": "Type", "company": "Company", "address": "Address", "parent": "Parent account",
    "is_shell": "Shell account", "shell": "Shell account", "disconnected_on": "Disconnected on",
    "disconnect_reason": "Disconnect reason", "email": "E-mail", "phone": "Phone", "mobile": "Mobile",
    "due_on": "Due", "description": "Description", "state": "State", "kind": "Kind", "result": "Result",
    "error": "Error", "notes": "Notes", "bill_day": "Bill day",
}
FLAGS = {  # contact flags: (switched on, switched off)
    "primary": ("now the primary contact", "no longer the primary contact"),
    "is_primary": ("now the primary contact", "no longer the primary contact"),
    "financial": ("now a financial contact", "no longer a financial contact"),
    "is_financial": ("now a financial contact", "no longer a financial contact"),
    "notify_billing": ("now gets billing notices", "no longer gets billing notices"),
    "notify_outages": ("now gets outage notices", "no longer gets outage notices"),
    "notify_jobs": ("now gets job notices", "no longer gets job notices"),
    "notify_general": ("now gets general notices", "no longer gets general notices"),
}
HIDDEN = {"account_id", "id", "version", "payload", "search_text", "updated_at", "updated_by_id", "worker"}


def describe(entity: str, action: str, before: dict | None, after: dict | None,
             note_body: str = "") -> tuple[str, list[str]]:
    """A heading and the sentences for one audit entry."""
    before, after = before or {}, after or {}
    handler = _HANDLERS.get(entity)
    if handler is None and entity in EVENT_ENTITIES:
        handler = _event
    if handler is None:
        return _humanise(action), _changes(before, after)
    return handler(action, before, after, note_body)


def _account(action: str, before: dict, after: dict, _body: str) -> tuple[str, list[str]]:
    if action == "create":
        parts = [str(after[k]) for k in ("number", "name", "status") if after.get(k)]
        lines = ["Account created" + (f": {' · '.join(parts)}" if parts else "")]
        contacts = [c.get("name", "") for c in after.get("contacts") or [] if isinstance(c, dict)]
        if contacts:
            lines.append(f"Contacts: {', '.join(contacts)}")
        return "Account created", lines
    if action == "update":
        return "Account updated", _changes(before, after)
    if action == "groups":
        return "Groups changed", _group_lines(before.get("groups") or [], after.get("groups") or [])
    # Written by the scheduling service on the account: "schedule event", "cancel event",
    # "run event" and "disconnect" (the extra keys name the event and what it did).
    values = after or before
    description = str(values.get("description") or "")
    if action == "schedule event":
        due = f", due {values['due_on']}" if values.get("due_on") else ""
        return "Event scheduled", [f"Scheduled: {description or _humanise(str(values.get('kind') or 'an event'))}{due}"]
    if action == "cancel event":
        return "Event cancelled", [f"Cancelled: {description}" if description else "Scheduled event cancelled"]
    skip = {"event", "description", "worker", "result"}
    if "disconnect_reason" in after:
        skip.add("reason")
    lines = _changes(before, after, skip=skip)
    if action == "run event":
        return "Event ran", [f"Scheduled event ran: {description}" if description else "Scheduled event ran",
                             *(lines or ([str(after["result"])] if after.get("result") else []))]
    if not lines and after.get("result"):
        lines = [str(after["result"])]
    return ("Account disconnected" if action == "disconnect" else _humanise(action)), lines


def _note(action: str, before: dict, after: dict, body: str) -> tuple[str, list[str]]:
    text = _quote(after.get("body") or before.get("body") or body)
    if action == "create":
        return "Note added", [f"Note added{' and pinned' if after.get('pinned') else ''}: {text}"]
    if action == "pin":
        return "Note pinned", [f"Note pinned: {text}"]
    if action == "unpin":
        return "Note unpinned", [f"Note unpinned: {text}"]
    return f"Note {action}", _changes(before, after) or [text]


def _call(action: str, before: dict, after: dict, _body: str) -> tuple[str, list[str]]:
    if action != "create":
        return f"Call {action}", _changes(before, after)
    direction = str(after.get("direction") or "").capitalize() or "A"
    line = f"{direction} call"
    if after.get("contact"):
        line += f" with {after['contact']}"
    if after.get("duration_seconds"):
        line += f", {format_duration(after['duration_seconds'])}"
    if after.get("summary"):
        line += f": {_quote(after['summary'])}"
    return "Call logged", [line]


def _contact(action: str, before: dict, after: dict, _body: str) -> tuple[str, list[str]]:
    name = after.get("name") or before.get("name") or "a contact"
    if action == "create":
        return "Contact added", [f"Contact added: {name}"]
    if action in ("delete", "remove"):
        return "Contact removed", [f"Contact removed: {name}"]
    return "Contact updated", [f"Contact {name}: {line}" for line in _changes(before, after)]


def _event(action: str, before: dict, after: dict, _body: str) -> tuple[str, list[str]]:
    headings = {"create": "Event scheduled", "schedule": "Event scheduled", "cancel": "Event cancelled",
                "run": "Event ran", "done": "Event ran", "apply": "Event ran", "fail": "Event failed",
                "failed": "Event failed", "update": "Event changed", "reschedule": "Event rescheduled"}
    heading = headings.get(action, f"Event: {_humanise(action).lower()}")
    values = after or before
    what = values.get("description") or _humanise(str(values.get("kind") or "")) or "Scheduled event"
    if values.get("due_on"):
        what += f", due {values['due_on']}"
    lines = [what]
    if action in ("update", "reschedule") or (before and after and action not in headings):
        lines += _changes(before, after, skip={"description"} if action == "update" else set())
    elif values.get("error"):
        lines.append(f"Error: {values['error']}")
    elif values.get("result"):
        lines.append(str(values["result"]))
    return heading, lines


_HANDLERS: dict[str, Callable[[str, dict, dict, str], tuple[str, list[str]]]] = {
    ACCOUNT_ENTITY: _account, NOTE_ENTITY: _note, CALL_ENTITY: _call, CONTACT_ENTITY: _contact,
}


def _changes(before: dict, after: dict, skip: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """One sentence per changed key, in the order the entry lists them."""
    lines: list[str] = []
    keys = list(dict.fromkeys([*after, *before]))
    for key in keys:
        if key in HIDDEN or key in skip:
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "contacts":
            lines += _contact_lines(old or [], new or [])
        elif key == "groups":
            lines += _group_lines(old or [], new or [])
        else:
            lines.append(f"{_label(key)}: {_value(old)} {ARROW} {_value(new)}")
    return lines


def _contact_lines(before: list, after: list) -> list[str]:
    old = [c for c in before if isinstance(c, dict)]
    new = [c for c in after if isinstance(c, dict)]
    old_names = [c.get("name", "") for c in old]
    new_names = [c.get("name", "") for c in new]
    pairs = [(o, next(n for n in new if n.get("name") == o.get("name"))) for o in old if o.get("name") in new_names]
    removed = [o for o in old if o.get("name") not in new_names]
    added = [n for n in new if n.get("name") not in old_names]
    lines: list[str] = []
    if len(removed) == 1 and len(added) == 1:  # one contact renamed (maybe with other changes)
        lines.append(f"Contact renamed: {removed[0].get('name')} {ARROW} {added[0].get('name')}")
        pairs.append((removed[0], added[0]))
        removed, added = [], []
    lines += [f"Contact added: {c.get('name')}" for c in added]
    lines += [f"Contact removed: {c.get('name')}" for c in removed]
    for o, n in pairs:
        changes = []
        for key in dict.fromkeys([*n, *o]):
            if key == "name" or key in HIDDEN or o.get(key) == n.get(key):
                continue
            if key in FLAGS:
                changes.append(FLAGS[key][0 if n.get(key) else 1])
            else:
                changes.append(f"{_label(key).lower() if key != 'email' else 'e-mail'} {_value(o.get(key))} "
                               f"{ARROW} {_value(n.get(key))}")
        if changes:
            lines.append(f"Contact {n.get('name')}: {'; '.join(changes)}")
    return lines


def _group_lines(before: list, after: list) -> list[str]:
    lines = [f"Added to group: {g}" for g in after if g not in before]
    lines += [f"Removed from group: {g}" for g in before if g not in after]
    return lines


def _label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    return key.removesuffix("_id").replace("_", " ").capitalize()


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_label(k).lower()} {_value(v)}" for k, v in value.items())
    return str(value)


def _quote(text: str) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > EXCERPT:
        text = text[:EXCERPT - 1].rstrip() + "…"
    return f"“{text}”" if text else "(empty)"


def _humanise(action: str) -> str:
    return action.replace("_", " ").strip().capitalize() or "Changed"


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
