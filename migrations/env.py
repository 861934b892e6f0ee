"""Alembic environment. Riser runs it in-process (app.core.schema) with the app's own engine;
``alembic -x url=… upgrade head`` from a shell also works for maintenance."""

from __future__ import annotations

from alembic import context

from app.core.db import open_database
from app.core.secrets import SecretStore
from app.models import metadata

# Objects that exist only on one database and are made by hand in a migration (a trigram
# index is Postgres-only); the autogenerate comparison leaves them alone.
DIALECT_ONLY_INDEXES = {"ix_accounts_search_trgm"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    if type_ == "index" and name in DIALECT_ONLY_INDEXES:
        return False
    return True


def run_migrations() -> None:
    db = context.config.attributes.get("database")
    if db is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("give the database as: alembic -x url=URL …")
        db = open_database(url, SecretStore())
    with db.engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            render_as_batch=db.is_sqlite,
            compare_type=True,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
