"""Billing → Bill runs on the demo database, with 250 more accounts given billing data by
tests/integration/bill_run_worker.py: the history, the new-run dialog's preview, confirm and run with progress,
cancel and rerun, a run refused because another desktop runs one, and a past run's summary."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from sqlalchemy import func, select

from app.billing import bill_run as bill_run_module
from app.billing.models import BillRun, Invoice
from app.core.db import open_database
from app.core.permissions import Actor
from app.core.secrets import SecretStore
from app.ui.billing.runs import EMPTY_TITLE, BillRunsPanel, RunSummaryDialog
from app.ui.context import AppContext
from app.ui.tasks import TaskRunner
from tests.integration.bill_run_worker import populate

TODAY = date(2026, 2, 20)
MAR_1 = date(2026, 3, 1)
SHOTS = Path("/tmp/shots")


@pytest.fixture()
def billing(ctx):
    return populate(ctx.db, 250, seed=5)


def _settle(qtbot, ctx) -> None:
    ctx.runner.wait()
    qtbot.wait(30)


def _invoice_count(ctx) -> int:
    with ctx.uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(Invoice)))


def _panel(qtbot, ctx) -> BillRunsPanel:
    panel = BillRunsPanel(ctx, today=lambda: TODAY)
    qtbot.addWidget(panel)
    panel.resize(1180, 560)
    panel.show()
    _settle(qtbot, ctx)
    return panel


def _preview(qtbot, dialog) -> None:
    with qtbot.waitSignal(dialog.previewed, timeout=60_000, raising=True):
        dialog.preview_button.click()


@pytest.fixture()
def bare_ctx(app, sqlite_url_fresh, qtbot):
    """A database with no runs at all (the demo's has its history of runs)."""
    database = open_database(sqlite_url_fresh)
    runner = TaskRunner(single_writer=True)
    yield AppContext(database, Actor.system("tests"), runner, SecretStore())
    runner.shutdown()
    qtbot.wait(10)
    database.dispose()


def test_with_no_runs_yet_the_panel_explains_what_a_bill_run_is(qtbot, bare_ctx) -> None:
    panel = _panel(qtbot, bare_ctx)
    assert panel.stack.currentWidget() is panel.empty and panel.empty.title.text() == EMPTY_TITLE
    assert panel.new_button.isVisible()


def test_preview_then_run_through_the_dialog_and_the_history_shows_the_run(qtbot, ctx, billing, qtmodeltester) -> None:
    panel = _panel(qtbot, ctx)
    runs_before, invoices_before = panel.model.rowCount(), _invoice_count(ctx)

    dialog = panel.new_run()
    qtbot.addWidget(dialog)
    assert dialog.run_date() == MAR_1  # the next 1st
    assert not dialog.run_button.isEnabled()  # nothing to run before a preview
    _preview(qtbot, dialog)
    preview = dialog.preview_result
    assert preview is not None and preview.invoices > 200 and preview.skipped > 0
    assert dialog.model.rowCount() == len(preview.rows)
    assert dialog.summary.text().startswith(f"{preview.invoices:,} accounts will be invoiced for {preview.total_text}")
    qtmodeltester.check(dialog.model)
    assert _invoice_count(ctx) == invoices_before  # the preview changes nothing
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "bill-run-preview.png"))

    dialog.run_button.click()
    assert dialog.confirm_bar.isVisible()
    assert dialog.confirm_text.text() == f"Invoice {preview.invoices:,} accounts for {preview.total_text}?"
    dialog.grab().save(str(SHOTS / "bill-run-confirm.png"))
    with qtbot.waitSignal(dialog.ran, timeout=120_000, raising=True) as ran:
        dialog.confirm_button.click()
    result = ran.args[0]
    assert (result.state, result.invoices, result.total) == ("done", preview.invoices, preview.total)
    assert _invoice_count(ctx) == invoices_before + preview.invoices
    assert dialog.outcome.isVisible() and dialog.outcome.text().startswith("Done: invoices ")
    assert not dialog.run_button.isEnabled()  # a second run wants a new preview

    _settle(qtbot, ctx)
    assert panel.stack.currentWidget() is panel.table
    assert panel.model.rowCount() == runs_before + 1
    qtmodeltester.check(panel.model)
    row = panel.model.rows[0]
    assert (row.run_date, row.state, row.invoices, row.skipped) == (MAR_1, "done", preview.invoices, preview.skipped)
    assert panel.model.index(0, 1).data() == "Done"
    dialog.close()
    panel.grab().save(str(SHOTS / "bill-runs.png"))


def test_a_run_shows_progress_can_be_cancelled_and_a_rerun_finishes(qtbot, ctx, billing, monkeypatch) -> None:
    real_run = bill_run_module.run
    release = threading.Event()

    def slow_run(*args, **kwargs):  # the real run, in small chunks, held after the first
        progress = kwargs.pop("progress")

        def held(done: int, total: int) -> None:
            progress(done, total)
            if done > 0:
                release.wait(30)
        return real_run(*args, chunk_size=40, progress=held, **kwargs)

    monkeypatch.setattr(bill_run_module, "run", slow_run)
    before = _invoice_count(ctx)
    panel = _panel(qtbot, ctx)
    dialog = panel.new_run()
    qtbot.addWidget(dialog)
    _preview(qtbot, dialog)
    total = dialog.preview_result.invoices
    dialog.run_button.click()
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 40, timeout=60_000)
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
    assert not dialog.close_button.isEnabled()
    dialog.grab().save(str(SHOTS / "bill-run-progress.png"))

    with qtbot.waitSignal(dialog.ran, timeout=60_000, raising=True) as ran:
        dialog.cancel_button.click()
        release.set()
    first = ran.args[0]
    assert first.state == "cancelled" and 0 < first.invoices < total
    assert "Run the same date again" in dialog.outcome.text()

    monkeypatch.setattr(bill_run_module, "run", real_run)
    _preview(qtbot, dialog)
    assert dialog.preview_result.invoices == total - first.invoices
    dialog.run_button.click()
    with qtbot.waitSignal(dialog.ran, timeout=120_000, raising=True) as ran:
        dialog.confirm_button.click()
    assert ran.args[0].state == "done"
    assert _invoice_count(ctx) == before + total
    _settle(qtbot, ctx)
    assert [r.state for r in panel.model.rows[:2]] == ["done", "cancelled"]


def test_a_run_refused_because_another_desktop_runs_one_says_so_inline(qtbot, ctx, billing) -> None:
    now = datetime.now(UTC)
    with ctx.uow() as u:
        u.session.add(BillRun(run_date=MAR_1, state="running", started_at=now - timedelta(minutes=5),
                              heartbeat_at=now, started_by="bob", worker="bob@front-desk (pid 77)", invoices=40))
        u.commit()
    before = _invoice_count(ctx)
    panel = _panel(qtbot, ctx)
    dialog = panel.new_run()
    qtbot.addWidget(dialog)
    _preview(qtbot, dialog)
    dialog.run_button.click()
    with qtbot.waitSignal(dialog.refused, timeout=60_000, raising=True):
        dialog.confirm_button.click()
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("A bill run is already in progress on bob@front-desk (pid 77) since ")
    assert dialog.error.text().endswith("(40 invoices so far).")
    assert _invoice_count(ctx) == before
    assert dialog.date.isEnabled() and dialog.close_button.isEnabled()


def test_changing_the_date_throws_the_preview_away(qtbot, ctx, billing) -> None:
    panel = _panel(qtbot, ctx)
    dialog = panel.new_run()
    qtbot.addWidget(dialog)
    _preview(qtbot, dialog)
    assert dialog.run_button.isEnabled()
    dialog.date.setDate(QDate(2026, 4, 1))
    assert dialog.preview_result is None and dialog.model.rowCount() == 0 and not dialog.run_button.isEnabled()


def test_double_clicking_a_past_run_shows_its_skips_and_failures(qtbot, ctx, billing) -> None:
    bill_run_module.run(ctx.uow, ctx.actor, MAR_1)
    panel = _panel(qtbot, ctx)
    summary = panel.open_run(0)
    assert isinstance(summary, RunSummaryDialog)
    qtbot.addWidget(summary)
    run = summary.run
    assert run.skipped > 0 and summary.skipped.rowCount() == len(run.skipped_accounts)
    reasons = {summary.skipped.item(n, 2).text() for n in range(summary.skipped.rowCount())}
    assert {"status Inactive does not bill", "disconnected on 2026-01-15"} <= reasons
    assert "Skipped: " in summary.text.text() and "status Inactive does not bill (" in summary.text.text()
    summary.grab().save(str(SHOTS / "bill-run-summary.png"))
