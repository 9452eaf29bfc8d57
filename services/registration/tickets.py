"""Tickets and check-in at the door.

Each registration for an event in a room has one ticket: a QR code holding the
registration's public id signed with the service's key (`operations.ticket_code`). The self-service
page shows it and the confirmation email carries it. At the door, staff scan it with the
back office's check-in page (`/staff/events/<slug>/check-in`) or any scanner that calls
`POST /api/v1/events/<slug>/check-ins`.

Checking in is one conditional UPDATE (`operations.admit`), so two phones scanning
the same ticket at once, or a phone sending its offline queue late, check the person in
once: the second answer says "already checked in", with the time of the first. A ticket
of a cancelled, waitlisted or unconfirmed registration is refused with its reason, and so
is every ticket before the event's day unless staff override it (`override`, audited).

The check-in page keeps working offline: it caches `check_in_list` when it opens and
queues check-ins until the network is back. A ticket's public id is random (128 bits), so a
phone offline can tell a real ticket from a made-up one by the list alone; the server checks
the signature when the queue is sent.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import jsonify
from flask.typing import ResponseReturnValue

from services.registration import operations
from services.registration.models import ATTENDED, CONFIRMED, Event, Registration
from shared.db import db
from shared.errors import Conflict, NotFound, Problem, error_body, problem
from shared.i18n import N_

#: why a ticket does not let its holder in, by registration status
REFUSALS = {
    "cancelled": ("ticket_cancelled", N_("This registration was cancelled.")),
    "waitlisted": ("ticket_waitlisted", N_("This person is on the waiting list, not confirmed.")),
    "pending": ("ticket_pending", N_("This registration was never confirmed (email address not verified).")),
    "pending_approval": ("ticket_pending_approval", N_("This registration is still awaiting approval by the organisers.")),
    "rejected": ("ticket_rejected", N_("This registration was not accepted by the organisers.")),
}


class TicketRefused(Conflict):
    """A real ticket of this event that does not let its holder in (409); `registration` says whose."""

    def __init__(self, message: str, registration: Registration):
        super().__init__(message, {"ticket": [message]})
        self.registration = registration


def qr_svg(code: str) -> str:
    """The QR code of `code` as an inline SVG element (no size: the page's CSS sets it)."""
    import segno  # loaded by the first ticket shown, not by every web worker

    return segno.make(code, error="m").svg_inline(scale=1, omitsize=True, svgclass="ticket-qr")


def _unknown_ticket() -> Problem:
    return problem("unknown_ticket", "Unknown or altered ticket.")


def _already_checked_in(time: str) -> Problem:
    return problem("already_checked_in", "Already checked in at %(time)s.", time=time)


def door_refusals() -> dict[str, Problem]:
    """What the check-in page says when it refuses a ticket on its own (offline), by case:
    `unknown`, `already` (with `{time}` to fill in), and each status of REFUSALS."""
    return {"unknown": _unknown_ticket(), "already": _already_checked_in("{time}"),
            **{status: problem(code, text) for status, (code, text) in REFUSALS.items()}}


def _registration_of_ticket(event: Event, code: str) -> Registration:
    unknown = NotFound(problem("unknown_ticket", "This ticket is not one of this event's."), {"ticket": [_unknown_ticket()]})
    public_id = operations.ticket_public_id(code)
    registration = public_id and db.session.scalar(sa.select(Registration).where(Registration.public_id == public_id))
    if registration is None or registration.event_id != event.id or registration.anonymised_at is not None:
        raise unknown
    return registration


def check_in_ticket(event: Event, code: str, override: bool = False) -> Registration:
    """Check in the holder of ticket `code` at `event` (operations.admit: once, whoever scans it).

    404 for a ticket that is not this event's; TicketRefused (409) with the reason for one that
    does not let its holder in, including one already used (`already_checked_in`, with its time).
    """
    return admit_at_door(event, _registration_of_ticket(event, code), override)


def admit_at_door(event: Event, registration: Registration, override: bool = False) -> Registration:
    """Check `registration` in, or say why not (TicketRefused) with whose it is; before the
    event's day only with `override` (operations.check_in_not_open_reason)."""
    try:
        found = operations.admit(registration, override)
    except Conflict as not_open:
        raise TicketRefused(not_open.message, registration) from not_open
    if found == CONFIRMED:
        return registration
    if found == ATTENDED:
        when = registration.checked_in_at.astimezone(ZoneInfo(event.timezone)) if registration.checked_in_at else None
        raise TicketRefused(_already_checked_in(f"{when:%H:%M}" if when else "?"), registration)
    code, text = REFUSALS[found]
    raise TicketRefused(problem(code, text), registration)


def attendee(registration: Registration) -> dict[str, Any]:
    """What the door sees of a person: name, organisation, status, when they came in."""
    return {
        "number": registration.id,
        "ticket_id": registration.public_id,
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "organisation": registration.organisation,
        "status": registration.status,
        "checked_in_at": registration.checked_in_at.isoformat() if registration.checked_in_at else None,
    }


def check_in_list(event: Event) -> list[dict[str, Any]]:
    """Everyone the door may meet (seated, waitlisted, pending and cancelled), by name."""
    rows = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.anonymised_at.is_(None))
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )
    return [attendee(registration) for registration in rows]


def refusal_response(refusal: TicketRefused, language: str | None = None) -> ResponseReturnValue:
    """The 409 of a refused ticket: the usual refusal (in `language`, default the request's),
    and whose ticket it is (`attendee`)."""
    body = error_body(refusal.message, refusal.errors, refusal.code, language=language)
    return jsonify({**body, "attendee": attendee(refusal.registration)}), 409
