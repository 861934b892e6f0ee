from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, Versioned


class ServiceableAddress(Versioned, Base):
    """A place that can be served. Minimal for now; anchors, linked units and history follow."""

    __tablename__ = "serviceable_addresses"
    __table_args__ = (Index("ix_serviceable_addresses_place", "street", "city", "unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building: Mapped[str] = mapped_column(String(120), default="")
    street: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="")
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")

    def one_line(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        return f"{self.street}{unit}, {self.city}"
