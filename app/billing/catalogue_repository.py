"""The billing catalogue and what each account is sold: services, packages, discounts, taxes,
usage policies, settings, and the account's services, packages, discounts and profile.

Queries only; the rules live in ``app.billing.catalogue`` and ``app.billing.subscriptions``.
The bulk loading for the rating engine is in ``app.billing.loading`` (plain-row queries, for
speed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.billing.models import (
    AccountDiscount,
    AccountPackage,
    AccountService,
    BillingAccount,
    BillingSettings,
    DelinquencyExclusion,
    Discount,
    Package,
    PackageService,
    Service,
    Tax,
    UsagePolicy,
    service_taxes,
)


class CatalogueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def flush(self) -> None:
        self.session.flush()

    # -- services ------------------------------------------------------------------------------
    def services(self, company_id: int | None = None) -> list[Service]:
        query = select(Service).order_by(func.lower(Service.name), Service.id)
        if company_id is not None:
            query = query.where(Service.company_id == company_id)
        return list(self.session.scalars(query))

    def service(self, service_id: int) -> Service | None:
        return self.session.get(Service, service_id)

    def service_named(self, company_id: int, name: str) -> Service | None:
        return self.session.scalars(select(Service).where(
            Service.company_id == company_id, func.lower(Service.name) == name.lower())).first()

    def service_tax_ids(self, service_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
        """{service id: [tax ids]} (every service when ``service_ids`` is None)."""
        query = select(service_taxes.c.service_id, service_taxes.c.tax_id).order_by(service_taxes.c.tax_id)
        if service_ids is not None:
            ids = list(service_ids)
            if not ids:
                return {}
            query = query.where(service_taxes.c.service_id.in_(ids))
        found: dict[int, list[int]] = {}
        for service_id, tax_id in self.session.execute(query):
            found.setdefault(service_id, []).append(tax_id)
        return found

    def set_service_taxes(self, service_id: int, tax_ids: Sequence[int]) -> None:
        self.session.execute(delete(service_taxes).where(service_taxes.c.service_id == service_id))
        if tax_ids:
            self.session.execute(insert(service_taxes), [{"service_id": service_id, "tax_id": t} for t in tax_ids])

    def services_in_use(self) -> dict[int, int]:
        """{service id: accounts it is on now or later (lines not ended)}."""
        rows = self.session.execute(
            select(AccountService.service_id, func.count(func.distinct(AccountService.account_id)))
            .where(AccountService.ends_on.is_(None))
            .group_by(AccountService.service_id))
        return {key: count for key, count in rows}

    def company_has_services(self, company_id: int) -> bool:
        return self.session.scalar(select(Service.id).where(Service.company_id == company_id).limit(1)) is not None

    # -- packages ------------------------------------------------------------------------------
    def packages(self, company_id: int | None = None) -> list[Package]:
        query = select(Package).order_by(func.lower(Package.name), Package.id)
        if company_id is not None:
            query = query.where(Package.company_id == company_id)
        return list(self.session.scalars(query))

    def package(self, package_id: int) -> Package | None:
        return self.session.get(Package, package_id)

    def package_named(self, company_id: int, name: str) -> Package | None:
        return self.session.scalars(select(Package).where(
            Package.company_id == company_id, func.lower(Package.name) == name.lower())).first()

    def package_items(self, package_ids: Iterable[int] | None = None) -> list[PackageService]:
        query = select(PackageService).order_by(PackageService.package_id, PackageService.service_id)
        if package_ids is not None:
            ids = list(package_ids)
            if not ids:
                return []
            query = query.where(PackageService.package_id.in_(ids))
        return list(self.session.scalars(query))

    def set_package_items(self, package_id: int, items: Sequence[tuple[int, int]]) -> None:
        self.session.execute(delete(PackageService).where(PackageService.package_id == package_id))
        for service_id, quantity in items:
            self.session.add(PackageService(package_id=package_id, service_id=service_id, quantity=quantity))

    def packages_ever_sold(self) -> set[int]:
        """Packages that are (or were) on some account: their contents are locked."""
        return set(self.session.scalars(select(AccountPackage.package_id).distinct()))

    def package_accounts(self, on: date) -> dict[int, int]:
        """{package id: accounts it is on, on ``on`` or later}."""
        rows = self.session.execute(
            select(AccountPackage.package_id, func.count(func.distinct(AccountPackage.account_id)))
            .where(or_(AccountPackage.ends_on.is_(None), AccountPackage.ends_on >= on))
            .group_by(AccountPackage.package_id))
        return {key: count for key, count in rows}

    # -- discounts, taxes, usage policies ------------------------------------------------------
    def discounts(self, company_id: int | None = None) -> list[Discount]:
        query = select(Discount).order_by(func.lower(Discount.name), Discount.id)
        if company_id is not None:
            query = query.where(Discount.company_id == company_id)
        return list(self.session.scalars(query))

    def discount(self, discount_id: int) -> Discount | None:
        return self.session.get(Discount, discount_id)

    def discount_named(self, company_id: int, name: str) -> Discount | None:
        return self.session.scalars(select(Discount).where(
            Discount.company_id == company_id, func.lower(Discount.name) == name.lower())).first()

    def taxes(self, company_id: int | None = None) -> list[Tax]:
        query = select(Tax).order_by(Tax.company_id, Tax.position, func.lower(Tax.name), Tax.id)
        if company_id is not None:
            query = query.where(Tax.company_id == company_id)
        return list(self.session.scalars(query))

    def tax(self, tax_id: int) -> Tax | None:
        return self.session.get(Tax, tax_id)

    def tax_named(self, company_id: int, name: str) -> Tax | None:
        return self.session.scalars(select(Tax).where(
            Tax.company_id == company_id, func.lower(Tax.name) == name.lower())).first()

    def usage_policies(self) -> list[UsagePolicy]:
        return list(self.session.scalars(select(UsagePolicy).order_by(func.lower(UsagePolicy.name), UsagePolicy.id)))

    def usage_policy(self, policy_id: int) -> UsagePolicy | None:
        return self.session.get(UsagePolicy, policy_id)

    def usage_policy_named(self, name: str) -> UsagePolicy | None:
        return self.session.scalars(select(UsagePolicy).where(func.lower(UsagePolicy.name) == name.lower())).first()

    # -- settings ------------------------------------------------------------------------------
    def settings(self, company_id: int) -> BillingSettings | None:
        return self.session.scalars(select(BillingSettings).where(BillingSettings.company_id == company_id)).first()

    def exclusions(self, company_id: int) -> list[DelinquencyExclusion]:
        return list(self.session.scalars(
            select(DelinquencyExclusion).where(DelinquencyExclusion.company_id == company_id)
            .order_by(DelinquencyExclusion.month, DelinquencyExclusion.day,
                      DelinquencyExclusion.year.is_not(None), DelinquencyExclusion.year)))

    def exclusion(self, exclusion_id: int) -> DelinquencyExclusion | None:
        return self.session.get(DelinquencyExclusion, exclusion_id)

    def exclusion_on(self, company_id: int, year: int | None, month: int, day: int) -> DelinquencyExclusion | None:
        year_match = DelinquencyExclusion.year.is_(None) if year is None else DelinquencyExclusion.year == year
        return self.session.scalars(select(DelinquencyExclusion).where(
            DelinquencyExclusion.company_id == company_id, year_match,
            DelinquencyExclusion.month == month, DelinquencyExclusion.day == day)).first()

    # -- what an account is sold ---------------------------------------------------------------
    def billing_account(self, account_id: int) -> BillingAccount | None:
        return self.session.get(BillingAccount, account_id)

    def account_services(self, account_id: int) -> list[AccountService]:
        return list(self.session.scalars(
            select(AccountService).where(AccountService.account_id == account_id)
            .order_by(AccountService.starts_on, AccountService.id)))

    def account_service(self, account_service_id: int) -> AccountService | None:
        return self.session.get(AccountService, account_service_id)

    def services_of_account_package(self, account_package_id: int) -> list[AccountService]:
        return list(self.session.scalars(
            select(AccountService).where(AccountService.account_package_id == account_package_id)
            .order_by(AccountService.id)))

    def account_packages(self, account_id: int) -> list[AccountPackage]:
        return list(self.session.scalars(
            select(AccountPackage).where(AccountPackage.account_id == account_id)
            .order_by(AccountPackage.starts_on, AccountPackage.id)))

    def account_package(self, account_package_id: int) -> AccountPackage | None:
        return self.session.get(AccountPackage, account_package_id)

    def account_discounts(self, account_id: int) -> list[AccountDiscount]:
        return list(self.session.scalars(
            select(AccountDiscount).where(AccountDiscount.account_id == account_id)
            .order_by(AccountDiscount.starts_on, AccountDiscount.id)))

    def account_discount(self, account_discount_id: int) -> AccountDiscount | None:
        return self.session.get(AccountDiscount, account_discount_id)

    def discounts_on_service(self, account_service_id: int) -> list[AccountDiscount]:
        return list(self.session.scalars(
            select(AccountDiscount).where(AccountDiscount.account_service_id == account_service_id)
            .order_by(AccountDiscount.id)))
