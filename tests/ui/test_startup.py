"""Starting the desktop app against a database it cannot use: a clear message, a clean exit."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui.app import run_gui
from tests.pgcluster import PASSWORD_ROLE


def _run_and_read_the_message(url: str) -> tuple[int, str]:
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.done(0)
        else:
            QTimer.singleShot(20, close_box)

    QTimer.singleShot(20, close_box)
    code = run_gui(url)
    return code, seen[0] if seen else ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/riser", "SQLite or PostgreSQL"),
        ("/no/such/folder/riser.sqlite", "does not exist"),
        ("postgresql+psycopg://riser@127.0.0.1:1/riser", "Cannot reach PostgreSQL"),
    ],
)
def test_a_database_that_cannot_be_opened_is_explained_and_the_app_exits(qtbot, app, url, expected) -> None:  # noqa: ANN001
    code, message = _run_and_read_the_message(url)
    assert code == 1
    assert expected in message


@pytest.mark.postgres
def test_a_wrong_postgres_password_is_explained(qtbot, app, pg_url) -> None:  # noqa: ANN001
    code, message = _run_and_read_the_message(pg_url.replace("riser@", f"{PASSWORD_ROLE}:wrong@"))
    assert code == 1
    assert "refused the password" in message and ":wrong@" not in message


@pytest.mark.postgres
def test_an_empty_shared_database_tells_how_to_upgrade_and_exits(qtbot, app, empty_pg_url) -> None:  # noqa: ANN001
    code, message = _run_and_read_the_message(empty_pg_url)
    assert code == 1
    assert "db upgrade" in message


def test_saving_into_a_locked_database_says_so_and_keeps_the_form(qtbot, ctx) -> None:  # noqa: ANN001
    from tests.ui.test_accounts_ui import _open_first, _window

    window = _window(qtbot, ctx)
    form = _open_first(qtbot, window.section("Accounts"))
    holder = sqlite3.connect(ctx.db.url.database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        form.name.setText("Will Not Be Saved")
        form.save()
        qtbot.waitUntil(lambda: form.form_error.isVisibleTo(form), timeout=15000)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another program" in form.form_error.text()
    assert form.isVisible() and form.name.text() == "Will Not Be Saved"


def test_the_connection_dialog_tests_in_the_background_and_saves(qtbot, app, tmp_path) -> None:  # noqa: ANN001
    from app.core.secrets import SecretStore
    from app.core.settings import LocalSettings
    from app.ui.startup import ConnectionDialog

    dialog = ConnectionDialog(SecretStore())
    qtbot.addWidget(dialog)
    dialog.fields.local.setChecked(True)
    dialog.fields.path.setText(str(tmp_path / "office.sqlite"))
    dialog.test()
    assert dialog.message.text() == "Connecting…"  # the answer comes from a worker
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Connected"), timeout=5000)
    assert dialog.test_button.isEnabled()
    dialog.save()
    assert dialog.result() == ConnectionDialog.DialogCode.Accepted
    assert LocalSettings.load().database_url.endswith("office.sqlite")
    LocalSettings().save()
