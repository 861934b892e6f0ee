"""Reference data every database needs: built-in roles, default statuses and types, a company.

Run after every schema upgrade (``app.core.schema.upgrade``); idempotent. Built-in roles are
brought in line with the permissions this version defines; anything an operator configured
(extra statuses, renamed company) is left alone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AccountStatus, AccountType
from app.companies.models import Company
from app.core.counters import Counter
from app.core.permissions import BUILTIN_ROLES
from app.staff.models import Role, RolePermission

DEFAULT_STATUSES = [
    # name, colour, activates
    ("Lead", "#7e57c2", False),
    ("Active", "#2e7d32", True),
    ("Delinquent", "#ef6c00", True),
    ("Suspended", "#c62828", False),
    ("Inactive", "#757575", False),
]
DEFAULT_TYPES = [
    ("Residential", "#1565c0"),
    ("Student", "#00838f"),
    ("Commercial", "#6d4c41"),
    ("Building owner", "#455a64"),
]
ACCOUNT_NUMBER_COUNTER = "account_number"
FIRST_ACCOUNT_NUMBER = 100001


def ensure_reference_data(session: Session) -> None:
    roles = {r.name: r for r in session.scalars(select(Role))}
    for name, (description, permissions) in BUILTIN_ROLES.items():
        role = roles.get(name)
        if role is None:
            role = Role(name=name, description=description, builtin=True)
            session.add(role)
        role.description = description
        have = {rp.permission for rp in role.permissions}
        want = {p.value for p in permissions}
        for rp in list(role.permissions):
            if rp.permission not in want:
                role.permissions.remove(rp)
        for perm in sorted(want - have):
            role.permissions.append(RolePermission(permission=perm))

    if session.scalar(select(AccountStatus.id).limit(1)) is None:
        for order, (name, colour, activates) in enumerate(DEFAULT_STATUSES):
            session.add(AccountStatus(name=name, colour=colour, activates=activates, sort_order=order))
    if session.scalar(select(AccountType.id).limit(1)) is None:
        for order, (name, colour) in enumerate(DEFAULT_TYPES):
            session.add(AccountType(name=name, colour=colour, sort_order=order))
    if session.scalar(select(Company.id).limit(1)) is None:
        session.add(Company(name="My Company"))
    if session.get(Counter, ACCOUNT_NUMBER_COUNTER) is None:
        session.add(Counter(name=ACCOUNT_NUMBER_COUNTER, value=FIRST_ACCOUNT_NUMBER - 1))
    session.flush()
