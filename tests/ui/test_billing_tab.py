"""The account's Billing tab driven like the billing desk would: the services with their prices,
overrides and discounts; adding a service now and on a later date (a scheduled event); a price
override refused without its reason; a payment that changes the balance; the billing calculator.

The catalogue and the account's history are made through the billing services, under names of
their own, on a demo tenant: three services from Oct 1 (TV from Oct 15, at a building price), a
loyalty discount for six periods, the Oct 1 and Nov 1 invoices (rated and posted as a bill run
would), the October one paid by check. "Today" is Nov 20, 2026 for the tab.
Screenshots: /tmp/shots/account-billing.png, /tmp/shots/billing-calculator.png."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from app.accounts import service as accounts
from app.billing import catalogue as cat
from app.billing import handlers, invoicing, ledger, loading, payments, rating
from app.billing import subscriptions as subs
from app.billing.catalogue import DiscountInput, PackageInput, ServiceInput, TaxInput
from app.billing.models import BillingAccount
from app.billing.payments import PaymentInput
from app.core.permissions import BUILTIN_ROLES, Actor, Permission
from app.scheduling import service as scheduling
from app.ui.accounts.account_view import AccountPage
from app.ui.accounts.billing_tab import (
    AddLineDialog,
    BillingTab,
    CalculatorDialog,
    PriceDialog,
    RemoveDialog,
    dates_text,
)
from app.ui.billing.payments import TakePaymentDialog
from app.ui.context import AppContext

SHOTS = Path("/tmp/shots")
TODAY = date(2026, 11, 20)
OCT_1, OCT_15, NOV_1, DEC_1 = date(2026, 10, 1), date(2026, 10, 15), date(2026, 11, 1), date(2026, 12, 1)


@dataclass
class Shop:
    company_id: int
    internet: cat.ServiceRow
    tv: cat.ServiceRow
    router: cat.ServiceRow
    phone: cat.ServiceRow
    loyalty: cat.DiscountRow


def _settle(qtbot, ctx) -> None:
    for _ in range(3):
        ctx.runner.wait()
        qtbot.wait(20)


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))


def _shop(ctx: AppContext) -> Shop:
    uow, actor = ctx.uow, ctx.actor
    company_id = cat.companies(uow(), actor)[0].id
    hst = cat.save_tax(uow(), actor, TaxInput("HST", rate_text="13", company_id=company_id))
    internet = cat.save_service(uow(), actor, ServiceInput("Lab Fibre 500", price_text="75.00", download_kbps=500_000,
                                                           upload_kbps=100_000, tax_ids=[hst.id],
                                                           company_id=company_id))
    tv = cat.save_service(uow(), actor, ServiceInput("Lab TV Basic", kind="general", price_text="25.00",
                                                     tax_ids=[hst.id], company_id=company_id))
    router = cat.save_service(uow(), actor, ServiceInput("Lab Wi-Fi router rental", kind="general",
                                                         price_text="5.00", tax_ids=[hst.id], company_id=company_id))
    phone = cat.save_service(uow(), actor, ServiceInput("Lab Phone line", kind="voice", price_text="15.00",
                                                        tax_ids=[hst.id], company_id=company_id))
    loyalty = cat.save_discount(uow(), actor, DiscountInput("Loyalty", amount_text="10", service_id=internet.id,
                                                            recurrence="expiring", cycles=6, company_id=company_id))
    return Shop(company_id, internet, tv, router, phone, loyalty)


def _tenants(ctx: AppContext, company_id: int, n: int) -> list[accounts.AccountDetail]:
    """Active, billed tenants of the company, on their own (no parent, no children)."""
    found = []
    for row in accounts.list_accounts(ctx.uow(), ctx.actor, accounts.AccountQuery(), 0, 80):
        d = accounts.get_account(ctx.uow(), ctx.actor, row.id)
        if (d.company_id == company_id and d.status == "Active" and not d.is_shell and d.parent_id is None
                and not d.children and d.disconnected_on is None):
            found.append(d)
            if len(found) == n:
                return found
    raise AssertionError("not enough active tenants in the demo data")


def _post(ctx: AppContext, account_id: int, company_id: int, bill_date: date) -> int:
    """Rate and post the account's invoice on ``bill_date`` as the bill run would, and move its
    next bill date on a month."""
    with ctx.uow() as u:
        inputs = loading.accounts_to_rate(u.session, [account_id], bill_date)[account_id]
        draft = rating.rate(inputs, bill_date, loading.taxes_for(u.session, company_id))
        invoice_id = invoicing.post_invoice(u, ctx.actor, draft, company_id=company_id, issued_on=bill_date,
                                            due_on=bill_date + timedelta(days=14),
                                            currency=cat.currency_of(u, company_id))
        u.session.get(BillingAccount, account_id).next_bill_on = rating.add_months(bill_date, 1)
        u.commit()
    return invoice_id


def _history(ctx: AppContext, shop: Shop, account_id: int) -> None:
    uow, actor = ctx.uow, ctx.actor
    internet = subs.add_service(uow(), actor, account_id, shop.internet.id, 1, OCT_1)
    subs.add_service(uow(), actor, account_id, shop.router.id, 1, OCT_1)
    subs.add_service(uow(), actor, account_id, shop.tv.id, 1, OCT_15, price_override="20.00",
                     override_reason="Maple Court building deal")
    subs.add_discount(uow(), actor, account_id, shop.loyalty.id, account_service_id=internet.id, starts_on=OCT_1)
    october = _post(ctx, account_id, shop.company_id, OCT_1)
    total = invoicing.get_invoice(uow(), actor, october).row.total
    payments.take_payment(uow(), actor, PaymentInput(account_id, "check", total, date(2026, 10, 9), "1042"))
    _post(ctx, account_id, shop.company_id, NOV_1)


@pytest.fixture()
def shop(ctx) -> Shop:
    return _shop(ctx)


@pytest.fixture()
def tenant(ctx, shop) -> accounts.AccountDetail:
    [tenant] = _tenants(ctx, shop.company_id, 1)
    _history(ctx, shop, tenant.id)
    return tenant


def _tab(qtbot, ctx: AppContext, account_id: int) -> BillingTab:
    tab = BillingTab(ctx, account_id, today=lambda: TODAY)
    qtbot.addWidget(tab)
    tab.resize(1180, 640)
    tab.show()
    qtbot.waitUntil(lambda: tab.data is not None, timeout=8000)
    return tab


def _rows(tab: BillingTab) -> list[list[str]]:
    """The services list as text, a package's services indented under it."""
    rows: list[list[str]] = []

    def walk(item: QTreeWidgetItem, depth: int) -> None:
        rows.append(["  " * depth + item.text(0)] + [item.text(c) for c in range(1, item.columnCount())])
        for i in range(item.childCount()):
            walk(item.child(i), depth + 1)

    for i in range(tab.lines.topLevelItemCount()):
        walk(tab.lines.topLevelItem(i), 0)
    return rows


def _select(tab: BillingTab, name: str) -> None:
    items = tab.lines.findItems(name, Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive)
    assert items, f"{name} is not in the list"
    tab.lines.setCurrentItem(items[0])


def _wait_changed(qtbot, tab: BillingTab, click) -> None:
    with qtbot.waitSignal(tab.changed, timeout=8000):
        click()
    qtbot.waitUntil(lambda: tab.data is not None, timeout=8000)
    _settle(qtbot, tab.ctx)


# -- what it shows -------------------------------------------------------------------------------

def test_the_tab_lists_the_services_with_override_discount_cycles_ledger_and_invoices(qtbot, ctx, shop,
                                                                                      tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    rows = {r[0]: r for r in _rows(tab)}
    assert set(rows) == {"Lab Fibre 500", "Lab Wi-Fi router rental", "Lab TV Basic"}
    assert rows["Lab Fibre 500"][1:] == ["1", "75.00", "2026-10-01", "", "2026-11-30", "Loyalty 10 % (2 of 6)"]
    assert rows["Lab TV Basic"][2] == "20.00  ✎ (list 25.00)"
    tv = tab.lines.findItems("Lab TV Basic", Qt.MatchFlag.MatchExactly)[0]
    assert "Maple Court building deal" in tv.toolTip(2)
    assert tab.lines_count.text() == "3 running"

    # The Nov 1 invoice is open and overdue; October's was paid by check.
    assert tab.invoices_table.rowCount() == 2
    statuses = [tab.invoices_table.item(r, 5).text() for r in range(2)]
    assert sorted(statuses) == ["Overdue", "Paid"]
    owed = tab.data.summary.balance
    assert owed > 0 and tab.balance_label.text() == f"Balance {tab.data.money(owed)} owed"
    assert "#c62828" in tab.balance_label.styleSheet()
    assert tab.invoices_label.text().startswith("1 open invoice · ")
    # Ledger: newest first, with the running balance; 2 charges and the payment.
    assert tab.ledger_table.rowCount() == 3
    assert tab.ledger_table.item(0, 3).text() == tab.data.money(owed)
    # Next bill Dec 1, due Dec 15; the open November invoice makes it delinquent on Nov 23.
    assert tab.dates_label.text().startswith("Next bill Dec 1 · due Dec 15 · delinquent Nov 23 if unpaid")


def test_the_dates_line_reads_like_the_brief_for_an_account_with_nothing_open(ctx, shop, tenant) -> None:
    from app.billing import calculator
    from app.billing.delinquency import UpcomingDates

    calc = calculator.next_invoice(ctx.uow(), ctx.actor, tenant.id, TODAY)
    nothing_open = UpcomingDates(None, "", None, None, None, None, "Suspended")
    assert dates_text(calc, nothing_open, TODAY) == "Next bill Dec 1 · due Dec 15 · delinquent Dec 23 if unpaid"


def test_a_result_for_another_account_is_dropped(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    first = tab.data
    [other] = [t for t in _tenants(ctx, shop.company_id, 2) if t.id != tenant.id]
    tab.load(other.id)
    tab._fill(first)  # the earlier account's result arriving late
    assert tab.data is None and tab.lines.topLevelItemCount() == 0
    qtbot.waitUntil(lambda: tab.data is not None, timeout=8000)
    assert tab.data.account_id == other.id


# -- changing what is sold -----------------------------------------------------------------------

def test_adding_a_service_now_lists_it_and_on_a_later_date_schedules_an_event(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    dialog = tab.open_add_dialog("service")
    assert isinstance(dialog, AddLineDialog)
    qtbot.waitUntil(lambda: dialog.choice.isEnabled(), timeout=8000)
    dialog.choose(shop.phone.id)
    # The what-if preview: 11 days of Nov (Nov 20–30) of 15.00 = 5.50, then December 15.00, +13 %.
    qtbot.waitUntil(lambda: dialog.preview.text().startswith("Next invoice (Dec 1)"), timeout=8000)
    assert dialog.preview.text().endswith("(+23.17)")  # 5.50 + 15.00 + 0.72 + 1.95
    _shot(dialog, "billing-add-service.png")
    _wait_changed(qtbot, tab, dialog.save_button.click)
    assert not shiboken6.isValid(dialog)  # closed (and deleted)
    assert "Lab Phone line" in [r[0] for r in _rows(tab)]
    assert tab.message.text() == "✓ Added Lab Phone line from 2026-11-20"

    later = TODAY + timedelta(days=11)
    dialog = tab.open_add_dialog("service")
    qtbot.waitUntil(lambda: dialog.choice.isEnabled(), timeout=8000)
    dialog.choose(shop.tv.id)
    dialog.quantity.setValue(2)
    dialog.when.set_date(later)
    assert dialog.when.hint.isVisibleTo(dialog) and "Scheduled for 2026-12-01" in dialog.when.hint.text()
    _wait_changed(qtbot, tab, dialog.save_button.click)
    assert tab.message.text() == "✓ Scheduled: add Lab TV Basic on 2026-12-01"
    assert [r[0] for r in _rows(tab)].count("Lab TV Basic") == 1  # not sold yet
    [event] = [e for e in scheduling.list_events(ctx.uow(), ctx.actor, tenant.id) if e.kind == handlers.ADD_SERVICE]
    assert (event.due_on, event.pending, event.description) == (later, True, "Add Lab TV Basic × 2")


def test_removing_with_a_later_last_day_schedules_the_removal_for_the_day_after(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    _select(tab, "Lab Wi-Fi router rental")
    assert tab.remove_button.isEnabled()
    dialog = tab.open_remove_dialog()
    assert isinstance(dialog, RemoveDialog)
    dialog.when.set_date(date(2026, 12, 31))
    _wait_changed(qtbot, tab, dialog.save_button.click)
    [event] = [e for e in scheduling.list_events(ctx.uow(), ctx.actor, tenant.id)
               if e.kind == handlers.REMOVE_SERVICE]
    assert event.due_on == date(2027, 1, 1)

    _select(tab, "Lab TV Basic")
    dialog = tab.open_remove_dialog()
    _wait_changed(qtbot, tab, dialog.save_button.click)  # today: ended now
    tv = next(r for r in _rows(tab) if r[0] == "Lab TV Basic")
    assert tv[4] == "2026-11-20"


def test_a_price_override_needs_a_reason_shown_under_its_field(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    _select(tab, "Lab Fibre 500")
    dialog = tab.open_price_dialog()
    assert isinstance(dialog, PriceDialog)
    assert not dialog.clear_button.isEnabled()  # no override yet
    dialog.amount.setText("69.99")
    dialog.save_button.click()
    error = dialog.errors["override_reason"]
    qtbot.waitUntil(error.isVisible, timeout=8000)
    assert error.text() == "Say why this account pays another price (loyalty, a building deal…)."
    _shot(dialog, "billing-price-override-error.png")
    assert dialog.isVisible() and not dialog.errors["price_override"].isVisible()
    line = next(ln for ln in subs.account_lines(ctx.uow(), ctx.actor, tenant.id, TODAY) if ln.name == "Lab Fibre 500")
    assert line.price_override is None

    dialog.amount.setText("69.999")
    dialog.reason.setText("Retention offer")
    assert not error.isVisible()  # typing clears it
    dialog.save_button.click()
    qtbot.waitUntil(dialog.errors["price_override"].isVisible, timeout=8000)
    assert "decimals" in dialog.errors["price_override"].text()

    dialog.amount.setText("69.99")
    _wait_changed(qtbot, tab, dialog.save_button.click)
    item = tab.lines.findItems("Lab Fibre 500", Qt.MatchFlag.MatchExactly)[0]
    assert item.text(2) == "69.99  ✎ (list 75.00)" and "Retention offer" in item.toolTip(2)

    _select(tab, "Lab Fibre 500")
    dialog = tab.open_price_dialog()
    assert dialog.clear_button.isEnabled()
    _wait_changed(qtbot, tab, dialog.clear_button.click)
    assert tab.lines.findItems("Lab Fibre 500", Qt.MatchFlag.MatchExactly)[0].text(2) == "75.00"


def test_taking_a_payment_updates_the_balance(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    owed = tab.data.summary.balance
    dialog = tab.take_payment()
    assert isinstance(dialog, TakePaymentDialog)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=8000)
    assert dialog.amount.text() == tab.data.money(owed).replace(",", "")  # what is owed, suggested
    dialog.amount.setText(format(owed / 100 + 10, ".2f"))  # 10.00 more than owed: credit
    _wait_changed(qtbot, tab, dialog.save_button.click)
    assert ledger.balance(ctx.uow(), ctx.actor, tenant.id) == -1000
    assert tab.balance_label.text() == "Credit 10.00"
    assert "#2e7d32" in tab.balance_label.styleSheet()
    assert tab.invoices_label.text() == "0 open invoices"
    assert tab.message.text().startswith("✓ Payment of ")


def test_the_calculator_dialog_shows_the_next_invoice_line_by_line(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    dialog = tab.open_calculator()
    assert isinstance(dialog, CalculatorDialog)
    with qtbot.waitSignal(dialog.loaded, timeout=8000):
        pass
    t = dialog.table
    rows = [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
    # December in full: 75.00 − 10 % (3 of 6), 5.00, TV at its building price 20.00. HST 13 % per
    # line, half-even: 9.75 + 0.65 + 2.60 − 0.975 (→ −0.98, to even) = 12.02.
    assert rows == [
        ["Lab Fibre 500 (Dec 1 – Dec 31)", "", "", "75.00"],
        ["Lab Wi-Fi router rental (Dec 1 – Dec 31)", "", "", "5.00"],
        ["Lab TV Basic (Dec 1 – Dec 31)", "", "", "20.00"],
        ["Loyalty −10 % (3 of 6)", "", "", "-7.50"],
        ["Subtotal", "", "", "92.50"],
        ["HST 13 %", "", "", "12.02"],
        ["Total (" + dialog.result.currency + ")", "", "", "104.52"],
    ]
    assert "Next invoice for " + tenant.number in dialog.title.text()
    assert dialog.subtitle.text().startswith("Bill date Dec 1, 2026 · period Dec 1, 2026 – Dec 31, 2026 · due")
    dialog.resize(720, 420)
    _shot(dialog, "billing-calculator.png")


# -- permissions and the page --------------------------------------------------------------------

def test_without_billing_edit_the_actions_are_disabled_and_say_why(qtbot, ctx, shop, tenant) -> None:
    support = Actor(ctx.actor.user_id, "support", "Support", BUILTIN_ROLES["Support"][1])
    tab = _tab(qtbot, AppContext(ctx.db, support, ctx.runner, ctx.secrets), tenant.id)
    _select(tab, "Lab Fibre 500")
    for button in tab.edit_buttons:
        assert not button.isEnabled()
        assert button.toolTip() == "Support users can see billing but not change it."
    assert tab.calculator_button.isEnabled() and tab.open_add_dialog("service") is None


def test_the_account_page_shows_billing_before_equipment_and_only_with_billing_view(qtbot, ctx, shop,
                                                                                   tenant) -> None:
    page = AccountPage(ctx)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.load(tenant.id)
    qtbot.waitUntil(lambda: page.data is not None, timeout=8000)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles.index("Billing") == titles.index("Scheduled events") + 1
    assert titles[titles.index("Billing") + 1].startswith("Equipment")
    page.billing_tab.today = lambda: TODAY
    page.tabs.setCurrentWidget(page.billing_tab)
    qtbot.waitUntil(lambda: page.billing_tab.data is not None, timeout=8000)
    _settle(qtbot, ctx)
    _shot(page, "account-billing.png")

    # A change on the tab refreshes the page's Scheduled events and History when shown next.
    events_index = page.tabs.indexOf(page.events_tab)
    page.tabs.setCurrentIndex(events_index)
    page.tabs.setCurrentWidget(page.billing_tab)
    assert events_index in page._loaded_tabs
    page.billing_tab.changed.emit()
    assert events_index not in page._loaded_tabs
    assert page.tabs.indexOf(page.history_tab) not in page._loaded_tabs

    no_billing = Actor(ctx.actor.user_id, "tech", "Technician",
                       frozenset(p for p in Permission if not p.value.startswith("billing")))
    other = AccountPage(AppContext(ctx.db, no_billing, ctx.runner, ctx.secrets))
    qtbot.addWidget(other)
    assert other.billing_tab is None
    assert "Billing" not in [other.tabs.tabText(i) for i in range(other.tabs.count())]


def test_double_clicking_an_invoice_renders_its_pdf_and_opens_it(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    opened: list = []
    tab.open_url = opened.append
    tab.invoices_table.selectRow(0)
    with qtbot.waitSignal(tab.pdf_opened, timeout=15000) as signal:
        tab.invoices_table.doubleClicked.emit(tab.invoices_table.model().index(0, 0))
    path = Path(signal.args[0])
    assert path.read_bytes()[:4] == b"%PDF"
    assert opened and opened[0].toLocalFile() == str(path)


def test_a_package_added_now_shows_its_services_under_it_and_removing_one_removes_the_package(
        qtbot, ctx, shop, tenant) -> None:
    bundle = cat.save_package(ctx.uow(), ctx.actor, PackageInput(
        "Lab Entertainment bundle", company_id=shop.company_id, items=[(shop.tv.id, 1), (shop.phone.id, 2)]))
    tab = _tab(qtbot, ctx, tenant.id)
    dialog = tab.open_add_dialog("package")
    qtbot.waitUntil(lambda: dialog.choice.isEnabled(), timeout=8000)
    assert not dialog.when.scheduled() and dialog.when.value() == TODAY
    dialog.when.on.setChecked(True)
    dialog.when.date.setDate(QDate(2026, 11, 19))
    assert not dialog.when.scheduled()  # an earlier day: applied now, backdated
    dialog.when.date.setDate(QDate(2026, 11, 21))
    assert dialog.when.scheduled()
    dialog.when.now.setChecked(True)
    dialog.choose(bundle.id)
    _wait_changed(qtbot, tab, dialog.save_button.click)
    rows = _rows(tab)
    start = [r[0] for r in rows].index("Lab Entertainment bundle (package)")
    assert [r[:2] for r in rows[start + 1:start + 3]] == [["  Lab Phone line", "2"], ["  Lab TV Basic", "1"]]
    assert rows[start][2] == "55.00"  # 2 × 15.00 + 25.00 a month
    _shot(tab, "account-billing-package.png")

    _select(tab, "Lab Phone line")
    assert not tab.quantity_button.isEnabled()
    assert tab.quantity_button.toolTip() == "A package's services take their quantity from the package."
    dialog = tab.open_remove_dialog()
    assert dialog.windowTitle() == "Remove the package Lab Entertainment bundle"
    _wait_changed(qtbot, tab, dialog.save_button.click)
    assert all(r[4] == "2026-11-20" for r in _rows(tab)[start:start + 3])


def test_the_billing_profile_refuses_a_tax_exemption_without_its_certificate(qtbot, ctx, shop, tenant) -> None:
    tab = _tab(qtbot, ctx, tenant.id)
    dialog = tab.open_profile()
    qtbot.waitUntil(lambda: dialog.profile is not None, timeout=8000)
    assert not dialog.roll_up.isEnabled()  # no parent account
    assert dialog.bill_day.text() == "The company's (1)"
    dialog.tax_exempt.setChecked(True)
    dialog.paper.setChecked(True)
    dialog.save_button.click()
    error = dialog.errors["exemption_certificate"]
    qtbot.waitUntil(error.isVisible, timeout=8000)
    assert "exemption certificate" in error.text()
    _shot(dialog, "billing-profile.png")
    dialog.certificate.setText("NS-EX-2291")
    _wait_changed(qtbot, tab, dialog.save_button.click)
    profile = subs.get_profile(ctx.uow(), ctx.actor, tenant.id)
    assert (profile.tax_exempt, profile.exemption_certificate, profile.paper_invoice) == (True, "NS-EX-2291", True)
    assert tab.message.text() == "✓ Billing profile saved"
