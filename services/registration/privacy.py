"""Personal data: export and erasure on request, anonymisation after the retention period.

Anonymising keeps what statistics need (event, status, country, member organisation,
dates) and removes everything that names or reaches a person.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from services.registration import operations
from services.registration.models import ACTIVE, ATTENDED, Event, Registration, RegistrationGroup
from shared.db import db, utcnow
from shared.outbox import OutboxMessage, emit


def registrations_of(email: str) -> list[Registration]:
    return list(db.session.scalars(
        sa.select(Registration).where(Registration.email == email.strip().lower()).order_by(Registration.created_at)
    ))


def export_person(email: str) -> dict[str, Any]:
    """Everything stored about the person with `email` (the answer to an access request)."""
    return {
        "email": email.strip().lower(),
        "registrations": [
            {
                "event": registration.event.slug,
                "event_title": registration.event.title,
                "status": registration.status,
                **{name: getattr(registration, name) for name in (
                    "first_name", "last_name", "organisation", "position", "city", "country", "language", "answers", "consent_version",
                )},
                "consented_at": registration.consented_at.isoformat(),
                "created_at": registration.created_at.isoformat(),
                "checked_in_at": registration.checked_in_at.isoformat() if registration.checked_in_at else None,
            }
            for registration in registrations_of(email)
        ],
        "groups": [
            {"event": group.event.slug, "first_name": group.first_name, "last_name": group.last_name,
             "organisation": group.organisation, "language": group.language, "created_at": group.created_at.isoformat()}
            for group in groups_of(email)
        ],
    }


def groups_of(email: str) -> list[RegistrationGroup]:
    """The groups `email` registered as their contact."""
    return list(db.session.scalars(
        sa.select(RegistrationGroup).where(RegistrationGroup.email == email.strip().lower()).order_by(RegistrationGroup.created_at)
    ))


def anonymise_group(group: RegistrationGroup) -> None:
    """Remove the contact from `group` (its participants keep their own registrations)."""
    group.first_name = group.last_name = "-"
    group.email = f"anonymised-{group.public_id}@invalid"
    group.organisation = None
    group.anonymised_at = utcnow()


def anonymise(registration: Registration) -> None:
    """Remove the person from `registration`; an upcoming place is cancelled first (freeing the seat)."""
    if registration.status in ACTIVE and registration.status != ATTENDED and registration.event.ends_at > utcnow():
        operations.cancel(registration)
    registration.first_name = "-"
    registration.last_name = "-"
    registration.email = f"anonymised-{registration.public_id}@invalid"
    registration.organisation = registration.position = registration.city = None
    registration.answers = {}
    registration.anonymised_at = utcnow()


def _forget(registration: Registration) -> None:
    """Anonymise `registration` and drop the relayed messages that named its person."""
    anonymise(registration)
    db.session.execute(sa.delete(OutboxMessage).where(
        OutboxMessage.sent_at.is_not(None), OutboxMessage.idempotency_key.like(f"%:{registration.public_id}:%")
    ))


def erase_person(email: str) -> int:
    """Anonymise every registration of `email`, drop the sent messages that named them, and
    tell the notify service to erase its copies; returns how many registrations."""
    registrations = registrations_of(email)
    for registration in registrations:
        _forget(registration)
    for group in groups_of(email):
        anonymise_group(group)
    emit("person.erased", f"person.erased:{uuid.uuid4().hex}",
         {"email": email.strip().lower(), "registration_ids": [r.public_id for r in registrations]})
    return len(registrations)


def anonymise_expired(retention_days: int, now: dt.datetime | None = None) -> int:
    """Anonymise registrations of events that ended more than `retention_days` ago."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    expired = list(db.session.scalars(
        sa.select(Registration).join(Registration.event)
        .where(Event.ends_at < cutoff, Registration.anonymised_at.is_(None))
    ))
    for registration in expired:
        _forget(registration)
    for group in db.session.scalars(sa.select(RegistrationGroup).join(RegistrationGroup.event)
                                    .where(Event.ends_at < cutoff, RegistrationGroup.anonymised_at.is_(None))):
        anonymise_group(group)
    return len(expired)
