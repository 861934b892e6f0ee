"""Export a list to CSV or Excel from any view: one call asks for the file and runs the export
on the task runner, with a progress dialog that can cancel it.

    from app.ui.widgets.export import export_list

    # the accounts list: exactly what it shows (search words, filters, sort order)
    button.clicked.connect(lambda: export_list(self, self.ctx, "accounts", self.model.query))
    # the buildings list: every building and unit (the file imports again as it is)
    button.clicked.connect(lambda: export_list(self, self.ctx, "addresses"))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from app.accounts.repository import AccountQuery
from app.core.errors import RiserError
from app.core.export import ExportFormat
from app.ui.context import AppContext
from app.ui.tasks import Cancelled, Task, TaskContext

log = logging.getLogger(__name__)

KINDS = ("accounts", "addresses")
CSV_FILTER = "CSV (*.csv)"
XLSX_FILTER = "Excel workbook (*.xlsx)"


def export_list(
    parent: QWidget,
    ctx: AppContext,
    kind: str,
    query: AccountQuery | None = None,
    *,
    path: str | Path | None = None,
    on_done: Callable[[int, Path], None] | None = None,
) -> Task | None:
    """Export ``kind`` ("accounts" or "addresses") to a CSV or XLSX file.

    - ``query``: for "accounts", the list's ``AccountQuery`` (None: every account, by name);
      ignored for "addresses" (every building and unit).
    - ``path``: the file to write, skipping the save dialog (tests; the extension picks the
      format, .xlsx or else CSV). Without it a save dialog asks for the name and the format.
    - ``on_done(count, path)``: called on the GUI thread when the file is written.

    Returns the runner's Task (``task.cancel()`` stops it; no half-written file is left), or
    None when the user closed the save dialog. Errors are shown in a message box, never a
    traceback; progress shows in a QProgressDialog (with Cancel) and in the status bar.
    """
    if kind not in KINDS:
        raise ValueError(f"export_list: kind is 'accounts' or 'addresses', not {kind!r}")
    if path is None:
        suggested = str(Path.home() / f"{kind}-{date.today().isoformat()}.xlsx")
        chosen, selected = QFileDialog.getSaveFileName(parent, f"Export {kind}", suggested,
                                                       f"{XLSX_FILTER};;{CSV_FILTER}")
        if not chosen:
            return None
        fmt = ExportFormat.for_path(chosen) or (ExportFormat.CSV if selected == CSV_FILTER else ExportFormat.XLSX)
        path = Path(chosen)
        if path.suffix.lower() != f".{fmt.value}":
            path = path.with_name(f"{path.name}.{fmt.value}")
    else:
        path = Path(path)
        fmt = ExportFormat.for_path(path) or ExportFormat.CSV

    def op(task: TaskContext) -> int:
        if kind == "accounts":
            from app.accounts.exporting import export_accounts

            return export_accounts(ctx.uow(), ctx.actor, path, fmt, query, progress=task.progress, check=task.check)
        from app.addresses.exporting import export_addresses

        return export_addresses(ctx.uow(), ctx.actor, path, fmt, progress=task.progress, check=task.check)

    progress = QProgressDialog(f"Exporting {kind} to {path.name}…", "Cancel", 0, 0, parent)
    progress.setWindowTitle(f"Export {kind}")
    progress.setMinimumDuration(400)  # a quick export finishes before it shows
    progress.setAutoClose(False)
    progress.setAutoReset(False)

    def on_progress(t: Task) -> None:
        if t is task and t.total:
            progress.setMaximum(t.total)
            progress.setValue(t.done)

    finished = [False]

    def finish() -> None:
        if finished[0]:
            return
        finished[0] = True
        ctx.runner.task_progress.disconnect(on_progress)
        progress.close()
        progress.deleteLater()

    def done(count: int) -> None:
        finish()
        if on_done is not None:
            on_done(count, path)

    def failed(exc: BaseException) -> None:
        finish()
        if isinstance(exc, Cancelled):
            return
        if not isinstance(exc, RiserError):
            log.error("export failed:\n%s", getattr(exc, "__riser_traceback__", repr(exc)))
        QMessageBox.warning(parent, f"Export {kind}", f"The {kind} could not be exported: {exc}")

    task = ctx.runner.submit(op, done, failed, label=f"Exporting {kind}", owner=parent, with_context=True)
    ctx.runner.task_progress.connect(on_progress)
    progress.canceled.connect(lambda: (task.cancel(), finish()))
    return task
