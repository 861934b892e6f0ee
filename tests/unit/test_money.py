from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.core.money import Money


def test_money_is_integer_minor_units_and_prints_with_two_decimals() -> None:
    assert Money.parse("1,234.50").minor == 123450
    assert str(Money(-5)) == "-0.05"
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


def test_parsing_refuses_fractions_of_a_cent_and_words() -> None:
    with pytest.raises(ValidationError, match="more than two decimals"):
        Money.parse("1.005")
    with pytest.raises(ValidationError, match="not an amount"):
        Money.parse("ten dollars")


def test_percentages_round_half_even() -> None:
    assert Money(250).percent(Decimal(1)).minor == 2  # 2.5 → 2
    assert Money(350).percent(Decimal(1)).minor == 4  # 3.5 → 4


@given(st.lists(st.integers(-10**9, 10**9), max_size=50))
def test_sums_never_drift(values: list[int]) -> None:
    total = Money(0)
    for v in values:
        total = total + Money(v)
    assert total.minor == sum(values)
