"""Inventory queries. No business rules here: the services decide, this reads and locks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.inventory.models import (
    IN_STOCK,
    QUANTITY,
    Category,
    Item,
    ItemIdentifier,
    ItemModel,
    Location,
    Manufacturer,
    ModelField,
    Movement,
    Stock,
)
from app.staff.models import User


@dataclass(frozen=True)
class ItemQuery:
    """What the items list shows: a search (tag, any identifier, model), filters, a sort."""

    search: str = ""
    state: str | None = None
    model_id: int | None = None
    category_id: int | None = None
    location_ids: tuple[int, ...] | None = None  # a location and everything inside it
    account_id: int | None = None
    staff_id: int | None = None
    sort: str = "tag"  # tag | model | state | updated
    descending: bool = False


SORTS = {"tag": Item.tag, "model": ItemModel.name, "state": Item.state, "updated": Item.updated_at}


class InventoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def flush(self) -> None:
        self.session.flush()

    # -- catalogue -----------------------------------------------------------------------------
    def manufacturers(self) -> list[Manufacturer]:
        return list(self.session.scalars(select(Manufacturer).order_by(func.lower(Manufacturer.name))))

    def categories(self) -> list[Category]:
        return list(self.session.scalars(select(Category).order_by(func.lower(Category.name))))

    def manufacturer_named(self, name: str) -> Manufacturer | None:
        return self.session.scalar(select(Manufacturer).where(func.lower(Manufacturer.name) == name.lower()))

    def category_named(self, name: str) -> Category | None:
        return self.session.scalar(select(Category).where(func.lower(Category.name) == name.lower()))

    def get_manufacturer(self, manufacturer_id: int) -> Manufacturer | None:
        return self.session.get(Manufacturer, manufacturer_id)

    def get_category(self, category_id: int) -> Category | None:
        return self.session.get(Category, category_id)

    def models(self) -> list[tuple[ItemModel, str, str]]:
        """Every model with its manufacturer's and category's names, by manufacturer then name."""
        rows = self.session.execute(
            select(ItemModel, Manufacturer.name, Category.name)
            .join(Manufacturer, Manufacturer.id == ItemModel.manufacturer_id)
            .join(Category, Category.id == ItemModel.category_id)
            .order_by(func.lower(Manufacturer.name), func.lower(ItemModel.name))
        )
        return [(m, mf, cat) for m, mf, cat in rows]

    def get_model(self, model_id: int) -> ItemModel | None:
        return self.session.get(ItemModel, model_id)

    def model_named(self, manufacturer_id: int, name: str) -> ItemModel | None:
        return self.session.scalar(
            select(ItemModel).where(
                ItemModel.manufacturer_id == manufacturer_id, func.lower(ItemModel.name) == name.lower()
            )
        )

    def fields(self, model_ids: Iterable[int] | None = None) -> list[ModelField]:
        query = select(ModelField).order_by(ModelField.model_id, ModelField.position, ModelField.id)
        if model_ids is not None:
            ids = list(model_ids)
            if not ids:
                return []
            query = query.where(ModelField.model_id.in_(ids))
        return list(self.session.scalars(query))

    def items_of_model(self, model_id: int) -> int:
        return self.session.scalar(select(func.count()).where(Item.model_id == model_id)) or 0

    def stock_of_model(self, model_id: int) -> int:
        return self.session.scalar(
            select(func.coalesce(func.sum(Stock.quantity), 0)).where(Stock.model_id == model_id)
        ) or 0

    def identifiers_in_field(self, model_id: int, key: str) -> int:
        return self.session.scalar(
            select(func.count()).where(ItemIdentifier.model_id == model_id, ItemIdentifier.key == key)
        ) or 0

    def in_stock_counts(self) -> dict[int, int]:
        """Per model: items in stock (serialized) or the summed quantity (consumables)."""
        counts: dict[int, int] = {}
        for model_id, n in self.session.execute(
            select(Item.model_id, func.count()).where(Item.state == IN_STOCK).group_by(Item.model_id)
        ):
            counts[model_id] = n
        for model_id, n in self.session.execute(
            select(Stock.model_id, func.sum(Stock.quantity)).group_by(Stock.model_id)
        ):
            counts[model_id] = counts.get(model_id, 0) + int(n or 0)
        return counts

    # -- locations -----------------------------------------------------------------------------
    def locations(self) -> list[Location]:
        return list(self.session.scalars(select(Location).order_by(func.lower(Location.name), Location.id)))

    def get_location(self, location_id: int) -> Location | None:
        return self.session.get(Location, location_id)

    def location_by_code(self, code: str) -> Location | None:
        # Codes are stored upper-case (catalogue.save_location), so the unique index serves this.
        return self.session.scalar(select(Location).where(Location.code == code.strip().upper()))

    def children_count(self, location_id: int) -> int:
        return self.session.scalar(select(func.count()).where(Location.parent_id == location_id)) or 0

    def items_at_location_count(self) -> dict[int, int]:
        return dict(self.session.execute(
            select(Item.location_id, func.count()).where(Item.location_id.is_not(None)).group_by(Item.location_id)
        ).all())

    # -- items ---------------------------------------------------------------------------------
    def get_item(self, item_id: int) -> Item | None:
        return self.session.get(Item, item_id)

    def lock_item(self, item_id: int) -> Item | None:
        """The item, locked until the transaction ends (Postgres ``FOR UPDATE``), and read
        fresh: a second desktop's assignment waits here, then sees the first one's result."""
        locked = self.session.scalar(select(Item.id).where(Item.id == item_id).with_for_update())
        if locked is None:
            return None
        item = self.session.get(Item, locked)
        self.session.refresh(item)
        return item

    def item_by_tag(self, tag: str) -> Item | None:
        return self.session.scalar(select(Item).where(Item.tag == tag.strip().upper()))

    def identifiers(self, item_ids: Sequence[int]) -> dict[int, list[ItemIdentifier]]:
        found: dict[int, list[ItemIdentifier]] = {i: [] for i in item_ids}
        if not item_ids:
            return found
        for ident in self.session.scalars(
            select(ItemIdentifier).where(ItemIdentifier.item_id.in_(list(item_ids))).order_by(ItemIdentifier.id)
        ):
            found[ident.item_id].append(ident)
        return found

    def items_matching(self, lookups: Sequence[str], limit: int = 20) -> list[int]:
        """Items whose tag or any identifier equals one of ``lookups`` (exact, index-backed)."""
        if not lookups:
            return []
        by_identifier = select(ItemIdentifier.item_id).where(ItemIdentifier.lookup.in_(list(lookups)))
        by_tag = select(Item.id).where(Item.tag.in_(list(lookups)))
        ids = list(self.session.scalars(by_identifier.union(by_tag).limit(limit)))
        return sorted(set(ids))

    def identifier_owner(self, model_id: int, key: str, lookup: str, exclude_item: int | None = None) -> Item | None:
        query = (
            select(Item).join(ItemIdentifier, ItemIdentifier.item_id == Item.id)
            .where(ItemIdentifier.model_id == model_id, ItemIdentifier.key == key, ItemIdentifier.lookup == lookup)
        )
        if exclude_item is not None:
            query = query.where(Item.id != exclude_item)
        return self.session.scalars(query.limit(1)).first()

    def mac_owner(self, lookup: str, exclude_item: int | None = None) -> Item | None:
        """A MAC is unique in the world, not only within a model."""
        query = (
            select(Item).join(ItemIdentifier, ItemIdentifier.item_id == Item.id)
            .where(ItemIdentifier.kind == "mac", ItemIdentifier.lookup == lookup)
        )
        if exclude_item is not None:
            query = query.where(Item.id != exclude_item)
        return self.session.scalars(query.limit(1)).first()

    def _filtered(self, query: ItemQuery, base: Select) -> Select:
        stmt = base.join(ItemModel, ItemModel.id == Item.model_id)
        if query.state:
            stmt = stmt.where(Item.state == query.state)
        if query.model_id is not None:
            stmt = stmt.where(Item.model_id == query.model_id)
        if query.category_id is not None:
            stmt = stmt.where(ItemModel.category_id == query.category_id)
        if query.location_ids is not None:
            stmt = stmt.where(Item.location_id.in_(list(query.location_ids) or [-1]))
        if query.account_id is not None:
            stmt = stmt.where(Item.account_id == query.account_id)
        if query.staff_id is not None:
            stmt = stmt.where(Item.staff_id == query.staff_id)
        term = query.search.strip()
        if term:
            from app.inventory.identifiers import lookup_candidates

            conditions = []
            candidates = lookup_candidates(term)
            bare = re.sub(r"[\s:\-.]", "", term).upper()
            if bare and re.fullmatch(r"[0-9A-F]+", bare) and bare not in candidates:
                candidates.append(bare)  # part of a MAC typed with separators: "24:5a:4c"
            for candidate in candidates:
                escaped = candidate.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                conditions.append(Item.id.in_(
                    select(ItemIdentifier.item_id).where(ItemIdentifier.lookup.like(f"{escaped}%", escape="\\"))
                ))
                conditions.append(Item.tag.like(f"{escaped}%", escape="\\"))
            words = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(func.lower(ItemModel.name).like(f"%{words}%", escape="\\"))
            stmt = stmt.where(or_(*conditions))
        return stmt

    def count_items(self, query: ItemQuery) -> int:
        return self.session.scalar(self._filtered(query, select(func.count()).select_from(Item))) or 0

    def item_ids(self, query: ItemQuery, offset: int, limit: int) -> list[int]:
        key = SORTS.get(query.sort, Item.tag)
        order = [key.desc(), Item.id.desc()] if query.descending else [key, Item.id]
        stmt = self._filtered(query, select(Item.id)).order_by(*order).offset(offset).limit(limit)
        return list(self.session.scalars(stmt))

    def items_by_ids(self, ids: Sequence[int]) -> list[Item]:
        if not ids:
            return []
        rows = {i.id: i for i in self.session.scalars(select(Item).where(Item.id.in_(list(ids))))}
        return [rows[i] for i in ids if i in rows]

    def items_at_account(self, account_id: int) -> list[Item]:
        return list(self.session.scalars(select(Item).where(Item.account_id == account_id).order_by(Item.tag)))

    def accounts(self, ids: Iterable[int]) -> dict[int, Account]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {a.id: a for a in self.session.scalars(select(Account).where(Account.id.in_(wanted)))}

    def users(self, ids: Iterable[int]) -> dict[int, User]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(wanted)))}

    def active_users(self) -> list[User]:
        return list(self.session.scalars(
            select(User).where(User.active.is_(True)).order_by(func.lower(User.full_name), User.username_key)
        ))

    def get_account(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def get_user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    # -- consumables ---------------------------------------------------------------------------
    def stock_row(self, model_id: int, location_id: int) -> Stock | None:
        return self.session.scalar(
            select(Stock).where(Stock.model_id == model_id, Stock.location_id == location_id)
        )

    def add_stock(self, model_id: int, location_id: int, quantity: int) -> None:
        """Add to (never below zero: see ``take_stock``) the quantity at a location."""
        changed = self.session.execute(
            update(Stock).where(Stock.model_id == model_id, Stock.location_id == location_id)
            .values(quantity=Stock.quantity + quantity)
        ).rowcount
        if changed:
            return
        try:
            with self.session.begin_nested():  # another desk may insert the same row first
                self.session.add(Stock(model_id=model_id, location_id=location_id, quantity=quantity))
        except IntegrityError:
            self.session.execute(
                update(Stock).where(Stock.model_id == model_id, Stock.location_id == location_id)
                .values(quantity=Stock.quantity + quantity)
            )

    def take_stock(self, model_id: int, location_id: int, quantity: int) -> bool:
        """Take ``quantity`` away in one conditional UPDATE; False (nothing changed) when there
        is less than that. Two desktops taking the last metres cannot both succeed."""
        changed = self.session.execute(
            update(Stock)
            .where(Stock.model_id == model_id, Stock.location_id == location_id, Stock.quantity >= quantity)
            .values(quantity=Stock.quantity - quantity)
        ).rowcount
        return bool(changed)

    def stock_levels(self, location_ids: Sequence[int] | None = None) -> list[Stock]:
        query = (
            select(Stock).join(ItemModel, ItemModel.id == Stock.model_id)
            .where(ItemModel.tracking == QUANTITY)
            .order_by(Stock.model_id, Stock.location_id)
        )
        if location_ids is not None:
            query = query.where(Stock.location_id.in_(list(location_ids) or [-1]))
        return list(self.session.scalars(query))

    # -- movements -----------------------------------------------------------------------------
    def movements_of_item(self, item_id: int) -> list[Movement]:
        return list(self.session.scalars(
            select(Movement).where(Movement.item_id == item_id).order_by(Movement.id.desc())
        ))

    def movements_of_model(self, model_id: int, limit: int = 500) -> list[Movement]:
        return list(self.session.scalars(
            select(Movement).where(Movement.model_id == model_id, Movement.item_id.is_(None))
            .order_by(Movement.id.desc()).limit(limit)
        ))

    def movements_of_account(self, account_id: int, limit: int = 500) -> list[Movement]:
        return list(self.session.scalars(
            select(Movement)
            .where(or_(
                (Movement.to_kind == "account") & (Movement.to_id == account_id),
                (Movement.from_kind == "account") & (Movement.from_id == account_id),
            ))
            .order_by(Movement.id.desc()).limit(limit)
        ))

    def movements_of_location(self, location_id: int, limit: int = 500) -> list[Movement]:
        return list(self.session.scalars(
            select(Movement)
            .where(or_(
                (Movement.to_kind == "location") & (Movement.to_id == location_id),
                (Movement.from_kind == "location") & (Movement.from_id == location_id),
            ))
            .order_by(Movement.id.desc()).limit(limit)
        ))
