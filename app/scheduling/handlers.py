"""The account event kinds: change the status, disconnect, change a contact.

Each kind checks its payload the same way when the event is scheduled and again when it runs,
because a lot can change in between (a status deleted, a contact removed): what passed then
but no longer does fails the event with the reason, and the account stays as it was.
"""

from __future__ import annotations

from datetime import timedelta

from app.accounts.models import AccountStatus, Contact
from app.accounts.service import EMAIL_RE, PHONE_RE
from app.core.errors import ValidationError
from app.scheduling import registry
from app.scheduling.registry import Change, EventKind

CHANGE_STATUS = "change_status"
DISCONNECT = "disconnect"
CHANGE_CONTACT = "change_contact"

CONTACT_TEXT_FIELDS = ("name", "email", "phone", "mobile")
CONTACT_FLAGS = ("is_primary", "is_financial")
_FIELD_LABELS = {"name": "name", "email": "e-mail", "phone": "phone", "mobile": "mobile"}


def _only(payload: dict, allowed: tuple[str, ...]) -> None:
    for key in payload:
        if key not in allowed:
            raise ValidationError(f"'{key}' is not something this event can change.", key)


def _status(change: Change, key: str, missing: str) -> AccountStatus:
    value = change.payload.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(missing, key)
    status = change.uow.accounts.status(value)
    if status is None:
        raise ValidationError("That status no longer exists.", key)
    return status


# -- change the status -------------------------------------------------------------------------

def _check_status(change: Change) -> dict:
    _only(change.payload, ("status_id",))
    status = _status(change, "status_id", "Choose a status.")
    gone = change.account.disconnected_on
    if status.activates and gone is not None:
        raise ValidationError(f"The account was disconnected on {gone.isoformat()}; it cannot become "
                              f"{status.name} (billed) again — set up a new account on the unit.", "status_id")
    return {"status_id": status.id}


def _describe_status(change: Change) -> str:
    return f"Status → {_status(change, 'status_id', 'Choose a status.').name}"


def _apply_status(change: Change) -> str:
    status = _status(change, "status_id", "Choose a status.")
    before = change.account.status.name
    change.account.status = status
    return f"Status {before} → {status.name}" if before != status.name else f"Status stays {status.name}"


# -- disconnect --------------------------------------------------------------------------------

def _reason(change: Change) -> str:
    reason = " ".join(str(change.payload.get("reason") or "").split())
    if not reason:
        raise ValidationError("Say why the account is disconnected (moving out, non-payment…).", "reason")
    if len(reason) > 200:
        raise ValidationError("A reason has at most 200 characters.", "reason")
    return reason


def _final_status(change: Change) -> AccountStatus:
    status = _status(change, "final_status_id", "Choose the account's status once disconnected.")
    if status.activates:
        raise ValidationError(
            f"{status.name} is a billed status; a disconnected account needs one that is not "
            "(Inactive, for example).", "final_status_id")
    return status


def _not_disconnected(change: Change) -> None:
    account = change.account
    if account.disconnected_on is not None:
        raise ValidationError(
            f"Account {account.number} was already disconnected on {account.disconnected_on.isoformat()}.")


def _check_disconnect(change: Change) -> dict:
    _only(change.payload, ("reason", "final_status_id"))
    reason, status = _reason(change), _final_status(change)
    _not_disconnected(change)
    pending = change.uow.scheduling.pending_of_kind(change.account.id, DISCONNECT)
    if pending:
        raise ValidationError(
            f"Account {change.account.number} is already scheduled to be disconnected on "
            f"{pending[0].due_on.isoformat()}; cancel that event first to choose another date.", "due_on")
    return {"reason": reason, "final_status_id": status.id}


def _describe_disconnect(change: Change) -> str:
    reason = _reason(change)
    if not reason[:2].isupper():  # "Moving out" reads "moving out" mid-sentence; "UPS…" stays
        reason = reason[:1].lower() + reason[1:]
    return f"Disconnect — {reason}; status → {_final_status(change).name}"


def _apply_disconnect(change: Change) -> str:
    account = change.account
    reason, status = _reason(change), _final_status(change)
    _not_disconnected(change)
    # Every service, package and discount ends the day before, in this same transaction (so a
    # failure there rolls the disconnection back too); the next bill credits unused days. First,
    # so the account's own changes below reach the database in one UPDATE.
    from app.billing.subscriptions import end_everything

    ended = end_everything(change.uow, account.id, change.due_on - timedelta(days=1))
    # From this date the account no longer occupies its unit (Account.occupies_unit): the unit
    # is free for the next tenant, and the account stays in its history as a past tenant.
    account.disconnected_on = change.due_on
    account.disconnect_reason = reason
    before = account.status.name
    account.status = status
    if ended:
        return (f"Disconnected on {change.due_on.isoformat()}; status {before} → {status.name}; "
                f"{ended} service line{'s' if ended != 1 else ''} ended")
    return f"Disconnected on {change.due_on.isoformat()}; status {before} → {status.name}"


# -- change a contact --------------------------------------------------------------------------

def _contact(change: Change) -> Contact:
    contact_id = change.payload.get("contact_id")
    if contact_id is None:
        raise ValidationError("Choose the contact to change.", "contact_id")
    contact = next((c for c in change.account.contacts if c.id == contact_id), None)
    if contact is None:
        raise ValidationError("That contact is no longer on this account.", "contact_id")
    return contact


def _contact_changes(change: Change, contact: Contact) -> dict:
    """The cleaned changes (without contact_id); raises on anything not acceptable."""
    payload = change.payload
    _only(payload, ("contact_id", *CONTACT_TEXT_FIELDS, *CONTACT_FLAGS))
    cleaned: dict = {}
    if "name" in payload:
        name = " ".join(str(payload["name"] or "").split())
        if not name:
            raise ValidationError("The contact needs a name.", "name")
        if len(name) > 200:
            raise ValidationError("A contact name has at most 200 characters.", "name")
        cleaned["name"] = name
    if "email" in payload:
        email = str(payload["email"] or "").strip()
        if email and (not EMAIL_RE.match(email) or len(email) > 200):
            raise ValidationError(f"'{email}' is not an e-mail address.", "email")
        cleaned["email"] = email
    for key in ("phone", "mobile"):
        if key in payload:
            number = str(payload[key] or "").strip()
            if number and not PHONE_RE.match(number):
                raise ValidationError(f"'{number}' is not a {key} number.", key)
            cleaned[key] = number
    for key in CONTACT_FLAGS:
        if key in payload:
            if not isinstance(payload[key], bool):
                raise ValidationError(f"'{key}' is yes or no.", key)
            cleaned[key] = payload[key]
    if cleaned.get("is_primary") is False and contact.is_primary:
        raise ValidationError(
            f"{contact.name} is the primary contact and an account always has one: make another "
            "contact primary instead.", "is_primary")
    if not cleaned:
        raise ValidationError("Choose at least one detail of the contact to change.")
    return cleaned


def _check_contact(change: Change) -> dict:
    contact = _contact(change)
    return {"contact_id": contact.id, **_contact_changes(change, contact)}


def _describe_contact(change: Change) -> str:
    contact = _contact(change)
    parts = []
    for key, value in _contact_changes(change, contact).items():
        if key in _FIELD_LABELS:
            parts.append(f"{_FIELD_LABELS[key]} → {value or '(none)'}")
        elif key == "is_primary":
            parts.append("make primary" if value else "no longer primary")
        else:
            parts.append("receives invoices" if value else "no longer receives invoices")
    return f"Contact {contact.name} — {', '.join(parts)}"


def _apply_contact(change: Change) -> str:
    contact = _contact(change)
    changes = _contact_changes(change, contact)
    name = contact.name
    for key, value in changes.items():
        setattr(contact, key, value)
    if changes.get("is_primary"):
        # Exactly one primary contact: the others step down.
        for other in change.account.contacts:
            if other is not contact:
                other.is_primary = False
    what = ", ".join(_FIELD_LABELS.get(k, k.removeprefix("is_")) for k in changes)
    return f"Contact {name}: {what} changed"


CHANGE_STATUS_KIND = registry.register(
    EventKind(CHANGE_STATUS, "Change status", _check_status, _describe_status, _apply_status))
DISCONNECT_KIND = registry.register(
    EventKind(DISCONNECT, "Disconnect", _check_disconnect, _describe_disconnect, _apply_disconnect))
CHANGE_CONTACT_KIND = registry.register(
    EventKind(CHANGE_CONTACT, "Change contact", _check_contact, _describe_contact, _apply_contact))
