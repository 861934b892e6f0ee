"""Queries over the configurable lists of accounts: statuses, types and groups (tags), with how
many accounts use each. No business rules here."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.accounts.models import (
    Account,
    AccountGroup,
    AccountStatus,
    AccountType,
    account_group_members,
)
from app.scheduling.models import ScheduledEvent

Lookup = AccountStatus | AccountType | AccountGroup
members = account_group_members.c


class LookupsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Lookup) -> None:
        self.session.add(row)

    def delete(self, row: Lookup) -> None:
        self.session.delete(row)

    def get(self, model: type[Lookup], item_id: int) -> Lookup | None:
        return self.session.get(model, item_id)

    def all(self, model: type[Lookup]) -> list[Lookup]:
        """In the order lists show them: by sort order then name (groups: by name)."""
        order = [model.sort_order, model.name, model.id] if hasattr(model, "sort_order") else [model.name, model.id]
        return list(self.session.scalars(select(model).order_by(*order)))

    def by_name(self, model: type[Lookup], name: str) -> Lookup | None:
        """The row with this name, whatever its case."""
        return self.session.scalars(
            select(model).where(func.lower(model.name) == name.lower()).order_by(model.id).limit(1)
        ).first()

    def next_sort_order(self, model: type[AccountStatus | AccountType]) -> int:
        return (self.session.scalar(select(func.max(model.sort_order))) or 0) + 1

    def usage(self, model: type[Lookup]) -> dict[int, int]:
        """How many accounts use each row (ids with none are missing)."""
        if model is AccountGroup:
            stmt = select(members.group_id, func.count()).group_by(members.group_id)
        else:
            column = Account.status_id if model is AccountStatus else Account.account_type_id
            stmt = select(column, func.count(Account.id)).group_by(column)
        return {item_id: count for item_id, count in self.session.execute(stmt)}

    def pending_events_naming_status(self, status_id: int) -> int:
        """Pending scheduled events whose payload names this status (a status change to come).

        The payload is JSON written by the scheduling service; any key ending in ``status_id``
        counts, so this stays right whatever the event kind calls it."""
        payloads = self.session.scalars(
            select(ScheduledEvent.payload).where(ScheduledEvent.state == "pending"))
        return sum(
            1 for payload in payloads
            if isinstance(payload, dict)
            and any(k.endswith("status_id") and v == status_id for k, v in payload.items())
        )

    # -- an account's groups -------------------------------------------------------------------
    def groups_of(self, account_id: int) -> list[AccountGroup]:
        return list(self.session.scalars(
            select(AccountGroup).join(account_group_members, members.group_id == AccountGroup.id)
            .where(members.account_id == account_id).order_by(AccountGroup.name, AccountGroup.id)))

    def set_groups(self, account_id: int, group_ids: set[int]) -> None:
        """Membership rows written directly, so the account row (and its version) is untouched:
        tagging an account does not make an open account form stale."""
        have = set(self.session.scalars(select(members.group_id).where(members.account_id == account_id)))
        gone, new = have - group_ids, group_ids - have
        if gone:
            self.session.execute(delete(account_group_members).where(
                members.account_id == account_id, members.group_id.in_(gone)))
        if new:
            self.session.execute(insert(account_group_members),
                                 [{"account_id": account_id, "group_id": g} for g in sorted(new)])
        if gone or new:
            # The ORM may hold the account with its ``groups`` loaded: let it read them again.
            account = self.session.get(Account, account_id)
            if account is not None:
                self.session.expire(account, ["groups"])

    def remove_group_members(self, group_id: int) -> None:
        self.session.execute(delete(account_group_members).where(members.group_id == group_id))
