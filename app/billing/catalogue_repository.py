"""The billing catalogue and what each account is sold: services, packages, discounts, taxes, settings, account services."""

from __future__ import annotations

from sqlalchemy.orm import Session


class CatalogueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
