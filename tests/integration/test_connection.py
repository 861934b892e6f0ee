"""Choosing a database in Settings: test it, save it; the password goes to the keyring only."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from app.core.connection import ConnectionChoice, save_connection, try_connection
from app.core.db import open_database, resolve_url
from app.core.errors import DatabaseError
from app.core.secrets import SecretStore, database_key
from app.core.settings import LocalSettings
from tests.pgcluster import PASSWORD_ROLE, PASSWORD_ROLE_SECRET


def _choice(pg_url: str, password: str) -> ConnectionChoice:
    url = make_url(pg_url)
    return ConnectionChoice("postgresql", host=url.host, port=url.port, database=url.database,
                            username=PASSWORD_ROLE, password=password)


@pytest.mark.postgres
def test_testing_a_postgres_connection_reports_its_schema(pg_url: str) -> None:
    assert try_connection(_choice(pg_url, PASSWORD_ROLE_SECRET), SecretStore()) == "Connected: its schema is current."


@pytest.mark.postgres
def test_a_wrong_password_is_explained(pg_url: str) -> None:
    with pytest.raises(DatabaseError, match="refused the password"):
        try_connection(_choice(pg_url, "nope"), SecretStore())


@pytest.mark.postgres
def test_saving_puts_the_password_in_the_keyring_and_never_in_the_settings_file(pg_url: str, memory_keyring) -> None:  # noqa: ANN001
    choice = _choice(pg_url, PASSWORD_ROLE_SECRET)
    save_connection(choice, SecretStore())
    text = LocalSettings.path().read_text()
    assert PASSWORD_ROLE_SECRET not in text
    assert PASSWORD_ROLE in text
    url = make_url(pg_url)
    assert memory_keyring.store[("Riser", database_key(PASSWORD_ROLE, url.host, url.port, url.database))] == PASSWORD_ROLE_SECRET
    # The next start finds the password in the keyring and connects.
    db = open_database(resolve_url(), SecretStore())
    assert db.describe().startswith(f"PostgreSQL · {PASSWORD_ROLE}@")
    db.dispose()
    LocalSettings().save()


def test_a_local_file_choice_is_tested_and_saved(tmp_path) -> None:  # noqa: ANN001
    choice = ConnectionChoice("sqlite", path=str(tmp_path / "mine.sqlite"))
    assert "it is empty" in try_connection(choice, SecretStore())
    save_connection(choice, SecretStore())
    assert resolve_url().endswith("mine.sqlite")
    LocalSettings().save()


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (ConnectionChoice("postgresql", host="", database="d", username="u"), "host name"),
        (ConnectionChoice("postgresql", host="h", database="", username="u"), "name of the database"),
        (ConnectionChoice("postgresql", host="h", database="d", username=""), "user name"),
        (ConnectionChoice("sqlite", path=" "), "Choose the database file"),
    ],
)
def test_missing_connection_fields_are_named(choice: ConnectionChoice, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        choice.url()


def test_without_any_keyring_saving_a_password_says_what_to_do(monkeypatch) -> None:  # noqa: ANN001
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())
    choice = ConnectionChoice("postgresql", host="h", database="d", username="u", password="pw")
    with pytest.raises(Exception, match="No system keyring"):
        save_connection(choice, SecretStore())
    assert "pw" not in (LocalSettings.path().read_text() if LocalSettings.path().exists() else "")
