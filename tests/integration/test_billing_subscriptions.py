"""What an account is sold, end to end on SQLite and PostgreSQL: services and packages added,
ended and changed, price overrides with their reason, discounts, the billing profile and the
first bill date; the scheduled-event kinds run by the scheduler; and ``accounts_to_rate``, the
rating engine's inputs built in bulk."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

import app.billing.handlers  # noqa: F401 - registers the billing event kinds
from app.accounts import service as accounts
from app.addresses.models import ServiceableAddress
from app.billing import catalogue as cat
from app.billing import loading
from app.billing import subscriptions as subs
from app.billing.catalogue import (
    DiscountInput,
    PackageInput,
    ServiceInput,
    TaxInput,
    UsagePolicyInput,
)
from app.billing.models import (
    AccountDiscount,
    AccountService,
    BillingAccount,
    UsageRecord,
    UsageRollover,
    UsageTopUp,
)
from app.billing.subscriptions import ProfileInput
from app.core.audit import AuditEntry
from app.core.errors import PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from app.scheduling import service as scheduling

MAR_1, MAR_15, APR_1 = date(2026, 3, 1), date(2026, 3, 15), date(2026, 4, 1)


def _role(role: str) -> Actor:
    return Actor(None, role.lower(), role, BUILTIN_ROLES[role][1])


@pytest.fixture()
def lookups(uow, system):
    return accounts.lookups(uow(), system)


def _account(uow, system, lookups, name, *, parent_id=None, address=None, status="Active"):
    address_id = None
    if address:
        with uow() as u:
            row = ServiceableAddress(street="12 King Street West", unit=address.get("unit", ""),
                                     city=address.get("city", "Toronto"), region=address.get("region", "ON"),
                                     postal_code=address.get("postal_code", "M5V 1A1"),
                                     country=address.get("country", "CA"),
                                     match_key=f"{name}|{address}")
            u.session.add(row)
            u.commit()
            address_id = row.id
    status_id = next(s.id for s in lookups.statuses if s.name == status)
    residential = next(t.id for t in lookups.types if t.name == "Residential")
    return accounts.create_account(uow(), system, accounts.NewAccount(
        name=name, type_id=residential, status_id=status_id, parent_id=parent_id, address_id=address_id))


@pytest.fixture()
def owen(uow, system, lookups):
    return _account(uow, system, lookups, "Owen White")


@pytest.fixture()
def internet(uow, system):
    return cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45.00", download_kbps=100_000,
                                                        upload_kbps=20_000))


@pytest.fixture()
def tv(uow, system):
    return cat.save_service(uow(), system, ServiceInput("TV Basic", kind="general", price_text="20.00"))


@pytest.fixture()
def phone(uow, system):
    return cat.save_service(uow(), system, ServiceInput("Phone line", kind="voice", price_text="15.00"))


@pytest.fixture()
def bundle(uow, system, internet, tv):
    return cat.save_package(uow(), system, PackageInput("Home bundle", items=[(internet.id, 1), (tv.id, 2)]))


def _lines(uow, system, account_id, today=MAR_15):
    return subs.account_lines(uow(), system, account_id, today)


def _profile_row(uow, account_id) -> BillingAccount:
    with uow() as u:
        row = u.session.get(BillingAccount, account_id)
        u.session.expunge(row)
        return row


# -- services ------------------------------------------------------------------------------------

def test_an_added_service_shows_on_the_account_with_its_price_and_dates(uow, system, owen, internet) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    assert (line.name, line.kind, line.quantity, line.unit_price, line.price_text) == (
        "Internet 100", "data", 1, 4500, "45.00")
    assert (line.starts_on, line.ends_on, line.billed_through, line.state) == (MAR_1, None, None, "active")
    assert [ln.id for ln in _lines(uow, system, owen.id)] == [line.id]


def test_a_negative_quantity_is_refused_with_a_message(uow, system, owen, internet) -> None:
    with pytest.raises(ValidationError, match="negative quantity") as err:
        subs.add_service(uow(), system, owen.id, internet.id, -2, MAR_1)
    assert err.value.field == "quantity"
    with pytest.raises(ValidationError, match="quantity of 0"):
        subs.add_service(uow(), system, owen.id, internet.id, 0, MAR_1)
    assert _lines(uow, system, owen.id) == []


def test_a_disabled_service_is_not_sold(uow, system, owen, internet) -> None:
    cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45", enabled=False), internet.id)
    with pytest.raises(ValidationError, match="disabled"):
        subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)


def test_ending_a_service_sets_its_last_day_and_never_deletes_it(uow, system, owen, internet) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    with pytest.raises(ValidationError, match="cannot be before"):
        subs.end_service(uow(), system, line.id, date(2026, 2, 27))
    ended = subs.end_service(uow(), system, line.id, date(2026, 3, 20))
    assert ended.ends_on == date(2026, 3, 20) and ended.state == "active"
    assert _lines(uow, system, owen.id, date(2026, 3, 21))[0].state == "ended"
    with pytest.raises(ValidationError, match="already ends on 2026-03-20"):
        subs.end_service(uow(), system, line.id, date(2026, 3, 25))


def test_a_quantity_change_ends_the_old_line_the_day_before_and_starts_a_new_one(uow, system, owen, phone) -> None:
    old = subs.add_service(uow(), system, owen.id, phone.id, 1, MAR_1, price_override="12.00",
                           override_reason="Building deal")
    new = subs.change_quantity(uow(), system, old.id, 3, MAR_15)
    lines = {ln.id: ln for ln in _lines(uow, system, owen.id, MAR_15)}
    assert (lines[old.id].quantity, lines[old.id].ends_on) == (1, date(2026, 3, 14))
    assert (new.quantity, new.starts_on, new.ends_on, new.price_override, new.override_reason) == (
        3, MAR_15, None, 1200, "Building deal")
    assert new.amount == 3600
    with pytest.raises(ValidationError, match="negative quantity"):
        subs.change_quantity(uow(), system, new.id, -1, APR_1)


def test_a_quantity_change_on_a_line_not_yet_started_changes_the_line_itself(uow, system, owen, phone) -> None:
    line = subs.add_service(uow(), system, owen.id, phone.id, 1, APR_1)
    changed = subs.change_quantity(uow(), system, line.id, 2, APR_1)
    assert changed.id == line.id and changed.quantity == 2


def test_a_price_override_needs_a_reason_and_is_marked(uow, system, owen, internet) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    with pytest.raises(ValidationError, match="Say why") as err:
        subs.set_price_override(uow(), system, line.id, "39.00", "  ")
    assert err.value.field == "override_reason"
    with pytest.raises(ValidationError, match="more decimals than USD"):
        subs.set_price_override(uow(), system, line.id, "39.001", "Loyalty")
    marked = subs.set_price_override(uow(), system, line.id, "39.00", "Loyalty")
    assert (marked.price_override, marked.unit_price, marked.overridden) == (3900, 3900, True)
    assert marked.price_text == "39.00 (override; list 45.00)"
    cleared = subs.set_price_override(uow(), system, line.id, None)
    assert (cleared.price_override, cleared.override_reason, cleared.price_text) == (None, "", "45.00")
    with uow() as u:
        actions = [e.action for e in u.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "account", AuditEntry.entity_id == str(owen.id)))]
    assert actions.count("price override") == 2 and "add service" in actions


def test_a_package_adds_one_grouped_line_per_service_with_the_quantities_multiplied(
        uow, system, owen, bundle) -> None:
    lines = subs.add_package(uow(), system, owen.id, bundle.id, 2, MAR_1)
    assert sorted((ln.name, ln.quantity) for ln in lines) == [("Internet 100", 2), ("TV Basic", 4)]
    assert {ln.package_name for ln in lines} == {"Home bundle"} and len({ln.account_package_id for ln in lines}) == 1
    with pytest.raises(ValidationError, match="end the package instead"):
        subs.end_service(uow(), system, lines[0].id, MAR_15)
    ended = subs.end_package(uow(), system, lines[0].account_package_id, date(2026, 3, 31))
    assert {ln.ends_on for ln in ended} == {date(2026, 3, 31)}


def test_a_discount_on_a_line_shows_its_cycles_used_and_left_and_follows_a_quantity_change(
        uow, system, owen, phone) -> None:
    promo = cat.save_discount(uow(), system, DiscountInput("Promo", "fixed", "5.00", service_id=phone.id,
                                                           recurrence="expiring", cycles=6))
    line = subs.add_service(uow(), system, owen.id, phone.id, 1, MAR_1)
    given = subs.add_discount(uow(), system, owen.id, promo.id, starts_on=MAR_1)  # the one phone line
    assert (given.account_service_id, given.cycles_left, given.text) == (line.id, 6, "Promo 5.00 — 0 of 6 used")
    with uow() as u:
        u.session.get(AccountDiscount, given.id).cycles_used = 2
        u.commit()
    new = subs.change_quantity(uow(), system, line.id, 2, MAR_15)
    assert [(d.name, d.cycles_used, d.cycles_left, d.starts_on) for d in new.discounts] == [("Promo", 2, 4, MAR_15)]
    old = next(ln for ln in _lines(uow, system, owen.id) if ln.id == line.id)
    assert old.discounts[0].ends_on == date(2026, 3, 14)
    removed = subs.remove_discount(uow(), system, new.discounts[0].id, date(2026, 5, 31))
    assert removed.ends_on == date(2026, 5, 31)


def test_a_discount_on_another_service_is_refused(uow, system, owen, internet, phone) -> None:
    promo = cat.save_discount(uow(), system, DiscountInput("Promo", "percent", "10", service_id=phone.id))
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    with pytest.raises(ValidationError, match="another service"):
        subs.add_discount(uow(), system, owen.id, promo.id, account_service_id=line.id, starts_on=MAR_1)


def test_changing_what_an_account_is_sold_needs_billing_edit(uow, system, owen, internet) -> None:
    with pytest.raises(PermissionDenied):
        subs.add_service(uow(), _role("Support"), owen.id, internet.id, 1, MAR_1)
    assert subs.account_lines(uow(), _role("Support"), owen.id, MAR_1) == []


# -- the profile and the first bill date ---------------------------------------------------------

def test_the_first_service_sets_the_next_bill_date_to_the_next_company_bill_day(uow, system, owen, internet,
                                                                                tv) -> None:
    settings = cat.get_settings(uow(), system)
    cat.save_settings(uow(), system, cat.SettingsInput(**{
        **{f: getattr(settings, f) for f in cat.SettingsInput.__dataclass_fields__}, "bill_day": 5}))
    subs.add_service(uow(), system, owen.id, internet.id, 1, date(2026, 3, 10))
    assert _profile_row(uow, owen.id).next_bill_on == date(2026, 4, 5)
    subs.add_service(uow(), system, owen.id, tv.id, 1, date(2026, 3, 20))  # not the first: unchanged
    assert _profile_row(uow, owen.id).next_bill_on == date(2026, 4, 5)


def test_in_anniversary_mode_the_start_day_becomes_the_bill_day_clamped_to_28(uow, system, lookups, internet) -> None:
    settings = cat.get_settings(uow(), system)
    cat.save_settings(uow(), system, cat.SettingsInput(**{
        **{f: getattr(settings, f) for f in cat.SettingsInput.__dataclass_fields__}, "bill_day_mode": "anniversary"}))
    early = _account(uow, system, lookups, "Early Bird")
    late = _account(uow, system, lookups, "Late Owl")
    subs.add_service(uow(), system, early.id, internet.id, 1, date(2026, 3, 12))
    subs.add_service(uow(), system, late.id, internet.id, 1, date(2026, 1, 30))
    assert (_profile_row(uow, early.id).bill_day, _profile_row(uow, early.id).next_bill_on) == (12, date(2026, 3, 12))
    assert (_profile_row(uow, late.id).bill_day, _profile_row(uow, late.id).next_bill_on) == (28, date(2026, 2, 28))


def test_the_profile_is_created_on_first_use_and_validated(uow, system, lookups, owen) -> None:
    profile = subs.get_profile(uow(), system, owen.id)
    assert (profile.bill_day, profile.effective_bill_day, profile.tax_exempt, profile.has_parent) == (None, 1, False,
                                                                                                      False)
    with pytest.raises(ValidationError, match="Bill day must be 1–28 so every month has it"):
        subs.save_profile(uow(), system, owen.id, ProfileInput(bill_day=31))
    with pytest.raises(ValidationError, match="exemption certificate") as err:
        subs.save_profile(uow(), system, owen.id, ProfileInput(tax_exempt=True))
    assert err.value.field == "exemption_certificate"
    with pytest.raises(ValidationError, match="no parent account"):
        subs.save_profile(uow(), system, owen.id, ProfileInput(roll_up_to_parent=True))
    saved = subs.save_profile(uow(), system, owen.id, ProfileInput(bill_day=15, tax_exempt=True,
                                                                   exemption_certificate="EX-2231",
                                                                   paper_invoice=True, delinquency_excluded=True))
    assert (saved.bill_day, saved.exemption_certificate, saved.paper_invoice, saved.delinquency_excluded) == (
        15, "EX-2231", True, True)
    child = _account(uow, system, lookups, "Owen's studio", parent_id=owen.id)
    assert subs.save_profile(uow(), system, child.id, ProfileInput(roll_up_to_parent=True)).roll_up_to_parent


def test_a_new_bill_day_moves_the_next_bill_to_that_day_on_or_after_the_bill_due(uow, system, owen,
                                                                                 internet) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    assert _profile_row(uow, owen.id).next_bill_on == APR_1
    subs.save_profile(uow(), system, owen.id, ProfileInput(bill_day=10))
    assert _profile_row(uow, owen.id).next_bill_on == date(2026, 4, 10)


# -- scheduled events ----------------------------------------------------------------------------

def _run(uow, today):
    return scheduling.run_due_events(uow, Actor.system("scheduler"), today, "tests@here (pid 1)")


def test_the_billing_event_kinds_are_registered(uow, system) -> None:
    kinds = dict(scheduling.kinds())
    for name in ("add_service", "remove_service", "add_package", "remove_package", "set_price"):
        assert name in kinds


def test_scheduled_billing_events_change_the_account_services_when_they_fall_due(
        uow, system, owen, internet, bundle) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    add = scheduling.schedule_event(uow(), system, owen.id, "add_package", APR_1, {"package_id": bundle.id})
    price = scheduling.schedule_event(uow(), system, owen.id, "set_price", APR_1,
                                      {"account_service_id": line.id, "price": 4000, "reason": "Loyalty"})
    remove = scheduling.schedule_event(uow(), system, owen.id, "remove_service", APR_1,
                                       {"account_service_id": line.id})
    assert add.description == "Add package Home bundle"
    assert price.description == "Price of Internet 100 → 40.00 (Loyalty)"
    assert remove.description == "Remove Internet 100"
    assert _run(uow, MAR_15).ran == 0  # not due yet
    summary = _run(uow, APR_1)
    assert (summary.ran, summary.failed) == (3, 0), summary.errors
    lines = _lines(uow, system, owen.id, APR_1)
    old = next(ln for ln in lines if ln.id == line.id)
    assert (old.ends_on, old.price_override, old.override_reason) == (date(2026, 3, 31), 4000, "Loyalty")
    assert sorted(ln.name for ln in lines if ln.package_name == "Home bundle" and ln.starts_on == APR_1) == [
        "Internet 100", "TV Basic"]
    events = {e.id: e for e in scheduling.list_events(uow(), system, owen.id)}
    assert events[remove.id].result == "Removed Internet 100 (last day 2026-03-31)"


def test_scheduled_add_and_remove_of_a_service_and_a_package(uow, system, owen, phone, bundle) -> None:
    scheduling.schedule_event(uow(), system, owen.id, "add_service", MAR_15, {"service_id": phone.id, "quantity": 2})
    assert _run(uow, MAR_15).ran == 1
    (phone_line,) = _lines(uow, system, owen.id)
    assert (phone_line.name, phone_line.quantity, phone_line.starts_on) == ("Phone line", 2, MAR_15)
    lines = subs.add_package(uow(), system, owen.id, bundle.id, 1, MAR_15)
    scheduling.schedule_event(uow(), system, owen.id, "remove_package", APR_1,
                              {"account_package_id": lines[0].account_package_id})
    assert _run(uow, APR_1).ran == 1
    assert {ln.ends_on for ln in _lines(uow, system, owen.id) if ln.package_name} == {date(2026, 3, 31)}


def test_a_billing_event_is_checked_when_scheduled(uow, system, owen, internet) -> None:
    with pytest.raises(ValidationError, match="negative quantity"):
        scheduling.schedule_event(uow(), system, owen.id, "add_service", APR_1,
                                  {"service_id": internet.id, "quantity": -1})
    with pytest.raises(ValidationError, match="Say why"):
        line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
        scheduling.schedule_event(uow(), system, owen.id, "set_price", APR_1,
                                  {"account_service_id": line.id, "price": 100})
    with pytest.raises(PermissionDenied):
        scheduling.schedule_event(uow(), _role("Support"), owen.id, "add_service", APR_1, {"service_id": internet.id})


def test_a_billing_event_that_can_no_longer_apply_fails_and_changes_nothing(uow, system, owen, internet) -> None:
    scheduling.schedule_event(uow(), system, owen.id, "add_service", APR_1, {"service_id": internet.id})
    cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45", download_kbps=100_000,
                                                 upload_kbps=20_000, enabled=False), internet.id)
    summary = _run(uow, APR_1)
    assert summary.failed == 1 and "disabled" in summary.errors[0]
    assert _lines(uow, system, owen.id) == []


# -- loading for the rating engine ---------------------------------------------------------------

def test_accounts_to_rate_builds_subscriptions_discounts_address_and_exemption(uow, system, lookups, internet,
                                                                             bundle) -> None:
    gst = cat.save_tax(uow(), system, TaxInput("GST", rate_text="5"))
    cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45.00", download_kbps=100_000,
                                                 upload_kbps=20_000, tax_ids=[gst.id]), internet.id)
    zoe = _account(uow, system, lookups, "Zoe Park", address={"unit": "1204", "city": "Vancouver", "region": "BC",
                                                              "postal_code": "V6B 1A1", "country": "CA"})
    line = subs.add_service(uow(), system, zoe.id, internet.id, 1, MAR_1, price_override=4000,
                            override_reason="Loyalty")
    subs.add_package(uow(), system, zoe.id, bundle.id, 1, MAR_15)
    loyal = cat.save_discount(uow(), system, DiscountInput("Loyal", "percent", "10", service_id=internet.id))
    subs.add_discount(uow(), system, zoe.id, loyal.id, account_service_id=line.id, starts_on=MAR_1)
    subs.save_profile(uow(), system, zoe.id, ProfileInput(tax_exempt=True, exemption_certificate="EX-1"))
    with uow() as u:
        inputs = loading.accounts_to_rate(u.session, [zoe.id], APR_1)
        taxes = loading.taxes_for(u.session, zoe.company_id)
    account = inputs[zoe.id]
    assert (account.number, account.name) == (zoe.number, "Zoe Park")
    assert (account.country, account.region, account.city, account.postal_code) == ("CA", "BC", "Vancouver",
                                                                                    "V6B 1A1")
    assert account.tax_exempt is True and account.paper_invoice_fee == 0
    subs_by_name = {(s.service.name, s.package is not None): s for s in account.subscriptions}
    alone = subs_by_name[("Internet 100", False)]
    assert (alone.id, alone.price_override, alone.starts_on, alone.service.price, alone.service.tax_ids) == (
        line.id, 4000, MAR_1, 4500, (gst.id,))
    packaged = subs_by_name[("TV Basic", True)]
    assert (packaged.quantity, packaged.package.name, packaged.package.roll_up) == (2, "Home bundle", True)
    assert [(d.name, d.kind, d.amount, d.account_service_id) for d in account.discounts] == [
        ("Loyal", "percent", 10_000, line.id)]
    assert list(taxes) == [gst.id] and taxes[gst.id].rate == 5000


def test_finished_lines_and_used_one_off_charges_are_not_loaded(uow, system, owen, internet) -> None:
    install = cat.save_service(uow(), system, ServiceInput("Installation", kind="one_time", price_text="99"))
    done = subs.add_service(uow(), system, owen.id, internet.id, 1, date(2026, 1, 1))
    subs.end_service(uow(), system, done.id, date(2026, 2, 28))
    charged = subs.add_service(uow(), system, owen.id, install.id, 1, date(2026, 1, 1))
    running = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    later = subs.add_service(uow(), system, owen.id, internet.id, 1, date(2026, 6, 1))
    with uow() as u:
        u.session.get(AccountService, done.id).billed_through = date(2026, 2, 28)
        one_off = u.session.get(AccountService, charged.id)
        one_off.billed_through, one_off.cycles_billed = date(2026, 1, 1), 1
        u.commit()
    with uow() as u:
        account = loading.accounts_to_rate(u.session, [owen.id], APR_1)[owen.id]
    assert [s.id for s in account.subscriptions] == [running.id]
    assert later.id not in [s.id for s in account.subscriptions]


def test_a_child_that_rolls_up_is_loaded_inside_its_parent_and_not_on_its_own(uow, system, lookups, owen, internet,
                                                                            tv) -> None:
    child = _account(uow, system, lookups, "Owen's shop", parent_id=owen.id,
                     address={"city": "Ottawa", "postal_code": "K1A 0A6"})
    other_child = _account(uow, system, lookups, "Owen's cottage", parent_id=owen.id)
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    subs.add_service(uow(), system, child.id, tv.id, 1, MAR_1)
    subs.add_service(uow(), system, other_child.id, tv.id, 1, MAR_1)
    subs.save_profile(uow(), system, child.id, ProfileInput(roll_up_to_parent=True))
    with uow() as u:
        inputs = loading.accounts_to_rate(u.session, [owen.id, child.id, other_child.id], APR_1)
    assert set(inputs) == {owen.id, other_child.id}
    (rolled,) = inputs[owen.id].children
    assert (rolled.id, rolled.city, rolled.postal_code) == (child.id, "Ottawa", "K1A 0A6")
    assert [s.service.name for s in rolled.subscriptions] == ["TV Basic"]
    assert inputs[other_child.id].children == ()


def test_usage_of_the_period_just_ended_rollovers_and_top_ups_are_loaded(uow, system, owen) -> None:
    policy = cat.save_usage_policy(uow(), system, UsagePolicyInput("Fair use", allowance_text="100",
                                                                   overage_price_text="1.00"))
    metered = cat.save_service(uow(), system, ServiceInput("Internet metered", price_text="30",
                                                           usage_policy_id=policy.id))
    subs.add_service(uow(), system, owen.id, metered.id, 1, date(2026, 2, 1))
    subs.save_profile(uow(), system, owen.id, ProfileInput(paper_invoice=True))
    settings = cat.get_settings(uow(), system)
    cat.save_settings(uow(), system, cat.SettingsInput(**{
        **{f: getattr(settings, f) for f in cat.SettingsInput.__dataclass_fields__}, "printed_invoice_fee": "1.50"}))
    with uow() as u:
        for when, mb in ((datetime(2026, 2, 28, 23, 59, tzinfo=UTC), 1),  # before the period
                         (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 10),  # its first minute
                         (datetime(2026, 3, 31, 23, 0, tzinfo=UTC), 20),  # its last day
                         (datetime(2026, 4, 1, 0, 0, tzinfo=UTC), 40)):  # the bill date: next period
            u.session.add(UsageRecord(account_id=owen.id, started_at=when, ended_at=when, download_mb=mb, upload_mb=1))
        u.session.add(UsageRollover(account_id=owen.id, from_period_start=date(2026, 1, 1), mb_left=500,
                                    expires_on=date(2026, 3, 31)))
        u.session.add(UsageRollover(account_id=owen.id, from_period_start=date(2025, 12, 1), mb_left=500,
                                    expires_on=date(2026, 2, 27)))  # expired before the period
        u.session.add(UsageTopUp(account_id=owen.id, bought_on=date(2026, 3, 20), mb=5000, price=500))
        u.session.add(UsageTopUp(account_id=owen.id, bought_on=date(2026, 2, 20), mb=5000, price=500, invoiced=True))
        u.commit()
    with uow() as u:
        account = loading.accounts_to_rate(u.session, [owen.id], APR_1)[owen.id]
    assert [(s.started_at, s.download_mb) for s in account.usage] == [
        (datetime(2026, 3, 1, 0, 0), 10), (datetime(2026, 3, 31, 23, 0), 20)]
    assert account.usage[0].started_at.tzinfo is None
    assert [(r.mb_left, r.expires_on) for r in account.rollovers] == [(500, date(2026, 3, 31))]
    assert [(t.mb, t.price) for t in account.topups] == [(5000, 500)]
    assert account.subscriptions[0].service.usage_policy.allowance_mb == 100_000
    assert account.paper_invoice_fee == 150


def test_accounts_to_rate_skips_unknown_ids_and_takes_many_accounts_in_chunks(uow, system, lookups, internet) -> None:
    people = [_account(uow, system, lookups, f"Tenant {n}") for n in range(3)]
    for person in people:
        subs.add_service(uow(), system, person.id, internet.id, 1, MAR_1)
    with uow() as u:
        inputs = loading.accounts_to_rate(u.session, [p.id for p in people] + [999_999], APR_1)
        original = loading.CHUNK
        loading.CHUNK = 2
        try:
            chunked = loading.accounts_to_rate(u.session, [p.id for p in people], APR_1)
        finally:
            loading.CHUNK = original
    assert set(inputs) == {p.id for p in people} and chunked == inputs


def test_the_loaded_inputs_rate_to_the_invoice_worked_out_by_hand(uow, system, owen, internet) -> None:
    """Internet 45.00 + 5 % GST from 1 March, first billed on 1 April: March (a whole month
    missed) and April in advance, 90.00, plus 4.50 of tax."""
    from app.billing import rating

    gst = cat.save_tax(uow(), system, TaxInput("GST", rate_text="5"))
    cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45.00", download_kbps=100_000,
                                                 upload_kbps=20_000, tax_ids=[gst.id]), internet.id)
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_1)
    with uow() as u:
        account = loading.accounts_to_rate(u.session, [owen.id], APR_1)[owen.id]
        draft = rating.rate(account, APR_1, loading.taxes_for(u.session, owen.company_id))
    assert (draft.subtotal, draft.tax_total, draft.total) == (9000, 450, 9450)
