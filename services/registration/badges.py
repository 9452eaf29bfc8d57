"""Name badges: A4 sheets of eight badges for everyone seated at an event in a room, each in
its holder's language (the event's title, the word "Participant"), with the ticket's QR code
so a badge checks its holder in at the door or at a session like the ticket does.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, render_template

from services.registration import operations, tickets
from services.registration.models import SEATED, Event, Registration
from shared.db import db
from shared.i18n import N_, language_or_default, pick, translate
from shared.pdf import render_pdf

PARTICIPANT = N_("Participant")


def badge_holders(event: Event) -> list[Registration]:
    """Everyone holding a seat (confirmed or checked in), by name."""
    return list(db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEATED), Registration.anonymised_at.is_(None))
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    ))


def badges_pdf(event: Event) -> bytes:
    badges = []
    for registration in badge_holders(event):
        language = language_or_default(registration.language)
        badges.append({
            "lang": language,
            "event": pick(event.title, language),
            "role": translate(language, PARTICIPANT),
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "organisation": registration.organisation,
            "qr": tickets.qr_svg(operations.ticket_code(registration)) if operations.has_ticket(event) else None,
        })
    return render_pdf(render_template("badges.html", badges=badges, title=pick(event.title, "en")))


def badges_response(event: Event) -> Response:
    return Response(badges_pdf(event), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="badges-{event.slug}.pdf"', "Cache-Control": "private, no-store",
    })
