"""Every room's models, imported once so the metadata (and Alembic) sees all tables."""

from app.accounts.models import (
    Account, AccountGroup, AccountNote, AccountStatus, AccountType, CallLog, Contact,
    account_group_members,
)
from app.addresses.models import ServiceableAddress
from app.companies.models import Company
from app.core.audit import AuditEntry
from app.core.counters import Counter
from app.core.orm import Base
from app.inventory.models import (
    Category, Item, ItemIdentifier, ItemModel, Location, Manufacturer, ModelField, Movement, Stock,
)
from app.scheduling.models import ScheduledEvent
from app.staff.models import Role, RolePermission, User

metadata = Base.metadata

__all__ = [
    "Account", "AccountGroup", "AccountNote", "AccountStatus", "AccountType", "AuditEntry", "Base",
    "CallLog", "Category", "Company", "Contact", "Counter", "Item", "ItemIdentifier", "ItemModel",
    "Location", "Manufacturer", "ModelField", "Movement", "Stock", "Role", "RolePermission", "ScheduledEvent",
    "ServiceableAddress", "User", "account_group_members", "metadata",
]
