"""The billing calculator on SQLite and PostgreSQL: an account's next invoice line by line
(stub and full period, taxes, a child rolled into its parent), what a change would do to it,
and that neither writes anything. Amounts worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.accounts.models import Account
from app.billing import calculator, loading
from app.billing import catalogue as cat
from app.billing import subscriptions as subs
from app.billing.catalogue import ServiceInput, TaxInput
from app.billing.models import (
    AccountService,
    BillingAccount,
    BillingSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from app.billing.subscriptions import ProfileInput
from app.core.audit import AuditEntry
from app.core.errors import PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor

MAR_15, MAR_20, APR_1 = date(2026, 3, 15), date(2026, 3, 20), date(2026, 4, 1)


@pytest.fixture()
def lookups(uow, system):
    return accounts.lookups(uow(), system)


def _account(uow, system, lookups, name, *, parent_id=None):
    active = next(s.id for s in lookups.statuses if s.name == "Active")
    residential = next(t.id for t in lookups.types if t.name == "Residential")
    return accounts.create_account(uow(), system, accounts.NewAccount(
        name=name, type_id=residential, status_id=active, parent_id=parent_id))


@pytest.fixture()
def owen(uow, system, lookups):
    return _account(uow, system, lookups, "Owen White")


@pytest.fixture()
def internet(uow, system):
    return cat.save_service(uow(), system, ServiceInput("Internet 100", price_text="45.00"))


@pytest.fixture()
def tv(uow, system):
    """TV Basic, 20.00 a month, with a 13 % tax."""
    hst = cat.save_tax(uow(), system, TaxInput("HST", rate_text="13"))
    return cat.save_service(uow(), system, ServiceInput("TV Basic", kind="general", price_text="20.00",
                                                        tax_ids=[hst.id]))


def _counts(uow) -> dict[str, int]:
    tables = (AccountService, BillingAccount, BillingSettings, Invoice, InvoiceLine, LedgerEntry, AuditEntry)
    with uow() as u:
        return {t.__name__: u.session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_a_service_started_mid_month_shows_its_stub_and_the_full_period_on_the_next_invoice(
        uow, system, owen, internet) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    result = calculator.next_invoice(uow(), system, owen.id, MAR_20)
    assert (result.bill_date, result.scheduled, result.overdue) == (APR_1, True, False)
    assert (result.period_start, result.period_end) == (APR_1, date(2026, 4, 30))
    assert result.due_on == date(2026, 4, 15)  # 14 due days
    # Mar 15 – Mar 31 is 17 of 31 days: 45.00 × 17 / 31 = 24.677… → 24.68; then April in full.
    assert [(ln.kind, ln.amount, ln.period_start, ln.period_end) for ln in result.lines] == [
        ("service", 2468, MAR_15, date(2026, 3, 31)),
        ("service", 4500, APR_1, date(2026, 4, 30)),
    ]
    assert all("Internet 100" in ln.description for ln in result.lines)
    assert (result.subtotal, result.tax_total, result.total) == (6968, 0, 6968)
    assert result.invoiced == result.account and result.rolls_up_into is None
    assert result.currency == "USD" and result.money(result.total) == "69.68"


def test_adding_a_taxed_service_in_a_what_if_raises_the_total_by_its_stub_period_and_tax(
        uow, system, owen, internet, tv) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    change = calculator.what_if(uow(), system, owen.id, MAR_20, add_service_id=tv.id)
    # TV from Mar 20: 12 of 31 days of 20.00 = 7.741… → 7.74, then April 20.00; HST 13 % per
    # line: 1.0062 → 1.01 and 2.60. The difference is 7.74 + 20.00 + 1.01 + 2.60 = 31.35.
    assert change.before.total == 6968
    assert change.difference == 3135
    assert change.after.total == 6968 + 3135
    tv_lines = [ln for ln in change.after.lines if "TV Basic" in ln.description]
    assert [ln.amount for ln in tv_lines] == [774, 2000]
    assert [(ln.description, ln.amount) for ln in change.after.tax_lines] == [("HST 13 %", 361)]
    assert change.change == "Add TV Basic from 2026-03-20"
    assert change.text == "Next invoice (Apr 1): 69.68 → 101.03 (+31.35)"


def test_a_what_if_removal_bills_the_service_only_to_the_day_before(uow, system, owen, internet) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    change = calculator.what_if(uow(), system, owen.id, MAR_20, remove_account_service_id=line.id,
                                on=date(2026, 4, 11))
    # Last day Apr 10: the stub 24.68 and Apr 1 – Apr 10, 10 of 30 days = 15.00.
    assert [ln.amount for ln in change.after.lines] == [2468, 1500]
    assert change.difference == 1500 - 4500


def test_neither_the_calculator_nor_a_what_if_writes_anything(uow, system, owen, internet, tv) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    before = _counts(uow)
    with uow() as u:
        next_bill_before = u.session.get(BillingAccount, owen.id).next_bill_on
    calculator.next_invoice(uow(), system, owen.id, MAR_20)
    calculator.what_if(uow(), system, owen.id, MAR_20, add_service_id=tv.id, quantity=2)
    assert _counts(uow) == before
    with uow() as u:
        row = u.session.get(BillingAccount, owen.id)
        assert (row.next_bill_on, u.session.scalar(select(AccountService.billed_through))) == (next_bill_before, None)


def test_an_account_without_a_bill_date_is_previewed_on_the_next_bill_day_and_no_profile_is_created(
        uow, system, owen) -> None:
    result = calculator.next_invoice(uow(), system, owen.id, MAR_20)
    assert (result.bill_date, result.scheduled) == (APR_1, False)
    assert result.empty and result.total == 0
    assert "Nothing to bill on this date." in result.notes
    with uow() as u:
        assert u.session.get(BillingAccount, owen.id) is None


def test_a_bill_date_already_past_is_kept_and_flagged_overdue(uow, system, owen, internet) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    result = calculator.next_invoice(uow(), system, owen.id, date(2026, 4, 3))
    assert (result.bill_date, result.overdue) == (APR_1, True)


def test_a_child_that_rolls_up_says_so_and_previews_its_parents_invoice(uow, system, lookups, owen, internet,
                                                                       tv) -> None:
    child = _account(uow, system, lookups, "Owen's office", parent_id=owen.id)
    subs.add_service(uow(), system, owen.id, internet.id, 1, date(2026, 3, 1))
    subs.add_service(uow(), system, child.id, tv.id, 1, date(2026, 3, 1))
    subs.save_profile(uow(), system, child.id, ProfileInput(roll_up_to_parent=True))

    result = calculator.next_invoice(uow(), system, child.id, MAR_20)
    assert result.rolls_up_into is not None and result.rolls_up_into.id == owen.id
    assert result.invoiced.id == owen.id and result.account.id == child.id
    assert "rolls up into" in result.rolled_up_text and owen.number in result.rolled_up_text
    # Both bill from Mar 1, so the first invoice is Mar 1 (each one's own next bill date).
    assert result.bill_date == date(2026, 3, 1)
    child_lines = [ln for ln in result.lines if ln.account_id == child.id]
    assert [ln.amount for ln in child_lines] == [2000] and child.number in child_lines[0].description
    assert result.total == 4500 + 2000 + 260  # the child's TV is taxed 13 %

    # A what-if on the child changes the parent's invoice.
    change = calculator.what_if(uow(), system, child.id, MAR_20, add_service_id=internet.id, on=date(2026, 3, 1))
    assert change.difference == 4500
    assert [ln.account_id for ln in change.after.lines if "Internet" in ln.description] == [None, child.id]


def test_a_what_if_service_is_rated_exactly_as_the_loader_would_rate_it(uow, system, owen, tv) -> None:
    line = subs.add_service(uow(), system, owen.id, tv.id, 1, MAR_15)
    with uow() as u:
        loaded = loading.accounts_to_rate(u.session, [owen.id], APR_1)[owen.id]
        account = u.session.get(Account, owen.id)
        built = calculator._service_spec(u, account, tv.id)
    assert [s.service for s in loaded.subscriptions if s.id == line.id] == [built]


def test_a_change_after_the_bill_date_leaves_the_next_invoice_as_it_is_and_says_why(
        uow, system, owen, internet, tv) -> None:
    subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    change = calculator.what_if(uow(), system, owen.id, MAR_20, add_service_id=tv.id, on=date(2026, 4, 10))
    assert change.difference == 0
    assert any("after this bill date" in note for note in change.after.notes)


def test_bad_what_ifs_are_refused_with_a_message(uow, system, owen, internet, tv) -> None:
    line = subs.add_service(uow(), system, owen.id, internet.id, 1, MAR_15)
    with pytest.raises(ValidationError, match="Choose a service"):
        calculator.what_if(uow(), system, owen.id, MAR_20)
    with pytest.raises(ValidationError, match="negative quantity"):
        calculator.what_if(uow(), system, owen.id, MAR_20, add_service_id=tv.id, quantity=-1)
    with pytest.raises(ValidationError, match="starts on 2026-03-15") as err:
        calculator.what_if(uow(), system, owen.id, MAR_20, remove_account_service_id=line.id, on=MAR_15)
    assert err.value.field == "on"
    cat.save_service(uow(), system, ServiceInput("TV Basic", kind="general", price_text="20", enabled=False), tv.id)
    with pytest.raises(ValidationError, match="disabled"):
        calculator.what_if(uow(), system, owen.id, MAR_20, add_service_id=tv.id)


def test_the_calculator_needs_billing_view(uow, system, owen) -> None:
    technician = Actor(None, "tech", "Technician", BUILTIN_ROLES["Technician"][1])
    with pytest.raises(PermissionDenied):
        calculator.next_invoice(uow(), technician, owen.id, MAR_20)
    with pytest.raises(PermissionDenied):
        calculator.what_if(uow(), technician, owen.id, MAR_20, add_service_id=1)
