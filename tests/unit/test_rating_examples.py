"""Worked examples of the rating engine, each computed by hand and asserted to the cent.

The arithmetic is in a comment above each assertion: ``5000 × 22/31 = 3548.39 → 3548`` reads
"the price times days used over days in the period, rounded half-even to the cent". Amounts
are in cents; a rate of 13000 is 13 %.
"""

from __future__ import annotations

from datetime import date, datetime

from app.billing.rating import (
    AccountToRate,
    DiscountSpec,
    Draft,
    FreePeriod,
    PackageRef,
    Rollover,
    ServiceSpec,
    Subscription,
    SubscriptionUpdate,
    TaxSpec,
    TopUp,
    UsagePolicySpec,
    UsageSpan,
    rate,
)

NET = ServiceSpec(1, "Internet 500", "data", 5000)
NO_TAXES: dict[int, TaxSpec] = {}


def account(*subscriptions: Subscription, **kwargs) -> AccountToRate:
    return AccountToRate(id=100, number="1001", name="Unit 4B", subscriptions=subscriptions, **kwargs)


def amounts(draft: Draft) -> list[tuple[str, str, int]]:
    return [(line.kind, line.description, line.amount) for line in draft.lines]


def apply(acct: AccountToRate, draft: Draft) -> AccountToRate:
    """What the invoicing service does after persisting ``draft``: the new billed_through and
    cycles on each subscription, the discount counts."""
    subs = {u.id: u for u in draft.subscription_updates}
    used = dict(draft.discount_updates)
    return AccountToRate(
        **{
            **acct.__dict__,
            "subscriptions": tuple(
                Subscription(**{**s.__dict__, "billed_through": subs[s.id].billed_through,
                                "cycles_billed": subs[s.id].cycles_billed}) if s.id in subs else s
                for s in acct.subscriptions
            ),
            "discounts": tuple(
                DiscountSpec(**{**d.__dict__, "cycles_used": used[d.id]}) if d.id in used else d
                for d in acct.discounts
            ),
        }
    )


# -- proration ---------------------------------------------------------------------------------


def test_a_service_started_mid_month_bills_its_stub_and_then_the_coming_month_in_full() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 10, 10)))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # Stub Oct 10 – Oct 31 = 22 days of October's 31: 5000 × 22/31 = 3548.39 → 3548
    # Coming period Nov 1 – Nov 30 in full: 5000
    assert amounts(draft) == [
        ("service", "Internet 500, Oct 10 – Oct 31 (22 of 31 days)", 3548),
        ("service", "Internet 500 (Nov 1 – Nov 30)", 5000),
    ]
    # 3548 + 5000 = 8548
    assert (draft.subtotal, draft.tax_total, draft.total) == (8548, 0, 8548)
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 11, 30), 1),)


def test_a_service_stopped_inside_a_billed_month_is_credited_its_unused_days() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 1, 1), ends_on=date(2024, 11, 15),
                                billed_through=date(2024, 11, 30), cycles_billed=11))
    draft = rate(acct, date(2024, 12, 1), NO_TAXES)
    # Billed through Nov 30, last day Nov 15: Nov 16 – Nov 30 = 15 of November's 30 days unused
    # 5000 × 15/30 = 2500 → credit −2500; nothing for December
    assert amounts(draft) == [("service", "Internet 500: unused Nov 16 – Nov 30 credited (15 of 30 days)", -2500)]
    assert draft.total == -2500
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 11, 15), 11),)


def test_a_service_ending_inside_the_coming_period_is_billed_up_to_its_last_day_only() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 1, 1), ends_on=date(2024, 11, 20),
                                billed_through=date(2024, 10, 31), cycles_billed=10))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # Nov 1 – Nov 20 = 20 of 30 days: 5000 × 20/30 = 3333.33 → 3333
    assert amounts(draft) == [("service", "Internet 500, Nov 1 – Nov 20 (20 of 30 days)", 3333)]
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 11, 20), 11),)
    # The next run has nothing left to bill.
    assert rate(apply(acct, draft), date(2024, 12, 1), NO_TAXES).empty


def test_a_quantity_change_credits_the_old_line_and_bills_the_new_one_from_the_same_day() -> None:
    box = ServiceSpec(2, "TV box rental", "general", 1299)
    acct = account(
        Subscription(1, box, starts_on=date(2024, 6, 1), ends_on=date(2024, 11, 15),
                     billed_through=date(2024, 11, 30), cycles_billed=6),
        Subscription(2, box, starts_on=date(2024, 11, 16), quantity=3),
    )
    draft = rate(acct, date(2024, 12, 1), NO_TAXES)
    # Old line, Nov 16 – Nov 30 unused: 1299 × 15/30 = 649.5 → 650 (half-even: 649 is odd) → −650
    # New line × 3 = 3897 a month; stub Nov 16 – Nov 30: 3897 × 15/30 = 1948.5 → 1948 (even)
    # December in full: 3897
    assert amounts(draft) == [
        ("service", "TV box rental: unused Nov 16 – Nov 30 credited (15 of 30 days)", -650),
        ("service", "TV box rental × 3, Nov 16 – Nov 30 (15 of 30 days)", 1948),
        ("service", "TV box rental × 3 (Dec 1 – Dec 31)", 3897),
    ]
    # −650 + 1948 + 3897 = 5195
    assert draft.total == 5195
    assert draft.subscription_updates == (
        SubscriptionUpdate(1, date(2024, 11, 15), 6),
        SubscriptionUpdate(2, date(2024, 12, 31), 1),
    )


def test_a_three_month_service_is_billed_once_for_its_span_and_not_in_the_two_runs_inside_it() -> None:
    alarm = ServiceSpec(3, "Alarm monitoring", "general", 9000, frequency_months=3)
    acct = account(Subscription(1, alarm, starts_on=date(2024, 11, 1)))
    nov = rate(acct, date(2024, 11, 1), NO_TAXES)
    # Nov 1 – Jan 31 (the span crosses a year, so the years are written): 9000 once
    assert amounts(nov) == [("service", "Alarm monitoring (Nov 1, 2024 – Jan 31, 2025)", 9000)]
    acct = apply(acct, nov)
    assert rate(acct, date(2024, 12, 1), NO_TAXES).empty
    assert rate(acct, date(2025, 1, 1), NO_TAXES).empty
    feb = rate(acct, date(2025, 2, 1), NO_TAXES)
    # billed through Jan 31, so Feb 1 starts the next span Feb 1 – Apr 30: 9000
    assert amounts(feb) == [("service", "Alarm monitoring (Feb 1 – Apr 30)", 9000)]
    assert feb.subscription_updates == (SubscriptionUpdate(1, date(2025, 4, 30), 2),)


def test_a_three_month_service_stopped_early_is_credited_against_its_92_day_span() -> None:
    alarm = ServiceSpec(3, "Alarm monitoring", "general", 9000, frequency_months=3)
    acct = account(Subscription(1, alarm, starts_on=date(2024, 11, 1), ends_on=date(2024, 12, 15),
                                billed_through=date(2025, 1, 31), cycles_billed=1))
    draft = rate(acct, date(2025, 1, 1), NO_TAXES)
    # Span Nov 1 – Jan 31 = 30 + 31 + 31 = 92 days; unused Dec 16 – Jan 31 = 16 + 31 = 47 days
    # 9000 × 47/92 = 4597.83 → 4598 → −4598
    assert amounts(draft) == [
        ("service", "Alarm monitoring: unused Dec 16, 2024 – Jan 31, 2025 credited (47 of 92 days)", -4598)
    ]


def test_a_service_that_does_not_prorate_started_mid_month_has_a_free_stub() -> None:
    phone = ServiceSpec(4, "Phone line", "voice", 2500, prorates=False)
    acct = account(Subscription(1, phone, starts_on=date(2024, 10, 10)))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # Oct 10 – Oct 31 is a partial month: free. November in full: 2500
    assert amounts(draft) == [("service", "Phone line (Nov 1 – Nov 30)", 2500)]
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 11, 30), 1),)


def test_a_service_that_ended_before_the_period_and_was_billed_to_its_end_bills_nothing() -> None:
    acct = account(
        Subscription(1, NET, starts_on=date(2024, 1, 1), ends_on=date(2024, 10, 31),
                     billed_through=date(2024, 10, 31), cycles_billed=10),
        # cancelled before it ever started: nothing either
        Subscription(2, NET, starts_on=date(2024, 10, 20), ends_on=date(2024, 10, 19)),
    )
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    assert draft.empty
    assert (draft.total, draft.subscription_updates) == (0, ())


def test_billing_on_the_28th_prorates_a_february_stub_against_the_month_from_jan_28() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2025, 2, 10)))
    draft = rate(acct, date(2025, 2, 28), NO_TAXES)
    # The billing month before Feb 28 is Jan 28 – Feb 27 = 31 days; stub Feb 10 – Feb 27 = 18 days
    # 5000 × 18/31 = 2903.23 → 2903; then Feb 28 – Mar 27 in full: 5000
    assert amounts(draft) == [
        ("service", "Internet 500, Feb 10 – Feb 27 (18 of 31 days)", 2903),
        ("service", "Internet 500 (Feb 28 – Mar 27)", 5000),
    ]
    assert (draft.period_start, draft.period_end) == (date(2025, 2, 28), date(2025, 3, 27))
    nxt = rate(apply(acct, draft), date(2025, 3, 28), NO_TAXES)
    # Mar 28 – Apr 27: 5000
    assert amounts(nxt) == [("service", "Internet 500 (Mar 28 – Apr 27)", 5000)]


def test_a_leap_year_february_stub_is_a_fraction_of_29_days() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 2, 10)))
    draft = rate(acct, date(2024, 3, 1), NO_TAXES)
    # Feb 10 – Feb 29 = 20 of 29 days: 5000 × 20/29 = 3448.28 → 3448
    assert amounts(draft) == [
        ("service", "Internet 500, Feb 10 – Feb 29 (20 of 29 days)", 3448),
        ("service", "Internet 500 (Mar 1 – Mar 31)", 5000),
    ]
    assert draft.total == 8448


def test_a_run_that_was_missed_bills_the_whole_month_it_skipped_and_the_coming_one() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 1, 1), billed_through=date(2024, 9, 30),
                                cycles_billed=9))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # October was never billed (no run on Oct 1): Oct 1 – Oct 31 in full, 5000; November 5000
    assert amounts(draft) == [
        ("service", "Internet 500 (Oct 1 – Oct 31)", 5000),
        ("service", "Internet 500 (Nov 1 – Nov 30)", 5000),
    ]
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 11, 30), 11),)


# -- one-time charges, credits ---------------------------------------------------------------------


def test_a_one_time_charge_is_billed_on_the_first_invoice_after_it_starts_and_never_again() -> None:
    install = ServiceSpec(5, "Installation", "one_time", 4900)
    acct = account(Subscription(1, install, starts_on=date(2024, 10, 20)))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 4900 once, not prorated
    assert amounts(draft) == [("service", "Installation", 4900)]
    assert draft.subscription_updates == (SubscriptionUpdate(1, date(2024, 10, 20), 1),)
    assert rate(apply(acct, draft), date(2024, 12, 1), NO_TAXES).empty


def test_a_one_time_credit_is_a_negative_credit_line_billed_once() -> None:
    welcome = ServiceSpec(6, "Move-in credit", "credit_one_time", 2500)
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1)),
                   Subscription(2, welcome, starts_on=date(2024, 11, 1)))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 5000 − 2500 = 2500
    assert amounts(draft) == [
        ("service", "Internet 500 (Nov 1 – Nov 30)", 5000),
        ("credit", "Move-in credit", -2500),
    ]
    assert draft.total == 2500
    again = rate(apply(acct, draft), date(2024, 12, 1), NO_TAXES)
    assert [line.kind for line in again.lines] == ["service"]


def test_an_expiring_credit_counts_down_six_cycles_and_the_seventh_run_has_no_credit() -> None:
    promo = ServiceSpec(7, "Promo credit", "credit_expiring", 1000, expires_after_cycles=6)
    acct = account(Subscription(1, NET, starts_on=date(2025, 1, 1)), Subscription(2, promo, starts_on=date(2025, 1, 1)))
    seen = []
    for month in range(1, 8):
        draft = rate(acct, date(2025, month, 1), NO_TAXES)
        seen.append([(line.description, line.amount) for line in draft.lines if line.kind == "credit"])
        # each month: 5000 − 1000 = 4000 while the credit lasts, then 5000
        assert draft.total == (4000 if month <= 6 else 5000)
        acct = apply(acct, draft)
    assert seen == [[(f"Promo credit ({k} of 6)", -1000)] for k in range(1, 7)] + [[]]
    assert acct.subscriptions[1].cycles_billed == 6


# -- discounts -------------------------------------------------------------------------------------


def test_a_percentage_discount_is_a_half_even_percent_of_its_target() -> None:
    net = ServiceSpec(1, "Internet 500", "data", 5999)
    acct = account(Subscription(1, net, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Autumn promo", "percent", 10000, "recurring", account_service_id=1),))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 5999 × 10 % = 599.9 → 600
    assert amounts(draft)[1] == ("discount", "Autumn promo −10 %", -600)
    # 5999 − 600 = 5399
    assert draft.total == 5399
    assert draft.discount_updates == ((1, 1),)


def test_a_fixed_discount_takes_its_amount_off() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Loyalty", "fixed", 500, "recurring", account_service_id=1),))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 5000 − 500 = 4500
    assert amounts(draft)[1] == ("discount", "Loyalty", -500)
    assert draft.total == 4500


def test_a_fixed_discount_bigger_than_its_target_is_capped_at_the_target() -> None:
    modem = ServiceSpec(8, "Modem rental", "general", 1500)
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1)), Subscription(2, modem, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Free modem", "fixed", 2000, "recurring", account_service_id=2),))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # min(2000, 1500) = 1500 off the modem only; 5000 + 1500 − 1500 = 5000
    assert amounts(draft)[2] == ("discount", "Free modem", -1500)
    assert draft.lines[2].detail["capped"] is True
    assert draft.total == 5000


def test_a_once_discount_applies_on_one_invoice_only() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Welcome", "fixed", 1000, "once"),))
    first = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 5000 − 1000 = 4000
    assert first.total == 4000
    assert first.discount_updates == ((1, 1),)
    second = rate(apply(acct, first), date(2024, 12, 1), NO_TAXES)
    # cycles_used is 1: no discount, 5000
    assert amounts(second) == [("service", "Internet 500 (Dec 1 – Dec 31)", 5000)]
    assert second.discount_updates == ()


def test_an_expiring_discount_counts_down_and_stops_after_its_cycles() -> None:
    tv = ServiceSpec(9, "TV Basic", "general", 4000)
    acct = account(Subscription(1, tv, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Spring deal", "percent", 25000, "expiring", cycles=3,
                                           account_service_id=1),))
    lines = []
    for bill in (date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)):
        draft = rate(acct, bill, NO_TAXES)
        lines.append([(line.description, line.amount) for line in draft.lines if line.kind == "discount"])
        acct = apply(acct, draft)
    # 4000 × 25 % = 1000 for three periods, then nothing
    assert lines == [
        [("Spring deal −25 % (1 of 3)", -1000)],
        [("Spring deal −25 % (2 of 3)", -1000)],
        [("Spring deal −25 % (3 of 3)", -1000)],
        [],
    ]
    assert acct.discounts[0].cycles_used == 3


def test_a_price_override_replaces_the_unit_price_of_its_line() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1), quantity=2, price_override=3999))
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 3999 (instead of the list 5000) × 2 = 7998
    line = draft.lines[0]
    assert (line.description, line.amount, line.quantity, line.unit_amount) == (
        "Internet 500 × 2 (Nov 1 – Nov 30)", 7998, 2, 3999)
    assert (line.detail["price_override"], line.detail["list_price"]) == (3999, 5000)


# -- taxes -----------------------------------------------------------------------------------------

GST = TaxSpec(1, "GST", "percent", 5000)
PST = TaxSpec(2, "PST", "percent", 7000)


def test_stacked_taxes_are_rounded_per_line_not_on_the_sum() -> None:
    a = ServiceSpec(10, "Internet 100", "data", 1010, tax_ids=(1, 2))
    b = ServiceSpec(11, "TV Lite", "general", 1050, tax_ids=(1, 2))
    acct = account(Subscription(1, a, starts_on=date(2024, 11, 1)), Subscription(2, b, starts_on=date(2024, 11, 1)))
    draft = rate(acct, date(2024, 11, 1), {1: GST, 2: PST})
    # GST 5 %: 1010 → 50.5 → 50 (even), 1050 → 52.5 → 52 (even) = 102
    #          (on the sum it would be 2060 × 5 % = 103)
    # PST 7 %: 1010 → 70.7 → 71, 1050 → 73.5 → 74 (even) = 145
    #          (on the sum it would be 2060 × 7 % = 144.2 → 144)
    assert amounts(draft)[2:] == [("tax", "GST 5 %", 102), ("tax", "PST 7 %", 145)]
    # 2060 + 102 + 145 = 2307
    assert (draft.subtotal, draft.tax_total, draft.total) == (2060, 247, 2307)
    assert draft.lines[0].detail["tax_ids"] == [1, 2]


def test_a_flat_tax_is_added_once_per_invoice_however_many_lines_carry_it() -> None:
    e911 = TaxSpec(3, "911 fee", "flat", 75)
    phone = ServiceSpec(4, "Phone line", "voice", 2500, tax_ids=(3,))
    fax = ServiceSpec(12, "Fax line", "voice", 1500, tax_ids=(3,))
    acct = account(Subscription(1, phone, starts_on=date(2024, 11, 1)), Subscription(2, fax, starts_on=date(2024, 11, 1)))
    draft = rate(acct, date(2024, 11, 1), {3: e911})
    # 2500 + 1500 + 75 once = 4075
    assert amounts(draft)[2:] == [("tax", "911 fee", 75)]
    assert draft.total == 4075


HST = TaxSpec(4, "HST", "percent", 13000, zone={"country": "CA", "region": "ON"})
TAXED_NET = ServiceSpec(1, "Internet 500", "data", 5000, tax_ids=(4, 5))
DOWNTOWN = TaxSpec(5, "Downtown levy", "percent", 1500, zone={"postal_prefix": "M5V"})


def test_a_zone_tax_applies_when_the_address_is_in_its_zone() -> None:
    acct = account(Subscription(1, TAXED_NET, starts_on=date(2024, 11, 1)),
                   country="CA", region="on", postal_code="m5v 2t6")
    draft = rate(acct, date(2024, 11, 1), {4: HST, 5: DOWNTOWN})
    # HST 5000 × 13 % = 650; the postal code starts with M5V (case and space ignored):
    # levy 5000 × 1.5 % = 75; 5000 + 650 + 75 = 5725
    assert amounts(draft)[1:] == [("tax", "HST 13 %", 650), ("tax", "Downtown levy 1.5 %", 75)]
    assert draft.total == 5725


def test_a_zone_tax_does_not_apply_in_another_region_or_postal_area() -> None:
    acct = account(Subscription(1, TAXED_NET, starts_on=date(2024, 11, 1)),
                   country="CA", region="QC", postal_code="M4B 1B3")
    draft = rate(acct, date(2024, 11, 1), {4: HST, 5: DOWNTOWN})
    # Quebec is not Ontario, M4B is not M5V: no tax, 5000
    assert amounts(draft) == [("service", "Internet 500 (Nov 1 – Nov 30)", 5000)]
    assert draft.total == 5000


def test_a_tax_exempt_account_gets_no_tax_lines() -> None:
    acct = account(Subscription(1, TAXED_NET, starts_on=date(2024, 11, 1)),
                   country="CA", region="ON", postal_code="M5V 2T6", tax_exempt=True)
    draft = rate(acct, date(2024, 11, 1), {4: HST, 5: DOWNTOWN})
    assert [line.kind for line in draft.lines] == ["service"]
    assert (draft.tax_total, draft.total) == (0, 5000)


def test_a_discount_line_is_taxed_with_its_targets_taxes() -> None:
    net = ServiceSpec(1, "Internet 500", "data", 5999, tax_ids=(1,))
    acct = account(Subscription(1, net, starts_on=date(2024, 11, 1)),
                   discounts=(DiscountSpec(1, "Autumn promo", "percent", 10000, "recurring", account_service_id=1),))
    draft = rate(acct, date(2024, 11, 1), {1: GST})
    # discount 5999 × 10 % = 599.9 → −600
    # GST per line: 5999 × 5 % = 299.95 → 300; −600 × 5 % = −30; 300 − 30 = 270
    assert amounts(draft) == [
        ("service", "Internet 500 (Nov 1 – Nov 30)", 5999),
        ("discount", "Autumn promo −10 %", -600),
        ("tax", "GST 5 %", 270),
    ]
    # 5999 − 600 + 270 = 5669
    assert draft.total == 5669
    assert draft.lines[1].detail["tax_ids"] == [1]


# -- packages, children, fees ------------------------------------------------------------------------


def bundle(roll_up: bool) -> AccountToRate:
    pkg = PackageRef(account_package_id=40, package_id=4, name="TV Bundle", roll_up=roll_up)
    basic = ServiceSpec(20, "TV Basic", "general", 1005, tax_ids=(1,))
    sports = ServiceSpec(21, "Sports", "general", 1015, tax_ids=(1, 2))
    return account(Subscription(1, basic, starts_on=date(2024, 11, 1), package=pkg),
                   Subscription(2, sports, starts_on=date(2024, 11, 1), package=pkg))


def test_a_rolled_up_package_is_one_line_and_its_taxes_come_from_each_services_line() -> None:
    draft = rate(bundle(roll_up=True), date(2024, 11, 1), {1: GST, 2: PST})
    # Package line: 1005 + 1015 = 2020
    # GST on each service: 1005 × 5 % = 50.25 → 50; 1015 × 5 % = 50.75 → 51; = 101
    # PST on Sports only: 1015 × 7 % = 71.05 → 71 (on the package line it would be 141)
    assert amounts(draft) == [
        ("package", "TV Bundle (Nov 1 – Nov 30)", 2020),
        ("tax", "GST 5 %", 101),
        ("tax", "PST 7 %", 71),
    ]
    # 2020 + 101 + 71 = 2192
    assert draft.total == 2192
    detail = draft.lines[0].detail
    assert detail["tax_ids"] == [1, 2]
    assert [(c["description"], c["amount"], c["tax_ids"]) for c in detail["components"]] == [
        ("TV Basic (Nov 1 – Nov 30)", 1005, [1]), ("Sports (Nov 1 – Nov 30)", 1015, [1, 2])]
    assert {u.id for u in draft.subscription_updates} == {1, 2}


def test_a_package_that_does_not_roll_up_shows_each_service() -> None:
    draft = rate(bundle(roll_up=False), date(2024, 11, 1), {1: GST, 2: PST})
    # same taxes as rolled up: GST 50 + 51 = 101, PST 71; total 2020 + 172 = 2192
    assert amounts(draft) == [
        ("service", "TV Basic (Nov 1 – Nov 30)", 1005),
        ("service", "Sports (Nov 1 – Nov 30)", 1015),
        ("tax", "GST 5 %", 101),
        ("tax", "PST 7 %", 71),
    ]
    assert draft.lines[0].detail["package"] == "TV Bundle"
    assert draft.total == 2192


def test_a_child_account_is_rolled_into_its_parents_invoice_with_its_number_on_its_lines() -> None:
    phone = ServiceSpec(4, "Phone line", "voice", 2000, tax_ids=(1,))
    child = AccountToRate(id=200, number="2002", name="Unit 4B storage",
                          subscriptions=(Subscription(9, phone, starts_on=date(2024, 11, 1)),))
    net = ServiceSpec(1, "Internet 500", "data", 5000, tax_ids=(1,))
    parent = account(Subscription(1, net, starts_on=date(2024, 11, 1)), children=(child,))
    draft = rate(parent, date(2024, 11, 1), {1: GST})
    # parent 5000, child 2000; GST 250 + 100 = 350; total 7350
    assert [(line.account_id, line.description, line.amount) for line in draft.lines] == [
        (None, "Internet 500 (Nov 1 – Nov 30)", 5000),
        (200, "2002 · Phone line (Nov 1 – Nov 30)", 2000),
        (None, "GST 5 %", 350),
    ]
    assert draft.total == 7350
    assert draft.account_id == 100
    assert [u.id for u in draft.subscription_updates] == [1, 9]


def test_a_paper_invoice_adds_the_printed_invoice_fee() -> None:
    acct = account(Subscription(1, NET, starts_on=date(2024, 11, 1)), paper_invoice_fee=150)
    draft = rate(acct, date(2024, 11, 1), NO_TAXES)
    # 5000 + 150 = 5150
    assert amounts(draft) == [("service", "Internet 500 (Nov 1 – Nov 30)", 5000), ("fee", "Printed invoice", 150)]
    assert draft.total == 5150
    # No invoice, no fee: an account with nothing to bill stays empty.
    assert rate(account(paper_invoice_fee=150), date(2024, 11, 1), NO_TAXES).empty


# -- usage ---------------------------------------------------------------------------------------------

NIGHTS_FREE = UsagePolicySpec(
    1, "100 GB", allowance_mb=100_000, rollover_months=2, overage_block_mb=10_000, overage_price=500,
    free_periods=(FreePeriod(None, "00:00", "06:00"),),
)
METERED = ServiceSpec(1, "Internet 500", "data", 5000, usage_policy=NIGHTS_FREE)


def usage(day_gb: int, night_gb: int = 0) -> tuple[UsageSpan, ...]:
    """Usage in October: ``day_gb`` at 14:00 on Oct 3, ``night_gb`` at 02:30 on Oct 4."""
    spans = [UsageSpan(datetime(2024, 10, 3, 14, 0), day_gb * 1000)]
    if night_gb:
        spans.append(UsageSpan(datetime(2024, 10, 4, 2, 30), night_gb * 1000))
    return tuple(spans)


def metered(**kwargs) -> AccountToRate:
    return account(Subscription(1, METERED, starts_on=date(2024, 1, 1), billed_through=date(2024, 10, 31),
                                cycles_billed=10), **kwargs)


def test_usage_over_the_allowance_is_charged_per_block_and_night_usage_is_free() -> None:
    draft = rate(metered(usage=usage(130, night_gb=40)), date(2024, 11, 1), NO_TAXES)
    # 170 GB used, 40 GB between 00:00 and 06:00 free → 130 GB counted
    # 130 − 100 GB allowance = 30 GB over; 30 / 10 GB blocks = 3 blocks × 500 = 1500
    line = draft.lines[1]
    assert (line.kind, line.amount) == ("usage", 1500)
    assert line.description == ("Internet 500 usage (Oct 1 – Oct 31): 130 GB counted, 40 GB free; "
                                "30 GB over the allowance, 3 × 10 GB at 5.00")
    assert {k: line.detail[k] for k in ("free_mb", "counted_mb", "billable_mb", "allowance_mb")} == {
        "free_mb": 40_000, "counted_mb": 130_000, "billable_mb": 30_000, "allowance_mb": 100_000}
    # 5000 + 1500 = 6500; allowance all used: no new rollover
    assert draft.total == 6500
    assert (draft.new_rollover_mb, draft.rollovers_used) == (0, ())


def test_overage_is_charged_per_started_block() -> None:
    draft = rate(metered(usage=usage(125)), date(2024, 11, 1), NO_TAXES)
    # 125 − 100 = 25 GB over → 3 started blocks of 10 GB × 500 = 1500
    assert draft.lines[1].amount == 1500
    assert draft.lines[1].detail["blocks"] == 3


def test_a_rollover_is_used_before_overage_and_what_is_left_of_it_is_reported() -> None:
    roll = Rollover(id=7, mb_left=20_000, expires_on=date(2024, 11, 30))
    old = Rollover(id=8, mb_left=5_000, expires_on=date(2024, 10, 15))  # expired before Oct 31: unusable
    draft = rate(metered(usage=usage(110), rollovers=(roll, old)), date(2024, 11, 1), NO_TAXES)
    # 110 GB counted: 100 from the allowance, 10 from the 20 GB rollover → 10 GB left, no overage
    assert draft.lines[1].amount == 0
    assert draft.rollovers_used == ((7, 10_000),)
    assert draft.lines[1].detail["rollover_used_mb"] == 10_000
    assert draft.total == 5000


def test_unused_allowance_rolls_over_for_the_policys_months() -> None:
    draft = rate(metered(usage=usage(60)), date(2024, 11, 1), NO_TAXES)
    # 100 − 60 = 40 GB unused, kept 2 months: usable until add_months(Nov 1, 2) − 1 = Dec 31
    assert (draft.new_rollover_mb, draft.new_rollover_expires_on) == (40_000, date(2024, 12, 31))
    assert draft.new_rollovers[0].from_period_start == date(2024, 10, 1)
    assert draft.lines[1].description.endswith("within the allowance")


def test_a_top_up_adds_to_the_allowance_and_is_billed_on_its_own_line() -> None:
    topup = TopUp(id=3, bought_on=date(2024, 10, 15), mb=20_000, price=1000)
    draft = rate(metered(usage=usage(115), topups=(topup,)), date(2024, 11, 1), NO_TAXES)
    # 115 GB counted: 100 allowance + 15 of the 20 GB top-up → no overage (0)
    # the top-up itself: 1000; total 5000 + 0 + 1000 = 6000
    assert amounts(draft)[1:] == [
        ("usage", "Internet 500 usage (Oct 1 – Oct 31): 115 GB counted, 0 GB free; within the allowance", 0),
        ("usage", "Data top-up 20 GB (bought Oct 15)", 1000),
    ]
    assert draft.total == 6000
    assert draft.topups_invoiced == (3,)
