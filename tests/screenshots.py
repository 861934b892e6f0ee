"""Screenshots of the main views on demo data, for the README and for looking at changes.

    .venv/bin/python -m tests.screenshots [OUTPUT_DIR]     (default resources/screenshots)

Runs offscreen on a throwaway SQLite file with 2,000 demo accounts.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from app import demo  # noqa: E402
from app.core import schema  # noqa: E402
from app.core.db import open_database, sqlite_url  # noqa: E402
from app.core.permissions import Actor  # noqa: E402
from app.core.secrets import SecretStore  # noqa: E402
from app.staff import service as staff  # noqa: E402
from app.ui.app import make_application  # noqa: E402
from app.ui.context import AppContext  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from app.uow import UnitOfWork  # noqa: E402


def pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "resources" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="riser-shots-"))
    os.environ.setdefault("RISER_CONFIG_DIR", str(tmp / "config"))
    app = make_application()
    QSettings().clear()
    db = open_database(sqlite_url(tmp / "demo.sqlite"))
    schema.prepare_for_use(db)
    demo.generate(UnitOfWork(db), Actor.system(), 2000, seed=1)
    actor = staff.sign_in(UnitOfWork(db), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    ctx = AppContext(db, actor, TaskRunner(single_writer=True), SecretStore())
    window = MainWindow(ctx)
    window.resize(1360, 780)
    window.show()
    pump(600)
    window.grab().save(str(out / "accounts.png"))
    view = window.section("Accounts")
    view.search.setText("king st")
    view.search.flush()
    pump(500)
    window.grab().save(str(out / "accounts-search.png"))
    view.table.selectRow(2)
    view._open_current()
    pump(700)
    page = view.page
    if page.data is not None:
        from app.accounts import notes

        account_id = page.data.detail.id
        notes.add_note(UnitOfWork(db), actor, account_id, "Gate code for the bike room is 4471 — tenant asked "
                       "us to keep it on file.", pinned=True)
        notes.add_note(UnitOfWork(db), actor, account_id, "Router replaced under warranty; old one sent back.")
        page.reload()
        pump(600)
        window.grab().save(str(out / "account.png"))
        page.tabs.setCurrentIndex(2)
        pump(500)
        window.grab().save(str(out / "account-notes.png"))
        page.edit()
        pump(300)
        page.dialog.grab().save(str(out / "account-form.png"))
        page.dialog.reject()
        page.move_out()
        pump(300)
        page.dialog.grab().save(str(out / "move-out.png"))
        page.dialog.next()
        pump(300)
        if page.dialog.currentPage() is page.dialog.equipment:
            page.dialog.grab().save(str(out / "move-out-equipment.png"))
            page.dialog.next()
        page.dialog.next_tenant.enabled.setChecked(True)
        page.dialog.next_tenant.form.name.setText("Noor Haddad")
        pump(300)
        page.dialog.grab().save(str(out / "move-in.png"))
        page.dialog.reject()
        from datetime import date, timedelta

        from app.scheduling import service as scheduling

        inactive = next(x.id for x in page.data.lookups.statuses if x.name == "Inactive")
        scheduling.schedule_move_out(UnitOfWork(db), actor, account_id, date.today() + timedelta(days=21),
                                     "Moving out", inactive, date.today())
        page.reload()
        pump(500)
        page.tabs.setCurrentWidget(page.events_tab)
        pump(500)
        window.grab().save(str(out / "account-events.png"))
        if getattr(page, "billing_tab", None) is not None:
            page.tabs.setCurrentWidget(page.billing_tab)
            pump(900)
            window.grab().save(str(out / "account-billing.png"))
        if getattr(page, "equipment_tab", None) is not None:
            page.tabs.setCurrentWidget(page.equipment_tab)
            pump(500)
            window.grab().save(str(out / "account-equipment.png"))
        page.tabs.setCurrentWidget(page.history_tab)
        pump(500)
        window.grab().save(str(out / "account-history.png"))
        page.tabs.setCurrentIndex(0)
        pump(200)
        window.grab().save(str(out / "account-moving-out.png"))
        page.back.emit()
    view.new_account()
    pump(500)
    view.dialog.grab().save(str(out / "new-account.png"))
    view.dialog.reject()
    window.search_everything()
    window.search_palette.box.setText("tremblay")
    window.search_palette.box.flush()
    pump(500)
    window.search_palette.grab().save(str(out / "search-everything.png"))
    window.search_palette.reject()
    addresses = window.section("Addresses")
    pump(700)
    addresses.table.selectRow(1)
    pump(500)
    window.grab().save(str(out / "building-grid.png"))
    from app.ui.addresses.form import AddressDialog

    building = addresses.building
    if building is not None:
        dialog = AddressDialog(ctx, None, building.building, window)
        dialog.show()
        dialog.inputs["unit"].setText(f"Apt {building.units[0].unit}")
        dialog.save()
        pump(500)
        dialog.grab().save(str(out / "address-duplicate.png"))
        dialog.reject()
    _inventory(window, ctx, out, tmp)
    _billing(window, ctx, out, tmp)
    window.section("Tickets")
    pump(100)
    window.grab().save(str(out / "empty-section.png"))
    settings_view = window.section("Settings")
    pump(400)
    window.grab().save(str(out / "settings.png"))
    if getattr(settings_view, "lookups", None) is not None:
        settings_view.lookups.grab().save(str(out / "settings-lookups.png"))
    from app.ui.addresses.import_dialog import ImportDialog

    messy = Path(__file__).resolve().parent / "fixtures" / "messy_addresses.csv"
    importer = ImportDialog(ctx, window, path=messy)
    importer.show()
    pump(800)
    importer.grab().save(str(out / "import-preview.png"))
    importer.reject()
    ctx.runner.shutdown()
    db.dispose()
    print(f"screenshots in {out}")
    return 0 if app else 1


def _inventory(window: MainWindow, ctx: AppContext, out: Path, tmp: Path) -> None:
    """The Inventory section, an item's history, receive mode mid-scan and a label sheet."""
    import subprocess

    from app.inventory import barcodes, catalogue
    from app.inventory import service as inventory
    from app.inventory.repository import ItemQuery
    from app.ui.inventory.item_dialog import ItemDialog
    from app.ui.inventory.receive import ReceiveDialog

    window.section("Inventory")
    pump(900)
    window.grab().save(str(out / "inventory.png"))
    _, items = inventory.first_items_page(ctx.uow(), ctx.actor, ItemQuery(state="installed"), 1)
    if items:
        dialog = ItemDialog(ctx, items[0].id, window)
        dialog.show()
        pump(600)
        dialog.grab().save(str(out / "item-history.png"))
        dialog.reject()
    locations = catalogue.list_locations(ctx.uow(), ctx.actor)
    models = [m for m in catalogue.list_models(ctx.uow(), ctx.actor) if m.serialized and len(m.fields) == 2]
    shelf = next((loc for loc in locations if loc.kind == "bin"), locations[0])
    receive = ReceiveDialog(ctx, window, location_id=shelf.id)
    receive.show()
    pump(500)
    if models:
        receive.select_model(models[0].id)
        for n in range(6):
            receive.handle_code(f"02:5A:4C:99:10:{n:02X}")
            receive.handle_code(f"SN99{n:06d}")
        receive.handle_code("02:5A:4C:99:10:01")  # scanned twice: flagged, not added
        pump(1500)
    receive.grab().save(str(out / "receive-mode.png"))
    receive.confirm_discard = lambda: True
    receive.reject()
    labels = [barcodes.Label(i.tag, i.model, f"{i.identifiers[0].label} {i.identifiers[0].value}" if i.identifiers else "")
              for i in inventory.first_items_page(ctx.uow(), ctx.actor, ItemQuery(), 12)[1]]
    labels += [barcodes.Label(loc.code, loc.path) for loc in locations[:3]]
    pdf = tmp / "labels.pdf"
    barcodes.render_labels(labels, barcodes.SHEET_3X10, pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(out / "label-sheet")], check=False)


def _billing(window: MainWindow, ctx: AppContext, out: Path, tmp: Path) -> None:
    """The Billing section's tabs, a bill run's preview, and an invoice as printed."""
    import subprocess
    from datetime import date

    from app.billing import documents, invoicing, pdf
    from app.ui.billing.runs import NewBillRunDialog

    view = window.section("Billing")
    for index, name in ((1, "billing-invoices"), (3, "billing-delinquency"), (4, "billing-catalogue")):
        view.tabs.setCurrentIndex(index)
        pump(900)
        window.grab().save(str(out / f"{name}.png"))
    view.tabs.setCurrentIndex(0)
    pump(500)
    window.grab().save(str(out / "bill-runs.png"))
    today = date.today()
    dialog = NewBillRunDialog(ctx, window, today=today)
    dialog.show()
    dialog.preview()
    pump(3000)
    dialog.grab().save(str(out / "bill-run-preview.png"))
    dialog.reject()
    _, rows = invoicing.first_page(ctx.uow(), ctx.actor, invoicing.InvoiceQuery(), 1)
    if rows:
        doc = documents.invoice_document(ctx.uow(), ctx.actor, rows[0].id)
        target = tmp / "invoice.pdf"
        pdf.render_invoice(doc, target)
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(target), str(out / "invoice")], check=False)


if __name__ == "__main__":
    sys.exit(main())
