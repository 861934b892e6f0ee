"""Choosing the database: test a connection, and save the choice (password to the keyring)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL

from app.core import schema
from app.core.db import open_database, parse_url, sqlite_url
from app.core.errors import DatabaseError
from app.core.secrets import SecretStore, database_key
from app.core.settings import LocalSettings


@dataclass(frozen=True)
class ConnectionChoice:
    """What the Settings form holds: a local file, or a Postgres server and login."""

    kind: str  # "sqlite" or "postgresql"
    path: str = ""
    host: str = ""
    port: int = 5432
    database: str = ""
    username: str = ""
    password: str = ""  # only in memory; saved to the keyring

    def url(self) -> URL:
        if self.kind == "sqlite":
            if not self.path.strip():
                raise DatabaseError("Choose the database file.")
            return parse_url(sqlite_url(self.path.strip()))
        if not self.host.strip():
            raise DatabaseError("Enter the PostgreSQL server's host name or address.")
        if not self.database.strip():
            raise DatabaseError("Enter the name of the database on the server.")
        if not self.username.strip():
            raise DatabaseError("Enter the PostgreSQL user name.")
        if not (0 < self.port < 65536):
            raise DatabaseError("The port is a number from 1 to 65535.")
        return URL.create("postgresql+psycopg", username=self.username.strip(), host=self.host.strip(),
                          port=self.port, database=self.database.strip())

    @classmethod
    def from_url(cls, raw: str) -> ConnectionChoice:
        url = parse_url(raw)
        if url.get_backend_name() == "sqlite":
            return cls("sqlite", path=url.database or "")
        return cls("postgresql", host=url.host or "", port=url.port or 5432, database=url.database or "",
                   username=url.username or "")


def try_connection(choice: ConnectionChoice, secrets: SecretStore) -> str:
    """Connect, look at the schema, and say in one sentence what was found."""
    url = choice.url()
    if choice.password:
        url = url.set(password=choice.password)
    db = open_database(url.render_as_string(hide_password=False), secrets)
    try:
        state = schema.inspect_schema(db)
    finally:
        db.dispose()
    what = {
        schema.SchemaStatus.CURRENT: "its schema is current",
        schema.SchemaStatus.EMPTY: "it is empty" + (" (Riser will set it up)" if choice.kind == "sqlite"
                                                    else " — set it up with: python main.py db upgrade"),
        schema.SchemaStatus.OUTDATED: "its schema is older — upgrade it with: python main.py db upgrade"
        if choice.kind != "sqlite" else "its schema is older (Riser upgrades it on start)",
        schema.SchemaStatus.NEWER: "its schema is newer than this Riser: it would open read-only",
    }[state.status]
    return f"Connected: {what}."


def save_connection(choice: ConnectionChoice, secrets: SecretStore) -> str:
    """Remember the choice for the next start. The password goes to the keyring, never to a file."""
    url = choice.url()
    if choice.kind == "postgresql" and choice.password:
        secrets.put(database_key(url.username, url.host, url.port, url.database), choice.password)
    settings = LocalSettings.load()
    # choice.url() never carries the password, so none can reach the settings file.
    settings.database_url = url.render_as_string(hide_password=False)
    settings.save()
    return "Saved. Riser opens this database the next time it starts."
