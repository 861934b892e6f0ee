from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.addresses.models import ServiceableAddress
from app.companies.models import Company
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

    account: Mapped[Account] = relationship(back_populates="contacts")

