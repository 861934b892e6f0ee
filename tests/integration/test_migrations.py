"""Models and migrations agree, and the app treats each schema state as it should."""

from __future__ import annotations

import dataclasses

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from app.accounts.models import Account

from app.core import schema
from app.core.db import open_database
from app.core.errors import ReadOnlyDatabase, SchemaOutdated
from app.models import metadata
from app.staff import service as staff
from app.uow import UnitOfWork


def _diff(db) -> list:  # noqa: ANN001
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": schema.include_object, "compare_type": True})
        return compare_metadata(ctx, metadata)


def test_models_and_migrations_agree(db) -> None:  # noqa: ANN001
    assert schema.inspect_schema(db).status is schema.SchemaStatus.CURRENT
    assert _diff(db) == []


def test_a_new_local_file_is_created_and_upgraded_on_start(tmp_path) -> None:  # noqa: ANN001
    db = open_database(str(tmp_path / "new.sqlite"))
    state = schema.prepare_for_use(db)
    assert state.status is schema.SchemaStatus.CURRENT
    assert staff.needs_first_admin(UnitOfWork(db))
    db.dispose()


def test_an_empty_shared_database_is_not_upgraded_by_the_app(empty_pg_url: str) -> None:
    db = open_database(empty_pg_url)
    with pytest.raises(SchemaOutdated, match="db upgrade"):
        schema.prepare_for_use(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE tablename = 'accounts'")).scalar() == 0
    schema.upgrade(db)  # what `python main.py db upgrade` does
    assert schema.prepare_for_use(db).status is schema.SchemaStatus.CURRENT
    db.dispose()


def test_each_database_gets_an_index_for_substring_search(db) -> None:  # noqa: ANN001
    from app.accounts.repository import AccountQuery
    from app.uow import UnitOfWork

    with UnitOfWork(db) as uow:
        sql = str(uow.accounts._filtered(select(Account.id), AccountQuery(text="king")).compile(db.engine))
    if db.is_sqlite:
        assert "accounts_search" in db.capabilities.fts_trigram_tables
        assert "accounts_search" in sql  # served by the FTS5 trigram table
    else:
        assert db.capabilities.trigram_index
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_accounts_search_trgm'")).first()
        assert "LIKE" in sql.upper()


def test_a_new_local_file_has_its_search_index_right_after_the_upgrade(tmp_path) -> None:  # noqa: ANN001
    db = open_database(str(tmp_path / "fresh.sqlite"))
    assert not db.capabilities.fts_trigram_tables
    schema.prepare_for_use(db)
    assert "accounts_search" in db.capabilities.fts_trigram_tables
    db.dispose()


def test_a_newer_schema_opens_read_only_and_refuses_every_write(db_url: str) -> None:
    db = open_database(db_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    state = schema.prepare_for_use(db)
    assert state.status is schema.SchemaStatus.NEWER
    assert db.read_only_reason and "newer" in db.read_only_reason
    with pytest.raises(ReadOnlyDatabase):
        staff.create_first_admin(UnitOfWork(db), "bob", "long enough pw")
    assert staff.needs_first_admin(UnitOfWork(db))  # reading still works
    with pytest.raises(SchemaOutdated, match="newer"):
        schema.upgrade(db)
    db.dispose()


@pytest.mark.parametrize("shared", [True, False])
def test_an_outdated_schema_is_upgraded_only_when_local(monkeypatch, shared: bool, db) -> None:  # noqa: ANN001
    """What the start-up does with each verdict; a real upgrade from 0001 is tested below."""
    outdated = schema.SchemaState(schema.SchemaStatus.OUTDATED, "0000old", schema.head_revision())
    calls = []
    monkeypatch.setattr(schema, "inspect_schema", lambda _db: outdated)
    monkeypatch.setattr(schema, "upgrade", lambda _db: calls.append("upgrade") or outdated)
    monkeypatch.setattr(db, "capabilities", dataclasses.replace(db.capabilities, shared=shared))
    if shared:
        with pytest.raises(SchemaOutdated, match="python main.py db upgrade"):
            schema.prepare_for_use(db)
        assert calls == []
    else:
        schema.prepare_for_use(db)
        assert calls == ["upgrade"]


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request, tmp_path):  # noqa: ANN001
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite'}"
    return request.getfixturevalue("empty_pg_url")


def test_upgrading_from_0001_links_old_flat_addresses_under_buildings(blank_url: str) -> None:
    """A database made by the first release (flat address rows) upgrades for real: each unit
    hangs under a building row with a match key, and two spellings of one unit both survive."""
    from alembic import command

    db = open_database(blank_url)
    command.upgrade(schema.alembic_config(db), "0001")
    assert schema.inspect_schema(db).status is schema.SchemaStatus.OUTDATED
    with db.engine.begin() as conn:
        for unit in ("Apt 4B", "5", "#4b", ""):
            conn.execute(text(
                "INSERT INTO serviceable_addresses (building, street, unit, city, region, postal_code, country,"
                " version, created_at, updated_at) VALUES ('The Alder', '12 Main Street', :u, 'Ottawa', 'ON',"
                " 'K1P 1A1', 'CA', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"u": unit})
        conn.execute(text(
            "INSERT INTO serviceable_addresses (building, street, unit, city, region, postal_code, country,"
            " version, created_at, updated_at) VALUES ('', '9 Elm Ave', '2', 'Boston', 'MA', '02110', 'US', 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    schema.upgrade(db)
    assert schema.inspect_schema(db).status is schema.SchemaStatus.CURRENT
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, street, unit, parent_id, match_key FROM serviceable_addresses ORDER BY id")).all()
    by_street: dict[str, list] = {}
    for r in rows:
        by_street.setdefault(r.street, []).append(r)
    alder = by_street["12 Main Street"]
    building = [r for r in alder if r.unit == ""]
    assert len(building) == 1 and building[0].parent_id is None
    units = [r for r in alder if r.unit]
    assert sorted(r.unit for r in units) == ["4B", "4B", "5"]
    assert {r.parent_id for r in units} == {building[0].id}
    assert len({r.match_key for r in rows}) == len(rows)  # the duplicate got a suffixed key
    elm = by_street["9 Elm Ave"]
    assert len(elm) == 2 and [r for r in elm if r.unit == "2"][0].parent_id is not None
    db.dispose()


def test_0002_downgrades_to_0001_with_buildings_and_units_in_it(blank_url: str) -> None:
    from alembic import command

    from app.addresses import service as addresses
    from app.core.permissions import Actor

    db = open_database(blank_url)
    schema.upgrade(db)
    addresses.create_address(UnitOfWork(db), Actor.system(), addresses.AddressInput(
        street="12 Main Street", city="Ottawa", unit="4B", postal_code="K1P 1A1", country="CA"))
    command.downgrade(schema.alembic_config(db), "0001")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT unit FROM serviceable_addresses")).scalars().all() == ["4B"]
    schema.upgrade(db)  # and back up again
    assert schema.inspect_schema(db).status is schema.SchemaStatus.CURRENT
    db.dispose()
