"""One engine factory for both databases, and every dialect difference in one place.

``open_database(url)`` gives a ``Database``: the engine, a session factory, what the database
can do (``Capabilities``) and a safe description for the status bar. Errors from the driver are
turned into ``DatabaseError`` messages a person can act on, with no password in them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import DatabaseError, ReadOnlyDatabase
from app.core.secrets import SecretStore, database_key
from app.core.settings import LocalSettings, default_sqlite_path

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Capabilities:
    """Ask these instead of testing the dialect's name elsewhere."""

    single_writer: bool  # one write transaction at a time (SQLite): serialise writes
    shared: bool  # several desktops share it: schema upgrades are explicit
    # The planner estimates how many rows a search matches and picks between walking the sort
    # index and sorting the matches (Postgres). Without it (SQLite) the caller probes first.
    plans_searches: bool = False
    # A trigram index serves LIKE '%term%' on the column itself (Postgres with pg_trgm).
    trigram_index: bool = False
    # Trigram full-text tables beside their source table (SQLite FTS5, tokenize='trigram'),
    # which serve LIKE '%term%' for terms of three characters or more.
    fts_trigram_tables: frozenset[str] = frozenset()
    # Row locks that other transactions can step over (Postgres ``FOR UPDATE SKIP LOCKED``), so
    # several desktops can claim work from one queue at once. Without it (SQLite) the single
    # writer serialises the claims.
    skip_locked: bool = False


class Database:
    def __init__(self, url: URL, engine: Engine, capabilities: Capabilities) -> None:
        self.url = url
        self.engine = engine
        self.capabilities = capabilities
        # Set when the schema is newer than this Riser knows: every write is refused.
        self.read_only_reason: str | None = None
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        event.listen(self.session_factory, "before_flush", self._guard_writes)

    def _guard_writes(self, session: Session, flush_context, instances) -> None:  # noqa: ANN001
        if self.read_only_reason and (session.new or session.dirty or session.deleted):
            raise ReadOnlyDatabase(self.read_only_reason)

    def refresh_capabilities(self) -> None:
        """Look at what the database offers; again after a schema upgrade adds search indexes."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if self.is_sqlite:
                names = conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%fts5%trigram%'"
                )).scalars()
                self.capabilities = replace(self.capabilities, fts_trigram_tables=frozenset(names))
            else:
                trigram = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
                self.capabilities = replace(self.capabilities, trigram_index=trigram is not None)

    @property
    def is_sqlite(self) -> bool:
        return self.capabilities.single_writer

    def describe(self) -> str:
        """For the status bar and logs: never contains the password."""
        if self.url.get_backend_name() == "sqlite":
            return f"SQLite · {self.url.database}"
        port = f":{self.url.port}" if self.url.port else ""
        return f"PostgreSQL · {self.url.username or ''}@{self.url.host or 'localhost'}{port}/{self.url.database}"

    def dispose(self) -> None:
        self.engine.dispose()


def safe_url(url: URL | str) -> str:
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<invalid URL>"
    return url.render_as_string(hide_password=True)


def resolve_url(cli_url: str | None = None) -> str:
    """The database to open: --database, then RISER_DATABASE_URL, then settings, then the local file."""
    for candidate in (cli_url, os.environ.get("RISER_DATABASE_URL"), LocalSettings.load().database_url):
        if candidate and candidate.strip():
            return candidate.strip()
    path = default_sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite_url(path)


def sqlite_url(path: Path | str) -> str:
    return URL.create("sqlite+pysqlite", database=str(Path(path).expanduser())).render_as_string()


def parse_url(raw: str) -> URL:
    """Parse and normalise a database URL, or raise a DatabaseError saying what is wrong."""
    raw = raw.strip()
    if "://" not in raw:
        # A bare path means a local SQLite file.
        return make_url(sqlite_url(raw))
    try:
        url = make_url(raw)
        url.port  # noqa: B018 - a malformed port only fails when read
    except (ArgumentError, ValueError):
        raise DatabaseError(
            f"'{safe_url(raw)}' is not a database URL. Use a file path, sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE."
        ) from None
    backend = url.drivername.partition("+")[0]
    if backend in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        url = url.set(drivername="sqlite+pysqlite")
        if not url.database or url.database == ":memory:":
            if url.database != ":memory:":
                raise DatabaseError("The SQLite URL names no file: use sqlite:///PATH/TO/riser.sqlite.")
    else:
        raise DatabaseError(
            f"Riser works with SQLite or PostgreSQL, not '{url.drivername}' ({safe_url(url)})."
        )
    return url


def _with_keyring_password(url: URL, secrets: SecretStore | None) -> URL:
    if url.get_backend_name() != "postgresql" or url.password is not None or secrets is None:
        return url
    stored = secrets.get(database_key(url.username, url.host, url.port, url.database))
    return url.set(password=stored) if stored else url


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().parent
        if not folder.exists():
            raise DatabaseError(
                f"Cannot open the database file {url.database}: the folder {folder} does not exist."
            )
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy issue BEGIN itself (pysqlite's own transaction handling breaks
        # SAVEPOINT and would start transactions late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if url.database != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=4,
        max_overflow=4,
        connect_args={
            "connect_timeout": PG_CONNECT_TIMEOUT_S,
            "application_name": "Riser",
            # For Riser's sessions only: random reads cost about what sequential ones do on
            # today's SSD-backed servers. With the spinning-disk default (4) the planner scans
            # every account instead of using the trigram index for a search matching a few
            # thousand (56 ms instead of 8 ms at 100,000 accounts).
            "options": "-c random_page_cost=1.1",
        },
    )


def open_database(raw_url: str, secrets: SecretStore | None = None, *, check: bool = True) -> Database:
    """Build the engine for ``raw_url`` and (with ``check``) prove it answers."""
    url = _with_keyring_password(parse_url(raw_url), secrets)
    try:
        engine = _sqlite_engine(url) if url.get_backend_name() == "sqlite" else _postgres_engine(url)
    except NoSuchModuleError as exc:
        raise DatabaseError(f"The database driver is missing: {exc}") from None
    sqlite = url.get_backend_name() == "sqlite"
    db = Database(url, engine, Capabilities(single_writer=sqlite, shared=not sqlite,
                                            plans_searches=not sqlite, skip_locked=not sqlite))
    if check:
        try:
            db.refresh_capabilities()
        except DBAPIError as exc:
            engine.dispose()
            raise translate_error(exc, url) from None
    log.info("opened database %s", db.describe())
    return db


def translate_error(exc: BaseException, url: URL | None = None) -> DatabaseError:
    """Turn a driver error into a message for a person. Never includes the password."""
    if isinstance(exc, DatabaseError):
        return exc
    orig = getattr(exc, "orig", exc)
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = str(orig).lower()
    if url is not None and url.get_backend_name() == "sqlite" or "sqlite" in type(orig).__module__:
        path = url.database if url is not None else "the database file"
        if "database is locked" in low or "database table is locked" in low:
            return DatabaseError(
                f"The database file {path} is locked by another program (another Riser window, a "
                "backup or sync tool?). Close it and try again; nothing was saved."
            )
        if "unable to open database file" in low:
            return DatabaseError(f"Cannot open the database file {path}: check the folder and its permissions.")
        if "file is not a database" in low:
            return DatabaseError(f"{path} is not a Riser database (it is not an SQLite file).")
        if "readonly database" in low:
            return DatabaseError(f"The database file {path} is read-only: Riser cannot save changes to it.")
        return DatabaseError(f"The local database reported an error: {message}")
    where = "PostgreSQL"
    if url is not None:
        where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    user = url.username if url is not None else "?"
    if "password authentication failed" in low:
        return DatabaseError(f"{where} refused the password for user '{user}'. Check it in Settings → Database.")
    if "no password supplied" in low or "fe_sendauth" in low:
        return DatabaseError(
            f"{where} asks for a password for user '{user}': enter it in Settings → Database "
            "(it is kept in the system keyring)."
        )
    if "does not exist" in low and "database" in low and url is not None:
        return DatabaseError(f"{where} has no database named '{url.database}'.")
    if "role" in low and "does not exist" in low:
        return DatabaseError(f"{where} has no user named '{user}'.")
    if any(s in low for s in ("connection refused", "could not connect", "timeout", "timed out",
                              "could not translate host name", "name or service not known",
                              "server closed the connection", "connection is bad", "no route to host")):
        reason = "connection refused" if "refused" in low else (
            "host name not found" if ("translate host" in low or "not known" in low) else "no answer"
        )
        return DatabaseError(f"Cannot reach {where} ({reason}). Is the server running and the address right?")
    return DatabaseError(f"{where} reported an error: {message}")
