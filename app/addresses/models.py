from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, Versioned


class ServiceableAddress(Versioned, Base):
    """A place that can be served, known before anyone lives there.

    A building is an *anchor* (``parent_id`` is None, ``unit`` is ''); its units are *linked*
    addresses pointing at it. Units carry copies of the building's street, city and codes so a
    unit reads on its own; the service keeps the copies in step. ``match_key`` (see
    ``normalise.match_key``) makes one row per place, however it was spelled.
    """

    __tablename__ = "serviceable_addresses"
    __table_args__ = (
        Index("ix_serviceable_addresses_place", "street", "city", "unit"),
        Index("ix_serviceable_addresses_match_key", "match_key", unique=True),
        Index("ix_serviceable_addresses_parent_id", "parent_id", "floor", "unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("serviceable_addresses.id"), nullable=True)
    building: Mapped[str] = mapped_column(String(120), default="")
    street: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="")
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    # A future address: known and sold, not serviceable until this date.
    serviceable_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    match_key: Mapped[str] = mapped_column(String(400))
    # Lower-cased building, street, unit, city and postal code, for search-as-you-type.
    search_text: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[ServiceableAddress | None] = relationship(remote_side=[id])

    @property
    def is_building(self) -> bool:
        return self.parent_id is None and not self.unit

    def one_line(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        return f"{self.street}{unit}, {self.city}"
