"""Configuring the lists accounts choose from: statuses, types and groups (tags).

Statuses have a name, a colour, an order and whether they *activate* (billed, counted as
active); types have a name, a colour and an order; groups a name and a colour. Names are unique
whatever their case. A status or type in use cannot be deleted (the message says how many
accounts use it); a group in use is deleted only when the caller confirms, and leaves its
accounts. Changing these lists needs SETTINGS_MANAGE; tagging an account needs ACCOUNTS_EDIT.

One set of functions serves the three lists, chosen by ``LookupKind``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum

from app.accounts.lookups_repository import Lookup, LookupsRepository
from app.accounts.models import AccountGroup, AccountStatus, AccountType
from app.core import audit
from app.core.errors import NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

NAME_MAX = 60
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class LookupKind(StrEnum):
    STATUS = "status"
    TYPE = "type"
    GROUP = "group"

    @property
    def model(self) -> type[Lookup]:
        return {LookupKind.STATUS: AccountStatus, LookupKind.TYPE: AccountType, LookupKind.GROUP: AccountGroup}[self]

    @property
    def entity(self) -> str:
        """The audit trail's entity name."""
        return f"account_{self.value}"

    @property
    def noun(self) -> str:
        return {LookupKind.STATUS: "status", LookupKind.TYPE: "account type", LookupKind.GROUP: "group"}[self]

    @property
    def a_noun(self) -> str:
        """The noun with its article: "a status", "an account type"."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"

    @property
    def plural(self) -> str:
        return {LookupKind.STATUS: "statuses", LookupKind.TYPE: "account types", LookupKind.GROUP: "groups"}[self]

    @property
    def ordered(self) -> bool:
        """Statuses and types keep an order of their own; groups list by name."""
        return self is not LookupKind.GROUP

    @property
    def default_colour(self) -> str:
        return "#607d8b" if self is LookupKind.GROUP else "#808080"


class ConfirmationNeeded(ValidationError):
    """The change is allowed, but touches accounts: ask, then call again with ``confirmed=True``."""

    def __init__(self, message: str, accounts: int) -> None:
        super().__init__(message, "confirm")
        self.accounts = accounts


@dataclass(frozen=True)
class LookupRow:
    id: int
    name: str
    colour: str
    activates: bool = False  # statuses only
    sort_order: int = 0  # statuses and types
    accounts: int = 0  # how many accounts use it


@dataclass(frozen=True)
class GroupChoice:
    id: int
    name: str
    colour: str


# -- reading -----------------------------------------------------------------------------------

def list_lookups(uow: UnitOfWork, actor: Actor, kind: LookupKind) -> list[LookupRow]:
    """The list in its order, each row with how many accounts use it."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        repo = uow.lookups
        usage = repo.usage(kind.model)
        return [_row(r, usage.get(r.id, 0)) for r in repo.all(kind.model)]


def account_groups(uow: UnitOfWork, actor: Actor, account_id: int) -> list[GroupChoice]:
    """The groups an account is in, by name."""
    actor.require(Permission.ACCOUNTS_VIEW)
    with uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound("That account no longer exists.")
        return [GroupChoice(g.id, g.name, g.colour) for g in uow.lookups.groups_of(account_id)]


# -- changing the lists ------------------------------------------------------------------------

def add_lookup(uow: UnitOfWork, actor: Actor, kind: LookupKind, name: str, colour: str | None = None,
               activates: bool = False) -> LookupRow:
    """A new status, type or group; statuses and types go to the end of the list."""
    actor.require(Permission.SETTINGS_MANAGE)
    name = _clean_name(kind, name)
    colour = _clean_colour(colour) if colour else kind.default_colour
    if activates and kind is not LookupKind.STATUS:
        raise ValidationError("Only a status activates an account.", "activates")
    with uow:
        repo = uow.lookups
        _check_unique(repo, kind, name, None)
        values: dict = {"name": name, "colour": colour}
        if kind is LookupKind.STATUS:
            values["activates"] = bool(activates)
        if kind.ordered:
            values["sort_order"] = repo.next_sort_order(kind.model)
        row = kind.model(**values)
        repo.add(row)
        uow.flush()
        audit.record(uow.session, actor, kind.entity, row.id, "create", None, values)
        uow.commit()
        return _row(row, 0)


def rename_lookup(uow: UnitOfWork, actor: Actor, kind: LookupKind, item_id: int, name: str) -> LookupRow:
    actor.require(Permission.SETTINGS_MANAGE)
    name = _clean_name(kind, name)
    with uow:
        repo, row = _get(uow, kind, item_id)
        if row.name != name:
            _check_unique(repo, kind, name, row.id)
            audit.record(uow.session, actor, kind.entity, row.id, "rename", {"name": row.name}, {"name": name})
            row.name = name
            uow.commit()
        return _row(row, repo.usage(kind.model).get(row.id, 0))


def set_colour(uow: UnitOfWork, actor: Actor, kind: LookupKind, item_id: int, colour: str) -> LookupRow:
    actor.require(Permission.SETTINGS_MANAGE)
    colour = _clean_colour(colour)
    with uow:
        repo, row = _get(uow, kind, item_id)
        if row.colour.lower() != colour:
            audit.record(uow.session, actor, kind.entity, row.id, "colour", {"colour": row.colour}, {"colour": colour})
            row.colour = colour
            uow.commit()
        return _row(row, repo.usage(kind.model).get(row.id, 0))


def set_activates(uow: UnitOfWork, actor: Actor, status_id: int, activates: bool) -> LookupRow:
    """Whether accounts with this status are billed and counted as active."""
    actor.require(Permission.SETTINGS_MANAGE)
    kind = LookupKind.STATUS
    with uow:
        repo, row = _get(uow, kind, status_id)
        if row.activates != bool(activates):
            audit.record(uow.session, actor, kind.entity, row.id, "activates",
                         {"activates": row.activates}, {"activates": bool(activates)})
            row.activates = bool(activates)
            uow.commit()
        return _row(row, repo.usage(kind.model).get(row.id, 0))


def reorder_lookups(uow: UnitOfWork, actor: Actor, kind: LookupKind, ordered_ids: list[int]) -> list[LookupRow]:
    """Put the whole list in this order. ``ordered_ids`` must name every row exactly once."""
    actor.require(Permission.SETTINGS_MANAGE)
    _require_ordered(kind)
    with uow:
        repo = uow.lookups
        rows = repo.all(kind.model)
        if sorted(ordered_ids) != sorted(r.id for r in rows):
            raise ValidationError(f"The list of {kind.plural} changed meanwhile — reload it and try again.")
        _apply_order(uow, actor, kind, rows, ordered_ids)
        uow.commit()
        usage = repo.usage(kind.model)
        return [_row(r, usage.get(r.id, 0)) for r in repo.all(kind.model)]


def move_lookup(uow: UnitOfWork, actor: Actor, kind: LookupKind, item_id: int, step: int) -> list[LookupRow]:
    """Move one row up (``step`` < 0) or down (> 0) the list; at an end it stays put."""
    actor.require(Permission.SETTINGS_MANAGE)
    _require_ordered(kind)
    with uow:
        repo, _ = _get(uow, kind, item_id)
        rows = repo.all(kind.model)
        ids = [r.id for r in rows]
        at = ids.index(item_id)
        to = max(0, min(len(ids) - 1, at + step))
        ids.insert(to, ids.pop(at))
        _apply_order(uow, actor, kind, rows, ids)
        uow.commit()
        usage = repo.usage(kind.model)
        return [_row(r, usage.get(r.id, 0)) for r in repo.all(kind.model)]


def delete_lookup(uow: UnitOfWork, actor: Actor, kind: LookupKind, item_id: int, confirmed: bool = False) -> None:
    """Delete a status or type nobody uses, or a group (in use: only ``confirmed``; its accounts
    simply leave the group)."""
    actor.require(Permission.SETTINGS_MANAGE)
    with uow:
        repo, row = _get(uow, kind, item_id)
        used = repo.usage(kind.model).get(row.id, 0)
        accounts = f"{used:,} account{'s' if used != 1 else ''}"
        if kind is LookupKind.GROUP:
            if used and not confirmed:
                raise ConfirmationNeeded(
                    f"{accounts} {'are' if used != 1 else 'is'} in the group “{row.name}”; "
                    "deleting it takes them out of it.", used)
            repo.remove_group_members(row.id)
        else:
            if used:
                field = "status" if kind is LookupKind.STATUS else "type"
                raise ValidationError(
                    f"{accounts} {'use' if used != 1 else 'uses'} the {kind.noun} “{row.name}”; "
                    f"give {'them' if used != 1 else 'it'} another {kind.noun} before deleting it.", field)
            if len(repo.all(kind.model)) == 1:
                raise ValidationError(f"Keep at least one {kind.noun}: new accounts need one.", kind.value)
            if kind is LookupKind.STATUS:
                pending = repo.pending_events_naming_status(row.id)
                if pending:
                    raise ValidationError(
                        f"{pending:,} scheduled event{'s' if pending != 1 else ''} will still change accounts "
                        f"to “{row.name}”; cancel or change {'them' if pending != 1 else 'it'} first.", "status")
        audit.record(uow.session, actor, kind.entity, row.id, "delete", asdict(_row(row, used)), None)
        repo.delete(row)
        uow.commit()


# -- an account's groups -----------------------------------------------------------------------

def set_account_groups(uow: UnitOfWork, actor: Actor, account_id: int, group_ids: list[int]) -> list[GroupChoice]:
    """Put the account in exactly these groups. Tagging does not change the account's version."""
    actor.require(Permission.ACCOUNTS_EDIT)
    wanted = set(group_ids)
    with uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound("That account no longer exists.")
        repo = uow.lookups
        groups = {g.id: g for g in repo.all(AccountGroup)}
        if wanted - groups.keys():
            raise ValidationError("A chosen group no longer exists — reload and choose again.", "groups")
        before = [g.name for g in repo.groups_of(account_id)]
        repo.set_groups(account_id, wanted)
        after = sorted((groups[g].name for g in wanted), key=lambda n: (n.lower(), n))
        if sorted(before, key=lambda n: (n.lower(), n)) != after:
            audit.record(uow.session, actor, "account", account_id, "groups", {"groups": before}, {"groups": after})
        uow.commit()
        return [GroupChoice(g.id, g.name, g.colour) for g in repo.groups_of(account_id)]


# -- helpers -----------------------------------------------------------------------------------

def _row(r: Lookup, accounts: int) -> LookupRow:
    return LookupRow(r.id, r.name, r.colour, bool(getattr(r, "activates", False)), getattr(r, "sort_order", 0) or 0,
                     accounts)


def _get(uow: UnitOfWork, kind: LookupKind, item_id: int) -> tuple[LookupsRepository, Lookup]:
    repo = uow.lookups
    row = repo.get(kind.model, item_id)
    if row is None:
        raise NotFound(f"That {kind.noun} no longer exists — reload the list.")
    return repo, row


def _clean_name(kind: LookupKind, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(f"Give the {kind.noun} a name.", "name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"{kind.a_noun.capitalize()} name has at most {NAME_MAX} characters.", "name")
    return name


def _clean_colour(colour: str) -> str:
    colour = (colour or "").strip()
    if not COLOUR_RE.match(colour):
        raise ValidationError(f"“{colour}” is not a colour: write it as #RRGGBB, like #2e7d32.", "colour")
    return colour.lower()


def _check_unique(repo: LookupsRepository, kind: LookupKind, name: str, own_id: int | None) -> None:
    taken = repo.by_name(kind.model, name)
    if taken is not None and taken.id != own_id:
        raise ValidationError(f"There is already {kind.a_noun} called “{taken.name}”.", "name")


def _require_ordered(kind: LookupKind) -> None:
    if not kind.ordered:
        raise ValidationError(f"{kind.plural.capitalize()} are listed by name; they have no order to change.")


def _apply_order(uow: UnitOfWork, actor: Actor, kind: LookupKind, rows: list[Lookup], ordered_ids: list[int]) -> None:
    by_id = {r.id: r for r in rows}
    before = [r.name for r in rows]
    for position, item_id in enumerate(ordered_ids):
        if by_id[item_id].sort_order != position:
            by_id[item_id].sort_order = position
    after = [by_id[i].name for i in ordered_ids]
    if before != after:
        audit.record(uow.session, actor, kind.entity, "order", "reorder", {"order": before}, {"order": after})
