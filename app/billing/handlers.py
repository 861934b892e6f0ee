"""Billing's scheduled-event kinds: add or remove a service or a package, or set a line's price,
on a date. Registered in ``app.scheduling.registry`` when this module is imported (the
scheduling service imports it next to the account kinds).

Payloads (checked when the event is scheduled — which needs ``billing.edit`` — and again,
implicitly, when it runs):

- ``add_service``:    {"service_id", "quantity" (1), "price_override" (minor units or null),
                       "override_reason"} — the line starts on the due date.
- ``remove_service``: {"account_service_id"} — the service stops on the due date: its last day
                       is the day before.
- ``add_package``:    {"package_id", "quantity" (1)} — starts on the due date.
- ``remove_package``: {"account_package_id"} — stops on the due date (last day the day before).
- ``set_price``:      {"account_service_id", "price" (minor units, or null for the list price),
                       "reason"} — from the next period billed.

A handler changes billing rows only; the scheduling service bumps the account's version and
writes its audit entry ("run event").
"""

from __future__ import annotations

from datetime import timedelta

from app.billing import subscriptions as subs
from app.billing.catalogue import currency_of
from app.billing.models import AccountPackage, AccountService
from app.core import money
from app.core.errors import ValidationError
from app.core.permissions import Permission
from app.scheduling import registry
from app.scheduling.registry import Change, EventKind

ADD_SERVICE = "add_service"
REMOVE_SERVICE = "remove_service"
ADD_PACKAGE = "add_package"
REMOVE_PACKAGE = "remove_package"
SET_PRICE = "set_price"
KINDS = (ADD_SERVICE, REMOVE_SERVICE, ADD_PACKAGE, REMOVE_PACKAGE, SET_PRICE)


def _only(payload: dict, allowed: tuple[str, ...]) -> None:
    for key in payload:
        if key not in allowed:
            raise ValidationError(f"'{key}' is not something this event can change.", key)


def _int(payload: dict, key: str, missing: str) -> int:
    value = payload.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(missing, key)
    return value


def _quantity(payload: dict) -> int:
    return subs.check_quantity(payload.get("quantity", 1))


def _money(change: Change, minor: int | None) -> str:
    return money.format_minor(minor or 0, currency_of(change.uow, change.account.company_id))


def _line(change: Change) -> AccountService:
    line_id = _int(change.payload, "account_service_id", "Choose the service.")
    line = change.uow.billing_catalogue.account_service(line_id)
    if line is None or line.account_id != change.account.id:
        raise ValidationError("That service is no longer on this account.", "account_service_id")
    return line


def _account_package(change: Change) -> AccountPackage:
    row_id = _int(change.payload, "account_package_id", "Choose the package.")
    row = change.uow.billing_catalogue.account_package(row_id)
    if row is None or row.account_id != change.account.id:
        raise ValidationError("That package is no longer on this account.", "account_package_id")
    return row


def _service_name(change: Change, service_id: int) -> str:
    service = change.uow.billing_catalogue.service(service_id)
    return service.name if service else "(removed service)"


def _package_name(change: Change, package_id: int) -> str:
    package = change.uow.billing_catalogue.package(package_id)
    return package.name if package else "(removed package)"


def _quantity_text(quantity: int) -> str:
    return f" × {quantity}" if quantity != 1 else ""


# -- add a service -------------------------------------------------------------------------------

def _check_add_service(change: Change) -> dict:
    change.actor.require(Permission.BILLING_EDIT)
    payload = change.payload
    _only(payload, ("service_id", "quantity", "price_override", "override_reason"))
    service_id = _int(payload, "service_id", "Choose the service to add.")
    subs._sellable_service(change.uow, change.account, service_id)
    quantity = _quantity(payload)
    override, reason = subs._override(change.uow, change.account, payload.get("price_override"),
                                      payload.get("override_reason") or "")
    return {"service_id": service_id, "quantity": quantity, "price_override": override, "override_reason": reason}


def _describe_add_service(change: Change) -> str:
    p = change.payload
    text = f"Add {_service_name(change, p['service_id'])}{_quantity_text(p.get('quantity', 1))}"
    if p.get("price_override") is not None:
        text += f" at {_money(change, p['price_override'])} ({p.get('override_reason', '')})"
    return text


def _apply_add_service(change: Change) -> str:
    p = change.payload
    line = subs._add_service(change.uow, change.account, p.get("service_id"), p.get("quantity", 1), change.due_on,
                             p.get("price_override"), p.get("override_reason") or "")
    return f"Added {_service_name(change, line.service_id)}{_quantity_text(line.quantity)} from " \
           f"{change.due_on.isoformat()}"


# -- remove a service ----------------------------------------------------------------------------

def _check_remove_service(change: Change) -> dict:
    change.actor.require(Permission.BILLING_EDIT)
    _only(change.payload, ("account_service_id",))
    line = _line(change)
    if line.account_package_id is not None:
        raise ValidationError("This service is part of a package: remove the package instead.", "account_service_id")
    if line.ends_on is not None:
        raise ValidationError(f"This service already ends on {line.ends_on.isoformat()}.", "account_service_id")
    return {"account_service_id": line.id}


def _describe_remove_service(change: Change) -> str:
    line = _line(change)
    return f"Remove {_service_name(change, line.service_id)}{_quantity_text(line.quantity)}"


def _apply_remove_service(change: Change) -> str:
    line = _line(change)
    if line.account_package_id is not None:
        raise ValidationError("This service is part of a package: remove the package instead.", "account_service_id")
    last_day = change.due_on - timedelta(days=1)
    subs._end_service(change.uow, line, last_day)
    return f"Removed {_service_name(change, line.service_id)} (last day {last_day.isoformat()})"


# -- add a package -------------------------------------------------------------------------------

def _check_add_package(change: Change) -> dict:
    change.actor.require(Permission.BILLING_EDIT)
    payload = change.payload
    _only(payload, ("package_id", "quantity"))
    package_id = _int(payload, "package_id", "Choose the package to add.")
    package = change.uow.billing_catalogue.package(package_id)
    if package is None:
        raise ValidationError("That package no longer exists.", "package_id")
    if not package.enabled:
        raise ValidationError(f"{package.name} is disabled: it is no longer sold.", "package_id")
    if package.company_id != change.account.company_id:
        raise ValidationError(f"{package.name} is sold by another company than this account's.", "package_id")
    return {"package_id": package_id, "quantity": _quantity(payload)}


def _describe_add_package(change: Change) -> str:
    p = change.payload
    return f"Add package {_package_name(change, p['package_id'])}{_quantity_text(p.get('quantity', 1))}"


def _apply_add_package(change: Change) -> str:
    p = change.payload
    row = subs._add_package(change.uow, change.account, p.get("package_id"), p.get("quantity", 1), change.due_on)
    return f"Added package {_package_name(change, row.package_id)}{_quantity_text(row.quantity)} from " \
           f"{change.due_on.isoformat()}"


# -- remove a package ----------------------------------------------------------------------------

def _check_remove_package(change: Change) -> dict:
    change.actor.require(Permission.BILLING_EDIT)
    _only(change.payload, ("account_package_id",))
    row = _account_package(change)
    if row.ends_on is not None:
        raise ValidationError(f"This package already ends on {row.ends_on.isoformat()}.", "account_package_id")
    return {"account_package_id": row.id}


def _describe_remove_package(change: Change) -> str:
    return f"Remove package {_package_name(change, _account_package(change).package_id)}"


def _apply_remove_package(change: Change) -> str:
    row = _account_package(change)
    last_day = change.due_on - timedelta(days=1)
    subs._end_package(change.uow, row, last_day)
    return f"Removed package {_package_name(change, row.package_id)} (last day {last_day.isoformat()})"


# -- set a line's price --------------------------------------------------------------------------

def _check_set_price(change: Change) -> dict:
    change.actor.require(Permission.BILLING_EDIT)
    _only(change.payload, ("account_service_id", "price", "reason"))
    line = _line(change)
    price, reason = subs._override(change.uow, change.account, change.payload.get("price"),
                                   change.payload.get("reason") or "")
    return {"account_service_id": line.id, "price": price, "reason": reason}


def _describe_set_price(change: Change) -> str:
    name = _service_name(change, _line(change).service_id)
    price = change.payload.get("price")
    if price is None:
        return f"Price of {name} → list price"
    return f"Price of {name} → {_money(change, price)} ({change.payload.get('reason', '')})"


def _apply_set_price(change: Change) -> str:
    line = _line(change)
    before = line.price_override
    subs._set_price(change.uow, change.account, line, change.payload.get("price"),
                    change.payload.get("reason") or "")
    name = _service_name(change, line.service_id)
    old = "list price" if before is None else _money(change, before)
    new = "list price" if line.price_override is None else _money(change, line.price_override)
    return f"Price of {name}: {old} → {new}"


ADD_SERVICE_KIND = registry.register(EventKind(
    ADD_SERVICE, "Add a service", _check_add_service, _describe_add_service, _apply_add_service))
REMOVE_SERVICE_KIND = registry.register(EventKind(
    REMOVE_SERVICE, "Remove a service", _check_remove_service, _describe_remove_service, _apply_remove_service))
ADD_PACKAGE_KIND = registry.register(EventKind(
    ADD_PACKAGE, "Add a package", _check_add_package, _describe_add_package, _apply_add_package))
REMOVE_PACKAGE_KIND = registry.register(EventKind(
    REMOVE_PACKAGE, "Remove a package", _check_remove_package, _describe_remove_package, _apply_remove_package))
SET_PRICE_KIND = registry.register(EventKind(
    SET_PRICE, "Set a price", _check_set_price, _describe_set_price, _apply_set_price))
