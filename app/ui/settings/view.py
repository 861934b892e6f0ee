"""Settings: the database connection (local file or shared Postgres), the company details, and
the lists accounts choose from (statuses, types, groups)."""

from __future__ import annotations

from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QButtonGroup, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QRadioButton, QScrollArea, QVBoxLayout, QWidget,
)

from app.companies import service as companies
from app.core.connection import ConnectionChoice, save_connection, try_connection
from app.core.errors import ValidationError
from app.core.permissions import Permission
from app.core.settings import default_sqlite_path
from app.ui.context import AppContext
from app.ui.settings.lookups_panel import LookupsPanel
from app.ui.widgets.common import FieldError


class ConnectionFields(QWidget):
    """Local file or Postgres server and login: the fields, and the choice they make."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.local = QRadioButton("This computer only (a local SQLite file)")
        self.shared = QRadioButton("Shared with the office (a PostgreSQL server)")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.shared)
        self.path = QLineEdit()
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.host, self.database, self.username = QLineEdit(), QLineEdit(), QLineEdit()
        self.port = QLineEdit("5432")
        self.port.setValidator(QIntValidator(1, 65535, self.port))
        self.port.setMaximumWidth(90)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in the system keyring, never in a file")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.local)
        form.addRow("File", path_row)
        form.addRow(self.shared)
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("User", self.username)
        form.addRow("Password", self.password)
        self.local.toggled.connect(self._sync_enabled)

    def set_choice(self, choice: ConnectionChoice) -> None:
        (self.local if choice.kind == "sqlite" else self.shared).setChecked(True)
        self.path.setText(choice.path or str(default_sqlite_path()))
        self.host.setText(choice.host)
        self.port.setText(str(choice.port))
        self.database.setText(choice.database)
        self.username.setText(choice.username)
        self._sync_enabled()

    def choice(self) -> ConnectionChoice:
        if self.local.isChecked():
            return ConnectionChoice("sqlite", path=self.path.text())
        return ConnectionChoice("postgresql", host=self.host.text(), port=int(self.port.text() or 5432),
                                database=self.database.text(), username=self.username.text(),
                                password=self.password.text())

    def _sync_enabled(self) -> None:
        local = self.local.isChecked()
        self.path.setEnabled(local)
        self.browse.setEnabled(local)
        for w in (self.host, self.port, self.database, self.username, self.password):
            w.setEnabled(not local)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Riser database file", self.path.text(),
                                              "Riser database (*.sqlite *.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path.setText(path)


class DatabasePanel(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Database connection", parent)
        self.ctx = ctx
        self.setObjectName("DatabasePanel")
        self.fields = ConnectionFields()
        self.result = QLabel()
        self.result.setObjectName("ConnectionResult")
        self.result.setWordWrap(True)
        self.error = FieldError()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        in_use = QLabel(f"In use now: {ctx.db.describe()}")
        in_use.setWordWrap(True)
        buttons.addWidget(in_use, 1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.result)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        # Start from the database in use (its URL without the password).
        self.fields.set_choice(ConnectionChoice.from_url(ctx.db.url.set(password=None).render_as_string(False)))
        if not ctx.actor.can(Permission.SETTINGS_MANAGE):
            self.fields.setEnabled(False)
            self.save_button.setEnabled(False)
            self.save_button.setToolTip("Only an administrator changes the database connection.")

    def test(self) -> None:
        choice, secrets = self.fields.choice(), self.ctx.secrets
        self.result.setText("Connecting…")
        self.error.clear_message()
        self.test_button.setEnabled(False)
        self.ctx.runner.submit(lambda: try_connection(choice, secrets), self._tested, self._failed,
                               label="Testing the connection", key="test-connection", owner=self)

    def _tested(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(message)

    def _failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.result.setText("")
        self.error.show_message(str(exc))

    def save(self) -> None:
        self.error.clear_message()
        try:
            self.result.setText(save_connection(self.fields.choice(), self.ctx.secrets))
        except Exception as exc:  # noqa: BLE001 - every failure is shown inline
            self.result.setText("")
            self.error.show_message(str(exc))
            return
        self.fields.password.clear()


COMPANY_FIELDS = [("name", "Name"), ("street", "Street"), ("city", "City"), ("region", "State / province"),
                  ("postal_code", "ZIP / postal code"), ("country", "Country (2 letters)"), ("phone", "Phone"),
                  ("email", "E-mail"), ("website", "Website"), ("currency", "Currency")]


class CompanyPanel(QGroupBox):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Company details (printed on invoices and letters)", parent)
        self.ctx = ctx
        self.setObjectName("CompanyPanel")
        self.record: companies.CompanyRecord | None = None
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, FieldError] = {}
        form = QFormLayout()
        for key, label in COMPANY_FIELDS:
            edit = QLineEdit()
            error = FieldError()
            self.edits[key], self.errors[key] = edit, error
            form.addRow(label, edit)
            form.addRow("", error)
        self.result = QLabel()
        self.form_error = FieldError()
        self.save_button = QPushButton("Save company details")
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(self.result, 1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addLayout(row)
        editable = ctx.actor.can(Permission.COMPANY_EDIT) and not ctx.read_only
        for edit in self.edits.values():
            edit.setReadOnly(not editable)
        self.save_button.setVisible(editable)
        self.load()

    def load(self) -> None:
        ctx = self.ctx
        ctx.runner.submit(lambda: companies.list_companies(ctx.uow(), ctx.actor), self._fill,
                          lambda exc: self.form_error.show_message(str(exc)), owner=self)

    def _fill(self, records: list[companies.CompanyRecord]) -> None:
        if not records:
            return
        self.record = records[0]
        for key, edit in self.edits.items():
            edit.setText(getattr(self.record.details, key))

    def save(self) -> None:
        if self.record is None:
            return
        for error in [*self.errors.values(), self.form_error]:
            error.clear_message()
        details = companies.CompanyDetails(**{k: e.text() for k, e in self.edits.items()})
        ctx, record = self.ctx, self.record
        self.save_button.setEnabled(False)
        ctx.runner.submit(lambda: companies.update_company(ctx.uow(), ctx.actor, record.id, record.version, details),
                          self._saved, self._failed, label="Saving company details", writes=True, owner=self)

    def _saved(self, record: companies.CompanyRecord) -> None:
        self.save_button.setEnabled(True)
        self.record = record
        self.result.setText("Saved.")

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError) and exc.field in self.errors:
            self.errors[exc.field].show_message(str(exc))
            self.edits[exc.field].setFocus()
        else:
            self.form_error.show_message(str(exc))


class SettingsView(QScrollArea):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsView")
        self.setWidgetResizable(True)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(16, 16, 16, 16)
        self.database = DatabasePanel(ctx)
        self.company = CompanyPanel(ctx)
        self.lookups = LookupsPanel(ctx)
        self.lookups.changed.connect(ctx.nav.lookups_changed)
        layout.addWidget(self.database)
        layout.addWidget(self.company)
        layout.addWidget(self.lookups)
        layout.addStretch(1)
        inner.setMaximumWidth(820)
        self.setWidget(inner)
