from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.staff.models import Role, User


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user_by_name(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(User.username_key == username.strip().lower())).one_or_none()

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username_key)))

    def count_users(self) -> int:
        return self.session.scalar(select(func.count(User.id))) or 0

    def role_by_name(self, name: str) -> Role | None:
        return self.session.scalars(select(Role).where(func.lower(Role.name) == name.strip().lower())).one_or_none()

    def roles(self) -> list[Role]:
        return list(self.session.scalars(select(Role).order_by(Role.id)))

    def add(self, user: User) -> None:
        self.session.add(user)

    def display_name(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        user = self.session.get(User, user_id)
        return (user.full_name or user.username) if user else None
