"""Billing → Catalogue and settings, end to end on SQLite and PostgreSQL: services with their
prices in the company's currency, packages that lock once sold, discounts, taxes, usage
policies, and each company's billing settings with its exclusion dates. Every refusal the issue
lists gets a message a person can act on."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.billing import catalogue as cat
from app.billing import subscriptions as subs
from app.billing.catalogue import (
    DiscountInput,
    FreePeriodRow,
    PackageInput,
    ServiceInput,
    SettingsInput,
    TaxInput,
    UsagePolicyInput,
)
from app.billing.models import BillingSettings, DelinquencyExclusion, PackageService
from app.core.audit import AuditEntry
from app.core.errors import ConflictError, PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor

START = date(2026, 3, 1)


def _actor(role: str) -> Actor:
    return Actor(None, role.lower(), role, BUILTIN_ROLES[role][1])


def _service(uow, actor, name="Internet 100", price="45.00", **kw):
    return cat.save_service(uow(), actor, ServiceInput(name=name, price_text=price, **kw))


@pytest.fixture()
def internet(uow, system):
    return _service(uow, system, "Internet 100", "45.00", download_kbps=100_000, upload_kbps=20_000)


@pytest.fixture()
def tv(uow, system):
    return _service(uow, system, "TV Basic", "20.00", kind="general")


@pytest.fixture()
def router_rental(uow, system):
    return _service(uow, system, "Router rental", "5.00", kind="general")


@pytest.fixture()
def account(uow, system):
    lookups = accounts.lookups(uow(), system)
    active = next(s.id for s in lookups.statuses if s.name == "Active")
    residential = next(t.id for t in lookups.types if t.name == "Residential")
    return accounts.create_account(uow(), system, accounts.NewAccount("Owen White", residential, active))


# -- services ------------------------------------------------------------------------------------

def test_a_service_price_is_typed_in_the_currency_and_kept_in_minor_units(uow, system, internet) -> None:
    assert internet.price == 4500 and internet.price_text == "45.00"
    assert internet.speed_text == "100 Mbps / 20 Mbps"
    assert [s.name for s in cat.list_services(uow(), system)] == ["Internet 100"]


def test_a_price_with_more_decimals_than_the_currency_has_is_refused_on_the_price_field(uow, system) -> None:
    with pytest.raises(ValidationError) as err:
        _service(uow, system, "Internet 200", "45.999")
    assert "more decimals than USD allows" in str(err.value) and err.value.field == "price"
    assert cat.list_services(uow(), system) == []


def test_a_company_billing_in_yen_refuses_any_decimals(uow, system) -> None:
    settings = cat.get_settings(uow(), system)
    cat.save_settings(uow(), system, _settings_input(settings, currency="JPY"))
    with pytest.raises(ValidationError, match="more decimals than JPY allows"):
        _service(uow, system, "Internet", "4500.5")
    assert _service(uow, system, "Internet", "4500").price == 4500


def test_a_negative_price_is_refused(uow, system) -> None:
    with pytest.raises(ValidationError, match="negative") as err:
        _service(uow, system, "Internet", "-5")
    assert err.value.field == "price"
    with pytest.raises(ValidationError, match="cannot be negative"):
        cat.save_service(uow(), system, ServiceInput("Internet", price=-500))


def test_a_frequency_outside_one_to_sixty_months_is_refused(uow, system) -> None:
    for months in (0, 61):
        with pytest.raises(ValidationError, match="1 to 60 months") as err:
            _service(uow, system, "Yearly", "100", frequency_months=months)
        assert err.value.field == "frequency_months"
    assert _service(uow, system, "Yearly", "100", frequency_months=12).frequency_text == "Every 12 months"


def test_an_expiring_credit_needs_at_least_one_cycle(uow, system) -> None:
    with pytest.raises(ValidationError, match="at least 1 billed period") as err:
        _service(uow, system, "Promo", "10", kind="credit_expiring", expires_after_cycles=0)
    assert err.value.field == "expires_after_cycles"
    promo = _service(uow, system, "Promo", "10", kind="credit_expiring", expires_after_cycles=6)
    assert promo.expires_after_cycles == 6 and promo.is_credit


def test_speeds_and_usage_policies_belong_to_data_services_only(uow, system) -> None:
    with pytest.raises(ValidationError, match="data services only") as err:
        _service(uow, system, "Phone", "20", kind="voice", download_kbps=1000)
    assert err.value.field == "download_kbps"


def test_two_services_of_one_company_cannot_share_a_name(uow, system, internet) -> None:
    with pytest.raises(ValidationError, match="already has a service called"):
        _service(uow, system, "internet 100", "50")


def test_a_service_carries_its_taxes_and_a_stale_edit_is_refused(uow, system, internet) -> None:
    gst = cat.save_tax(uow(), system, TaxInput("GST", rate_text="5"))
    changed = cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="49.99", tax_ids=[gst.id]),
                               internet.id, expected_version=internet.version)
    assert changed.tax_ids == (gst.id,) and changed.taxes == "GST" and changed.price == 4999
    with pytest.raises(ConflictError):
        cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="50"), internet.id,
                         expected_version=internet.version)


def test_changing_the_catalogue_needs_billing_edit_and_is_audited(uow, system, internet) -> None:
    with pytest.raises(PermissionDenied):
        _service(uow, _actor("Support"), "Internet 300", "80")
    assert cat.list_services(uow(), _actor("Support"))  # support may look
    with uow() as u:
        entries = u.session.scalars(select(AuditEntry).where(AuditEntry.entity == "billing_service")).all()
        assert [(e.action, e.after["price"]) for e in entries] == [("create", 4500)]


# -- packages ------------------------------------------------------------------------------------

def test_a_package_lists_its_services_with_quantities_and_its_monthly_total(uow, system, internet, tv,
                                                                           router_rental) -> None:
    package = cat.save_package(uow(), system, PackageInput(
        "Home bundle", items=[(internet.id, 1), (tv.id, 1), (router_rental.id, 2)]))
    assert package.contents_text == "Internet 100, Router rental × 2, TV Basic"
    assert package.total == 4500 + 2000 + 2 * 500 and package.total_text == "75.00"
    assert not package.locked and package.in_use_text == "Not on any account"


def test_a_negative_quantity_in_a_package_is_refused_with_a_message(uow, system, internet) -> None:
    with pytest.raises(ValidationError, match="negative quantity") as err:
        cat.save_package(uow(), system, PackageInput("Bad", items=[(internet.id, -1)]))
    assert err.value.field == "items"
    with pytest.raises(ValidationError, match="at least one service"):
        cat.save_package(uow(), system, PackageInput("Empty", items=[]))


def test_a_package_on_an_account_keeps_its_contents_but_may_be_renamed(uow, system, account, internet, tv) -> None:
    package = cat.save_package(uow(), system, PackageInput("Bundle", items=[(internet.id, 1), (tv.id, 1)]))
    subs.add_package(uow(), system, account.id, package.id, 1, START)
    row = cat.get_package(uow(), system, package.id, today=START)
    assert row.locked and row.accounts == 1 and row.in_use_text == "In use on 1 account"
    with pytest.raises(ValidationError, match="Duplicate it as a new package") as err:
        cat.save_package(uow(), system, PackageInput("Bundle", items=[(internet.id, 2), (tv.id, 1)]), package.id)
    assert err.value.field == "items"
    renamed = cat.save_package(uow(), system, PackageInput("Bundle 2026", items=[(internet.id, 1), (tv.id, 1)]),
                               package.id)
    assert renamed.name == "Bundle 2026"
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(PackageService)
                                .where(PackageService.package_id == package.id)) == 2


def test_a_duplicated_package_can_be_edited_and_the_disabled_original_is_not_sold_anew(
        uow, system, account, internet, tv) -> None:
    package = cat.save_package(uow(), system, PackageInput("Bundle", items=[(internet.id, 1), (tv.id, 1)]))
    subs.add_package(uow(), system, account.id, package.id, 1, START)
    copy = cat.duplicate_package(uow(), system, package.id, "Bundle v2")
    assert copy.contents_text == package.contents_text and not copy.locked and copy.enabled
    edited = cat.save_package(uow(), system, PackageInput("Bundle v2", items=[(internet.id, 1)]), copy.id)
    assert edited.contents_text == "Internet 100"
    disabled = cat.set_package_enabled(uow(), system, package.id, False)
    assert not disabled.enabled and disabled.accounts == 1  # still billed where it is
    with pytest.raises(ValidationError, match="disabled"):
        subs.add_package(uow(), system, account.id, package.id, 1, START)
    assert [ln.package_name for ln in subs.account_lines(uow(), system, account.id, START)] == ["Bundle", "Bundle"]
    with pytest.raises(ValidationError, match="already a package called"):
        cat.duplicate_package(uow(), system, package.id, "bundle v2")


# -- discounts -----------------------------------------------------------------------------------

def test_a_discount_is_a_percentage_or_an_amount_on_a_service_or_a_package(uow, system, internet, tv) -> None:
    package = cat.save_package(uow(), system, PackageInput("Bundle", items=[(internet.id, 1), (tv.id, 1)]))
    loyalty = cat.save_discount(uow(), system, DiscountInput("Loyalty", "percent", "10", service_id=internet.id))
    promo = cat.save_discount(uow(), system, DiscountInput("Bundle promo", "fixed", "5.00", package_id=package.id,
                                                           recurrence="expiring", cycles=6))
    assert (loyalty.amount, loyalty.amount_text, loyalty.target) == (10_000, "10 %", "Internet 100")
    assert (promo.amount, promo.recurrence_text, promo.target) == (500, "For 6 periods", "Bundle")
    with pytest.raises(ValidationError, match="over 100 %"):
        cat.save_discount(uow(), system, DiscountInput("Too much", "percent", "120", service_id=internet.id))
    with pytest.raises(ValidationError, match="service or the package") as err:
        cat.save_discount(uow(), system, DiscountInput("Nowhere", "fixed", "1"))
    assert err.value.field == "target"
    with pytest.raises(ValidationError, match="periods must be 1"):
        cat.save_discount(uow(), system, DiscountInput("Zero", "fixed", "1", service_id=tv.id,
                                                       recurrence="expiring", cycles=0))


# -- taxes ---------------------------------------------------------------------------------------

def test_a_tax_rate_over_100_percent_is_refused(uow, system) -> None:
    with pytest.raises(ValidationError, match="tax rate over 100 %") as err:
        cat.save_tax(uow(), system, TaxInput("Typo tax", rate_text="130"))
    assert err.value.field == "rate"
    with pytest.raises(ValidationError, match="tax rate over 100 %"):
        cat.save_tax(uow(), system, TaxInput("Typo tax", rate=100_001))
    assert cat.list_taxes(uow(), system) == []


def test_taxes_are_global_or_zoned_flat_or_percent_and_kept_in_order(uow, system) -> None:
    gst = cat.save_tax(uow(), system, TaxInput("GST", rate_text="5"))
    pst = cat.save_tax(uow(), system, TaxInput("PST", rate_text="7.125", country="ca", region="BC"))
    fee = cat.save_tax(uow(), system, TaxInput("911 fee", kind="flat", rate_text="0.75", city="Toronto",
                                               postal_prefix="m5v "))
    assert (gst.rate, gst.zone_text, gst.position) == (5000, "Everywhere", 0)
    assert (pst.rate, pst.zone, pst.rate_text, pst.position) == (7125, {"country": "CA", "region": "BC"}, "7.125 %", 1)
    assert (fee.rate, fee.zone, fee.rate_text) == (75, {"city": "Toronto", "postal_prefix": "M5V"}, "0.75 per invoice")
    assert [t.name for t in cat.list_taxes(uow(), system)] == ["GST", "PST", "911 fee"]
    with pytest.raises(ValidationError, match="two-letter"):
        cat.save_tax(uow(), system, TaxInput("Bad", rate_text="1", country="Canada"))


# -- usage policies ------------------------------------------------------------------------------

def test_a_usage_policy_takes_gigabytes_and_terabytes_and_keeps_megabytes(uow, system) -> None:
    policy = cat.save_usage_policy(uow(), system, UsagePolicyInput(
        "Fair use", allowance_text="1.5 TB", rollover_months=3, overage_block_text="50", overage_price_text="2.50",
        topup_text="100", topup_price_text="10", free_periods=[FreePeriodRow(None, "01:00", "07:00"),
                                                               FreePeriodRow(7, "00:00", "23:59")]))
    assert (policy.allowance_mb, policy.allowance_text) == (1_500_000, "1.5 TB")
    assert (policy.overage_block_mb, policy.overage_price, policy.overage_text) == (50_000, 250, "2.50 per 50 GB")
    assert (policy.topup_mb, policy.topup_price) == (100_000, 1000)
    assert policy.free_periods_text == "Every day 01:00–07:00; Sun 00:00–23:59"
    assert cat.save_usage_policy(uow(), system, UsagePolicyInput("Small", allowance_text="500")).allowance_mb == 500_000


@pytest.mark.parametrize(("period", "message"), [
    (FreePeriodRow(8, "01:00", "02:00"), "Monday to Sunday"),
    (FreePeriodRow(1, "25:00", "02:00"), "not a time"),
    (FreePeriodRow(1, "1am", "02:00"), "not a time"),
    (FreePeriodRow(None, "02:00", "02:00"), "no length"),
])
def test_a_free_period_needs_a_weekday_and_two_different_times(uow, system, period, message) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        cat.save_usage_policy(uow(), system, UsagePolicyInput("Nights", allowance_text="100", free_periods=[period]))
    assert err.value.field == "free_periods"


def test_a_usage_allowance_finer_than_a_megabyte_is_refused(uow, system) -> None:
    with pytest.raises(ValidationError, match="finer than 1 MB"):
        cat.save_usage_policy(uow(), system, UsagePolicyInput("Odd", allowance_text="0.0005"))


# -- settings ------------------------------------------------------------------------------------

def _settings_input(row: cat.SettingsRow, **changes) -> SettingsInput:
    values = {f: getattr(row, f) for f in SettingsInput.__dataclass_fields__}
    values.update(changes)
    return SettingsInput(**values)


def test_settings_are_created_with_defaults_the_first_time_they_are_read(uow, system) -> None:
    row = cat.get_settings(uow(), system)
    assert (row.bill_day, row.bill_day_mode, row.due_days, row.currency, row.check_weekdays) == (1, "fixed", 14, "USD",
                                                                                                 "12345")
    assert row.switch_status_id is not None and row.delinquent_status_id is not None
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(BillingSettings)) == 1


def test_a_bill_day_of_31_is_refused_because_not_every_month_has_it(uow, system) -> None:
    row = cat.get_settings(uow(), system)
    with pytest.raises(ValidationError, match="Bill day must be 1–28 so every month has it") as err:
        cat.save_settings(uow(), system, _settings_input(row, bill_day=31))
    assert err.value.field == "bill_day"
    assert cat.get_settings(uow(), system).bill_day == 1


def test_every_setting_is_saved_and_money_is_typed_in_the_currency(uow, system, tmp_path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    lookups = accounts.lookups(uow(), system)
    suspended = next(s.id for s in lookups.statuses if s.name == "Suspended")
    student = next(t.id for t in lookups.types if t.name == "Student")
    row = cat.get_settings(uow(), system)
    saved = cat.save_settings(uow(), system, _settings_input(
        row, bill_day_mode="anniversary", bill_day=15, due_days=10, grace_days=3, status_switch_days=20,
        switch_status_id=suspended, minimum_delinquent_balance="5.00", late_fee_kind="percent",
        late_fee_amount="1.5", late_fee_minimum="2.00", late_fee_days=7, printed_invoice_fee="1.25",
        prorate=False, statement_mode=True, currency="cad", invoice_message="Thank you!",
        remit_to="PO Box 1\nToronto", logo_path=str(logo), check_weekdays="135",
        excluded_account_type_ids=[student]), expected_version=row.version)
    assert (saved.bill_day_mode, saved.bill_day, saved.due_days, saved.grace_days, saved.status_switch_days) == (
        "anniversary", 15, 10, 3, 20)
    assert (saved.minimum_delinquent_balance, saved.late_fee_amount, saved.late_fee_minimum,
            saved.printed_invoice_fee) == (500, 1500, 200, 125)
    assert (saved.currency, saved.prorate, saved.statement_mode, saved.check_weekdays) == ("CAD", False, True, "135")
    assert saved.logo_path == str(logo) and saved.excluded_account_type_ids == (student,)
    with pytest.raises(ConflictError):
        cat.save_settings(uow(), system, _settings_input(row), expected_version=row.version)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"due_days": -1}, "due_days", "0–365"),
    ({"grace_days": -3}, "grace_days", "0–365"),
    ({"currency": "EURO"}, "currency", "three-letter"),
    ({"late_fee_kind": "fixed", "late_fee_amount": "2.005"}, "late_fee_amount", "more decimals than USD"),
    ({"late_fee_kind": "percent", "late_fee_amount": "150"}, "late_fee_amount", "over 100 %"),
    ({"check_weekdays": ""}, "check_weekdays", "at least one weekday"),
    ({"logo_path": "/nowhere/logo.png"}, "logo_path", "no file"),
])
def test_bad_settings_are_refused_next_to_their_field(uow, system, changes, field, message) -> None:
    row = cat.get_settings(uow(), system)
    with pytest.raises(ValidationError, match=message) as err:
        cat.save_settings(uow(), system, _settings_input(row, **changes))
    assert err.value.field == field


def test_a_logo_that_is_not_a_png_or_jpeg_is_refused(uow, system, tmp_path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_text("GIF89a, not really")
    row = cat.get_settings(uow(), system)
    with pytest.raises(ValidationError, match="PNG or JPEG"):
        cat.save_settings(uow(), system, _settings_input(row, logo_path=str(fake)))


def test_an_exclusion_date_without_a_year_repeats_every_year(uow, system) -> None:
    company = cat.get_settings(uow(), system).company_id
    assert cat.parse_exclusion_date("12-25") == (None, 12, 25)
    assert cat.parse_exclusion_date("2026-04-03") == (2026, 4, 3)
    christmas = cat.add_exclusion(uow(), system, company, 12, 25, None, "Christmas")
    good_friday = cat.add_exclusion(uow(), system, company, 4, 3, 2026, "Good Friday")
    assert christmas.text == "Dec 25, every year" and good_friday.text == "2026-04-03"
    with uow() as u:
        assert u.session.get(DelinquencyExclusion, christmas.id).year is None
    with pytest.raises(ValidationError, match="already excluded"):
        cat.add_exclusion(uow(), system, company, 12, 25)
    with pytest.raises(ValidationError, match="does not exist"):
        cat.add_exclusion(uow(), system, company, 2, 30)
    assert [e.name for e in cat.get_settings(uow(), system).exclusions] == ["Good Friday", "Christmas"]
    cat.remove_exclusion(uow(), system, christmas.id)
    assert [e.name for e in cat.get_settings(uow(), system).exclusions] == ["Good Friday"]
