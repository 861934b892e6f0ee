"""Permissions and the built-in roles. Services check these; the UI only mirrors them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.core.errors import PermissionDenied


class Permission(StrEnum):
    ACCOUNTS_VIEW = "accounts.view"
    ACCOUNTS_EDIT = "accounts.edit"
    ADDRESSES_VIEW = "addresses.view"
    ADDRESSES_EDIT = "addresses.edit"
    BILLING_VIEW = "billing.view"
    BILLING_EDIT = "billing.edit"
    BILLING_RUN = "billing.run"
    INVENTORY_VIEW = "inventory.view"
    INVENTORY_EDIT = "inventory.edit"
    TICKETS_VIEW = "tickets.view"
    TICKETS_EDIT = "tickets.edit"
    NETWORK_VIEW = "network.view"
    NETWORK_EDIT = "network.edit"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    COMPANY_EDIT = "company.edit"
    USERS_MANAGE = "users.manage"
    SETTINGS_MANAGE = "settings.manage"

    @property
    def label(self) -> str:
        area, verb = self.value.split(".")
        return f"{verb} {area}"


P = Permission
_VIEW_ALL = {p for p in Permission if p.value.endswith(".view")}

BUILTIN_ROLES: dict[str, tuple[str, frozenset[Permission]]] = {
    "Administrator": ("Everything, including staff users and settings.", frozenset(Permission)),
    "Billing": (
        "Accounts and the whole of billing.",
        frozenset(_VIEW_ALL | {P.ACCOUNTS_EDIT, P.BILLING_EDIT, P.BILLING_RUN}),
    ),
    "Support": (
        "Accounts, addresses and tickets; sees billing and the network.",
        frozenset(_VIEW_ALL | {P.ACCOUNTS_EDIT, P.ADDRESSES_EDIT, P.TICKETS_EDIT}),
    ),
    "Technician": (
        "Inventory, network and tickets; sees accounts and addresses.",
        frozenset(
            {P.ACCOUNTS_VIEW, P.ADDRESSES_VIEW, P.INVENTORY_VIEW, P.INVENTORY_EDIT,
             P.NETWORK_VIEW, P.NETWORK_EDIT, P.TICKETS_VIEW, P.TICKETS_EDIT}
        ),
    ),
    "Read-only": ("Sees everything, changes nothing.", frozenset(_VIEW_ALL)),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in staff user, or the command line (``Actor.system``)."""

    user_id: int | None
    username: str
    role: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(
                f"{self.username} ({self.role}) may not {permission.label}."
            )

    @classmethod
    def system(cls, name: str = "command line") -> Actor:
        return cls(user_id=None, username=name, role="System", permissions=frozenset(Permission))
