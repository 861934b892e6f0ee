"""Billing → Catalogue and Billing → Settings, driven like a user would: fill the dialog, click
Save, check what lands in the database and what the form says. Screenshots go to /tmp/shots."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.billing import catalogue as cat
from app.billing import subscriptions as subs
from app.billing.catalogue import (
    FreePeriodRow,
    PackageInput,
    ServiceInput,
    TaxInput,
    UsagePolicyInput,
)
from app.ui.billing.catalogue import (
    CataloguePanel,
    PackageDialog,
    RowsModel,
    ServiceDialog,
)
from app.ui.billing.settings import BillingSettingsPanel

SHOTS = Path("/tmp/shots")


def _settle(qtbot, ctx) -> None:
    """Let every job finish and its result be delivered (a save's result starts a reload)."""
    for _ in range(3):
        ctx.runner.wait()
        qtbot.wait(30)


def _show(qtbot, ctx, widget, size=(1100, 560)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    _settle(qtbot, ctx)
    return widget


def _save_and_close(qtbot, ctx, dialog) -> None:
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    _settle(qtbot, ctx)


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))


@pytest.fixture()
def catalogue(ctx):
    """A small realistic catalogue: taxes, a usage policy, eight services."""
    u, a = ctx.uow, ctx.actor
    gst = cat.save_tax(u(), a, TaxInput("GST", rate_text="5"))
    pst = cat.save_tax(u(), a, TaxInput("PST (Ontario)", rate_text="8", country="CA", region="ON"))
    fair = cat.save_usage_policy(u(), a, UsagePolicyInput(
        "Fair use 1 TB", allowance_text="1 TB", rollover_months=2, overage_price_text="0.50",
        free_periods=[FreePeriodRow(None, "01:00", "07:00")]))
    rows = {}
    for name, kind, price, extra in (
        ("Internet 100", "data", "45.00", {"download_kbps": 100_000, "upload_kbps": 20_000}),
        ("Internet 500", "data", "65.00", {"download_kbps": 500_000, "upload_kbps": 100_000,
                                           "usage_policy_id": fair.id}),
        ("Internet 1000", "data", "85.00", {"download_kbps": 1_000_000, "upload_kbps": 500_000}),
        ("TV Basic", "general", "20.00", {}),
        ("Home phone", "voice", "15.00", {}),
        ("Wi-Fi router rental", "general", "5.00", {}),
        ("Installation", "one_time", "99.00", {"prorates": False}),
        ("Welcome credit", "credit_expiring", "10.00", {"expires_after_cycles": 6}),
    ):
        rows[name] = cat.save_service(u(), a, ServiceInput(name, kind, price_text=price, tax_ids=[gst.id, pst.id],
                                                           **extra))
    return rows


def test_the_services_list_shows_each_service_with_its_price_and_taxes(qtbot, ctx, catalogue,
                                                                       qtmodeltester) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    model: RowsModel = panel.services.model
    qtmodeltester.check(model)
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert set(catalogue) <= set(names) and panel.services.summary.text() == f"{len(names)} services · prices in CAD"
    assert names == sorted(names, key=cat.natural_key)  # Internet 100 < 500 < 1000
    row = names.index("Welcome credit")
    assert model.index(row, 2).data() == "−10.00" and model.index(row, 3).data() == "Monthly, 6 times"
    assert model.index(names.index("Internet 500"), 4).data() == "500 Mbps / 100 Mbps"
    assert model.index(names.index("Installation"), 3).data() == "Once"
    _shot(panel, "billing-catalogue.png")


def test_a_service_created_in_the_dialog_lands_in_the_database(qtbot, ctx, catalogue) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    dialog = panel.open_service(None)
    assert isinstance(dialog, ServiceDialog) and dialog.isVisible()
    QTest.keyClicks(dialog.name, "Internet 2000")
    dialog.kind.setCurrentIndex(dialog.kind.findData("data"))
    QTest.keyClicks(dialog.price, "109.99")
    dialog.download.setValue(2000)
    dialog.upload.setValue(1000)
    dialog.taxes.item(0).setCheckState(Qt.CheckState.Checked)
    _save_and_close(qtbot, ctx, dialog)
    saved = next(s for s in cat.list_services(ctx.uow(), ctx.actor) if s.name == "Internet 2000")
    assert (saved.price, saved.download_kbps, saved.upload_kbps, len(saved.tax_ids)) == (10999, 2_000_000,
                                                                                         1_000_000, 1)
    assert panel.services.selected().id == saved.id


def test_a_price_with_too_many_decimals_is_refused_under_the_price_field(qtbot, ctx, catalogue) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    dialog = panel.open_service(None)
    QTest.keyClicks(dialog.name, "Internet 300")
    QTest.keyClicks(dialog.price, "45.999")
    dialog.save_button.click()
    _settle(qtbot, ctx)
    error = dialog.errors["price"]
    assert dialog.isVisible() and error.isVisible()
    currency = panel.data.currency(None)  # the demo company bills in CAD
    assert f"“45.999” has more decimals than {currency} allows" in error.text()
    assert not dialog.errors["name"].isVisible()
    _shot(dialog, "billing-service-decimals-error.png")
    dialog.price.setText("45.99")
    _save_and_close(qtbot, ctx, dialog)
    assert any(s.name == "Internet 300" and s.price == 4599 for s in cat.list_services(ctx.uow(), ctx.actor))


def test_a_package_is_built_with_the_service_picker_and_quantities(qtbot, ctx, catalogue) -> None:
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    panel.tabs.setCurrentWidget(panel.packages)
    dialog = panel.open_package(None)
    assert isinstance(dialog, PackageDialog)
    QTest.keyClicks(dialog.name, "Internet + TV")
    picker = dialog.items.cellWidget(0, 0)
    picker.setCurrentIndex(picker.findData(catalogue["Internet 500"].id))
    dialog.add_item()
    second = dialog.items.cellWidget(1, 0)
    second.setCurrentIndex(second.findData(catalogue["TV Basic"].id))
    dialog.item_quantity_box(1).setValue(2)
    dialog.add_item()
    third = dialog.items.cellWidget(2, 0)
    third.setCurrentIndex(third.findData(catalogue["Welcome credit"].id))
    assert "Monthly total <b>$95.00</b>" in dialog.total.text()  # 65 + 2 × 20 − 10
    assert not dialog.lock_note.isVisible()
    _shot(dialog, "billing-package-dialog.png")
    _save_and_close(qtbot, ctx, dialog)
    package = next(p for p in cat.list_packages(ctx.uow(), ctx.actor) if p.name == "Internet + TV")
    assert sorted((i.service, i.quantity) for i in package.items) == [
        ("Internet 500", 1), ("TV Basic", 2), ("Welcome credit", 1)]
    assert panel.packages.selected().name == "Internet + TV"


def test_a_package_on_an_account_opens_locked_and_can_be_duplicated_and_disabled(qtbot, ctx, catalogue) -> None:
    u, a = ctx.uow, ctx.actor
    package = cat.save_package(u(), a, PackageInput("TV bundle", items=[(catalogue["TV Basic"].id, 1),
                                                                        (catalogue["Internet 100"].id, 1)]))
    account_id = 1
    subs.add_package(u(), a, account_id, package.id, 1, date(2026, 3, 1))
    panel = _show(qtbot, ctx, CataloguePanel(ctx))
    panel.tabs.setCurrentWidget(panel.packages)
    panel.packages.select(package.id)
    row = panel.packages.selected()
    index = panel.packages.model.row_of(package.id)
    assert row.locked and panel.packages.model.index(index, 4).data() == "In use on 1 account"
    dialog = panel.open_package(row)
    assert dialog.lock_note.isVisibleTo(dialog) and not dialog.items.isEnabled()
    assert "locked" in dialog.lock_note.text() and dialog.duplicate_button.isVisibleTo(dialog)
    _shot(dialog, "billing-package-locked.png")
    dialog.reject()
    panel.duplicate_selected(row, new_name="TV bundle 2026")
    _settle(qtbot, ctx)
    copy_dialog = panel.dialog
    assert isinstance(copy_dialog, PackageDialog) and copy_dialog.row.name == "TV bundle 2026"
    assert copy_dialog.items.isEnabled()
    copy_dialog.reject()
    panel.packages.select(package.id)
    assert panel.enable_button.text() == "Disable"
    panel.enable_button.click()
    _settle(qtbot, ctx)
    assert not cat.get_package(u(), a, package.id).enabled
    panel.packages.select(package.id)
    assert panel.enable_button.text() == "Enable"


def test_the_settings_form_saves_and_shows_a_bill_day_of_31_refused_inline(qtbot, ctx) -> None:
    u, a = ctx.uow, ctx.actor
    company = cat.get_settings(u(), a).company_id
    cat.add_exclusion(u(), a, company, 12, 25, None, "Christmas")
    cat.add_exclusion(u(), a, company, 1, 1, None, "New Year's Day")
    panel = _show(qtbot, ctx, BillingSettingsPanel(ctx), (1180, 900))
    assert panel.exclusions.count() == 2
    panel.bill_day.setValue(31)
    panel.save_button.click()
    _settle(qtbot, ctx)
    assert panel.errors["bill_day"].isVisible()
    assert panel.errors["bill_day"].text() == "Bill day must be 1–28 so every month has it."
    _shot(panel, "billing-settings-bill-day-error.png")
    panel.bill_day.setValue(15)
    panel.late_kind.setCurrentIndex(panel.late_kind.findData("percent"))
    panel.late_amount.setText("1.5")
    panel.late_minimum.setText("2.00")
    panel.printed_fee.setText("1.25")
    panel.remit_to.setPlainText("Riser Networks\nPO Box 120, Toronto ON M5V 1A1")
    panel.message.setPlainText("Thank you for your business!")
    panel.save_button.click()
    _settle(qtbot, ctx)
    assert not panel.errors["bill_day"].isVisible(), panel.form_error.text()
    saved = cat.get_settings(u(), a)
    assert (saved.bill_day, saved.late_fee_kind, saved.late_fee_amount, saved.late_fee_minimum,
            saved.printed_invoice_fee) == (15, "percent", 1500, 200, 125)
    panel.exclusion_date.setText("2026-04-03")
    panel.exclusion_name.setText("Good Friday")
    panel.add_exclusion_button.click()
    _settle(qtbot, ctx)
    assert panel.exclusions.count() == 3
    assert [e.year for e in cat.get_settings(u(), a).exclusions] == [None, 2026, None]
    _shot(panel, "billing-settings.png")
