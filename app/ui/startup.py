"""The connection dialog shown when Riser cannot open its database at start."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.core.connection import ConnectionChoice, save_connection, try_connection
from app.core.db import resolve_url
from app.core.secrets import SecretStore
from app.core.settings import default_sqlite_path
from app.ui.tasks import TaskRunner


class ConnectionDialog(QDialog):
    """Pick a local file or a Postgres server, test it, save it, and try again."""

    def __init__(self, secrets: SecretStore, parent: QWidget | None = None) -> None:
        from app.ui.settings.view import ConnectionFields

        super().__init__(parent)
        self.setWindowTitle("Database connection")
        self.setMinimumWidth(520)
        self.secrets = secrets
        self.runner = TaskRunner(parent=self)
        self.fields = ConnectionFields(self)
        try:
            self.fields.set_choice(ConnectionChoice.from_url(resolve_url()))
        except Exception:  # noqa: BLE001
            self.fields.set_choice(ConnectionChoice("sqlite", path=str(default_sqlite_path())))
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.test_button = buttons.addButton("Test connection", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("Save and connect", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.test_button.clicked.connect(self.test)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def test(self) -> None:
        """Connect on a worker (up to the connect timeout), so the dialog stays responsive."""
        choice, secrets = self.fields.choice(), self.secrets
        self.message.setText("Connecting…")
        self.test_button.setEnabled(False)

        def done(text: str) -> None:
            self.test_button.setEnabled(True)
            self.message.setText(text)

        self.runner.submit(lambda: try_connection(choice, secrets), done, lambda exc: done(str(exc)),
                           key="test-connection", owner=self)

    def save(self) -> None:
        try:
            save_connection(self.fields.choice(), self.secrets)
        except Exception as exc:  # noqa: BLE001
            self.message.setText(str(exc))
            return
        self.accept()
