from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.addresses.models import ServiceableAddress
from app.companies.models import Company
from app.core.clock import utcnow
from app.core.orm import Base, Versioned


class AccountStatus(Base):
    """Configurable: a name, a colour, and whether the status activates (billed, counts as active)."""

    __tablename__ = "account_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    colour: Mapped[str] = mapped_column(String(9), default="#808080")
    activates: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AccountType(Base):
    __tablename__ = "account_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    colour: Mapped[str] = mapped_column(String(9), default="#808080")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AccountGroup(Base):
    """A tag (many-to-many) usable in filters: "Bulk contract 2025", "Building 7 board"…"""

    __tablename__ = "account_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    colour: Mapped[str] = mapped_column(String(9), default="#607d8b")


account_group_members = Table(
    "account_group_members",
    Base.metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("account_groups.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Account(Versioned, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_name", "name", "id"),  # the list's default order, tie-broken by id
        Index("ix_accounts_status_id", "status_id"),
        Index("ix_accounts_account_type_id", "account_type_id"),
        Index("ix_accounts_company_id", "company_id"),
        Index("ix_accounts_parent_id", "parent_id"),
        Index("ix_accounts_address_id", "address_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    account_type_id: Mapped[int] = mapped_column(ForeignKey("account_types.id"))
    status_id: Mapped[int] = mapped_column(ForeignKey("account_statuses.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("serviceable_addresses.id"), nullable=True
    )
    # A shell account has no payment details: it is paid through its parent (rent, condo fees).
    is_shell: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the account is disconnected: from then on it no longer occupies its unit, which
    # keeps it in its history as a past tenant.
    disconnected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    disconnect_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Lower-cased name, number, contact e-mails and phones (as typed and digits only) and the
    # address, kept up to date by the service; search-as-you-type scans this one column.
    search_text: Mapped[str] = mapped_column(Text, default="")

    status: Mapped[AccountStatus] = relationship(lazy="joined")
    account_type: Mapped[AccountType] = relationship(lazy="joined")
    company: Mapped[Company] = relationship(lazy="joined")
    address: Mapped[ServiceableAddress | None] = relationship(lazy="joined")
    parent: Mapped[Account | None] = relationship(remote_side=[id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="account",
        cascade="all, delete-orphan",
        order_by="(Contact.is_primary.desc(), Contact.id)",
        lazy="selectin",
    )
    groups: Mapped[list[AccountGroup]] = relationship(
        secondary=account_group_members, order_by="AccountGroup.name", lazy="selectin"
    )

    @property
    def occupies_unit(self) -> bool:
        return self.address_id is not None and self.disconnected_on is None


class Contact(Base):
    """Part of the account aggregate: saved with the account and guarded by its version."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    mobile: Mapped[str] = mapped_column(String(40), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    is_financial: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which notices this contact receives.
    notify_billing: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_outages: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_jobs: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_general: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    account: Mapped[Account] = relationship(back_populates="contacts")


class AccountNote(Base):
    """A note on an account; pinned notes show in the account header."""

    __tablename__ = "account_notes"
    __table_args__ = (Index("ix_account_notes_account_id", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class CallLog(Base):
    """A phone call with the customer: direction, who, how long, what was said."""

    __tablename__ = "call_logs"
    __table_args__ = (Index("ix_call_logs_account_id", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True)
    contact_name: Mapped[str] = mapped_column(String(200), default="")  # as it was at the time
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

