"""Every room's models, imported once so the metadata (and Alembic) sees all tables."""

from app.accounts.models import Account, AccountStatus, AccountType, Contact
from app.addresses.models import ServiceableAddress
from app.companies.models import Company
from app.core.audit import AuditEntry
from app.core.counters import Counter
from app.core.orm import Base
from app.staff.models import Role, RolePermission, User

metadata = Base.metadata

__all__ = [
    "Account", "AccountStatus", "AccountType", "AuditEntry", "Base", "Company", "Contact",
    "Counter", "Role", "RolePermission", "ServiceableAddress", "User", "metadata",
]
