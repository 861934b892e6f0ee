"""The address rules, without a database."""

from __future__ import annotations

import pytest

from app.addresses.normalise import derive_floor, match_key, normalise_postal_code, normalise_unit
from app.addresses.service import AddressInput, clean_address
from app.core.errors import ValidationError


@pytest.mark.parametrize("written", ["Apt 4B", "#4b", "Unit 4-B", "4B", "apt. #4 b", "Suite 4B", "unit no. 4b"])
def test_every_common_way_of_writing_a_unit_is_the_same_unit(written: str) -> None:
    assert normalise_unit(written) == "4B"


def test_numbers_joined_by_a_dash_stay_apart() -> None:
    assert normalise_unit("12-3") == "12-3"
    assert normalise_unit("") == ""


@pytest.mark.parametrize(("raw", "country", "want"), [
    ("k1a0b1", "CA", "K1A 0B1"), ("K1A-0B1", "CA", "K1A 0B1"), (" m5v 2t6 ", "CA", "M5V 2T6"),
    ("02110", "US", "02110"), ("021101234", "US", "02110-1234"), ("02110 1234", "US", "02110-1234"),
    ("sw1a 1aa", "GB", "SW1A 1AA"), ("", "US", ""),
])
def test_postal_codes_are_written_the_standard_way(raw: str, country: str, want: str) -> None:
    assert normalise_postal_code(raw, country) == want


@pytest.mark.parametrize(("raw", "country"), [("1234", "US"), ("02110-12", "US"), ("D1A 0B1", "CA"),
                                               ("K1A 0B", "CA"), ("W1A 0B1", "CA")])
def test_a_malformed_us_or_canadian_code_is_refused(raw: str, country: str) -> None:
    with pytest.raises(ValidationError) as err:
        normalise_postal_code(raw, country)
    assert err.value.field == "postal_code"


@pytest.mark.parametrize(("unit", "floor"), [("4B", 4), ("1203", 12), ("207", 2), ("12", None), ("PH2", None)])
def test_the_floor_is_derived_only_when_the_unit_says_it(unit: str, floor: int | None) -> None:
    assert derive_floor(unit) == floor


def test_street_spellings_match_but_postal_codes_do_not_matter() -> None:
    a = clean_address(AddressInput("12 Main Street", "Ottawa", "Apt 4B", postal_code="K1P 1A1", country="Canada"))
    b = clean_address(AddressInput("12  main st.", "OTTAWA", "#4b", postal_code="K1P 1A2", country="ca"))
    assert a.key == b.key and a.country == "CA" and a.floor == 4
    assert match_key("CA", "12 Main St", "Ottawa", "") == a.building_key


def test_a_given_floor_wins_over_the_derived_one() -> None:
    assert clean_address(AddressInput("1 A St", "B", "4B", floor=5, country="US")).floor == 5


@pytest.mark.parametrize(("field", "value"), [("street", ""), ("city", " "), ("country", "Narnia")])
def test_missing_or_bad_fields_name_the_field(field: str, value: str) -> None:
    base = dict(street="1 A St", city="Boston", country="US")
    base[field] = value
    with pytest.raises(ValidationError) as err:
        clean_address(AddressInput(**base))
    assert err.value.field == field
