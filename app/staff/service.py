"""Staff use cases: the first administrator, adding users, signing in with lockout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import AccountLocked, AuthenticationFailed, NotFound, ValidationError
from app.core.passwords import MIN_LENGTH, dummy_hash, hash_password, needs_rehash, verify_password
from app.core.permissions import Actor, Permission
from app.staff.models import User
from app.uow import UnitOfWork

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,59}$")


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    locked: bool


def _validate(username: str, password: str) -> None:
    if not USERNAME_RE.match(username.strip()):
        raise ValidationError(
            "A user name is 2–60 letters, digits or . _ @ - and starts with a letter or digit.", "username"
        )
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"The password needs at least {MIN_LENGTH} characters.", "password")


def needs_first_admin(uow: UnitOfWork) -> bool:
    with uow:
        return uow.staff.count_users() == 0


def create_first_admin(uow: UnitOfWork, username: str, password: str, full_name: str = "") -> Actor:
    """Only on a database with no users at all: whoever installs Riser becomes its administrator."""
    _validate(username, password)
    with uow:
        if uow.staff.count_users():
            raise ValidationError("This database already has users: sign in instead.")
        role = uow.staff.role_by_name("Administrator")
        assert role is not None, "reference data missing: run the schema upgrade"
        user = User(username=username.strip(), username_key=username.strip().lower(), full_name=full_name.strip(),
                    password_hash=hash_password(password), role=role)
        uow.staff.add(user)
        uow.flush()
        actor = _actor(user)
        audit.record(uow.session, actor, "user", user.id, "create first administrator", None,
                     {"username": user.username, "role": role.name})
        uow.commit()
        return actor


def add_user(uow: UnitOfWork, actor: Actor, username: str, password: str, role: str, full_name: str = "") -> UserRow:
    actor.require(Permission.USERS_MANAGE)
    _validate(username, password)
    with uow:
        found = uow.staff.role_by_name(role)
        if found is None:
            names = ", ".join(r.name for r in uow.staff.roles())
            raise ValidationError(f"There is no role '{role}'. Roles: {names}.", "role")
        if uow.staff.user_by_name(username):
            raise ValidationError(f"There is already a user named '{username.strip()}'.", "username")
        user = User(username=username.strip(), username_key=username.strip().lower(), full_name=full_name.strip(),
                    password_hash=hash_password(password), role=found, updated_by_id=actor.user_id)
        uow.staff.add(user)
        uow.flush()
        audit.record(uow.session, actor, "user", user.id, "create", None,
                     {"username": user.username, "full_name": user.full_name, "role": found.name})
        uow.commit()
        return _row(user)


def list_users(uow: UnitOfWork, actor: Actor) -> list[UserRow]:
    actor.require(Permission.USERS_MANAGE)
    with uow:
        return [_row(u) for u in uow.staff.users()]


def sign_in(uow: UnitOfWork, username: str, password: str) -> Actor:
    """Check a password. Failures are counted; after MAX_FAILED_LOGINS the user is locked out
    for LOCKOUT. The failure count is committed even though the sign-in fails."""
    generic = AuthenticationFailed("Wrong user name or password.")
    with uow:
        user = uow.staff.user_by_name(username)
        if user is None or not user.active:
            verify_password(password, dummy_hash())  # same cost as a real check
            raise generic
        now = utcnow()
        if user.locked_until and user.locked_until > now:
            raise AccountLocked(
                f"Too many failed sign-ins: '{user.username}' is locked until "
                f"{user.locked_until.astimezone().strftime('%H:%M')}. An administrator can unlock it sooner.",
                user.locked_until,
            )
        if not verify_password(password, user.password_hash):
            user.failed_logins += 1
            locked = user.failed_logins >= MAX_FAILED_LOGINS
            if locked:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            audit.record(uow.session, Actor(None, user.username, user.role.name), "user", user.id,
                         "sign-in locked" if locked else "sign-in failed")
            uow.commit()
            if locked:
                raise AccountLocked(
                    f"Too many failed sign-ins: '{user.username}' is locked for "
                    f"{int(LOCKOUT.total_seconds() // 60)} minutes.", user.locked_until)
            left = MAX_FAILED_LOGINS - user.failed_logins
            raise AuthenticationFailed(
                f"Wrong user name or password. {left} more failed attempt{'s' if left != 1 else ''} "
                f"will lock this user for {int(LOCKOUT.total_seconds() // 60)} minutes."
                if left <= 2 else "Wrong user name or password."
            )
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        actor = _actor(user)
        uow.commit()
        return actor


def unlock(uow: UnitOfWork, actor: Actor, username: str) -> None:
    actor.require(Permission.USERS_MANAGE)
    with uow:
        user = uow.staff.user_by_name(username)
        if user is None:
            raise NotFound(f"There is no user named '{username}'.")
        user.locked_until = None
        user.failed_logins = 0
        user.updated_by_id = actor.user_id
        audit.record(uow.session, actor, "user", user.id, "unlock")
        uow.commit()


def _actor(user: User) -> Actor:
    perms = frozenset(Permission(rp.permission) for rp in user.role.permissions if rp.permission in Permission._value2member_map_)
    return Actor(user_id=user.id, username=user.username, role=user.role.name, permissions=perms)


def _row(user: User) -> UserRow:
    locked = bool(user.locked_until and user.locked_until > utcnow())
    return UserRow(user.id, user.username, user.full_name, user.role.name, user.active, locked)
