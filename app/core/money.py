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
