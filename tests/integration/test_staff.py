"""Staff users: the first administrator, roles and permissions, sign-in and lock-out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.errors import AccountLocked, AuthenticationFailed, PermissionDenied, ValidationError
from app.core.passwords import verify_password
from app.core.permissions import BUILTIN_ROLES, Permission
from app.staff import service as staff
from app.staff.models import User


def test_the_first_administrator_can_only_be_created_on_an_empty_database(uow) -> None:  # noqa: ANN001
    assert staff.needs_first_admin(uow())
    actor = staff.create_first_admin(uow(), "Alice", "correct horse", "Alice Admin")
    assert actor.username == "Alice"
    assert actor.role == "Administrator" and actor.can(Permission.USERS_MANAGE)
    assert not staff.needs_first_admin(uow())
    with pytest.raises(ValidationError, match="already has users"):
        staff.create_first_admin(uow(), "mallory", "another password")


def test_passwords_are_stored_hashed_with_a_kdf(uow, admin) -> None:  # noqa: ANN001
    with uow() as u:
        user = u.session.scalars(select(User)).one()
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith("scrypt$")
        assert verify_password("correct horse", user.password_hash)


def test_every_builtin_role_exists_with_its_permissions(uow, admin) -> None:  # noqa: ANN001
    for name, (_desc, permissions) in BUILTIN_ROLES.items():
        staff.add_user(uow(), admin, f"user-{name[:4].lower()}", "long enough pw", name)
        actor = staff.sign_in(uow(), f"user-{name[:4].lower()}", "long enough pw")
        assert actor.role == name
        assert actor.permissions == permissions
    read_only = staff.sign_in(uow(), "user-read", "long enough pw")
    assert not any(p.value.endswith((".edit", ".run", ".manage")) for p in read_only.permissions)


def test_sign_in_ignores_the_case_of_the_user_name(uow, admin) -> None:  # noqa: ANN001
    assert staff.sign_in(uow(), "ALICE", "correct horse").user_id == admin.user_id
    assert staff.sign_in(uow(), "alice", "correct horse").user_id == admin.user_id


def test_a_wrong_password_or_unknown_user_gives_the_same_message(uow, admin) -> None:  # noqa: ANN001
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        staff.sign_in(uow(), "alice", "wrong")
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        staff.sign_in(uow(), "nobody", "wrong")


def test_repeated_failures_lock_the_user_out_and_are_counted_even_though_sign_in_fails(uow, admin) -> None:  # noqa: ANN001
    for _ in range(staff.MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            staff.sign_in(uow(), "alice", "wrong")
    with uow() as u:
        assert u.staff.user_by_name("alice").failed_logins == staff.MAX_FAILED_LOGINS - 1
    with pytest.raises(AccountLocked):
        staff.sign_in(uow(), "alice", "wrong")
    # Locked: even the right password is refused until the lock ends or an admin lifts it.
    with pytest.raises(AccountLocked, match="locked until"):
        staff.sign_in(uow(), "alice", "correct horse")
    with uow() as u:
        actions = [e.action for e in u.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("sign-in failed") == staff.MAX_FAILED_LOGINS - 1
    assert "sign-in locked" in actions


def test_an_administrator_can_unlock_a_locked_user(uow, admin, system) -> None:  # noqa: ANN001
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            staff.sign_in(uow(), "alice", "wrong")
    staff.unlock(uow(), system, "alice")
    assert staff.sign_in(uow(), "alice", "correct horse").user_id == admin.user_id


def test_services_check_permissions_themselves(uow, admin) -> None:  # noqa: ANN001
    staff.add_user(uow(), admin, "sam", "long enough pw", "Support")
    support = staff.sign_in(uow(), "sam", "long enough pw")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        staff.add_user(uow(), support, "eve", "long enough pw", "Administrator")
    with uow() as u:
        assert u.staff.user_by_name("eve") is None


@pytest.mark.parametrize(
    ("name", "password", "role", "field"),
    [("x", "long enough pw", "Support", "username"), ("has space", "long enough pw", "Support", "username"),
     ("bob", "short", "Support", "password"), ("bob", "long enough pw", "Janitor", "role")],
)
def test_bad_user_input_is_refused_with_the_field_named(uow, admin, name, password, role, field) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as err:
        staff.add_user(uow(), admin, name, password, role)
    assert err.value.field == field


def test_a_user_name_is_unique_regardless_of_case(uow, admin) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError, match="already a user"):
        staff.add_user(uow(), admin, "ALICE", "long enough pw", "Support")
