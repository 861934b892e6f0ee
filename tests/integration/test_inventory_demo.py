"""The demo's inventory: a catalogue, places, stock and equipment installed at the units."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app import demo
from app.accounts.models import Account
from app.addresses.models import ServiceableAddress
from app.core import schema
from app.core.db import open_database, sqlite_url
from app.inventory import catalogue, service
from app.inventory import identifiers as ids
from app.inventory.catalogue import LocationInput
from app.inventory.models import (
    INSTALLED,
    Item,
    ItemIdentifier,
    Location,
    ModelField,
    Movement,
)
from app.inventory.service import ItemInput
from app.uow import UnitOfWork


def test_a_small_demo_has_equipment_installed_stock_and_histories(uow, system) -> None:  # noqa: ANN001
    summary = demo.generate(uow(), system, 60, seed=7)
    assert summary.items > 60
    with uow() as u:
        s = u.session
        items = s.scalar(select(func.count(Item.id)))
        installed_at = s.scalar(select(func.count(func.distinct(Item.account_id))).where(Item.state == INSTALLED))
        with_address = s.scalar(select(func.count(Account.id)).where(Account.address_id.is_not(None)))
        without_history = s.scalar(select(func.count(Item.id)).where(
            ~select(Movement.id).where(Movement.item_id == Item.id).exists()))
        # Every installed item was received first, then installed at the account that has it.
        installed = s.execute(select(Item.id, Item.account_id).where(Item.state == INSTALLED)).all()
        moves: dict[int, list[tuple[str, str, int | None]]] = {}
        for item_id, from_kind, to_kind, to_id in s.execute(
                select(Movement.item_id, Movement.from_kind, Movement.to_kind, Movement.to_id)
                .where(Movement.item_id.is_not(None)).order_by(Movement.id)):
            moves.setdefault(item_id, []).append((from_kind, to_kind, to_id))
        buildings = s.scalar(select(func.count(ServiceableAddress.id)).where(ServiceableAddress.parent_id.is_(None)))
        closets = s.scalars(select(Location.address_id).where(Location.kind == "closet")).all()
    assert items == summary.items and without_history == 0
    assert installed_at >= with_address // 2  # most occupied units have equipment
    for item_id, account_id in installed:
        history = moves[item_id]
        assert history[0][:2] == ("none", "location")
        assert history[-1] == ("location", "account", account_id)
    assert len(closets) == buildings and None not in closets

    models = catalogue.list_models(uow(), system)
    assert {m.category for m in models} >= {"Router", "ONT", "Switch", "Access point", "Key", "Cable", "Connector"}
    assert any(m.below_minimum for m in models)
    stock = service.stock_levels(uow(), system)
    assert any(r.below_minimum for r in stock) and {r.unit for r in stock} == {"m", "each"}
    states = {r.state for r in service.first_items_page(uow(), system, service.ItemQuery(sort="state"), 10_000)[1]}
    assert states == {"in_stock", "installed", "faulty", "rma", "assigned"}


def test_demo_identifiers_pass_the_same_checks_as_typed_ones_and_are_found_by_a_scan(uow, system) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 60, seed=3)
    with uow() as u:
        patterns = {(f.model_id, f.key): f.pattern for f in u.session.scalars(select(ModelField))}
        rows = u.session.execute(select(ItemIdentifier.model_id, ItemIdentifier.key, ItemIdentifier.kind,
                                        ItemIdentifier.value, ItemIdentifier.lookup)).all()
    kinds = {kind for _, _, kind, _, _ in rows}
    assert kinds == {ids.MAC, ids.SERIAL, ids.IMEI, ids.IMSI, ids.CUSTOM}
    for model_id, key, kind, value, lookup in rows:
        assert ids.normalise(kind, value, pattern=patterns[(model_id, key)]) == (value, lookup)
    macs = [lookup for _, _, kind, _, lookup in rows if kind == ids.MAC]
    assert len(macs) == len(set(macs))
    assert any(re.fullmatch(r"[A-Z]{4}[0-9A-F]{8}", v) for _, key, _, v, _ in rows if key == "gpon_sn")

    mac = macs[len(macs) // 2]
    typed = "-".join(mac[i:i + 2] for i in range(0, 12, 2)).lower()
    (found,) = service.find_code(uow(), system, typed).items
    assert found.identifier("mac") == ":".join(mac[i:i + 2] for i in range(0, 12, 2))
    assert service.item_history(uow(), system, found.id)


def test_new_items_and_locations_after_the_demo_get_the_next_free_codes(uow, system) -> None:  # noqa: ANN001
    summary = demo.generate(uow(), system, 30, seed=2)
    shelf = catalogue.save_location(uow(), system, LocationInput("Shelf C", "shelf"))
    assert shelf.code not in {r.code for r in catalogue.list_locations(uow(), system) if r.id != shelf.id}
    express = next(m for m in catalogue.list_models(uow(), system) if m.name == "UniFi Express")
    item = service.create_item(uow(), system, ItemInput(express.id, {"mac": "24:5A:4C:FF:00:01", "serial": "NEW-1"},
                                                        shelf.id))
    assert item.tag == f"I-{summary.items + 1:06d}"


def _fingerprint(db) -> list[tuple]:  # noqa: ANN001
    with UnitOfWork(db) as u:
        return list(u.session.execute(
            select(Item.tag, Item.state, Item.account_id, ItemIdentifier.key, ItemIdentifier.value)
            .join(ItemIdentifier, ItemIdentifier.item_id == Item.id).order_by(Item.tag, ItemIdentifier.key)))


def test_the_same_seed_gives_the_same_inventory(tmp_path, system) -> None:  # noqa: ANN001
    prints = []
    for name in ("one", "two"):
        db = open_database(sqlite_url(tmp_path / f"{name}.sqlite"))
        schema.upgrade(db)
        demo.generate(UnitOfWork(db), system, 80, seed=9)
        prints.append(_fingerprint(db))
        db.dispose()
    assert prints[0] == prints[1] and len(prints[0]) > 100
