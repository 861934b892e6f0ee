from __future__ import annotations

import pytest

from app import demo
from app.core.db import open_database
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


@pytest.fixture()
def demo_db(sqlite_url_fresh: str):
    db = open_database(sqlite_url_fresh)
    demo.generate(UnitOfWork(db), Actor.system(), 300, seed=5)
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
