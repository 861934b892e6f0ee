from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.companies.models import Company


class CompanyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, company_id: int) -> Company | None:
        return self.session.get(Company, company_id)

    def all(self) -> list[Company]:
        return list(self.session.scalars(select(Company).order_by(Company.name)))

    def default(self) -> Company:
        return self.session.scalars(select(Company).order_by(Company.id).limit(1)).one()

    def by_name(self, name: str) -> Company | None:
        return self.session.scalars(select(Company).where(Company.name == name)).one_or_none()
