"""Staff actions of the registration service, each with its audit entry.

The API views and the back office both call these, so an action is checked and recorded
the same way whichever door staff came through. The caller commits: the change and its
audit entry are written together or not at all.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import sqlalchemy as sa

from services.registration import certificates, operations, privacy, tickets
from services.registration.members import ImportReport, import_csv, save_organisation
from services.registration.models import Event, MemberOrganisation, Registration
from shared import audit
from shared.auth import StaffAccount, StaffSession
from shared.db import db
from shared.errors import Conflict, NotFound, plural_problem, problem

#: what staff may do to one registration
REGISTRATION_ACTIONS: dict[str, Callable[[Registration], Registration]] = {
    "check-in": operations.check_in,
    "promote": operations.promote,
    "promote-over-capacity": operations.promote_over_capacity,
    "demote": operations.demote,
    "cancel": operations.cancel,
}
#: staff decisions on a registration for a moderated event, with an optional reason for the email
DECISIONS: dict[str, Callable[[Registration, str | None], Registration]] = {
    "approve": operations.approve,
    "reject": operations.reject,
}


def create_event(data: dict[str, Any]) -> Event:
    event = operations.create_event(data)
    audit.record("event.create", event.slug, None, data)
    return event


def update_event(event: Event, changes: dict[str, Any]) -> Event:
    before = audit.snapshot(event, changes)
    event = operations.update_event(event, changes)
    after = audit.snapshot(event, changes)
    changed = [name for name in changes if audit.jsonable(before[name]) != audit.jsonable(after[name])]
    if changed:
        audit.record("event.update", event.slug, {n: before[n] for n in changed}, {n: after[n] for n in changed})
    return event


def registration_of(slug: str, number: int) -> Registration:
    """Registration `number` of event `slug` (404 when it is another event's)."""
    event = operations.get_event(slug, published_only=False)
    registration = db.session.get(Registration, number)
    if registration is None or registration.event_id != event.id:
        raise NotFound(problem("unknown_registration", "No registration %(number)s for '%(slug)s'.", number=number, slug=slug),
                       {"id": [problem("unknown_registration", "Unknown registration.")]})
    return registration


def act_on_registration(registration: Registration, action: str) -> Registration:
    """Apply one of REGISTRATION_ACTIONS (a KeyError for any other name)."""
    before = {"status": registration.status, "capacity": registration.event.capacity}
    registration = REGISTRATION_ACTIONS[action](registration)
    after = {"status": registration.status, "capacity": registration.event.capacity}
    if after != before:
        if after["capacity"] == before["capacity"]:
            del before["capacity"], after["capacity"]
        audit.record(f"registration.{action}", f"{registration.event.slug}/{registration.id}", before, after)
    return registration


def registrations_of(slug: str, numbers: list[int]) -> list[Registration]:
    """Registrations `numbers` of event `slug`, in that order (404 naming each unknown one)."""
    event = operations.get_event(slug, published_only=False)
    found = {registration.id: registration for registration in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.id.in_(numbers)))}
    unknown = {f"numbers.{index}": [problem("unknown_registration", "Unknown registration.")]
               for index, number in enumerate(numbers) if number not in found}
    if unknown:
        raise NotFound(problem("unknown_registrations", "Some of these registrations are not registrations of '%(slug)s'.", slug=slug),
                       unknown)
    return [found[number] for number in numbers]


def decide_one(registration: Registration, decision: str, reason: str | None = None) -> Registration:
    """Approve or reject (DECISIONS) one registration, with its audit entry; Conflict says
    why it cannot be decided. The audit entry says whether a reason was given, not the
    reason, which is about the person (it is in their email)."""
    before = registration.status
    DECISIONS[decision](registration, reason)
    audit.record(f"registration.{decision}", f"{registration.event.slug}/{registration.id}",
                 {"status": before}, {"status": registration.status, "reason_given": bool(reason)})
    return registration


def decide(registrations: list[Registration], decision: str, reason: str | None = None) -> list[Registration]:
    """decide_one for every registration, all or none: when one cannot be decided, Conflict
    names each such one (`numbers.INDEX`) and the caller's rollback leaves every registration
    as it was."""
    refused: dict[str, list] = {}
    for index, registration in enumerate(registrations):
        try:
            decide_one(registration, decision, reason)
        except Conflict as error:
            refused[f"numbers.{index}"] = [error.message]
    if refused:
        raise Conflict(plural_problem("decision_refused", "%(num)d registration cannot be decided: nothing was changed.",
                                      "%(num)d registrations cannot be decided: nothing was changed.", len(refused)), refused)
    return registrations


def check_in_at_door(event: Event, ticket: str | None = None, number: int | None = None,
                     override: bool = False) -> Registration:
    """Check in at the door by the ticket scanned, or by the registration's number (a search
    by name); before the event's day only with `override`, which the audit entry records.
    tickets.TicketRefused (409) says why not, and whose ticket it is."""
    if ticket is not None:
        registration = tickets.check_in_ticket(event, ticket, override)
    else:
        registration = tickets.admit_at_door(event, registration_of(event.slug, number), override)
    after: dict[str, object] = {"status": registration.status}
    if override:
        after["override"] = True
    audit.record("registration.check-in", f"{event.slug}/{registration.id}", {"status": "confirmed"}, after)
    return registration


def message_registrants(event: Event, subject: str, body: str, statuses: tuple[str, ...]) -> int:
    count = operations.message_registrants(event, subject, body, statuses)
    audit.record("event.message", event.slug, None, {"subject": subject, "statuses": list(statuses), "recipients": count})
    return count


def issue_certificates(event: Event) -> int:
    count = certificates.issue_certificates(event)
    audit.record("event.certificates", event.slug, None, {"sent": count})
    return count


def save_member(name: str, country: str, domains: list[str], addresses: list[str] | None) -> MemberOrganisation:
    organisation, created = save_organisation(name, country, domains, addresses)
    audit.record("member.create" if created else "member.update", name, None,
                 {"country": organisation.country, "domains": [d.domain for d in organisation.domains],
                  "addresses": len(organisation.addresses)})
    return organisation


def deactivate_member(organisation: MemberOrganisation) -> None:
    audit.record("member.deactivate", organisation.name, {"active": organisation.active}, {"active": False})
    organisation.active = False


def import_members(text: str, dry_run: bool) -> ImportReport:
    report = import_csv(text, dry_run=dry_run)
    if not dry_run and not report.errors:
        audit.record("member.import", "directory", None, {"created": report.created, "updated": report.updated})
    return report


def erase_person(email: str) -> int:
    """The audit entry names no one: it would otherwise keep what the erasure removed."""
    count = privacy.erase_person(email)
    audit.record("person.erase", "personal data", None, {"registrations_anonymised": count})
    return count


def open_session(account: StaffAccount, session_id: str, expired_before: dt.datetime) -> None:
    """A back-office login: its server-side session (the account's expired ones go)."""
    db.session.execute(sa.delete(StaffSession).where(StaffSession.account_id == account.id,
                                                     StaffSession.created_at < expired_before))
    db.session.add(StaffSession(id=session_id, account_id=account.id))
    audit.record("staff.login", account.email)


def close_session(session_id: str, email: str) -> None:
    """A back-office logout: the session ends on the server, so a copied cookie stops working."""
    db.session.execute(sa.delete(StaffSession).where(StaffSession.id == session_id))
    audit.record("staff.logout", email)
