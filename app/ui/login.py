"""Sign-in, and on a brand-new database the dialog that creates the first administrator."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from app.core.errors import RiserError
from app.core.permissions import Actor
from app.ui.widgets.common import FieldError


class _Dialog(QDialog):
    def __init__(self, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.actor: Actor | None = None
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = QFormLayout()
        self.error = FieldError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class LoginDialog(_Dialog):
    """Checks the password on the GUI thread: one scrypt takes ~50 ms, not worth a worker."""

    def __init__(self, sign_in: Callable[[str, str], Actor], database: str, username: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__("Sign in to Riser", f"Database: {database}", parent)
        self._sign_in = sign_in
        self.username = QLineEdit(username)
        self.username.setObjectName("Username")
        self.password = QLineEdit()
        self.password.setObjectName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow("User name", self.username)
        self.form.addRow("Password", self.password)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        (self.password if username else self.username).setFocus()

    def submit(self) -> None:
        try:
            self.actor = self._sign_in(self.username.text(), self.password.text())
        except RiserError as exc:
            self.error.show_message(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


class FirstAdminDialog(_Dialog):
    def __init__(self, create: Callable[[str, str, str], Actor], parent: QWidget | None = None) -> None:
        super().__init__(
            "Welcome to Riser",
            "This database has no staff users yet. Create the first administrator: this person "
            "can add the other staff and change every setting.",
            parent,
        )
        self._create = create
        self.username = QLineEdit("admin")
        self.full_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow("User name", self.username)
        self.form.addRow("Full name", self.full_name)
        self.form.addRow("Password", self.password)
        self.form.addRow("Password again", self.again)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create administrator")

    def submit(self) -> None:
        if self.password.text() != self.again.text():
            self.error.show_message("The two passwords differ.")
            self.again.setFocus()
            return
        try:
            self.actor = self._create(self.username.text(), self.password.text(), self.full_name.text())
        except RiserError as exc:
            self.error.show_message(str(exc))
            return
        self.accept()
