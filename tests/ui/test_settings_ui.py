"""Settings: the database connection panel and the company details form."""

from __future__ import annotations

from app.companies import service as companies
from app.core.settings import LocalSettings
from app.ui.settings.view import SettingsView


def test_company_details_show_errors_inline_and_save(qtbot, ctx) -> None:  # noqa: ANN001
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    panel = view.company
    qtbot.waitUntil(lambda: panel.edits["name"].text() == "Harbourview Networks", timeout=5000)
    panel.edits["email"].setText("billing at example")
    panel.save()
    qtbot.waitUntil(lambda: panel.errors["email"].isVisibleTo(panel), timeout=5000)
    assert "not an e-mail address" in panel.errors["email"].text()
    panel.edits["email"].setText("accounts@example.com")
    panel.edits["name"].setText("Harbourview Fibre")
    panel.save()
    qtbot.waitUntil(lambda: panel.result.text() == "Saved.", timeout=5000)
    (record,) = companies.list_companies(ctx.uow(), ctx.actor)
    assert (record.details.name, record.details.email) == ("Harbourview Fibre", "accounts@example.com")


def test_the_connection_panel_starts_from_the_database_in_use_and_tests_a_file(qtbot, ctx, tmp_path) -> None:  # noqa: ANN001
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    panel = view.database
    assert panel.fields.local.isChecked()
    assert panel.fields.path.text() == ctx.db.url.database
    panel.fields.path.setText(str(tmp_path / "other.sqlite"))
    panel.test()
    qtbot.waitUntil(lambda: panel.result.text().startswith("Connected"), timeout=5000)
    panel.save()
    assert LocalSettings.load().database_url.endswith("other.sqlite")
    LocalSettings().save()


def test_a_postgres_choice_with_missing_fields_is_explained_inline(qtbot, ctx) -> None:  # noqa: ANN001
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    panel = view.database
    panel.fields.shared.setChecked(True)
    panel.fields.host.setText("db.office")
    panel.save()
    assert "name of the database" in panel.error.text()
    assert panel.fields.host.isEnabled() and not panel.fields.path.isEnabled()
