"""Notes and the call log of an account: what staff wrote down and who phoned whom.

Each note and call is stamped with the staff user and the time; adding and (un)pinning are
audited. Pinned notes show first and in the account header. ``timeline`` merges notes and
calls into one list, newest first, for the account's Notes tab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.accounts.models import AccountNote, CallLog
from app.accounts.notes_repository import CALL_ENTITY, NOTE_ENTITY, NotesRepository
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

NOTE_MAX = 4000
SUMMARY_MAX = 4000
MAX_CALL_SECONDS = 24 * 60 * 60
DIRECTIONS = ("inbound", "outbound")
TIMELINE_LIMIT = 500

Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True)
class NoteRow:
    id: int
    account_id: int
    body: str
    pinned: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class CallRow:
    id: int
    account_id: int
    direction: str
    contact_id: int | None
    contact_name: str  # as it was when the call was logged
    duration_seconds: int
    summary: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class TimelineRow:
    """A note or a call, as one line of the account's timeline."""

    kind: Literal["note", "call"]
    id: int
    when: datetime
    who: str
    text: str  # the note's body or the call's summary
    pinned: bool = False  # notes only
    direction: str = ""  # calls only: inbound | outbound
    contact: str = ""  # calls only: the contact's name at the time
    duration: int = 0  # calls only: seconds


@dataclass(frozen=True)
class ContactChoice:
    """A contact the call log offers."""

    id: int
    name: str
    phone: str


# -- reading -----------------------------------------------------------------------------------

def list_notes(uow: UnitOfWork, actor: Actor, account_id: int) -> list[NoteRow]:
    """Every note of the account: pinned first, then newest first."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        return _note_rows(uow, repo, repo.notes(account_id, pinned_first=True))


def pinned_notes(uow: UnitOfWork, actor: Actor, account_id: int) -> list[NoteRow]:
    """The pinned notes, newest first: what the account header shows."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        return _note_rows(uow, repo, repo.notes(account_id, pinned_only=True))


def list_calls(uow: UnitOfWork, actor: Actor, account_id: int) -> list[CallRow]:
    """The call log, newest first."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        return _call_rows(uow, repo, repo.calls(account_id))


def timeline(uow: UnitOfWork, actor: Actor, account_id: int, limit: int = TIMELINE_LIMIT) -> list[TimelineRow]:
    """Notes and calls together, newest first (at most ``limit``)."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        notes = _note_rows(uow, repo, repo.notes(account_id, limit=limit))
        calls = _call_rows(uow, repo, repo.calls(account_id, limit=limit))
    rows = [TimelineRow("note", n.id, n.created_at, n.created_by, n.body, pinned=n.pinned) for n in notes]
    rows += [TimelineRow("call", c.id, c.created_at, c.created_by, c.summary, direction=c.direction,
                         contact=c.contact_name, duration=c.duration_seconds) for c in calls]
    rows.sort(key=lambda r: (r.when, r.kind == "note", r.id), reverse=True)
    return rows[:limit]


def call_contacts(uow: UnitOfWork, actor: Actor, account_id: int) -> list[ContactChoice]:
    """The account's contacts, primary first: whom a call can be logged with."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        _require_account(uow, account_id)
        return [ContactChoice(c.id, c.name, c.phone or c.mobile)
                for c in uow.notes.contacts(account_id)]


# -- writing -----------------------------------------------------------------------------------

def add_note(uow: UnitOfWork, actor: Actor, account_id: int, body: str, pinned: bool = False) -> NoteRow:
    actor.require(Permission.ACCOUNTS_EDIT)
    body = _clean_text(body, NOTE_MAX, "body", "Write something in the note first.", "A note")
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        note = AccountNote(account_id=account_id, body=body, pinned=bool(pinned), created_at=utcnow(),
                           created_by_id=actor.user_id)
        repo.add(note)
        uow.flush()
        audit.record(uow.session, actor, NOTE_ENTITY, note.id, "create", None,
                     {"account_id": account_id, "body": body, "pinned": note.pinned})
        uow.commit()
        return _note_row(note, actor.username if actor.user_id is None else _name(uow, note.created_by_id))


def set_pinned(uow: UnitOfWork, actor: Actor, note_id: int, pinned: bool) -> NoteRow:
    actor.require(Permission.ACCOUNTS_EDIT)
    with uow:
        repo = uow.notes
        note = repo.note(note_id)
        if note is None:
            raise NotFound("That note no longer exists.")
        if note.pinned != bool(pinned):
            note.pinned = bool(pinned)
            audit.record(uow.session, actor, NOTE_ENTITY, note.id, "pin" if pinned else "unpin",
                         {"account_id": note.account_id, "pinned": not note.pinned},
                         {"account_id": note.account_id, "pinned": note.pinned})
            uow.commit()
        return _note_rows(uow, repo, [note])[0]


def add_call(
    uow: UnitOfWork,
    actor: Actor,
    account_id: int,
    direction: str,
    contact_id: int | None,
    duration_seconds: int,
    summary: str,
) -> CallRow:
    """Log a call. The contact's name is kept as it was, so the log still reads right after
    the contact is renamed or removed."""
    actor.require(Permission.ACCOUNTS_EDIT)
    if direction not in DIRECTIONS:
        raise ValidationError("Choose whether the call was inbound or outbound.", "direction")
    if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int):
        raise ValidationError("The duration is a whole number of seconds.", "duration")
    if not 0 <= duration_seconds <= MAX_CALL_SECONDS:
        raise ValidationError("A call lasts from 0 seconds to 24 hours.", "duration")
    summary = _clean_text(summary, SUMMARY_MAX, "summary", "Say in a few words what the call was about.",
                          "A call summary")
    with uow:
        _require_account(uow, account_id)
        repo = uow.notes
        contact_name = ""
        if contact_id is not None:
            contact = repo.contact(contact_id)
            if contact is None or contact.account_id != account_id:
                raise ValidationError("That contact is not on this account (any more).", "contact")
            contact_name = contact.name
        call = CallLog(account_id=account_id, direction=direction, contact_id=contact_id,
                       contact_name=contact_name, duration_seconds=duration_seconds, summary=summary,
                       created_at=utcnow(), created_by_id=actor.user_id)
        repo.add(call)
        uow.flush()
        audit.record(uow.session, actor, CALL_ENTITY, call.id, "create", None, {
            "account_id": account_id, "direction": direction, "contact": contact_name,
            "duration_seconds": duration_seconds, "summary": summary,
        })
        uow.commit()
        return _call_row(call, actor.username if actor.user_id is None else _name(uow, call.created_by_id))


# -- helpers -----------------------------------------------------------------------------------

def format_duration(seconds: int) -> str:
    """4:05, or 1:02:05 from an hour on."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_duration(text: str) -> int:
    """Seconds from what a person types: minutes ("12", "2.5") or a clock ("4:05", "1:02:05").
    Empty means 0 (not noted)."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return 0
    problem = ValidationError("Write the duration in minutes (12) or as mm:ss (4:05).", "duration")
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(p.isdigit() for p in parts):
            raise problem
        numbers = [int(p) for p in parts]
        if any(n >= 60 for n in numbers[1:]):
            raise problem
        seconds = 0
        for n in numbers:
            seconds = seconds * 60 + n
    else:
        try:
            minutes = float(text)
        except ValueError:
            raise problem from None
        if math.isnan(minutes) or minutes < 0 or minutes > MAX_CALL_SECONDS:
            raise problem
        seconds = round(minutes * 60)
    if seconds > MAX_CALL_SECONDS:
        raise ValidationError("A call lasts from 0 seconds to 24 hours.", "duration")
    return seconds


def _clean_text(text: str, limit: int, field: str, empty: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(empty, field)
    if len(text) > limit:
        raise ValidationError(f"{what} has at most {limit:,} characters (this one has {len(text):,}).", field)
    return text


def _require_account(uow: UnitOfWork, account_id: int) -> None:
    if uow.accounts.get(account_id) is None:
        raise NotFound("That account no longer exists.")


def _name(uow: UnitOfWork, user_id: int | None) -> str:
    return uow.staff.display_name(user_id) or ""


def _authors(uow: UnitOfWork, repo: NotesRepository, entity: str, rows: list) -> dict[int, str]:  # noqa: ANN001
    names: dict[int, str] = {}
    cache: dict[int, str] = {}
    for row in rows:
        if row.created_by_id is not None:
            if row.created_by_id not in cache:
                cache[row.created_by_id] = _name(uow, row.created_by_id)
            names[row.id] = cache[row.created_by_id]
    missing = [row.id for row in rows if not names.get(row.id)]
    names.update(repo.recorded_by(entity, missing))
    return names


def _note_rows(uow: UnitOfWork, repo: NotesRepository, notes: list[AccountNote]) -> list[NoteRow]:
    who = _authors(uow, repo, NOTE_ENTITY, notes)
    return [_note_row(n, who.get(n.id, "")) for n in notes]


def _call_rows(uow: UnitOfWork, repo: NotesRepository, calls: list[CallLog]) -> list[CallRow]:
    who = _authors(uow, repo, CALL_ENTITY, calls)
    return [_call_row(c, who.get(c.id, "")) for c in calls]


def _note_row(n: AccountNote, who: str) -> NoteRow:
    return NoteRow(n.id, n.account_id, n.body, n.pinned, n.created_at, who)


def _call_row(c: CallLog, who: str) -> CallRow:
    return CallRow(c.id, c.account_id, c.direction, c.contact_id, c.contact_name, c.duration_seconds,
                   c.summary, c.created_at, who)
