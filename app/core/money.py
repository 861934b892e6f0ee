"""Exact money: integer minor units (cents) everywhere, converted only at the edges."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from app.core.errors import ValidationError


@dataclass(frozen=True, order=True, slots=True)
class Money:
    minor: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money holds an integer number of minor units")

    @classmethod
    def parse(cls, text: str, currency: str = "USD") -> Money:
        cleaned = text.strip().replace(",", "").replace("$", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValidationError(f"'{text}' is not an amount of money") from None
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError(f"'{text}' has more than two decimals")
        return cls(int(value * 100), currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def percent(self, rate: Decimal) -> Money:
        """``rate`` percent of this amount, rounded half-even to the minor unit."""
        value = (Decimal(self.minor) * Decimal(rate) / Decimal(100)).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        return Money(int(value), self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        sign = "-" if self.minor < 0 else ""
        whole, cents = divmod(abs(self.minor), 100)
        return f"{sign}{whole:,}.{cents:02d}"


# -- amounts in a currency's minor units, and percentages ----------------------------------------

# Currencies whose minor unit is not the cent (ISO 4217). Every other currency has 2 decimals.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
PERCENT_DIGITS = 3  # percentages are stored as integer thousandths of a percent ("percent_milli")


def minor_digits(currency: str) -> int:
    """How many decimals the currency's amounts have (USD 2, JPY 0, KWD 3)."""
    return _MINOR_DIGITS.get((currency or "USD").upper(), 2)


def _decimal(text: str, what: str) -> Decimal:
    cleaned = (text or "").strip().replace(",", "").replace("$", "").replace("€", "").replace("£", "")
    cleaned = cleaned.replace("%", "").strip()
    if not cleaned:
        raise ValidationError(f"Enter {what}.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(f"“{text.strip()}” is not {what}.") from None
    if not value.is_finite():
        raise ValidationError(f"“{text.strip()}” is not {what}.")
    return value


def parse_minor(text: str, currency: str = "USD", *, allow_negative: bool = False) -> int:
    """An amount typed by a person → integer minor units. "12.5" → 1250 (USD). More decimals
    than the currency has, or a negative amount (unless allowed), is refused with a message."""
    value = _decimal(text, "an amount")
    digits = minor_digits(currency)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        allowed = f"{digits} decimal{'s' if digits != 1 else ''}" if digits else "no decimals"
        raise ValidationError(f"“{text.strip()}” has more decimals than {currency.upper()} allows ({allowed}).")
    if value < 0 and not allow_negative:
        raise ValidationError(f"“{text.strip()}” is negative; enter a positive amount.")
    return int(value.scaleb(digits))


def format_minor(minor: int, currency: str = "USD", *, symbol: bool = False) -> str:
    """Integer minor units → "1,234.56" (or "$1,234.56" / "JPY 1,235" with ``symbol``)."""
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10 ** digits) if digits else (abs(minor), 0)
    text = f"{whole:,}" + (f".{part:0{digits}d}" if digits else "")
    if symbol:
        prefix = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
        return f"{sign}{prefix}{text}" if prefix else f"{sign}{currency.upper()} {text}"
    return sign + text


def parse_percent_milli(text: str, *, maximum: int = 100) -> int:
    """A percentage typed by a person → thousandths of a percent. "13" → 13000, "7.125" →
    7125. More than 3 decimals, a negative rate or one over ``maximum`` % is refused."""
    value = _decimal(text, "a percentage")
    if value != value.quantize(Decimal("0.001")):
        raise ValidationError(f"“{text.strip()}” has more than 3 decimals; rates are kept to 0.001 %.")
    if value < 0:
        raise ValidationError(f"“{text.strip()}” is negative; a rate is 0 % or more.")
    if value > maximum:
        raise ValidationError(f"A rate of {text.strip()} is over {maximum} %.")
    return int(value * 1000)


def format_percent_milli(milli: int) -> str:
    """13000 → "13", 7125 → "7.125"."""
    text = f"{Decimal(milli) / 1000:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_of(amount: int, milli: int) -> int:
    """``milli`` thousandths of a percent of ``amount`` minor units, rounded half-even."""
    return int((Decimal(amount) * Decimal(milli) / Decimal(100_000)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def prorate(amount: int, numerator: int, denominator: int) -> int:
    """``amount`` × numerator / denominator (days used / days in the period), half-even."""
    if denominator <= 0:
        raise ValueError("a period has at least one day")
    return int((Decimal(amount) * numerator / denominator).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
