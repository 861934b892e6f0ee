"""Domain errors. Each carries a message written for the person at the desk.

The UI shows ``str(error)`` (inline next to a field when ``field`` is set); the CLI prints it
as one line. Nothing here mentions SQL or stack traces.
"""

from __future__ import annotations

from datetime import datetime


class RiserError(Exception):
    """Base of every error a user may see."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(RiserError):
    """Bad input. ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(RiserError):
    pass


class PermissionDenied(RiserError):
    pass


class AuthenticationFailed(RiserError):
    pass


class AccountLocked(AuthenticationFailed):
    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class ConflictError(RiserError):
    """Someone else saved the same row since it was loaded."""

    def __init__(self, entity: str, changed_by: str | None, changed_at: datetime | None) -> None:
        who = changed_by or "another user"
        when = changed_at.astimezone().strftime("%Y-%m-%d %H:%M") if changed_at else "a moment ago"
        super().__init__(f"This {entity} was changed by {who} at {when} — reload to see their changes?")
        self.entity = entity
        self.changed_by = changed_by
        self.changed_at = changed_at


class DatabaseError(RiserError):
    """The database cannot be used: unreachable, bad URL, wrong password, locked file."""


class SchemaOutdated(DatabaseError):
    pass


class SchemaTooNew(DatabaseError):
    pass


class ReadOnlyDatabase(DatabaseError):
    pass


class SecretStoreUnavailable(RiserError):
    pass
