"""Secrets live in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).

Never in a settings file, never in a log. Where no keyring exists (a headless Linux box) the
caller gets a SecretStoreUnavailable with what to do instead.
"""

from __future__ import annotations

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from app.core.errors import SecretStoreUnavailable

SERVICE = "Riser"

NO_KEYRING_HELP = (
    "No system keyring is available to keep the password safe. Unlock or install one "
    "(Windows Credential Manager, macOS Keychain, GNOME Keyring or KWallet), or give PostgreSQL "
    "its password through a ~/.pgpass file or the PGPASSWORD environment variable."
)


class SecretStore:
    """A thin wrapper so the rest of the code says what it means: get, put, forget."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def get(self, key: str) -> str | None:
        try:
            return keyring.get_password(self.service, key)
        except NoKeyringError:
            return None
        except KeyringError as exc:
            raise SecretStoreUnavailable(f"The system keyring could not be read: {exc}") from None

    def put(self, key: str, secret: str) -> None:
        try:
            keyring.set_password(self.service, key, secret)
        except NoKeyringError:
            raise SecretStoreUnavailable(NO_KEYRING_HELP) from None
        except KeyringError as exc:
            raise SecretStoreUnavailable(f"The system keyring refused the password: {exc}") from None

    def forget(self, key: str) -> None:
        try:
            keyring.delete_password(self.service, key)
        except (PasswordDeleteError, NoKeyringError):
            pass


def database_key(username: str | None, host: str | None, port: int | None, database: str | None) -> str:
    """The keyring entry name for a Postgres login: ``db:user@host:port/database``."""
    return f"db:{username or ''}@{host or 'localhost'}:{port or 5432}/{database or ''}"
