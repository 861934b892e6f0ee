"""Inventory: manufacturers → models → items, locations, stock of consumables, and movements.

- A **model** (``ItemModel``) says how its items are tracked: ``serialized`` (one ``Item`` row
  per device) or ``quantity`` (a ``Stock`` row per location: metres of cable, blank keys). Its
  ``ModelField`` rows say which identifiers the items carry (MAC, serial, IMSI, IMEI or custom),
  which are required, and their format.
- An **item**'s identifiers live in ``ItemIdentifier`` rows: the value as shown, and ``lookup``,
  the canonical form a scan is matched against (a MAC as 12 upper-case hex digits, whatever
  separators it was typed with). One index on ``lookup`` serves every scan.
- An item is held by exactly one of: a location (in stock, faulty), an account (installed at the
  unit) or a staff member (assigned); or by nobody (returned to the vendor, retired).
- Every change of holder or state writes a ``Movement`` (who, when, from, to). Labels are copied
  into the movement so the history reads the same after a location is renamed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.orm import Base, Versioned

SERIALIZED, QUANTITY = "serialized", "quantity"

# Item states.
IN_STOCK, ASSIGNED, INSTALLED, FAULTY, RMA, RETIRED = (
    "in_stock", "assigned", "installed", "faulty", "rma", "retired",
)
STATES = (IN_STOCK, ASSIGNED, INSTALLED, FAULTY, RMA, RETIRED)
STATE_LABELS = {
    IN_STOCK: "In stock", ASSIGNED: "Assigned", INSTALLED: "Installed", FAULTY: "Faulty",
    RMA: "Returned to vendor", RETIRED: "Retired",
}

# Who holds something (movements' from/to kinds).
HOLDER_LOCATION, HOLDER_ACCOUNT, HOLDER_STAFF, HOLDER_VENDOR, HOLDER_NONE = (
    "location", "account", "staff", "vendor", "none",
)


class Manufacturer(Base):
    __tablename__ = "inventory_manufacturers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Category(Base):
    __tablename__ = "inventory_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class ItemModel(Versioned, Base):
    __tablename__ = "inventory_models"
    __table_args__ = (
        UniqueConstraint("manufacturer_id", "name"),
        CheckConstraint("tracking IN ('serialized', 'quantity')", name="tracking"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("inventory_manufacturers.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("inventory_categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    tracking: Mapped[str] = mapped_column(String(12), default=SERIALIZED)
    unit: Mapped[str] = mapped_column(String(12), default="each")  # "m" for cable, "each"…
    # Warn when fewer than this many are in stock (items in stock, or the summed quantity).
    min_stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class ModelField(Base):
    """One identifier a model's items carry. ``kind`` decides the format check and the
    canonical form: mac, serial, imsi, imei or custom (checked against ``pattern`` if given)."""

    __tablename__ = "inventory_model_fields"
    __table_args__ = (UniqueConstraint("model_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("inventory_models.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    pattern: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Location(Versioned, Base):
    """A place things are kept: warehouse → shelf → bin, a van, a building's network closet.

    ``code`` is what its label's barcode carries (unique; ``L-000001`` unless given)."""

    __tablename__ = "inventory_locations"
    __table_args__ = (Index("ix_inventory_locations_parent_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_locations.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), default="shelf")
    code: Mapped[str] = mapped_column(String(40), unique=True)
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("serviceable_addresses.id", ondelete="SET NULL"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class Item(Versioned, Base):
    """One serialized device. ``tag`` is Riser's own asset number (``I-000001``), printed on
    labels and matched by a scan like any identifier."""

    __tablename__ = "inventory_items"
    __table_args__ = (
        Index("ix_inventory_items_model_state", "model_id", "state"),
        Index("ix_inventory_items_location_id", "location_id"),
        Index("ix_inventory_items_account_id", "account_id"),
        Index("ix_inventory_items_staff_id", "staff_id"),
        CheckConstraint(
            "state IN ('in_stock', 'assigned', 'installed', 'faulty', 'rma', 'retired')", name="state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("inventory_models.id"))
    tag: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=IN_STOCK)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_locations.id"), nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class ItemIdentifier(Base):
    __tablename__ = "inventory_identifiers"
    __table_args__ = (
        UniqueConstraint("item_id", "key"),
        # A serial (or any identifier) is unique within its model.
        UniqueConstraint("model_id", "key", "lookup"),
        # Pattern ops on Postgres: the same index serves exact scans and the list's prefix search.
        Index("ix_inventory_identifiers_lookup", "lookup", postgresql_ops={"lookup": "varchar_pattern_ops"}),
        # A MAC is unique in the world, whatever the model: two desktops receiving the same MAC
        # at once cannot both succeed.
        Index("uq_inventory_identifiers_mac", "lookup", unique=True,
              sqlite_where=text("kind = 'mac'"), postgresql_where=text("kind = 'mac'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("inventory_models.id"))
    key: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[str] = mapped_column(String(120))  # as shown: 24:5A:4C:11:22:33
    lookup: Mapped[str] = mapped_column(String(120))  # as matched: 245A4C112233


class Stock(Base):
    """How much of a quantity-tracked model sits at a location. Never below zero."""

    __tablename__ = "inventory_stock"
    __table_args__ = (
        UniqueConstraint("model_id", "location_id"),
        Index("ix_inventory_stock_location_id", "location_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("inventory_models.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("inventory_locations.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)


class Movement(Base):
    """One change of holder or state: an item (``item_id``) or a quantity of a model."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        Index("ix_inventory_movements_item_id", "item_id", "id"),
        Index("ix_inventory_movements_to", "to_kind", "to_id"),
        Index("ix_inventory_movements_from", "from_kind", "from_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    username: Mapped[str] = mapped_column(String(60))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_items.id"), nullable=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("inventory_models.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    from_kind: Mapped[str] = mapped_column(String(12), default=HOLDER_NONE)
    from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    from_label: Mapped[str] = mapped_column(String(200), default="")
    to_kind: Mapped[str] = mapped_column(String(12), default=HOLDER_NONE)
    to_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_label: Mapped[str] = mapped_column(String(200), default="")
    state_from: Mapped[str] = mapped_column(String(12), default="")
    state_to: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
