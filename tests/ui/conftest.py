from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import demo
from app.core.db import open_database, sqlite_url
from app.core.permissions import Actor
from app.core.secrets import SecretStore
from app.staff import service as staff
from app.ui.app import make_application
from app.ui.context import AppContext
from app.ui.tasks import TaskRunner
from app.uow import UnitOfWork


@pytest.fixture()
def app(qapp):  # noqa: ANN001, ANN201
    return make_application()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory) -> Path:
    """A 300-account demo (accounts, addresses, inventory; no billing history, so each billing
    test sets up exactly what it checks), generated once and copied for every test."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(sqlite_template, path)
    db = open_database(sqlite_url(path))
    demo.generate(UnitOfWork(db), Actor.system(), 300, seed=5, billing=False)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture()
def demo_db(demo_template: Path, tmp_path: Path):
    target = tmp_path / "riser.sqlite"
    shutil.copy(demo_template, target)
    db = open_database(sqlite_url(target))
    yield db
    db.dispose()


@pytest.fixture()
def ctx(app, demo_db, qtbot):  # noqa: ANN001
    actor = staff.sign_in(UnitOfWork(demo_db), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    runner = TaskRunner(single_writer=True)
    context = AppContext(demo_db, actor, runner, SecretStore())
    yield context
    runner.shutdown()
    qtbot.wait(10)
