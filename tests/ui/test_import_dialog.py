"""The import dialog driven like a person would: open the messy file, check the guessed columns
and the rows' problems, change a column, import, read the summary."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt

from app.addresses import importing
from app.addresses.importing import read_sheet
from app.ui.addresses.import_dialog import NOT_IN_FILE, ImportDialog
from app.ui.widgets.export import export_list
from app.uow import UnitOfWork

MESSY = Path(__file__).resolve().parents[1] / "fixtures" / "messy_addresses.csv"


def _open(qtbot, ctx, path: Path = MESSY) -> ImportDialog:  # noqa: ANN001
    dialog = ImportDialog(ctx, path=path)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.analysed, timeout=10000):
        dialog.show()
    return dialog


def _statuses(dialog: ImportDialog) -> dict[int, str]:
    table = dialog.table
    last = table.columnCount() - 1
    return {int(table.item(r, 0).text()): table.item(r, last).text() for r in range(table.rowCount())}


def _headers(dialog: ImportDialog) -> list[str]:
    return [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]


def _counts(ctx) -> tuple[int, int]:  # noqa: ANN001
    """(new, unchanged) if the messy file were imported now."""
    result = importing.analyse(UnitOfWork(ctx.db), ctx.actor, read_sheet(MESSY)).result
    return result.new, result.unchanged


def test_the_dialog_guesses_the_columns_shows_each_rows_problem_and_imports(qtbot, ctx, tmp_path) -> None:  # noqa: ANN001
    dialog = _open(qtbot, ctx)
    assert dialog.file_label.text() == "messy_addresses.csv"
    assert dialog.file_info.text() == "12 rows · UTF-8 · semicolon-separated"
    assert {name: combo.currentText() for name, combo in dialog.combos.items()} == {
        "building": "Building Name", "street": "STREET ADDRESS", "unit": "Apt", "floor": NOT_IN_FILE,
        "city": "City", "region": "Province", "postal_code": "Postal Code", "country": "Country",
        "serviceable_from": "Available from",
    }
    assert _headers(dialog) == ["Row", "Building", "Street", "Unit", "City", "State/province", "Postal code",
                                "Country", "Serviceable from", "Status"]
    statuses = _statuses(dialog)
    assert list(statuses) == [2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]
    assert statuses[2] == "New" and statuses[11] == "New"
    assert statuses[5] == "duplicate of row 2"
    assert statuses[7] == "'12345' is not a Canadian postal code (A1A 1A1)."
    assert statuses[8] == "Street is required."
    assert statuses[14] == "'next week' is not a date; write it as YYYY-MM-DD."
    assert dialog.summary.text().startswith("12 rows: 8 new, 0 already known, 4 with errors")
    assert dialog.import_button.isEnabled() and dialog.import_button.isDefault()

    # Without the postal code column the bad code is not read: the preview is checked again.
    with qtbot.waitSignal(dialog.analysed, timeout=10000):
        dialog.set_column("postal_code", None)
    assert "Postal code" not in _headers(dialog)
    assert _statuses(dialog)[7] == "New"
    assert dialog.summary.text().startswith("12 rows: 9 new, 0 already known, 3 with errors")
    # Without a street column nothing can be imported: said inline, the rows still shown.
    with qtbot.waitSignal(dialog.analysed, timeout=10000):
        dialog.set_column("street", None)
    assert "has no street column" in dialog.error.text() and dialog.error.isVisibleTo(dialog)
    assert not dialog.import_button.isEnabled() and dialog.table.rowCount() == 12
    with qtbot.waitSignal(dialog.analysed, timeout=10000):
        dialog.set_column("street", "STREET ADDRESS")
    with qtbot.waitSignal(dialog.analysed, timeout=10000):
        dialog.set_column("postal_code", "Postal Code")
    assert not dialog.error.isVisibleTo(dialog)

    assert dialog.valid_rows.isChecked()
    with qtbot.waitSignal(dialog.import_finished, timeout=20000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result_title.text() == "Imported 8, unchanged 0, rejected 4"
    assert dialog.rejected_table.rowCount() == 4
    assert dialog.rejected_table.item(1, 0).text() == "7"
    assert dialog.close_button.text() == "Close" and not dialog.import_button.isVisible()
    assert _counts(ctx) == (0, 8)

    saved = tmp_path / "rejected.csv"
    assert dialog.save_rejected(saved)
    rows = list(csv.reader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[-2] for r in rows[1:]] == ["5", "7", "8", "14"]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_all_or_nothing_leaves_the_database_unchanged(qtbot, ctx) -> None:  # noqa: ANN001
    dialog = _open(qtbot, ctx)
    dialog.all_or_nothing.setChecked(True)
    assert "nothing would be imported" in dialog.summary.text()
    with qtbot.waitSignal(dialog.import_finished, timeout=20000):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter imports
    assert dialog.result_title.text() == "Imported 0, unchanged 0, rejected 4"
    assert dialog.result_text.text().startswith("Nothing was imported: 4 rows have errors")
    assert _counts(ctx) == (8, 0)


def test_escape_during_an_import_cancels_it_and_nothing_is_written(qtbot, ctx, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(importing, "CHUNK", 1)  # look for a cancel after every row
    path = tmp_path / "many.csv"
    path.write_text("Street,Unit,City,Province,Postal code,Country\n"
                    + "\n".join(f"{b} Queen Street,{u},Halifax,NS,B3J 2K9,CA" for b in range(1, 21) for u in range(1, 101)))
    dialog = _open(qtbot, ctx, path)
    assert dialog.summary.text().startswith("2,000 rows: 2,000 new")
    with qtbot.waitSignal(dialog.import_finished, timeout=20000) as finished:
        dialog.start_import()
        assert dialog.progress.isVisible() and dialog.close_button.text() == "Cancel import"
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert finished.args == [None]
    assert dialog.isVisible()  # Escape stopped the import, not the dialog
    assert dialog.error.text() == "Import cancelled: nothing was written."
    again = importing.analyse(UnitOfWork(ctx.db), ctx.actor, read_sheet(path)).result
    assert (again.new, again.unchanged) == (2000, 0)


def test_a_file_that_cannot_be_read_is_said_inline(qtbot, ctx, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    dialog = ImportDialog(ctx, path=path)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=10000)
    assert dialog.error.text() == "photo.csv is not a CSV file or an Excel workbook."
    assert not dialog.import_button.isEnabled()


def test_export_list_writes_the_file_on_the_runner(qtbot, ctx, tmp_path) -> None:  # noqa: ANN001
    written: list[tuple[int, Path]] = []
    path = tmp_path / "accounts.xlsx"
    with qtbot.waitCallback(timeout=20000) as done:
        task = export_list(None, ctx, "accounts", path=path, on_done=lambda n, p: (written.append((n, p)), done()))
    assert task is not None and written == [(300, path)]
    import openpyxl

    assert len(list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows())) == 301
