"""Every room's models, imported once so the metadata (and Alembic) sees all tables."""

from app.accounts.models import (
    Account, AccountGroup, AccountNote, AccountStatus, AccountType, CallLog, Contact,
    account_group_members,
)
from app.addresses.models import ServiceableAddress
from app.billing.models import (
    AccountDiscount, AccountPackage, AccountService, BillingAccount, BillingSettings, BillRun,
    DelinquencyExclusion, Discount, Invoice, InvoiceLine, LedgerEntry, Package, PackageService, Payment,
    PaymentAllocation, PaymentBatch, Service, Tax, UsagePolicy, UsageRecord, UsageRollover, UsageTopUp,
    service_taxes,
)
from app.companies.models import Company
from app.core.audit import AuditEntry
from app.core.counters import Counter
from app.core.orm import Base
from app.core.outbox import OutboxEvent
from app.inventory.models import (
    Category, Item, ItemIdentifier, ItemModel, Location, Manufacturer, ModelField, Movement, Stock,
)
from app.scheduling.models import ScheduledEvent
from app.staff.models import Role, RolePermission, User

metadata = Base.metadata

__all__ = [
    "AccountDiscount", "AccountPackage", "AccountService", "BillRun", "BillingAccount", "BillingSettings",
    "DelinquencyExclusion", "Discount", "Invoice", "InvoiceLine", "LedgerEntry", "OutboxEvent", "Package",
    "PackageService", "Payment", "PaymentAllocation", "PaymentBatch", "Service", "Tax", "UsagePolicy",
    "UsageRecord", "UsageRollover", "UsageTopUp", "service_taxes",
    "Account", "AccountGroup", "AccountNote", "AccountStatus", "AccountType", "AuditEntry", "Base",
    "CallLog", "Category", "Company", "Contact", "Counter", "Item", "ItemIdentifier", "ItemModel",
    "Location", "Manufacturer", "ModelField", "Movement", "Stock", "Role", "RolePermission", "ScheduledEvent",
    "ServiceableAddress", "User", "account_group_members", "metadata",
]
