"""Fixtures shared by every test.

- Qt runs offscreen; settings, data and logs go to a temporary folder; the keyring is an
  in-memory backend (no desktop session needed).
- ``db`` is parametrised: every test that takes it runs on SQLite and on PostgreSQL. The
  Postgres server is a throwaway cluster started for the session (or RISER_TEST_PG_URL).
  Each test gets a fresh database copied from a migrated template, so tests are independent.
  In CI (CI=true) a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="riser-tests-"))
os.environ["RISER_CONFIG_DIR"] = str(_TMP / "config")
os.environ["RISER_DATA_DIR"] = str(_TMP / "data")
os.environ["RISER_LOG_DIR"] = str(_TMP / "logs")
os.environ.pop("RISER_DATABASE_URL", None)

import keyring  # noqa: E402
import pytest  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402

from app.core import schema  # noqa: E402
from app.core.db import Database, open_database, sqlite_url  # noqa: E402
from app.core.permissions import Actor  # noqa: E402
from app.uow import UnitOfWork  # noqa: E402
from tests.pgcluster import PgCluster  # noqa: E402


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001
    shutil.rmtree(_TMP, ignore_errors=True)


# -- PostgreSQL ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server():
    """The admin URL of a running PostgreSQL, or a skip (a failure in CI)."""
    given = os.environ.get("RISER_TEST_PG_URL")
    if given:
        yield given
        return
    if not PgCluster.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; CI must run the Postgres tests")
        pytest.skip("PostgreSQL not installed (apt-get install postgresql)")
    cluster = PgCluster()
    try:
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"could not start PostgreSQL: {exc}")
        pytest.skip(f"could not start PostgreSQL: {exc}")
    yield url
    cluster.stop()


def _pg_exec(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    name = "riser_template"
    _pg_exec(pg_server, f"DROP DATABASE IF EXISTS {name}")
    _pg_exec(pg_server, f"CREATE DATABASE {name}")
    db = open_database(_with_database(pg_server, name))
    schema.upgrade(db)
    db.dispose()
    return name


@pytest.fixture()
def pg_url(pg_server: str, pg_template: str):
    name = f"t_{uuid.uuid4().hex[:12]}"
    _pg_exec(pg_server, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield _with_database(pg_server, name)
    _pg_exec(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture()
def empty_pg_url(pg_server: str):
    name = f"e_{uuid.uuid4().hex[:12]}"
    _pg_exec(pg_server, f"CREATE DATABASE {name}")
    yield _with_database(pg_server, name)
    _pg_exec(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- SQLite ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    db = open_database(sqlite_url(path))
    schema.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture()
def sqlite_url_fresh(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "riser.sqlite"
    shutil.copy(sqlite_template, target)
    return sqlite_url(target)


# -- the parametrised database ---------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url_fresh")
    return request.getfixturevalue("pg_url")


@pytest.fixture()
def db(db_url: str):
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture()
def uow(db: Database):
    return lambda: UnitOfWork(db)


@pytest.fixture()
def system() -> Actor:
    return Actor.system("tests")


@pytest.fixture()
def admin(uow) -> Actor:
    from app.staff import service as staff

    return staff.create_first_admin(uow(), "alice", "correct horse", "Alice Admin")
