"""Demo data: realistic, deterministic, and only into an empty database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import demo
from app.accounts.models import Account, Contact
from app.addresses.models import ServiceableAddress
from app.accounts import service
from app.accounts.repository import AccountQuery
from app.core.errors import ValidationError
from app.staff import service as staff


def _fingerprint(uow) -> list[tuple]:  # noqa: ANN001
    with uow() as u:
        return list(u.session.execute(
            select(Account.number, Account.name, ServiceableAddress.street, ServiceableAddress.unit, Contact.email)
            .join(ServiceableAddress, Account.address_id == ServiceableAddress.id, isouter=True)
            .join(Contact, (Contact.account_id == Account.id) & Contact.is_primary)
            .order_by(Account.number)
        ))


def test_the_same_seed_gives_the_same_data(uow, system, db_url, request, tmp_path) -> None:  # noqa: ANN001
    summary = demo.generate(uow(), system, 250, seed=11)
    assert summary.accounts == 250 and summary.units >= 250 and summary.admin_created
    first = _fingerprint(uow)
    # A second, fresh database of the same engine, filled with the same seed:
    from app.core import schema
    from app.core.db import open_database, sqlite_url
    from app.uow import UnitOfWork

    if db_url.startswith("sqlite"):
        other_url = sqlite_url(tmp_path / "other.sqlite")
    else:
        other_url = request.getfixturevalue("empty_pg_url")

    other = open_database(other_url)
    schema.upgrade(other)
    demo.generate(UnitOfWork(other), system, 250, seed=11)
    assert _fingerprint(lambda: UnitOfWork(other)) == first
    other.dispose()


def test_demo_data_looks_like_buildings_with_floors_units_and_tenants(uow, system) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 400, seed=2)
    with uow() as u:
        s = u.session
        floors = s.scalar(select(func.count(func.distinct(ServiceableAddress.floor))))
        vacant = s.scalar(select(func.count(ServiceableAddress.id)).where(
            ~select(Account.id).where(Account.address_id == ServiceableAddress.id).exists()))
        without_contact = s.scalar(select(func.count(Account.id)).where(
            ~select(Contact.id).where(Contact.account_id == Account.id).exists()))
    assert floors >= 3 and vacant > 0 and without_contact == 0
    admin = staff.sign_in(uow(), demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    assert service.count_accounts(uow(), admin, AccountQuery()) == 400
    # Search works on generated rows too.
    (row,) = service.list_accounts(uow(), admin, AccountQuery(sort="number"), 0, 1)  # type: ignore[arg-type]
    assert service.count_accounts(uow(), admin, AccountQuery(text=row.email)) >= 1


def test_demo_refuses_a_database_that_already_has_accounts(uow, system) -> None:  # noqa: ANN001
    demo.generate(uow(), system, 30)
    with pytest.raises(ValidationError, match="already has 30 accounts"):
        demo.generate(uow(), system, 30)
