"""The desktop app's composition root: open the database, sign in, show the main window.

Every failure on the way (bad URL, unreachable server, locked file, outdated shared schema)
is a dialog with a plain message and a way forward, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.core import schema
from app.core.db import Database, open_database, resolve_url
from app.core.errors import DatabaseError, RiserError, SchemaOutdated
from app.core.secrets import SecretStore
from app.staff import service as staff
from app.ui.context import AppContext
from app.ui.login import FirstAdminDialog, LoginDialog
from app.ui.main_window import MainWindow
from app.ui.tasks import TaskRunner
from app.uow import UnitOfWork

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    QCoreApplication.setOrganizationName("Riser")
    QCoreApplication.setApplicationName("Riser")
    QCoreApplication.setApplicationVersion(__version__)
    theme = RESOURCES / "theme.qss"
    if theme.exists():
        app.setStyleSheet(theme.read_text(encoding="utf-8").replace("@RESOURCES@", RESOURCES.as_posix()))
    icon = RESOURCES / "riser.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app  # type: ignore[return-value]


def connect(cli_database: str | None, secrets: SecretStore) -> Database:
    """Open and prepare the database; raises RiserError with the reason."""
    db = open_database(resolve_url(cli_database), secrets)
    try:
        schema.prepare_for_use(db)
    except BaseException:
        db.dispose()
        raise
    return db


def _ask_for_connection(message: str, secrets: SecretStore) -> bool:
    """The database could not be opened: offer the connection settings. True → try again."""
    from app.ui.startup import ConnectionDialog

    box = QMessageBox(QMessageBox.Icon.Critical, "Riser cannot open its database", message)
    settings = box.addButton("Connection settings…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Try again", QMessageBox.ButtonRole.ActionRole)
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is quit_button:
        return False
    if box.clickedButton() is settings:
        return ConnectionDialog(secrets).exec() == ConnectionDialog.DialogCode.Accepted
    return True


def sign_in(db: Database) -> AppContext | None:
    uow = lambda: UnitOfWork(db)  # noqa: E731
    if staff.needs_first_admin(uow()):
        first = FirstAdminDialog(lambda u, p, n: staff.create_first_admin(uow(), u, p, n))
        if first.exec() != FirstAdminDialog.DialogCode.Accepted or first.actor is None:
            return None
        actor = first.actor
    else:
        login = LoginDialog(lambda u, p: staff.sign_in(uow(), u, p), db.describe())
        if login.exec() != LoginDialog.DialogCode.Accepted or login.actor is None:
            return None
        actor = login.actor
    return AppContext(db=db, actor=actor, runner=TaskRunner(single_writer=db.capabilities.single_writer),
                      secrets=SecretStore())


def _install_excepthook() -> None:
    """A bug in a slot: log it (secrets masked by the log filter) and tell the user, once per kind."""
    shown: set[str] = set()

    def hook(exc_type, exc, tb) -> None:  # noqa: ANN001
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        if exc_type.__name__ not in shown and QApplication.instance() is not None:
            shown.add(exc_type.__name__)
            from app.core.logs import log_file

            QMessageBox.critical(None, "Riser", f"Something went wrong: {exc}\n\nDetails are in {log_file()}.")

    sys.excepthook = hook


def run_gui(cli_database: str | None = None) -> int:
    app = make_application()
    _install_excepthook()
    secrets = SecretStore()
    while True:
        try:
            db = connect(cli_database, secrets)
            break
        except SchemaOutdated as exc:
            QMessageBox.warning(None, "Riser", str(exc))
            return 1
        except (DatabaseError, RiserError) as exc:
            log.warning("cannot open the database: %s", exc)
            if cli_database or not _ask_for_connection(str(exc), secrets):
                if cli_database:
                    QMessageBox.critical(None, "Riser cannot open its database", str(exc))
                return 1
    try:
        ctx = sign_in(db)
        if ctx is None:
            return 0
        window = MainWindow(ctx)
        window.show()
        if ctx.read_only:
            QMessageBox.warning(window, "Riser", ctx.db.read_only_reason or "")
        return app.exec()
    finally:
        db.dispose()
