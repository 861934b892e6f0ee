"""Schema versions: Alembic under migrations/, checked on every start.

- a local SQLite file is upgraded automatically (after a backup copy of the file);
- a shared Postgres is upgraded only by ``python main.py db upgrade``; an app that meets an
  older schema stops with that advice, one that meets a newer schema opens read-only.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.core.clock import utcnow
from app.core.db import Database
from app.core.errors import SchemaOutdated

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


# Objects that exist only on one database and are made by hand in a migration (a trigram
# index is Postgres-only); the autogenerate comparison leaves them alone.
DIALECT_ONLY_INDEXES = {"ix_accounts_search_trgm"}
# SQLite's FTS5 trigram table and the shadow tables FTS5 keeps for it.
DIALECT_ONLY_TABLE_PREFIXES = ("accounts_search",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Alembic's filter for autogenerate and the models-versus-migrations test."""
    if type_ == "index" and name in DIALECT_ONLY_INDEXES:
        return False
    return not (type_ == "table" and name and name.startswith(DIALECT_ONLY_TABLE_PREFIXES))


class SchemaStatus(Enum):
    EMPTY = "empty"
    OUTDATED = "outdated"
    CURRENT = "current"
    NEWER = "newer"


@dataclass(frozen=True)
class SchemaState:
    status: SchemaStatus
    database_revision: str | None
    head_revision: str


def alembic_config(db: Database | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        cfg.attributes["database"] = db
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def inspect_schema(db: Database) -> SchemaState:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        status = SchemaStatus.EMPTY
    elif current == head:
        status = SchemaStatus.CURRENT
    else:
        try:
            known = {rev.revision for rev in script.walk_revisions()}
        except Exception:  # noqa: BLE001 - a broken chain counts as unknown
            known = set()
        status = SchemaStatus.OUTDATED if current in known else SchemaStatus.NEWER
    return SchemaState(status, current, head)


def upgrade(db: Database) -> SchemaState:
    """Bring the schema to this version's head and make sure the reference data exists."""
    from app.reference import ensure_reference_data  # the rooms' defaults; core does not import them at load

    state = inspect_schema(db)
    if state.status is SchemaStatus.NEWER:
        raise SchemaOutdated(
            f"The database is at schema {state.database_revision}, newer than this Riser "
            f"({state.head_revision}). Install the newer Riser instead of upgrading."
        )
    if state.status is not SchemaStatus.CURRENT:
        _backup_sqlite(db, state)
        command.upgrade(alembic_config(db), "head")
    with db.session_factory() as session:
        ensure_reference_data(session)
        session.commit()
    db.refresh_capabilities()
    return inspect_schema(db)


def _backup_sqlite(db: Database, state: SchemaState) -> None:
    if not db.is_sqlite or state.status is SchemaStatus.EMPTY or not db.url.database:
        return
    path = Path(db.url.database)
    if not path.exists():
        return
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.before-{state.head_revision}-{stamp}{path.suffix}")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    shutil.copy2(path, target)
    log.info("backed up %s to %s before upgrading its schema", path, target)


def prepare_for_use(db: Database) -> SchemaState:
    """What the app does on start: upgrade local files, check shared databases."""
    state = inspect_schema(db)
    if state.status is SchemaStatus.CURRENT:
        return state
    if state.status is SchemaStatus.NEWER:
        db.read_only_reason = (
            f"The database schema ({state.database_revision}) is newer than this Riser knows "
            f"({state.head_revision}): it is open read-only. Install the newer Riser to make changes."
        )
        return state
    if not db.capabilities.shared:
        return upgrade(db)
    if state.status is SchemaStatus.EMPTY:
        raise SchemaOutdated(
            "The shared database is empty. An administrator sets it up once with: "
            "python main.py --database URL db upgrade"
        )
    if state.status is SchemaStatus.OUTDATED:
        raise SchemaOutdated(
            f"The shared database uses an older schema ({state.database_revision}; this Riser needs "
            f"{state.head_revision}). An administrator upgrades it with: python main.py db upgrade"
        )
    raise AssertionError(state)  # every status is handled above
