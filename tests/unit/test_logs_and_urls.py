"""Secrets never reach the log; database URLs are parsed and errors explained."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import make_url

from app.core import logs
from app.core.db import parse_url, safe_url, translate_error
from app.core.errors import DatabaseError


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting to postgresql+psycopg://riser:hunter22@db.office/riser", "hunter22"),
        ("smtp login password=hunter22 host=mail", "hunter22"),
        ("radius secret: hunter22", "hunter22"),
        ("snmp community=hunter22", "hunter22"),
    ],
)
def test_redaction_masks_passwords(text: str, secret: str) -> None:
    cleaned = logs.redact(text)
    assert secret not in cleaned and "***" in cleaned


def test_the_log_file_never_contains_a_password(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("RISER_LOG_DIR", str(tmp_path))
    path = logs.configure()
    log = logging.getLogger("riser.test")
    log.info("opening %s", "postgresql://u:topsecret@h/db")
    try:
        raise RuntimeError("password=topsecret rejected")
    except RuntimeError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "opening postgresql://u:***@h/db" in text
    assert "topsecret" not in text


def test_a_bare_path_is_a_sqlite_file_and_postgres_gets_the_psycopg_driver(tmp_path) -> None:  # noqa: ANN001
    assert parse_url(str(tmp_path / "a.sqlite")).get_backend_name() == "sqlite"
    url = parse_url("postgres://riser@db.office:5433/riser")
    assert url.drivername == "postgresql+psycopg" and url.port == 5433


@pytest.mark.parametrize("raw", ["oracle://x/y", "postgresql://h:notaport/db", "sqlite://"])
def test_unusable_urls_are_refused_with_a_message(raw: str) -> None:
    with pytest.raises(DatabaseError):
        parse_url(raw)


def test_safe_url_hides_the_password() -> None:
    assert "pw" not in safe_url("postgresql://u:pw@h/db")


class _Orig(Exception):
    pass


@pytest.mark.parametrize(
    ("driver_message", "expected"),
    [
        ('FATAL:  password authentication failed for user "riser"', "refused the password for user 'riser'"),
        ("connection failed: Connection refused", "Cannot reach PostgreSQL at db.office:5432 (connection refused)"),
        ('could not translate host name "nohost" to address', "host name not found"),
        ('FATAL:  database "riser" does not exist', "has no database named 'riser'"),
        ("fe_sendauth: no password supplied", "asks for a password"),
    ],
)
def test_postgres_errors_become_advice(driver_message: str, expected: str) -> None:
    exc = _Orig(driver_message)
    message = str(translate_error(exc, make_url("postgresql+psycopg://riser@db.office/riser")))
    assert expected in message
