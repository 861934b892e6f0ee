"""Billing → Mail settings: the SMTP server invoices are e-mailed through.

    dialog = MailSettingsDialog(ctx, parent)
    if dialog.exec(): ...                  # saved: mail.json beside settings.json, password in the keyring

The password field is never filled from the keyring (the placeholder says whether one is
saved); typing a new one replaces it on Save. **Send test** signs in with what is typed — the
password typed, else the saved one — and sends a short message to the from address, on the
task runner; nothing is saved by a test. A keyring that cannot be used
(``SecretStoreUnavailable``) is said plainly under the password, and the other settings are
still saved.
"""

from __future__ import annotations

from keyring.errors import KeyringError
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.billing import mailing
from app.billing.mailing import (
    DEFAULT_PORTS,
    SECURITY_CHOICES,
    SECURITY_LABELS,
    SmtpSettings,
)
from app.core.errors import RiserError, SecretStoreUnavailable, ValidationError
from app.core.secrets import NO_KEYRING_HELP, SecretStore
from app.ui.context import AppContext
from app.ui.widgets.common import FieldError

MAIL_NO_KEYRING = ("No system keyring is available to keep the mail password safe. Unlock or install one "
                   "(Windows Credential Manager, macOS Keychain, GNOME Keyring or KWallet), then save again.")


class _TypedPassword:
    """A SecretStore stand-in for a test: the password typed in the dialog, else the saved one."""

    def __init__(self, typed: str, store: SecretStore) -> None:
        self.typed, self.store = typed, store

    def get(self, key: str) -> str | None:
        return self.typed or self.store.get(key)


class MailSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("MailSettingsDialog")
        self.setWindowTitle("Mail settings")
        self.setMinimumWidth(480)
        self.saved_settings = SmtpSettings.load()
        s = self.saved_settings

        intro = QLabel("Invoices are e-mailed through this SMTP server. The password is kept in the "
                       "system keyring, never in a file.")
        intro.setWordWrap(True)
        intro.setObjectName("DialogIntro")

        self.host = QLineEdit(s.host)
        self.host.setPlaceholderText("smtp.example.com")
        self.security = QComboBox()
        for key in SECURITY_CHOICES:
            self.security.addItem(SECURITY_LABELS[key], key)
        self.security.setCurrentIndex(max(0, self.security.findData(s.security)))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(s.port)
        self.security.currentIndexChanged.connect(self._security_changed)
        self._last_security = s.security
        self.username = QLineEdit(s.username)
        self.username.setPlaceholderText("often the from address; empty: no sign-in")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.from_address = QLineEdit(s.from_address)
        self.from_address.setPlaceholderText("billing@example.com")
        self.from_name = QLineEdit(s.from_name)
        self.from_name.setPlaceholderText("empty: the invoice's company name")
        self._refresh_password_hint()
        self.username.editingFinished.connect(self._refresh_password_hint)
        self.host.editingFinished.connect(self._refresh_password_hint)

        self.errors = {name: FieldError() for name in ("host", "port", "security", "from_address", "password")}
        form = QFormLayout()
        form.addRow("Server", self._with_error(self.host, "host"))
        form.addRow("Security", self._with_error(self.security, "security"))
        form.addRow("Port", self._with_error(self.port, "port"))
        form.addRow("Username", self.username)
        form.addRow("Password", self._with_error(self.password, "password"))
        form.addRow("From address", self._with_error(self.from_address, "from_address"))
        form.addRow("From name", self.from_name)

        self.status = QLabel("")
        self.status.setObjectName("MailTestStatus")
        self.status.setWordWrap(True)
        self.test_button = QPushButton("Send test")
        self.test_button.setToolTip("Sign in with these settings and send a short message to the from address")
        self.test_button.clicked.connect(self.send_test)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _with_error(self, field: QWidget, name: str) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(self.errors[name])
        return box

    def _security_changed(self) -> None:
        new = self.security.currentData()
        if self.port.value() == DEFAULT_PORTS.get(self._last_security):
            self.port.setValue(DEFAULT_PORTS[new])  # the port followed the default: keep following
        self._last_security = new

    def _refresh_password_hint(self) -> None:
        try:
            saved = self.settings().password(self.ctx.secrets) is not None if self.username.text().strip() else False
        except (SecretStoreUnavailable, KeyringError):
            saved = False
        self.password.setPlaceholderText("saved in the keyring — type to replace" if saved else "")

    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.host.text().strip(), port=self.port.value(), security=self.security.currentData(),
            username=self.username.text().strip(), from_address=self.from_address.text().strip(),
            from_name=self.from_name.text().strip(), timeout=self.saved_settings.timeout,
        )

    def _clear_errors(self) -> None:
        for error in self.errors.values():
            error.clear_message()
        self.status.setText("")

    def _show(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError) and exc.field in self.errors:
            self.errors[exc.field].show_message(str(exc))
        else:
            self.status.setText(str(exc))
            self.status.setProperty("error", True)

    # -- actions ---------------------------------------------------------------------------
    def send_test(self) -> None:
        self._clear_errors()
        settings = self.settings()
        try:
            settings.validate()
        except ValidationError as exc:
            self._show(exc)
            return
        secrets = _TypedPassword(self.password.text(), self.ctx.secrets)
        self.test_button.setEnabled(False)
        self.status.setText(f"Connecting to {settings.where}…")

        def done(text: str) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(text)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(str(exc) if isinstance(exc, RiserError) else f"The test failed: {exc}")

        self.ctx.runner.submit(lambda: mailing.test_connection(settings, secrets, send_to=settings.from_address),
                               done, failed, label="Testing the mail server", owner=self)

    def save(self) -> None:
        self._clear_errors()
        settings = self.settings()
        try:
            settings.save()
        except ValidationError as exc:
            self._show(exc)
            return
        except OSError as exc:
            self.status.setText(f"The settings could not be saved: {exc}")
            return
        self.saved_settings = settings
        typed = self.password.text()
        if typed:
            if not settings.username:
                self.errors["password"].show_message("Enter the username the password belongs to.")
                return
            try:
                settings.save_password(self.ctx.secrets, typed)
            except (SecretStoreUnavailable, KeyringError) as exc:
                # SecretStore's own help speaks of PostgreSQL's alternatives; say it for mail.
                message = str(exc) if isinstance(exc, SecretStoreUnavailable) and str(exc) != NO_KEYRING_HELP \
                    else MAIL_NO_KEYRING
                self.errors["password"].show_message(
                    f"The other settings were saved, but the password could not be kept. {message}")
                return
        self.accept()
