"""The member directory: who is a member, and the CSV import staff use to maintain it."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from services.registration.models import MemberAddress, MemberDomain, MemberOrganisation
from shared.db import db
from shared.errors import Conflict, problem
from shared.schemas import FORBIDDEN_CHARACTERS, is_country_code

CSV_COLUMNS = ("name", "country", "domains")


def _member_organisation_id() -> sa.ScalarSelect:
    """A subquery: the id of the active member organisation of the address `:email`, or NULL.

    An explicit address wins, then the most specific of the address's domain and parent
    domains (`:domains`, see `member_parameters`; `policia.madrid.es` belongs to `madrid.es`).
    """
    by_address = sa.select(MemberAddress.organisation_id.label("organisation_id"), sa.literal(1000).label("rank")).where(
        MemberAddress.email == sa.bindparam("email")
    )
    by_domain = sa.select(MemberDomain.organisation_id, sa.func.length(MemberDomain.domain)).where(
        MemberDomain.domain.in_(sa.bindparam("domains", expanding=True))
    )
    matches = sa.union_all(by_address, by_domain).subquery()
    return (
        sa.select(MemberOrganisation.id)
        .join(matches, matches.c.organisation_id == MemberOrganisation.id)
        .where(MemberOrganisation.active.is_(True))
        .order_by(matches.c.rank.desc())
        .limit(1)
        .scalar_subquery()
    )


#: built once: it runs on every registration
MEMBER_ORGANISATION_ID = _member_organisation_id()


def member_parameters(email: str) -> dict[str, object]:
    """The parameters of MEMBER_ORGANISATION_ID for `email`."""
    email = email.strip().lower()
    parts = email.rpartition("@")[2].split(".")
    return {"email": email, "domains": [".".join(parts[index:]) for index in range(len(parts) - 1)] or [""]}


def find_member(email: str) -> MemberOrganisation | None:
    """The active member organisation `email` belongs to (see `MEMBER_ORGANISATION_ID`)."""
    return db.session.scalar(
        sa.select(MemberOrganisation).where(MemberOrganisation.id == MEMBER_ORGANISATION_ID), member_parameters(email)
    )


def normalise_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@").rstrip(".")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: dict[int, list[str]] = field(default_factory=dict)
    #: the file's rows (name, country, domains), row 1 first, for a preview
    rows: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: names already in the directory (a dry run fills it): those rows update, the others create
    known: set[str] = field(default_factory=set)

    def as_dict(self) -> dict:
        errors = {(f"row {number}" if number else "columns"): problems for number, problems in self.errors.items()}
        return {"created": self.created, "updated": self.updated, "errors": errors}


def _refuse_taken(column: InstrumentedAttribute[str], values: set[str], name: str, field: str) -> None:
    """409 naming `field` when one of `values` belongs to another organisation than `name`
    (the unique constraint would otherwise fail the whole transaction)."""
    if not values:
        return
    owners = db.session.execute(
        sa.select(column, MemberOrganisation.name).join_from(column.class_, MemberOrganisation)
        .where(column.in_(values), MemberOrganisation.name != name)
    ).all()
    if owners:
        raise Conflict(problem("taken_by_another_member", "Another member organisation already has this."),
                       {field: [problem("taken_by_another_member", "'%(value)s' already belongs to '%(owner)s'.", value=value, owner=owner)
                                for value, owner in sorted(owners)]})


def save_organisation(name: str, country: str, domains: list[str], addresses: list[str] | None = None) -> tuple[MemberOrganisation, bool]:
    """Create or update the organisation called `name`; returns it and whether it is new.
    A domain or address of another organisation is a Conflict naming `domains` or `addresses`."""
    wanted = {normalise_domain(domain) for domain in domains if domain.strip()}
    wanted_addresses = {address.strip().lower() for address in addresses or [] if address.strip()}
    _refuse_taken(MemberDomain.domain, wanted, name, "domains")
    _refuse_taken(MemberAddress.email, wanted_addresses, name, "addresses")
    organisation = db.session.scalar(sa.select(MemberOrganisation).where(MemberOrganisation.name == name))
    created = organisation is None
    if created:
        organisation = MemberOrganisation(name=name, country=country.upper(), active=True)
        db.session.add(organisation)
    organisation.country = country.upper()
    organisation.domains = [d for d in organisation.domains if d.domain in wanted] + [
        MemberDomain(domain=domain) for domain in sorted(wanted - {d.domain for d in organisation.domains})
    ]
    if addresses is not None:
        organisation.addresses = [a for a in organisation.addresses if a.email in wanted_addresses] + [
            MemberAddress(email=email) for email in sorted(wanted_addresses - {a.email for a in organisation.addresses})
        ]
    db.session.flush()
    return organisation, created


def import_csv(text: str, dry_run: bool = False) -> ImportReport:
    """Import `name,country,domains` rows (domains separated by `;`).

    Every row is checked first; when any row is wrong nothing is written and the report
    names each faulty row (1 = the first data row) and what is wrong with it.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        report.errors[0] = [f"missing column(s): {', '.join(missing)}"]
        return report
    rows: list[tuple[str, str, list[str]]] = []
    domain_owner: dict[str, str] = {}
    for number, row in enumerate(reader, start=1):
        name = (row.get("name") or "").strip()
        country = (row.get("country") or "").strip().upper()
        domains = [normalise_domain(d) for d in (row.get("domains") or "").split(";") if d.strip()]
        problems = []
        if any(FORBIDDEN_CHARACTERS.search(value or "") for value in row.values() if isinstance(value, str)):
            problems.append("holds a control character or an invalid one")
        if not name:
            problems.append("name is empty")
        if not is_country_code(country):
            problems.append(f"country '{country}' is not an ISO 3166-1 alpha-2 code")
        for domain in domains:
            if "." not in domain or " " in domain or "@" in domain:
                problems.append(f"'{domain}' is not a domain")
            elif domain_owner.get(domain, name) != name:
                problems.append(f"domain '{domain}' is also given to '{domain_owner[domain]}'")
            domain_owner.setdefault(domain, name)
        if problems:
            report.errors[number] = problems
        rows.append((name, country, domains))
    report.rows = rows
    if dry_run:
        report.known = set(db.session.scalars(sa.select(MemberOrganisation.name)))
        report.created = sum(1 for row in rows if row[0] not in report.known)
        report.updated = len(rows) - report.created
    if report.errors:
        return report
    existing = dict(db.session.execute(sa.select(MemberDomain.domain, MemberOrganisation.name).join(MemberDomain.organisation)).all())
    for number, (name, _, domains) in enumerate(rows, start=1):
        for domain in domains:
            owner = existing.get(domain)
            if owner is not None and owner != name and owner not in {r[0] for r in rows}:
                report.errors.setdefault(number, []).append(f"domain '{domain}' already belongs to '{owner}'")
    if report.errors or dry_run:
        return report
    # Release domains that move between organisations of this file before re-assigning them.
    moving = {d for _, _, domains in rows for d in domains if d in existing}
    if moving:
        db.session.execute(sa.delete(MemberDomain).where(MemberDomain.domain.in_(moving)))
        db.session.expire_all()
    for name, country, domains in rows:
        _, created = save_organisation(name, country, domains)
        report.created += created
        report.updated += not created
    return report
