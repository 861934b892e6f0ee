"""Alembic environment. Riser runs it in-process (app.core.schema) with the app's own engine;
``alembic -x url=… upgrade head`` from a shell also works for maintenance."""

from __future__ import annotations

from alembic import context

from app.core.db import open_database
from app.core.schema import include_object
from app.core.secrets import SecretStore
from app.models import metadata

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
