"""What every view is given: the services' entry points, the signed-in user, the task runner."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.db import Database
from app.core.permissions import Actor
from app.core.secrets import SecretStore
from app.ui.navigation import Navigator
from app.ui.tasks import TaskRunner
from app.uow import UnitOfWork


@dataclass
class AppContext:
    db: Database
    actor: Actor
    runner: TaskRunner
    secrets: SecretStore
    nav: Navigator = field(default_factory=Navigator)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    @property
    def read_only(self) -> bool:
        return self.db.read_only_reason is not None
