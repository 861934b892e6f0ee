"""Named counters (next account number; later invoice numbers) taken under a row lock."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.orm import Base


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def _locked(session: Session, name: str) -> Counter | None:
    return session.scalars(select(Counter).where(Counter.name == name).with_for_update()).one_or_none()


def take_next(session: Session, name: str, start: int) -> int:
    """Return the next value of counter ``name`` (``start`` for a new counter).

    The row is locked FOR UPDATE on Postgres, so two desktops never get the same value; SQLite
    has one writer at a time, which gives the same guarantee. Two desktops creating a new
    counter at the same moment: the second one's insert fails inside a savepoint, and it takes
    the next value of the row the first one made.
    """
    counter = _locked(session, name)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(Counter(name=name, value=start))
            return start
        except IntegrityError:
            counter = _locked(session, name)
            if counter is None:  # pragma: no cover - the row exists: its insert just collided
                raise
    counter.value += 1
    session.flush()
    return counter.value
