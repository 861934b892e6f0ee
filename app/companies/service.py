"""Company details: what goes on invoices and letters."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import ConflictError, NotFound, ValidationError
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class CompanyDetails:
    name: str
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    phone: str = ""
    email: str = ""
    website: str = ""
    currency: str = "USD"


@dataclass(frozen=True)
class CompanyRecord:
    id: int
    version: int
    details: CompanyDetails


def _details(company) -> CompanyDetails:  # noqa: ANN001
    return CompanyDetails(**{f.name: getattr(company, f.name) for f in fields(CompanyDetails)})


def list_companies(uow: UnitOfWork, actor: Actor) -> list[CompanyRecord]:
    with uow:
        return [CompanyRecord(c.id, c.version, _details(c)) for c in uow.companies.all()]


def validate(details: CompanyDetails) -> CompanyDetails:
    clean = CompanyDetails(**{k: v.strip() for k, v in asdict(details).items()})
    if not clean.name:
        raise ValidationError("The company needs a name.", "name")
    if len(clean.name) > 120:
        raise ValidationError("A company name has at most 120 characters.", "name")
    if clean.email and not EMAIL_RE.match(clean.email):
        raise ValidationError(f"'{clean.email}' is not an e-mail address.", "email")
    if not re.fullmatch(r"[A-Za-z]{2}", clean.country):
        raise ValidationError("Country is a two-letter code such as US or CA.", "country")
    if not re.fullmatch(r"[A-Za-z]{3}", clean.currency):
        raise ValidationError("Currency is a three-letter code such as USD or CAD.", "currency")
    return CompanyDetails(**{**asdict(clean), "country": clean.country.upper(), "currency": clean.currency.upper()})


def update_company(
    uow: UnitOfWork, actor: Actor, company_id: int, expected_version: int, details: CompanyDetails
) -> CompanyRecord:
    actor.require(Permission.COMPANY_EDIT)
    details = validate(details)
    with uow:
        company = uow.companies.get(company_id)
        if company is None:
            raise NotFound("That company no longer exists.")
        if company.version != expected_version:
            raise ConflictError("company", uow.staff.display_name(company.updated_by_id), company.updated_at)
        other = uow.companies.by_name(details.name)
        if other is not None and other.id != company.id:
            raise ValidationError(f"Another company is already called '{details.name}'.", "name")
        before = asdict(_details(company))
        for key, value in asdict(details).items():
            setattr(company, key, value)
        company.updated_by_id = actor.user_id
        company.updated_at = utcnow()
        old, new = audit.changed_only(before, asdict(details))
        audit.record(uow.session, actor, "company", company.id, "update", old, new)
        uow.commit()
        return CompanyRecord(company.id, company.version, _details(company))
